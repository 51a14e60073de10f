//! One narrow trait per AWS service with only the calls the operator makes, and the declaration of each
//! call's AWS operation next to it (see [`crate::declare`]).
//!
//! A line such as
//!
//! ```text
//! async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str)
//!     { DETACH_INTERNET_GATEWAY = change("DetachInternetGateway").done(&["Gateway.NotAttached", ...]) };
//! ```
//!
//! declares the trait method and its [`Op`](crate::declare::Op): the IAM action `ec2:DetachInternetGateway`
//! granted on what carries the ownership tag, the error codes that mean "already detached" (success), and
//! whether a lost response is ambiguous. The traits are implemented on the SDK clients ([`crate::sdk`]), on
//! the in-memory fake (`fake`, `testing` feature) and on [`Layered`](crate::declare::Layered), which every
//! provider hands out. They are object safe (`async_trait`), so a [`crate::RegionClients`] holds
//! `Arc<dyn ...>`.

use crate::declare::{Grant, change, operations, read};
use crate::types::*;

/// The ownership-tag-conditioned EC2 creates that go into nothing (Sid of their statement).
const EC2_CREATE_TAGGED: &str = "Ec2CreateTagged";
/// The EC2 creates that go into a VPC (Sid of their statement).
const EC2_CREATE_IN_VPC: &str = "Ec2CreateInVpcTagged";
/// Interfaces and addresses AWS made for the operator's resources, without its tag.
const UNOWNED_INTERFACES: Grant = Grant::ChangeOwnedOrUnowned {
    statement: "Ec2UnownedInterfaces",
    resource: "network-interface",
};
/// Security groups load balancer controllers left in the operator's VPC.
const LEFTOVER_GROUPS: Grant = Grant::ChangeOwnedOrUnowned {
    statement: "Ec2DeleteLoadBalancerLeftoverGroups",
    resource: "security-group",
};

