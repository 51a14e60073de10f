//! Starting the controller: check the CRD is installed, serve the HTTP endpoints, optionally wait for the
//! leader lease, then run the kube-runtime `Controller` until shutdown (or until the lease is lost), letting
//! in-flight reconciles finish.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eks_api::EksCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::Reporter;
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use crate::context::{Context, Timing};
use crate::generated::MANAGED_BY_LABEL;
use crate::http::{self, HttpState};
use crate::infra::Infrastructure;
use crate::metrics::Metrics;
use crate::reconcile::{error_policy, reconcile};
use crate::recorder::EventRecorder;
use crate::workload::WorkloadClusters;

mod fence;
mod leader;

/// How long the leader Lease is valid after its last renewal, in seconds.
const LEASE_DURATION_SECONDS: u16 = 15;
/// How long before the Lease expires the leader renews it, in seconds.
const LEASE_GRACE_SECONDS: u16 = 5;
/// How often this replica reads the Lease to confirm it still holds it, and how long before the Lease
/// expires it stops counting itself as leader when it cannot (see [`fence`]). Reads come well inside the
/// grace period, so a renewal is confirmed before the last confirmation runs out.
const FENCE_TIMING: fence::FenceTiming = fence::FenceTiming {
    period: std::time::Duration::from_secs(2),
    margin: std::time::Duration::from_secs(2),
};

/// Leader election settings.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    /// Name of the Lease.
    pub lease_name: String,
    /// Namespace of the Lease.
    pub lease_namespace: String,
    /// This replica's identity (the pod name).
    pub identity: String,
}

/// How the controller runs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Watch only this namespace.
    pub namespace: Option<String>,
    /// Watch only objects matching this label selector (sharding).
    pub selector: Option<String>,
    /// Requeue periods.
    pub timing: Timing,
    /// Reconciles running at once.
    pub max_concurrent_reconciles: u16,
    /// Leader election, when more than one replica may run.
    pub leader_election: Option<LeaderElection>,
    /// Address of `/metrics`, `/healthz`, `/readyz`.
    pub http_addr: SocketAddr,
    /// Name of this replica in events.
    pub instance: Option<String>,
}

/// Why the controller could not run, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The API server does not serve EksCluster: the CRD is not installed.
    #[error(
        "the EksCluster CRD (eksclusters.eksoperator.io, version v1alpha1) is not installed in the cluster: install it with `kubectl apply -f deploy/crds/eksclusters.eksoperator.io.yaml` (the Helm chart installs it too), then start the operator again ({0})"
    )]
    CrdMissing(String),
    /// No answer from the API server (connection refused, DNS, TLS, timeout).
    #[error(
        "the Kubernetes API server is unreachable, so whether the EksCluster CRD is installed cannot be checked: {0} (check KUBECONFIG, ~/.kube/config or the in-cluster service account, and that the server is up)"
    )]
    ApiUnreachable(String),
    /// The API server did not accept the operator's credentials.
    #[error(
        "the Kubernetes API server rejected the operator's credentials (401 Unauthorized) while checking for the EksCluster CRD: {0} (check the kubeconfig's user or the service account token)"
    )]
    Unauthorized(String),
    /// The operator may not read the discovery document of its API group.
    #[error(
        "the operator may not read the API discovery of eksoperator.io/v1alpha1 (403 Forbidden): {0} (the system:discovery ClusterRole allows it to every authenticated user by default; check the RBAC of the operator's service account)"
    )]
    DiscoveryForbidden(String),
    /// Discovery failed otherwise (a 5xx, an unreadable answer).
    #[error("checking whether the EksCluster CRD is installed failed: {0}")]
    Discovery(String),
    /// The HTTP endpoints could not be served.
    #[error("serving HTTP on {addr}: {source}")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// Leader election could not start.
    #[error("leader election: {0}")]
    Lease(String),
    /// The task keeping the leader lease ended while the controller depended on it: the controller stopped
    /// reconciling, and the process must exit rather than run on without a lease.
    #[error("leader election stopped, so the controller stopped reconciling: {0}")]
    LeaseEnded(String),
}

