//! EKS managed node groups: create, sizes (the autoscaler owns `desired` when the spec leaves it out),
//! labels, taints, version (following the control plane), and removal of groups dropped from the spec.
//!
//! EKS has no batch Describe for node groups. A pass lists them (one call) and describes each group only
//! when the region is not steady; a steady pass (Ready, spec unchanged) describes one group in rotation, so
//! a no-change reconcile costs the same whatever the number of groups, and hand-made changes are still
//! found within as many passes as there are groups.

use eks_api::TaintEffect;
use eks_plan::{NodeGroupPlan, RoleKind, tags};

use super::cluster::request_token;
use super::errors::EngineError;
use super::pass::{Pass, Verb, missing_tags};
use super::report::{NodegroupState, RecordedRegion};
use super::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult};
use crate::types::*;

fn effect(effect: TaintEffect) -> &'static str {
    match effect {
        TaintEffect::NoSchedule => "NO_SCHEDULE",
        TaintEffect::PreferNoSchedule => "PREFER_NO_SCHEDULE",
        TaintEffect::NoExecute => "NO_EXECUTE",
    }
}

fn desired_taints(plan: &NodeGroupPlan) -> Vec<Taint> {
    let mut taints: Vec<Taint> = plan
        .taints
        .iter()
        .map(|t| Taint {
            key: t.key.clone(),
            value: t.value.clone(),
            effect: effect(t.effect).to_owned(),
        })
        .collect();
    taints.sort();
    taints
}

fn state(ng: &Nodegroup) -> NodegroupState {
    NodegroupState {
        name: ng.name.clone(),
        status: ng.status.clone(),
        scaling: ng.scaling,
        arn: ng.arn.clone(),
    }
}

/// The sizes to keep: min and max from the plan; desired from the plan when it sets one, otherwise the
/// current desired size (the autoscaler's) kept within min and max.
pub fn wanted_scaling(plan: &NodeGroupPlan, current: Option<Scaling>) -> Scaling {
    let desired = match (plan.desired_size, current) {
        (Some(d), _) => d,
        (None, Some(c)) => c.desired.clamp(plan.min_size, plan.max_size.max(plan.min_size)),
        (None, None) => plan.min_size,
    };
    Scaling {
        min: plan.min_size,
        max: plan.max_size,
        desired,
    }
}

/// The changes that bring `ng` to the plan.
fn config_update(plan: &NodeGroupPlan, ng: &Nodegroup) -> NodegroupConfigUpdate {
    let scaling = wanted_scaling(plan, Some(ng.scaling));
    let mut update = NodegroupConfigUpdate {
        scaling: (scaling != ng.scaling).then_some(scaling),
        ..NodegroupConfigUpdate::default()
    };
    for (k, v) in &plan.labels {
        if ng.labels.get(k) != Some(v) {
            update.add_labels.insert(k.clone(), v.clone());
        }
    }
    update.remove_labels = ng
        .labels
        .keys()
        .filter(|k| !plan.labels.contains_key(*k))
        .cloned()
        .collect();
    let want = desired_taints(plan);
    update.add_taints = want.iter().filter(|t| !ng.taints.contains(t)).cloned().collect();
    update.remove_taints = ng.taints.iter().filter(|t| !want.contains(t)).cloned().collect();
    update
}

/// Ensures the planned node groups; returns true when every planned group runs the control plane's version.
pub(crate) async fn ensure(
    pass: &mut Pass<'_>,
    cluster: &Cluster,
    recorded: &RecordedRegion,
) -> Result<bool, EngineError> {
    let eks = pass.clients.eks.clone();
    let names = eks.list_nodegroups(&cluster.name).await?;
    let planned = &pass.plan.node_groups;
    let look_at: Vec<usize> = if recorded.steady && planned.len() > 1 {
        vec![pass.ctx.next_cursor(&cluster.arn) % planned.len()]
    } else {
        (0..planned.len()).collect()
    };
    let mut all_current = true;
    for (index, plan) in planned.iter().enumerate() {
        let exists = names.contains(&plan.name);
        if exists && !look_at.contains(&index) {
            if let Some(previous) = recorded.node_groups.iter().find(|n| n.name == plan.name) {
                pass.ids.node_groups.push(previous.clone());
            }
            continue;
        }
        let observed = if exists {
            eks.describe_nodegroup(&cluster.name, &plan.name).await?
        } else {
            None
        };
        match observed {
            None => {
                create(pass, cluster, plan).await?;
                all_current = false;
            }
            Some(ng) => all_current &= reconcile(pass, cluster, plan, &ng).await?,
        }
    }
    for extra in names.iter().filter(|n| planned.iter().all(|p| &p.name != *n)) {
        remove_extra(pass, &cluster.name, extra).await?;
    }
    Ok(all_current)
}

