//! The fake's VPCs, subnets, internet gateways and VPN gateways.

use super::{new_id, select};
use crate::error::AwsResult;
use crate::fake::store::{RegionState, aws_error, matches, not_found};
use crate::types::*;

/// `DescribeVpcs`.
pub(super) fn describe_vpcs(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<Vpc>> {
    Ok(select(&r.vpcs, r.candidates(f), |v| {
        matches(&v.tags, &[("vpc-id", &v.id)], f)
    }))
}

/// `DescribeVpcAttribute`: `InvalidVpcID.NotFound` for an unknown VPC.
pub(super) fn describe_vpc_attribute(
    r: &RegionState,
    vpc_id: &str,
    attribute: VpcAttribute,
) -> AwsResult<bool> {
    let (support, hostnames) = *r
        .dns
        .get(vpc_id)
        .ok_or_else(|| not_found("DescribeVpcAttribute", "InvalidVpcID.NotFound", vpc_id))?;
    Ok(match attribute {
        VpcAttribute::DnsSupport => support,
        VpcAttribute::DnsHostnames => hostnames,
    })
}

/// `CreateVpc`: available at once, DNS support on and DNS hostnames off (the AWS defaults).
pub(super) fn create_vpc(r: &mut RegionState, next: &mut u64, cidr: &str, tags: &Tags) -> AwsResult<Vpc> {
    let vpc = Vpc {
        id: new_id(next, "vpc"),
        cidr: cidr.to_owned(),
        state: "available".into(),
        tags: tags.clone(),
    };
    r.index(&vpc.id, tags);
    r.dns.insert(vpc.id.clone(), (true, false));
    r.vpcs.insert(vpc.id.clone(), vpc.clone());
    Ok(vpc)
}

/// `ModifyVpcAttribute`.
pub(super) fn modify_vpc_attribute(
    r: &mut RegionState,
    vpc_id: &str,
    attribute: VpcAttribute,
    value: bool,
) -> AwsResult<()> {
    let entry = r
        .dns
        .get_mut(vpc_id)
        .ok_or_else(|| not_found("ModifyVpcAttribute", "InvalidVpcID.NotFound", vpc_id))?;
    match attribute {
        VpcAttribute::DnsSupport => entry.0 = value,
        VpcAttribute::DnsHostnames => entry.1 = value,
    }
    Ok(())
}

/// `DeleteVpc`: `DependencyViolation` while subnets, an attached internet gateway, security groups or
/// route tables remain.
pub(super) fn delete_vpc(r: &mut RegionState, vpc_id: &str) -> AwsResult<()> {
    if !r.vpcs.contains_key(vpc_id) {
        return Err(not_found("DeleteVpc", "InvalidVpcID.NotFound", vpc_id));
    }
    let used = r.subnets.values().any(|s| s.vpc_id == vpc_id)
        || r.igws
            .values()
            .any(|g| g.attached_vpcs.iter().any(|v| v == vpc_id))
        || r.security_groups.values().any(|g| g.vpc_id == vpc_id)
        || r.route_tables.values().any(|t| t.vpc_id == vpc_id);
    if used {
        return Err(aws_error(
            "DeleteVpc",
            "DependencyViolation",
            format!("The vpc '{vpc_id}' has dependencies and cannot be deleted."),
        ));
    }
    r.vpcs.remove(vpc_id);
    Ok(())
}

/// `DescribeSubnets`.
pub(super) fn describe_subnets(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<Subnet>> {
    Ok(select(&r.subnets, r.candidates(f), |s| {
        matches(&s.tags, &[("vpc-id", &s.vpc_id), ("subnet-id", &s.id)], f)
    }))
}

/// `CreateSubnet`: `InvalidSubnet.Conflict` when the VPC already has a subnet with that CIDR.
pub(super) fn create_subnet(r: &mut RegionState, next: &mut u64, q: &CreateSubnet) -> AwsResult<Subnet> {
    if !r.vpcs.contains_key(&q.vpc_id) {
        return Err(not_found("CreateSubnet", "InvalidVpcID.NotFound", &q.vpc_id));
    }
    if r.subnets
        .values()
        .any(|s| s.vpc_id == q.vpc_id && s.cidr == q.cidr)
    {
        return Err(aws_error(
            "CreateSubnet",
            "InvalidSubnet.Conflict",
            format!("The CIDR '{}' conflicts with another subnet", q.cidr),
        ));
    }
    let subnet = Subnet {
        id: new_id(next, "subnet"),
        vpc_id: q.vpc_id.clone(),
        cidr: q.cidr.clone(),
        zone: q.zone.clone(),
        map_public_ip_on_launch: false,
        tags: q.tags.clone(),
    };
    r.index(&subnet.id, &q.tags);
    r.subnets.insert(subnet.id.clone(), subnet.clone());
    Ok(subnet)
}

/// `ModifySubnetAttribute` `MapPublicIpOnLaunch`.
pub(super) fn set_map_public_ip_on_launch(
    r: &mut RegionState,
    subnet_id: &str,
    value: bool,
) -> AwsResult<()> {
    let s = r
        .subnets
        .get_mut(subnet_id)
        .ok_or_else(|| not_found("ModifySubnetAttribute", "InvalidSubnetID.NotFound", subnet_id))?;
    s.map_public_ip_on_launch = value;
    Ok(())
}

/// `DeleteSubnet`: `DependencyViolation` while a NAT gateway not yet `deleted` or a network interface is in
/// it; drops its route table associations.
pub(super) fn delete_subnet(r: &mut RegionState, subnet_id: &str) -> AwsResult<()> {
    if !r.subnets.contains_key(subnet_id) {
        return Err(not_found("DeleteSubnet", "InvalidSubnetID.NotFound", subnet_id));
    }
    let used = r
        .nats
        .values()
        .any(|(n, _, _)| n.subnet_id == subnet_id && n.state != "deleted")
        || r.enis.values().any(|(e, _)| e.subnet_id == subnet_id);
    if used {
        return Err(aws_error(
            "DeleteSubnet",
            "DependencyViolation",
            format!("The subnet '{subnet_id}' has dependencies and cannot be deleted."),
        ));
    }
    r.subnets.remove(subnet_id);
    for table in r.route_tables.values_mut() {
        table
            .associations
            .retain(|a| a.subnet_id.as_deref() != Some(subnet_id));
    }
    Ok(())
}

/// `DescribeInternetGateways`.
pub(super) fn describe_internet_gateways(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<InternetGateway>> {
    Ok(select(&r.igws, r.candidates(f), |g| matches(&g.tags, &[], f)))
}

/// `CreateInternetGateway`.
pub(super) fn create_internet_gateway(
    r: &mut RegionState,
    next: &mut u64,
    tags: &Tags,
) -> AwsResult<InternetGateway> {
    let igw = InternetGateway {
        id: new_id(next, "igw"),
        attached_vpcs: Vec::new(),
        tags: tags.clone(),
    };
    r.index(&igw.id, tags);
    r.igws.insert(igw.id.clone(), igw.clone());
    Ok(igw)
}

/// `AttachInternetGateway`: `Resource.AlreadyAssociated` when it is attached already.
pub(super) fn attach_internet_gateway(r: &mut RegionState, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
    let g = r.igws.get_mut(igw_id).ok_or_else(|| {
        not_found(
            "AttachInternetGateway",
            "InvalidInternetGatewayID.NotFound",
            igw_id,
        )
    })?;
    if !g.attached_vpcs.is_empty() {
        return Err(aws_error(
            "AttachInternetGateway",
            "Resource.AlreadyAssociated",
            format!("{igw_id} is already attached"),
        ));
    }
    g.attached_vpcs.push(vpc_id.to_owned());
    Ok(())
}

/// `DetachInternetGateway`.
pub(super) fn detach_internet_gateway(r: &mut RegionState, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
    let g = r.igws.get_mut(igw_id).ok_or_else(|| {
        not_found(
            "DetachInternetGateway",
            "InvalidInternetGatewayID.NotFound",
            igw_id,
        )
    })?;
    g.attached_vpcs.retain(|v| v != vpc_id);
    Ok(())
}

/// `DeleteInternetGateway`: `DependencyViolation` while attached.
pub(super) fn delete_internet_gateway(r: &mut RegionState, igw_id: &str) -> AwsResult<()> {
    let g = r.igws.get(igw_id).ok_or_else(|| {
        not_found(
            "DeleteInternetGateway",
            "InvalidInternetGatewayID.NotFound",
            igw_id,
        )
    })?;
    if !g.attached_vpcs.is_empty() {
        return Err(aws_error(
            "DeleteInternetGateway",
            "DependencyViolation",
            format!("{igw_id} is attached"),
        ));
    }
    r.igws.remove(igw_id);
    Ok(())
}

/// `DescribeVpnGateways` (deleted gateways stay visible).
pub(super) fn describe_vpn_gateways(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<VpnGateway>> {
    Ok(select(&r.vgws, r.candidates(f), |g| matches(&g.tags, &[], f)))
}

/// `CreateVpnGateway`: available at once.
pub(super) fn create_vpn_gateway(r: &mut RegionState, next: &mut u64, tags: &Tags) -> AwsResult<VpnGateway> {
    let vgw = VpnGateway {
        id: new_id(next, "vgw"),
        state: "available".into(),
        attachments: Vec::new(),
        tags: tags.clone(),
    };
    r.index(&vgw.id, tags);
    r.vgws.insert(vgw.id.clone(), vgw.clone());
    Ok(vgw)
}

/// `AttachVpnGateway` (forgets earlier detached attachments).
pub(super) fn attach_vpn_gateway(r: &mut RegionState, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
    let g = r
        .vgws
        .get_mut(vgw_id)
        .ok_or_else(|| not_found("AttachVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
    g.attachments.retain(|(_, state)| state != "detached");
    g.attachments.push((vpc_id.to_owned(), "attached".into()));
    Ok(())
}

/// `DetachVpnGateway`: the attachment stays, `detached`.
pub(super) fn detach_vpn_gateway(r: &mut RegionState, vgw_id: &str, vpc_id: &str) -> AwsResult<()> {
    let g = r
        .vgws
        .get_mut(vgw_id)
        .ok_or_else(|| not_found("DetachVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
    for (vpc, state) in &mut g.attachments {
        if vpc == vpc_id {
            *state = "detached".into();
        }
    }
    Ok(())
}

/// `DeleteVpnGateway`: `IncorrectState` while attached; the gateway stays, `deleted`.
pub(super) fn delete_vpn_gateway(r: &mut RegionState, vgw_id: &str) -> AwsResult<()> {
    let g = r
        .vgws
        .get_mut(vgw_id)
        .ok_or_else(|| not_found("DeleteVpnGateway", "InvalidVpnGatewayID.NotFound", vgw_id))?;
    if g.attachments.iter().any(|(_, s)| s == "attached") {
        return Err(aws_error(
            "DeleteVpnGateway",
            "IncorrectState",
            format!("{vgw_id} is attached"),
        ));
    }
    g.state = "deleted".into();
    Ok(())
}
