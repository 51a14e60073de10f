//! The service traits on [`Instrumented`]: every call goes through [`Instrument::run`].

use std::sync::Arc;

use async_trait::async_trait;
use eks_api::{CredentialsSpec, RegionName};

use super::{Instrument, Op, Service};
use crate::api::{Ec2Api, EksApi, IamApi, StsApi};
use crate::context::{ClientProvider, RegionClients};
use crate::error::AwsResult;
use crate::types::*;

/// Any service implementation, counted and fault-injected by a shared [`Instrument`].
pub struct Instrumented<T: ?Sized> {
    instrument: Arc<Instrument>,
    inner: Arc<T>,
}

impl<T: ?Sized> Instrumented<T> {
    /// Wraps `inner`.
    pub fn new(instrument: Arc<Instrument>, inner: Arc<T>) -> Self {
        Self { instrument, inner }
    }
}

macro_rules! read {
    ($svc:ident, $name:literal) => {
        Op {
            service: Service::$svc,
            name: $name,
            mutating: false,
        }
    };
}
macro_rules! write {
    ($svc:ident, $name:literal) => {
        Op {
            service: Service::$svc,
            name: $name,
            mutating: true,
        }
    };
}

#[async_trait]
impl<T: Ec2Api + ?Sized> Ec2Api for Instrumented<T> {
    async fn describe_availability_zones(&self) -> AwsResult<Vec<AvailabilityZone>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeAvailabilityZones"),
                self.inner.describe_availability_zones(),
            )
            .await
    }
    async fn describe_vpcs(&self, f: &[Filter]) -> AwsResult<Vec<Vpc>> {
        self.instrument
            .run(read!(Ec2, "DescribeVpcs"), self.inner.describe_vpcs(f))
            .await
    }
    async fn describe_vpc_attribute(&self, vpc: &str, a: VpcAttribute) -> AwsResult<bool> {
        self.instrument
            .run(
                read!(Ec2, "DescribeVpcAttribute"),
                self.inner.describe_vpc_attribute(vpc, a),
            )
            .await
    }
    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
        self.instrument
            .run(write!(Ec2, "CreateVpc"), self.inner.create_vpc(cidr, tags))
            .await
    }
    async fn modify_vpc_attribute(&self, vpc: &str, a: VpcAttribute, v: bool) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "ModifyVpcAttribute"),
                self.inner.modify_vpc_attribute(vpc, a, v),
            )
            .await
    }
    async fn delete_vpc(&self, vpc: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "DeleteVpc"), self.inner.delete_vpc(vpc))
            .await
    }
    async fn describe_subnets(&self, f: &[Filter]) -> AwsResult<Vec<Subnet>> {
        self.instrument
            .run(read!(Ec2, "DescribeSubnets"), self.inner.describe_subnets(f))
            .await
    }
    async fn create_subnet(&self, r: &CreateSubnet) -> AwsResult<Subnet> {
        self.instrument
            .run(write!(Ec2, "CreateSubnet"), self.inner.create_subnet(r))
            .await
    }
    async fn set_map_public_ip_on_launch(&self, s: &str, v: bool) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "ModifySubnetAttribute"),
                self.inner.set_map_public_ip_on_launch(s, v),
            )
            .await
    }
    async fn delete_subnet(&self, s: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "DeleteSubnet"), self.inner.delete_subnet(s))
            .await
    }
    async fn describe_internet_gateways(&self, f: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeInternetGateways"),
                self.inner.describe_internet_gateways(f),
            )
            .await
    }
    async fn create_internet_gateway(&self, tags: &Tags) -> AwsResult<InternetGateway> {
        self.instrument
            .run(
                write!(Ec2, "CreateInternetGateway"),
                self.inner.create_internet_gateway(tags),
            )
            .await
    }
    async fn attach_internet_gateway(&self, igw: &str, vpc: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "AttachInternetGateway"),
                self.inner.attach_internet_gateway(igw, vpc),
            )
            .await
    }
    async fn detach_internet_gateway(&self, igw: &str, vpc: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DetachInternetGateway"),
                self.inner.detach_internet_gateway(igw, vpc),
            )
            .await
    }
    async fn delete_internet_gateway(&self, igw: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DeleteInternetGateway"),
                self.inner.delete_internet_gateway(igw),
            )
            .await
    }
    async fn describe_vpn_gateways(&self, f: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeVpnGateways"),
                self.inner.describe_vpn_gateways(f),
            )
            .await
    }
    async fn create_vpn_gateway(&self, tags: &Tags) -> AwsResult<VpnGateway> {
        self.instrument
            .run(
                write!(Ec2, "CreateVpnGateway"),
                self.inner.create_vpn_gateway(tags),
            )
            .await
    }
    async fn attach_vpn_gateway(&self, vgw: &str, vpc: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "AttachVpnGateway"),
                self.inner.attach_vpn_gateway(vgw, vpc),
            )
            .await
    }
    async fn detach_vpn_gateway(&self, vgw: &str, vpc: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DetachVpnGateway"),
                self.inner.detach_vpn_gateway(vgw, vpc),
            )
            .await
    }
    async fn delete_vpn_gateway(&self, vgw: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DeleteVpnGateway"),
                self.inner.delete_vpn_gateway(vgw),
            )
            .await
    }
    async fn describe_addresses(&self, f: &[Filter]) -> AwsResult<Vec<Address>> {
        self.instrument
            .run(read!(Ec2, "DescribeAddresses"), self.inner.describe_addresses(f))
            .await
    }
    async fn allocate_address(&self, tags: &Tags) -> AwsResult<Address> {
        self.instrument
            .run(write!(Ec2, "AllocateAddress"), self.inner.allocate_address(tags))
            .await
    }
    async fn disassociate_address(&self, a: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DisassociateAddress"),
                self.inner.disassociate_address(a),
            )
            .await
    }
    async fn release_address(&self, a: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "ReleaseAddress"), self.inner.release_address(a))
            .await
    }
    async fn describe_nat_gateways(&self, f: &[Filter]) -> AwsResult<Vec<NatGateway>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeNatGateways"),
                self.inner.describe_nat_gateways(f),
            )
            .await
    }
    async fn create_nat_gateway(&self, r: &CreateNatGateway) -> AwsResult<NatGateway> {
        self.instrument
            .run(write!(Ec2, "CreateNatGateway"), self.inner.create_nat_gateway(r))
            .await
    }
    async fn delete_nat_gateway(&self, n: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "DeleteNatGateway"), self.inner.delete_nat_gateway(n))
            .await
    }
    async fn describe_route_tables(&self, f: &[Filter]) -> AwsResult<Vec<RouteTable>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeRouteTables"),
                self.inner.describe_route_tables(f),
            )
            .await
    }
    async fn create_route_table(&self, vpc: &str, tags: &Tags) -> AwsResult<RouteTable> {
        self.instrument
            .run(
                write!(Ec2, "CreateRouteTable"),
                self.inner.create_route_table(vpc, tags),
            )
            .await
    }
    async fn create_route(&self, t: &str, d: &str, target: &RouteTargetId) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "CreateRoute"), self.inner.create_route(t, d, target))
            .await
    }
    async fn replace_route(&self, t: &str, d: &str, target: &RouteTargetId) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "ReplaceRoute"),
                self.inner.replace_route(t, d, target),
            )
            .await
    }
    async fn delete_route(&self, t: &str, d: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "DeleteRoute"), self.inner.delete_route(t, d))
            .await
    }
    async fn associate_route_table(&self, t: &str, s: &str) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Ec2, "AssociateRouteTable"),
                self.inner.associate_route_table(t, s),
            )
            .await
    }
    async fn disassociate_route_table(&self, a: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DisassociateRouteTable"),
                self.inner.disassociate_route_table(a),
            )
            .await
    }
    async fn enable_vgw_route_propagation(&self, t: &str, v: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "EnableVgwRoutePropagation"),
                self.inner.enable_vgw_route_propagation(t, v),
            )
            .await
    }
    async fn delete_route_table(&self, t: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "DeleteRouteTable"), self.inner.delete_route_table(t))
            .await
    }
    async fn describe_security_groups(&self, f: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeSecurityGroups"),
                self.inner.describe_security_groups(f),
            )
            .await
    }
    async fn create_security_group(&self, r: &CreateSecurityGroup) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Ec2, "CreateSecurityGroup"),
                self.inner.create_security_group(r),
            )
            .await
    }
    async fn authorize_rules(&self, g: &str, d: Direction, r: &[SgRule]) -> AwsResult<()> {
        let op = match d {
            Direction::Ingress => write!(Ec2, "AuthorizeSecurityGroupIngress"),
            Direction::Egress => write!(Ec2, "AuthorizeSecurityGroupEgress"),
        };
        self.instrument.run(op, self.inner.authorize_rules(g, d, r)).await
    }
    async fn revoke_rules(&self, g: &str, d: Direction, r: &[SgRule]) -> AwsResult<()> {
        let op = match d {
            Direction::Ingress => write!(Ec2, "RevokeSecurityGroupIngress"),
            Direction::Egress => write!(Ec2, "RevokeSecurityGroupEgress"),
        };
        self.instrument.run(op, self.inner.revoke_rules(g, d, r)).await
    }
    async fn delete_security_group(&self, g: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DeleteSecurityGroup"),
                self.inner.delete_security_group(g),
            )
            .await
    }
    async fn describe_network_interfaces(&self, f: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
        self.instrument
            .run(
                read!(Ec2, "DescribeNetworkInterfaces"),
                self.inner.describe_network_interfaces(f),
            )
            .await
    }
    async fn delete_network_interface(&self, e: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Ec2, "DeleteNetworkInterface"),
                self.inner.delete_network_interface(e),
            )
            .await
    }
    async fn create_tags(&self, ids: &[String], tags: &Tags) -> AwsResult<()> {
        self.instrument
            .run(write!(Ec2, "CreateTags"), self.inner.create_tags(ids, tags))
            .await
    }
}

