//! Managed node groups: create, describe, list, delete, `UpdateNodegroupConfig`, `UpdateNodegroupVersion`
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html> and siblings).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::clusters::{check_failed, valid_name, with_cluster};
use super::error::{EksError, EksResult, ErrorCode};
use super::model::*;
use super::updates::{busy, minor, retried, start_update};
use crate::timing::{Phase, now_ms};

/// At most this many managed node groups per cluster (EKS's default quota).
const NODEGROUPS_PER_CLUSTER: usize = 30;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScalingRequest {
    min_size: Option<i64>,
    max_size: Option<i64>,
    desired_size: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    nodegroup_name: String,
    scaling_config: Option<ScalingRequest>,
    disk_size: Option<i64>,
    #[serde(default)]
    subnets: Vec<String>,
    instance_types: Option<Vec<String>>,
    ami_type: Option<String>,
    remote_access: Option<Value>,
    node_role: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    taints: Vec<Taint>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    client_request_token: Option<String>,
    launch_template: Option<Value>,
    update_config: Option<Value>,
    capacity_type: Option<String>,
    version: Option<String>,
    release_version: Option<String>,
}

fn not_found(cluster: &str, group: &str) -> EksError {
    EksError::new(
        ErrorCode::ResourceNotFound,
        format!("No node group found for name: {group}."),
    )
    .cluster(cluster)
    .nodegroup(group)
}

/// The AMI release version of a Kubernetes version (one release per version in the emulator).
fn release_of(version: &str) -> String {
    format!("{version}.0-20261101")
}

fn scaling(requested: Option<&ScalingRequest>, current: ScalingConfig) -> EksResult<ScalingConfig> {
    let s = ScalingConfig {
        min_size: requested.and_then(|r| r.min_size).unwrap_or(current.min_size),
        max_size: requested.and_then(|r| r.max_size).unwrap_or(current.max_size),
        desired_size: requested
            .and_then(|r| r.desired_size)
            .unwrap_or(current.desired_size),
    };
    if s.min_size < 0 || s.max_size < 1 {
        return Err(EksError::invalid(
            "minSize must be at least 0 and maxSize at least 1",
        ));
    }
    if s.min_size > s.max_size {
        return Err(EksError::invalid(format!(
            "Minimum capacity {} can't be greater than maximum capacity {}",
            s.min_size, s.max_size
        )));
    }
    if s.desired_size > s.max_size {
        return Err(EksError::invalid(format!(
            "Desired capacity {} can't be greater than max size {}",
            s.desired_size, s.max_size
        )));
    }
    if s.desired_size < s.min_size {
        return Err(EksError::invalid(format!(
            "Minimum capacity {} can't be greater than desired size {}",
            s.min_size, s.desired_size
        )));
    }
    Ok(s)
}

fn check_version(version: &str, cluster_version: &str) -> EksResult<()> {
    // "The Kubernetes version ... can't be newer than the cluster's"
    // (https://docs.aws.amazon.com/eks/latest/userguide/update-managed-node-group.html).
    match (minor(version), minor(cluster_version)) {
        (Some(v), Some(c)) if v <= c => Ok(()),
        _ => Err(EksError::invalid(format!(
            "Requested Nodegroup version {version} is invalid. Nodegroup version must not be newer than the cluster version {cluster_version}"
        ))),
    }
}

enum Precheck {
    Retry(Value),
    Go { version: String, account: String },
}

