//! The network part of the spec, its per-region overrides, and the subnet layout computed from a VPC CIDR.

use ipnet::Ipv4Net;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The smallest subnet AWS allows (`/28`, 16 addresses).
pub const SMALLEST_SUBNET_PREFIX: u8 = 28;
/// The largest VPC AWS allows (`/16`).
pub const LARGEST_VPC_PREFIX: u8 = 16;
/// The smallest VPC this operator accepts (`/24`): anything smaller cannot hold an EKS cluster's subnets.
pub const SMALLEST_VPC_PREFIX: u8 = 24;
/// The most availability zones a cluster may span.
pub const MAX_ZONES: u8 = 6;
/// The fewest availability zones: EKS needs subnets in at least two zones.
pub const MIN_ZONES: u8 = 2;
/// Availability zones used when neither `availabilityZones` nor `zones` is given.
pub const DEFAULT_ZONE_COUNT: u8 = 3;

/// The VPC of each regional cluster and its subnets.
///
/// The fields that define the subnets (`availabilityZones`, `zones`, `privateSubnetCidrs`, `publicSubnetCidrs`,
/// `topology`) cannot be changed, added or removed once the object exists: EKS cannot move a cluster's or node
/// group's subnets in place, so a different subnet layout needs a new `EksCluster`. `natGateways` and
/// `vpnGateway` may change; the operator then adds and removes NAT gateways, elastic IPs, route tables and
/// the VPN gateway.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.zones) || !has(self.availabilityZones) || size(self.zones) == self.availabilityZones").message("availabilityZones must equal the number of zones when both are given"))]
#[x_kube(validation = Rule::new("!has(self.topology) || self.topology != 'Private' || (!has(self.publicSubnetCidrs) && (!has(self.natGateways) || self.natGateways == 'None'))").message("the Private topology has no public subnets and no NAT gateways"))]
#[x_kube(validation = Rule::new("has(self.privateSubnetCidrs) == has(self.publicSubnetCidrs) || (has(self.topology) && self.topology != 'PublicAndPrivate')").message("give both privateSubnetCidrs and publicSubnetCidrs, or neither"))]
#[x_kube(validation = Rule::new("has(self.availabilityZones) == has(oldSelf.availabilityZones) && (!has(self.availabilityZones) || self.availabilityZones == oldSelf.availabilityZones)").message("availabilityZones is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead"))]
#[x_kube(validation = Rule::new("has(self.zones) == has(oldSelf.zones) && (!has(self.zones) || self.zones == oldSelf.zones)").message("zones is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead"))]
#[x_kube(validation = Rule::new("has(self.privateSubnetCidrs) == has(oldSelf.privateSubnetCidrs) && (!has(self.privateSubnetCidrs) || self.privateSubnetCidrs == oldSelf.privateSubnetCidrs)").message("privateSubnetCidrs is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead"))]
#[x_kube(validation = Rule::new("has(self.publicSubnetCidrs) == has(oldSelf.publicSubnetCidrs) && (!has(self.publicSubnetCidrs) || self.publicSubnetCidrs == oldSelf.publicSubnetCidrs)").message("publicSubnetCidrs is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead"))]
#[x_kube(validation = Rule::new("has(self.topology) == has(oldSelf.topology) && (!has(self.topology) || self.topology == oldSelf.topology)").message("topology is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead"))]
pub struct NetworkSpec {
    /// Primary IPv4 CIDR of the VPC, from `/16` to `/24`, for example `10.0.0.0/16`. Immutable: AWS cannot
    /// change a VPC's primary CIDR, so a change is refused rather than done by rebuilding the cluster. DNS
    /// support and DNS hostnames are always enabled on the VPC, as EKS requires.
    #[schemars(pattern(crate::patterns::IPV4_CIDR))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("vpcCidr is immutable: AWS cannot change a VPC's primary CIDR"))]
    pub vpc_cidr: String,

    /// Number of availability zones to spread the subnets over (2 to 6, default 3). The operator takes the
    /// region's first available zones by name and records them in status, so they never move. Immutable once
    /// the object exists (setting or removing it counts as a change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 6))]
    pub availability_zones: Option<u8>,

    /// Names the availability zones instead of counting them, for example `[eu-west-1a, eu-west-1b]`. Only for
    /// single-region clusters or together with a `regionOverrides` entry per region, since zone names belong to
    /// one region. Immutable once the object exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 2, max = 6), inner(pattern(crate::patterns::ZONE)))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub zones: Vec<String>,

    /// CIDRs of the private subnets, assigned to the zones in order (round robin when there are more subnets
    /// than zones). Computed from `vpcCidr` when absent. Immutable once the object exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 24), inner(pattern(crate::patterns::IPV4_CIDR)))]
    pub private_subnet_cidrs: Vec<String>,

