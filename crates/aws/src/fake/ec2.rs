//! The fake EC2 of one region.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::Shared;
use super::store::{Lifecycle, RegionState, aws_error, matches, not_found, observe};
use crate::api::Ec2Api;
use crate::error::AwsResult;
use crate::types::*;

pub(crate) struct FakeEc2(pub(crate) Shared);

fn select<T: Clone>(
    map: &BTreeMap<String, T>,
    candidates: Option<Vec<String>>,
    keep: impl Fn(&T) -> bool,
) -> Vec<T> {
    match candidates {
        Some(ids) => ids
            .iter()
            .filter_map(|id| map.get(id))
            .filter(|x| keep(x))
            .cloned()
            .collect(),
        None => map.values().filter(|x| keep(x)).cloned().collect(),
    }
}

impl FakeEc2 {
    fn with<T>(&self, f: impl FnOnce(&mut RegionState, &mut u64) -> AwsResult<T>) -> AwsResult<T> {
        let mut state = self.0.lock();
        let mut next = state.next_id;
        let result = f(state.region(&self.0.region), &mut next);
        state.next_id = next;
        result
    }
}

fn new_id(next: &mut u64, prefix: &str) -> String {
    *next += 1;
    format!("{prefix}-{:017x}", *next)
}

fn rule_set(group: &mut SecurityGroup, direction: Direction) -> &mut Vec<SgRule> {
    match direction {
        Direction::Ingress => &mut group.ingress,
        Direction::Egress => &mut group.egress,
    }
}

#[async_trait]
impl Ec2Api for FakeEc2 {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<AvailabilityZone>> {
        let region = &self.0.region;
        let mut zones: Vec<AvailabilityZone> = ["a", "b", "c"]
            .iter()
            .map(|z| AvailabilityZone {
                name: format!("{region}{z}"),
                state: "available".into(),
                zone_type: "availability-zone".into(),
            })
            .collect();
        zones.push(AvailabilityZone {
            name: format!("{region}-lax-1a"),
            state: "available".into(),
            zone_type: "local-zone".into(),
        });
        Ok(zones)
    }

    async fn describe_vpcs(&self, f: &[Filter]) -> AwsResult<Vec<Vpc>> {
        self.with(|r, _| {
            Ok(select(&r.vpcs, r.candidates(f), |v| {
                matches(&v.tags, &[("vpc-id", &v.id)], f)
            }))
        })
    }

    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> AwsResult<bool> {
        self.with(|r, _| {
            let (support, hostnames) = *r
                .dns
                .get(vpc_id)
                .ok_or_else(|| not_found("DescribeVpcAttribute", "InvalidVpcID.NotFound", vpc_id))?;
            Ok(match attribute {
                VpcAttribute::DnsSupport => support,
                VpcAttribute::DnsHostnames => hostnames,
            })
        })
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
        self.with(|r, next| {
            let vpc = Vpc {
                id: new_id(next, "vpc"),
                cidr: cidr.to_owned(),
                state: "available".into(),
                tags: tags.clone(),
            };
            r.index(&vpc.id, tags);
            r.dns.insert(vpc.id.clone(), (true, false));
            r.vpcs.insert(vpc.id.clone(), vpc.clone());
            Ok(vpc)
        })
    }

    async fn modify_vpc_attribute(
        &self,
        vpc_id: &str,
        attribute: VpcAttribute,
        value: bool,
    ) -> AwsResult<()> {
        self.with(|r, _| {
            let entry = r
                .dns
                .get_mut(vpc_id)
                .ok_or_else(|| not_found("ModifyVpcAttribute", "InvalidVpcID.NotFound", vpc_id))?;
            match attribute {
                VpcAttribute::DnsSupport => entry.0 = value,
                VpcAttribute::DnsHostnames => entry.1 = value,
            }
            Ok(())
        })
    }

