//! Our own small domain types for what the operator reads from and sends to AWS. The traits in
//! [`crate::api`] take and return these, never SDK types, so the engine and the fake do not depend on the SDK.

use std::collections::BTreeMap;

pub use eks_plan::Tags;

/// A Describe filter (`tag:KEY`, `tag-key`, `vpc-id`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Filter name.
    pub name: String,
    /// Accepted values (any of them matches).
    pub values: Vec<String>,
}

impl Filter {
    /// `name` = any of `values`.
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = String>) -> Self {
        Self {
            name: name.into(),
            values: values.into_iter().collect(),
        }
    }
    /// Resources whose tag `key` has `value`.
    pub fn tag(key: &str, value: &str) -> Self {
        Self::new(format!("tag:{key}"), [value.to_owned()])
    }
    /// Resources that carry the tag `key`, whatever its value.
    pub fn tag_key(key: &str) -> Self {
        Self::new("tag-key", [key.to_owned()])
    }
    /// Resources in the VPC.
    pub fn vpc(vpc_id: &str) -> Self {
        Self::new("vpc-id", [vpc_id.to_owned()])
    }
}

/// An availability zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityZone {
    /// `eu-west-1a`.
    pub name: String,
    /// `available`, `impaired`, ...
    pub state: String,
    /// `availability-zone`, `local-zone` or `wavelength-zone`.
    pub zone_type: String,
}

/// A VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    /// `vpc-...`.
    pub id: String,
    /// Primary CIDR.
    pub cidr: String,
    /// `pending` or `available`.
    pub state: String,
    /// Tags.
    pub tags: Tags,
}

/// The boolean VPC attributes the operator manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VpcAttribute {
    /// `enableDnsSupport`.
    DnsSupport,
    /// `enableDnsHostnames`.
    DnsHostnames,
}

/// A subnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subnet {
    /// `subnet-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// CIDR.
    pub cidr: String,
    /// Availability zone name.
    pub zone: String,
    /// Whether instances get a public IPv4 address.
    pub map_public_ip_on_launch: bool,
    /// Tags.
    pub tags: Tags,
}

/// A subnet to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateSubnet {
    /// The VPC.
    pub vpc_id: String,
    /// CIDR.
    pub cidr: String,
    /// Availability zone name.
    pub zone: String,
    /// Tags set at creation.
    pub tags: Tags,
}

/// An internet gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternetGateway {
    /// `igw-...`.
    pub id: String,
    /// VPCs it is attached to.
    pub attached_vpcs: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// A virtual private gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpnGateway {
    /// `vgw-...`.
    pub id: String,
    /// `pending`, `available`, `deleting`, `deleted`.
    pub state: String,
    /// VPC attachments (`vpc id`, `attaching|attached|detaching|detached`).
    pub attachments: Vec<(String, String)>,
    /// Tags.
    pub tags: Tags,
}

impl VpnGateway {
    /// True when attached (or attaching) to the VPC.
    pub fn is_attached_to(&self, vpc_id: &str) -> bool {
        self.attachments
            .iter()
            .any(|(vpc, state)| vpc == vpc_id && (state == "attached" || state == "attaching"))
    }
}

/// An elastic IP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// `eipalloc-...`.
    pub allocation_id: String,
    /// `eipassoc-...` while associated.
    pub association_id: Option<String>,
    /// The public IPv4 address.
    pub public_ip: String,
    /// Tags.
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatGateway {
    /// `nat-...`.
    pub id: String,
    /// Subnet it lives in.
    pub subnet_id: String,
    /// `pending`, `available`, `deleting`, `deleted`, `failed`.
    pub state: String,
    /// Elastic IPs it uses.
    pub allocation_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

impl NatGateway {
    /// True while the gateway exists or is being made (`pending`, `available`).
    pub fn is_live(&self) -> bool {
        self.state == "pending" || self.state == "available"
    }
}

/// A NAT gateway to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateNatGateway {
    /// Public subnet.
    pub subnet_id: String,
    /// Elastic IP allocation.
    pub allocation_id: String,
    /// Idempotency token.
    pub client_token: String,
    /// Tags set at creation.
    pub tags: Tags,
}

/// Where a route sends traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTargetId {
    /// An internet or virtual private gateway (`igw-...`, `vgw-...`).
    Gateway(String),
    /// A NAT gateway (`nat-...`).
    NatGateway(String),
}

/// A route in a route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// IPv4 destination CIDR.
    pub destination: String,
    /// The target, if an internet/VPN gateway or NAT gateway (`local` is `Gateway("local")`).
    pub target: Option<RouteTargetId>,
    /// `active` or `blackhole`.
    pub state: String,
    /// `CreateRouteTable`, `CreateRoute` or `EnableVgwRoutePropagation`.
    pub origin: String,
}

