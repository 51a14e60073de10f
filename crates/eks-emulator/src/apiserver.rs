//! The real [`WorkloadHost`]: one [`workload_apiserver::WorkloadApiServer`] per `ACTIVE` cluster, over TLS on a
//! loopback port, with the CA it generated.
//!
//! With a state directory each cluster's server keeps its CA, port and objects under
//! `DIR/workload/<region>/<name>/`, so a restarted emulator resumes it with the same endpoint and CA (when the
//! port is still free). Deleting the cluster stops its server and removes that directory: a cluster created
//! again under the same name gets a new CA, as on EKS.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use workload_apiserver::{
    AccessEntryKind, AssociatedPolicy, AuthenticationMode, PolicyScope, Taint, WorkloadApiServer,
    WorkloadConfig,
};

use crate::workload::{
    AccessEntry, BoxFuture, ClusterAccess, ClusterKey, ManagedNodeGroupNodes, WorkloadEndpoint, WorkloadHost,
    WorkloadSpec,
};

/// What the host last heard for a cluster, replayed onto a server that (re)starts.
#[derive(Default)]
struct Known {
    access: Option<ClusterAccess>,
    groups: Option<Vec<ManagedNodeGroupNodes>>,
}

/// Runs a [`WorkloadApiServer`] per cluster.
pub struct ApiServerHost {
    state_dir: Option<PathBuf>,
    reconcile_interval: Duration,
    sts_endpoints: Mutex<Vec<String>>,
    servers: Mutex<HashMap<ClusterKey, WorkloadApiServer>>,
    known: Mutex<HashMap<ClusterKey, Known>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ApiServerHost {
    /// A host keeping each server's state under `state_dir/workload/` (None: in memory only).
    pub fn new(state_dir: Option<&Path>) -> Self {
        Self {
            state_dir: state_dir.map(|d| d.join("workload")),
            reconcile_interval: Duration::from_secs(1),
            sts_endpoints: Mutex::new(Vec::new()),
            servers: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// How often each server's node loop runs besides after every change (default one second).
    pub fn with_reconcile_interval(mut self, interval: Duration) -> Self {
        self.reconcile_interval = interval;
        self
    }

    fn cluster_dir(&self, key: &ClusterKey) -> Option<PathBuf> {
        self.state_dir
            .as_ref()
            .map(|d| d.join(&key.region).join(&key.name))
    }

    /// The number of servers running (for tests and the benchmark).
    pub fn running(&self) -> usize {
        lock(&self.servers).len()
    }
}

impl std::fmt::Debug for ApiServerHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServerHost")
            .field("state_dir", &self.state_dir)
            .field("running", &self.running())
            .finish()
    }
}

/// The EKS API's `authenticationMode`.
fn mode(value: &str) -> AuthenticationMode {
    match value {
        "API" => AuthenticationMode::Api,
        "API_AND_CONFIG_MAP" => AuthenticationMode::ApiAndConfigMap,
        _ => AuthenticationMode::ConfigMap,
    }
}

/// The EKS API's access entry `type`.
fn kind(value: &str) -> AccessEntryKind {
    match value {
        "EC2_LINUX" => AccessEntryKind::Ec2Linux,
        "EC2_WINDOWS" => AccessEntryKind::Ec2Windows,
        "FARGATE_LINUX" => AccessEntryKind::FargateLinux,
        "HYBRID_LINUX" => AccessEntryKind::HybridLinux,
        _ => AccessEntryKind::Standard,
    }
}

/// The EKS API's taint effect (`NO_SCHEDULE`) as Kubernetes writes it (`NoSchedule`).
fn effect(value: &str) -> String {
    match value {
        "NO_EXECUTE" => "NoExecute",
        "PREFER_NO_SCHEDULE" => "PreferNoSchedule",
        _ => "NoSchedule",
    }
    .to_owned()
}

fn entry(e: &AccessEntry) -> workload_apiserver::AccessEntry {
    workload_apiserver::AccessEntry {
        principal_arn: e.principal_arn.clone(),
        kind: kind(&e.kind),
        username: (!e.username.is_empty()).then(|| e.username.clone()),
        groups: e.groups.clone(),
        policies: e
            .policies
            .iter()
            .map(|(arn, scope, namespaces)| AssociatedPolicy {
                policy_arn: arn.clone(),
                scope: if scope == "namespace" {
                    PolicyScope::Namespaces(namespaces.clone())
                } else {
                    PolicyScope::Cluster
                },
            })
            .collect(),
    }
}

/// The creator as EKS matches it: an assumed-role session (`arn:aws:sts::A:assumed-role/R/S`, as STS names
/// the caller) is its role (`arn:aws:iam::A:role/R`).
fn creator(arn: &str) -> String {
    workload_apiserver::sts::canonical_principal(arn).0
}

fn access(a: &ClusterAccess) -> workload_apiserver::ClusterAccess {
    workload_apiserver::ClusterAccess {
        authentication_mode: mode(&a.authentication_mode),
        creator_arn: creator(&a.creator_arn),
        bootstrap_creator_admin: a.bootstrap_creator_admin,
        entries: a.entries.iter().map(entry).collect(),
    }
}

fn groups(groups: &[ManagedNodeGroupNodes]) -> Vec<workload_apiserver::ManagedNodeGroupNodes> {
    groups
        .iter()
        .map(|g| workload_apiserver::ManagedNodeGroupNodes {
            name: g.name.clone(),
            desired_size: u32::try_from(g.desired_size.max(0)).unwrap_or(u32::MAX),
            labels: g.labels.iter().cloned().collect(),
            taints: g
                .taints
                .iter()
                .map(|(key, value, e)| Taint {
                    key: key.clone(),
                    value: value.clone().unwrap_or_default(),
                    effect: effect(e),
                })
                .collect(),
            instance_type: g.instance_type.clone(),
            version: g.version.clone(),
            node_role_arn: g.node_role_arn.clone(),
            zones: g.zones.clone(),
        })
        .collect()
}

impl WorkloadHost for ApiServerHost {
    fn serving_at(&self, authority: &str) {
        let mut endpoints = lock(&self.sts_endpoints);
        if !endpoints.iter().any(|e| e == authority) {
            endpoints.push(authority.to_owned());
        }
    }

