//! Route tables, their routes, subnet associations and VPN route propagation.

use eks_plan::RouteTarget;

use super::{NetworkView, find, repair_tags};
use crate::engine::pass::{Pass, Verb};
use crate::error::AwsResult;
use crate::types::*;

pub(super) async fn ensure(pass: &mut Pass<'_>, view: &NetworkView, vpc_id: &str) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
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
                pass.waiting(format!(
                    "route {} of {} waits for its target",
                    route.destination, planned.key
                ));
                continue;
            };
            let destination = route.destination.to_string();
            match table.routes.iter().find(|r| r.destination == destination) {
                None => {
                    ec2.create_route(&table.id, &destination, &target).await?;
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
            let associated = table
                .associations
                .iter()
                .any(|a| a.subnet_id.as_deref() == Some(subnet_id.as_str()));
            if !associated {
                ec2.associate_route_table(&table.id, &subnet_id).await?;
                pass.did(fixed, format!("association of {subnet_id} with {}", table.id));
            }
        }
        if planned.propagate_vpn_gateway
            && pass.ctx.options.vgw_route_propagation
            && let Some(vgw) = pass.ids.vpn_gateway_id.clone()
            && !table.propagating_vgws.contains(&vgw)
        {
            ec2.enable_vgw_route_propagation(&table.id, &vgw).await?;
            pass.did(fixed, format!("propagation of {vgw} routes into {}", table.id));
        }
        pass.ids.route_tables.insert(planned.key.clone(), table.id);
    }
    Ok(())
}