#[async_trait]
impl<T: IamApi + ?Sized> IamApi for Instrumented<T> {
    async fn get_role(&self, n: &str) -> AwsResult<Option<Role>> {
        self.instrument
            .run(read!(Iam, "GetRole"), self.inner.get_role(n))
            .await
    }
    async fn create_role(&self, n: &str, p: &serde_json::Value, t: &Tags) -> AwsResult<Role> {
        self.instrument
            .run(write!(Iam, "CreateRole"), self.inner.create_role(n, p, t))
            .await
    }
    async fn update_assume_role_policy(&self, n: &str, p: &serde_json::Value) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "UpdateAssumeRolePolicy"),
                self.inner.update_assume_role_policy(n, p),
            )
            .await
    }
    async fn tag_role(&self, n: &str, t: &Tags) -> AwsResult<()> {
        self.instrument
            .run(write!(Iam, "TagRole"), self.inner.tag_role(n, t))
            .await
    }
    async fn list_attached_role_policies(&self, n: &str) -> AwsResult<Vec<String>> {
        self.instrument
            .run(
                read!(Iam, "ListAttachedRolePolicies"),
                self.inner.list_attached_role_policies(n),
            )
            .await
    }
    async fn attach_role_policy(&self, n: &str, p: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "AttachRolePolicy"),
                self.inner.attach_role_policy(n, p),
            )
            .await
    }
    async fn detach_role_policy(&self, n: &str, p: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "DetachRolePolicy"),
                self.inner.detach_role_policy(n, p),
            )
            .await
    }
    async fn delete_role(&self, n: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Iam, "DeleteRole"), self.inner.delete_role(n))
            .await
    }
    async fn list_oidc_providers(&self) -> AwsResult<Vec<String>> {
        self.instrument
            .run(
                read!(Iam, "ListOpenIDConnectProviders"),
                self.inner.list_oidc_providers(),
            )
            .await
    }
    async fn get_oidc_provider(&self, a: &str) -> AwsResult<Option<OidcProvider>> {
        self.instrument
            .run(
                read!(Iam, "GetOpenIDConnectProvider"),
                self.inner.get_oidc_provider(a),
            )
            .await
    }
    async fn create_oidc_provider(&self, r: &CreateOidcProvider) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Iam, "CreateOpenIDConnectProvider"),
                self.inner.create_oidc_provider(r),
            )
            .await
    }
    async fn add_oidc_client_id(&self, a: &str, c: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "AddClientIDToOpenIDConnectProvider"),
                self.inner.add_oidc_client_id(a, c),
            )
            .await
    }
    async fn tag_oidc_provider(&self, a: &str, t: &Tags) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "TagOpenIDConnectProvider"),
                self.inner.tag_oidc_provider(a, t),
            )
            .await
    }
    async fn delete_oidc_provider(&self, a: &str) -> AwsResult<()> {
        self.instrument
            .run(
                write!(Iam, "DeleteOpenIDConnectProvider"),
                self.inner.delete_oidc_provider(a),
            )
            .await
    }
}