operations! {
    /// The EC2 calls of the operator.
    pub trait Ec2Api in ec2: Ec2 {
        /// `DescribeAvailabilityZones` (all zones of the region).
        async fn describe_availability_zones(&self) -> Vec<AvailabilityZone>
            { DESCRIBE_AVAILABILITY_ZONES = read("DescribeAvailabilityZones") };
        /// `DescribeVpcs`, every page.
        async fn describe_vpcs(&self, filters: &[Filter]) -> Vec<Vpc>
            { DESCRIBE_VPCS = read("DescribeVpcs") };
        /// `DescribeVpcAttribute` for one boolean attribute.
        async fn describe_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute) -> bool
            { DESCRIBE_VPC_ATTRIBUTE = read("DescribeVpcAttribute") };
        /// `CreateVpc` with tags. A lost response is re-observed by tag.
        async fn create_vpc(&self, cidr: &str, tags: &Tags) -> Vpc
            { CREATE_VPC = change("CreateVpc").ambiguous()
                .grant(Grant::Ec2Create { creates: "vpc", parents: &[], statement: EC2_CREATE_TAGGED }) };
        /// `ModifyVpcAttribute` for one boolean attribute.
        async fn modify_vpc_attribute(&self, vpc_id: &str, attribute: VpcAttribute, value: bool)
            { MODIFY_VPC_ATTRIBUTE = change("ModifyVpcAttribute").repeatable() };
        /// `DeleteVpc`.
        async fn delete_vpc(&self, vpc_id: &str)
            { DELETE_VPC = change("DeleteVpc").done(&["InvalidVpcID.NotFound"]) };

        /// `DescribeSubnets`, every page.
        async fn describe_subnets(&self, filters: &[Filter]) -> Vec<Subnet>
            { DESCRIBE_SUBNETS = read("DescribeSubnets") };
        /// `CreateSubnet` with tags. A lost response is re-observed by tag.
        async fn create_subnet(&self, request: &CreateSubnet) -> Subnet
            { CREATE_SUBNET = change("CreateSubnet").ambiguous()
                .grant(Grant::Ec2Create { creates: "subnet", parents: &["vpc"], statement: EC2_CREATE_IN_VPC }) };
        /// `ModifySubnetAttribute` `MapPublicIpOnLaunch`.
        async fn set_map_public_ip_on_launch(&self, subnet_id: &str, value: bool)
            { MODIFY_SUBNET_ATTRIBUTE = change("ModifySubnetAttribute").repeatable() };
        /// `DeleteSubnet`.
        async fn delete_subnet(&self, subnet_id: &str)
            { DELETE_SUBNET = change("DeleteSubnet").done(&["InvalidSubnetID.NotFound"]) };

        /// `DescribeInternetGateways`, every page.
        async fn describe_internet_gateways(&self, filters: &[Filter]) -> Vec<InternetGateway>
            { DESCRIBE_INTERNET_GATEWAYS = read("DescribeInternetGateways") };
        /// `CreateInternetGateway` with tags. A lost response is re-observed by tag.
        async fn create_internet_gateway(&self, tags: &Tags) -> InternetGateway
            { CREATE_INTERNET_GATEWAY = change("CreateInternetGateway").ambiguous()
                .grant(Grant::Ec2Create { creates: "internet-gateway", parents: &[], statement: EC2_CREATE_TAGGED }) };
        /// `AttachInternetGateway`. `Resource.AlreadyAssociated` may name another VPC: re-observed.
        async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str)
            { ATTACH_INTERNET_GATEWAY = change("AttachInternetGateway").exists(&["Resource.AlreadyAssociated"]) };
        /// `DetachInternetGateway`.
        async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str)
            { DETACH_INTERNET_GATEWAY = change("DetachInternetGateway")
                .done(&["Gateway.NotAttached", "InvalidInternetGatewayID.NotFound", "InvalidVpcID.NotFound"]) };
        /// `DeleteInternetGateway`.
        async fn delete_internet_gateway(&self, igw_id: &str)
            { DELETE_INTERNET_GATEWAY = change("DeleteInternetGateway").done(&["InvalidInternetGatewayID.NotFound"]) };

        /// `DescribeVpnGateways` (not paged by AWS).
        async fn describe_vpn_gateways(&self, filters: &[Filter]) -> Vec<VpnGateway>
            { DESCRIBE_VPN_GATEWAYS = read("DescribeVpnGateways") };
        /// `CreateVpnGateway` (`ipsec.1`) with tags. A lost response is re-observed by tag.
        async fn create_vpn_gateway(&self, tags: &Tags) -> VpnGateway
            { CREATE_VPN_GATEWAY = change("CreateVpnGateway").ambiguous()
                .grant(Grant::Ec2Create { creates: "vpn-gateway", parents: &[], statement: EC2_CREATE_TAGGED }) };
        /// `AttachVpnGateway`. An existing attachment may be to another VPC: re-observed.
        async fn attach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str)
            { ATTACH_VPN_GATEWAY = change("AttachVpnGateway").exists(&["Resource.AlreadyAssociated"]) };
        /// `DetachVpnGateway`.
        async fn detach_vpn_gateway(&self, vgw_id: &str, vpc_id: &str)
            { DETACH_VPN_GATEWAY = change("DetachVpnGateway").done(&[
                "Gateway.NotAttached",
                "InvalidVpnGatewayAttachment.NotFound",
                "InvalidVpnGatewayID.NotFound",
                "InvalidVpcID.NotFound",
            ]) };
        /// `DeleteVpnGateway`.
        async fn delete_vpn_gateway(&self, vgw_id: &str)
            { DELETE_VPN_GATEWAY = change("DeleteVpnGateway").done(&["InvalidVpnGatewayID.NotFound"]) };

        /// `DescribeAddresses` (not paged by AWS).
        async fn describe_addresses(&self, filters: &[Filter]) -> Vec<Address>
            { DESCRIBE_ADDRESSES = read("DescribeAddresses") };
        /// `AllocateAddress` (VPC domain) with tags. A lost response is re-observed by tag.
        async fn allocate_address(&self, tags: &Tags) -> Address
            { ALLOCATE_ADDRESS = change("AllocateAddress").ambiguous()
                .grant(Grant::Ec2Create { creates: "elastic-ip", parents: &[], statement: EC2_CREATE_TAGGED }) };
        /// `DisassociateAddress`.
        async fn disassociate_address(&self, association_id: &str)
            { DISASSOCIATE_ADDRESS = change("DisassociateAddress")
                .done(&["InvalidAssociationID.NotFound"]).grant(UNOWNED_INTERFACES) };
        /// `ReleaseAddress`.
        async fn release_address(&self, allocation_id: &str)
            { RELEASE_ADDRESS = change("ReleaseAddress").done(&["InvalidAllocationID.NotFound"]) };

        /// `DescribeNatGateways`, every page.
        async fn describe_nat_gateways(&self, filters: &[Filter]) -> Vec<NatGateway>
            { DESCRIBE_NAT_GATEWAYS = read("DescribeNatGateways") };
        /// `CreateNatGateway` with a client token and tags. Ambiguous all the same: emulators ignore the token.
        async fn create_nat_gateway(&self, request: &CreateNatGateway) -> NatGateway
            { CREATE_NAT_GATEWAY = change("CreateNatGateway").ambiguous().grant(Grant::Ec2Create {
                creates: "natgateway",
                parents: &["elastic-ip", "subnet", "vpc"],
                statement: "Ec2CreateNatGatewayTagged",
            }) };
        /// `DeleteNatGateway`.
        async fn delete_nat_gateway(&self, nat_id: &str)
            { DELETE_NAT_GATEWAY = change("DeleteNatGateway").done(&["NatGatewayNotFound"]) };

        /// `DescribeRouteTables`, every page.
        async fn describe_route_tables(&self, filters: &[Filter]) -> Vec<RouteTable>
            { DESCRIBE_ROUTE_TABLES = read("DescribeRouteTables") };
        /// `CreateRouteTable` with tags. A lost response is re-observed by tag.
        async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> RouteTable
            { CREATE_ROUTE_TABLE = change("CreateRouteTable").ambiguous()
                .grant(Grant::Ec2Create { creates: "route-table", parents: &["vpc"], statement: EC2_CREATE_IN_VPC }) };
        /// `CreateRoute`. An existing route may have another target: re-observed.
        async fn create_route(&self, table_id: &str, destination: &str, target: &RouteTargetId)
            { CREATE_ROUTE = change("CreateRoute").exists(&["RouteAlreadyExists"]) };
        /// `ReplaceRoute`.
        async fn replace_route(&self, table_id: &str, destination: &str, target: &RouteTargetId)
            { REPLACE_ROUTE = change("ReplaceRoute").repeatable() };
        /// `DeleteRoute` of one destination.
        async fn delete_route(&self, table_id: &str, destination: &str)
            { DELETE_ROUTE = change("DeleteRoute").done(&["InvalidRoute.NotFound", "InvalidRouteTableID.NotFound"]) };
        /// `AssociateRouteTable`; returns the association id, so an existing one is re-observed.
        async fn associate_route_table(&self, table_id: &str, subnet_id: &str) -> String
            { ASSOCIATE_ROUTE_TABLE = change("AssociateRouteTable").exists(&["Resource.AlreadyAssociated"]) };
        /// `DisassociateRouteTable`.
        async fn disassociate_route_table(&self, association_id: &str)
            { DISASSOCIATE_ROUTE_TABLE = change("DisassociateRouteTable").done(&["InvalidAssociationID.NotFound"]) };
        /// `EnableVgwRoutePropagation`.
        async fn enable_vgw_route_propagation(&self, table_id: &str, vgw_id: &str)
            { ENABLE_VGW_ROUTE_PROPAGATION = change("EnableVgwRoutePropagation").repeatable() };
        /// `DeleteRouteTable`.
        async fn delete_route_table(&self, table_id: &str)
            { DELETE_ROUTE_TABLE = change("DeleteRouteTable").done(&["InvalidRouteTableID.NotFound"]) };

        /// `DescribeSecurityGroups`, every page.
        async fn describe_security_groups(&self, filters: &[Filter]) -> Vec<SecurityGroup>
            { DESCRIBE_SECURITY_GROUPS = read("DescribeSecurityGroups") };
        /// `CreateSecurityGroup` with tags; returns the group id. A lost response is re-observed by tag.
        async fn create_security_group(&self, request: &CreateSecurityGroup) -> String
            { CREATE_SECURITY_GROUP = change("CreateSecurityGroup").ambiguous().exists(&["InvalidGroup.Duplicate"])
                .grant(Grant::Ec2Create { creates: "security-group", parents: &["vpc"], statement: EC2_CREATE_IN_VPC }) };
        /// `AuthorizeSecurityGroupIngress` / `AuthorizeSecurityGroupEgress`.
        async fn authorize_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) {
            AUTHORIZE_SECURITY_GROUP_INGRESS = change("AuthorizeSecurityGroupIngress").done(&["InvalidPermission.Duplicate"]),
            AUTHORIZE_SECURITY_GROUP_EGRESS = change("AuthorizeSecurityGroupEgress").done(&["InvalidPermission.Duplicate"]),
        } by match direction {
            Direction::Ingress => &ec2::AUTHORIZE_SECURITY_GROUP_INGRESS,
            Direction::Egress => &ec2::AUTHORIZE_SECURITY_GROUP_EGRESS,
        };
        /// `RevokeSecurityGroupIngress` / `RevokeSecurityGroupEgress`.
        async fn revoke_rules(&self, group_id: &str, direction: Direction, rules: &[SgRule]) {
            REVOKE_SECURITY_GROUP_INGRESS = change("RevokeSecurityGroupIngress")
                .done(&["InvalidPermission.NotFound", "InvalidGroup.NotFound"]).grant(LEFTOVER_GROUPS),
            REVOKE_SECURITY_GROUP_EGRESS = change("RevokeSecurityGroupEgress")
                .done(&["InvalidPermission.NotFound", "InvalidGroup.NotFound"]).grant(LEFTOVER_GROUPS),
        } by match direction {
            Direction::Ingress => &ec2::REVOKE_SECURITY_GROUP_INGRESS,
            Direction::Egress => &ec2::REVOKE_SECURITY_GROUP_EGRESS,
        };
        /// `DeleteSecurityGroup`.
        async fn delete_security_group(&self, group_id: &str)
            { DELETE_SECURITY_GROUP = change("DeleteSecurityGroup").done(&["InvalidGroup.NotFound"]).grant(LEFTOVER_GROUPS) };

        /// `DescribeNetworkInterfaces`, every page.
        async fn describe_network_interfaces(&self, filters: &[Filter]) -> Vec<NetworkInterface>
            { DESCRIBE_NETWORK_INTERFACES = read("DescribeNetworkInterfaces") };
        /// `DeleteNetworkInterface` (only what other services left behind: it carries no tag of the operator).
        async fn delete_network_interface(&self, eni_id: &str)
            { DELETE_NETWORK_INTERFACE = change("DeleteNetworkInterface").done(&["InvalidNetworkInterfaceID.NotFound"])
                .grant(Grant::UnownedOnly { statement: "Ec2UnownedInterfaces", resource: "network-interface" }) };

        /// `CreateTags` (adds or overwrites).
        async fn create_tags(&self, resource_ids: &[String], tags: &Tags)
            { CREATE_TAGS = change("CreateTags").repeatable().grant(Grant::Tag) };
    }
}

