//! The desired state of one region: plain data the AWS layer reconciles against and `eks-operator plan` prints.
//!
//! Resources refer to each other by *key* (`subnet` keys such as `private-0`, NAT keys such as
//! `nat-eu-west-1a`, security group keys `cluster` / `nodes`), never by AWS id: ids exist only once AWS made
//! the resources. The JSON form of these types is the documented output of `eks-operator plan -o json`.

use std::collections::BTreeMap;

use eks_api::{ClusterId, DeletionPolicy, RegionName, SubnetTier, TaintEffect};
use ipnet::Ipv4Net;
use serde::Serialize;

use crate::tags::Tags;

/// Everything the operator keeps in one region for one `EksCluster`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionPlan {
    /// The region.
    pub region: RegionName,
    /// `<region>-<stage>-<name>`, the EKS cluster's name and every resource's prefix.
    pub cluster_id: ClusterId,
    /// The object that owns every resource of this plan.
    pub owner: Owner,
    /// The operator's ownership tags; every resource carries them, observation filters on them.
    pub ownership_tags: Tags,
    /// The availability zones the subnets are spread over.
    pub zones: ZonePlan,
    /// The VPC.
    pub vpc: VpcPlan,
    /// The subnets, private ones first, each tier in zone order.
    pub subnets: Vec<SubnetPlan>,
    /// The internet gateway, present when there are public subnets.
    pub internet_gateway: Option<GatewayPlan>,
    /// The NAT gateways with their elastic IPs.
    pub nat_gateways: Vec<NatGatewayPlan>,
    /// Route tables, their routes and subnet associations.
    pub route_tables: Vec<RouteTablePlan>,
    /// The virtual private gateway attached to the VPC, when asked for.
    pub vpn_gateway: Option<GatewayPlan>,
    /// Security groups of the control plane and the nodes.
    pub security_groups: Vec<SecurityGroupPlan>,
    /// IAM roles of the control plane and the workers.
    pub iam_roles: Vec<IamRolePlan>,
    /// The EKS control plane.
    pub cluster: ClusterPlan,
    /// EKS managed node groups.
    pub node_groups: Vec<NodeGroupPlan>,
    /// The IAM OIDC provider for the cluster's issuer (IAM roles for service accounts).
    pub oidc_provider: OidcProviderPlan,
    /// The aws-auth ConfigMap entries.
    pub aws_auth: crate::aws_auth::AwsAuthPlan,
    /// The authentication mode and the access entries (the spec's and those migrated from aws-auth).
    pub access: crate::access::AccessPlan,
    /// What happens in AWS when the owning object is deleted.
    pub deletion_policy: DeletionPolicy,
}

impl RegionPlan {
    /// The subnet with this key.
    pub fn subnet(&self, key: &str) -> Option<&SubnetPlan> {
        self.subnets.iter().find(|s| s.key == key)
    }

    /// The IAM role of this kind.
    pub fn role(&self, kind: RoleKind) -> Option<&IamRolePlan> {
        self.iam_roles.iter().find(|r| r.kind == kind)
    }

    /// The security group with this key.
    pub fn security_group(&self, key: &str) -> Option<&SecurityGroupPlan> {
        self.security_groups.iter().find(|g| g.key == key)
    }
}

/// The owning Kubernetes object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// `metadata.uid`, or `<uid>` in an offline plan.
    pub uid: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

/// The zones of a region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZonePlan {
    /// Zone names, in the order subnets are assigned to them.
    pub names: Vec<String>,
    /// True when the names are placeholders (`<region>a`, `<region>b`, ...) of an offline plan: at reconcile
    /// time the operator takes the region's first available zones instead.
    pub placeholder: bool,
}

/// The VPC. DNS support and DNS hostnames are always enabled (EKS needs them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcPlan {
    /// The `Name` tag.
    pub name: String,
    /// The primary CIDR.
    pub cidr: Ipv4Net,
    /// Always true.
    pub enable_dns_support: bool,
    /// Always true.
    pub enable_dns_hostnames: bool,
    /// The VPC's tags.
    pub tags: Tags,
}

/// One subnet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetPlan {
    /// Stable key (`private-0`, `public-2`).
    pub key: String,
    /// The `Name` tag.
    pub name: String,
    /// The CIDR.
    pub cidr: Ipv4Net,
    /// The availability zone.
    pub zone: String,
    /// Public or private.
    pub tier: SubnetTier,
    /// Whether instances launched here get a public IPv4 address (public subnets).
    pub map_public_ip_on_launch: bool,
    /// The subnet's tags, with `kubernetes.io/cluster/<id>=shared` and the load balancer role tag.
    pub tags: Tags,
}

/// An internet or VPN gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayPlan {
    /// The `Name` tag.
    pub name: String,
    /// The gateway's tags.
    pub tags: Tags,
}

/// A NAT gateway and the elastic IP it uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NatGatewayPlan {
    /// Stable key (`nat-eu-west-1a`).
    pub key: String,
    /// The `Name` tag.
    pub name: String,
    /// The zone it serves.
    pub zone: String,
    /// Key of the public subnet it lives in.
    pub subnet_key: String,
    /// The NAT gateway's tags.
    pub tags: Tags,
    /// The `Name` tag of its elastic IP.
    pub eip_name: String,
    /// The elastic IP's tags.
    pub eip_tags: Tags,
}

