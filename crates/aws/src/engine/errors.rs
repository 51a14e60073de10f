//! Why a pass over a region stopped.

use crate::error::AwsError;

/// A failure of one pass over one region.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The region cannot be planned.
    #[error("cannot plan the region: {0}")]
    Plan(String),
    /// The region has fewer usable availability zones than the spec asks for.
    #[error(
        "region {region} has {available} available zones of type availability-zone, the spec asks for {wanted}"
    )]
    NotEnoughZones {
        /// The region.
        region: String,
        /// How many the spec asks for.
        wanted: usize,
        /// How many there are.
        available: usize,
    },
    /// The VPC exists with another CIDR: AWS cannot change a VPC's primary CIDR in place.
    #[error(
        "the VPC {vpc_id} has CIDR {actual}; the spec asks for {wanted}, which AWS cannot change in place. \
         Put the CIDR back, or delete the EksCluster and create it again with the new CIDR"
    )]
    VpcCidrImmutable {
        /// The VPC.
        vpc_id: String,
        /// Its CIDR.
        actual: String,
        /// The spec's CIDR.
        wanted: String,
    },
    /// A subnet exists with another CIDR or zone than the spec asks for, or the spec no longer has it: EKS
    /// cannot move a cluster's or a node group's subnets in place.
    #[error(
        "subnet {subnet_id} ({key}) is {actual}; the spec asks for {wanted}. EKS cannot move a cluster's or a \
         node group's subnets in place: put the network settings back, or create a new EksCluster"
    )]
    SubnetLayoutImmutable {
        /// The subnet.
        subnet_id: String,
        /// Its key (`private-0`, `public-2`).
        key: String,
        /// Its CIDR and zone.
        actual: String,
        /// What the spec asks for instead.
        wanted: String,
    },
    /// A resource with the planned name exists and belongs to someone else.
    #[error("{what} exists and is not owned by this object; rename the cluster or remove the other resource")]
    NameTaken {
        /// The resource.
        what: String,
    },
    /// The spec asks for an older Kubernetes version than the cluster runs.
    #[error("the cluster runs Kubernetes {running}; EKS cannot downgrade to {wanted}")]
    VersionDowngrade {
        /// The running version.
        running: String,
        /// The spec's version.
        wanted: String,
    },
    /// EKS reports the cluster or a node group as failed.
    #[error("{what} is {status}: {detail}")]
    ResourceFailed {
        /// The resource.
        what: String,
        /// EKS's status.
        status: String,
        /// EKS's health issues.
        detail: String,
    },
    /// EKS refused an access entry or one of its policies (for example a principal that does not exist in
    /// IAM); the other entries went on.
    #[error("access entry of {principal} could not be applied: {detail}")]
    AccessEntryFailed {
        /// The IAM principal.
        principal: String,
        /// EKS's answer.
        detail: String,
    },
    /// The cluster runs a later authentication mode than the spec asks for; EKS cannot go back.
    #[error("the cluster's authentication mode is {current}; EKS cannot move it back to {wanted}")]
    AuthenticationModeBackwards {
        /// The mode in force.
        current: String,
        /// The spec's mode.
        wanted: String,
    },
}

impl EngineError {
    /// Stable short name, used as event reason and metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Aws(e) => e.reason(),
            Self::Plan(_) => "PlanFailed",
            Self::NotEnoughZones { .. } => "NotEnoughZones",
            Self::VpcCidrImmutable { .. } => "VpcCidrImmutable",
            Self::SubnetLayoutImmutable { .. } => "SubnetLayoutImmutable",
            Self::NameTaken { .. } => "NameTaken",
            Self::VersionDowngrade { .. } => "VersionDowngrade",
            Self::ResourceFailed { .. } => "ResourceFailed",
            Self::AccessEntryFailed { .. } => "AccessEntryFailed",
            Self::AuthenticationModeBackwards { .. } => "InvalidSpec",
        }
    }

    /// True when trying again later may succeed without a change by a person.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Aws(e) => e.is_retryable(),
            _ => false,
        }
    }
}