operations! {
    /// The IAM calls of the operator. IAM is global: the same store serves every region.
    pub trait IamApi in iam: Iam {
        /// `GetRole`; `None` when there is no such role.
        async fn get_role(&self, name: &str) -> Option<Role>
            { GET_ROLE = read("GetRole").grant(Grant::ObserveOwned) };
        /// `CreateRole` with its trust policy and tags; an existing role is re-observed.
        async fn create_role(&self, name: &str, trust_policy: &serde_json::Value, tags: &Tags) -> Role
            { CREATE_ROLE = change("CreateRole").exists(&["EntityAlreadyExists"]).grant(Grant::CreateTagged) };
        /// `UpdateAssumeRolePolicy`.
        async fn update_assume_role_policy(&self, name: &str, trust_policy: &serde_json::Value)
            { UPDATE_ASSUME_ROLE_POLICY = change("UpdateAssumeRolePolicy").repeatable() };
        /// `TagRole`.
        async fn tag_role(&self, name: &str, tags: &Tags)
            { TAG_ROLE = change("TagRole").repeatable().grant(Grant::Tag) };
        /// `ListAttachedRolePolicies`: the policy ARNs, every page.
        async fn list_attached_role_policies(&self, name: &str) -> Vec<String>
            { LIST_ATTACHED_ROLE_POLICIES = read("ListAttachedRolePolicies").grant(Grant::ObserveOwned) };
        /// `AttachRolePolicy` (attaching an attached policy succeeds).
        async fn attach_role_policy(&self, name: &str, policy_arn: &str)
            { ATTACH_ROLE_POLICY = change("AttachRolePolicy").repeatable().grant(Grant::ManagedPolicies) };
        /// `DetachRolePolicy`.
        async fn detach_role_policy(&self, name: &str, policy_arn: &str)
            { DETACH_ROLE_POLICY = change("DetachRolePolicy").done(&["NoSuchEntity"]).grant(Grant::ManagedPolicies) };
        /// `DeleteRole`.
        async fn delete_role(&self, name: &str)
            { DELETE_ROLE = change("DeleteRole").done(&["NoSuchEntity"]) };

        /// `ListOpenIDConnectProviders`: the provider ARNs (not paged by AWS).
        async fn list_oidc_providers(&self) -> Vec<String>
            { LIST_OPEN_ID_CONNECT_PROVIDERS = read("ListOpenIDConnectProviders") };
        /// `GetOpenIDConnectProvider`; `None` when there is no such provider.
        async fn get_oidc_provider(&self, arn: &str) -> Option<OidcProvider>
            { GET_OPEN_ID_CONNECT_PROVIDER = read("GetOpenIDConnectProvider").grant(Grant::ObserveOwned) };
        /// `CreateOpenIDConnectProvider`; returns the ARN, so an existing provider is re-observed.
        async fn create_oidc_provider(&self, request: &CreateOidcProvider) -> String
            { CREATE_OPEN_ID_CONNECT_PROVIDER = change("CreateOpenIDConnectProvider")
                .exists(&["EntityAlreadyExists"]).grant(Grant::CreateTagged) };
        /// `AddClientIDToOpenIDConnectProvider`.
        async fn add_oidc_client_id(&self, arn: &str, client_id: &str)
            { ADD_CLIENT_ID_TO_OPEN_ID_CONNECT_PROVIDER = change("AddClientIDToOpenIDConnectProvider")
                .done(&["EntityAlreadyExists"]) };
        /// `TagOpenIDConnectProvider`.
        async fn tag_oidc_provider(&self, arn: &str, tags: &Tags)
            { TAG_OPEN_ID_CONNECT_PROVIDER = change("TagOpenIDConnectProvider").repeatable().grant(Grant::Tag) };
        /// `DeleteOpenIDConnectProvider`.
        async fn delete_oidc_provider(&self, arn: &str)
            { DELETE_OPEN_ID_CONNECT_PROVIDER = change("DeleteOpenIDConnectProvider").done(&["NoSuchEntity"]) };
    }
}

