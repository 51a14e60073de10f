//! The per-cluster workload API server, behind a narrow trait so the EKS model does not depend on how it runs.
//!
//! `eks-emulator` starts one when a cluster becomes `ACTIVE` (its endpoint and CA then appear in
//! `DescribeCluster`), pushes the cluster's access configuration and node groups whenever they change, and stops
//! it when the cluster is deleted. [`crate::apiserver::ApiServerHost`] runs the `workload-apiserver` crate's
//! server (what the binary uses); [`NoWorkload`] answers an endpoint in AWS's shape that nothing serves.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// A boxed future, so the trait stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Identifies a cluster across regions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterKey {
    /// Region.
    pub region: String,
    /// Cluster name.
    pub name: String,
}

/// What a workload server needs to start.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// The cluster.
    pub key: ClusterKey,
    /// Its unique id (hex), as in the endpoint host name.
    pub cluster_id: String,
    /// The backend endpoint (for STS token resolution).
    pub backend_endpoint: String,
    /// The ARN of the cluster creator.
    pub creator_arn: String,
}

/// Where a started server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadEndpoint {
    /// `https://...`.
    pub endpoint: String,
    /// Base64 of the CA PEM, as `certificateAuthority.data`.
    pub certificate_authority: String,
}

/// One access entry as the workload server authorizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// IAM principal.
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, ...
    pub kind: String,
    /// Kubernetes user name.
    pub username: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Associated policies: (policy ARN, scope type, namespaces).
    pub policies: Vec<(String, String, Vec<String>)>,
}

/// A cluster's authentication configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    /// `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API`.
    pub authentication_mode: String,
    /// The creator.
    pub creator_arn: String,
    /// Whether the creator was given admin access at creation.
    pub bootstrap_creator_admin: bool,
    /// Access entries.
    pub entries: Vec<AccessEntry>,
}

/// The nodes of one `ACTIVE` managed node group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedNodeGroupNodes {
    /// Node group name.
    pub name: String,
    /// How many nodes.
    pub desired_size: i64,
    /// Node labels.
    pub labels: Vec<(String, String)>,
    /// Node taints: (key, value, effect).
    pub taints: Vec<(String, Option<String>, String)>,
    /// Instance type.
    pub instance_type: String,
    /// Kubelet version.
    pub version: String,
    /// The node role.
    pub node_role_arn: String,
    /// Zones of its subnets.
    pub zones: Vec<String>,
}

/// Runs workload API servers.
pub trait WorkloadHost: Send + Sync {
    /// The `host:port` the emulator serves on, told before any [`Self::start`]: clients presign their
    /// `k8s-aws-v1.` tokens' STS URL for it.
    fn serving_at(&self, _authority: &str) {}
    /// Starts (or, after a restart, resumes) the server of a cluster.
    fn start(&self, spec: WorkloadSpec) -> BoxFuture<'_, Result<WorkloadEndpoint, String>>;
    /// Replaces the access configuration of a cluster's server.
    fn set_access(&self, key: &ClusterKey, access: ClusterAccess);
    /// Replaces the managed node groups of a cluster's server.
    fn set_node_groups(&self, key: &ClusterKey, groups: Vec<ManagedNodeGroupNodes>);
    /// Stops the server of a cluster.
    fn stop(&self, key: &ClusterKey) -> BoxFuture<'_, ()>;
    /// Stops every server, keeping their state (the emulator is shutting down, not the clusters).
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// No workload servers: `DescribeCluster` names an endpoint in EKS's form (`https://<ID>.gr7.<region>.eks.amazonaws.com`)
/// that nothing serves, and no CA.
#[derive(Debug, Default)]
pub struct NoWorkload;

impl WorkloadHost for NoWorkload {
    fn start(&self, spec: WorkloadSpec) -> BoxFuture<'_, Result<WorkloadEndpoint, String>> {
        Box::pin(async move {
            Ok(WorkloadEndpoint {
                endpoint: format!(
                    "https://{}.gr7.{}.eks.amazonaws.com",
                    spec.cluster_id.to_uppercase(),
                    spec.key.region
                ),
                certificate_authority: String::new(),
            })
        })
    }

    fn set_access(&self, _key: &ClusterKey, _access: ClusterAccess) {}

    fn set_node_groups(&self, _key: &ClusterKey, _groups: Vec<ManagedNodeGroupNodes>) {}

    fn stop(&self, _key: &ClusterKey) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
