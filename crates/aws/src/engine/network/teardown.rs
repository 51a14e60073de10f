//! Network teardown: NAT gateways (until deleted), elastic IPs, gateways, route tables, leftover network
//! interfaces, subnets and the VPC. Each step treats NotFound as done and names what blocks.

use super::NetworkView;
use crate::engine::pass::Verb;
use crate::engine::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult, gone_is_done};
use crate::types::*;

/// Deletes the NAT gateways; true once all are `deleted`.
pub(crate) async fn nat_gateways(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<bool> {
    let mut done = true;
    for nat in &view.nat_gateways {
        match nat.state.as_str() {
            "deleted" | "failed" => {}
            "deleting" => {
                done = false;
                tp.waiting(format!("NAT gateway {} deleting", nat.id));
            }
            _ => {
                gone_is_done(tp.clients.ec2.delete_nat_gateway(&nat.id).await)?;
                tp.did(Verb::Deleted, format!("NAT gateway {}", nat.id));
                done = false;
                tp.waiting(format!("NAT gateway {} deleting", nat.id));
            }
        }
    }
    Ok(done)
}

/// Releases the elastic IPs (their NAT gateways are gone).
pub(crate) async fn addresses(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<()> {
    for eip in &view.addresses {
        if let Some(association) = &eip.association_id {
            gone_is_done(tp.clients.ec2.disassociate_address(association).await)?;
        }
        gone_is_done(tp.clients.ec2.release_address(&eip.allocation_id).await)?;
        tp.did(Verb::Deleted, format!("elastic IP {}", eip.allocation_id));
    }
    Ok(())
}

/// Detaches and deletes the VPN and internet gateways; true when none is left.
pub(crate) async fn gateways(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<bool> {
    let ec2 = tp.clients.ec2.clone();
    let mut done = true;
    for vgw in view.vpn_gateways.iter().filter(|g| g.state != "deleted") {
        for (vpc, state) in &vgw.attachments {
            if state == "attached" || state == "attaching" {
                gone_is_done(ec2.detach_vpn_gateway(&vgw.id, vpc).await)?;
            }
        }
        if vgw.state == "deleting" {
            done = false;
            tp.waiting(format!("VPN gateway {} deleting", vgw.id));
            continue;
        }
        match ec2.delete_vpn_gateway(&vgw.id).await {
            Ok(()) => tp.did(Verb::Deleted, format!("VPN gateway {}", vgw.id)),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::Conflict(_) | AwsError::DependencyViolation(_)) => {
                done = false;
                tp.waiting(format!("VPN gateway {} detaching", vgw.id));
            }
            Err(e) => return Err(e),
        }
    }
    for igw in &view.internet_gateways {
        for vpc in &igw.attached_vpcs {
            detach_internet_gateway(tp, &igw.id, vpc).await?;
        }
        gone_is_done(ec2.delete_internet_gateway(&igw.id).await)?;
        tp.did(Verb::Deleted, format!("internet gateway {}", igw.id));
    }
    Ok(done)
}

/// Deletes the route tables (associations first).
pub(crate) async fn route_tables(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<()> {
    let ec2 = tp.clients.ec2.clone();
    for table in &view.route_tables {
        for association in table.associations.iter().filter(|a| !a.main) {
            gone_is_done(ec2.disassociate_route_table(&association.id).await)?;
        }
        gone_is_done(ec2.delete_route_table(&table.id).await)?;
        tp.did(Verb::Deleted, format!("route table {}", table.id));
    }
    Ok(())
}

/// Deletes detached network interfaces left in the VPC (their owners are gone) and names the attached
/// ones, which block the subnets and the VPC. Returns true when none is attached.
pub(crate) async fn leftover_interfaces(tp: &mut TeardownPass<'_>, vpc_id: &str) -> AwsResult<bool> {
    let ec2 = tp.clients.ec2.clone();
    let mut clear = true;
    for eni in ec2.describe_network_interfaces(&[Filter::vpc(vpc_id)]).await? {
        if eni.status == "available" {
            match ec2.delete_network_interface(&eni.id).await {
                Ok(()) => tp.did(
                    Verb::Deleted,
                    format!("detached network interface {} left in the VPC", eni.id),
                ),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        } else {
            clear = false;
            tp.blocking.push(format!(
                "network interface {} ({}) in subnet {} is in use and blocks deleting VPC {vpc_id}",
                eni.id,
                if eni.description.is_empty() {
                    "no description"
                } else {
                    &eni.description
                },
                eni.subnet_id
            ));
        }
    }
    Ok(clear)
}

/// Deletes the subnets; true when none is left.
pub(crate) async fn subnets(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<bool> {
    let mut done = true;
    for subnet in &view.subnets {
        match tp.clients.ec2.delete_subnet(&subnet.id).await {
            Ok(()) => tp.did(Verb::Deleted, format!("subnet {}", subnet.id)),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::DependencyViolation(_)) => {
                done = false;
                tp.blocking
                    .push(format!("subnet {} still has dependants", subnet.id));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Deletes the VPCs; true when none is left.
pub(crate) async fn vpcs(tp: &mut TeardownPass<'_>, view: &NetworkView) -> AwsResult<bool> {
    let mut done = true;
    for vpc in &view.vpcs {
        match tp.clients.ec2.delete_vpc(&vpc.id).await {
            Ok(()) => tp.did(Verb::Deleted, format!("VPC {}", vpc.id)),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::DependencyViolation(_)) => {
                done = false;
                tp.blocking.push(format!("VPC {} still has dependants", vpc.id));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Detaches an internet gateway. A refusal (`Gateway.NotAttached` after an earlier detach whose answer was
/// lost) is looked at again: done when the gateway no longer lists the VPC.
async fn detach_internet_gateway(tp: &TeardownPass<'_>, igw_id: &str, vpc_id: &str) -> AwsResult<()> {
    let ec2 = &tp.clients.ec2;
    match ec2.detach_internet_gateway(igw_id, vpc_id).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(error @ (AwsError::InvalidRequest(_) | AwsError::AlreadyExists(_))) => {
            let gateways = ec2.describe_internet_gateways(&tp.filters).await?;
            let still = gateways
                .iter()
                .any(|g| g.id == igw_id && g.attached_vpcs.iter().any(|v| v == vpc_id));
            if still { Err(error) } else { Ok(()) }
        }
        Err(e) => Err(e),
    }
}
