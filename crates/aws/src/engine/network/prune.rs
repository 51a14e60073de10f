//! Removes what the network plan no longer holds after `natGateways` or `vpnGateway` changed: routes to NAT
//! gateways that are going, route tables, NAT gateways, their elastic IPs and the VPN gateway.
//!
//! It runs after the planned route tables are in place and the subnets have moved to them, and works from the
//! pass's observation only, so a pass with nothing surplus makes no AWS call. Only resources that carry this
//! object's ownership tags (the observation's filters) and a component tag the plan does not hold are touched.
//! The order keeps egress working as long as the plan wants it: a surplus route table goes only when none of
//! its subnets waits to move; surplus NAT gateways go only once no surplus route table is left and no planned
//! table routes to them; an elastic IP is released only after its NAT gateway is `deleted`.

use std::collections::BTreeSet;

use eks_plan::Tags;

use super::NetworkView;
use super::routes::Associations;
use crate::engine::pass::{Pass, Verb, component};
use crate::error::{AwsError, AwsResult, gone_is_done};
use crate::types::*;

/// The component tags of a list of planned resources.
fn planned<'p>(tags: impl Iterator<Item = &'p Tags>) -> BTreeSet<&'p str> {
    tags.filter_map(component).collect()
}

/// True when the resource carries a component tag outside `planned` (an untagged resource is left alone).
fn surplus(tags: &Tags, planned: &BTreeSet<&str>) -> bool {
    component(tags).is_some_and(|c| !planned.contains(c))
}

/// Removes the surplus network resources; see the module documentation for the order.
pub(super) async fn prune(
    pass: &mut Pass<'_>,
    view: &NetworkView,
    associations: &Associations,
) -> AwsResult<()> {
    let plan = pass.plan;
    let nat_components = planned(plan.nat_gateways.iter().map(|n| &n.tags));
    let going: Vec<&NatGateway> = view
        .nat_gateways
        .iter()
        .filter(|n| surplus(&n.tags, &nat_components))
        .collect();
    stale_routes(pass, view, &going).await?;
    let tables_gone = route_tables(pass, view, associations).await?;
    let deleted_now = nat_gateways(pass, &going, tables_gone).await?;
    addresses(pass, view, &deleted_now).await?;
    vpn_gateways(pass, view).await
}

/// Deletes the routes of planned tables that lead to a surplus NAT gateway through a destination the table's
/// plan does not hold (a planned destination was already pointed at its planned target).
async fn stale_routes(pass: &mut Pass<'_>, view: &NetworkView, going: &[&NatGateway]) -> AwsResult<()> {
    if going.is_empty() {
        return Ok(());
    }
    let ec2 = pass.clients.ec2.clone();
    for planned in &pass.plan.route_tables {
        let Some(wanted) = component(&planned.tags) else {
            continue;
        };
        let Some(table) = view
            .route_tables
            .iter()
            .find(|t| component(&t.tags) == Some(wanted))
        else {
            continue;
        };
        let destinations: BTreeSet<String> =
            planned.routes.iter().map(|r| r.destination.to_string()).collect();
        for route in &table.routes {
            let to_going = matches!(&route.target, Some(RouteTargetId::NatGateway(id)) if going.iter().any(|n| &n.id == id));
            if to_going && !destinations.contains(&route.destination) {
                gone_is_done(ec2.delete_route(&table.id, &route.destination).await)?;
                pass.did(
                    Verb::Deleted,
                    format!("route {} in {}", route.destination, table.id),
                );
            }
        }
    }
    Ok(())
}