impl RunError {
    /// Stable short name.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::CrdMissing(_) => "CrdNotInstalled",
            Self::ApiUnreachable(_) => "KubeApiUnreachable",
            Self::Unauthorized(_) => "KubeUnauthorized",
            Self::DiscoveryForbidden(_) => "DiscoveryForbidden",
            Self::Discovery(_) => "DiscoveryFailed",
            Self::Http { .. } => "HttpBindFailed",
            Self::Lease(_) => "LeaderElectionFailed",
            Self::LeaseEnded(_) => "LeaderElectionStopped",
        }
    }
}

/// The pieces the controller is made of, built by the binary.
pub struct Parts {
    /// The management cluster.
    pub client: Client,
    /// The AWS side.
    pub infra: Arc<dyn Infrastructure>,
    /// Workload clusters for aws-auth.
    pub workload: Arc<dyn WorkloadClusters>,
    /// Metrics (shared with the AWS layer's call counting).
    pub metrics: Arc<Metrics>,
}

/// Checks that the API server serves EksCluster, as the controller cannot do anything useful otherwise. Each
/// way the check can fail has its own error: not installed, unreachable, unauthorized, forbidden, other.
pub async fn check_crd(client: &Client) -> Result<(), RunError> {
    let resources = client
        .list_api_group_resources(&EksCluster::api_version(&()))
        .await
        .map_err(discovery_error)?;
    if resources
        .resources
        .iter()
        .any(|r| r.name == EksCluster::plural(&()))
    {
        Ok(())
    } else {
        Err(RunError::CrdMissing(
            "eksclusters is not listed in the discovery of eksoperator.io/v1alpha1".into(),
        ))
    }
}

/// Classifies a failed discovery request.
fn discovery_error(error: kube::Error) -> RunError {
    match &error {
        kube::Error::Api(status) => {
            let said = format!("{} {}: {}", status.code, status.reason, status.message);
            match status.code {
                404 => RunError::CrdMissing(said),
                401 => RunError::Unauthorized(said),
                403 => RunError::DiscoveryForbidden(said),
                _ => RunError::Discovery(said),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            RunError::ApiUnreachable(with_sources(&error))
        }
        _ => RunError::Discovery(with_sources(&error)),
    }
}

/// An error and its sources on one line (`client error (Connect): tcp connect error: Connection refused`).
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// Runs until `shutdown` turns true. Returns the bound HTTP address through `on_http` as soon as it is known.
pub async fn run(
    parts: Parts,
    config: RunConfig,
    shutdown: watch::Receiver<bool>,
    on_http: impl FnOnce(SocketAddr),
) -> Result<(), RunError> {
    check_crd(&parts.client).await?;
    let ready = Arc::new(AtomicBool::new(false));
    let http_state = HttpState {
        metrics: parts.metrics.clone(),
        ready: ready.clone(),
    };
    let mut http_shutdown = shutdown.clone();
    let (bound, http_task) = http::serve(config.http_addr, http_state, async move {
        let _ = http_shutdown.wait_for(|stop| *stop).await;
    })
    .await
    .map_err(|source| RunError::Http {
        addr: config.http_addr,
        source,
    })?;
    on_http(bound);
    tracing::info!(%bound, "serving /metrics, /healthz and /readyz");

    let reporter = Reporter {
        controller: "eks-operator".into(),
        instance: config.instance.clone(),
    };
    let ctx = Arc::new(Context::new(
        parts.client.clone(),
        parts.infra,
        parts.workload,
        EventRecorder::new(parts.client.clone(), reporter),
        parts.metrics,
        config.timing.clone(),
    ));
    ready.store(true, Ordering::Relaxed);

    match &config.leader_election {
        None => run_controller(ctx, &config, shutdown.clone()).await?,
        Some(election) => {
            let manager = LeaseManagerBuilder::new(parts.client.clone(), &election.lease_name)
                .with_namespace(&election.lease_namespace)
                .with_identity(&election.identity)
                .with_duration(LEASE_DURATION_SECONDS.into())
                .with_grace(LEASE_GRACE_SECONDS.into())
                .build()
                .await
                .map_err(|e| RunError::Lease(e.to_string()))?;
            let (managed, lease_task) = manager.watch().await;
            // The manager keeps saying "leader" while it cannot renew: lead only while a read confirms it.
            let leading = fence::fence(
                election.identity.clone(),
                managed,
                fence::lease_reader(
                    parts.client.clone(),
                    &election.lease_namespace,
                    &election.lease_name,
                ),
                FENCE_TIMING,
            );
            let result = leader::lead(&election.identity, leading, lease_task, shutdown, |stop| {
                let (ctx, config) = (ctx.clone(), config.clone());
                async move { run_controller(ctx, &config, stop).await }
            })
            .await;
            if result.is_err() {
                // The endpoints would otherwise keep the process alive: stop them and exit with the error.
                ready.store(false, Ordering::Relaxed);
                http_task.abort();
                return result;
            }
        }
    }
    let _ = http_task.await;
    Ok(())
}

/// The trigger of a reconcile: spec changes (generation), deletion and finalizer changes. Status writes do not
/// trigger, so a reconcile never wakes itself up.
fn trigger_hash(object: &DynamicObject) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    object.metadata.generation.hash(&mut hasher);
    object.metadata.deletion_timestamp.is_some().hash(&mut hasher);
    object.metadata.finalizers.hash(&mut hasher);
    object.metadata.uid.hash(&mut hasher);
    Some(hasher.finish())
}