    /// CIDRs of the public subnets, assigned to the zones in order. Computed from `vpcCidr` when absent.
    /// Immutable once the object exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 24), inner(pattern(crate::patterns::IPV4_CIDR)))]
    pub public_subnet_cidrs: Vec<String>,

    /// Which subnets exist: `PublicAndPrivate` (default; nodes in private subnets, load balancers in public
    /// ones), `Private` (everything private; no internet-facing load balancers) or `Public` (everything,
    /// nodes included, in public subnets). Immutable once the object exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<Topology>")]
    pub topology: Option<Topology>,

    /// NAT gateways for the private subnets' egress: `None`, `Single` (one, in the first zone; the default with
    /// `PublicAndPrivate`) or `OnePerAz` (one per zone, for zone-independent egress). May change: the operator
    /// moves the private subnets to their new route tables, then deletes the NAT gateways, elastic IPs and route
    /// tables that are no longer needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<NatGateways>")]
    pub nat_gateways: Option<NatGateways>,

    /// Whether to create a virtual private gateway attached to the VPC, with route propagation into the
    /// private route tables. Default false. May change: turning it off detaches and deletes the gateway.
    #[serde(default)]
    pub vpn_gateway: bool,
}

/// Network fields that differ in one region. Each field given replaces the field of `spec.network`. Once the
/// region is built its VPC CIDR and subnets cannot change: a change is reported in the region's status
/// (`VpcCidrImmutable`, `SubnetLayoutImmutable`) and nothing is modified.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkOverride {
    /// Primary IPv4 CIDR of this region's VPC. When it is given without subnet CIDRs, the subnets of this region
    /// are computed from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(crate::patterns::IPV4_CIDR))]
    pub vpc_cidr: Option<String>,
    /// Number of availability zones in this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 6))]
    pub availability_zones: Option<u8>,
    /// Availability zones of this region by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(pattern(crate::patterns::ZONE)))]
    pub zones: Option<Vec<String>>,
    /// Private subnet CIDRs of this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(pattern(crate::patterns::IPV4_CIDR)))]
    pub private_subnet_cidrs: Option<Vec<String>>,
    /// Public subnet CIDRs of this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(pattern(crate::patterns::IPV4_CIDR)))]
    pub public_subnet_cidrs: Option<Vec<String>>,
    /// NAT gateways of this region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::optional_enum::<NatGateways>")]
    pub nat_gateways: Option<NatGateways>,
    /// Whether this region has a VPN gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_gateway: Option<bool>,
}

/// Which subnets a VPC has.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum Topology {
    /// Public and private subnets in every zone; nodes run in the private ones.
    #[default]
    PublicAndPrivate,
    /// Only private subnets; no internet gateway, no NAT.
    Private,
    /// Only public subnets; nodes get public addresses.
    Public,
}

/// How many NAT gateways a VPC has.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum NatGateways {
    /// No NAT gateway: private subnets have no internet egress.
    None,
    /// One NAT gateway in the first zone shared by all private subnets.
    Single,
    /// One NAT gateway per zone; each zone's private subnets use their own.
    OnePerAz,
}

/// How the availability zones of a region are chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ZoneSelection {
    /// The region's first `n` available zones, sorted by name (looked up at reconcile time).
    Count(u8),
    /// These zones, in this order.
    Named(Vec<String>),
}

impl ZoneSelection {
    /// How many zones the selection holds.
    pub fn len(&self) -> usize {
        match self {
            Self::Count(n) => usize::from(*n),
            Self::Named(zones) => zones.len(),
        }
    }

    /// Whether the selection is empty (never true for a validated spec).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Public and private subnet CIDRs of one VPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetLayout {
    /// Private subnets, in zone order.
    pub private: Vec<Ipv4Net>,
    /// Public subnets, in zone order.
    pub public: Vec<Ipv4Net>,
}