/// Disassociates and deletes the surplus route tables; true when none is left.
async fn route_tables(
    pass: &mut Pass<'_>,
    view: &NetworkView,
    associations: &Associations,
) -> AwsResult<bool> {
    let ec2 = pass.clients.ec2.clone();
    let wanted = planned(pass.plan.route_tables.iter().map(|t| &t.tags));
    let planned_subnets: BTreeSet<String> = pass
        .plan
        .route_tables
        .iter()
        .flat_map(|t| &t.subnet_keys)
        .filter_map(|key| pass.ids.subnets.get(key).cloned())
        .collect();
    let mut all_gone = true;
    for table in view.route_tables.iter().filter(|t| surplus(&t.tags, &wanted)) {
        if table.associations.iter().any(|a| a.main) {
            all_gone = false;
            pass.blocking.push(format!(
                "route table {} is no longer planned but is the VPC's main route table",
                table.id
            ));
            continue;
        }
        let waiting: Vec<&str> = table
            .associations
            .iter()
            .filter_map(|a| a.subnet_id.as_deref())
            .filter(|s| planned_subnets.contains(*s) && !associations.settled.contains(*s))
            .collect();
        if !waiting.is_empty() {
            all_gone = false;
            pass.waiting(format!(
                "route table {} is kept until {} move to their new tables",
                table.id,
                waiting.join(", ")
            ));
            continue;
        }
        for association in &table.associations {
            if !associations.removed.contains(&association.id) {
                gone_is_done(ec2.disassociate_route_table(&association.id).await)?;
            }
        }
        gone_is_done(ec2.delete_route_table(&table.id).await)?;
        pass.did(Verb::Deleted, format!("route table {}", table.id));
    }
    Ok(all_gone)
}

/// Deletes the surplus NAT gateways once no surplus route table is left, and reports them until `deleted`.
/// Returns the ids deleted by this pass (the observation still shows them live).
async fn nat_gateways(
    pass: &mut Pass<'_>,
    going: &[&NatGateway],
    tables_gone: bool,
) -> AwsResult<BTreeSet<String>> {
    let mut deleted_now = BTreeSet::new();
    for nat in going {
        match nat.state.as_str() {
            "deleted" | "failed" => {}
            "deleting" => pass.waiting(format!("NAT gateway {} deleting", nat.id)),
            _ if !tables_gone => pass.waiting(format!(
                "NAT gateway {} is deleted once its route tables are gone",
                nat.id
            )),
            _ => {
                gone_is_done(pass.clients.ec2.delete_nat_gateway(&nat.id).await)?;
                pass.did(Verb::Deleted, format!("NAT gateway {}", nat.id));
                pass.waiting(format!("NAT gateway {} deleting", nat.id));
                deleted_now.insert(nat.id.clone());
            }
        }
    }
    Ok(deleted_now)
}

/// Releases the surplus elastic IPs whose NAT gateways are `deleted` (disassociating them first where the
/// provider left them associated).
async fn addresses(pass: &mut Pass<'_>, view: &NetworkView, deleted_now: &BTreeSet<String>) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    let wanted = planned(pass.plan.nat_gateways.iter().map(|n| &n.eip_tags));
    for eip in view.addresses.iter().filter(|a| surplus(&a.tags, &wanted)) {
        let holder = view.nat_gateways.iter().find(|n| {
            n.allocation_ids.contains(&eip.allocation_id)
                && (deleted_now.contains(&n.id) || !matches!(n.state.as_str(), "deleted" | "failed"))
        });
        if let Some(nat) = holder {
            pass.waiting(format!(
                "elastic IP {} waits for NAT gateway {} to be deleted",
                eip.allocation_id, nat.id
            ));
            continue;
        }
        if let Some(association) = &eip.association_id {
            gone_is_done(ec2.disassociate_address(association).await)?;
        }
        gone_is_done(ec2.release_address(&eip.allocation_id).await)?;
        pass.did(Verb::Deleted, format!("elastic IP {}", eip.allocation_id));
    }
    Ok(())
}

/// Detaches and deletes the VPN gateway when the plan has none any more.
async fn vpn_gateways(pass: &mut Pass<'_>, view: &NetworkView) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    let wanted = planned(pass.plan.vpn_gateway.iter().map(|g| &g.tags));
    for vgw in view
        .vpn_gateways
        .iter()
        .filter(|g| g.state != "deleted" && surplus(&g.tags, &wanted))
    {
        for (vpc, state) in &vgw.attachments {
            if state == "attached" || state == "attaching" {
                gone_is_done(ec2.detach_vpn_gateway(&vgw.id, vpc).await)?;
                pass.did(
                    Verb::Updated,
                    format!("detached VPN gateway {} from {vpc}", vgw.id),
                );
            }
        }
        if vgw.state == "deleting" {
            pass.waiting(format!("VPN gateway {} deleting", vgw.id));
            continue;
        }
        match ec2.delete_vpn_gateway(&vgw.id).await {
            Ok(()) => pass.did(Verb::Deleted, format!("VPN gateway {}", vgw.id)),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::Conflict(_) | AwsError::DependencyViolation(_)) => {
                pass.waiting(format!("VPN gateway {} detaching", vgw.id));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
