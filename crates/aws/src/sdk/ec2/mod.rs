//! [`Ec2Api`] on the EC2 SDK client.
//!
//! [`SdkEc2`] hands each call to a function of the submodule of its resources: [`network`] (availability
//! zones, VPCs, subnets, gateways), [`addresses`] (elastic IPs, NAT gateways), [`routing`] (route tables),
//! [`security`] (security groups, network interfaces).

mod addresses;
mod network;
mod routing;
mod security;

use async_trait::async_trait;

use super::ec2_convert as conv;
use super::retry::RefusedOnly;
use super::sdk_err;
use crate::api::Ec2Api;
use crate::error::{AwsError, AwsResult, ErrorDetail};
use crate::types::*;

/// The EC2 client of one region.
#[derive(Clone, Debug)]
pub struct SdkEc2 {
    client: aws_sdk_ec2::Client,
}

impl SdkEc2 {
    /// Wraps an SDK client.
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }
}

/// A per-call override for the calls declared [`Lost::Ambiguous`](crate::declare::Lost::Ambiguous) (creates
/// without a respected client token): the SDK retries only what AWS refused before running it.
fn refused_only<E>() -> aws_sdk_ec2::config::Builder
where
    E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + Send + Sync + 'static,
{
    aws_sdk_ec2::config::Builder::default().retry_classifier(RefusedOnly::<E>::new())
}

/// The error for a response that lacks `what`.
fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::Server(ErrorDetail::new(
        operation,
        "IncompleteResponse",
        format!("the response has no {what}"),
    ))
}

#[async_trait]
impl Ec2Api for SdkEc2 {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<AvailabilityZone>> {
        network::describe_availability_zones(&self.client).await
    }

    async fn describe_vpcs(&self, filters: &[Filter]) -> AwsResult<Vec<Vpc>> {
        network::describe_vpcs(&self.client, filters).await
    }

    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> AwsResult<bool> {
        network::describe_vpc_attribute(&self.client, vpc_id, attribute).await
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
        network::create_vpc(&self.client, cidr, tags).await
    }

    async fn modify_vpc_attribute(
        &self,
        vpc_id: &str,
        attribute: VpcAttribute,
        value: bool,
    ) -> AwsResult<()> {
        network::modify_vpc_attribute(&self.client, vpc_id, attribute, value).await
    }

    async fn delete_vpc(&self, vpc_id: &str) -> AwsResult<()> {
        network::delete_vpc(&self.client, vpc_id).await
    }

    async fn describe_subnets(&self, filters: &[Filter]) -> AwsResult<Vec<Subnet>> {
        network::describe_subnets(&self.client, filters).await
    }

    async fn create_subnet(&self, request: &CreateSubnet) -> AwsResult<Subnet> {
        network::create_subnet(&self.client, request).await
    }

    async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool) -> AwsResult<()> {
        network::set_map_public_ip_on_launch(&self.client, subnet_id, value).await
    }

    async fn delete_subnet(&self, subnet_id: &str) -> AwsResult<()> {
        network::delete_subnet(&self.client, subnet_id).await
    }

    async fn describe_internet_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
        network::describe_internet_gateways(&self.client, filters).await
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway> {
        network::create_internet_gateway(&self.client, tags).await
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        network::attach_internet_gateway(&self.client, igw_id, vpc_id).await
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        network::detach_internet_gateway(&self.client, igw_id, vpc_id).await
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> AwsResult<()> {
        network::delete_internet_gateway(&self.client, igw_id).await
    }

    async fn describe_vpn_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
        network::describe_vpn_gateways(&self.client, filters).await
    }

    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway> {
        network::create_vpn_gateway(&self.client, tags).await
    }

    async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        network::attach_vpn_gateway(&self.client, vgw_id, vpc_id).await
    }

    async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        network::detach_vpn_gateway(&self.client, vgw_id, vpc_id).await
    }

    async fn delete_vpn_gateway(&self, vgw_id: &str) -> AwsResult<()> {
        network::delete_vpn_gateway(&self.client, vgw_id).await
    }

    async fn describe_addresses(&self, filters: &[Filter]) -> AwsResult<Vec<Address>> {
        addresses::describe_addresses(&self.client, filters).await
    }

    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address> {
        addresses::allocate_address(&self.client, tags).await
    }

    async fn disassociate_address(&self, association_id: &str) -> AwsResult<()> {
        addresses::disassociate_address(&self.client, association_id).await
    }

    async fn release_address(&self, allocation_id: &str) -> AwsResult<()> {
        addresses::release_address(&self.client, allocation_id).await
    }

    async fn describe_nat_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<NatGateway>> {
        addresses::describe_nat_gateways(&self.client, filters).await
    }

    async fn create_nat_gateway(&self, request: &CreateNatGateway) -> AwsResult<NatGateway> {
        addresses::create_nat_gateway(&self.client, request).await
    }

    async fn delete_nat_gateway(&self, nat_id: &str) -> AwsResult<()> {
        addresses::delete_nat_gateway(&self.client, nat_id).await
    }

    async fn describe_route_tables(&self, filters: &[Filter]) -> AwsResult<Vec<RouteTable>> {
        routing::describe_route_tables(&self.client, filters).await
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable> {
        routing::create_route_table(&self.client, vpc_id, tags).await
    }

    async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId) -> AwsResult<()> {
        routing::create_route(&self.client, table_id, destination, target).await
    }

    async fn replace_route(
        &self,
        table_id: &str,
        destination: &str,
        target: &RouteTargetId,
    ) -> AwsResult<()> {
        routing::replace_route(&self.client, table_id, destination, target).await
    }

    async fn delete_route(&self, table_id: &str, destination: &str) -> AwsResult<()> {
        routing::delete_route(&self.client, table_id, destination).await
    }

    async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> AwsResult<String> {
        routing::associate_route_table(&self.client, table_id, subnet_id).await
    }

    async fn disassociate_route_table(&self, association_id: &str) -> AwsResult<()> {
        routing::disassociate_route_table(&self.client, association_id).await
    }

    async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str) -> AwsResult<()> {
        routing::enable_vgw_route_propagation(&self.client, table_id, vgw_id).await
    }

    async fn delete_route_table(&self, table_id: &str) -> AwsResult<()> {
        routing::delete_route_table(&self.client, table_id).await
    }

    async fn describe_security_groups(&self, filters: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
        security::describe_security_groups(&self.client, filters).await
    }

    async fn create_security_group(&self, request: &CreateSecurityGroup) -> AwsResult<String> {
        security::create_security_group(&self.client, request).await
    }

    async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        security::authorize_rules(&self.client, group_id, direction, rules).await
    }

    async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        security::revoke_rules(&self.client, group_id, direction, rules).await
    }

    async fn delete_security_group(&self, group_id: &str) -> AwsResult<()> {
        security::delete_security_group(&self.client, group_id).await
    }

    async fn describe_network_interfaces(&self, filters: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
        security::describe_network_interfaces(&self.client, filters).await
    }

    async fn delete_network_interface(&self, eni_id: &str) -> AwsResult<()> {
        security::delete_network_interface(&self.client, eni_id).await
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> AwsResult<()> {
        self.client
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(conv::sdk_tags(tags)))
            .send()
            .await
            .map_err(sdk_err("CreateTags"))?;
        Ok(())
    }
}