/// A route table association.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTableAssociation {
    /// `rtbassoc-...`.
    pub id: String,
    /// The associated subnet (`None` for the main association).
    pub subnet_id: Option<String>,
    /// True for the VPC's main association.
    pub main: bool,
}

/// A route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// `rtb-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Routes.
    pub routes: Vec<Route>,
    /// Associations.
    pub associations: Vec<RouteTableAssociation>,
    /// Virtual private gateways whose routes propagate into the table.
    pub propagating_vgws: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// The other side of a security group rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SgPeer {
    /// An IPv4 CIDR.
    Cidr(String),
    /// A security group id.
    Group(String),
}

/// One security group rule (one protocol, port range and peer).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SgRule {
    /// `tcp`, `udp`, `icmp` or `-1`.
    pub protocol: String,
    /// First port; -1 for all.
    pub from_port: i32,
    /// Last port; -1 for all.
    pub to_port: i32,
    /// Source (ingress) or destination (egress).
    pub peer: SgPeer,
    /// Description.
    pub description: Option<String>,
}

impl SgRule {
    /// The rule without its description: what AWS compares.
    pub fn identity(&self) -> (String, i32, i32, SgPeer) {
        let (from, to) = if self.protocol == "-1" {
            (-1, -1)
        } else {
            (self.from_port, self.to_port)
        };
        (self.protocol.clone(), from, to, self.peer.clone())
    }
}

/// Ingress or egress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Inbound rules.
    Ingress,
    /// Outbound rules.
    Egress,
}

/// A security group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
    /// Tags.
    pub tags: Tags,
}

/// A security group to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateSecurityGroup {
    /// The VPC.
    pub vpc_id: String,
    /// Group name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Tags set at creation.
    pub tags: Tags,
}

/// A network interface (what load balancers and other services leave in a VPC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInterface {
    /// `eni-...`.
    pub id: String,
    /// `available` (detached) or `in-use`.
    pub status: String,
    /// AWS's description (`ELB app/...`, `Amazon EKS ...`).
    pub description: String,
    /// Its subnet.
    pub subnet_id: String,
    /// Its security groups.
    pub security_group_ids: Vec<String>,
}

/// An IAM role.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// Role ARN.
    pub arn: String,
    /// The trust policy, decoded.
    pub trust_policy: serde_json::Value,
    /// Tags.
    pub tags: Tags,
}

/// An IAM OIDC identity provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProvider {
    /// ARN.
    pub arn: String,
    /// Issuer URL without the scheme.
    pub url: String,
    /// Audiences.
    pub client_ids: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An OIDC provider to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOidcProvider {
    /// Issuer URL (`https://oidc.eks...`).
    pub url: String,
    /// Audiences.
    pub client_ids: Vec<String>,
    /// Server certificate thumbprints.
    pub thumbprints: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// The network settings of an EKS cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterVpcConfig {
    /// Subnets of the control plane's network interfaces.
    pub subnet_ids: Vec<String>,
    /// Security groups attached to the control plane.
    pub security_group_ids: Vec<String>,
    /// Public endpoint.
    pub endpoint_public_access: bool,
    /// Private endpoint.
    pub endpoint_private_access: bool,
    /// CIDRs allowed to reach the public endpoint.
    pub public_access_cidrs: Vec<String>,
}

/// An EKS cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `FAILED`.
    pub status: String,
    /// Kubernetes minor version.
    pub version: String,
    /// API server URL, once there is one.
    pub endpoint: Option<String>,
    /// Base64 CA data, once there is one.
    pub certificate_authority: Option<String>,
    /// OIDC issuer URL, once there is one.
    pub oidc_issuer: Option<String>,
    /// The control plane role.
    pub role_arn: String,
    /// Network settings.
    pub vpc: ClusterVpcConfig,
    /// Enabled control plane log types.
    pub enabled_log_types: Vec<String>,
    /// Tags.
    pub tags: Tags,
    /// The authentication mode (`CONFIG_MAP`, `API_AND_CONFIG_MAP`, `API`), when EKS reports one.
    pub authentication_mode: Option<String>,
}

/// An EKS cluster to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateCluster {
    /// Name.
    pub name: String,
    /// Kubernetes minor version.
    pub version: String,
    /// The control plane role.
    pub role_arn: String,
    /// Network settings.
    pub vpc: ClusterVpcConfig,
    /// Control plane log types to enable.
    pub log_types: Vec<String>,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
    /// `accessConfig.authenticationMode` (EKS's spelling); `None` leaves EKS's default (`CONFIG_MAP`).
    pub authentication_mode: Option<String>,
    /// `accessConfig.bootstrapClusterCreatorAdminPermissions`; `None` leaves EKS's default (true).
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
}

