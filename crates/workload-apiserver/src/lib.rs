//! A Kubernetes API server per emulated EKS cluster, reached over TLS like an EKS endpoint.
//!
//! [`WorkloadApiServer::start`] generates (or loads) the cluster's CA, serves `https://127.0.0.1:PORT` with a
//! certificate it signed, authenticates aws-iam-authenticator bearer tokens through the backend's STS
//! ([`token`], [`sts`]), authorizes like EKS ([`access`], [`rbac`], [`policies`]) and forwards what is allowed to
//! an in-process [`kube_emulator::Emulator`]. A reconcile loop ([`nodes`]) registers the nodes of managed node
//! groups and of self-managed instances, Ready only while their role is mapped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), workload_apiserver::StartError> {
//! use workload_apiserver::{WorkloadApiServer, WorkloadConfig};
//! let server = WorkloadApiServer::start(WorkloadConfig::new("demo", "eu-west-1", "http://127.0.0.1:5000",
//!     "arn:aws:iam::123456789012:role/admin")).await?;
//! println!("{} {}", server.endpoint(), server.certificate_authority());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
mod front;
pub mod nodes;
mod persist;
pub mod policies;
pub mod rbac;
mod review;
mod signature;
pub mod sts;
pub mod tls;
pub mod token;
pub mod userdata;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

pub use access::{
    AccessEntry, AccessEntryKind, AssociatedPolicy, AuthenticationMode, ClusterAccess, PolicyScope,
};
pub use nodes::{HealthIssue, ManagedNodeGroupNodes, Taint};

/// How to start a cluster's API server.
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// The EKS cluster name (the value tokens must sign as `x-k8s-aws-id`).
    pub cluster_name: String,
    /// Its region (node names, topology labels).
    pub region: String,
    /// The AWS endpoint for STS, EC2 and IAM (moto, or eks-emulator in front of it).
    pub backend_endpoint: String,
    /// The IAM principal that created the cluster (until [`WorkloadApiServer::set_access`] says more, it is
    /// the cluster admin, as in `CONFIG_MAP` mode).
    pub creator_arn: String,
    /// Where to keep the CA, the port and the cluster's objects across restarts (None: in memory only).
    pub state_dir: Option<PathBuf>,
    /// Loopback port (0: the one in `state_dir` if any, else a free one).
    pub port: u16,
    /// Extra `host:port` authorities a token's URL may point at besides the AWS STS hosts (the local AWS
    /// endpoints that clients sign for). The backend's authority is always accepted.
    pub sts_endpoints: Vec<String>,
    /// Access key id → secret key of credentials whose token signatures are verified for this cluster's
    /// name (STS's check, which the backend does not make); tokens of other keys are checked for structure
    /// and expiry only.
    pub known_credentials: BTreeMap<String, String>,
    /// Credentials for the backend's EC2 and IAM (self-managed workers); any value works against moto.
    pub backend_credentials: (String, String),
    /// How often the node reconcile loop runs (it also runs at once after every `set_*` call).
    pub reconcile_interval: Duration,
}