/// `CreateNodegroup`: the cluster must be `ACTIVE`, the role and subnets must exist, and the version may not pass
/// the control plane's.
pub async fn create(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let q: CreateRequest = ctx.body()?;
    let name = q.nodegroup_name.clone();
    if !valid_name(&name) {
        return Err(EksError::invalid(format!("The node group name {name} is invalid")).nodegroup(&name));
    }
    let default_scaling = ScalingConfig {
        min_size: 1,
        max_size: 2,
        desired_size: 2,
    };
    let sizes = scaling(q.scaling_config.as_ref(), default_scaling).map_err(|e| e.nodegroup(&name))?;
    let precheck = with_cluster(ctx, cluster, |c| {
        if let Some(existing) = c.nodegroups.get(&name) {
            if q.client_request_token.is_some() && existing.token == q.client_request_token {
                return Ok(Precheck::Retry(json!({"nodegroup": existing.nodegroup})));
            }
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!("NodeGroup already exists with name {name} and cluster name {cluster}"),
            )
            .cluster(cluster)
            .nodegroup(&name));
        }
        if c.cluster.status != ClusterStatus::Active {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!("Cluster {cluster} is not ACTIVE (it is {:?})", c.cluster.status),
            )
            .cluster(cluster));
        }
        if c.nodegroups.len() >= NODEGROUPS_PER_CLUSTER {
            return Err(EksError::new(
                ErrorCode::ResourceLimitExceeded,
                format!("Cluster {cluster} already has {NODEGROUPS_PER_CLUSTER} node groups"),
            )
            .cluster(cluster));
        }
        Ok(Precheck::Go {
            version: c.cluster.version.clone(),
            account: c.account.clone(),
        })
    })?;
    let (cluster_version, account) = match precheck {
        Precheck::Retry(answer) => return Ok(answer),
        Precheck::Go { version, account } => (version, account),
    };
    let version = q.version.clone().unwrap_or_else(|| cluster_version.clone());
    check_version(&version, &cluster_version).map_err(|e| e.cluster(cluster).nodegroup(&name))?;
    if q.subnets.is_empty() {
        return Err(EksError::invalid("subnets must name at least one subnet").nodegroup(&name));
    }
    let backend = ctx.app.backend(ctx.scope);
    if !backend
        .role_exists(&q.node_role)
        .await
        .map_err(|e| check_failed(e, "nodeRole"))?
    {
        return Err(
            EksError::invalid(format!("The node role {} does not exist", q.node_role)).nodegroup(&name),
        );
    }
    let subnets = backend
        .subnets(&q.subnets)
        .await
        .map_err(|e| check_failed(e, "subnets"))?;
    if let Some(missing) = q.subnets.iter().find(|id| !subnets.iter().any(|s| &s.id == *id)) {
        return Err(EksError::invalid(format!("The subnet ID '{missing}' does not exist")).nodegroup(&name));
    }
    let zones: Vec<String> = subnets
        .iter()
        .map(|s| s.zone.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let now = now_ms();
    let suffix = uuid();
    let nodegroup = Nodegroup {
        nodegroup_name: name.clone(),
        nodegroup_arn: format!(
            "arn:aws:eks:{}:{account}:nodegroup/{cluster}/{name}/{suffix}",
            ctx.region()
        ),
        cluster_name: cluster.to_owned(),
        release_version: q.release_version.clone().unwrap_or_else(|| release_of(&version)),
        version,
        created_at: seconds(now),
        modified_at: seconds(now),
        status: NodegroupStatus::Creating,
        capacity_type: q.capacity_type.clone().unwrap_or_else(|| "ON_DEMAND".to_owned()),
        scaling_config: sizes,
        instance_types: q
            .instance_types
            .clone()
            .unwrap_or_else(|| vec!["t3.medium".to_owned()]),
        subnets: q.subnets.clone(),
        remote_access: q.remote_access.clone(),
        ami_type: q
            .ami_type
            .clone()
            .unwrap_or_else(|| "AL2023_x86_64_STANDARD".to_owned()),
        node_role: q.node_role.clone(),
        labels: q.labels.clone(),
        taints: q.taints.clone(),
        resources: json!({"autoScalingGroups": [{"name": format!("eks-{name}-{suffix}")}]}),
        disk_size: if q.launch_template.is_some() {
            q.disk_size
        } else {
            Some(q.disk_size.unwrap_or(20))
        },
        health: json!({"issues": []}),
        update_config: q
            .update_config
            .clone()
            .unwrap_or_else(|| json!({"maxUnavailable": 1})),
        launch_template: q.launch_template.clone(),
        tags: q.tags.clone(),
    };
    let duration = ctx
        .app
        .config()
        .timing
        .duration(Phase::NodegroupCreate, ctx.app.config().time_scale);
    with_cluster(ctx, cluster, |c| {
        if c.nodegroups.contains_key(&name) {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!("NodeGroup already exists with name {name} and cluster name {cluster}"),
            )
            .cluster(cluster)
            .nodegroup(&name));
        }
        let record = NodegroupRecord {
            nodegroup: nodegroup.clone(),
            ready_at: now + duration.as_millis() as u64,
            zones,
            token: q.client_request_token.clone(),
        };
        c.nodegroups.insert(name.clone(), record);
        Ok(json!({"nodegroup": nodegroup}))
    })
}

