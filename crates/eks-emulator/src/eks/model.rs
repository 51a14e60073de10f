//! The EKS state: clusters with their node groups, updates and access entries, per region, in the wire shapes
//! of the EKS API (<https://docs.aws.amazon.com/eks/latest/APIReference/API_Types.html>) so a describe answer is
//! the stored value. Serializable as a whole for `--state-dir` and `GET /emulator/v1/state`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Kubernetes versions the emulator offers, oldest first (EKS standard and extended support, 2026).
pub const SUPPORTED_VERSIONS: &[&str] = &["1.29", "1.30", "1.31", "1.32", "1.33", "1.34"];

/// The version `CreateCluster` uses when the request names none.
pub const DEFAULT_VERSION: &str = "1.33";

/// Everything the emulator knows, by region.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct State {
    /// Regions by name.
    pub regions: BTreeMap<String, RegionState>,
    /// A counter that makes ids unique across a restart.
    pub next_id: u64,
}

impl State {
    /// The next unique number.
    pub fn allocate_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The state of `region`, created empty on first use.
    pub fn region(&mut self, region: &str) -> &mut RegionState {
        self.regions.entry(region.to_owned()).or_default()
    }
}

/// The EKS resources of one region.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RegionState {
    /// Clusters by name.
    pub clusters: BTreeMap<String, ClusterRecord>,
    /// Virtual private gateways propagating routes, by route table id (EC2 state moto lacks).
    #[serde(default)]
    pub route_propagation: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Auto Scaling instance refreshes, oldest first (Auto Scaling state moto lacks).
    #[serde(default)]
    pub instance_refreshes: Vec<crate::autoscaling::InstanceRefresh>,
}

/// A cluster with everything that belongs to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRecord {
    /// The cluster as `DescribeCluster` answers it.
    pub cluster: Cluster,
    /// The account that owns it.
    pub account: String,
    /// The ARN of the principal that created it (resolved through the backend's STS).
    pub creator_arn: String,
    /// The access key that created it (the emulator's own backend calls for the cluster sign with it).
    pub access_key: String,
    /// When the current `CREATING` or `DELETING` phase ends (ms since the epoch).
    pub ready_at: u64,
    /// The control plane's resources in the backend's EC2.
    pub network: ControlPlaneNetwork,
    /// Managed node groups by name.
    pub nodegroups: BTreeMap<String, NodegroupRecord>,
    /// Every update of the cluster, its node groups and add-ons, oldest first.
    pub updates: Vec<UpdateRecord>,
    /// Access entries by principal ARN.
    #[serde(default)]
    pub access_entries: BTreeMap<String, AccessEntryRecord>,
    /// Insights added through the control endpoint.
    #[serde(default)]
    pub insights: Vec<Value>,
    /// Pod Identity associations by id (`PodIdentityAssociation` shapes).
    #[serde(default)]
    pub pod_identity: BTreeMap<String, Value>,
    /// Managed add-ons by name.
    #[serde(default)]
    pub addons: BTreeMap<String, AddonRecord>,
    /// Failures the control endpoint asked for: the next updates they match end `Failed`.
    #[serde(default)]
    pub update_failures: Vec<UpdateFailure>,
}

/// A managed add-on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonRecord {
    /// The add-on as `DescribeAddon` answers it, except `status`.
    pub addon: Value,
    /// Its status.
    pub status: AddonStatus,
    /// When the current `CREATING` or `DELETING` phase ends (ms since the epoch).
    pub ready_at: u64,
    /// The idempotency token of the create.
    pub token: Option<String>,
    /// Whether a delete keeps the add-on's software on the cluster (`preserve`).
    #[serde(default)]
    pub preserve: bool,
}

impl AddonRecord {
    /// The `Addon` shape.
    pub fn describe(&self) -> Value {
        let mut addon = self.addon.clone();
        addon["status"] = serde_json::to_value(self.status).unwrap_or_default();
        addon
    }
}

/// An add-on's status (`AddonStatus` in the API model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddonStatus {
    /// Being created.
    Creating,
    /// Running.
    Active,
    /// Creation failed.
    CreateFailed,
    /// An update is in progress.
    Updating,
    /// Being deleted.
    Deleting,
    /// Deletion failed.
    DeleteFailed,
    /// Has a health issue.
    Degraded,
    /// The last update failed.
    UpdateFailed,
}

