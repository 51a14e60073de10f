//! EC2 calls on route tables: routes, subnet associations, VPN gateway route propagation.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::ResourceType;

use super::{missing, refused_only};
use crate::error::AwsResult;
use crate::sdk::ec2_convert::{self as conv, sdk_filters, tag_spec};
use crate::sdk::sdk_err;
use crate::types::*;

/// `DescribeRouteTables`.
pub(super) async fn describe_route_tables(client: &Client, filters: &[Filter]) -> AwsResult<Vec<RouteTable>> {
    let items = client
        .describe_route_tables()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeRouteTables"))?;
    Ok(items.iter().map(conv::route_table).collect())
}

/// `CreateRouteTable` with tags, without SDK retries.
pub(super) async fn create_route_table(client: &Client, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable> {
    let out = client
        .create_route_table()
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_route_table::CreateRouteTableError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateRouteTable"))?;
    out.route_table()
        .map(conv::route_table)
        .ok_or_else(|| missing("CreateRouteTable", "route table"))
}

/// `CreateRoute` to an internet/VPN gateway or a NAT gateway.
pub(super) async fn create_route(
    client: &Client,
    table_id: &str,
    destination: &str,
    target: &RouteTargetId,
) -> AwsResult<()> {
    let request = client
        .create_route()
        .route_table_id(table_id)
        .destination_cidr_block(destination);
    let request = match target {
        RouteTargetId::Gateway(id) => request.gateway_id(id),
        RouteTargetId::NatGateway(id) => request.nat_gateway_id(id),
    };
    request.send().await.map_err(sdk_err("CreateRoute"))?;
    Ok(())
}

/// `DeleteRoute` of one IPv4 destination.
pub(super) async fn delete_route(client: &Client, table_id: &str, destination: &str) -> AwsResult<()> {
    client
        .delete_route()
        .route_table_id(table_id)
        .destination_cidr_block(destination)
        .send()
        .await
        .map_err(sdk_err("DeleteRoute"))?;
    Ok(())
}

/// `ReplaceRoute` to an internet/VPN gateway or a NAT gateway.
pub(super) async fn replace_route(
    client: &Client,
    table_id: &str,
    destination: &str,
    target: &RouteTargetId,
) -> AwsResult<()> {
    let request = client
        .replace_route()
        .route_table_id(table_id)
        .destination_cidr_block(destination);
    let request = match target {
        RouteTargetId::Gateway(id) => request.gateway_id(id),
        RouteTargetId::NatGateway(id) => request.nat_gateway_id(id),
    };
    request.send().await.map_err(sdk_err("ReplaceRoute"))?;
    Ok(())
}

/// `AssociateRouteTable`; returns the association id.
pub(super) async fn associate_route_table(
    client: &Client,
    table_id: &str,
    subnet_id: &str,
) -> AwsResult<String> {
    let out = client
        .associate_route_table()
        .route_table_id(table_id)
        .subnet_id(subnet_id)
        .send()
        .await
        .map_err(sdk_err("AssociateRouteTable"))?;
    Ok(out.association_id().unwrap_or_default().to_owned())
}

/// `DisassociateRouteTable`.
pub(super) async fn disassociate_route_table(client: &Client, association_id: &str) -> AwsResult<()> {
    client
        .disassociate_route_table()
        .association_id(association_id)
        .send()
        .await
        .map_err(sdk_err("DisassociateRouteTable"))?;
    Ok(())
}

/// `EnableVgwRoutePropagation`.
pub(super) async fn enable_vgw_route_propagation(
    client: &Client,
    table_id: &str,
    vgw_id: &str,
) -> AwsResult<()> {
    client
        .enable_vgw_route_propagation()
        .route_table_id(table_id)
        .gateway_id(vgw_id)
        .send()
        .await
        .map_err(sdk_err("EnableVgwRoutePropagation"))?;
    Ok(())
}

/// `DeleteRouteTable`.
pub(super) async fn delete_route_table(client: &Client, table_id: &str) -> AwsResult<()> {
    client
        .delete_route_table()
        .route_table_id(table_id)
        .send()
        .await
        .map_err(sdk_err("DeleteRouteTable"))?;
    Ok(())
}