fn with_group<T>(
    ctx: &Ctx<'_>,
    cluster: &str,
    group: &str,
    f: impl FnOnce(&mut ClusterRecord) -> EksResult<T>,
) -> EksResult<T> {
    with_cluster(ctx, cluster, |c| {
        if !c.nodegroups.contains_key(group) {
            return Err(not_found(cluster, group));
        }
        f(c)
    })
}

/// `DescribeNodegroup`.
pub fn describe(ctx: &Ctx<'_>, cluster: &str, group: &str) -> EksResult<Value> {
    with_group(ctx, cluster, group, |c| {
        Ok(json!({"nodegroup": c.nodegroups[group].nodegroup}))
    })
}

/// `ListNodegroups`.
pub fn list(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let names = with_cluster(ctx, cluster, |c| {
        Ok(c.nodegroups.keys().cloned().collect::<Vec<_>>())
    })?;
    let (names, next) = super::page(ctx, names)?;
    Ok(json!({"nodegroups": names, "nextToken": next}))
}

/// `DeleteNodegroup`.
pub fn delete(ctx: &Ctx<'_>, cluster: &str, group: &str) -> EksResult<Value> {
    let duration = ctx
        .app
        .config()
        .timing
        .duration(Phase::NodegroupDelete, ctx.app.config().time_scale);
    with_group(ctx, cluster, group, |c| {
        if busy(c, &UpdateTarget::Nodegroup(group.to_owned())) {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!("Nodegroup {group} has an update in progress"),
            )
            .cluster(cluster)
            .nodegroup(group));
        }
        let Some(record) = c.nodegroups.get_mut(group) else {
            return Err(not_found(cluster, group));
        };
        if record.nodegroup.status != NodegroupStatus::Deleting {
            record.nodegroup.status = NodegroupStatus::Deleting;
            record.ready_at = now_ms() + duration.as_millis() as u64;
        }
        Ok(json!({"nodegroup": record.nodegroup}))
    })
}