/// The next `count` updates of `target` end `Failed` with this error (set through the control endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFailure {
    /// The subject whose updates fail.
    pub target: UpdateTarget,
    /// How many updates still fail.
    pub count: u32,
    /// The `ErrorDetail` the failed update reports.
    pub error: Value,
}

/// What the emulator created in the backend's EC2 for a control plane.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneNetwork {
    /// The cluster security group EKS creates.
    pub cluster_security_group_id: String,
    /// The control plane's network interfaces.
    pub interface_ids: Vec<String>,
    /// The subnets those interfaces are in.
    pub interface_subnet_ids: Vec<String>,
    /// Every security group attached to those interfaces (the cluster's own and the request's).
    pub interface_security_group_ids: Vec<String>,
}

/// A cluster's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterStatus {
    /// Being created.
    Creating,
    /// Ready.
    Active,
    /// An update is in progress.
    Updating,
    /// Being deleted.
    Deleting,
    /// Creation failed.
    Failed,
}

/// A cluster authentication mode; it only moves forward, `ConfigMap` → `ApiAndConfigMap` → `Api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthenticationMode {
    /// Only the `aws-auth` ConfigMap.
    ConfigMap,
    /// Access entries and the ConfigMap.
    ApiAndConfigMap,
    /// Only access entries.
    Api,
}

/// The `Cluster` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Kubernetes version.
    pub version: String,
    /// The API server endpoint (absent until `ACTIVE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The cluster role.
    pub role_arn: String,
    /// Networking.
    pub resources_vpc_config: VpcConfig,
    /// Service CIDR and IP family.
    pub kubernetes_network_config: Value,
    /// Control plane logging.
    pub logging: Value,
    /// The OIDC issuer.
    pub identity: Value,
    /// Status.
    pub status: ClusterStatus,
    /// The CA of the API server (absent until `ACTIVE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<Value>,
    /// The idempotency token of the create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    /// Platform version.
    pub platform_version: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Envelope encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_config: Option<Value>,
    /// Health.
    pub health: Value,
    /// Authentication mode and bootstrap flag.
    pub access_config: AccessConfig,
    /// Support type.
    pub upgrade_policy: Value,
    /// Zonal shift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonal_shift_config: Option<Value>,
}

/// The `VpcConfigResponse` shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    /// Subnets.
    pub subnet_ids: Vec<String>,
    /// Additional security groups.
    pub security_group_ids: Vec<String>,
    /// The security group EKS created.
    pub cluster_security_group_id: String,
    /// The VPC.
    pub vpc_id: String,
    /// Public endpoint on or off.
    pub endpoint_public_access: bool,
    /// Private endpoint on or off.
    pub endpoint_private_access: bool,
    /// CIDRs allowed to the public endpoint.
    pub public_access_cidrs: Vec<String>,
}

/// The `AccessConfigResponse` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    /// Whether the creator got an admin access entry at creation.
    pub bootstrap_cluster_creator_admin_permissions: bool,
    /// The authentication mode.
    pub authentication_mode: AuthenticationMode,
}

/// A managed node group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupRecord {
    /// The node group as `DescribeNodegroup` answers it.
    pub nodegroup: Nodegroup,
    /// When the current `CREATING` or `DELETING` phase ends (ms since the epoch).
    pub ready_at: u64,
    /// The zones of its subnets.
    pub zones: Vec<String>,
    /// The idempotency token of the create.
    pub token: Option<String>,
}

/// A node group's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodegroupStatus {
    /// Being created.
    Creating,
    /// Ready.
    Active,
    /// An update is in progress.
    Updating,
    /// Being deleted.
    Deleting,
    /// Has a health issue.
    Degraded,
}

/// The `Nodegroup` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nodegroup {
    /// Name.
    pub nodegroup_name: String,
    /// ARN.
    pub nodegroup_arn: String,
    /// The cluster.
    pub cluster_name: String,
    /// Kubernetes version.
    pub version: String,
    /// AMI release version.
    pub release_version: String,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Last modification, epoch seconds.
    pub modified_at: f64,
    /// Status.
    pub status: NodegroupStatus,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// Scaling.
    pub scaling_config: ScalingConfig,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// Subnets.
    pub subnets: Vec<String>,
    /// SSH access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_access: Option<Value>,
    /// AMI type.
    pub ami_type: String,
    /// The node role.
    pub node_role: String,
    /// Kubernetes labels.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints.
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// The Auto Scaling group behind it.
    pub resources: Value,
    /// Disk size in GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_size: Option<i64>,
    /// Health issues.
    pub health: Value,
    /// Rolling update settings.
    pub update_config: Value,
    /// Launch template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<Value>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// The `NodegroupScalingConfig` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingConfig {
    /// Minimum size.
    pub min_size: i64,
    /// Maximum size.
    pub max_size: i64,
    /// Desired size.
    pub desired_size: i64,
}

