//! The controller in-process against a Kubernetes API server and the in-memory AWS fake: what the controller
//! tests and the fleet benchmark share.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_aws::fake::FakeAws;
use eks_controller::aws_infra::AwsInfrastructure;
use eks_controller::context::Timing;
use eks_controller::metrics::Metrics;
use eks_controller::runner::{self, Parts, RunConfig};
use eks_controller::workload::token::StsTokenSource;
use eks_controller::workload::{KubeWorkloadClusters, WorkloadClusters, WorkloadError, WorkloadTarget};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running controller; stops when dropped.
pub struct Controller {
    pub metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), runner::RunError>>>,
}

/// How a test's controller runs, beyond the defaults of [`Controller::start`].
pub struct Options {
    pub timing: Timing,
    pub concurrency: u16,
    /// Watch only this namespace.
    pub namespace: Option<String>,
    /// Watch only objects matching this label selector.
    pub selector: Option<String>,
    /// Workload cluster name → URL the controller reaches it at (for `spec.awsAuth.manage`).
    pub workload_overrides: HashMap<String, String>,
}

impl Options {
    /// Every object of every namespace, no workload overrides.
    pub fn new(timing: Timing) -> Self {
        Self {
            timing,
            concurrency: 4,
            namespace: None,
            selector: None,
            workload_overrides: HashMap::new(),
        }
    }
}

impl Controller {
    /// Installs the CRD (unless served already) and starts the controller against `client` and `fake`.
    pub async fn start(client: &kube::Client, fake: &FakeAws, timing: Timing, concurrency: u16) -> Self {
        Self::start_with(
            client,
            fake,
            Options {
                concurrency,
                ..Options::new(timing)
            },
        )
        .await
    }

    /// [`Controller::start`] with options.
    pub async fn start_with(client: &kube::Client, fake: &FakeAws, options: Options) -> Self {
        // `RUST_LOG=eks_controller=debug` shows the controller's log in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        if crds
            .get_opt("eksclusters.eksoperator.io")
            .await
            .unwrap()
            .is_none()
        {
            crds.create(&PostParams::default(), &eks_api::crd::crd())
                .await
                .unwrap();
        }
        let metrics = Arc::new(Metrics::default());
        let tokens = StsTokenSource::new(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )));
        let parts = Parts {
            client: client.clone(),
            infra: Arc::new(AwsInfrastructure::new(Arc::new(fake.context()))),
            workload: Arc::new(Redirected {
                inner: KubeWorkloadClusters::new(tokens),
                urls: options.workload_overrides,
            }),
            metrics: metrics.clone(),
        };
        let config = RunConfig {
            namespace: options.namespace,
            selector: options.selector,
            timing: options.timing,
            max_concurrent_reconciles: options.concurrency,
            leader_election: None,
            http_addr: "127.0.0.1:0".parse().unwrap(),
            instance: None,
        };
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(runner::run(parts, config, stopped, |_| {}));
        Self {
            metrics,
            stop,
            task: Some(task),
        }
    }

    /// Reconciles run so far.
    pub fn reconciles(&self) -> f64 {
        self.sample("eks_operator_reconciles_total ")
    }

    /// Failed reconciles with this reason so far.
    pub fn failures(&self, reason: &str) -> f64 {
        self.sample(&format!(
            "eks_operator_reconcile_failures_total{{reason=\"{reason}\"}} "
        ))
    }

    /// Objects the controller counts in `phase`.
    pub fn objects_in_phase(&self, phase: &str) -> f64 {
        self.sample(&format!("eks_operator_objects{{phase=\"{phase}\"}} "))
    }

    fn sample(&self, prefix: &str) -> f64 {
        self.metrics
            .encode()
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Stops the controller and waits until it has.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Timing for tests: quick progress requeues and backoff.
pub fn quick_timing() -> Timing {
    Timing {
        drift_period: Duration::from_secs(600),
        progress_period: Duration::from_millis(200),
        backoff_base: Duration::from_millis(200),
        backoff_cap: Duration::from_secs(2),
    }
}

/// An EksCluster of two regions and one node group.
pub fn two_region_cluster(name: &str) -> Value {
    json!({
        "apiVersion": "eksoperator.io/v1alpha1", "kind": "EksCluster", "metadata": {"name": name},
        "spec": {"regions": ["eu-west-1", "eu-west-2"], "stage": "test", "kubernetesVersion": "1.31",
                 "network": {"vpcCidr": "10.0.0.0/16"},
                 "nodeGroups": [{"name": "workers", "instanceTypes": ["t3.medium"], "minSize": 1, "maxSize": 3}]}
    })
}

/// The EksCluster objects of `namespace`, untyped (as the controller watches them).
pub fn eks_clusters(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        namespace,
        &ApiResource::erase::<eks_api::EksCluster>(&()),
    )
}

