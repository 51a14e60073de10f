//! VPC, subnets, gateways and route tables of one region.

use eks_api::{ClusterId, NatGateways, ResolvedNetwork, SubnetTier, Topology};
use ipnet::Ipv4Net;

use crate::model::{
    GatewayPlan, NatGatewayPlan, RoutePlan, RouteTablePlan, RouteTarget, SubnetPlan, VpcPlan,
};
use crate::tags::{self, Tags, resource_tags};

/// The network part of a region plan.
pub(crate) struct NetworkPlan {
    pub vpc: VpcPlan,
    pub subnets: Vec<SubnetPlan>,
    pub internet_gateway: Option<GatewayPlan>,
    pub nat_gateways: Vec<NatGatewayPlan>,
    pub route_tables: Vec<RouteTablePlan>,
    pub vpn_gateway: Option<GatewayPlan>,
}

/// The default route's destination.
pub(crate) fn anywhere() -> Ipv4Net {
    Ipv4Net::default()
}

/// Builds the network of one region from its resolved settings and its zones.
pub(crate) fn plan_network(
    id: &ClusterId,
    network: &ResolvedNetwork,
    zones: &[String],
    user_tags: &Tags,
    ownership: &Tags,
) -> NetworkPlan {
    let shared = (tags::kubernetes_cluster_key(id), "shared".to_owned());
    let vpc_name = id.to_string();
    let vpc = VpcPlan {
        name: vpc_name.clone(),
        cidr: network.vpc_cidr,
        enable_dns_support: true,
        enable_dns_hostnames: true,
        tags: resource_tags(user_tags, ownership, "vpc", &vpc_name, [shared.clone()]),
    };

    let mut subnets = Vec::new();
    for (tier, cidrs) in [
        (SubnetTier::Private, &network.layout.private),
        (SubnetTier::Public, &network.layout.public),
    ] {
        let several_per_zone = cidrs.len() > zones.len();
        for (i, cidr) in cidrs.iter().enumerate() {
            let zone = zones[i % zones.len()].clone();
            let key = format!("{}-{i}", tier.as_str());
            let name = if several_per_zone {
                format!("{id}-{}-{zone}-{i}", tier.as_str())
            } else {
                format!("{id}-{}-{zone}", tier.as_str())
            };
            let role = match tier {
                SubnetTier::Public => tags::ROLE_ELB,
                SubnetTier::Private => tags::ROLE_INTERNAL_ELB,
            };
            let tags = resource_tags(
                user_tags,
                ownership,
                &format!("subnet/{key}"),
                &name,
                [shared.clone(), (role.to_owned(), "1".to_owned())],
            );
            subnets.push(SubnetPlan {
                key,
                name,
                cidr: *cidr,
                zone,
                tier,
                map_public_ip_on_launch: tier == SubnetTier::Public,
                tags,
            });
        }
    }

    let has_public = subnets.iter().any(|s| s.tier == SubnetTier::Public);
    let internet_gateway = has_public.then(|| {
        let name = format!("{id}-igw");
        GatewayPlan {
            tags: resource_tags(user_tags, ownership, "internet-gateway", &name, []),
            name,
        }
    });
    let vpn_gateway = network.vpn_gateway.then(|| {
        let name = format!("{id}-vgw");
        GatewayPlan {
            tags: resource_tags(user_tags, ownership, "vpn-gateway", &name, []),
            name,
        }
    });

    let nat_zones: Vec<&String> = match (network.nat_gateways, network.topology) {
        (_, Topology::Private | Topology::Public) | (NatGateways::None, _) => Vec::new(),
        (NatGateways::Single, Topology::PublicAndPrivate) => zones.iter().take(1).collect(),
        (NatGateways::OnePerAz, Topology::PublicAndPrivate) => zones.iter().collect(),
    };
    let nat_gateways: Vec<NatGatewayPlan> = nat_zones
        .into_iter()
        .filter_map(|zone| {
            let subnet = subnets
                .iter()
                .find(|s| s.tier == SubnetTier::Public && &s.zone == zone)?;
            let key = format!("nat-{zone}");
            let name = format!("{id}-nat-{zone}");
            let eip_name = format!("{id}-eip-{zone}");
            Some(NatGatewayPlan {
                tags: resource_tags(user_tags, ownership, &format!("nat/{key}"), &name, []),
                eip_tags: resource_tags(user_tags, ownership, &format!("eip/{key}"), &eip_name, []),
                key,
                name,
                zone: zone.clone(),
                subnet_key: subnet.key.clone(),
                eip_name,
            })
        })
        .collect();

    let route_tables = plan_route_tables(id, &subnets, &nat_gateways, network, user_tags, ownership);
    NetworkPlan {
        vpc,
        subnets,
        internet_gateway,
        nat_gateways,
        route_tables,
        vpn_gateway,
    }
}

fn plan_route_tables(
    id: &ClusterId,
    subnets: &[SubnetPlan],
    nat_gateways: &[NatGatewayPlan],
    network: &ResolvedNetwork,
    user_tags: &Tags,
    ownership: &Tags,
) -> Vec<RouteTablePlan> {
    let keys_of = |tier: SubnetTier, zone: Option<&str>| -> Vec<String> {
        subnets
            .iter()
            .filter(|s| s.tier == tier && zone.is_none_or(|z| s.zone == z))
            .map(|s| s.key.clone())
            .collect()
    };
    let table = |key: String, routes: Vec<RoutePlan>, subnet_keys: Vec<String>, propagate: bool| {
        let name = format!("{id}-{key}");
        RouteTablePlan {
            tags: resource_tags(user_tags, ownership, &format!("route-table/{key}"), &name, []),
            key,
            name,
            routes,
            subnet_keys,
            propagate_vpn_gateway: propagate,
        }
    };
    let mut tables = Vec::new();
    let public = keys_of(SubnetTier::Public, None);
    if !public.is_empty() {
        let routes = vec![RoutePlan {
            destination: anywhere(),
            target: RouteTarget::InternetGateway,
        }];
        tables.push(table("public".to_owned(), routes, public, false));
    }
    let private = keys_of(SubnetTier::Private, None);
    if private.is_empty() {
        return tables;
    }
    let propagate = network.vpn_gateway;
    if nat_gateways.len() > 1 {
        // One table per zone, each zone's private subnets leaving through their own NAT gateway.
        for nat in nat_gateways {
            let routes = vec![RoutePlan {
                destination: anywhere(),
                target: RouteTarget::NatGateway { key: nat.key.clone() },
            }];
            let keys = keys_of(SubnetTier::Private, Some(&nat.zone));
            tables.push(table(format!("private-{}", nat.zone), routes, keys, propagate));
        }
    } else {
        let routes = nat_gateways
            .iter()
            .map(|nat| RoutePlan {
                destination: anywhere(),
                target: RouteTarget::NatGateway { key: nat.key.clone() },
            })
            .collect();
        tables.push(table("private".to_owned(), routes, private, propagate));
    }
    tables
}
