//! The fake EC2 of one region.
//!
//! [`FakeEc2`] implements [`Ec2Api`] by running each call under the state lock; the calls themselves are
//! plain functions on the region's state, grouped by resource: [`network`] (VPCs, subnets, gateways),
//! [`addresses`] (elastic IPs, NAT gateways), [`routing`] (route tables), [`security`] (security groups,
//! network interfaces).

mod addresses;
mod network;
mod routing;
mod security;

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::Shared;
use super::store::{RegionState, not_found};
use crate::api::Ec2Api;
use crate::error::AwsResult;
use crate::types::*;

/// The EC2 of one region of the fake.
pub(crate) struct FakeEc2(pub(crate) Shared);

/// The values of `map` that `keep` accepts, among `candidates` when the owner index gave some.
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
    /// Runs `f` on this region's state and the id counter, under the lock.
    fn with<T>(&self, f: impl FnOnce(&mut RegionState, &mut u64) -> AwsResult<T>) -> AwsResult<T> {
        let mut state = self.0.lock();
        let mut next = state.next_id;
        let result = f(state.region(&self.0.region), &mut next);
        state.next_id = next;
        result
    }
}

/// A fresh resource id: the prefix and 17 hex digits of the counter.
fn new_id(next: &mut u64, prefix: &str) -> String {
    *next += 1;
    format!("{prefix}-{:017x}", *next)
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
        self.with(|r, _| network::describe_vpcs(r, f))
    }

    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> AwsResult<bool> {
        self.with(|r, _| network::describe_vpc_attribute(r, vpc_id, attribute))
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
        self.with(|r, next| network::create_vpc(r, next, cidr, tags))
    }

    async fn modify_vpc_attribute(
        &self,
        vpc_id: &str,
        attribute: VpcAttribute,
        value: bool,
    ) -> AwsResult<()> {
        self.with(|r, _| network::modify_vpc_attribute(r, vpc_id, attribute, value))
    }

    async fn delete_vpc(&self, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::delete_vpc(r, vpc_id))
    }

    async fn describe_subnets(&self, f: &[Filter]) -> AwsResult<Vec<Subnet>> {
        self.with(|r, _| network::describe_subnets(r, f))
    }

    async fn create_subnet(&self, q: &CreateSubnet) -> AwsResult<Subnet> {
        self.with(|r, next| network::create_subnet(r, next, q))
    }

    async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool) -> AwsResult<()> {
        self.with(|r, _| network::set_map_public_ip_on_launch(r, subnet_id, value))
    }

    async fn delete_subnet(&self, subnet_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::delete_subnet(r, subnet_id))
    }

    async fn describe_internet_gateways(&self, f: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
        self.with(|r, _| network::describe_internet_gateways(r, f))
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway> {
        self.with(|r, next| network::create_internet_gateway(r, next, tags))
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::attach_internet_gateway(r, igw_id, vpc_id))
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::detach_internet_gateway(r, igw_id, vpc_id))
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::delete_internet_gateway(r, igw_id))
    }

    async fn describe_vpn_gateways(&self, f: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
        self.with(|r, _| network::describe_vpn_gateways(r, f))
    }

    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway> {
        self.with(|r, next| network::create_vpn_gateway(r, next, tags))
    }

    async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::attach_vpn_gateway(r, vgw_id, vpc_id))
    }

    async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::detach_vpn_gateway(r, vgw_id, vpc_id))
    }

    async fn delete_vpn_gateway(&self, vgw_id: &str) -> AwsResult<()> {
        self.with(|r, _| network::delete_vpn_gateway(r, vgw_id))
    }

    async fn describe_addresses(&self, f: &[Filter]) -> AwsResult<Vec<Address>> {
        self.with(|r, _| addresses::describe_addresses(r, f))
    }

    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address> {
        self.with(|r, next| addresses::allocate_address(r, next, tags))
    }

    async fn disassociate_address(&self, association_id: &str) -> AwsResult<()> {
        self.with(|r, _| addresses::disassociate_address(r, association_id))
    }

    async fn release_address(&self, allocation_id: &str) -> AwsResult<()> {
        self.with(|r, _| addresses::release_address(r, allocation_id))
    }

    async fn describe_nat_gateways(&self, f: &[Filter]) -> AwsResult<Vec<NatGateway>> {
        let settle = self.0.config.settle_after;
        self.with(|r, _| addresses::describe_nat_gateways(r, settle, f))
    }

    async fn create_nat_gateway(&self, q: &CreateNatGateway) -> AwsResult<NatGateway> {
        self.with(|r, next| addresses::create_nat_gateway(r, next, q))
    }

    async fn delete_nat_gateway(&self, nat_id: &str) -> AwsResult<()> {
        self.with(|r, _| addresses::delete_nat_gateway(r, nat_id))
    }

    async fn describe_route_tables(&self, f: &[Filter]) -> AwsResult<Vec<RouteTable>> {
        self.with(|r, _| routing::describe_route_tables(r, f))
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable> {
        self.with(|r, next| routing::create_route_table(r, next, vpc_id, tags))
    }

    async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId) -> AwsResult<()> {
        self.with(|r, _| routing::create_route(r, table_id, destination, target))
    }

    async fn replace_route(
        &self,
        table_id: &str,
        destination: &str,
        target: &RouteTargetId,
    ) -> AwsResult<()> {
        self.with(|r, _| routing::replace_route(r, table_id, destination, target))
    }

    async fn delete_route(&self, table_id: &str, destination: &str) -> AwsResult<()> {
        self.with(|r, _| routing::delete_route(r, table_id, destination))
    }

    async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> AwsResult<String> {
        self.with(|r, next| routing::associate_route_table(r, next, table_id, subnet_id))
    }

    async fn disassociate_route_table(&self, association_id: &str) -> AwsResult<()> {
        self.with(|r, _| routing::disassociate_route_table(r, association_id))
    }

    async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str) -> AwsResult<()> {
        self.with(|r, _| routing::enable_vgw_route_propagation(r, table_id, vgw_id))
    }

    async fn delete_route_table(&self, table_id: &str) -> AwsResult<()> {
        self.with(|r, _| routing::delete_route_table(r, table_id))
    }

    async fn describe_security_groups(&self, f: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
        self.with(|r, _| security::describe_security_groups(r, f))
    }

    async fn create_security_group(&self, q: &CreateSecurityGroup) -> AwsResult<String> {
        self.with(|r, next| security::create_security_group(r, next, q))
    }

    async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        self.with(|r, _| security::authorize_rules(r, group_id, direction, rules))
    }

    async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        self.with(|r, _| security::revoke_rules(r, group_id, direction, rules))
    }

    async fn delete_security_group(&self, group_id: &str) -> AwsResult<()> {
        self.with(|r, _| security::delete_security_group(r, group_id))
    }

    async fn describe_network_interfaces(&self, f: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
        self.with(|r, _| security::describe_network_interfaces(r, f))
    }

    async fn delete_network_interface(&self, eni_id: &str) -> AwsResult<()> {
        self.with(|r, _| security::delete_network_interface(r, eni_id))
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
