//! Clients per region, built from one shared `SdkConfig`, optionally under an assumed role per EksCluster.
//!
//! [`AwsContext`] is what the engine receives: it hands out [`RegionClients`] (one `Arc<dyn ...>` per
//! service) through a [`ClientProvider`], the SDK one ([`SdkProvider`]) in production and the fake or an
//! instrumented wrapper in tests, and it remembers who the credentials belong to (one STS call per role).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_api::{CredentialsSpec, RegionName};
use quick_cache::sync::Cache;

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

/// How many (region, role) client sets, assumed-role credential providers, identities and node group cursors
/// are kept. A fleet whose objects name many roles evicts the least recently used: an evicted entry costs one
/// rebuild of the clients (no call) or one `AssumeRole`/`GetCallerIdentity` when next needed, while memory
/// stays bounded whatever the fleet's size.
pub const CACHE_CAPACITY: usize = 512;

/// Clients on the AWS SDK, cached per region and role; assumed-role credentials cached per role; both bounded
/// by [`CACHE_CAPACITY`].
pub struct SdkProvider {
    base: SdkConfig,
    clients: Cache<(String, Option<RoleKey>), RegionClients>,
    roles: Cache<RoleKey, SharedCredentialsProvider>,
}

impl SdkProvider {
    /// A provider on a loaded configuration.
    pub fn new(base: SdkConfig) -> Self {
        Self {
            base,
            clients: Cache::new(CACHE_CAPACITY),
            roles: Cache::new(CACHE_CAPACITY),
        }
    }

    async fn role_credentials(&self, key: &RoleKey, region: &RegionName) -> SharedCredentialsProvider {
        if let Some(found) = self.roles.get(key) {
            return found;
        }
        let provider = assumed_role_credentials(&self.base, &key.0, key.1.as_deref(), region).await;
        self.roles.insert(key.clone(), provider.clone());
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
        if let Some(found) = self.clients.get(&key) {
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
        self.clients.insert(key, clients.clone());
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
    identities: Cache<Option<RoleKey>, CallerIdentity>,
    cursors: Cache<String, Arc<AtomicUsize>>,
    /// Engine settings.
    pub options: EngineOptions,
}

impl AwsContext {
    /// A context on any provider (SDK, fake, instrumented).
    pub fn new(provider: Arc<dyn ClientProvider>) -> Self {
        Self {
            provider,
            identities: Cache::new(CACHE_CAPACITY),
            cursors: Cache::new(CACHE_CAPACITY),
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
        if let Some(found) = self.identities.get(&key) {
            return Ok(found);
        }
        let identity = clients
            .sts
            .caller_identity()
            .await
            .map_err(|e| credentials_error(credentials, &e))?;
        tracing::info!(account = %identity.account, arn = %identity.arn, "AWS identity");
        self.identities.insert(key, identity.clone());
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
        let cursor = self.cursors.get(key).unwrap_or_else(|| {
            let fresh = Arc::new(AtomicUsize::new(0));
            self.cursors.insert(key.to_owned(), fresh.clone());
            fresh
        });
        cursor.fetch_add(1, Ordering::Relaxed)
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

#[cfg(test)]
mod tests {
    use aws_credential_types::Credentials;

    use super::*;

    fn role(i: usize) -> CredentialsSpec {
        CredentialsSpec {
            role_arn: format!("arn:aws:iam::123456789012:role/team-{i}"),
            external_id: None,
        }
    }

    /// A fleet whose objects each name their own role, in two regions, builds at most [`CACHE_CAPACITY`]
    /// client sets and credential providers (building them makes no call).
    #[tokio::test]
    async fn clients_and_role_credentials_of_a_large_fleet_stay_bounded() {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await;
        let provider = SdkProvider::new(base);
        let regions = [
            RegionName::parse("eu-west-1").unwrap(),
            RegionName::parse("eu-west-2").unwrap(),
        ];
        for i in 0..2 * CACHE_CAPACITY {
            for region in &regions {
                provider.region_clients(region, Some(&role(i))).await.unwrap();
            }
        }
        assert!(
            provider.clients.len() <= CACHE_CAPACITY,
            "{}",
            provider.clients.len()
        );
        assert!(provider.roles.len() <= CACHE_CAPACITY, "{}", provider.roles.len());
        // The most recent one is still cached: the same clients come back.
        let last = role(2 * CACHE_CAPACITY - 1);
        let a = provider.region_clients(&regions[0], Some(&last)).await.unwrap();
        let b = provider.region_clients(&regions[0], Some(&last)).await.unwrap();
        assert!(Arc::ptr_eq(&a.ec2, &b.ec2));
    }

    /// Node group cursors are kept per cluster ARN; clusters that come and go do not grow the map.
    #[test]
    fn cursors_of_many_clusters_stay_bounded_and_rotate() {
        let ctx = AwsContext::new(Arc::new(NoClients));
        for i in 0..10 * CACHE_CAPACITY {
            ctx.next_cursor(&format!("arn:aws:eks:eu-west-1:1:cluster/c{i}"));
        }
        assert!(ctx.cursors.len() <= CACHE_CAPACITY, "{}", ctx.cursors.len());
        let key = "arn:aws:eks:eu-west-1:1:cluster/steady";
        let seen: Vec<usize> = (0..3).map(|_| ctx.next_cursor(key)).collect();
        assert_eq!(seen, [0, 1, 2]);
    }

    /// A provider that is never asked for clients.
    struct NoClients;

    #[async_trait]
    impl ClientProvider for NoClients {
        async fn region_clients(
            &self,
            _region: &RegionName,
            _credentials: Option<&CredentialsSpec>,
        ) -> AwsResult<RegionClients> {
            unreachable!("the cursor test makes no call")
        }
    }
}
