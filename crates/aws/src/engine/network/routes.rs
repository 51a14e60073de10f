//! Route tables, their routes, subnet associations and VPN route propagation.
//!
//! A subnet that the plan puts in another table than the one it is associated with (the NAT gateway layout
//! changed) moves once its new table has all its planned routes, each to a target that is ready: the old,
//! owned association is removed first (AWS refuses a second association), then the new one made. Until then
//! the subnet keeps its old table and the pass reports the wait.

use std::collections::BTreeSet;

use eks_plan::RouteTarget;

use super::{NetworkView, find, repair_tags};
use crate::engine::pass::{Pass, Verb};
use crate::error::{AwsError, AwsResult, gone_is_done};
use crate::types::*;

/// What [`ensure`] left of the subnet associations, for pruning the surplus route tables.
#[derive(Debug, Default)]
pub(super) struct Associations {
    /// Subnets associated with their planned table at the end of the pass.
    pub settled: BTreeSet<String>,
    /// Associations this pass removed (to move their subnets), which the observation still shows.
    pub removed: BTreeSet<String>,
}

/// The owned table (and association) a subnet is associated with, as observed.
fn association_of<'v>(
    view: &'v NetworkView,
    subnet_id: &str,
) -> Option<(&'v RouteTable, &'v RouteTableAssociation)> {
    view.route_tables.iter().find_map(|t| {
        t.associations
            .iter()
            .find(|a| a.subnet_id.as_deref() == Some(subnet_id))
            .map(|a| (t, a))
    })
}

/// True when the target was observed ready to carry traffic (a NAT gateway `available`).
fn target_ready(view: &NetworkView, target: &RouteTargetId) -> bool {
    match target {
        RouteTargetId::Gateway(_) => true,
        RouteTargetId::NatGateway(id) => view
            .nat_gateways
            .iter()
            .any(|n| &n.id == id && n.state == "available"),
    }
}

pub(super) async fn ensure(pass: &mut Pass<'_>, view: &NetworkView, vpc_id: &str) -> AwsResult<Associations> {
    let ec2 = pass.clients.ec2.clone();
    let mut out = Associations::default();
    for planned in &pass.plan.route_tables {
        let (table, existed) = match find(&view.route_tables, |t| &t.tags, &planned.tags) {
            Some(table) => {
                repair_tags(pass, &table.id, &table.tags, &planned.tags).await?;
                (table.clone(), true)
            }
            None => {
                let table = ec2.create_route_table(vpc_id, &planned.tags).await?;
                pass.did(
                    Verb::Created,
                    format!("route table {} ({})", table.id, planned.key),
                );
                (table, false)
            }
        };
        let fixed = if existed { Verb::Repaired } else { Verb::Created };
        // Subnets move in from another table only when every planned route is in place and ready.
        let mut ready = true;
        for route in &planned.routes {
            let target = match &route.target {
                RouteTarget::InternetGateway => {
                    pass.ids.internet_gateway_id.clone().map(RouteTargetId::Gateway)
                }
                RouteTarget::NatGateway { key } => pass
                    .ids
                    .nat_gateways
                    .get(key)
                    .cloned()
                    .map(RouteTargetId::NatGateway),
            };
            let Some(target) = target else {
                ready = false;
                pass.waiting(format!(
                    "route {} of {} waits for its target",
                    route.destination, planned.key
                ));
                continue;
            };
            ready &= target_ready(view, &target);
            let destination = route.destination.to_string();
            match table.routes.iter().find(|r| r.destination == destination) {
                None => {
                    match ec2.create_route(&table.id, &destination, &target).await {
                        Ok(()) => {}
                        // A route made by an earlier call whose answer was lost, to whatever target:
                        // pointing it at the planned one is idempotent.
                        Err(AwsError::AlreadyExists(_)) => {
                            ec2.replace_route(&table.id, &destination, &target).await?;
                        }
                        Err(e) => return Err(e),
                    }
                    pass.did(fixed, format!("route {destination} in {}", table.id));
                }
                Some(r) if r.target.as_ref() != Some(&target) || r.state == "blackhole" => {
                    ec2.replace_route(&table.id, &destination, &target).await?;
                    pass.did(Verb::Repaired, format!("route {destination} in {}", table.id));
                }
                Some(_) => {}
            }
        }
        for key in &planned.subnet_keys {
            let Some(subnet_id) = pass.ids.subnets.get(key).cloned() else {
                continue;
            };
            match association_of(view, &subnet_id) {
                Some((current, _)) if current.id == table.id => {}
                Some((current, association)) => {
                    if !ready {
                        pass.waiting(format!(
                            "subnet {subnet_id} stays with route table {} until {} has its routes",
                            current.id, planned.key
                        ));
                        continue;
                    }
                    gone_is_done(ec2.disassociate_route_table(&association.id).await)?;
                    out.removed.insert(association.id.clone());
                    associate(pass, &table.id, &subnet_id).await?;
                    pass.did(
                        Verb::Updated,
                        format!(
                            "moved subnet {subnet_id} from route table {} to {}",
                            current.id, table.id
                        ),
                    );
                }
                None => {
                    associate(pass, &table.id, &subnet_id).await?;
                    pass.did(fixed, format!("association of {subnet_id} with {}", table.id));
                }
            }
            out.settled.insert(subnet_id);
        }
        if planned.propagate_vpn_gateway
            && let Some(vgw) = pass.ids.vpn_gateway_id.clone()
            && !table.propagating_vgws.contains(&vgw)
        {
            ec2.enable_vgw_route_propagation(&table.id, &vgw).await?;
            pass.did(fixed, format!("propagation of {vgw} routes into {}", table.id));
        }
        pass.ids.route_tables.insert(planned.key.clone(), table.id);
    }
    Ok(out)
}

/// Associates a subnet with a table. "Already associated" (an earlier call whose answer was lost) is looked
/// at again: done when the subnet is now in this table; otherwise the error stands (the next pass observes
/// the other association and moves the subnet).
async fn associate(pass: &Pass<'_>, table_id: &str, subnet_id: &str) -> AwsResult<()> {
    let ec2 = &pass.clients.ec2;
    match ec2.associate_route_table(table_id, subnet_id).await {
        Ok(_) => Ok(()),
        Err(error @ AwsError::AlreadyExists(_)) => {
            let tables = ec2.describe_route_tables(&pass.filters).await?;
            let here = tables.iter().any(|t| {
                t.id == table_id
                    && t.associations
                        .iter()
                        .any(|a| a.subnet_id.as_deref() == Some(subnet_id))
            });
            if here { Ok(()) } else { Err(error) }
        }
        Err(e) => Err(e),
    }
}
