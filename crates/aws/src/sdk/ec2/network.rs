//! EC2 calls on VPCs, subnets, internet gateways and VPN gateways, and the region's availability zones.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttributeBooleanValue, GatewayType, ResourceType, VpcAttributeName};

use super::{missing, refused_only};
use crate::error::AwsResult;
use crate::sdk::ec2_convert::{self as conv, sdk_filters, tag_spec};
use crate::sdk::sdk_err;
use crate::types::*;

/// An SDK boolean attribute value.
fn bool_attr(value: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(value).build()
}

/// `DescribeAvailabilityZones` (a zone without a type counts as `availability-zone`).
pub(super) async fn describe_availability_zones(client: &Client) -> AwsResult<Vec<AvailabilityZone>> {
    let out = client
        .describe_availability_zones()
        .send()
        .await
        .map_err(sdk_err("DescribeAvailabilityZones"))?;
    Ok(out
        .availability_zones()
        .iter()
        .map(|z| AvailabilityZone {
            name: z.zone_name().unwrap_or_default().to_owned(),
            state: z.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            zone_type: z.zone_type().unwrap_or("availability-zone").to_owned(),
        })
        .collect())
}

/// `DescribeVpcs`.
pub(super) async fn describe_vpcs(client: &Client, filters: &[Filter]) -> AwsResult<Vec<Vpc>> {
    let items = client
        .describe_vpcs()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeVpcs"))?;
    Ok(items.iter().map(conv::vpc).collect())
}

/// `DescribeVpcAttribute` for one boolean attribute (absent reads as `false`).
pub(super) async fn describe_vpc_attribute(
    client: &Client,
    vpc_id: &str,
    attribute: VpcAttribute,
) -> AwsResult<bool> {
    let name = match attribute {
        VpcAttribute::DnsSupport => VpcAttributeName::EnableDnsSupport,
        VpcAttribute::DnsHostnames => VpcAttributeName::EnableDnsHostnames,
    };
    let out = client
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(name)
        .send()
        .await
        .map_err(sdk_err("DescribeVpcAttribute"))?;
    let value = match attribute {
        VpcAttribute::DnsSupport => out.enable_dns_support(),
        VpcAttribute::DnsHostnames => out.enable_dns_hostnames(),
    };
    Ok(value.and_then(|v| v.value()).unwrap_or(false))
}

/// `CreateVpc` with tags, without SDK retries.
pub(super) async fn create_vpc(client: &Client, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
    let out = client
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tag_spec(ResourceType::Vpc, tags))
        .customize()
        .config_override(refused_only::<aws_sdk_ec2::operation::create_vpc::CreateVpcError>())
        .send()
        .await
        .map_err(sdk_err("CreateVpc"))?;
    out.vpc()
        .map(conv::vpc)
        .ok_or_else(|| missing("CreateVpc", "VPC"))
}

/// `ModifyVpcAttribute` for one boolean attribute.
pub(super) async fn modify_vpc_attribute(
    client: &Client,
    vpc_id: &str,
    attribute: VpcAttribute,
    value: bool,
) -> AwsResult<()> {
    let request = client.modify_vpc_attribute().vpc_id(vpc_id);
    let request = match attribute {
        VpcAttribute::DnsSupport => request.enable_dns_support(bool_attr(value)),
        VpcAttribute::DnsHostnames => request.enable_dns_hostnames(bool_attr(value)),
    };
    request.send().await.map_err(sdk_err("ModifyVpcAttribute"))?;
    Ok(())
}

/// `DeleteVpc`.
pub(super) async fn delete_vpc(client: &Client, vpc_id: &str) -> AwsResult<()> {
    client
        .delete_vpc()
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(sdk_err("DeleteVpc"))?;
    Ok(())
}

/// `DescribeSubnets`.
pub(super) async fn describe_subnets(client: &Client, filters: &[Filter]) -> AwsResult<Vec<Subnet>> {
    let items = client
        .describe_subnets()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeSubnets"))?;
    Ok(items.iter().map(conv::subnet).collect())
}