async fn create(pass: &mut Pass<'_>, cluster: &Cluster, plan: &NodeGroupPlan) -> Result<(), EngineError> {
    let role = pass.ids.roles.get(&RoleKind::Worker).cloned();
    let subnets: Option<Vec<String>> = plan
        .subnet_keys
        .iter()
        .map(|k| pass.ids.subnets.get(k).cloned())
        .collect();
    let (Some(node_role_arn), Some(subnet_ids)) = (role, subnets) else {
        pass.waiting(format!("node group {} waits for its role and subnets", plan.name));
        return Ok(());
    };
    let request = CreateNodegroup {
        cluster: cluster.name.clone(),
        name: plan.name.clone(),
        version: cluster.version.clone(),
        node_role_arn,
        subnet_ids,
        instance_types: plan.instance_types.clone(),
        scaling: wanted_scaling(plan, None),
        disk_size_gib: plan.disk_size_gib,
        ssh_key_name: plan.ssh_key_name.clone(),
        labels: plan.labels.clone(),
        taints: desired_taints(plan),
        capacity_type: plan.capacity_type.clone(),
        tags: plan.tags.clone(),
        client_request_token: request_token(&[
            &pass.plan.owner.uid,
            &cluster.arn,
            &plan.name,
            "create-nodegroup",
        ]),
    };
    match pass.clients.eks.create_nodegroup(&request).await {
        Ok(ng) => {
            pass.did(
                Verb::Created,
                format!("node group {} ({} nodes)", plan.name, request.scaling.desired),
            );
            pass.waiting(format!("node group {} {}", plan.name, ng.status));
            pass.ids.node_groups.push(state(&ng));
            Ok(())
        }
        Err(AwsError::IamPropagation(_)) => {
            pass.waiting(format!(
                "node group {} waits for its IAM role to propagate",
                plan.name
            ));
            Ok(())
        }
        Err(AwsError::Conflict(_) | AwsError::AlreadyExists(_)) => {
            pass.waiting(format!("node group {} being created", plan.name));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Brings one group to the plan; returns true when it runs the control plane's version.
async fn reconcile(
    pass: &mut Pass<'_>,
    cluster: &Cluster,
    plan: &NodeGroupPlan,
    ng: &Nodegroup,
) -> Result<bool, EngineError> {
    pass.ids.node_groups.push(state(ng));
    let current = ng.version == cluster.version;
    match ng.status.as_str() {
        "ACTIVE" => {}
        "CREATE_FAILED" | "DELETE_FAILED" => {
            return Err(EngineError::ResourceFailed {
                what: format!("node group {}", plan.name),
                status: ng.status.clone(),
                detail: ng.health_issues.join("; "),
            });
        }
        "DEGRADED" => {
            pass.blocking.push(format!(
                "node group {} DEGRADED: {}",
                plan.name,
                ng.health_issues.join("; ")
            ));
            return Ok(current);
        }
        status => {
            pass.waiting(format!("node group {} {status}", plan.name));
            return Ok(current);
        }
    }
    let eks = pass.clients.eks.clone();
    let update = config_update(plan, ng);
    if !update.is_empty() {
        eks.update_nodegroup_config(&cluster.name, &plan.name, &update)
            .await?;
        let verb = if update.scaling.is_some() {
            Verb::Repaired
        } else {
            Verb::Updated
        };
        pass.did(verb, format!("configuration of node group {}", plan.name));
        pass.waiting(format!("node group {} UPDATING", plan.name));
        return Ok(current);
    }
    if !current {
        eks.update_nodegroup_version(&cluster.name, &plan.name, &cluster.version)
            .await?;
        pass.did(
            Verb::Updated,
            format!(
                "node group {} upgrading {} -> {}",
                plan.name, ng.version, cluster.version
            ),
        );
        pass.waiting(format!("node group {} UPDATING", plan.name));
        return Ok(false);
    }
    let missing = missing_tags(&ng.tags, &plan.tags);
    if !missing.is_empty() && !ng.arn.is_empty() {
        eks.tag_resource(&ng.arn, &missing).await?;
        pass.did(Verb::Repaired, format!("tags of node group {}", plan.name));
    }
    Ok(true)
}

async fn remove_extra(pass: &mut Pass<'_>, cluster: &str, name: &str) -> AwsResult<()> {
    let eks = pass.clients.eks.clone();
    let Some(ng) = eks.describe_nodegroup(cluster, name).await? else {
        return Ok(());
    };
    if ng.tags.get(tags::OWNER_UID) != Some(&pass.plan.owner.uid) {
        return Ok(());
    }
    if ng.status != "DELETING" {
        crate::error::gone_is_done(eks.delete_nodegroup(cluster, name).await)?;
        pass.did(
            Verb::Deleted,
            format!("node group {name} (no longer in the spec)"),
        );
    }
    pass.waiting(format!("node group {name} DELETING"));
    Ok(())
}

/// Deletes every node group of the cluster (the cluster is this object's). Returns true when none is left.
pub(crate) async fn teardown(tp: &mut TeardownPass<'_>, cluster: &str) -> AwsResult<bool> {
    let eks = tp.clients.eks.clone();
    let names = match eks.list_nodegroups(cluster).await {
        Ok(names) => names,
        Err(e) if e.is_not_found() => return Ok(true),
        Err(e) => return Err(e),
    };
    for name in &names {
        let Some(ng) = eks.describe_nodegroup(cluster, name).await? else {
            continue;
        };
        if ng.status != "DELETING" {
            match eks.delete_nodegroup(cluster, name).await {
                Ok(()) => tp.did(Verb::Deleted, format!("node group {name}")),
                Err(e) if e.is_not_found() => continue,
                Err(AwsError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        tp.waiting(format!("node group {name} DELETING"));
    }
    Ok(names.is_empty())
}
