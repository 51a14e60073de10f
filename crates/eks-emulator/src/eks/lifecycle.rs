//! Moves states over time: clusters and node groups out of `CREATING`/`DELETING`, updates to `Successful` (their
//! change applied), and keeps each cluster's workload API server started, informed and stopped.
//!
//! [`advance`] runs on every EKS request (before and after it) and on a 100 ms tick. The pure part,
//! [`step`], decides; the effects (backend calls, workload servers) run afterwards without the state lock.

use std::sync::Arc;

use serde_json::json;

use super::model::*;
use crate::App;
use crate::scope::SigningScope;
use crate::timing::now_ms;
use crate::workload::{AccessEntry, ClusterAccess, ClusterKey, ManagedNodeGroupNodes, WorkloadSpec};

/// Something to do outside the state lock.
#[derive(Debug)]
pub enum Effect {
    /// Start the workload server of a cluster whose creation time has passed; it turns `ACTIVE` when it answers.
    Activate(WorkloadSpec),
    /// Delete what the control plane had in the backend and stop its workload server.
    Teardown {
        /// The cluster.
        key: ClusterKey,
        /// Its resources in the backend.
        network: ControlPlaneNetwork,
        /// The access key its backend calls sign with.
        access_key: String,
    },
}

/// Advances every deadline that has passed at `now`; returns what to do and whether anything changed.
pub fn step(
    state: &mut State,
    now: u64,
    activating: &std::collections::HashSet<ClusterKey>,
) -> (Vec<Effect>, bool) {
    let mut effects = Vec::new();
    let mut changed = false;
    for (region, regional) in state.regions.iter_mut() {
        let mut gone = Vec::new();
        for (name, c) in regional.clusters.iter_mut() {
            let key = ClusterKey {
                region: region.clone(),
                name: name.clone(),
            };
            match c.cluster.status {
                ClusterStatus::Creating if c.ready_at <= now && !activating.contains(&key) => {
                    effects.push(Effect::Activate(WorkloadSpec {
                        key,
                        cluster_id: issuer_id(c),
                        backend_endpoint: String::new(),
                        creator_arn: c.creator_arn.clone(),
                    }));
                }
                ClusterStatus::Deleting if c.ready_at <= now => {
                    gone.push(name.clone());
                    effects.push(Effect::Teardown {
                        key,
                        network: c.network.clone(),
                        access_key: c.access_key.clone(),
                    });
                }
                _ => {}
            }
            changed |= finish_updates(c, now);
            changed |= step_nodegroups(c, now);
            changed |= super::addons::step(c, now);
        }
        for name in gone {
            regional.clusters.remove(&name);
            changed = true;
        }
    }
    (effects, changed)
}

