//! VPC, subnets, internet and VPN gateways, elastic IPs and NAT gateways, route tables.
//!
//! Observation is seven batched Describe calls filtered by the ownership tags; resources map back to their
//! plan entries through the `eksoperator.io/component` tag. Creates carry their tags from the start, so a
//! create whose response was lost is found by the next observation instead of being made twice. After the
//! planned resources are in place, [`prune`] removes the owned NAT gateways, elastic IPs, route tables and VPN
//! gateway the plan no longer holds (after a change of `natGateways` or `vpnGateway`).

mod nat;
mod prune;
mod routes;
pub(crate) mod teardown;

use eks_plan::Tags;
use eks_plan::model::SubnetPlan;

use super::errors::EngineError;
use super::pass::{Pass, Verb, component, missing_tags};
use crate::api::Ec2Api;
use crate::error::AwsResult;
use crate::types::*;

/// Everything of the network this object owns in the region.
#[derive(Clone, Debug, Default)]
pub(crate) struct NetworkView {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub internet_gateways: Vec<InternetGateway>,
    pub vpn_gateways: Vec<VpnGateway>,
    pub addresses: Vec<Address>,
    pub nat_gateways: Vec<NatGateway>,
    pub route_tables: Vec<RouteTable>,
}

/// Observes the network with one Describe call per resource type, concurrently.
pub(crate) async fn observe(ec2: &dyn Ec2Api, filters: &[Filter]) -> AwsResult<NetworkView> {
    let (vpcs, subnets, internet_gateways, vpn_gateways, addresses, nat_gateways, route_tables) = futures::try_join!(
        ec2.describe_vpcs(filters),
        ec2.describe_subnets(filters),
        ec2.describe_internet_gateways(filters),
        ec2.describe_vpn_gateways(filters),
        ec2.describe_addresses(filters),
        ec2.describe_nat_gateways(filters),
        ec2.describe_route_tables(filters),
    )?;
    Ok(NetworkView {
        vpcs,
        subnets,
        internet_gateways,
        vpn_gateways,
        addresses,
        nat_gateways,
        route_tables,
    })
}

/// The first resource (by id order of observation) whose component tag is the plan entry's.
pub(crate) fn find<'v, T>(items: &'v [T], tags_of: impl Fn(&T) -> &Tags, desired: &Tags) -> Option<&'v T> {
    let wanted = component(desired)?;
    items.iter().find(|item| component(tags_of(item)) == Some(wanted))
}

/// Adds the desired tags that are missing on `resource_id`.
pub(crate) async fn repair_tags(
    pass: &mut Pass<'_>,
    resource_id: &str,
    observed: &Tags,
    desired: &Tags,
) -> AwsResult<()> {
    let missing = missing_tags(observed, desired);
    if !missing.is_empty() {
        pass.clients
            .ec2
            .create_tags(&[resource_id.to_owned()], &missing)
            .await?;
        pass.did(Verb::Repaired, format!("tags of {resource_id}"));
    }
    Ok(())
}

/// Ensures the whole network; returns the observation for the later steps.
pub(crate) async fn ensure(pass: &mut Pass<'_>) -> Result<NetworkView, EngineError> {
    let view = observe(pass.clients.ec2.as_ref(), &pass.filters).await?;
    let vpc_id = ensure_vpc(pass, &view).await?;
    if let Some(change) = subnet_layout_change(&view.subnets, &pass.plan.subnets) {
        return Err(change);
    }
    ensure_subnets(pass, &view, &vpc_id).await?;
    ensure_internet_gateway(pass, &view, &vpc_id).await?;
    ensure_vpn_gateway(pass, &view, &vpc_id).await?;
    nat::ensure(pass, &view).await?;
    let associations = routes::ensure(pass, &view, &vpc_id).await?;
    prune::prune(pass, &view, &associations).await?;
    Ok(view)
}

async fn ensure_vpc(pass: &mut Pass<'_>, view: &NetworkView) -> Result<String, EngineError> {
    let plan = &pass.plan.vpc;
    let ec2 = pass.clients.ec2.clone();
    let wanted = plan.cidr.to_string();
    let vpc_id = match find(&view.vpcs, |v| &v.tags, &plan.tags) {
        Some(vpc) => {
            if vpc.cidr != wanted {
                return Err(EngineError::VpcCidrImmutable {
                    vpc_id: vpc.id.clone(),
                    actual: vpc.cidr.clone(),
                    wanted,
                });
            }
            repair_tags(pass, &vpc.id, &vpc.tags, &plan.tags).await?;
            if vpc.state == "pending" {
                pass.waiting(format!("VPC {} pending", vpc.id));
            }
            vpc.id.clone()
        }
        None => {
            let vpc = ec2.create_vpc(&wanted, &plan.tags).await?;
            pass.did(Verb::Created, format!("VPC {} ({wanted})", vpc.id));
            vpc.id
        }
    };
    pass.ids.vpc_id = Some(vpc_id.clone());
    let (support, hostnames) = futures::try_join!(
        ec2.describe_vpc_attribute(&vpc_id, VpcAttribute::DnsSupport),
        ec2.describe_vpc_attribute(&vpc_id, VpcAttribute::DnsHostnames),
    )?;
    for (attribute, on, wanted) in [
        (VpcAttribute::DnsSupport, support, plan.enable_dns_support),
        (VpcAttribute::DnsHostnames, hostnames, plan.enable_dns_hostnames),
    ] {
        if on != wanted {
            ec2.modify_vpc_attribute(&vpc_id, attribute, wanted).await?;
            pass.did(Verb::Updated, format!("{attribute:?} of VPC {vpc_id}"));
        }
    }
    Ok(vpc_id)
}

