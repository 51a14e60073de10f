//! EC2 calls on elastic IPs and NAT gateways.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{DomainType, ResourceType};

use super::{missing, refused_only};
use crate::error::AwsResult;
use crate::sdk::ec2_convert::{self as conv, sdk_filters, tag_spec};
use crate::sdk::sdk_err;
use crate::types::*;

/// `DescribeAddresses`.
pub(super) async fn describe_addresses(client: &Client, filters: &[Filter]) -> AwsResult<Vec<Address>> {
    let out = client
        .describe_addresses()
        .set_filters(sdk_filters(filters))
        .send()
        .await
        .map_err(sdk_err("DescribeAddresses"))?;
    Ok(out.addresses().iter().map(conv::address).collect())
}

/// `AllocateAddress` in the VPC domain with tags, without SDK retries.
pub(super) async fn allocate_address(client: &Client, tags: &Tags) -> AwsResult<Address> {
    let out = client
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::allocate_address::AllocateAddressError,
        >())
        .send()
        .await
        .map_err(sdk_err("AllocateAddress"))?;
    Ok(Address {
        allocation_id: out
            .allocation_id()
            .ok_or_else(|| missing("AllocateAddress", "allocation id"))?
            .to_owned(),
        association_id: None,
        public_ip: out.public_ip().unwrap_or_default().to_owned(),
        tags: tags.clone(),
    })
}

/// `DisassociateAddress`.
pub(super) async fn disassociate_address(client: &Client, association_id: &str) -> AwsResult<()> {
    client
        .disassociate_address()
        .association_id(association_id)
        .send()
        .await
        .map_err(sdk_err("DisassociateAddress"))?;
    Ok(())
}

/// `ReleaseAddress`.
pub(super) async fn release_address(client: &Client, allocation_id: &str) -> AwsResult<()> {
    client
        .release_address()
        .allocation_id(allocation_id)
        .send()
        .await
        .map_err(sdk_err("ReleaseAddress"))?;
    Ok(())
}

/// `DescribeNatGateways`.
pub(super) async fn describe_nat_gateways(client: &Client, filters: &[Filter]) -> AwsResult<Vec<NatGateway>> {
    let items = client
        .describe_nat_gateways()
        .set_filter(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeNatGateways"))?;
    Ok(items.iter().map(conv::nat_gateway).collect())
}

/// `CreateNatGateway` with a client token and tags, without SDK retries.
pub(super) async fn create_nat_gateway(client: &Client, request: &CreateNatGateway) -> AwsResult<NatGateway> {
    let out = client
        .create_nat_gateway()
        .subnet_id(&request.subnet_id)
        .allocation_id(&request.allocation_id)
        .client_token(&request.client_token)
        .tag_specifications(tag_spec(ResourceType::Natgateway, &request.tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateNatGateway"))?;
    out.nat_gateway()
        .map(conv::nat_gateway)
        .ok_or_else(|| missing("CreateNatGateway", "NAT gateway"))
}

/// `DeleteNatGateway`.
pub(super) async fn delete_nat_gateway(client: &Client, nat_id: &str) -> AwsResult<()> {
    client
        .delete_nat_gateway()
        .nat_gateway_id(nat_id)
        .send()
        .await
        .map_err(sdk_err("DeleteNatGateway"))?;
    Ok(())
}