/// Drops what no reconcile reads before an object enters the cache: `managedFields` and kubectl's
/// last-applied annotation are often larger than the spec and would multiply the memory of a large fleet.
fn slim_for_cache(object: &mut DynamicObject) {
    object.metadata.managed_fields = None;
    if let Some(annotations) = object.metadata.annotations.as_mut() {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

/// Drops the per-object state of objects that left the watch without passing through cleanup (deleted after
/// their finalizer was removed by hand, or moved out of this shard's namespace or selector): their phase in
/// the objects gauge, their backoff and their event series. A re-list (after the watch fell behind) reports no
/// deletions, so then everything of an object that is no longer in the cache goes.
fn forget_departed(ctx: &Context, event: &watcher::Event<DynamicObject>, cache: &Store<DynamicObject>) {
    match event {
        watcher::Event::Delete(object) => {
            if let Some(uid) = object.uid() {
                ctx.metrics.set_phase(&uid, None);
                ctx.reset_backoff(&uid);
                ctx.recorder.forget(&uid);
            }
        }
        watcher::Event::InitDone => {
            let live: HashSet<String> = cache.state().iter().filter_map(|o| o.uid()).collect();
            ctx.metrics.retain_phases(|uid| live.contains(uid));
            ctx.recorder.retain_objects(|uid| live.contains(uid));
        }
        watcher::Event::Apply(_) | watcher::Event::Init | watcher::Event::InitApply(_) => {}
    }
}

/// The annotation `kubectl apply` (client-side) keeps the whole applied object in.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

async fn run_controller(
    ctx: Arc<Context>,
    config: &RunConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let resource: ApiResource = ctx.resource.clone();
    let api: Api<DynamicObject> = match &config.namespace {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &resource),
        None => Api::all_with(ctx.client.clone(), &resource),
    };
    let mut watch_config = watcher::Config::default();
    if let Some(selector) = &config.selector {
        watch_config = watch_config.labels(selector);
    }
    let owned = watcher::Config::default().labels(&format!("{MANAGED_BY_LABEL}=eks-operator"));
    let writer = Writer::new(resource.clone());
    let reader = writer.as_reader();
    let first_list = reader.clone();
    let (departed, cache) = (ctx.clone(), reader.clone());
    let stream = watcher(api, watch_config)
        .default_backoff()
        .modify(slim_for_cache)
        .reflect(writer)
        .inspect_ok(move |event| forget_departed(&departed, event, &cache))
        .applied_objects()
        .predicate_filter(trigger_hash, Default::default());
    let namespace = config.namespace.as_deref();
    Controller::for_stream_with(stream, reader, resource)
        .owns(scoped::<ConfigMap>(&ctx.client, namespace), owned.clone())
        .owns(scoped::<Secret>(&ctx.client, namespace), owned)
        .with_config(ControllerConfig::default().concurrency(config.max_concurrent_reconciles))
        .graceful_shutdown_on(async move {
            let _ = stop.wait_for(|stop| *stop).await;
            // kube-runtime holds its runner until the cache has the first list, and a shutdown that comes
            // before never ends (the list is no longer polled): let the list finish first (bounded).
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(10), first_list.wait_until_ready()).await;
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(object = %object, "reconciled"),
                Err(err) => tracing::debug!("reconcile error: {err}"),
            }
        })
        .await;
    tracing::info!("controller stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;

    fn api_error(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("said by the server", reason)
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn each_discovery_failure_has_its_own_error() {
        let classify = |e| {
            let error = discovery_error(e);
            (error.reason(), error.to_string())
        };
        let (reason, message) = classify(api_error(404, "NotFound"));
        assert_eq!(reason, "CrdNotInstalled");
        assert!(
            message.contains("not installed")
                && message.contains("kubectl apply -f deploy/crds/eksclusters.eksoperator.io.yaml"),
            "{message}"
        );
        let (reason, message) = classify(api_error(403, "Forbidden"));
        assert_eq!(reason, "DiscoveryForbidden");
        assert!(
            message.contains("403 Forbidden") && !message.contains("not installed"),
            "{message}"
        );
        let (reason, message) = classify(api_error(401, "Unauthorized"));
        assert_eq!(reason, "KubeUnauthorized");
        assert!(
            message.contains("credentials") && !message.contains("not installed"),
            "{message}"
        );
        let (reason, message) = classify(api_error(500, "InternalError"));
        assert_eq!(reason, "DiscoveryFailed");
        assert!(message.contains("said by the server"), "{message}");
    }

    #[tokio::test]
    async fn the_crd_check_tells_not_installed_installed_and_unreachable_apart() {
        let emulator = kube_emulator::Emulator::start().await.unwrap();
        let client = emulator.client();
        let missing = check_crd(&client).await;
        assert!(matches!(missing, Err(RunError::CrdMissing(_))), "{missing:?}");
        emulator.apply_crd(&eks_api::crd::crd()).unwrap();
        check_crd(&client).await.unwrap();
        emulator.fail_next(1, 500);
        let failed = check_crd(&client).await;
        assert!(matches!(failed, Err(RunError::Discovery(_))), "{failed:?}");
        emulator.shutdown().await;
        let unreachable = check_crd(&client).await;
        assert!(
            matches!(&unreachable, Err(RunError::ApiUnreachable(m)) if m.to_lowercase().contains("connect")),
            "{unreachable:?}"
        );
        assert!(unreachable.unwrap_err().to_string().contains("unreachable"));
    }

    #[test]
    fn the_cache_keeps_neither_managed_fields_nor_the_last_applied_copy() {
        let mut object = DynamicObject::new("a", &ApiResource::erase::<EksCluster>(&()));
        object.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl".into()),
            ..ManagedFieldsEntry::default()
        }]);
        object.metadata.annotations = Some(
            [
                (LAST_APPLIED_ANNOTATION.to_owned(), "{}".to_owned()),
                ("team".to_owned(), "platform".to_owned()),
            ]
            .into(),
        );
        slim_for_cache(&mut object);
        assert!(object.metadata.managed_fields.is_none());
        assert_eq!(
            object.metadata.annotations,
            Some([("team".to_owned(), "platform".to_owned())].into())
        );
    }

    #[test]
    fn status_writes_do_not_trigger_but_spec_and_deletion_do() {
        let mut object = DynamicObject::new("a", &ApiResource::erase::<EksCluster>(&()));
        object.metadata.generation = Some(1);
        let first = trigger_hash(&object);
        object.data = serde_json::json!({"status": {"phase": "Ready"}});
        assert_eq!(trigger_hash(&object), first);
        object.metadata.generation = Some(2);
        let second = trigger_hash(&object);
        assert_ne!(second, first);
        object.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
        assert_ne!(trigger_hash(&object), second);
    }
}
