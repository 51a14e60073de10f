//! The `spec.access` part: how each regional cluster authenticates IAM principals, and its EKS access entries.
//!
//! See <https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html> and
//! <https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html#set-cam>.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The access policies EKS offers, by short name
/// (<https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html>).
pub const ACCESS_POLICIES: [&str; 5] = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
];

/// The access policy `system:masters` maps to when aws-auth is migrated to access entries.
pub const CLUSTER_ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

/// The prefix of every access policy ARN.
pub const ACCESS_POLICY_ARN_PREFIX: &str = "arn:aws:eks::aws:cluster-access-policy/";

/// How the cluster authenticates IAM principals, and its access entries.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessSpec {
    /// Where the cluster looks up IAM principals: `ConfigMap` (default; only the aws-auth ConfigMap),
    /// `ApiAndConfigMap` (access entries first, then aws-auth) or `Api` (access entries only). The mode only moves
    /// forward, `ConfigMap` → `ApiAndConfigMap` → `Api`, as EKS allows. When it leaves `ConfigMap`, every principal
    /// of the generated aws-auth gets an equivalent access entry before the mode changes; `Api` is refused while a
    /// principal of aws-auth has no entry.
    #[serde(default)]
    #[x_kube(validation = Rule::new("self == oldSelf || oldSelf == 'ConfigMap' || (oldSelf == 'ApiAndConfigMap' && self == 'Api')").message("authenticationMode only moves ConfigMap -> ApiAndConfigMap -> Api, as EKS allows"))]
    pub authentication_mode: AuthenticationMode,

    /// Whether EKS gives the principal that creates the cluster (the operator, or `spec.credentials.roleArn`) an
    /// access entry with cluster admin rights. Default true. Read only when the cluster is created, as EKS does.
    #[serde(default = "default_true")]
    pub bootstrap_cluster_creator_admin_permissions: bool,

    /// Access entries of every regional cluster. Entries the operator created and that leave this list are
    /// deleted; entries others made are never touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["principalArn"]))]
    pub entries: Vec<AccessEntrySpec>,
}

impl Default for AccessSpec {
    fn default() -> Self {
        Self {
            authentication_mode: AuthenticationMode::default(),
            bootstrap_cluster_creator_admin_permissions: true,
            entries: Vec::new(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// The authentication mode of a cluster, in the only order EKS lets it move.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum AuthenticationMode {
    /// Only the aws-auth ConfigMap maps IAM principals.
    #[default]
    ConfigMap,
    /// Access entries first, then the aws-auth ConfigMap.
    ApiAndConfigMap,
    /// Only access entries.
    Api,
}

impl AuthenticationMode {
    /// The name of the mode in EKS's API (`CONFIG_MAP`, `API_AND_CONFIG_MAP`, `API`).
    pub fn as_eks(self) -> &'static str {
        match self {
            Self::ConfigMap => "CONFIG_MAP",
            Self::ApiAndConfigMap => "API_AND_CONFIG_MAP",
            Self::Api => "API",
        }
    }

    /// The mode EKS names `name`, if it is one.
    pub fn from_eks(name: &str) -> Option<Self> {
        match name {
            "CONFIG_MAP" => Some(Self::ConfigMap),
            "API_AND_CONFIG_MAP" => Some(Self::ApiAndConfigMap),
            "API" => Some(Self::Api),
            _ => None,
        }
    }

    /// The name of the mode in the spec (`ConfigMap`, `ApiAndConfigMap`, `Api`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigMap => "ConfigMap",
            Self::ApiAndConfigMap => "ApiAndConfigMap",
            Self::Api => "Api",
        }
    }

    /// Whether the cluster reads access entries in this mode.
    pub fn uses_access_entries(self) -> bool {
        self != Self::ConfigMap
    }

    /// Whether the cluster reads the aws-auth ConfigMap in this mode.
    pub fn uses_config_map(self) -> bool {
        self != Self::Api
    }
}

