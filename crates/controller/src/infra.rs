//! What the controller needs from the AWS layer, as a narrow seam: ensure a region, tear a region down.
//!
//! The production implementation sits on the `eks-aws` engine; tests and benchmarks use its in-memory fake.
//! Both return what they observed and did, never block on AWS waiters, and leave requeueing to the controller.

use std::time::Duration;

use eks_api::{CredentialsSpec, DeletionPolicy, RegionName, RegionStatus, ValidatedCluster};
use eks_aws::engine::Progress;
use futures::future::BoxFuture;

/// Severity of an event the AWS layer reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSeverity {
    /// Something was created, changed, repaired or deleted as planned.
    Normal,
    /// Something failed or blocks progress.
    Warning,
}

/// Something the AWS layer did or met, published as a Kubernetes event on the EksCluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfraEvent {
    /// Normal or Warning.
    pub severity: EventSeverity,
    /// Short PascalCase reason (`Created`, `Repaired`, `Deleted`, `Throttled`, ...).
    pub reason: String,
    /// What happened, naming the resource.
    pub message: String,
}

/// A failure in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionError {
    /// Stable short name, used as event reason and metric label.
    pub reason: String,
    /// Human-readable message with the AWS error code where there is one; never credentials.
    pub message: String,
    /// Whether retrying may help (throttling, 5xx, eventual consistency) or the user must act.
    pub retryable: bool,
    /// AWS throttled the call: it was refused before it ran, and is retried after a short, jittered delay
    /// rather than on the failure ladder.
    pub throttled: bool,
}

/// The result of one pass over one region.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionOutcome {
    /// The region's status as observed after the pass (phase, ids, in-progress work, blockers).
    pub status: RegionStatus,
    /// What was done, for events.
    pub events: Vec<InfraEvent>,
    /// Whether the pass moved the region forward (also when it then failed): progress resets the backoff.
    pub progress: Progress,
    /// The failure of this pass, if any.
    pub error: Option<RegionError>,
    /// When to look again at the latest, while work is in progress.
    pub requeue_after: Option<Duration>,
    /// Teardown only: nothing owned by the object is left in the region.
    pub gone: bool,
}

/// What a teardown needs: ownership and the ids recorded in status, not the spec (which may be invalid now).
#[derive(Clone, Debug, PartialEq)]
pub struct TeardownRequest {
    /// The owning object's uid (the ownership tag value).
    pub owner_uid: String,
    /// `<namespace>/<name>`.
    pub owner: String,
    /// The region.
    pub region: RegionName,
    /// The region's last recorded status (cluster id, ids), when there is one.
    pub recorded: Option<RegionStatus>,
    /// The region's cluster id as the spec names it (`<region>[-<stage>]-<name>`), when the object's name and
    /// stage still make one; used when status recorded none, so that a lost status does not leave anything
    /// the VPC's tags no longer lead to.
    pub spec_cluster_id: Option<String>,
    /// Delete or Retain.
    pub deletion_policy: DeletionPolicy,
    /// The role to assume, when the object names one.
    pub credentials: Option<CredentialsSpec>,
}

/// The AWS side of the reconcile.
pub trait Infrastructure: Send + Sync + 'static {
    /// Observes the region, creates or repairs what differs from the plan, and reports. `spec_changed` says
    /// the spec changed since the recorded status was written (so a full check is due).
    fn ensure_region<'a>(
        &'a self,
        cluster: &'a ValidatedCluster,
        region: &'a RegionName,
        recorded: Option<&'a RegionStatus>,
        spec_changed: bool,
    ) -> BoxFuture<'a, RegionOutcome>;

    /// Deletes what the object owns in the region, in dependency order, as far as it can in one pass.
    fn teardown_region<'a>(&'a self, request: &'a TeardownRequest) -> BoxFuture<'a, RegionOutcome>;
}
