//! One narrow trait per AWS service with only the calls the operator makes.
//!
//! Implemented on the SDK clients ([`crate::sdk`]), on the in-memory fake ([`crate::fake`]) and on the
//! [`crate::instrument::Instrumented`] wrapper that counts calls and injects faults. The traits are object
//! safe (`async_trait`), so a [`crate::RegionClients`] holds `Arc<dyn ...>` and tests swap implementations.

use async_trait::async_trait;

use crate::error::AwsResult;
use crate::types::*;

/// The EC2 calls of the operator.
#[async_trait]
pub trait Ec2Api: Send + Sync {
    /// `DescribeAvailabilityZones` (all zones of the region).
    async fn describe_availability_zones(&self) -> AwsResult<Vec<AvailabilityZone>>;
    /// `DescribeVpcs`.
    async fn describe_vpcs(&self, filters: &[Filter]) -> AwsResult<Vec<Vpc>>;
    /// `DescribeVpcAttribute` for one boolean attribute.
    async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> AwsResult<bool>;
    /// `CreateVpc` with tags. Never retried by the SDK: a lost response is re-observed by tag.
    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc>;
    /// `ModifyVpcAttribute` for one boolean attribute.
    async fn modify_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute, value: bool)
    -> AwsResult<()>;
    /// `DeleteVpc`.
    async fn delete_vpc(&self, vpc_id: &str) -> AwsResult<()>;

    /// `DescribeSubnets`.
    async fn describe_subnets(&self, filters: &[Filter]) -> AwsResult<Vec<Subnet>>;
    /// `CreateSubnet` with tags. Never retried by the SDK.
    async fn create_subnet(&self, request: &CreateSubnet) -> AwsResult<Subnet>;
    /// `ModifySubnetAttribute` `MapPublicIpOnLaunch`.
    async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool) -> AwsResult<()>;
    /// `DeleteSubnet`.
    async fn delete_subnet(&self, subnet_id: &str) -> AwsResult<()>;

    /// `DescribeInternetGateways`.
    async fn describe_internet_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<InternetGateway>>;
    /// `CreateInternetGateway` with tags. Never retried by the SDK.
    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway>;
    /// `AttachInternetGateway`.
    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()>;
    /// `DetachInternetGateway`.
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> AwsResult<()>;
    /// `DeleteInternetGateway`.
    async fn delete_internet_gateway(&self, igw_id: &str) -> AwsResult<()>;

    /// `DescribeVpnGateways`.
    async fn describe_vpn_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<VpnGateway>>;
    /// `CreateVpnGateway` (`ipsec.1`) with tags. Never retried by the SDK.
    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway>;
    /// `AttachVpnGateway`.
    async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()>;
    /// `DetachVpnGateway`.
    async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str) -> AwsResult<()>;
    /// `DeleteVpnGateway`.
    async fn delete_vpn_gateway(&self, vgw_id: &str) -> AwsResult<()>;

    /// `DescribeAddresses`.
    async fn describe_addresses(&self, filters: &[Filter]) -> AwsResult<Vec<Address>>;
    /// `AllocateAddress` (VPC domain) with tags. Never retried by the SDK.
    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address>;
    /// `DisassociateAddress`.
    async fn disassociate_address(&self, association_id: &str) -> AwsResult<()>;
    /// `ReleaseAddress`.
    async fn release_address(&self, allocation_id: &str) -> AwsResult<()>;

    /// `DescribeNatGateways`.
    async fn describe_nat_gateways(&self, filters: &[Filter]) -> AwsResult<Vec<NatGateway>>;
    /// `CreateNatGateway` with a client token and tags. Never retried by the SDK (emulators ignore tokens).
    async fn create_nat_gateway(&self, request: &CreateNatGateway) -> AwsResult<NatGateway>;
    /// `DeleteNatGateway`.
    async fn delete_nat_gateway(&self, nat_id: &str) -> AwsResult<()>;

    /// `DescribeRouteTables`.
    async fn describe_route_tables(&self, filters: &[Filter]) -> AwsResult<Vec<RouteTable>>;
    /// `CreateRouteTable` with tags. Never retried by the SDK.
    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> AwsResult<RouteTable>;
    /// `CreateRoute`.
    async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId) -> AwsResult<()>;
    /// `ReplaceRoute`.
    async fn replace_route(&self, table_id: &str, destination: &str, target: &RouteTargetId)
    -> AwsResult<()>;
    /// `DeleteRoute` of one destination.
    async fn delete_route(&self, table_id: &str, destination: &str) -> AwsResult<()>;
    /// `AssociateRouteTable`; returns the association id.
    async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> AwsResult<String>;
    /// `DisassociateRouteTable`.
    async fn disassociate_route_table(&self, association_id: &str) -> AwsResult<()>;
    /// `EnableVgwRoutePropagation`.
    async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str) -> AwsResult<()>;
    /// `DeleteRouteTable`.
    async fn delete_route_table(&self, table_id: &str) -> AwsResult<()>;

    /// `DescribeSecurityGroups`.
    async fn describe_security_groups(&self, filters: &[Filter]) -> AwsResult<Vec<SecurityGroup>>;
    /// `CreateSecurityGroup` with tags; returns the group id. Never retried by the SDK.
    async fn create_security_group(&self, request: &CreateSecurityGroup) -> AwsResult<String>;
    /// `AuthorizeSecurityGroupIngress` / `AuthorizeSecurityGroupEgress`.
    async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()>;
    /// `RevokeSecurityGroupIngress` / `RevokeSecurityGroupEgress`.
    async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) -> AwsResult<()>;
    /// `DeleteSecurityGroup`.
    async fn delete_security_group(&self, group_id: &str) -> AwsResult<()>;

    /// `DescribeNetworkInterfaces`.
    async fn describe_network_interfaces(&self, filters: &[Filter]) -> AwsResult<Vec<NetworkInterface>>;
    /// `DeleteNetworkInterface`.
    async fn delete_network_interface(&self, eni_id: &str) -> AwsResult<()>;

    /// `CreateTags` (adds or overwrites).
    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> AwsResult<()>;
}

