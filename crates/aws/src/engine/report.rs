//! What a pass reports, and what the caller records between passes.

use std::collections::BTreeMap;
use std::time::Duration;

use eks_api::{NodeGroupStatus, Phase, RegionStatus};
use eks_plan::RoleKind;

use super::errors::EngineError;
use super::pass::Action;
use crate::types::Scaling;

/// What the caller keeps in status between passes and hands back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedRegion {
    /// The availability zones chosen at the first pass; they never move once recorded.
    pub zones: Vec<String>,
    /// True when the region was Ready at the last pass and the spec has not changed since: node groups are
    /// then looked at one per pass in rotation, which keeps a no-change reconcile at a constant number of
    /// calls. False makes the pass look at every node group.
    pub steady: bool,
    /// The node groups as last recorded; those not looked at in a steady pass are reported as recorded.
    pub node_groups: Vec<NodegroupState>,
    /// What the last pass reported as still in progress: a complete pass that reports another list has
    /// moved a resource forward (a NAT gateway became available, a cluster ACTIVE).
    pub in_progress: Vec<String>,
}

impl RecordedRegion {
    /// From the status the controller recorded; `spec_changed` is `generation != observedGeneration`.
    pub fn from_status(status: &RegionStatus, spec_changed: bool) -> Self {
        Self {
            zones: status.availability_zones.clone(),
            steady: !spec_changed && status.phase == Some(Phase::Ready),
            node_groups: status
                .node_groups
                .iter()
                .map(|n| NodegroupState {
                    name: n.name.clone(),
                    status: n.status.clone().unwrap_or_default(),
                    scaling: Scaling {
                        min: n.min_size.unwrap_or_default(),
                        max: n.max_size.unwrap_or_default(),
                        desired: n.desired_size.unwrap_or_default(),
                    },
                    arn: n.arn.clone().unwrap_or_default(),
                })
                .collect(),
            in_progress: status.in_progress.clone(),
        }
    }
}

/// Whether a pass moved the region forward, whatever its outcome: the controller resets an object's backoff
/// after a pass that made progress, even one that then failed, and grows it only while passes make none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Nothing changed in AWS and nothing moved forward (a stuck or a no-change pass).
    #[default]
    None,
    /// A create, update or delete took effect (including one whose answer was lost and that this pass found
    /// done), or a resource moved forward on its own since the last pass (the in-progress list changed).
    Made,
}

impl Progress {
    /// True for [`Progress::Made`].
    pub fn is_made(self) -> bool {
        self == Self::Made
    }

    /// The progress of a pass: made when it acted, or when it ran to the end and its in-progress list
    /// differs from the one recorded after the previous pass (a failed pass stops half-way, so its shorter
    /// list says nothing).
    pub fn of_pass(actions: &[Action], completed: bool, in_progress: &[String], recorded: &[String]) -> Self {
        if !actions.is_empty() || (completed && in_progress != recorded) {
            Self::Made
        } else {
            Self::None
        }
    }
}

/// The phase of a region after a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionPhase {
    /// Something is being created or changed (see `in_progress`), or a retryable error stopped the pass.
    Provisioning,
    /// Everything exists and matches the plan.
    Ready,
    /// A terminal error needs a person (see `error`).
    Failed,
    /// Resources are being deleted.
    Deleting,
}

impl RegionPhase {
    /// The status phase.
    pub fn to_phase(self) -> Phase {
        match self {
            Self::Provisioning => Phase::Provisioning,
            Self::Ready => Phase::Ready,
            Self::Failed => Phase::Failed,
            Self::Deleting => Phase::Deleting,
        }
    }
}

/// The observed state of a node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodegroupState {
    /// Name.
    pub name: String,
    /// EKS status.
    pub status: String,
    /// Sizes.
    pub scaling: Scaling,
    /// ARN.
    pub arn: String,
}

