//! Clients per region, built from one shared `SdkConfig`, optionally under an assumed role per EksCluster.
//!
//! [`AwsContext`] is what the engine receives: it hands out [`RegionClients`] (one `Arc<dyn ...>` per
//! service) through a [`ClientProvider`], the SDK one ([`SdkProvider`]) in production and the fake or an
//! instrumented wrapper in tests, and it remembers who the credentials belong to (one STS call per role).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_api::{CredentialsSpec, RegionName};

use crate::api::{Ec2Api, EksApi, IamApi, StsApi};
use crate::declare::Plain;
use crate::error::{AwsError, AwsResult};
use crate::instrument::{CallObserver, LayeredProvider, Observed, layer_clients};
use crate::sdk::{SdkEc2, SdkEks, SdkIam, SdkSts};
use crate::types::CallerIdentity;

/// Attempts per call in the SDK's standard retry mode (creates without a client token use one).
pub const MAX_ATTEMPTS: u32 = 4;
/// Time allowed for one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Time allowed for one call including retries.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The session name of assumed roles (shows in CloudTrail).
pub const SESSION_NAME: &str = "eks-operator";

/// The clients of one region.
#[derive(Clone)]
pub struct RegionClients {
    /// The region.
    pub region: RegionName,
    /// EC2 of the region.
    pub ec2: Arc<dyn Ec2Api>,
    /// IAM (global).
    pub iam: Arc<dyn IamApi>,
    /// EKS of the region.
    pub eks: Arc<dyn EksApi>,
    /// STS.
    pub sts: Arc<dyn StsApi>,
}

impl std::fmt::Debug for RegionClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegionClients")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Hands out the clients of a region, under the default credentials or an assumed role.
#[async_trait]
pub trait ClientProvider: Send + Sync {
    /// The clients of `region`; `credentials` names a role to assume.
    async fn region_clients(
        &self,
        region: &RegionName,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients>;
}

/// The cache key of a role: ARN and external id.
type RoleKey = (String, Option<String>);

fn role_key(credentials: Option<&CredentialsSpec>) -> Option<RoleKey> {
    credentials.map(|c| (c.role_arn.clone(), c.external_id.clone()))
}

/// Credentials of `role_arn` (with `external_id`), assumed through STS with the base configuration's
/// credentials and refreshed before they expire: what the engine uses for `spec.credentials`, and what the
/// operator signs its workload cluster tokens with for such an object (the identity that created the cluster).
pub async fn assumed_role_credentials(
    base: &SdkConfig,
    role_arn: &str,
    external_id: Option<&str>,
    region: &RegionName,
) -> SharedCredentialsProvider {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(SESSION_NAME);
    if let Some(external_id) = external_id {
        builder = builder.external_id(external_id);
    }
    let region = base
        .region()
        .cloned()
        .unwrap_or_else(|| Region::new(region.as_str().to_owned()));
    SharedCredentialsProvider::new(builder.configure(base).region(region).build().await)
}

/// Loads the shared SDK configuration the AWS way: the default credential chain (environment, profile, web
/// identity for IRSA, EKS Pod Identity, IMDS), `AWS_ENDPOINT_URL` and service-specific endpoint variables,
/// standard retry mode with [`MAX_ATTEMPTS`], and connect/attempt/operation timeouts.
pub async fn load_sdk_config() -> SdkConfig {
    configure(aws_config::defaults(BehaviorVersion::latest()))
        .load()
        .await
}

/// Applies the operator's retry and timeout settings to a config loader.
pub fn configure(loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    loader
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
}

/// Clients on the AWS SDK, cached per region and role; assumed-role credentials cached per role.
pub struct SdkProvider {
    base: SdkConfig,
    clients: Mutex<HashMap<(String, Option<RoleKey>), RegionClients>>,
    roles: Mutex<HashMap<RoleKey, SharedCredentialsProvider>>,
}

impl SdkProvider {
    /// A provider on a loaded configuration.
    pub fn new(base: SdkConfig) -> Self {
        Self {
            base,
            clients: Mutex::default(),
            roles: Mutex::default(),
        }
    }