/// The `Taint` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NO_SCHEDULE`, `NO_EXECUTE` or `PREFER_NO_SCHEDULE`.
    pub effect: String,
}

/// An update and what it changes when it succeeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRecord {
    /// The update as `DescribeUpdate` answers it.
    pub update: Update,
    /// What it updates.
    pub target: UpdateTarget,
    /// When it completes (ms since the epoch).
    pub done_at: u64,
    /// The idempotency token of the request.
    pub token: Option<String>,
    /// The change applied on success.
    pub change: Change,
    /// The `ErrorDetail` of an update made to fail (it then ends `Failed` and changes nothing).
    #[serde(default)]
    pub failure: Option<Value>,
}

/// The subject of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UpdateTarget {
    /// The control plane.
    Cluster,
    /// A node group, by name.
    Nodegroup(String),
    /// An add-on, by name.
    Addon(String),
}

/// The `Update` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    /// Id (a UUID).
    pub id: String,
    /// Status.
    pub status: UpdateStatus,
    /// Type (`VersionUpdate`, `EndpointAccessUpdate`, `LoggingUpdate`, `ConfigUpdate`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// What changes.
    pub params: Vec<UpdateParam>,
    /// Creation time, epoch seconds.
    pub created_at: f64,
    /// Errors of a failed update.
    pub errors: Vec<Value>,
}

/// The `UpdateParam` shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateParam {
    /// Parameter type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Value, as text (JSON for structured values).
    pub value: String,
}

/// An update's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateStatus {
    /// Running.
    InProgress,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Done.
    Successful,
}

/// The change an update makes when it succeeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// New control plane version.
    ClusterVersion(String),
    /// New endpoint access settings.
    EndpointAccess {
        /// Public endpoint.
        public: Option<bool>,
        /// Private endpoint.
        private: Option<bool>,
        /// Public CIDRs.
        cidrs: Option<Vec<String>>,
    },
    /// New logging.
    Logging(Value),
    /// New authentication mode.
    AuthenticationMode(AuthenticationMode),
    /// New upgrade policy.
    UpgradePolicy(Value),
    /// New zonal shift config.
    ZonalShift(Value),
    /// New encryption config.
    Encryption(Value),
    /// New node group settings.
    NodegroupConfig {
        /// Scaling.
        scaling: Option<ScalingConfig>,
        /// Labels to set.
        add_labels: BTreeMap<String, String>,
        /// Labels to remove.
        remove_labels: Vec<String>,
        /// Taints to set.
        add_taints: Vec<Taint>,
        /// Taints to remove.
        remove_taints: Vec<Taint>,
        /// Rolling update settings.
        update_config: Option<Value>,
    },
    /// New add-on settings (`UpdateAddon`).
    Addon(AddonChange),
    /// New node group version.
    NodegroupVersion {
        /// Kubernetes version.
        version: String,
        /// AMI release version.
        release_version: String,
    },
}

/// What an `UpdateAddon` changes (each `None` keeps the current value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonChange {
    /// The new version.
    pub version: Option<String>,
    /// The new configuration values (empty: none).
    pub configuration_values: Option<String>,
    /// The new IRSA role (empty: none).
    pub service_account_role_arn: Option<String>,
    /// The new Pod Identity associations (service account, role), replacing the add-on's.
    pub pod_identity: Option<Vec<(String, String)>>,
}

/// An access entry with its associated policies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntryRecord {
    /// The entry as `DescribeAccessEntry` answers it.
    pub entry: Value,
    /// Associated policies by policy ARN (`AssociatedAccessPolicy` shapes).
    pub policies: BTreeMap<String, Value>,
}

/// A UUID-shaped random id, as EKS uses for updates.
pub fn uuid() -> String {
    let n = fastrand::u128(..);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Epoch seconds of `ms`, as the JSON protocol sends timestamps.
pub fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