    async fn delete_vpc(&self, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            if !r.vpcs.contains_key(vpc_id) {
                return Err(not_found("DeleteVpc", "InvalidVpcID.NotFound", vpc_id));
            }
            let used = r.subnets.values().any(|s| s.vpc_id == vpc_id)
                || r.igws
                    .values()
                    .any(|g| g.attached_vpcs.iter().any(|v| v == vpc_id))
                || r.security_groups.values().any(|g| g.vpc_id == vpc_id)
                || r.route_tables.values().any(|t| t.vpc_id == vpc_id);
            if used {
                return Err(aws_error(
                    "DeleteVpc",
                    "DependencyViolation",
                    format!("The vpc '{vpc_id}' has dependencies and cannot be deleted."),
                ));
            }
            r.vpcs.remove(vpc_id);
            Ok(())
        })
    }

    async fn describe_subnets(&self, f: &[Filter]) -> AwsResult<Vec<Subnet>> {
        self.with(|r, _| {
            Ok(select(&r.subnets, r.candidates(f), |s| {
                matches(&s.tags, &[("vpc-id", &s.vpc_id), ("subnet-id", &s.id)], f)
            }))
        })
    }

    async fn create_subnet(&self, q: &CreateSubnet) -> AwsResult<Subnet> {
        self.with(|r, next| {
            if !r.vpcs.contains_key(&q.vpc_id) {
                return Err(not_found("CreateSubnet", "InvalidVpcID.NotFound", &q.vpc_id));
            }
            if r.subnets
                .values()
                .any(|s| s.vpc_id == q.vpc_id && s.cidr == q.cidr)
            {
                return Err(aws_error(
                    "CreateSubnet",
                    "InvalidSubnet.Conflict",
                    format!("The CIDR '{}' conflicts with another subnet", q.cidr),
                ));
            }
            let subnet = Subnet {
                id: new_id(next, "subnet"),
                vpc_id: q.vpc_id.clone(),
                cidr: q.cidr.clone(),
                zone: q.zone.clone(),
                map_public_ip_on_launch: false,
                tags: q.tags.clone(),
            };
            r.index(&subnet.id, &q.tags);
            r.subnets.insert(subnet.id.clone(), subnet.clone());
            Ok(subnet)
        })
    }

    async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool) -> AwsResult<()> {
        self.with(|r, _| {
            let s = r
                .subnets
                .get_mut(subnet_id)
                .ok_or_else(|| not_found("ModifySubnetAttribute", "InvalidSubnetID.NotFound", subnet_id))?;
            s.map_public_ip_on_launch = value;
            Ok(())
        })
    }

    async fn delete_subnet(&self, subnet_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            if !r.subnets.contains_key(subnet_id) {
                return Err(not_found("DeleteSubnet", "InvalidSubnetID.NotFound", subnet_id));
            }
            let used = r
                .nats
                .values()
                .any(|(n, _, _)| n.subnet_id == subnet_id && n.state != "deleted")
                || r.enis.values().any(|(e, _)| e.subnet_id == subnet_id);
            if used {
                return Err(aws_error(
                    "DeleteSubnet",
                    "DependencyViolation",
                    format!("The subnet '{subnet_id}' has dependencies and cannot be deleted."),
                ));
            }
            r.subnets.remove(subnet_id);
            for table in r.route_tables.values_mut() {
                table
                    .associations
                    .retain(|a| a.subnet_id.as_deref() != Some(subnet_id));
            }
            Ok(())
        })
    }

    async fn describe_internet_gateways(&self, f: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
        self.with(|r, _| Ok(select(&r.igws, r.candidates(f), |g| matches(&g.tags, &[], f))))
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway> {
        self.with(|r, next| {
            let igw = InternetGateway {
                id: new_id(next, "igw"),
                attached_vpcs: Vec::new(),
                tags: tags.clone(),
            };
            r.index(&igw.id, tags);
            r.igws.insert(igw.id.clone(), igw.clone());
            Ok(igw)
        })
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r.igws.get_mut(igw_id).ok_or_else(|| {
                not_found(
                    "AttachInternetGateway",
                    "InvalidInternetGatewayID.NotFound",
                    igw_id,
                )
            })?;
            if !g.attached_vpcs.is_empty() {
                return Err(aws_error(
                    "AttachInternetGateway",
                    "Resource.AlreadyAssociated",
                    format!("{igw_id} is already attached"),
                ));
            }
            g.attached_vpcs.push(vpc_id.to_owned());
            Ok(())
        })
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r.igws.get_mut(igw_id).ok_or_else(|| {
                not_found(
                    "DetachInternetGateway",
                    "InvalidInternetGatewayID.NotFound",
                    igw_id,
                )
            })?;
            g.attached_vpcs.retain(|v| v != vpc_id);
            Ok(())
        })
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r.igws.get(igw_id).ok_or_else(|| {
                not_found(
                    "DeleteInternetGateway",
                    "InvalidInternetGatewayID.NotFound",
                    igw_id,
                )
            })?;
            if !g.attached_vpcs.is_empty() {
                return Err(aws_error(
                    "DeleteInternetGateway",
                    "DependencyViolation",
                    format!("{igw_id} is attached"),
                ));
            }
            r.igws.remove(igw_id);
            Ok(())
        })
    }

    async fn describe_vpn_gateways(&self, f: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
        self.with(|r, _| Ok(select(&r.vgws, r.candidates(f), |g| matches(&g.tags, &[], f))))
    }

    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway> {
        self.with(|r, next| {
            let vgw = VpnGateway {
                id: new_id(next, "vgw"),
                state: "available".into(),
                attachments: Vec::new(),
                tags: tags.clone(),
            };
            r.index(&vgw.id, tags);
            r.vgws.insert(vgw.id.clone(), vgw.clone());
            Ok(vgw)
        })
    }

    async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r
                .vgws
                .get_mut(vgw_id)
                .ok_or_else(|| not_found("AttachVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
            g.attachments.retain(|(_, state)| state != "detached");
            g.attachments.push((vpc_id.to_owned(), "attached".into()));
            Ok(())
        })
    }

    async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r
                .vgws
                .get_mut(vgw_id)
                .ok_or_else(|| not_found("DetachVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
            for (vpc, state) in &mut g.attachments {
                if vpc == vpc_id {
                    *state = "detached".into();
                }
            }
            Ok(())
        })
    }

    async fn delete_vpn_gateway(&self, vgw_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r
                .vgws
                .get_mut(vgw_id)
                .ok_or_else(|| not_found("DeleteVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
            if g.attachments.iter().any(|(_, s)| s == "attached") {
                return Err(aws_error(
                    "DeleteVpnGateway",
                    "IncorrectState",
                    format!("{vgw_id} is attached"),
                ));
            }
            g.state = "deleted".into();
            Ok(())
        })
    }

    async fn describe_addresses(&self, f: &[Filter]) -> AwsResult<Vec<Address>> {
        self.with(|r, _| {
            Ok(select(&r.addresses, r.candidates(f), |a| {
                matches(&a.tags, &[], f)
            }))
        })
    }

    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address> {
        self.with(|r, next| {
            let n = *next + 1;
            let eip = Address {
                allocation_id: new_id(next, "eipalloc"),
                association_id: None,
                public_ip: format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff),
                tags: tags.clone(),
            };
            r.index(&eip.allocation_id, tags);
            r.addresses.insert(eip.allocation_id.clone(), eip.clone());
            Ok(eip)
        })
    }

    async fn disassociate_address(&self, association_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            for a in r.addresses.values_mut() {
                if a.association_id.as_deref() == Some(association_id) {
                    a.association_id = None;
                }
            }
            Ok(())
        })
    }

    async fn release_address(&self, allocation_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let a = r
                .addresses
                .get(allocation_id)
                .ok_or_else(|| not_found("ReleaseAddress", "InvalidAllocationID.NotFound", allocation_id))?;
            if a.association_id.is_some() {
                return Err(aws_error(
                    "ReleaseAddress",
                    "InvalidIPAddress.InUse",
                    "the address is associated",
                ));
            }
            r.addresses.remove(allocation_id);
            Ok(())
        })
    }

    async fn describe_nat_gateways(&self, f: &[Filter]) -> AwsResult<Vec<NatGateway>> {
        let settle = self.0.config.settle_after;
        self.with(|r, _| {
            let ids: Vec<String> = r
                .candidates(f)
                .unwrap_or_else(|| r.nats.keys().cloned().collect());
            let mut out = Vec::new();
            for id in ids {
                let Some((nat, life, _)) = r.nats.get_mut(&id) else {
                    continue;
                };
                if !matches(&nat.tags, &[("subnet-id", &nat.subnet_id)], f) {
                    continue;
                }
                if observe(life, settle) {
                    nat.state = life.status.clone();
                    if nat.state == "deleted" {
                        let allocations = nat.allocation_ids.clone();
                        for a in r
                            .addresses
                            .values_mut()
                            .filter(|a| allocations.contains(&a.allocation_id))
                        {
                            a.association_id = None;
                        }
                    }
                }
                if let Some((nat, _, _)) = r.nats.get(&id) {
                    out.push(nat.clone());
                }
            }
            Ok(out)
        })
    }

    async fn create_nat_gateway(&self, q: &CreateNatGateway) -> AwsResult<NatGateway> {
        self.with(|r, next| {
            if let Some((nat, _, _)) = r.nats.values().find(|(_, _, token)| token == &q.client_token) {
                return Ok(nat.clone());
            }
            if !r.subnets.contains_key(&q.subnet_id) {
                return Err(not_found(
                    "CreateNatGateway",
                    "InvalidSubnetID.NotFound",
                    &q.subnet_id,
                ));
            }
            let association = new_id(next, "eipassoc");
            let eip = r.addresses.get_mut(&q.allocation_id).ok_or_else(|| {
                not_found(
                    "CreateNatGateway",
                    "InvalidAllocationID.NotFound",
                    &q.allocation_id,
                )
            })?;
            if eip.association_id.is_some() {
                return Err(aws_error(
                    "CreateNatGateway",
                    "Resource.AlreadyAssociated",
                    "the elastic IP is already associated",
                ));
            }
            eip.association_id = Some(association);
            let nat = NatGateway {
                id: new_id(next, "nat"),
                subnet_id: q.subnet_id.clone(),
                state: "pending".into(),
                allocation_ids: vec![q.allocation_id.clone()],
                tags: q.tags.clone(),
            };
            r.index(&nat.id, &q.tags);
            r.nats.insert(
                nat.id.clone(),
                (nat.clone(), Lifecycle::new("pending"), q.client_token.clone()),
            );
            Ok(nat)
        })
    }

    async fn delete_nat_gateway(&self, nat_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let (nat, life, _) = r
                .nats
                .get_mut(nat_id)
                .ok_or_else(|| not_found("DeleteNatGateway", "NatGatewayNotFound", nat_id))?;
            if nat.is_live() {
                nat.state = "deleting".into();
                *life = Lifecycle::new("deleting");
            }
            Ok(())
        })
    }

    async fn describe_route_tables(&self, f: &[Filter]) -> AwsResult<Vec<RouteTable>> {
        self.with(|r, _| {
            Ok(select(&r.route_tables, r.candidates(f), |t| {
                matches(&t.tags, &[("vpc-id", &t.vpc_id)], f)
            }))
        })
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable> {
        self.with(|r, next| {
            let cidr = r
                .vpcs
                .get(vpc_id)
                .ok_or_else(|| not_found("CreateRouteTable", "InvalidVpcID.NotFound", vpc_id))?
                .cidr
                .clone();
            let table = RouteTable {
                id: new_id(next, "rtb"),
                vpc_id: vpc_id.to_owned(),
                routes: vec![Route {
                    destination: cidr,
                    target: Some(RouteTargetId::Gateway("local".into())),
                    state: "active".into(),
                    origin: "CreateRouteTable".into(),
                }],
                associations: Vec::new(),
                propagating_vgws: Vec::new(),
                tags: tags.clone(),
            };
            r.index(&table.id, tags);
            r.route_tables.insert(table.id.clone(), table.clone());
            Ok(table)
        })
    }

    async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId) -> AwsResult<()> {
        self.with(|r, _| {
            let t = r
                .route_tables
                .get_mut(table_id)
                .ok_or_else(|| not_found("CreateRoute", "InvalidRouteTableID.NotFound", table_id))?;
            if t.routes.iter().any(|x| x.destination == destination) {
                return Err(aws_error(
                    "CreateRoute",
                    "RouteAlreadyExists",
                    format!("route {destination} exists"),
                ));
            }
            t.routes.push(Route {
                destination: destination.to_owned(),
                target: Some(target.clone()),
                state: "active".into(),
                origin: "CreateRoute".into(),
            });
            Ok(())
        })
    }

    async fn replace_route(
        &self,
        table_id: &str,
        destination: &str,
        target: &RouteTargetId,
    ) -> AwsResult<()> {
        self.with(|r, _| {
            let t = r
                .route_tables
                .get_mut(table_id)
                .ok_or_else(|| not_found("ReplaceRoute", "InvalidRouteTableID.NotFound", table_id))?;
            let route = t
                .routes
                .iter_mut()
                .find(|x| x.destination == destination)
                .ok_or_else(|| not_found("ReplaceRoute", "InvalidRoute.NotFound", destination))?;
            route.target = Some(target.clone());
            route.state = "active".into();
            Ok(())
        })
    }

    async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> AwsResult<String> {
        self.with(|r, next| {
            if r.route_tables.values().any(|t| {
                t.associations
                    .iter()
                    .any(|a| a.subnet_id.as_deref() == Some(subnet_id))
            }) {
                return Err(aws_error(
                    "AssociateRouteTable",
                    "Resource.AlreadyAssociated",
                    format!("{subnet_id} is already associated"),
                ));
            }
            let id = new_id(next, "rtbassoc");
            let t = r
                .route_tables
                .get_mut(table_id)
                .ok_or_else(|| not_found("AssociateRouteTable", "InvalidRouteTableID.NotFound", table_id))?;
            t.associations.push(RouteTableAssociation {
                id: id.clone(),
                subnet_id: Some(subnet_id.to_owned()),
                main: false,
            });
            Ok(id)
        })
    }

    async fn disassociate_route_table(&self, association_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            for t in r.route_tables.values_mut() {
                t.associations.retain(|a| a.id != association_id);
            }
            Ok(())
        })
    }

    async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let t = r.route_tables.get_mut(table_id).ok_or_else(|| {
                not_found(
                    "EnableVgwRoutePropagation",
                    "InvalidRouteTableID.NotFound",
                    table_id,
                )
            })?;
            if !t.propagating_vgws.iter().any(|v| v == vgw_id) {
                t.propagating_vgws.push(vgw_id.to_owned());
            }
            Ok(())
        })
    }

    async fn delete_route_table(&self, table_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let t = r
                .route_tables
                .get(table_id)
                .ok_or_else(|| not_found("DeleteRouteTable", "InvalidRouteTableID.NotFound", table_id))?;
            if !t.associations.is_empty() {
                return Err(aws_error(
                    "DeleteRouteTable",
                    "DependencyViolation",
                    format!("{table_id} has associations"),
                ));
            }
            r.route_tables.remove(table_id);
            Ok(())
        })
    }

    async fn describe_security_groups(&self, f: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
        self.with(|r, _| {
            Ok(select(&r.security_groups, r.candidates(f), |g| {
                matches(&g.tags, &[("vpc-id", &g.vpc_id), ("group-name", &g.name)], f)
            }))
        })
    }

    async fn create_security_group(&self, q: &CreateSecurityGroup) -> AwsResult<String> {
        self.with(|r, next| {
            if r.security_groups
                .values()
                .any(|g| g.vpc_id == q.vpc_id && g.name == q.name)
            {
                return Err(aws_error(
                    "CreateSecurityGroup",
                    "InvalidGroup.Duplicate",
                    format!("group {} exists", q.name),
                ));
            }
            let group = SecurityGroup {
                id: new_id(next, "sg"),
                name: q.name.clone(),
                vpc_id: q.vpc_id.clone(),
                ingress: Vec::new(),
                egress: vec![SgRule {
                    protocol: "-1".into(),
                    from_port: -1,
                    to_port: -1,
                    peer: SgPeer::Cidr("0.0.0.0/0".into()),
                    description: None,
                }],
                tags: q.tags.clone(),
            };
            r.index(&group.id, &q.tags);
            let id = group.id.clone();
            r.security_groups.insert(id.clone(), group);
            Ok(id)
        })
    }

    async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r.security_groups.get_mut(group_id).ok_or_else(|| {
                not_found("AuthorizeSecurityGroupIngress", "InvalidGroup.NotFound", group_id)
            })?;
            let set = rule_set(g, direction);
            if rules
                .iter()
                .any(|n| set.iter().any(|o| o.identity() == n.identity()))
            {
                return Err(aws_error(
                    "AuthorizeSecurityGroupIngress",
                    "InvalidPermission.Duplicate",
                    "the rule already exists",
                ));
            }
            set.extend(rules.iter().cloned());
            Ok(())
        })
    }

    async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        self.with(|r, _| {
            let g = r
                .security_groups
                .get_mut(group_id)
                .ok_or_else(|| not_found("RevokeSecurityGroupIngress", "InvalidGroup.NotFound", group_id))?;
            rule_set(g, direction).retain(|o| !rules.iter().any(|n| n.identity() == o.identity()));
            Ok(())
        })
    }

    async fn delete_security_group(&self, group_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            if !r.security_groups.contains_key(group_id) {
                return Err(not_found(
                    "DeleteSecurityGroup",
                    "InvalidGroup.NotFound",
                    group_id,
                ));
            }
            let peer = SgPeer::Group(group_id.to_owned());
            let referenced = r
                .security_groups
                .values()
                .any(|g| g.id != group_id && g.ingress.iter().chain(&g.egress).any(|x| x.peer == peer));
            let in_use = r
                .enis
                .values()
                .any(|(e, _)| e.security_group_ids.iter().any(|s| s == group_id));
            if referenced || in_use {
                return Err(aws_error(
                    "DeleteSecurityGroup",
                    "DependencyViolation",
                    format!("resource {group_id} has a dependent object"),
                ));
            }
            r.security_groups.remove(group_id);
            Ok(())
        })
    }

    async fn describe_network_interfaces(&self, f: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
        self.with(|r, _| {
            Ok(r.enis
                .values()
                .filter(|(e, vpc)| matches(&Tags::new(), &[("vpc-id", vpc), ("subnet-id", &e.subnet_id)], f))
                .map(|(e, _)| e.clone())
                .collect())
        })
    }

    async fn delete_network_interface(&self, eni_id: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let (eni, _) = r.enis.get(eni_id).ok_or_else(|| {
                not_found(
                    "DeleteNetworkInterface",
                    "InvalidNetworkInterfaceID.NotFound",
                    eni_id,
                )
            })?;
            if eni.status == "in-use" {
                return Err(aws_error(
                    "DeleteNetworkInterface",
                    "InvalidNetworkInterface.InUse",
                    "the interface is attached",
                ));
            }
            r.enis.remove(eni_id);
            Ok(())
        })
    }

    async fn create_tags(&self, ids: &[String], tags: &Tags) -> AwsResult<()> {
        self.with(|r, _| {
            for id in ids {
                let target: Option<&mut Tags> = if let Some(x) = r.vpcs.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.subnets.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.igws.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.vgws.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.addresses.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.nats.get_mut(id) {
                    Some(&mut x.0.tags)
                } else if let Some(x) = r.route_tables.get_mut(id) {
                    Some(&mut x.tags)
                } else if let Some(x) = r.security_groups.get_mut(id) {
                    Some(&mut x.tags)
                } else {
                    None
                };
                let target = target.ok_or_else(|| not_found("CreateTags", "InvalidID.NotFound", id))?;
                target.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                r.index(id, tags);
            }
            Ok(())
        })
    }
}
