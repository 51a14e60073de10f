//! The `EksCluster` custom resource: its spec.
//!
//! Every doc comment on a field becomes the description `kubectl explain eksc.spec...` shows, so they are
//! written for the platform engineer who fills the object in.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::access::{AccessSpec, RegionAccessOverride};
use crate::network::NetworkSpec;
use crate::status::EksClusterStatus;

/// The desired state of a set of identical EKS clusters, one per region.
///
/// The operator builds the whole stack in every region listed in `regions`: VPC, subnets, gateways and routes,
/// security groups, IAM roles, the EKS control plane, managed node groups and the IAM OIDC provider, and writes
/// back per-region status plus the aws-auth ConfigMap the workers need to join.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "eksoperator.io",
    version = "v1alpha1",
    kind = "EksCluster",
    plural = "eksclusters",
    singular = "ekscluster",
    shortname = "eksc",
    category = "all",
    namespaced,
    status = "EksClusterStatus",
    printcolumn = r#"{"name":"Regions","type":"string","jsonPath":".spec.regions","description":"AWS regions the cluster runs in"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.kubernetesVersion","description":"Kubernetes version"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase","description":"Overall phase"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    validation = Rule::new("self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')").message("metadata.name must be lower-case letters, digits and '-' (no dots): it becomes part of AWS resource names"),
    validation = Rule::new("self.spec.regions.all(r, size(r) + (has(self.spec.stage) ? size(self.spec.stage) + 1 : 0) + size(self.metadata.name) + 1 <= 100)").message("the cluster id <region>-<stage>-<name> must be at most 100 characters, EKS's limit: shorten metadata.name or spec.stage")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.regionOverrides) || self.regionOverrides.all(r, r in self.regions)").message("every key of regionOverrides must be one of regions").field_path(".regionOverrides"))]
#[x_kube(validation = Rule::new("!has(self.nodeGroups) || self.nodeGroups.all(g, !has(g.desiredSize) || (g.desiredSize >= g.minSize && g.desiredSize <= g.maxSize))").message("nodeGroups: desiredSize must lie between minSize and maxSize").field_path(".nodeGroups"))]
#[x_kube(validation = Rule::new("!has(self.nodeGroups) || self.nodeGroups.all(g, g.minSize <= g.maxSize)").message("nodeGroups: minSize must not exceed maxSize").field_path(".nodeGroups"))]
pub struct EksClusterSpec {
    /// AWS regions to run an identical cluster in, for example `[eu-west-1, eu-west-2]`. Each region gets its
    /// own VPC, control plane and node groups, named `<region>-<stage>-<metadata.name>`.
    #[schemars(length(min = 1, max = 20), inner(pattern(crate::patterns::REGION)))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub regions: Vec<String>,

    /// Stage of the cluster (`test`, `staging`, `prod`). Together with the region and the object's name it makes
    /// the regional cluster id `<region>-<stage>-<name>` that names the EKS cluster and prefixes every AWS
    /// resource. Leave it out for ids of the form `<region>-<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::patterns::STAGE))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("stage is immutable: it is part of every AWS resource name"))]
    pub stage: Option<String>,

    /// Kubernetes minor version of the control plane and the node groups, such as `"1.31"`. Raising it upgrades
    /// one minor version at a time (control plane first, then node groups); lowering it is refused.
    #[schemars(pattern(crate::patterns::KUBERNETES_VERSION))]
    pub kubernetes_version: String,

    /// The VPC and its subnets. The same network is built in every region unless `regionOverrides` changes it.
    pub network: NetworkSpec,

    /// Who may reach the Kubernetes API endpoint of each cluster.
    #[serde(default)]
    pub endpoint: EndpointSpec,

    /// Control plane log types sent to CloudWatch Logs (`api`, `audit`, `authenticator`, `controllerManager`,
    /// `scheduler`). Empty turns control plane logging off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub control_plane_logging: Vec<LogType>,

    /// EKS managed node groups to run in every region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 30))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub node_groups: Vec<NodeGroupSpec>,

    /// Entries of the aws-auth ConfigMap beyond the generated worker-role entry, and whether the operator applies
    /// the ConfigMap into the workload clusters itself.
    #[serde(default)]
    pub aws_auth: AwsAuthSpec,

