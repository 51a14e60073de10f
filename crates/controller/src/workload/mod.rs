//! Applying `kube-system/aws-auth` into the workload (regional EKS) clusters when `spec.awsAuth.manage` is
//! true. The controller connects to each cluster's endpoint with a token made the aws-iam-authenticator way
//! and server-side-applies the merged ConfigMap, keeping entries it does not own.

pub mod merge;
pub mod token;

use std::collections::BTreeMap;
use std::sync::Arc;

use eks_plan::AwsAuthPlan;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};

use crate::context::FIELD_MANAGER;
use merge::{MANAGED_ENTRIES_ANNOTATION, ManagedEntries, MergeError};

/// Why aws-auth could not be applied into a workload cluster.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// No token could be made for the cluster.
    #[error("no token for the cluster: {0}")]
    Token(String),
    /// No client could be built for the endpoint (bad URL or CA data).
    #[error("no client for endpoint {endpoint}: {message}")]
    Client {
        /// The endpoint.
        endpoint: String,
        /// Why.
        message: String,
    },
    /// The workload cluster's API server could not be reached or refused the call.
    #[error("workload API server: {0}")]
    Api(#[source] kube::Error),
    /// The merged ConfigMap would be wrong, so nothing was written.
    #[error(transparent)]
    Merge(#[from] MergeError),
}

impl WorkloadError {
    /// Stable short name.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Token(_) => "WorkloadTokenFailed",
            Self::Client { .. } => "WorkloadClientFailed",
            Self::Api(_) => "WorkloadApiError",
            Self::Merge(e) => e.reason(),
        }
    }
}

/// Where and as whom to reach one workload cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadTarget {
    /// The EKS cluster name.
    pub cluster_name: String,
    /// The region.
    pub region: String,
    /// The API endpoint.
    pub endpoint: String,
    /// Base64 CA data of the endpoint.
    pub certificate_authority_data: Option<String>,
    /// The worker role ARN that must stay in `mapRoles`.
    pub worker_role_arn: String,
    /// The role the cluster was created through (`spec.credentials`): tokens are signed as it, the principal
    /// EKS maps as the creator. None: the operator's own identity.
    pub credentials: Option<eks_api::CredentialsSpec>,
}

/// Applies aws-auth into workload clusters.
pub trait WorkloadClusters: Send + Sync + 'static {
    /// Merges and applies the plan's entries. `Ok(true)` when it wrote, `Ok(false)` when the live ConfigMap
    /// already held them.
    fn apply_aws_auth<'a>(
        &'a self,
        target: &'a WorkloadTarget,
        plan: &'a AwsAuthPlan,
    ) -> BoxFuture<'a, Result<bool, WorkloadError>>;
}

/// Makes bearer tokens for a workload cluster.
pub trait TokenSource: Send + Sync + 'static {
    /// A token for the cluster, valid for a short while, signed as `role` when given (else as the operator).
    fn token<'a>(
        &'a self,
        cluster_name: &'a str,
        region: &'a str,
        role: Option<&'a eks_api::CredentialsSpec>,
    ) -> BoxFuture<'a, Result<String, String>>;
}

/// The real implementation: kube clients built per target from the endpoint, its CA and a token.
pub struct KubeWorkloadClusters {
    tokens: Arc<dyn TokenSource>,
}

impl KubeWorkloadClusters {
    /// Clusters reached at the endpoint and CA that `DescribeCluster` gives, with tokens from `tokens`.
    pub fn new(tokens: Arc<dyn TokenSource>) -> Self {
        Self { tokens }
    }

    async fn client(&self, target: &WorkloadTarget) -> Result<kube::Client, WorkloadError> {
        let token = self
            .tokens
            .token(&target.cluster_name, &target.region, target.credentials.as_ref())
            .await
            .map_err(WorkloadError::Token)?;
        let (url, ca) = (target.endpoint.clone(), target.certificate_authority_data.clone());
        let failed = |message: String| WorkloadError::Client {
            endpoint: url.clone(),
            message,
        };
        let uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| failed(e.to_string()))?;
        let mut config = kube::Config::new(uri);
        config.auth_info.token = Some(token.into());
        if let Some(ca) = ca {
            let pem = base64_decode(&ca)
                .ok_or_else(|| failed("certificate authority data is not base64".into()))?;
            config.root_cert = Some(pem_to_der(&pem));
        }
        kube::Client::try_from(config).map_err(|e| failed(e.to_string()))
    }

    async fn apply(&self, target: &WorkloadTarget, plan: &AwsAuthPlan) -> Result<bool, WorkloadError> {
        let client = self.client(target).await?;
        let api: Api<ConfigMap> = Api::namespaced(client, eks_plan::aws_auth::NAMESPACE);
        let live = api
            .get_opt(eks_plan::aws_auth::NAME)
            .await
            .map_err(WorkloadError::Api)?;
        let live_data = live.as_ref().and_then(|cm| cm.data.clone()).unwrap_or_default();
        let previously: ManagedEntries = live
            .as_ref()
            .and_then(|cm| cm.metadata.annotations.as_ref())
            .and_then(|a| a.get(MANAGED_ENTRIES_ANNOTATION))
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let merged = merge::merge(&live_data, &previously, plan, &target.worker_role_arn)?;
        if live.is_some() && merged.data == live_data && merged.managed == previously {
            return Ok(false);
        }
        let annotation = serde_json::to_string(&merged.managed).map_err(|e| MergeError::Render {
            key: MANAGED_ENTRIES_ANNOTATION,
            message: e.to_string(),
        })?;
        let desired = ConfigMap {
            metadata: ObjectMeta {
                name: Some(eks_plan::aws_auth::NAME.to_owned()),
                namespace: Some(eks_plan::aws_auth::NAMESPACE.to_owned()),
                // A precondition: a concurrent edit makes this apply fail and the next reconcile merge again.
                resource_version: live.as_ref().and_then(|cm| cm.metadata.resource_version.clone()),
                annotations: Some(BTreeMap::from([(
                    MANAGED_ENTRIES_ANNOTATION.to_owned(),
                    annotation,
                )])),
                ..ObjectMeta::default()
            },
            data: Some(merged.data),
            ..ConfigMap::default()
        };
        api.patch(
            eks_plan::aws_auth::NAME,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&desired),
        )
        .await
        .map_err(WorkloadError::Api)?;
        Ok(true)
    }
}

impl WorkloadClusters for KubeWorkloadClusters {
    fn apply_aws_auth<'a>(
        &'a self,
        target: &'a WorkloadTarget,
        plan: &'a AwsAuthPlan,
    ) -> BoxFuture<'a, Result<bool, WorkloadError>> {
        Box::pin(self.apply(target, plan))
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}

/// Turns PEM certificates into DER blobs as kube's `root_cert` wants them.
fn pem_to_der(pem: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(pem);
    let mut certs = Vec::new();
    let mut current = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            inside = true;
            current.clear();
        } else if line.starts_with("-----END") {
            inside = false;
            if let Some(der) = base64_decode(&current) {
                certs.push(der);
            }
        } else if inside {
            current.push_str(line.trim());
        }
    }
    certs
}