/// One EKS access entry: an IAM principal, how it appears in Kubernetes, and the access policies it holds.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntrySpec {
    /// ARN of the IAM role or user (`arn:aws:iam::123456789012:role/ops-admin`). STS `assumed-role` ARNs are not
    /// principals: name the role. Unique within the list.
    #[schemars(pattern(crate::patterns::PRINCIPAL_ARN))]
    pub principal_arn: String,

    /// Kind of entry: `STANDARD` (default) for people and tools, `EC2_LINUX` / `EC2_WINDOWS` for the roles of
    /// self-managed nodes, `FARGATE_LINUX` for Fargate pod execution roles. Only `STANDARD` entries take a
    /// username, groups or access policies.
    #[serde(rename = "type", default)]
    pub entry_type: AccessEntryType,

    /// Kubernetes user name of the principal. When absent EKS picks one (the session's ARN); the operator
    /// never rewrites what EKS picked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub username: Option<String>,

    /// Kubernetes groups the principal belongs to, for RBAC bindings of your own. Groups starting with
    /// `system:` are refused, as EKS does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub kubernetes_groups: Vec<String>,

    /// Access policies associated with the entry. Policies the operator associated that leave this list are
    /// disassociated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub access_policies: Vec<AccessPolicySpec>,
}

impl AccessEntrySpec {
    /// A `STANDARD` entry with nothing but its principal.
    pub fn standard(principal_arn: impl Into<String>) -> Self {
        Self {
            principal_arn: principal_arn.into(),
            entry_type: AccessEntryType::Standard,
            username: None,
            kubernetes_groups: Vec::new(),
            access_policies: Vec::new(),
        }
    }
}

/// The kind of an access entry.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessEntryType {
    /// A person or a tool.
    #[default]
    Standard,
    /// The role of Linux nodes (EC2 or self-managed).
    Ec2Linux,
    /// The role of Windows nodes.
    Ec2Windows,
    /// A Fargate pod execution role.
    FargateLinux,
}

impl AccessEntryType {
    /// The name EKS uses for this type.
    pub fn as_eks(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Ec2Linux => "EC2_LINUX",
            Self::Ec2Windows => "EC2_WINDOWS",
            Self::FargateLinux => "FARGATE_LINUX",
        }
    }

    /// The type EKS names `name`, if the operator knows it.
    pub fn from_eks(name: &str) -> Option<Self> {
        match name {
            "STANDARD" => Some(Self::Standard),
            "EC2_LINUX" => Some(Self::Ec2Linux),
            "EC2_WINDOWS" => Some(Self::Ec2Windows),
            "FARGATE_LINUX" => Some(Self::FargateLinux),
            _ => None,
        }
    }
}

/// An access policy associated with an entry, and where it applies.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicySpec {
    /// The policy: a short name (`AmazonEKSClusterAdminPolicy`, `AmazonEKSAdminPolicy`, `AmazonEKSEditPolicy`,
    /// `AmazonEKSViewPolicy`, `AmazonEKSAdminViewPolicy`) or a full `arn:aws:eks::aws:cluster-access-policy/...`
    /// ARN.
    #[schemars(length(min = 1, max = 200))]
    pub policy: String,

    /// Where the policy applies: `{type: cluster}` or `{type: namespace, namespaces: [team-a]}`.
    pub scope: AccessScope,
}

impl AccessPolicySpec {
    /// The policy's ARN (a short name is expanded).
    pub fn policy_arn(&self) -> String {
        policy_arn(&self.policy)
    }
}

/// The ARN of access policy `policy`, given by short name or ARN.
pub fn policy_arn(policy: &str) -> String {
    if policy.starts_with("arn:") {
        policy.to_owned()
    } else {
        format!("{ACCESS_POLICY_ARN_PREFIX}{policy}")
    }
}

/// Where an access policy applies.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessScope {
    /// `cluster` (every namespace and cluster-wide resources) or `namespace` (only `namespaces`).
    #[serde(rename = "type")]
    pub scope_type: AccessScopeType,

    /// The namespaces of a `namespace` scope (required then, and refused for a `cluster` scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub namespaces: Vec<String>,
}

impl AccessScope {
    /// The cluster scope.
    pub fn cluster() -> Self {
        Self {
            scope_type: AccessScopeType::Cluster,
            namespaces: Vec::new(),
        }
    }
}

/// The kind of an access scope.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccessScopeType {
    /// The whole cluster.
    Cluster,
    /// The listed namespaces.
    Namespace,
}

impl AccessScopeType {
    /// The name EKS uses (`cluster`, `namespace`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::Namespace => "namespace",
        }
    }
}

/// Access entries added in one region.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionAccessOverride {
    /// Access entries of this region only, next to `spec.access.entries` (a principal may appear once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub entries: Vec<AccessEntrySpec>,
}
