//! The `EksCluster` status, written by the operator through server-side apply.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the operator observed and did, overall and per region.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EksClusterStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Overall phase: the least advanced phase of the regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<Phase>")]
    pub phase: Option<Phase>,

    /// Standard conditions: `Ready` (every region is ready), `Progressing` (something is being created,
    /// changed or deleted) and `Degraded` (a region failed or drifted and could not be repaired).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// One entry per region of `spec.regions`, plus regions still being torn down.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["region"]))]
    pub regions: Vec<RegionStatus>,

    /// When the operator tries again after a failed pass (absent while all is well). A pass that moved
    /// something forward retries soon even when it failed, a throttled one after a few seconds; only passes
    /// that make no progress wait longer and longer, up to the operator's backoff cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Time>,
}

/// The phase of a region or of the whole object.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum Phase {
    /// Accepted, nothing done yet.
    Pending,
    /// AWS resources are being created or changed.
    Provisioning,
    /// Everything exists and matches the spec.
    Ready,
    /// The spec is invalid; nothing is created until it changes.
    Invalid,
    /// A region failed with an error that needs attention (see its `lastError`).
    Failed,
    /// AWS resources are being torn down.
    Deleting,
}

impl Phase {
    /// The phase's name as it appears in status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Provisioning => "Provisioning",
            Self::Ready => "Ready",
            Self::Invalid => "Invalid",
            Self::Failed => "Failed",
            Self::Deleting => "Deleting",
        }
    }
}

/// The state of one regional cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionStatus {
    /// The AWS region.
    pub region: String,
    /// The region's phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<Phase>")]
    pub phase: Option<Phase>,
    /// The regional cluster id `<region>-<stage>-<name>`: the EKS cluster's name and every resource's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The AWS account the region's resources live in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The availability zones in use, fixed once chosen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    /// The VPC id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Public subnet ids, in zone order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_subnet_ids: Vec<String>,
    /// Private subnet ids, in zone order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_subnet_ids: Vec<String>,
    /// Internet gateway id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_gateway_id: Option<String>,
    /// NAT gateway ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nat_gateway_ids: Vec<String>,
    /// VPN gateway id, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_gateway_id: Option<String>,
    /// Security group ids created by the operator.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<String>,
    /// ARN of the EKS cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// Kubernetes version the control plane runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// URL of the cluster's API endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Base64 certificate authority data of the cluster's API endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    /// The cluster's OIDC issuer URL (for IAM roles for service accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// ARN of the IAM OIDC provider for the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider_arn: Option<String>,
    /// ARN of the control plane's IAM role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_role_arn: Option<String>,
    /// ARN of the workers' IAM role (the role mapped in aws-auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_role_arn: Option<String>,
    /// State of each node group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<NodeGroupStatus>,
    /// Name of the generated aws-auth ConfigMap in this object's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_auth_config_map: Option<String>,
    /// The authentication mode in force in the cluster, as EKS reports it (`ConfigMap`, `ApiAndConfigMap`, `Api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<crate::access::AuthenticationMode>")]
    pub authentication_mode: Option<crate::access::AuthenticationMode>,
    /// The access entries the operator manages in the cluster, as EKS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_entries: Vec<AccessEntryStatus>,
    /// Name of the generated kubeconfig Secret in this object's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_secret: Option<String>,
    /// What is still being created, changed or deleted in this region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_progress: Vec<String>,
    /// What keeps the region from progressing (for example a network interface left in the VPC by a load
    /// balancer that blocks the VPC's deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// The region's own conditions (`Ready`, `Degraded`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// The last error met in this region, with its AWS error code when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The state of one node group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupStatus {
    /// The node group's name.
    pub name: String,
    /// EKS's status of the node group (`CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `DEGRADED`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Current desired size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_size: Option<i32>,
    /// Current minimum size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<i32>,
    /// Current maximum size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i32>,
    /// ARN of the node group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// An access entry the operator manages, as EKS reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntryStatus {
    /// ARN of the IAM principal.
    pub principal_arn: String,
    /// The entry's type (`STANDARD`, `EC2_LINUX`, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    /// The Kubernetes user name EKS maps the principal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The Kubernetes groups of the principal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_groups: Vec<String>,
    /// The access policies associated with the entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<AssociatedPolicyStatus>,
}

/// An access policy associated with an entry, as EKS reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedPolicyStatus {
    /// ARN of the access policy.
    pub policy_arn: String,
    /// `cluster` or `namespace`.
    pub scope: String,
    /// The namespaces of a `namespace` scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}