fn require_active(c: &ClusterRecord, cluster: &str, group: &str) -> EksResult<()> {
    if busy(c, &UpdateTarget::Nodegroup(group.to_owned())) {
        return Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Nodegroup {group} has an update in progress"),
        )
        .cluster(cluster)
        .nodegroup(group));
    }
    match c.nodegroups.get(group).map(|g| g.nodegroup.status) {
        Some(NodegroupStatus::Active | NodegroupStatus::Degraded) => Ok(()),
        Some(status) => Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Nodegroup {group} is {status:?}"),
        )
        .cluster(cluster)
        .nodegroup(group)),
        None => Err(not_found(cluster, group)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigRequest {
    labels: Option<LabelsPayload>,
    taints: Option<TaintsPayload>,
    scaling_config: Option<ScalingRequest>,
    update_config: Option<Value>,
    client_request_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelsPayload {
    #[serde(default)]
    add_or_update_labels: BTreeMap<String, String>,
    #[serde(default)]
    remove_labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaintsPayload {
    #[serde(default)]
    add_or_update_taints: Vec<Taint>,
    #[serde(default)]
    remove_taints: Vec<Taint>,
}

/// `UpdateNodegroupConfig`: scaling, labels, taints and rolling-update settings, applied when the update succeeds.
pub fn update_config(ctx: &Ctx<'_>, cluster: &str, group: &str) -> EksResult<Value> {
    let q: ConfigRequest = ctx.body()?;
    let done_at = now_ms()
        + ctx
            .app
            .config()
            .timing
            .duration(Phase::NodegroupUpdate, ctx.app.config().time_scale)
            .as_millis() as u64;
    let target = UpdateTarget::Nodegroup(group.to_owned());
    with_group(ctx, cluster, group, |c| {
        if let Some(update) = retried(c, &target, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        require_active(c, cluster, group)?;
        let current = &c.nodegroups[group].nodegroup;
        let sizes = match &q.scaling_config {
            Some(requested) => {
                Some(scaling(Some(requested), current.scaling_config).map_err(|e| e.nodegroup(group))?)
            }
            None => None,
        };
        let labels = q.labels.as_ref();
        let taints = q.taints.as_ref();
        let mut params = Vec::new();
        if let Some(s) = sizes.filter(|s| *s != current.scaling_config) {
            params.push(("MinSize", s.min_size.to_string()));
            params.push(("MaxSize", s.max_size.to_string()));
            params.push(("DesiredSize", s.desired_size.to_string()));
        }
        if let Some(l) = labels {
            if !l.add_or_update_labels.is_empty() {
                params.push(("LabelsToAdd", json!(l.add_or_update_labels).to_string()));
            }
            if !l.remove_labels.is_empty() {
                params.push(("LabelsToRemove", json!(l.remove_labels).to_string()));
            }
        }
        if let Some(t) = taints {
            if !t.add_or_update_taints.is_empty() {
                params.push(("TaintsToAdd", json!(t.add_or_update_taints).to_string()));
            }
            if !t.remove_taints.is_empty() {
                params.push(("TaintsToRemove", json!(t.remove_taints).to_string()));
            }
        }
        if let Some(u) = q.update_config.as_ref().filter(|u| **u != current.update_config) {
            if let Some(n) = u["maxUnavailable"].as_i64() {
                params.push(("MaxUnavailable", n.to_string()));
            }
            if let Some(n) = u["maxUnavailablePercentage"].as_i64() {
                params.push(("MaxUnavailablePercentage", n.to_string()));
            }
        }
        if params.is_empty() {
            return Err(EksError::invalid("No changes needed")
                .cluster(cluster)
                .nodegroup(group));
        }
        let change = Change::NodegroupConfig {
            scaling: sizes,
            add_labels: labels.map(|l| l.add_or_update_labels.clone()).unwrap_or_default(),
            remove_labels: labels.map(|l| l.remove_labels.clone()).unwrap_or_default(),
            add_taints: taints.map(|t| t.add_or_update_taints.clone()).unwrap_or_default(),
            remove_taints: taints.map(|t| t.remove_taints.clone()).unwrap_or_default(),
            update_config: q.update_config.clone(),
        };
        if let Some(record) = c.nodegroups.get_mut(group) {
            record.nodegroup.status = NodegroupStatus::Updating;
        }
        Ok(start_update(
            c,
            target.clone(),
            "ConfigUpdate",
            params,
            q.client_request_token.clone(),
            done_at,
            change,
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionRequest {
    version: Option<String>,
    release_version: Option<String>,
    client_request_token: Option<String>,
}

/// `UpdateNodegroupVersion`: to the cluster's version by default; never newer than the control plane, never older
/// than the node group.
pub fn update_version(ctx: &Ctx<'_>, cluster: &str, group: &str) -> EksResult<Value> {
    let q: VersionRequest = ctx.body()?;
    let done_at = now_ms()
        + ctx
            .app
            .config()
            .timing
            .duration(Phase::NodegroupUpdate, ctx.app.config().time_scale)
            .as_millis() as u64;
    let target = UpdateTarget::Nodegroup(group.to_owned());
    with_group(ctx, cluster, group, |c| {
        if let Some(update) = retried(c, &target, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        require_active(c, cluster, group)?;
        let current = c.nodegroups[group].nodegroup.clone();
        let version = q.version.clone().unwrap_or_else(|| c.cluster.version.clone());
        check_version(&version, &c.cluster.version).map_err(|e| e.cluster(cluster).nodegroup(group))?;
        if minor(&version) < minor(&current.version) {
            return Err(EksError::invalid(format!(
                "Requested Nodegroup version {version} is older than the node group's version {}",
                current.version
            ))
            .cluster(cluster)
            .nodegroup(group));
        }
        let release_version = q.release_version.clone().unwrap_or_else(|| release_of(&version));
        if version == current.version && release_version == current.release_version {
            return Err(EksError::invalid(format!(
                "Nodegroup {group} is already at version {version} and release version {release_version}"
            ))
            .cluster(cluster)
            .nodegroup(group));
        }
        if let Some(record) = c.nodegroups.get_mut(group) {
            record.nodegroup.status = NodegroupStatus::Updating;
        }
        let params = vec![
            ("Version", version.clone()),
            ("ReleaseVersion", release_version.clone()),
        ];
        Ok(start_update(
            c,
            target.clone(),
            "VersionUpdate",
            params,
            q.client_request_token.clone(),
            done_at,
            Change::NodegroupVersion {
                version,
                release_version,
            },
        ))
    })
}
