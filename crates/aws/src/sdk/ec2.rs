//! [`Ec2Api`] on the EC2 SDK client.

use async_trait::async_trait;
use aws_sdk_ec2::config::retry::RetryConfig;
use aws_sdk_ec2::types::{AttributeBooleanValue, DomainType, GatewayType, ResourceType, VpcAttributeName};

use super::ec2_convert::{self as conv, sdk_filters, tag_spec};
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

/// A per-call override that turns the SDK's retries off: for creates without a client token.
fn no_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled())
}

fn missing(operation: &'static str, what: &str) -> AwsError {
    AwsError::Server(ErrorDetail::new(
        operation,
        "IncompleteResponse",
        format!("the response has no {what}"),
    ))
}

fn bool_attr(value: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(value).build()
}

#[async_trait]
impl Ec2Api for SdkEc2 {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<AvailabilityZone>> {
        let out = self
            .client
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

    async fn describe_vpcs(&self, filters: &[Filter]) -> AwsResult<Vec<Vpc>> {
        let out = self
            .client
            .describe_vpcs()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeVpcs"))?;
        Ok(out.vpcs().iter().map(conv::vpc).collect())
    }

    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> AwsResult<bool> {
        let name = match attribute {
            VpcAttribute::DnsSupport => VpcAttributeName::EnableDnsSupport,
            VpcAttribute::DnsHostnames => VpcAttributeName::EnableDnsHostnames,
        };
        let out = self
            .client
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

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
        let out = self
            .client
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_spec(ResourceType::Vpc, tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateVpc"))?;
        out.vpc()
            .map(conv::vpc)
            .ok_or_else(|| missing("CreateVpc", "VPC"))
    }

    async fn modify_vpc_attribute(
        &self,
        vpc_id: &str,
        attribute: VpcAttribute,
        value: bool,
    ) -> AwsResult<()> {
        let request = self.client.modify_vpc_attribute().vpc_id(vpc_id);
        let request = match attribute {
            VpcAttribute::DnsSupport => request.enable_dns_support(bool_attr(value)),
            VpcAttribute::DnsHostnames => request.enable_dns_hostnames(bool_attr(value)),
        };
        request.send().await.map_err(sdk_err("ModifyVpcAttribute"))?;
        Ok(())
    }

    async fn delete_vpc(&self, vpc_id: &str) -> AwsResult<()> {
        self.client
            .delete_vpc()
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err("DeleteVpc"))?;
        Ok(())
    }

    async fn describe_subnets(&self, filters: &[Filter]) -> AwsResult<Vec<Subnet>> {
        let out = self
            .client
            .describe_subnets()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeSubnets"))?;
        Ok(out.subnets().iter().map(conv::subnet).collect())
    }

    async fn create_subnet(&self, request: &CreateSubnet) -> AwsResult<Subnet> {
        let out = self
            .client
            .create_subnet()
            .vpc_id(&request.vpc_id)
            .cidr_block(&request.cidr)
            .availability_zone(&request.zone)
            .tag_specifications(tag_spec(ResourceType::Subnet, &request.tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateSubnet"))?;
        out.subnet()
            .map(conv::subnet)
            .ok_or_else(|| missing("CreateSubnet", "subnet"))
    }

    async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool) -> AwsResult<()> {
        self.client
            .modify_subnet_attribute()
            .subnet_id(subnet_id)
            .map_public_ip_on_launch(bool_attr(value))
            .send()
            .await
            .map_err(sdk_err("ModifySubnetAttribute"))?;
        Ok(())
    }

    async fn delete_subnet(&self, subnet_id: &str) -> AwsResult<()> {
        self.client
            .delete_subnet()
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(sdk_err("DeleteSubnet"))?;
        Ok(())
    }

    async fn describe_internet_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
        let out = self
            .client
            .describe_internet_gateways()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeInternetGateways"))?;
        Ok(out
            .internet_gateways()
            .iter()
            .map(conv::internet_gateway)
            .collect())
    }

    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway> {
        let out = self
            .client
            .create_internet_gateway()
            .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateInternetGateway"))?;
        out.internet_gateway()
            .map(conv::internet_gateway)
            .ok_or_else(|| missing("CreateInternetGateway", "internet gateway"))
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.client
            .attach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err("AttachInternetGateway"))?;
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.client
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err("DetachInternetGateway"))?;
        Ok(())
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> AwsResult<()> {
        self.client
            .delete_internet_gateway()
            .internet_gateway_id(igw_id)
            .send()
            .await
            .map_err(sdk_err("DeleteInternetGateway"))?;
        Ok(())
    }

