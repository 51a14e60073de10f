//! EC2 calls on security groups and their rules, and on network interfaces.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::ResourceType;

use super::{missing, refused_only};
use crate::error::AwsResult;
use crate::sdk::ec2_convert::{self as conv, sdk_filters, tag_spec};
use crate::sdk::sdk_err;
use crate::types::*;

/// `DescribeSecurityGroups`.
pub(super) async fn describe_security_groups(
    client: &Client,
    filters: &[Filter],
) -> AwsResult<Vec<SecurityGroup>> {
    let items = client
        .describe_security_groups()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeSecurityGroups"))?;
    Ok(items.iter().map(conv::security_group).collect())
}

/// `CreateSecurityGroup` with tags, without SDK retries; returns the group id.
pub(super) async fn create_security_group(
    client: &Client,
    request: &CreateSecurityGroup,
) -> AwsResult<String> {
    let out = client
        .create_security_group()
        .vpc_id(&request.vpc_id)
        .group_name(&request.name)
        .description(&request.description)
        .tag_specifications(tag_spec(ResourceType::SecurityGroup, &request.tags))
        .customize()
        .config_override(refused_only::<
            aws_sdk_ec2::operation::create_security_group::CreateSecurityGroupError,
        >())
        .send()
        .await
        .map_err(sdk_err("CreateSecurityGroup"))?;
    out.group_id()
        .map(str::to_owned)
        .ok_or_else(|| missing("CreateSecurityGroup", "group id"))
}

/// `AuthorizeSecurityGroupIngress` or `AuthorizeSecurityGroupEgress`.
pub(super) async fn authorize_rules(
    client: &Client,
    group_id: &str,
    direction: Direction,
    rules: &[SgRule],
) -> AwsResult<()> {
    let permissions = Some(conv::permissions(rules));
    match direction {
        Direction::Ingress => {
            client
                .authorize_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(sdk_err("AuthorizeSecurityGroupIngress"))?;
        }
        Direction::Egress => {
            client
                .authorize_security_group_egress()
                .group_id(group_id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(sdk_err("AuthorizeSecurityGroupEgress"))?;
        }
    }
    Ok(())
}

/// `RevokeSecurityGroupIngress` or `RevokeSecurityGroupEgress`.
pub(super) async fn revoke_rules(
    client: &Client,
    group_id: &str,
    direction: Direction,
    rules: &[SgRule],
) -> AwsResult<()> {
    let permissions = Some(conv::permissions(rules));
    match direction {
        Direction::Ingress => {
            client
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(sdk_err("RevokeSecurityGroupIngress"))?;
        }
        Direction::Egress => {
            client
                .revoke_security_group_egress()
                .group_id(group_id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map_err(sdk_err("RevokeSecurityGroupEgress"))?;
        }
    }
    Ok(())
}

/// `DeleteSecurityGroup`.
pub(super) async fn delete_security_group(client: &Client, group_id: &str) -> AwsResult<()> {
    client
        .delete_security_group()
        .group_id(group_id)
        .send()
        .await
        .map_err(sdk_err("DeleteSecurityGroup"))?;
    Ok(())
}

/// `DescribeNetworkInterfaces`.
pub(super) async fn describe_network_interfaces(
    client: &Client,
    filters: &[Filter],
) -> AwsResult<Vec<NetworkInterface>> {
    let items = client
        .describe_network_interfaces()
        .set_filters(sdk_filters(filters))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(sdk_err("DescribeNetworkInterfaces"))?;
    Ok(items.iter().map(conv::network_interface).collect())
}

/// `DeleteNetworkInterface`.
pub(super) async fn delete_network_interface(client: &Client, eni_id: &str) -> AwsResult<()> {
    client
        .delete_network_interface()
        .network_interface_id(eni_id)
        .send()
        .await
        .map_err(sdk_err("DeleteNetworkInterface"))?;
    Ok(())
}