/// Computes the subnets of a VPC when the spec does not list them.
///
/// With both tiers, the first half of the VPC is split evenly for the private subnets (nodes and pods need the
/// addresses) and the first half of the second half for the public ones (load balancers and NAT gateways need
/// few). With one tier, the whole VPC is split for it. Zone counts that are not a power of two leave the
/// remaining blocks free for later growth. Fails when the resulting subnets would be smaller than `/28`.
pub fn compute_layout(vpc: Ipv4Net, topology: Topology, zones: u8) -> Result<SubnetLayout, String> {
    let zones = usize::from(zones.max(1));
    let zone_bits = u8::try_from(zones.next_power_of_two().trailing_zeros()).unwrap_or(u8::MAX);
    let split = |block: Ipv4Net, prefix: u8| -> Result<Vec<Ipv4Net>, String> {
        if prefix > SMALLEST_SUBNET_PREFIX {
            return Err(format!(
                "VPC {vpc} is too small for {zones} zones: its subnets would be /{prefix}, smaller than the /28 AWS allows"
            ));
        }
        let subnets = block.subnets(prefix).map_err(|e| e.to_string())?;
        Ok(subnets.take(zones).collect())
    };
    let halves = |net: Ipv4Net| -> Result<(Ipv4Net, Ipv4Net), String> {
        let mut parts = net.subnets(net.prefix_len() + 1).map_err(|e| e.to_string())?;
        match (parts.next(), parts.next()) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(format!("VPC {vpc} cannot be split")),
        }
    };
    match topology {
        Topology::PublicAndPrivate => {
            let (private_half, public_half) = halves(vpc)?;
            let (public_quarter, _) = halves(public_half)?;
            Ok(SubnetLayout {
                private: split(private_half, private_half.prefix_len() + zone_bits)?,
                public: split(public_quarter, public_quarter.prefix_len() + zone_bits)?,
            })
        }
        Topology::Private => Ok(SubnetLayout {
            private: split(vpc, vpc.prefix_len() + zone_bits)?,
            public: Vec::new(),
        }),
        Topology::Public => Ok(SubnetLayout {
            private: Vec::new(),
            public: split(vpc, vpc.prefix_len() + zone_bits)?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn strings(nets: &[Ipv4Net]) -> Vec<String> {
        nets.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn slash16_three_zones() {
        let layout = compute_layout(net("10.0.0.0/16"), Topology::PublicAndPrivate, 3).unwrap();
        assert_eq!(
            strings(&layout.private),
            ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"].map(String::from)
        );
        assert_eq!(
            strings(&layout.public),
            ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"].map(String::from)
        );
    }

    #[test]
    fn layouts_never_overlap_and_stay_inside_the_vpc() {
        for vpc in ["10.0.0.0/16", "172.16.0.0/20", "192.168.10.0/24", "10.200.0.0/17"] {
            for zones in [2u8, 3, 4, 6] {
                for topology in [Topology::PublicAndPrivate, Topology::Private, Topology::Public] {
                    let vpc = net(vpc);
                    let layout = match compute_layout(vpc, topology, zones) {
                        Ok(layout) => layout,
                        Err(e) => {
                            assert!(vpc.prefix_len() >= 23, "{vpc} {zones} {topology:?}: {e}");
                            continue;
                        }
                    };
                    let all: Vec<Ipv4Net> = layout.private.iter().chain(&layout.public).copied().collect();
                    let expected = match topology {
                        Topology::PublicAndPrivate => 2 * usize::from(zones),
                        _ => usize::from(zones),
                    };
                    assert_eq!(all.len(), expected, "{vpc} {zones} {topology:?}");
                    for (i, a) in all.iter().enumerate() {
                        assert!(vpc.contains(a), "{a} outside {vpc}");
                        assert!(a.prefix_len() <= SMALLEST_SUBNET_PREFIX);
                        for b in &all[i + 1..] {
                            assert!(!a.contains(b) && !b.contains(a), "{a} overlaps {b}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn non_slash16_vpcs() {
        let layout = compute_layout(net("172.16.0.0/20"), Topology::PublicAndPrivate, 2).unwrap();
        assert_eq!(
            strings(&layout.private),
            ["172.16.0.0/22", "172.16.4.0/22"].map(String::from)
        );
        assert_eq!(
            strings(&layout.public),
            ["172.16.8.0/23", "172.16.10.0/23"].map(String::from)
        );

        let layout = compute_layout(net("10.1.0.0/16"), Topology::PublicAndPrivate, 4).unwrap();
        assert_eq!(layout.private[3].to_string(), "10.1.96.0/19");
        assert_eq!(layout.public[3].to_string(), "10.1.176.0/20");

        let layout = compute_layout(net("10.0.0.0/16"), Topology::PublicAndPrivate, 6).unwrap();
        assert_eq!(layout.private.len(), 6);
        assert_eq!(layout.private[5].to_string(), "10.0.80.0/20");
        assert_eq!(layout.public[5].to_string(), "10.0.168.0/21");
    }

    #[test]
    fn single_tier_uses_the_whole_vpc() {
        let layout = compute_layout(net("10.0.0.0/16"), Topology::Private, 2).unwrap();
        assert_eq!(
            strings(&layout.private),
            ["10.0.0.0/17", "10.0.128.0/17"].map(String::from)
        );
        assert!(layout.public.is_empty());
        let layout = compute_layout(net("10.0.0.0/16"), Topology::Public, 3).unwrap();
        assert_eq!(layout.public[2].to_string(), "10.0.128.0/18");
    }

    #[test]
    fn too_small_vpc_is_an_error() {
        let err = compute_layout(net("10.0.0.0/24"), Topology::PublicAndPrivate, 6).unwrap_err();
        assert!(err.contains("too small"), "{err}");
        assert!(compute_layout(net("10.0.0.0/24"), Topology::PublicAndPrivate, 2).is_ok());
    }
}