/// Ids and attributes of what exists, as observed in the pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionIds {
    /// The VPC.
    pub vpc_id: Option<String>,
    /// Subnet ids by plan key.
    pub subnets: BTreeMap<String, String>,
    /// Internet gateway.
    pub internet_gateway_id: Option<String>,
    /// VPN gateway.
    pub vpn_gateway_id: Option<String>,
    /// NAT gateway ids by plan key.
    pub nat_gateways: BTreeMap<String, String>,
    /// Elastic IP allocation ids by NAT key.
    pub eips: BTreeMap<String, String>,
    /// Route table ids by plan key.
    pub route_tables: BTreeMap<String, String>,
    /// Security group ids by plan key.
    pub security_groups: BTreeMap<String, String>,
    /// Role ARNs.
    pub roles: BTreeMap<RoleKind, String>,
    /// EKS cluster ARN.
    pub cluster_arn: Option<String>,
    /// EKS cluster status.
    pub cluster_status: Option<String>,
    /// Kubernetes version of the control plane.
    pub kubernetes_version: Option<String>,
    /// API endpoint.
    pub endpoint: Option<String>,
    /// Base64 CA data.
    pub certificate_authority: Option<String>,
    /// OIDC issuer URL.
    pub oidc_issuer: Option<String>,
    /// IAM OIDC provider ARN.
    pub oidc_provider_arn: Option<String>,
    /// Node groups observed in this pass.
    pub node_groups: Vec<NodegroupState>,
    /// The authentication mode in force, as EKS reports it.
    pub authentication_mode: Option<eks_api::AuthenticationMode>,
    /// The access entries the operator manages, as EKS reports them.
    pub access_entries: Vec<eks_api::AccessEntryStatus>,
}

/// The result of one `ensure` pass over one region.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionReport {
    /// The region.
    pub region: String,
    /// The regional cluster id.
    pub cluster_id: Option<String>,
    /// The AWS account.
    pub account_id: Option<String>,
    /// The phase after the pass.
    pub phase: RegionPhase,
    /// The zones in use (record them).
    pub zones: Vec<String>,
    /// What exists.
    pub ids: RegionIds,
    /// What is still being created, changed or deleted.
    pub in_progress: Vec<String>,
    /// What keeps the region from progressing and needs attention.
    pub blocking: Vec<String>,
    /// What the pass did (for events), also when it then failed.
    pub actions: Vec<Action>,
    /// Whether the pass moved the region forward, also when it then failed.
    pub progress: Progress,
    /// Why the pass stopped, if it did.
    pub error: Option<EngineError>,
    /// When to look again while work is in progress or after a retryable error.
    pub requeue_after: Option<Duration>,
}

impl RegionReport {
    /// The region's status as the CRD records it (the controller adds generated object names and
    /// conditions).
    pub fn to_status(&self) -> RegionStatus {
        let subnets = |prefix: &str| -> Vec<String> {
            let mut keyed: Vec<(usize, &String)> = self
                .ids
                .subnets
                .iter()
                .filter_map(|(k, id)| {
                    let index = k.strip_prefix(prefix)?.parse().ok()?;
                    Some((index, id))
                })
                .collect();
            keyed.sort();
            keyed.into_iter().map(|(_, id)| id.clone()).collect()
        };
        RegionStatus {
            region: self.region.clone(),
            phase: Some(self.phase.to_phase()),
            cluster_id: self.cluster_id.clone(),
            account_id: self.account_id.clone(),
            availability_zones: self.zones.clone(),
            vpc_id: self.ids.vpc_id.clone(),
            public_subnet_ids: subnets("public-"),
            private_subnet_ids: subnets("private-"),
            internet_gateway_id: self.ids.internet_gateway_id.clone(),
            nat_gateway_ids: self.ids.nat_gateways.values().cloned().collect(),
            vpn_gateway_id: self.ids.vpn_gateway_id.clone(),
            security_group_ids: self.ids.security_groups.values().cloned().collect(),
            cluster_arn: self.ids.cluster_arn.clone(),
            kubernetes_version: self.ids.kubernetes_version.clone(),
            endpoint: self.ids.endpoint.clone(),
            certificate_authority_data: self.ids.certificate_authority.clone(),
            oidc_issuer: self.ids.oidc_issuer.clone(),
            oidc_provider_arn: self.ids.oidc_provider_arn.clone(),
            control_plane_role_arn: self.ids.roles.get(&RoleKind::ControlPlane).cloned(),
            worker_role_arn: self.ids.roles.get(&RoleKind::Worker).cloned(),
            node_groups: self
                .ids
                .node_groups
                .iter()
                .map(|n| NodeGroupStatus {
                    name: n.name.clone(),
                    status: Some(n.status.clone()),
                    desired_size: Some(n.scaling.desired),
                    min_size: Some(n.scaling.min),
                    max_size: Some(n.scaling.max),
                    arn: Some(n.arn.clone()),
                })
                .collect(),
            authentication_mode: self.ids.authentication_mode,
            access_entries: self.ids.access_entries.clone(),
            in_progress: self.in_progress.clone(),
            blocked_by: self.blocking.clone(),
            last_error: self.error.as_ref().map(|e| format!("{}: {e}", e.reason())),
            ..RegionStatus::default()
        }
    }
}