/// A route table with its routes and associated subnets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTablePlan {
    /// Stable key (`public`, `private`, `private-eu-west-1a`).
    pub key: String,
    /// The `Name` tag.
    pub name: String,
    /// Routes besides the VPC's local route.
    pub routes: Vec<RoutePlan>,
    /// Keys of the subnets associated with the table.
    pub subnet_keys: Vec<String>,
    /// Whether routes of the VPN gateway propagate into this table.
    pub propagate_vpn_gateway: bool,
    /// The route table's tags.
    pub tags: Tags,
}

/// One route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePlan {
    /// Destination CIDR (`0.0.0.0/0`).
    pub destination: Ipv4Net,
    /// Where the traffic goes.
    pub target: RouteTarget,
}

/// The target of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum RouteTarget {
    /// The VPC's internet gateway.
    InternetGateway,
    /// A NAT gateway of the plan.
    NatGateway {
        /// Key of the NAT gateway.
        key: String,
    },
}

/// A security group and its rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupPlan {
    /// Stable key (`cluster`, `nodes`).
    pub key: String,
    /// The group name (`<id>-cluster`).
    pub name: String,
    /// The group description.
    pub description: String,
    /// Inbound rules.
    pub ingress: Vec<SecurityGroupRule>,
    /// Outbound rules.
    pub egress: Vec<SecurityGroupRule>,
    /// The group's tags.
    pub tags: Tags,
}

/// One security group rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupRule {
    /// `tcp`, `udp` or `-1` (all).
    pub protocol: String,
    /// First port (`-1` with protocol `-1`).
    pub from_port: i32,
    /// Last port.
    pub to_port: i32,
    /// Where the traffic comes from (ingress) or goes to (egress).
    pub peer: RulePeer,
    /// Why the rule exists.
    pub description: String,
}

/// The other side of a security group rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum RulePeer {
    /// An IPv4 CIDR.
    Cidr {
        /// The CIDR.
        cidr: Ipv4Net,
    },
    /// Another security group of the plan, by key.
    SecurityGroup {
        /// Key of the group.
        key: String,
    },
}

/// The two IAM roles of a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RoleKind {
    /// The role EKS assumes to run the control plane.
    ControlPlane,
    /// The role of the worker nodes' instance profile.
    Worker,
}

/// An IAM role with its trust policy and attached managed policies.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IamRolePlan {
    /// Which role this is.
    pub kind: RoleKind,
    /// The role name (at most 64 characters; shortened with a hash suffix when derived names are longer).
    pub name: String,
    /// The role's ARN; carries `<AWS_ACCOUNT_ID>` until the account is known.
    pub arn: String,
    /// The assume-role (trust) policy document.
    pub trust_policy: serde_json::Value,
    /// ARNs of the AWS managed policies attached to the role.
    pub managed_policy_arns: Vec<String>,
    /// The role's tags.
    pub tags: Tags,
}

/// The EKS control plane.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPlan {
    /// The cluster name (the cluster id).
    pub name: String,
    /// Kubernetes minor version.
    pub kubernetes_version: String,
    /// The role EKS assumes.
    pub role: RoleKind,
    /// Keys of the subnets of the control plane's network interfaces.
    pub subnet_keys: Vec<String>,
    /// Keys of the security groups attached to the control plane.
    pub security_group_keys: Vec<String>,
    /// Whether the endpoint is public.
    pub endpoint_public_access: bool,
    /// Whether the endpoint is reachable inside the VPC.
    pub endpoint_private_access: bool,
    /// CIDRs allowed to reach the public endpoint (`0.0.0.0/0` when the spec gives none).
    pub public_access_cidrs: Vec<Ipv4Net>,
    /// Control plane log types enabled, EKS names.
    pub logging: Vec<String>,
    /// The cluster's tags.
    pub tags: Tags,
}

/// An EKS managed node group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroupPlan {
    /// The node group name.
    pub name: String,
    /// The nodes' role.
    pub role: RoleKind,
    /// Keys of the subnets the nodes run in.
    pub subnet_keys: Vec<String>,
    /// EC2 instance types.
    pub instance_types: Vec<String>,
    /// Minimum size.
    pub min_size: i32,
    /// Maximum size.
    pub max_size: i32,
    /// Desired size to keep; `None` leaves it to the autoscaler (the group starts at `min_size`).
    pub desired_size: Option<i32>,
    /// Root volume size in GiB.
    pub disk_size_gib: i32,
    /// EC2 key pair for SSH access.
    pub ssh_key_name: Option<String>,
    /// Kubernetes labels of the nodes.
    pub labels: BTreeMap<String, String>,
    /// Kubernetes taints of the nodes.
    pub taints: Vec<TaintPlan>,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    /// Kubernetes version of the nodes (follows the control plane).
    pub kubernetes_version: String,
    /// The node group's tags, with `kubernetes.io/cluster/<id>=owned`.
    pub tags: Tags,
}

/// A node taint in EKS's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaintPlan {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Effect, as Kubernetes names it.
    pub effect: TaintEffect,
}

/// The IAM OIDC provider of the cluster's issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcProviderPlan {
    /// Audiences (`sts.amazonaws.com`).
    pub client_ids: Vec<String>,
    /// The provider's tags.
    pub tags: Tags,
}