    /// How each regional cluster authenticates IAM principals (aws-auth ConfigMap, EKS access entries or both)
    /// and the access entries it holds. Absent means the `ConfigMap` mode with no access entries.
    #[serde(default)]
    pub access: AccessSpec,

    /// Tags applied to every AWS resource the operator creates, next to its own ownership tags. Keys starting with
    /// `aws:`, `eksoperator.io/` or `kubernetes.io/cluster/` are reserved.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 40))]
    pub tags: BTreeMap<String, String>,

    /// What happens to the AWS resources when this object is deleted: `Delete` (default) tears every region down
    /// in dependency order; `Retain` leaves AWS untouched and only removes the Kubernetes object.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Per-region changes to `network`, keyed by region. Fields given here replace the same fields of `network`
    /// for that region; when the VPC CIDR changes and no subnets are given, the subnets are computed anew.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 20))]
    pub region_overrides: BTreeMap<String, RegionOverride>,

    /// An IAM role the operator assumes for this cluster's AWS calls (for clusters in another account). Without
    /// it the operator uses its own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsSpec>,
}

/// Access to the Kubernetes API endpoint of each regional cluster.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSpec {
    /// Whether the API endpoint is reachable from the internet (limited to `publicAccessCidrs`). Default true.
    #[serde(default = "default_true")]
    pub public_access: bool,

    /// Whether the API endpoint is reachable from inside the VPC; worker nodes then talk to it privately.
    /// Default true.
    #[serde(default = "default_true")]
    pub private_access: bool,

    /// The source CIDRs allowed to reach the public endpoint (the seed's `allowed_ips`), for example
    /// `[203.0.113.10/32]`. They also open port 443 on the cluster security group. Empty means EKS's default,
    /// `0.0.0.0/0`. Must be empty when `publicAccess` is false.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 40), inner(pattern(crate::patterns::IPV4_CIDR)))]
    pub public_access_cidrs: Vec<String>,
}

impl Default for EndpointSpec {
    fn default() -> Self {
        Self {
            public_access: true,
            private_access: true,
            public_access_cidrs: Vec::new(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// A control plane log type of EKS.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LogType {
    /// Kubernetes API server logs.
    Api,
    /// Kubernetes audit logs.
    Audit,
    /// aws-iam-authenticator logs.
    Authenticator,
    /// kube-controller-manager logs.
    ControllerManager,
    /// kube-scheduler logs.
    Scheduler,
}

impl LogType {
    /// The name EKS uses for this log type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Audit => "audit",
            Self::Authenticator => "authenticator",
            Self::ControllerManager => "controllerManager",
            Self::Scheduler => "scheduler",
        }
    }
}

/// An EKS managed node group, created in every region.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupSpec {
    /// Name of the node group, unique within this object (`workers`).
    #[schemars(pattern(crate::patterns::NODE_GROUP_NAME))]
    pub name: String,

    /// EC2 instance types of the workers, for example `[t3.medium]`. More than one spreads across types.
    #[schemars(length(min = 1, max = 20), inner(pattern(crate::patterns::INSTANCE_TYPE)))]
    pub instance_types: Vec<String>,

    /// Smallest number of nodes. May be 0.
    #[schemars(range(min = 0, max = 1000))]
    pub min_size: i32,

    /// Largest number of nodes. At least 1 and at least `minSize`.
    #[schemars(range(min = 1, max = 1000))]
    pub max_size: i32,

    /// Number of nodes wanted. When set, the operator keeps the group at this size and reverts manual scaling.
    /// When absent, the group starts at `minSize` and later changes of the desired size (for example by the
    /// cluster autoscaler) are left alone; `minSize` and `maxSize` are still enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub desired_size: Option<i32>,

    /// Root volume size of each node in GiB. Default 20.
    #[serde(default = "default_disk_size", rename = "diskSizeGiB")]
    #[schemars(range(min = 1, max = 16384))]
    pub disk_size_gib: i32,

    /// Name of an existing EC2 key pair for SSH access to the nodes (the seed's `key_name`). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::patterns::SSH_KEY_NAME))]
    pub ssh_key_name: Option<String>,

    /// Kubernetes labels put on every node of the group.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,

    /// Kubernetes taints put on every node of the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub taints: Vec<Taint>,