#[async_trait]
impl<T: EksApi + ?Sized> EksApi for Instrumented<T> {
    async fn describe_cluster(&self, n: &str) -> AwsResult<Option<Cluster>> {
        self.instrument
            .run(read!(Eks, "DescribeCluster"), self.inner.describe_cluster(n))
            .await
    }
    async fn create_cluster(&self, r: &CreateCluster) -> AwsResult<Cluster> {
        self.instrument
            .run(write!(Eks, "CreateCluster"), self.inner.create_cluster(r))
            .await
    }
    async fn update_cluster_config(&self, n: &str, u: &ClusterConfigUpdate) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Eks, "UpdateClusterConfig"),
                self.inner.update_cluster_config(n, u),
            )
            .await
    }
    async fn update_cluster_version(&self, n: &str, v: &str) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Eks, "UpdateClusterVersion"),
                self.inner.update_cluster_version(n, v),
            )
            .await
    }
    async fn tag_resource(&self, a: &str, t: &Tags) -> AwsResult<()> {
        self.instrument
            .run(write!(Eks, "TagResource"), self.inner.tag_resource(a, t))
            .await
    }
    async fn delete_cluster(&self, n: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Eks, "DeleteCluster"), self.inner.delete_cluster(n))
            .await
    }
    async fn list_nodegroups(&self, c: &str) -> AwsResult<Vec<String>> {
        self.instrument
            .run(read!(Eks, "ListNodegroups"), self.inner.list_nodegroups(c))
            .await
    }
    async fn describe_nodegroup(&self, c: &str, n: &str) -> AwsResult<Option<Nodegroup>> {
        self.instrument
            .run(
                read!(Eks, "DescribeNodegroup"),
                self.inner.describe_nodegroup(c, n),
            )
            .await
    }
    async fn create_nodegroup(&self, r: &CreateNodegroup) -> AwsResult<Nodegroup> {
        self.instrument
            .run(write!(Eks, "CreateNodegroup"), self.inner.create_nodegroup(r))
            .await
    }
    async fn update_nodegroup_config(
        &self,
        c: &str,
        n: &str,
        u: &NodegroupConfigUpdate,
    ) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Eks, "UpdateNodegroupConfig"),
                self.inner.update_nodegroup_config(c, n, u),
            )
            .await
    }
    async fn update_nodegroup_version(&self, c: &str, n: &str, v: &str) -> AwsResult<String> {
        self.instrument
            .run(
                write!(Eks, "UpdateNodegroupVersion"),
                self.inner.update_nodegroup_version(c, n, v),
            )
            .await
    }
    async fn delete_nodegroup(&self, c: &str, n: &str) -> AwsResult<()> {
        self.instrument
            .run(write!(Eks, "DeleteNodegroup"), self.inner.delete_nodegroup(c, n))
            .await
    }
}