impl WorkloadConfig {
    /// A configuration with the defaults: in memory, a free port, test credentials, a one-second loop.
    pub fn new(cluster_name: &str, region: &str, backend_endpoint: &str, creator_arn: &str) -> Self {
        Self {
            cluster_name: cluster_name.to_owned(),
            region: region.to_owned(),
            backend_endpoint: backend_endpoint.trim_end_matches('/').to_owned(),
            creator_arn: creator_arn.to_owned(),
            state_dir: None,
            port: 0,
            sts_endpoints: Vec::new(),
            known_credentials: BTreeMap::new(),
            backend_credentials: ("testing".to_owned(), "testing".to_owned()),
            reconcile_interval: Duration::from_secs(1),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The CA or serving certificate.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// Binding the loopback port.
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The error.
        source: std::io::Error,
    },
    /// The in-process API server.
    #[error("starting the in-process API server: {0}")]
    Emulator(#[from] kube_emulator::StartError),
    /// Reading the state directory.
    #[error("state directory: {0}")]
    State(#[from] persist::PersistError),
}

impl StartError {
    /// A stable short name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Tls(_) => "TlsSetup",
            Self::Bind { .. } => "Bind",
            Self::Emulator(_) => "EmulatorStart",
            Self::State(_) => "StateDir",
        }
    }
}

/// A running cluster API server; stops on [`Self::shutdown`] or when dropped.
pub struct WorkloadApiServer {
    shared: Arc<front::Shared>,
    addr: SocketAddr,
    ca_data: String,
    emulator: Option<kube_emulator::Emulator>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkloadApiServer {
    /// Starts serving; ready when this returns.
    pub async fn start(config: WorkloadConfig) -> Result<Self, StartError> {
        let state_dir = config.state_dir.clone();
        let ca = tls::ClusterCa::load_or_generate(&config.cluster_name, state_dir.as_deref())?;
        let tls_config = ca.server_config(&config.cluster_name)?;
        let saved = persist::Saved::load(state_dir.as_deref())?;
        let port = if config.port != 0 {
            config.port
        } else {
            saved.port.unwrap_or(0)
        };
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            // The remembered port is taken: a new one (the endpoint changes; see the README).
            Err(_) if config.port == 0 && port != 0 => tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|source| StartError::Bind { port: 0, source })?,
            Err(source) => return Err(StartError::Bind { port, source }),
        };
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { port, source })?;
        let emulator = kube_emulator::Emulator::start().await?;
        nodes::serve_nodes(emulator.state());
        for crd in saved.crds() {
            if let Err(error) = emulator.apply_json(&crd) {
                tracing::warn!(%error, "a saved CustomResourceDefinition was refused");
            }
        }
        saved.restore(emulator.state());
        for object in policies::bootstrap_objects() {
            let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            let bucket = match object["kind"].as_str() {
                Some("ClusterRole") => "rbac.authorization.k8s.io/clusterroles",
                _ => "rbac.authorization.k8s.io/clusterrolebindings",
            };
            let exists = emulator
                .state()
                .store
                .lock()
                .map(|s| s.get(bucket, "", &name).is_some())
                .unwrap_or(true);
            if !exists && let Err(error) = emulator.apply_json(&object) {
                tracing::warn!(%error, name, "bootstrap RBAC object refused");
            }
        }
        let shared = Arc::new(front::Shared::new(
            config,
            emulator.url(),
            emulator.state().clone(),
            saved,
        ));
        shared.save_port(addr.port());
        let tasks = vec![
            tokio::spawn(front::serve(
                listener,
                tokio_rustls::TlsAcceptor::from(tls_config),
                shared.clone(),
            )),
            tokio::spawn(nodes::run(shared.clone())),
        ];
        Ok(Self {
            shared,
            addr,
            ca_data: ca.data(),
            emulator: Some(emulator),
            tasks,
        })
    }

    /// `https://127.0.0.1:PORT`, as `DescribeCluster` returns `endpoint`.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Base64 of the CA's PEM, as `DescribeCluster` returns `certificateAuthority.data`.
    pub fn certificate_authority(&self) -> String {
        self.ca_data.clone()
    }

    /// Replaces who may use the cluster (authentication mode, creator, access entries).
    pub fn set_access(&self, access: ClusterAccess) {
        self.shared.set_access(access);
    }

    /// Adds the secret of an access key (for example one that the local AWS endpoint saw STS `AssumeRole`
    /// return), so tokens it signs are verified for this cluster's name from now on.
    pub fn add_known_credentials(&self, access_key_id: &str, secret_access_key: &str) {
        if let Ok(mut known) = self.shared.known_credentials.write() {
            known.insert(access_key_id.to_owned(), secret_access_key.to_owned());
        }
    }

    /// Replaces the managed node groups whose nodes should exist.
    pub fn set_node_groups(&self, groups: Vec<ManagedNodeGroupNodes>) {
        self.shared.set_node_groups(groups);
    }

    /// The health issues of a managed node group (as `DescribeNodegroup` reports `health.issues`).
    pub fn node_group_health(&self, name: &str) -> Vec<HealthIssue> {
        self.shared.node_group_health(name)
    }

    /// The self-managed instances (tagged `kubernetes.io/cluster/<name>=owned`) the reconcile loop has seen,
    /// with their private DNS names, whether or not their role lets them join.
    pub fn seen_instances(&self) -> BTreeMap<String, String> {
        self.shared
            .instance_dns
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// The in-process store, bypassing authentication (white-box checks).
    pub fn store(&self) -> Option<&Arc<kube_emulator::State>> {
        self.emulator.as_ref().map(kube_emulator::Emulator::state)
    }

    /// Stops serving, saves the cluster's objects (with a state directory) and waits for the tasks.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.shared.save();
        if let Some(emulator) = self.emulator.take() {
            emulator.shutdown().await;
        }
    }
}

impl Drop for WorkloadApiServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.shared.save();
    }
}