    /// Which subnets the nodes run in: `Private` (default) or `Public`. With the `Public` topology the nodes
    /// always run in the public subnets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<SubnetTier>")]
    pub subnets: Option<SubnetTier>,

    /// Whether the nodes are on-demand (`OnDemand`, default) or spot instances (`Spot`).
    #[serde(default)]
    pub capacity_type: CapacityType,
}

fn default_disk_size() -> i32 {
    20
}

/// A Kubernetes taint of a node group.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    /// The taint key.
    #[schemars(length(min = 1, max = 63))]
    pub key: String,
    /// The taint value (may be empty).
    #[serde(default)]
    #[schemars(length(max = 63))]
    pub value: String,
    /// The effect: `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: TaintEffect,
}

/// The effect of a taint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum TaintEffect {
    /// Pods that do not tolerate the taint are not scheduled.
    NoSchedule,
    /// The scheduler avoids the node for pods that do not tolerate the taint.
    PreferNoSchedule,
    /// Pods that do not tolerate the taint are evicted.
    NoExecute,
}

/// Public or private subnets.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum SubnetTier {
    /// Subnets routed to the internet gateway; instances get public addresses.
    Public,
    /// Subnets without public addresses, routed through NAT gateways when there are any.
    Private,
}

impl SubnetTier {
    /// `public` or `private`, as used in resource names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// How node group instances are bought.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum CapacityType {
    /// On-demand instances.
    #[default]
    OnDemand,
    /// Spot instances.
    Spot,
}

/// Entries of the aws-auth ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsAuthSpec {
    /// Whether the operator applies `kube-system/aws-auth` into each workload cluster itself (server-side apply,
    /// keeping entries others added). Default false: the operator only writes the generated ConfigMap into this
    /// object's namespace for you to apply.
    #[serde(default)]
    pub manage: bool,

    /// IAM roles mapped to Kubernetes users and groups, placed after the generated worker-role entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map_roles: Vec<MapRole>,

    /// IAM users mapped to Kubernetes users and groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map_users: Vec<MapUser>,

    /// AWS account ids whose IAM users and roles are mapped automatically.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(crate::patterns::ACCOUNT_ID)))]
    pub map_accounts: Vec<String>,
}

/// An IAM role mapped in aws-auth.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct MapRole {
    /// ARN of the IAM role (`arn:aws:iam::123456789012:role/ops-admin`).
    #[schemars(pattern(crate::patterns::ROLE_ARN))]
    pub rolearn: String,
    /// Kubernetes user name the role maps to.
    #[schemars(length(min = 1, max = 253))]
    pub username: String,
    /// Kubernetes groups the role belongs to (`system:masters`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// An IAM user mapped in aws-auth.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct MapUser {
    /// ARN of the IAM user (`arn:aws:iam::123456789012:user/alice`).
    #[schemars(pattern(crate::patterns::USER_ARN))]
    pub userarn: String,
    /// Kubernetes user name the IAM user maps to.
    #[schemars(length(min = 1, max = 253))]
    pub username: String,
    /// Kubernetes groups the user belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// What happens in AWS when the object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Tear down every AWS resource the operator created, in dependency order.
    #[default]
    Delete,
    /// Leave AWS untouched.
    Retain,
}

/// Per-region changes to the network.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionOverride {
    /// Network fields that differ in this region; each field given replaces the one of `spec.network`. Once
    /// the region is built its VPC CIDR and subnets cannot change: a change is reported in the region's status
    /// (`VpcCidrImmutable`, `SubnetLayoutImmutable`) and nothing is modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::network::NetworkOverride>,

    /// Access entries added in this region, next to `spec.access.entries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<RegionAccessOverride>,
}

/// An IAM role to assume for this cluster's AWS calls.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSpec {
    /// ARN of the role to assume. The operator's published IAM policy (`deploy/iam/`) allows `sts:AssumeRole`
    /// only on roles under the path `/eks-operator/` (`arn:aws:iam::<account>:role/eks-operator/<name>`).
    #[schemars(pattern(crate::patterns::ROLE_ARN))]
    pub role_arn: String,
    /// External id the role's trust policy requires, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224))]
    pub external_id: Option<String>,
}