/// The first way the owned subnets differ from the plan that only rebuilding could follow: a subnet with
/// another CIDR or zone, or one the plan no longer has. Planned subnets that do not exist yet are no change
/// (a first build that stopped half-way, or subnets added to the spec): they are created.
fn subnet_layout_change(existing: &[Subnet], planned: &[SubnetPlan]) -> Option<EngineError> {
    for subnet in existing {
        let key = component(&subnet.tags)
            .and_then(|c| c.strip_prefix("subnet/"))
            .unwrap_or_default();
        let actual = format!("{} in {}", subnet.cidr, subnet.zone);
        let wanted = match planned.iter().find(|p| p.key == key) {
            Some(plan) if plan.cidr.to_string() == subnet.cidr && plan.zone == subnet.zone => continue,
            Some(plan) => format!("{} in {}", plan.cidr, plan.zone),
            None => "no such subnet".to_owned(),
        };
        return Some(EngineError::SubnetLayoutImmutable {
            subnet_id: subnet.id.clone(),
            key: key.to_owned(),
            actual,
            wanted,
        });
    }
    None
}

async fn ensure_subnets(pass: &mut Pass<'_>, view: &NetworkView, vpc_id: &str) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    for planned in &pass.plan.subnets {
        let (id, map_public) = match find(&view.subnets, |s| &s.tags, &planned.tags) {
            Some(subnet) => {
                repair_tags(pass, &subnet.id, &subnet.tags, &planned.tags).await?;
                (subnet.id.clone(), subnet.map_public_ip_on_launch)
            }
            None => {
                let subnet = ec2
                    .create_subnet(&CreateSubnet {
                        vpc_id: vpc_id.to_owned(),
                        cidr: planned.cidr.to_string(),
                        zone: planned.zone.clone(),
                        tags: planned.tags.clone(),
                    })
                    .await?;
                pass.did(
                    Verb::Created,
                    format!("subnet {} ({} in {})", subnet.id, planned.cidr, planned.zone),
                );
                (subnet.id, subnet.map_public_ip_on_launch)
            }
        };
        if map_public != planned.map_public_ip_on_launch {
            ec2.set_map_public_ip_on_launch(&id, planned.map_public_ip_on_launch)
                .await?;
            pass.did(Verb::Updated, format!("MapPublicIpOnLaunch of subnet {id}"));
        }
        pass.ids.subnets.insert(planned.key.clone(), id);
    }
    Ok(())
}

async fn ensure_internet_gateway(pass: &mut Pass<'_>, view: &NetworkView, vpc_id: &str) -> AwsResult<()> {
    let Some(planned) = &pass.plan.internet_gateway else {
        return Ok(());
    };
    let ec2 = pass.clients.ec2.clone();
    let (id, attached) = match find(&view.internet_gateways, |g| &g.tags, &planned.tags) {
        Some(igw) => {
            repair_tags(pass, &igw.id, &igw.tags, &planned.tags).await?;
            (igw.id.clone(), igw.attached_vpcs.iter().any(|v| v == vpc_id))
        }
        None => {
            let igw = ec2.create_internet_gateway(&planned.tags).await?;
            pass.did(Verb::Created, format!("internet gateway {}", igw.id));
            (igw.id, false)
        }
    };
    if !attached {
        // "Already associated" answers a repeat of an attach whose answer was lost.
        match ec2.attach_internet_gateway(&id, vpc_id).await {
            Ok(()) | Err(crate::error::AwsError::AlreadyExists(_)) => {}
            Err(e) => return Err(e),
        }
        pass.did(
            Verb::Updated,
            format!("attached internet gateway {id} to {vpc_id}"),
        );
    }
    pass.ids.internet_gateway_id = Some(id);
    Ok(())
}

async fn ensure_vpn_gateway(pass: &mut Pass<'_>, view: &NetworkView, vpc_id: &str) -> AwsResult<()> {
    let Some(planned) = &pass.plan.vpn_gateway else {
        return Ok(());
    };
    let ec2 = pass.clients.ec2.clone();
    let live: Vec<VpnGateway> = view
        .vpn_gateways
        .iter()
        .filter(|g| g.state != "deleted" && g.state != "deleting")
        .cloned()
        .collect();
    let (id, attached) = match find(&live, |g| &g.tags, &planned.tags) {
        Some(vgw) => {
            repair_tags(pass, &vgw.id, &vgw.tags, &planned.tags).await?;
            if vgw.state == "pending" {
                pass.waiting(format!("VPN gateway {} pending", vgw.id));
            }
            (vgw.id.clone(), vgw.is_attached_to(vpc_id))
        }
        None => {
            let vgw = ec2.create_vpn_gateway(&planned.tags).await?;
            pass.did(Verb::Created, format!("VPN gateway {}", vgw.id));
            (vgw.id, false)
        }
    };
    if !attached {
        ec2.attach_vpn_gateway(&id, vpc_id).await?;
        pass.did(Verb::Updated, format!("attached VPN gateway {id} to {vpc_id}"));
    }
    pass.ids.vpn_gateway_id = Some(id);
    Ok(())
}