/// `CreateSubnet` with tags, without SDK retries.
pub(super) async fn create_subnet(client: &Client, request: &CreateSubnet) -> AwsResult<Subnet> {
    let out = client
        .create_subnet()
        .vpc_id(&request.vpc_id)
        .cidr_block(&request.cidr)
        .availability_zone(&request.zone)
        .tag_specifications(tag_spec(ResourceType::Subnet, &request.tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_subnet::CreateSubnetError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateSubnet"))?;
    out.subnet()
        .map(conv::subnet)
        .ok_or_else(|| missing("CreateSubnet", "subnet"))
}

/// `ModifySubnetAttribute` `MapPublicIpOnLaunch`.
pub(super) async fn set_map_public_ip_on_launch(
    client: &Client,
    subnet_id: &str,
    value: bool,
) -> AwsResult<()> {
    client
        .modify_subnet_attribute()
        .subnet_id(subnet_id)
        .map_public_ip_on_launch(bool_attr(value))
        .send()
        .await
        .map_err(sdk_err("ModifySubnetAttribute"))?;
    Ok(())
}

/// `DeleteSubnet`.
pub(super) async fn delete_subnet(client: &Client, subnet_id: &str) -> AwsResult<()> {
    client
        .delete_subnet()
        .subnet_id(subnet_id)
        .send()
        .await
        .map_err(sdk_err("DeleteSubnet"))?;
    Ok(())
}

/// `DescribeInternetGateways`.
pub(super) async fn describe_internet_gateways(
    client: &Client,
    filters: &[Filter],
) -> AwsResult<Vec<InternetGateway>> {
    let items = client
        .describe_internet_gateways()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeInternetGateways"))?;
    Ok(items.iter().map(conv::internet_gateway).collect())
}

/// `CreateInternetGateway` with tags, without SDK retries.
pub(super) async fn create_internet_gateway(client: &Client, tags: &Tags) -> AwsResult<InternetGateway> {
    let out = client
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_internet_gateway::CreateInternetGatewayError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateInternetGateway"))?;
    out.internet_gateway()
        .map(conv::internet_gateway)
        .ok_or_else(|| missing("CreateInternetGateway", "internet gateway"))
}

/// `AttachInternetGateway`.
pub(super) async fn attach_internet_gateway(client: &Client, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
    client
        .attach_internet_gateway()
        .internet_gateway_id(igw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(sdk_err("AttachInternetGateway"))?;
    Ok(())
}

/// `DetachInternetGateway`.
pub(super) async fn detach_internet_gateway(client: &Client, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
    client
        .detach_internet_gateway()
        .internet_gateway_id(igw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(sdk_err("DetachInternetGateway"))?;
    Ok(())
}

/// `DeleteInternetGateway`.
pub(super) async fn delete_internet_gateway(client: &Client, igw_id: &str) -> AwsResult<()> {
    client
        .delete_internet_gateway()
        .internet_gateway_id(igw_id)
        .send()
        .await
        .map_err(sdk_err("DeleteInternetGateway"))?;
    Ok(())
}

/// `DescribeVpnGateways`.
pub(super) async fn describe_vpn_gateways(client: &Client, filters: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
    let out = client
        .describe_vpn_gateways()
        .set_filters(sdk_filters(filters))
        .send()
        .await
        .map_err(sdk_err("DescribeVpnGateways"))?;
    Ok(out.vpn_gateways().iter().map(conv::vpn_gateway).collect())
}

/// `CreateVpnGateway` (`ipsec.1`) with tags, without SDK retries.
pub(super) async fn create_vpn_gateway(client: &Client, tags: &Tags) -> AwsResult<VpnGateway> {
    let out = client
        .create_vpn_gateway()
        .r#type(GatewayType::Ipsec1)
        .tag_specifications(tag_spec(ResourceType::VpnGateway, tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_vpn_gateway::CreateVpnGatewayError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateVpnGateway"))?;
    out.vpn_gateway()
        .map(conv::vpn_gateway)
        .ok_or_else(|| missing("CreateVpnGateway", "VPN gateway"))
}

/// `AttachVpnGateway`.
pub(super) async fn attach_vpn_gateway(client: &Client, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
    client
        .attach_vpn_gateway()
        .vpn_gateway_id(vgw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(sdk_err("AttachVpnGateway"))?;
    Ok(())
}

/// `DetachVpnGateway`.
pub(super) async fn detach_vpn_gateway(client: &Client, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
    client
        .detach_vpn_gateway()
        .vpn_gateway_id(vgw_id)
        .vpc_id(vpc_id)
        .send()
        .await
        .map_err(sdk_err("DetachVpnGateway"))?;
    Ok(())
}

/// `DeleteVpnGateway`.
pub(super) async fn delete_vpn_gateway(client: &Client, vgw_id: &str) -> AwsResult<()> {
    client
        .delete_vpn_gateway()
        .vpn_gateway_id(vgw_id)
        .send()
        .await
        .map_err(sdk_err("DeleteVpnGateway"))?;
    Ok(())
}
