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
use eks_controller::workload::KubeWorkloadClusters;
use eks_controller::workload::token::StsTokenSource;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, PostParams};
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

impl Controller {
    /// Installs the CRD (unless served already) and starts the controller against `client` and `fake`.
    pub async fn start(client: &kube::Client, fake: &FakeAws, timing: Timing, concurrency: u16) -> Self {
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
            workload: Arc::new(KubeWorkloadClusters::new(tokens, HashMap::new())),
            metrics: metrics.clone(),
        };
        let config = RunConfig {
            namespace: None,
            selector: None,
            timing,
            max_concurrent_reconciles: concurrency,
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