operations! {
    /// The EKS calls of the operator.
    pub trait EksApi in eks: Eks {
        /// `DescribeCluster`; `None` when there is no such cluster.
        async fn describe_cluster(&self, name: &str) -> Option<Cluster>
            { DESCRIBE_CLUSTER = read("DescribeCluster") };
        /// `CreateCluster` with a client request token; an existing cluster (`ResourceInUseException`) is
        /// re-observed.
        async fn create_cluster(&self, request: &CreateCluster) -> Cluster
            { CREATE_CLUSTER = change("CreateCluster").repeatable().grant(Grant::CreateTagged) };
        /// `UpdateClusterConfig`; returns the update id.
        async fn update_cluster_config(&self, name: &str, update: &ClusterConfigUpdate) -> String
            { UPDATE_CLUSTER_CONFIG = change("UpdateClusterConfig").repeatable() };
        /// `UpdateClusterVersion`; returns the update id.
        async fn update_cluster_version(&self, name: &str, version: &str) -> String
            { UPDATE_CLUSTER_VERSION = change("UpdateClusterVersion").repeatable() };
        /// `TagResource` (cluster or node group ARN).
        async fn tag_resource(&self, arn: &str, tags: &Tags)
            { TAG_RESOURCE = change("TagResource").repeatable().grant(Grant::Tag) };
        /// `DeleteCluster`.
        async fn delete_cluster(&self, name: &str)
            { DELETE_CLUSTER = change("DeleteCluster").done(&["ResourceNotFoundException"]) };
        /// `ListNodegroups`, every page.
        async fn list_nodegroups(&self, cluster: &str) -> Vec<String>
            { LIST_NODEGROUPS = read("ListNodegroups") };
        /// `DescribeNodegroup`; `None` when there is no such node group.
        async fn describe_nodegroup(&self, cluster: &str, name: &str) -> Option<Nodegroup>
            { DESCRIBE_NODEGROUP = read("DescribeNodegroup") };
        /// `CreateNodegroup` with a client request token; an existing node group is re-observed.
        async fn create_nodegroup(&self, request: &CreateNodegroup) -> Nodegroup
            { CREATE_NODEGROUP = change("CreateNodegroup").repeatable().grant(Grant::CreateInOwnedCluster) };
        /// `UpdateNodegroupConfig`; returns the update id.
        async fn update_nodegroup_config(&self, cluster: &str, name: &str, update: &NodegroupConfigUpdate) -> String
            { UPDATE_NODEGROUP_CONFIG = change("UpdateNodegroupConfig").repeatable() };
        /// `UpdateNodegroupVersion`; returns the update id.
        async fn update_nodegroup_version(&self, cluster: &str, name: &str, version: &str) -> String
            { UPDATE_NODEGROUP_VERSION = change("UpdateNodegroupVersion").repeatable() };
        /// `DeleteNodegroup`.
        async fn delete_nodegroup(&self, cluster: &str, name: &str)
            { DELETE_NODEGROUP = change("DeleteNodegroup").done(&["ResourceNotFoundException"]) };
        /// `ListAccessEntries`, every page: the principal ARNs.
        async fn list_access_entries(&self, cluster: &str) -> Vec<String>
            { LIST_ACCESS_ENTRIES = read("ListAccessEntries") };
        /// `DescribeAccessEntry`; `None` when the principal has no entry.
        async fn describe_access_entry(&self, cluster: &str, principal: &str) -> Option<AccessEntry>
            { DESCRIBE_ACCESS_ENTRY = read("DescribeAccessEntry") };
        /// `CreateAccessEntry`, tagged; an existing entry (`ResourceInUseException`) is re-observed.
        async fn create_access_entry(&self, cluster: &str, request: &CreateAccessEntry) -> AccessEntry
            { CREATE_ACCESS_ENTRY = change("CreateAccessEntry").exists(&["ResourceInUseException"]) };
        /// `UpdateAccessEntry`.
        async fn update_access_entry(&self, cluster: &str, principal: &str, update: &AccessEntryUpdate)
            { UPDATE_ACCESS_ENTRY = change("UpdateAccessEntry").repeatable() };
        /// `DeleteAccessEntry` (its policy associations go with it).
        async fn delete_access_entry(&self, cluster: &str, principal: &str)
            { DELETE_ACCESS_ENTRY = change("DeleteAccessEntry").done(&["ResourceNotFoundException"]) };
        /// `ListAssociatedAccessPolicies`, every page.
        async fn list_associated_access_policies(&self, cluster: &str, principal: &str) -> Vec<AssociatedPolicy>
            { LIST_ASSOCIATED_ACCESS_POLICIES = read("ListAssociatedAccessPolicies") };
        /// `AssociateAccessPolicy` (replaces the scope of an associated policy).
        async fn associate_access_policy(&self, cluster: &str, principal: &str, policy: &AssociatedPolicy)
            { ASSOCIATE_ACCESS_POLICY = change("AssociateAccessPolicy").repeatable() };
        /// `DisassociateAccessPolicy`.
        async fn disassociate_access_policy(&self, cluster: &str, principal: &str, policy_arn: &str)
            { DISASSOCIATE_ACCESS_POLICY = change("DisassociateAccessPolicy").done(&["ResourceNotFoundException"]) };
    }
}

operations! {
    /// The STS calls of the operator.
    pub trait StsApi in sts: Sts {
        /// `GetCallerIdentity`.
        async fn caller_identity(&self) -> CallerIdentity
            { GET_CALLER_IDENTITY = read("GetCallerIdentity") };
    }
}

/// Every declared operation of every service.
pub fn all_operations() -> impl Iterator<Item = &'static crate::declare::Op> {
    [ec2::ALL, iam::ALL, eks::ALL, sts::ALL]
        .into_iter()
        .flatten()
        .copied()
}