    async fn describe_vpn_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
        let out = self
            .client
            .describe_vpn_gateways()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeVpnGateways"))?;
        Ok(out.vpn_gateways().iter().map(conv::vpn_gateway).collect())
    }

    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway> {
        let out = self
            .client
            .create_vpn_gateway()
            .r#type(GatewayType::Ipsec1)
            .tag_specifications(tag_spec(ResourceType::VpnGateway, tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateVpnGateway"))?;
        out.vpn_gateway()
            .map(conv::vpn_gateway)
            .ok_or_else(|| missing("CreateVpnGateway", "VPN gateway"))
    }

    async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.client
            .attach_vpn_gateway()
            .vpn_gateway_id(vgw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err("AttachVpnGateway"))?;
        Ok(())
    }

    async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
        self.client
            .detach_vpn_gateway()
            .vpn_gateway_id(vgw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(sdk_err("DetachVpnGateway"))?;
        Ok(())
    }

    async fn delete_vpn_gateway(&self, vgw_id: &str) -> AwsResult<()> {
        self.client
            .delete_vpn_gateway()
            .vpn_gateway_id(vgw_id)
            .send()
            .await
            .map_err(sdk_err("DeleteVpnGateway"))?;
        Ok(())
    }

    async fn describe_addresses(&self, filters: &[Filter]) -> AwsResult<Vec<Address>> {
        let out = self
            .client
            .describe_addresses()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeAddresses"))?;
        Ok(out.addresses().iter().map(conv::address).collect())
    }

    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address> {
        let out = self
            .client
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
            .customize()
            .config_override(no_retry())
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

    async fn disassociate_address(&self, association_id: &str) -> AwsResult<()> {
        self.client
            .disassociate_address()
            .association_id(association_id)
            .send()
            .await
            .map_err(sdk_err("DisassociateAddress"))?;
        Ok(())
    }

    async fn release_address(&self, allocation_id: &str) -> AwsResult<()> {
        self.client
            .release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map_err(sdk_err("ReleaseAddress"))?;
        Ok(())
    }

    async fn describe_nat_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<NatGateway>> {
        let out = self
            .client
            .describe_nat_gateways()
            .set_filter(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeNatGateways"))?;
        Ok(out.nat_gateways().iter().map(conv::nat_gateway).collect())
    }

    async fn create_nat_gateway(&self, request: &CreateNatGateway) -> AwsResult<NatGateway> {
        let out = self
            .client
            .create_nat_gateway()
            .subnet_id(&request.subnet_id)
            .allocation_id(&request.allocation_id)
            .client_token(&request.client_token)
            .tag_specifications(tag_spec(ResourceType::Natgateway, &request.tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateNatGateway"))?;
        out.nat_gateway()
            .map(conv::nat_gateway)
            .ok_or_else(|| missing("CreateNatGateway", "NAT gateway"))
    }

    async fn delete_nat_gateway(&self, nat_id: &str) -> AwsResult<()> {
        self.client
            .delete_nat_gateway()
            .nat_gateway_id(nat_id)
            .send()
            .await
            .map_err(sdk_err("DeleteNatGateway"))?;
        Ok(())
    }

    async fn describe_route_tables(&self, filters: &[Filter]) -> AwsResult<Vec<RouteTable>> {
        let out = self
            .client
            .describe_route_tables()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeRouteTables"))?;
        Ok(out.route_tables().iter().map(conv::route_table).collect())
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable> {
        let out = self
            .client
            .create_route_table()
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateRouteTable"))?;
        out.route_table()
            .map(conv::route_table)
            .ok_or_else(|| missing("CreateRouteTable", "route table"))
    }

    async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId) -> AwsResult<()> {
        let request = self
            .client
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

    async fn replace_route(
        &self,
        table_id: &str,
        destination: &str,
        target: &RouteTargetId,
    ) -> AwsResult<()> {
        let request = self
            .client
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

    async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> AwsResult<String> {
        let out = self
            .client
            .associate_route_table()
            .route_table_id(table_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(sdk_err("AssociateRouteTable"))?;
        Ok(out.association_id().unwrap_or_default().to_owned())
    }

    async fn disassociate_route_table(&self, association_id: &str) -> AwsResult<()> {
        self.client
            .disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .map_err(sdk_err("DisassociateRouteTable"))?;
        Ok(())
    }

    async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str) -> AwsResult<()> {
        self.client
            .enable_vgw_route_propagation()
            .route_table_id(table_id)
            .gateway_id(vgw_id)
            .send()
            .await
            .map_err(sdk_err("EnableVgwRoutePropagation"))?;
        Ok(())
    }

    async fn delete_route_table(&self, table_id: &str) -> AwsResult<()> {
        self.client
            .delete_route_table()
            .route_table_id(table_id)
            .send()
            .await
            .map_err(sdk_err("DeleteRouteTable"))?;
        Ok(())
    }

    async fn describe_security_groups(&self, filters: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
        let out = self
            .client
            .describe_security_groups()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeSecurityGroups"))?;
        Ok(out.security_groups().iter().map(conv::security_group).collect())
    }

    async fn create_security_group(&self, request: &CreateSecurityGroup) -> AwsResult<String> {
        let out = self
            .client
            .create_security_group()
            .vpc_id(&request.vpc_id)
            .group_name(&request.name)
            .description(&request.description)
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, &request.tags))
            .customize()
            .config_override(no_retry())
            .send()
            .await
            .map_err(sdk_err("CreateSecurityGroup"))?;
        out.group_id()
            .map(str::to_owned)
            .ok_or_else(|| missing("CreateSecurityGroup", "group id"))
    }

    async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        let permissions = Some(conv::permissions(rules));
        match direction {
            Direction::Ingress => {
                self.client
                    .authorize_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(sdk_err("AuthorizeSecurityGroupIngress"))?;
            }
            Direction::Egress => {
                self.client
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

    async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()> {
        let permissions = Some(conv::permissions(rules));
        match direction {
            Direction::Ingress => {
                self.client
                    .revoke_security_group_ingress()
                    .group_id(group_id)
                    .set_ip_permissions(permissions)
                    .send()
                    .await
                    .map_err(sdk_err("RevokeSecurityGroupIngress"))?;
            }
            Direction::Egress => {
                self.client
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

    async fn delete_security_group(&self, group_id: &str) -> AwsResult<()> {
        self.client
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(sdk_err("DeleteSecurityGroup"))?;
        Ok(())
    }

    async fn describe_network_interfaces(&self, filters: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
        let out = self
            .client
            .describe_network_interfaces()
            .set_filters(sdk_filters(filters))
            .send()
            .await
            .map_err(sdk_err("DescribeNetworkInterfaces"))?;
        Ok(out
            .network_interfaces()
            .iter()
            .map(conv::network_interface)
            .collect())
    }

    async fn delete_network_interface(&self, eni_id: &str) -> AwsResult<()> {
        self.client
            .delete_network_interface()
            .network_interface_id(eni_id)
            .send()
            .await
            .map_err(sdk_err("DeleteNetworkInterface"))?;
        Ok(())
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
