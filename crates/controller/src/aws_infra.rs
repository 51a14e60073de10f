//! The controller's [`Infrastructure`] on the `eks-aws` engine: a thin translation of its reports into
//! region status, events and errors. Each region's pass runs in a `region` span carrying the region and the
//! object, so that every log line of the work on a region names both.

use std::sync::Arc;

use eks_api::{Phase, RegionName, RegionStatus, ValidatedCluster};
use eks_aws::engine::{Action, EngineError};
use eks_aws::{AwsContext, AwsError, RecordedRegion, RegionPhase};
use futures::future::BoxFuture;
use tracing::Instrument;

use crate::infra::{EventSeverity, InfraEvent, Infrastructure, RegionError, RegionOutcome, TeardownRequest};

/// The engine of the AWS layer as the controller's infrastructure.
pub struct AwsInfrastructure {
    context: Arc<AwsContext>,
}

impl AwsInfrastructure {
    /// Wraps an AWS context (SDK, fake or instrumented).
    pub fn new(context: Arc<AwsContext>) -> Self {
        Self { context }
    }
}

fn events(actions: &[Action]) -> Vec<InfraEvent> {
    actions
        .iter()
        .map(|a| InfraEvent {
            severity: EventSeverity::Normal,
            reason: a.verb.as_str().to_owned(),
            message: a.resource.clone(),
        })
        .collect()
}

fn region_error(error: &EngineError) -> RegionError {
    RegionError {
        reason: error.reason().to_owned(),
        message: error.to_string(),
        retryable: error.is_retryable(),
        throttled: matches!(error, EngineError::Aws(AwsError::Throttled(_))),
    }
}

impl Infrastructure for AwsInfrastructure {
    fn ensure_region<'a>(
        &'a self,
        cluster: &'a ValidatedCluster,
        region: &'a RegionName,
        recorded: Option<&'a RegionStatus>,
        spec_changed: bool,
    ) -> BoxFuture<'a, RegionOutcome> {
        let object = format!("{}/{}", cluster.namespace(), cluster.name());
        let span = tracing::info_span!("region", region = %region, object = %object);
        Box::pin(
            async move {
                let recorded = recorded
                    .map(|s| RecordedRegion::from_status(s, spec_changed))
                    .unwrap_or_default();
                let report = eks_aws::ensure_region(&self.context, cluster, region, &recorded).await;
                let mut events = events(&report.actions);
                if report.phase == RegionPhase::Ready && !report.blocking.is_empty() {
                    events.push(InfraEvent {
                        severity: EventSeverity::Warning,
                        reason: "Blocked".into(),
                        message: report.blocking.join("; "),
                    });
                }
                RegionOutcome {
                    status: report.to_status(),
                    events,
                    progress: report.progress,
                    error: report.error.as_ref().map(region_error),
                    requeue_after: report.requeue_after,
                    gone: false,
                }
            }
            .instrument(span),
        )
    }

    fn teardown_region<'a>(&'a self, request: &'a TeardownRequest) -> BoxFuture<'a, RegionOutcome> {
        let span = tracing::info_span!("region", region = %request.region, object = %request.owner);
        Box::pin(
            async move {
                let engine_request = eks_aws::TeardownRequest {
                    owner_uid: request.owner_uid.clone(),
                    region: request.region.clone(),
                    cluster_id: request
                        .recorded
                        .as_ref()
                        .and_then(|r| r.cluster_id.clone())
                        .or_else(|| request.spec_cluster_id.clone()),
                    oidc_provider_arn: request
                        .recorded
                        .as_ref()
                        .and_then(|r| r.oidc_provider_arn.clone()),
                    credentials: request.credentials.clone(),
                    deletion_policy: request.deletion_policy,
                };
                let report = eks_aws::teardown_region(&self.context, &engine_request).await;
                let mut status = request.recorded.clone().unwrap_or_else(|| RegionStatus {
                    region: request.region.to_string(),
                    ..RegionStatus::default()
                });
                status.phase = Some(Phase::Deleting);
                status.in_progress = report.in_progress.clone();
                status.blocked_by = report.blocking.clone();
                status.last_error = report.error.as_ref().map(|e| format!("{}: {e}", e.reason()));
                RegionOutcome {
                    status,
                    events: events(&report.actions),
                    progress: report.progress,
                    error: report.error.as_ref().map(region_error),
                    requeue_after: report.requeue_after,
                    gone: report.gone,
                }
            }
            .instrument(span),
        )
    }
}