/// One `UpdateClusterConfig` request: AWS accepts one kind of change per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterConfigUpdate {
    /// Endpoint access and public CIDRs.
    EndpointAccess {
        /// Public endpoint.
        public: bool,
        /// Private endpoint.
        private: bool,
        /// CIDRs allowed to reach the public endpoint.
        public_access_cidrs: Vec<String>,
    },
    /// Control plane logging.
    Logging {
        /// Types to enable.
        enable: Vec<String>,
        /// Types to disable.
        disable: Vec<String>,
    },
    /// `accessConfig.authenticationMode` (EKS's spelling); EKS only moves it forward.
    AccessConfig {
        /// `API_AND_CONFIG_MAP` or `API`.
        authentication_mode: String,
    },
}

/// An EKS access entry as `DescribeAccessEntry` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessEntry {
    /// ARN of the IAM principal.
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, ...
    pub entry_type: String,
    /// The Kubernetes user name (EKS's default when none was given).
    pub username: String,
    /// The Kubernetes groups.
    pub kubernetes_groups: Vec<String>,
    /// Tags.
    pub tags: Tags,
}

/// An access entry to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateAccessEntry {
    /// ARN of the IAM principal.
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, ...
    pub entry_type: String,
    /// The user name; `None` lets EKS pick one.
    pub username: Option<String>,
    /// The Kubernetes groups.
    pub kubernetes_groups: Vec<String>,
    /// Tags (the ownership tags, so a later pass knows the entry is the operator's).
    pub tags: Tags,
}

/// One `UpdateAccessEntry` request: only what is given changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessEntryUpdate {
    /// New user name.
    pub username: Option<String>,
    /// New groups (replace the old ones).
    pub kubernetes_groups: Option<Vec<String>>,
}

/// An access policy associated with an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct AssociatedPolicy {
    /// ARN of the access policy.
    pub policy_arn: String,
    /// `cluster` or `namespace`.
    pub scope_type: String,
    /// The namespaces of a `namespace` scope, sorted.
    pub namespaces: Vec<String>,
}

/// A node taint as EKS writes it (`NO_SCHEDULE`, `NO_EXECUTE`, `PREFER_NO_SCHEDULE`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Effect, EKS spelling.
    pub effect: String,
}

/// Sizes of a node group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scaling {
    /// Minimum.
    pub min: i32,
    /// Maximum.
    pub max: i32,
    /// Desired.
    pub desired: i32,
}

/// An EKS managed node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nodegroup {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, `CREATE_FAILED`, `DELETE_FAILED`, `DEGRADED`.
    pub status: String,
    /// Kubernetes version.
    pub version: String,
    /// Sizes.
    pub scaling: Scaling,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// Subnets.
    pub subnet_ids: Vec<String>,
    /// Node labels.
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// Tags.
    pub tags: Tags,
    /// Health issues EKS reports (`code: message`).
    pub health_issues: Vec<String>,
}

/// A node group to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateNodegroup {
    /// The cluster.
    pub cluster: String,
    /// Node group name.
    pub name: String,
    /// Kubernetes version.
    pub version: String,
    /// Node role ARN.
    pub node_role_arn: String,
    /// Subnets.
    pub subnet_ids: Vec<String>,
    /// Instance types.
    pub instance_types: Vec<String>,
    /// Sizes.
    pub scaling: Scaling,
    /// Root volume size in GiB.
    pub disk_size_gib: i32,
    /// EC2 key pair for SSH.
    pub ssh_key_name: Option<String>,
    /// Node labels.
    pub labels: BTreeMap<String, String>,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// Tags.
    pub tags: Tags,
    /// Idempotency token.
    pub client_request_token: String,
}

/// One `UpdateNodegroupConfig` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodegroupConfigUpdate {
    /// New sizes.
    pub scaling: Option<Scaling>,
    /// Labels to add or change.
    pub add_labels: BTreeMap<String, String>,
    /// Label keys to remove.
    pub remove_labels: Vec<String>,
    /// Taints to add or change.
    pub add_taints: Vec<Taint>,
    /// Taints to remove.
    pub remove_taints: Vec<Taint>,
}

impl NodegroupConfigUpdate {
    /// True when the request would change nothing.
    pub fn is_empty(&self) -> bool {
        self.scaling.is_none()
            && self.add_labels.is_empty()
            && self.remove_labels.is_empty()
            && self.add_taints.is_empty()
            && self.remove_taints.is_empty()
    }
}

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN.
    pub arn: String,
}