/// The IAM calls of the operator. IAM is global: the same store serves every region.
#[async_trait]
pub trait IamApi: Send + Sync {
    /// `GetRole`; `None` when there is no such role.
    async fn get_role(&self, name: &str) -> AwsResult<Option<Role>>;
    /// `CreateRole` with its trust policy and tags.
    async fn create_role(&self, name: &str, trust_policy: &serde_json::Value, tags: &Tags)
    -> AwsResult<Role>;
    /// `UpdateAssumeRolePolicy`.
    async fn update_assume_role_policy(&self, name: &str, trust_policy: &serde_json::Value) -> AwsResult<()>;
    /// `TagRole`.
    async fn tag_role(&self, name: &str, tags: &Tags) -> AwsResult<()>;
    /// `ListAttachedRolePolicies`: the policy ARNs.
    async fn list_attached_role_policies(&self, name: &str) -> AwsResult<Vec<String>>;
    /// `AttachRolePolicy`.
    async fn attach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()>;
    /// `DetachRolePolicy`.
    async fn detach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()>;
    /// `DeleteRole`.
    async fn delete_role(&self, name: &str) -> AwsResult<()>;

    /// `ListOpenIDConnectProviders`: the provider ARNs.
    async fn list_oidc_providers(&self) -> AwsResult<Vec<String>>;
    /// `GetOpenIDConnectProvider`; `None` when there is no such provider.
    async fn get_oidc_provider(&self, arn: &str) -> AwsResult<Option<OidcProvider>>;
    /// `CreateOpenIDConnectProvider`; returns the ARN.
    async fn create_oidc_provider(&self, request: &CreateOidcProvider) -> AwsResult<String>;
    /// `AddClientIDToOpenIDConnectProvider`.
    async fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> AwsResult<()>;
    /// `TagOpenIDConnectProvider`.
    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> AwsResult<()>;
    /// `DeleteOpenIDConnectProvider`.
    async fn delete_oidc_provider(&self, arn: &str) -> AwsResult<()>;
}

/// The EKS calls of the operator.
#[async_trait]
pub trait EksApi: Send + Sync {
    /// `DescribeCluster`; `None` when there is no such cluster.
    async fn describe_cluster(&self, name: &str) -> AwsResult<Option<Cluster>>;
    /// `CreateCluster` with a client request token.
    async fn create_cluster(&self, request: &CreateCluster) -> AwsResult<Cluster>;
    /// `UpdateClusterConfig`; returns the update id.
    async fn update_cluster_config(&self, name: &str, update: &ClusterConfigUpdate) -> AwsResult<String>;
    /// `UpdateClusterVersion`; returns the update id.
    async fn update_cluster_version(&self, name: &str, version: &str) -> AwsResult<String>;
    /// `TagResource` (cluster or node group ARN).
    async fn tag_resource(&self, arn: &str, tags: &Tags) -> AwsResult<()>;
    /// `DeleteCluster`.
    async fn delete_cluster(&self, name: &str) -> AwsResult<()>;
    /// `ListNodegroups`.
    async fn list_nodegroups(&self, cluster: &str) -> AwsResult<Vec<String>>;
    /// `DescribeNodegroup`; `None` when there is no such node group.
    async fn describe_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<Option<Nodegroup>>;
    /// `CreateNodegroup` with a client request token.
    async fn create_nodegroup(&self, request: &CreateNodegroup) -> AwsResult<Nodegroup>;
    /// `UpdateNodegroupConfig`; returns the update id.
    async fn update_nodegroup_config(
        &self,
        cluster: &str,
        name: &str,
        update: &NodegroupConfigUpdate,
    ) -> AwsResult<String>;
    /// `UpdateNodegroupVersion`; returns the update id.
    async fn update_nodegroup_version(&self, cluster: &str, name: &str, version: &str) -> AwsResult<String>;
    /// `DeleteNodegroup`.
    async fn delete_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<()>;
}

/// The STS calls of the operator.
#[async_trait]
pub trait StsApi: Send + Sync {
    /// `GetCallerIdentity`.
    async fn caller_identity(&self) -> AwsResult<CallerIdentity>;
}