/// Waits until `check` holds, polling every 50 ms; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An event as the test reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenEvent {
    pub type_: String,
    pub reason: String,
    pub note: String,
    /// How often it happened (the recorder counts repeats in `series`).
    pub count: i32,
}

/// The events about the object `name` in `namespace`, oldest first.
pub async fn events_of(client: &kube::Client, namespace: &str, name: &str) -> Vec<SeenEvent> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut events: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect();
    events.sort_by_key(|e| e.metadata.creation_timestamp.clone().map(|t| t.0));
    events
        .into_iter()
        .map(|e| SeenEvent {
            count: e.series.as_ref().map_or(1, |s| s.count),
            type_: e.type_.unwrap_or_default(),
            reason: e.reason.unwrap_or_default(),
            note: e.note.unwrap_or_default(),
        })
        .collect()
}

/// How often events of this reason whose note contains `note` happened to the object.
pub async fn event_count(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    reason: &str,
    note: &str,
) -> i32 {
    events_of(client, namespace, name)
        .await
        .iter()
        .filter(|e| e.reason == reason && e.note.contains(note))
        .map(|e| e.count)
        .sum()
}

/// Whether an event of this type and reason whose note contains `note` was published about the object.
pub async fn has_event(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    type_: &str,
    reason: &str,
    note: &str,
) -> bool {
    events_of(client, namespace, name)
        .await
        .iter()
        .any(|e| e.type_ == type_ && e.reason == reason && e.note.contains(note))
}

/// The project's CRD with a spec schema that accepts anything (as an older, looser version of the CRD would):
/// objects stored under it keep whatever they hold when the real CRD is installed again.
pub fn permissive_crd() -> CustomResourceDefinition {
    let mut crd = eks_api::crd::crd();
    for version in &mut crd.spec.versions {
        let schema = version
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
            .expect("the CRD has a schema");
        schema.x_kubernetes_validations = None;
        let properties = schema.properties.as_mut().expect("the schema has properties");
        properties.insert(
            "spec".into(),
            serde_json::from_value(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}))
                .unwrap(),
        );
    }
    crd
}

/// Replaces the served EksCluster CRD (creating it when missing) and waits until it is served as given.
pub async fn install_crd(client: &kube::Client, crd: CustomResourceDefinition) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds.get_opt("eksclusters.eksoperator.io").await.unwrap() {
        Some(live) => {
            let mut crd = crd;
            crd.metadata.resource_version = live.metadata.resource_version;
            crds.replace("eksclusters.eksoperator.io", &PostParams::default(), &crd)
                .await
                .unwrap();
        }
        None => {
            crds.create(&PostParams::default(), &crd).await.unwrap();
        }
    }
}

/// Creates a namespace.
pub async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
            .unwrap(),
    )
    .await
    .unwrap();
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The in-memory fake's endpoints lead nowhere: reaches the named workload clusters at a local API server
/// (plain HTTP, no CA) instead, through the product's client.
struct Redirected {
    inner: KubeWorkloadClusters,
    urls: HashMap<String, String>,
}

impl WorkloadClusters for Redirected {
    fn apply_aws_auth<'a>(
        &'a self,
        target: &'a WorkloadTarget,
        plan: &'a eks_plan::AwsAuthPlan,
    ) -> futures::future::BoxFuture<'a, Result<bool, WorkloadError>> {
        Box::pin(async move {
            let mut target = target.clone();
            if let Some(url) = self.urls.get(&target.cluster_name) {
                target.endpoint = url.clone();
                target.certificate_authority_data = None;
            }
            self.inner.apply_aws_auth(&target, plan).await
        })
    }
}