fn issuer_id(c: &ClusterRecord) -> String {
    c.cluster.identity["oidc"]["issuer"]
        .as_str()
        .and_then(|i| i.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}

fn step_nodegroups(c: &mut ClusterRecord, now: u64) -> bool {
    let mut changed = false;
    let mut gone = Vec::new();
    for (name, g) in c.nodegroups.iter_mut() {
        match g.nodegroup.status {
            NodegroupStatus::Creating if g.ready_at <= now => {
                g.nodegroup.status = NodegroupStatus::Active;
                g.nodegroup.modified_at = seconds(now);
                changed = true;
            }
            NodegroupStatus::Deleting if g.ready_at <= now => {
                gone.push(name.clone());
            }
            _ => {}
        }
    }
    for name in gone {
        c.nodegroups.remove(&name);
        changed = true;
    }
    changed
}

fn finish_updates(c: &mut ClusterRecord, now: u64) -> bool {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for u in c.updates.iter_mut() {
        if u.update.status == UpdateStatus::InProgress && u.done_at <= now {
            if let Some(error) = &u.failure {
                // A failed update changes nothing (EKS rolls it back) and reports why in `errors`.
                u.update.status = UpdateStatus::Failed;
                u.update.errors = vec![error.clone()];
                failed.push(u.target.clone());
            } else {
                u.update.status = UpdateStatus::Successful;
                done.push((u.target.clone(), u.change.clone()));
            }
        }
    }
    if done.is_empty() && failed.is_empty() {
        return false;
    }
    for (target, change) in done {
        apply(c, &target, change, now);
    }
    for target in failed {
        if let UpdateTarget::Addon(name) = target
            && let Some(a) = c.addons.get_mut(&name)
        {
            a.status = AddonStatus::UpdateFailed;
        }
    }
    let busy = |c: &ClusterRecord, t: &UpdateTarget| {
        c.updates
            .iter()
            .any(|u| &u.target == t && u.update.status == UpdateStatus::InProgress)
    };
    if c.cluster.status == ClusterStatus::Updating && !busy(c, &UpdateTarget::Cluster) {
        c.cluster.status = ClusterStatus::Active;
    }
    let idle: Vec<String> = c
        .nodegroups
        .keys()
        .filter(|n| !busy(c, &UpdateTarget::Nodegroup((*n).clone())))
        .cloned()
        .collect();
    for name in idle {
        if let Some(g) = c.nodegroups.get_mut(&name)
            && g.nodegroup.status == NodegroupStatus::Updating
        {
            g.nodegroup.status = NodegroupStatus::Active;
        }
    }
    let idle: Vec<String> = c
        .addons
        .keys()
        .filter(|n| !busy(c, &UpdateTarget::Addon((*n).clone())))
        .cloned()
        .collect();
    for name in idle {
        if let Some(a) = c.addons.get_mut(&name)
            && a.status == AddonStatus::Updating
        {
            a.status = AddonStatus::Active;
        }
    }
    true
}

fn apply(c: &mut ClusterRecord, target: &UpdateTarget, change: Change, now: u64) {
    let cluster = &mut c.cluster;
    match change {
        Change::ClusterVersion(version) => cluster.version = version,
        Change::EndpointAccess {
            public,
            private,
            cidrs,
        } => {
            let vpc = &mut cluster.resources_vpc_config;
            vpc.endpoint_public_access = public.unwrap_or(vpc.endpoint_public_access);
            vpc.endpoint_private_access = private.unwrap_or(vpc.endpoint_private_access);
            if let Some(cidrs) = cidrs {
                vpc.public_access_cidrs = cidrs;
            }
        }
        Change::Logging(logging) => cluster.logging = logging,
        Change::AuthenticationMode(mode) => cluster.access_config.authentication_mode = mode,
        Change::UpgradePolicy(policy) => cluster.upgrade_policy = policy,
        Change::ZonalShift(shift) => cluster.zonal_shift_config = Some(shift),
        Change::Encryption(config) => cluster.encryption_config = Some(config),
        Change::NodegroupConfig {
            scaling,
            add_labels,
            remove_labels,
            add_taints,
            remove_taints,
            update_config,
        } => {
            let UpdateTarget::Nodegroup(name) = target else {
                return;
            };
            let Some(g) = c.nodegroups.get_mut(name) else {
                return;
            };
            let group = &mut g.nodegroup;
            if let Some(s) = scaling {
                group.scaling_config = s;
            }
            group.labels.extend(add_labels);
            for key in remove_labels {
                group.labels.remove(&key);
            }
            group.taints.retain(|t| {
                !remove_taints
                    .iter()
                    .any(|r| r.key == t.key && r.effect == t.effect)
            });
            for taint in add_taints {
                group
                    .taints
                    .retain(|t| !(t.key == taint.key && t.effect == taint.effect));
                group.taints.push(taint);
            }
            if let Some(u) = update_config {
                group.update_config = u;
            }
            group.modified_at = seconds(now);
        }
        Change::Addon(change) => {
            if let UpdateTarget::Addon(name) = target {
                super::addons::apply_change(c, name, change, now);
            }
        }
        Change::NodegroupVersion {
            version,
            release_version,
        } => {
            let UpdateTarget::Nodegroup(name) = target else {
                return;
            };
            let Some(g) = c.nodegroups.get_mut(name) else {
                return;
            };
            g.nodegroup.version = version;
            g.nodegroup.release_version = release_version;
            g.nodegroup.modified_at = seconds(now);
        }
    }
}

/// The access configuration a cluster's workload server enforces.
pub fn access_of(c: &ClusterRecord) -> ClusterAccess {
    let mode = serde_json::to_value(c.cluster.access_config.authentication_mode).unwrap_or_default();
    ClusterAccess {
        authentication_mode: mode.as_str().unwrap_or_default().to_owned(),
        creator_arn: c.creator_arn.clone(),
        bootstrap_creator_admin: c
            .cluster
            .access_config
            .bootstrap_cluster_creator_admin_permissions,
        entries: c
            .access_entries
            .values()
            .map(|e| AccessEntry {
                principal_arn: e.entry["principalArn"].as_str().unwrap_or_default().to_owned(),
                kind: e.entry["type"].as_str().unwrap_or_default().to_owned(),
                username: e.entry["username"].as_str().unwrap_or_default().to_owned(),
                groups: e.entry["kubernetesGroups"]
                    .as_array()
                    .map(|g| g.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
                policies: e
                    .policies
                    .values()
                    .map(|p| {
                        let namespaces = p["accessScope"]["namespaces"]
                            .as_array()
                            .map(|n| n.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default();
                        (
                            p["policyArn"].as_str().unwrap_or_default().to_owned(),
                            p["accessScope"]["type"].as_str().unwrap_or_default().to_owned(),
                            namespaces,
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The `ACTIVE` (or updating) managed node groups of a cluster as nodes.
pub fn nodes_of(c: &ClusterRecord) -> Vec<ManagedNodeGroupNodes> {
    c.nodegroups
        .values()
        .filter(|g| {
            matches!(
                g.nodegroup.status,
                NodegroupStatus::Active | NodegroupStatus::Updating | NodegroupStatus::Degraded
            )
        })
        .map(|g| {
            let n = &g.nodegroup;
            ManagedNodeGroupNodes {
                name: n.nodegroup_name.clone(),
                desired_size: n.scaling_config.desired_size,
                labels: n.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                taints: n
                    .taints
                    .iter()
                    .map(|t| (t.key.clone(), t.value.clone(), t.effect.clone()))
                    .collect(),
                instance_type: n.instance_types.first().cloned().unwrap_or_default(),
                version: n.version.clone(),
                node_role_arn: n.node_role.clone(),
                zones: g.zones.clone(),
            }
        })
        .collect()
}

/// Advances the state to now and runs the resulting effects.
pub async fn advance(app: &Arc<App>) {
    let (effects, changed) = {
        let mut activating = app.activating.lock().unwrap_or_else(|p| p.into_inner());
        let (effects, changed) = step(&mut app.state(), now_ms(), &activating);
        for effect in &effects {
            if let Effect::Activate(spec) = effect {
                activating.insert(spec.key.clone());
            }
        }
        (effects, changed)
    };
    for effect in effects {
        run(app, effect).await;
    }
    push(app);
    if changed {
        app.save();
    }
}

async fn run(app: &Arc<App>, effect: Effect) {
    match effect {
        Effect::Activate(mut spec) => {
            spec.backend_endpoint = app.forwarder().backend().to_owned();
            let key = spec.key.clone();
            let started = app.workload.start(spec).await;
            {
                let mut state = app.state();
                if let (Ok(endpoint), Some(c)) =
                    (&started, state.region(&key.region).clusters.get_mut(&key.name))
                    && matches!(
                        c.cluster.status,
                        ClusterStatus::Creating | ClusterStatus::Active | ClusterStatus::Updating
                    )
                {
                    c.cluster.endpoint = Some(endpoint.endpoint.clone());
                    c.cluster.certificate_authority = Some(json!({"data": endpoint.certificate_authority}));
                    if c.cluster.status == ClusterStatus::Creating {
                        c.cluster.status = ClusterStatus::Active;
                    }
                }
            }
            if let Err(err) = &started {
                tracing::warn!(cluster = %key.name, error = %err, "starting the workload API server; retrying");
            }
            app.activating
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
            app.save();
        }
        Effect::Teardown {
            key,
            network,
            access_key,
        } => {
            let scope = SigningScope {
                access_key,
                region: key.region.clone(),
                service: "ec2".to_owned(),
            };
            if let Err(err) = app.backend(&scope).delete_control_plane_network(&network).await {
                tracing::warn!(cluster = %key.name, error = %err, "deleting the control plane network");
            }
            app.workload.stop(&key).await;
            app.pushed.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        }
    }
}

/// Pushes each live cluster's access configuration and node groups to its workload server when they changed.
fn push(app: &Arc<App>) {
    let current: Vec<(ClusterKey, ClusterAccess, Vec<ManagedNodeGroupNodes>)> = {
        let state = app.state();
        state
            .regions
            .iter()
            .flat_map(|(region, r)| {
                r.clusters
                    .values()
                    .filter(|c| c.cluster.endpoint.is_some())
                    .map(move |c| {
                        (
                            ClusterKey {
                                region: region.clone(),
                                name: c.cluster.name.clone(),
                            },
                            access_of(c),
                            nodes_of(c),
                        )
                    })
            })
            .collect()
    };
    let mut pushed = app.pushed.lock().unwrap_or_else(|p| p.into_inner());
    for (key, access, nodes) in current {
        let previous = pushed.get(&key);
        if previous.is_none_or(|(a, _)| a != &access) {
            app.workload.set_access(&key, access.clone());
        }
        if previous.is_none_or(|(_, n)| n != &nodes) {
            app.workload.set_node_groups(&key, nodes.clone());
        }
        pushed.insert(key, (access, nodes));
    }
}

/// After a restart: restarts the workload server of every cluster that had one (its endpoint may change).
pub async fn resume(app: &Arc<App>) {
    let specs: Vec<WorkloadSpec> = {
        let state = app.state();
        state
            .regions
            .iter()
            .flat_map(|(region, r)| {
                r.clusters
                    .values()
                    .filter(|c| c.cluster.endpoint.is_some())
                    .map(move |c| WorkloadSpec {
                        key: ClusterKey {
                            region: region.clone(),
                            name: c.cluster.name.clone(),
                        },
                        cluster_id: issuer_id(c),
                        backend_endpoint: String::new(),
                        creator_arn: c.creator_arn.clone(),
                    })
            })
            .collect()
    };
    for spec in specs {
        run(app, Effect::Activate(spec)).await;
    }
}