    async fn role_credentials(&self, key: &RoleKey, region: &RegionName) -> SharedCredentialsProvider {
        if let Some(found) = self.roles.lock().ok().and_then(|m| m.get(key).cloned()) {
            return found;
        }
        let provider = assumed_role_credentials(&self.base, &key.0, key.1.as_deref(), region).await;
        if let Ok(mut roles) = self.roles.lock() {
            roles.insert(key.clone(), provider.clone());
        }
        provider
    }
}

#[async_trait]
impl ClientProvider for SdkProvider {
    async fn region_clients(
        &self,
        region: &RegionName,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients> {
        let role = role_key(credentials);
        let key = (region.as_str().to_owned(), role.clone());
        if let Some(found) = self.clients.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let mut builder = self.base.to_builder();
        builder.set_region(Some(Region::new(region.as_str().to_owned())));
        if let Some(role) = &role {
            builder.set_credentials_provider(Some(self.role_credentials(role, region).await));
        }
        let config = builder.build();
        // Every call goes through its declaration ("already so" answers), with nothing else around it.
        let clients = layer_clients(
            RegionClients {
                region: region.clone(),
                ec2: Arc::new(SdkEc2::new(aws_sdk_ec2::Client::new(&config))),
                iam: Arc::new(SdkIam::new(aws_sdk_iam::Client::new(&config))),
                eks: Arc::new(SdkEks::new(aws_sdk_eks::Client::new(&config))),
                sts: Arc::new(SdkSts::new(aws_sdk_sts::Client::new(&config))),
            },
            Plain,
        );
        if let Ok(mut map) = self.clients.lock() {
            map.insert(key, clients.clone());
        }
        Ok(clients)
    }
}

/// Settings of the engine that differ between AWS and emulators.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// When the caller should look again while work is in progress.
    pub progress_requeue: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            progress_requeue: Duration::from_secs(15),
        }
    }
}

/// What the engine needs: clients per region, the caller's identity per role, and options.
pub struct AwsContext {
    provider: Arc<dyn ClientProvider>,
    identities: Mutex<HashMap<Option<RoleKey>, CallerIdentity>>,
    cursors: Mutex<HashMap<String, usize>>,
    /// Engine settings.
    pub options: EngineOptions,
}

impl AwsContext {
    /// A context on any provider (SDK, fake, instrumented).
    pub fn new(provider: Arc<dyn ClientProvider>) -> Self {
        Self {
            provider,
            identities: Mutex::default(),
            cursors: Mutex::default(),
            options: EngineOptions::default(),
        }
    }

    /// Replaces the engine options.
    pub fn with_options(mut self, options: EngineOptions) -> Self {
        self.options = options;
        self
    }

    /// Reports every AWS call made through this context's clients to `observer`, once per call, with its
    /// outcome (the controller's metrics count them by service, operation and outcome).
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.provider = Arc::new(LayeredProvider::new(self.provider, Observed(observer)));
        self
    }

    /// A context on the SDK with the default configuration ([`load_sdk_config`]).
    pub async fn from_env() -> Self {
        Self::new(Arc::new(SdkProvider::new(load_sdk_config().await)))
    }

    /// The clients of a region.
    pub async fn clients(
        &self,
        region: &RegionName,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients> {
        self.provider.region_clients(region, credentials).await
    }

    /// Who the credentials belong to; one `GetCallerIdentity` per role, then cached.
    pub async fn identity(
        &self,
        clients: &RegionClients,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<CallerIdentity> {
        let key = role_key(credentials);
        if let Some(found) = self.identities.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let identity = clients
            .sts
            .caller_identity()
            .await
            .map_err(|e| credentials_error(credentials, &e))?;
        tracing::info!(account = %identity.account, arn = %identity.arn, "AWS identity");
        if let Ok(mut map) = self.identities.lock() {
            map.insert(key, identity.clone());
        }
        Ok(identity)
    }

    /// Checks the credentials at start: one `GetCallerIdentity` in `region`. Missing or wrong credentials
    /// come back as [`AwsError::Credentials`] with a message saying how to provide them.
    pub async fn check_credentials(&self, region: &RegionName) -> AwsResult<CallerIdentity> {
        let clients = self.clients(region, None).await?;
        self.identity(&clients, None).await
    }

    /// A rotating index per key, so that steady reconciles look at one of many things per pass.
    pub(crate) fn next_cursor(&self, key: &str) -> usize {
        self.cursors.lock().map_or(0, |mut map| {
            let cursor = map.entry(key.to_owned()).or_insert(0);
            let current = *cursor;
            *cursor = cursor.wrapping_add(1);
            current
        })
    }
}

/// Wraps a failed identity check into a clear credentials error (transient failures stay retryable).
fn credentials_error(credentials: Option<&CredentialsSpec>, error: &AwsError) -> AwsError {
    if matches!(error, AwsError::Throttled(_) | AwsError::Server(_)) {
        return error.clone();
    }
    let whose = match credentials {
        Some(c) => format!("the role {} (spec.credentials)", c.role_arn),
        None => "the operator's credentials (environment, profile, web identity/IRSA, EKS Pod Identity or instance metadata)"
            .to_owned(),
    };
    AwsError::Credentials(format!("sts:GetCallerIdentity with {whose} failed: {error}"))
}
