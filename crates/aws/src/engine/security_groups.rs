//! Security groups of the control plane and the nodes, and their rules.
//!
//! Rules are compared without their descriptions (as AWS does): missing rules are authorized, rules added out
//! of band are revoked. The cluster API (443) is open only to the nodes and to `publicAccessCidrs`.

use std::collections::{BTreeMap, BTreeSet};

use eks_plan::{RulePeer, SecurityGroupRule, tags};

use super::network::{find, repair_tags};
use super::pass::{Pass, Verb};
use super::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult};
use crate::types::*;

fn desired_rules(rules: &[SecurityGroupRule], ids: &BTreeMap<String, String>) -> Option<Vec<SgRule>> {
    rules
        .iter()
        .map(|r| {
            let peer = match &r.peer {
                RulePeer::Cidr { cidr } => SgPeer::Cidr(cidr.to_string()),
                RulePeer::SecurityGroup { key } => SgPeer::Group(ids.get(key)?.clone()),
            };
            Some(SgRule {
                protocol: r.protocol.clone(),
                from_port: r.from_port,
                to_port: r.to_port,
                peer,
                description: Some(r.description.clone()),
            })
        })
        .collect()
}

/// What AWS puts into a new group.
fn default_egress() -> Vec<SgRule> {
    vec![SgRule {
        protocol: "-1".into(),
        from_port: -1,
        to_port: -1,
        peer: SgPeer::Cidr("0.0.0.0/0".into()),
        description: None,
    }]
}

async fn reconcile_rules(
    pass: &mut Pass<'_>,
    group_id: &str,
    direction: Direction,
    observed: &[SgRule],
    desired: &[SgRule],
) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    let have: BTreeSet<_> = observed.iter().map(SgRule::identity).collect();
    let want: BTreeSet<_> = desired.iter().map(SgRule::identity).collect();
    let missing: Vec<SgRule> = desired
        .iter()
        .filter(|r| !have.contains(&r.identity()))
        .cloned()
        .collect();
    let extra: Vec<SgRule> = observed
        .iter()
        .filter(|r| !want.contains(&r.identity()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        match ec2.authorize_rules(group_id, direction, &missing).await {
            Ok(()) => {}
            // A duplicate refuses the whole call: some rules are there already (an earlier call whose answer
            // was lost). Each rule alone then, a duplicate being done.
            Err(AwsError::AlreadyExists(_)) if missing.len() > 1 => {
                for rule in &missing {
                    match ec2
                        .authorize_rules(group_id, direction, std::slice::from_ref(rule))
                        .await
                    {
                        Ok(()) | Err(AwsError::AlreadyExists(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(AwsError::AlreadyExists(_)) => {}
            Err(e) => return Err(e),
        }
        pass.did(
            Verb::Updated,
            format!("{} {direction:?} rules of {group_id}", missing.len()),
        );
    }
    if !extra.is_empty() {
        crate::error::gone_is_done(ec2.revoke_rules(group_id, direction, &extra).await)?;
        pass.did(
            Verb::Repaired,
            format!("revoked {} {direction:?} rules of {group_id}", extra.len()),
        );
    }
    Ok(())
}

/// Ensures the groups exist with exactly the planned rules.
pub(crate) async fn ensure(pass: &mut Pass<'_>, vpc_id: &str) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    let observed = ec2.describe_security_groups(&pass.filters).await?;
    let mut current: BTreeMap<String, (Vec<SgRule>, Vec<SgRule>)> = BTreeMap::new();
    for planned in &pass.plan.security_groups {
        let id = match find(&observed, |g| &g.tags, &planned.tags) {
            Some(group) => {
                repair_tags(pass, &group.id, &group.tags, &planned.tags).await?;
                current.insert(planned.key.clone(), (group.ingress.clone(), group.egress.clone()));
                group.id.clone()
            }
            None => {
                let request = CreateSecurityGroup {
                    vpc_id: vpc_id.to_owned(),
                    name: planned.name.clone(),
                    description: planned.description.clone(),
                    tags: planned.tags.clone(),
                };
                match ec2.create_security_group(&request).await {
                    Ok(id) => {
                        pass.did(Verb::Created, format!("security group {id} ({})", planned.name));
                        current.insert(planned.key.clone(), (Vec::new(), default_egress()));
                        id
                    }
                    // The name is taken in the VPC: by a create whose answer was lost (tagged at
                    // creation, so found by the owner filters), or by someone else (the error stands).
                    Err(error @ AwsError::AlreadyExists(_)) => {
                        let again = ec2.describe_security_groups(&pass.filters).await?;
                        let Some(group) = find(&again, |g| &g.tags, &planned.tags) else {
                            return Err(error);
                        };
                        pass.did(
                            Verb::Created,
                            format!(
                                "security group {} ({}) (found after a lost answer)",
                                group.id, planned.name
                            ),
                        );
                        current.insert(planned.key.clone(), (group.ingress.clone(), group.egress.clone()));
                        group.id.clone()
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        pass.ids.security_groups.insert(planned.key.clone(), id);
    }
    let ids = pass.ids.security_groups.clone();
    for planned in &pass.plan.security_groups {
        let (Some(id), Some((ingress, egress))) = (ids.get(&planned.key), current.get(&planned.key)) else {
            continue;
        };
        let (Some(want_in), Some(want_out)) = (
            desired_rules(&planned.ingress, &ids),
            desired_rules(&planned.egress, &ids),
        ) else {
            continue;
        };
        reconcile_rules(pass, id, Direction::Ingress, ingress, &want_in).await?;
        reconcile_rules(pass, id, Direction::Egress, egress, &want_out).await?;
    }
    Ok(())
}

/// Deletes this object's groups (rules that reference groups first, so that the two groups can go), and
/// the groups Kubernetes load balancer controllers left in the VPC tagged `kubernetes.io/cluster/<id>`
/// where nothing uses them any more. Returns true when none is left.
pub(crate) async fn teardown(tp: &mut TeardownPass<'_>, vpc_id: Option<&str>) -> AwsResult<bool> {
    let ec2 = tp.clients.ec2.clone();
    let mut groups = ec2.describe_security_groups(&tp.filters).await?;
    if let Some(vpc_id) = vpc_id {
        let key = format!("kubernetes.io/cluster/{}", tp.cluster_id);
        let leftovers = ec2
            .describe_security_groups(&[Filter::vpc(vpc_id), Filter::tag_key(&key)])
            .await?;
        groups.extend(
            leftovers
                .into_iter()
                .filter(|g| !g.tags.contains_key(tags::OWNER_UID) && g.name != "default"),
        );
    }
    for group in &groups {
        let by_group = |rules: &[SgRule]| -> Vec<SgRule> {
            rules
                .iter()
                .filter(|r| matches!(r.peer, SgPeer::Group(_)))
                .cloned()
                .collect()
        };
        for (direction, rules) in [
            (Direction::Ingress, by_group(&group.ingress)),
            (Direction::Egress, by_group(&group.egress)),
        ] {
            if !rules.is_empty() {
                crate::error::gone_is_done(ec2.revoke_rules(&group.id, direction, &rules).await)?;
            }
        }
    }
    let mut left = false;
    for group in &groups {
        match ec2.delete_security_group(&group.id).await {
            Ok(()) => tp.did(
                Verb::Deleted,
                format!("security group {} ({})", group.id, group.name),
            ),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::DependencyViolation(_)) => {
                left = true;
                tp.blocking.push(format!(
                    "security group {} ({}) is still in use by network interfaces",
                    group.id, group.name
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(!left)
}