    fn start(&self, spec: WorkloadSpec) -> BoxFuture<'_, Result<WorkloadEndpoint, String>> {
        Box::pin(async move {
            if let Some(server) = lock(&self.servers).get(&spec.key) {
                return Ok(WorkloadEndpoint {
                    endpoint: server.endpoint(),
                    certificate_authority: server.certificate_authority(),
                });
            }
            let mut config = WorkloadConfig::new(
                &spec.key.name,
                &spec.key.region,
                &spec.backend_endpoint,
                &creator(&spec.creator_arn),
            );
            config.state_dir = self.cluster_dir(&spec.key);
            config.sts_endpoints = lock(&self.sts_endpoints).clone();
            config.reconcile_interval = self.reconcile_interval;
            let server = WorkloadApiServer::start(config)
                .await
                .map_err(|err| format!("{}: {err}", err.name()))?;
            if let Some(known) = lock(&self.known).get(&spec.key) {
                if let Some(a) = &known.access {
                    server.set_access(access(a));
                }
                if let Some(g) = &known.groups {
                    server.set_node_groups(groups(g));
                }
            }
            let endpoint = WorkloadEndpoint {
                endpoint: server.endpoint(),
                certificate_authority: server.certificate_authority(),
            };
            lock(&self.servers).insert(spec.key, server);
            Ok(endpoint)
        })
    }

    fn set_access(&self, key: &ClusterKey, a: ClusterAccess) {
        if let Some(server) = lock(&self.servers).get(key) {
            server.set_access(access(&a));
        }
        lock(&self.known).entry(key.clone()).or_default().access = Some(a);
    }

    fn set_node_groups(&self, key: &ClusterKey, g: Vec<ManagedNodeGroupNodes>) {
        if let Some(server) = lock(&self.servers).get(key) {
            server.set_node_groups(groups(&g));
        }
        lock(&self.known).entry(key.clone()).or_default().groups = Some(g);
    }

    fn stop(&self, key: &ClusterKey) -> BoxFuture<'_, ()> {
        let key = key.clone();
        Box::pin(async move {
            lock(&self.known).remove(&key);
            let server = lock(&self.servers).remove(&key);
            if let Some(server) = server {
                server.shutdown().await;
            }
            if let Some(dir) = self.cluster_dir(&key)
                && dir.exists()
                && let Err(error) = std::fs::remove_dir_all(&dir)
            {
                tracing::warn!(cluster = %key.name, %error, "removing the workload server's state");
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let servers: Vec<WorkloadApiServer> = lock(&self.servers).drain().map(|(_, s)| s).collect();
            for server in servers {
                server.shutdown().await;
            }
        })
    }
}
