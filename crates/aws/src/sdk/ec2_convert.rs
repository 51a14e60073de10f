//! Conversions between EC2 SDK types and our domain types.

use aws_sdk_ec2::types as sdk;

use crate::types::*;

pub(super) fn tags_of(tags: &[sdk::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect()
}

pub(super) fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn tag_spec(resource: sdk::ResourceType, tags: &Tags) -> sdk::TagSpecification {
    sdk::TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(sdk_tags(tags)))
        .build()
}

pub(super) fn sdk_filters(filters: &[Filter]) -> Option<Vec<sdk::Filter>> {
    if filters.is_empty() {
        return None;
    }
    Some(
        filters
            .iter()
            .map(|f| {
                sdk::Filter::builder()
                    .name(&f.name)
                    .set_values(Some(f.values.clone()))
                    .build()
            })
            .collect(),
    )
}

fn s(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

pub(super) fn vpc(v: &sdk::Vpc) -> Vpc {
    Vpc {
        id: s(v.vpc_id()),
        cidr: s(v.cidr_block()),
        state: v.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn subnet(v: &sdk::Subnet) -> Subnet {
    Subnet {
        id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        cidr: s(v.cidr_block()),
        zone: s(v.availability_zone()),
        map_public_ip_on_launch: v.map_public_ip_on_launch().unwrap_or(false),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn internet_gateway(v: &sdk::InternetGateway) -> InternetGateway {
    InternetGateway {
        id: s(v.internet_gateway_id()),
        attached_vpcs: v
            .attachments()
            .iter()
            .filter_map(|a| a.vpc_id().map(str::to_owned))
            .collect(),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn vpn_gateway(v: &sdk::VpnGateway) -> VpnGateway {
    VpnGateway {
        id: s(v.vpn_gateway_id()),
        state: v.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        attachments: v
            .vpc_attachments()
            .iter()
            .map(|a| {
                (
                    s(a.vpc_id()),
                    a.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                )
            })
            .collect(),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn address(v: &sdk::Address) -> Address {
    Address {
        allocation_id: s(v.allocation_id()),
        association_id: v.association_id().map(str::to_owned),
        public_ip: s(v.public_ip()),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn nat_gateway(v: &sdk::NatGateway) -> NatGateway {
    NatGateway {
        id: s(v.nat_gateway_id()),
        subnet_id: s(v.subnet_id()),
        state: v.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        allocation_ids: v
            .nat_gateway_addresses()
            .iter()
            .filter_map(|a| a.allocation_id().map(str::to_owned))
            .collect(),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn route_table(v: &sdk::RouteTable) -> RouteTable {
    RouteTable {
        id: s(v.route_table_id()),
        vpc_id: s(v.vpc_id()),
        routes: v
            .routes()
            .iter()
            .filter_map(|r| {
                let destination = r.destination_cidr_block()?.to_owned();
                let target = match (r.gateway_id(), r.nat_gateway_id()) {
                    (_, Some(nat)) => Some(RouteTargetId::NatGateway(nat.to_owned())),
                    (Some(gw), None) => Some(RouteTargetId::Gateway(gw.to_owned())),
                    (None, None) => None,
                };
                Some(Route {
                    destination,
                    target,
                    state: r.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    origin: r.origin().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                })
            })
            .collect(),
        associations: v
            .associations()
            .iter()
            .map(|a| RouteTableAssociation {
                id: s(a.route_table_association_id()),
                subnet_id: a.subnet_id().map(str::to_owned),
                main: a.main().unwrap_or(false),
            })
            .collect(),
        propagating_vgws: v
            .propagating_vgws()
            .iter()
            .filter_map(|p| p.gateway_id().map(str::to_owned))
            .collect(),
        tags: tags_of(v.tags()),
    }
}

/// One SDK permission can carry several peers; ours carry one each.
fn rules_of(permissions: &[sdk::IpPermission]) -> Vec<SgRule> {
    let mut rules = Vec::new();
    for p in permissions {
        let protocol = s(p.ip_protocol());
        let all = protocol == "-1";
        let from_port = if all { -1 } else { p.from_port().unwrap_or(-1) };
        let to_port = if all { -1 } else { p.to_port().unwrap_or(-1) };
        let rule = |peer, description: Option<&str>| SgRule {
            protocol: protocol.clone(),
            from_port,
            to_port,
            peer,
            description: description.map(str::to_owned),
        };
        for range in p.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                rules.push(rule(SgPeer::Cidr(cidr.to_owned()), range.description()));
            }
        }
        for pair in p.user_id_group_pairs() {
            if let Some(group) = pair.group_id() {
                rules.push(rule(SgPeer::Group(group.to_owned()), pair.description()));
            }
        }
    }
    rules
}

pub(super) fn permissions(rules: &[SgRule]) -> Vec<sdk::IpPermission> {
    rules
        .iter()
        .map(|r| {
            let mut p = sdk::IpPermission::builder().ip_protocol(&r.protocol);
            if r.protocol != "-1" {
                p = p.from_port(r.from_port).to_port(r.to_port);
            }
            match &r.peer {
                SgPeer::Cidr(cidr) => p.ip_ranges(
                    sdk::IpRange::builder()
                        .cidr_ip(cidr)
                        .set_description(r.description.clone())
                        .build(),
                ),
                SgPeer::Group(group) => p.user_id_group_pairs(
                    sdk::UserIdGroupPair::builder()
                        .group_id(group)
                        .set_description(r.description.clone())
                        .build(),
                ),
            }
            .build()
        })
        .collect()
}

pub(super) fn security_group(v: &sdk::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: s(v.group_id()),
        name: s(v.group_name()),
        vpc_id: s(v.vpc_id()),
        ingress: rules_of(v.ip_permissions()),
        egress: rules_of(v.ip_permissions_egress()),
        tags: tags_of(v.tags()),
    }
}

pub(super) fn network_interface(v: &sdk::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        id: s(v.network_interface_id()),
        status: v.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        description: s(v.description()),
        subnet_id: s(v.subnet_id()),
        security_group_ids: v
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect(),
    }
}