#[async_trait]
impl<T: StsApi + ?Sized> StsApi for Instrumented<T> {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        self.instrument
            .run(read!(Sts, "GetCallerIdentity"), self.inner.caller_identity())
            .await
    }
}

/// A [`ClientProvider`] whose clients all go through one [`Instrument`].
pub struct InstrumentedProvider {
    inner: Arc<dyn ClientProvider>,
    instrument: Arc<Instrument>,
}

impl InstrumentedProvider {
    /// Wraps `inner`'s clients.
    pub fn new(inner: Arc<dyn ClientProvider>, instrument: Arc<Instrument>) -> Self {
        Self { inner, instrument }
    }

    /// The shared instrument.
    pub fn instrument(&self) -> &Arc<Instrument> {
        &self.instrument
    }
}

/// Wraps each client of `clients` with `instrument`.
pub fn instrument_clients(clients: RegionClients, instrument: &Arc<Instrument>) -> RegionClients {
    RegionClients {
        region: clients.region,
        ec2: Arc::new(Instrumented::new(instrument.clone(), clients.ec2)),
        iam: Arc::new(Instrumented::new(instrument.clone(), clients.iam)),
        eks: Arc::new(Instrumented::new(instrument.clone(), clients.eks)),
        sts: Arc::new(Instrumented::new(instrument.clone(), clients.sts)),
    }
}

#[async_trait]
impl ClientProvider for InstrumentedProvider {
    async fn region_clients(
        &self,
        region: &RegionName,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients> {
        let clients = self.inner.region_clients(region, credentials).await?;
        Ok(instrument_clients(clients, &self.instrument))
    }
}
