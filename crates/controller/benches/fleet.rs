//! Fleet benchmark: the controller against the emulator and the in-memory AWS fake (2 ms per call), with 1, 100
//! and 1,000 EksCluster objects of two regions each. Reports the time until all are Ready, AWS calls per object
//! for the first build and per no-change drift pass, peak resident memory and reconciles per second.
//!
//! `cargo bench -p eks-controller --bench fleet` (sizes: `FLEET_SIZES=1,100,1000`). Emulator, fake and
//! controller share this process, so the memory figure is an upper bound for the controller alone.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_aws::fake::{FakeAws, FakeConfig};
use eks_controller::aws_infra::AwsInfrastructure;
use eks_controller::context::Timing;
use eks_controller::metrics::Metrics;
use eks_controller::runner::{self, Parts, RunConfig};
use eks_controller::workload::KubeWorkloadClusters;
use eks_controller::workload::token::StsTokenSource;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::ApiResource;
use serde_json::json;
use tokio::sync::watch;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn reconciles(metrics: &Metrics) -> f64 {
    metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix("eks_operator_reconciles_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn run(n: usize) {
    let emulator = kube_emulator::Emulator::start().await.unwrap();
    let client = emulator.client();
    let crds: Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = Api::all(client.clone());
    crds.create(&PostParams::default(), &eks_api::crd::crd())
        .await
        .unwrap();

    let fake = FakeAws::new(FakeConfig::default());
    fake.instrument().set_latency(Duration::from_millis(2));
    let metrics = Arc::new(Metrics::default());
    let tokens = StsTokenSource::new(SharedCredentialsProvider::new(Credentials::new(
        "a", "b", None, None, "bench",
    )));
    let parts = Parts {
        client: client.clone(),
        infra: Arc::new(AwsInfrastructure::new(Arc::new(fake.context()))),
        workload: Arc::new(KubeWorkloadClusters::new(tokens, HashMap::new())),
        metrics: metrics.clone(),
    };
    let drift = Duration::from_secs(15);
    let config = RunConfig {
        namespace: None,
        selector: None,
        timing: Timing {
            drift_period: drift,
            progress_period: Duration::from_millis(500),
            ..Timing::default()
        },
        max_concurrent_reconciles: 32,
        leader_election: None,
        http_addr: "127.0.0.1:0".parse().unwrap(),
        instance: None,
    };
    let (stop, stopped) = watch::channel(false);
    let controller = tokio::spawn(runner::run(parts, config, stopped, |_| {}));

    let resource = ApiResource::erase::<eks_api::EksCluster>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    let started = Instant::now();
    for i in 0..n {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "eksoperator.io/v1alpha1", "kind": "EksCluster", "metadata": {"name": format!("c{i}")},
            "spec": {"regions": ["eu-west-1", "eu-west-2"], "stage": "bench", "kubernetesVersion": "1.31",
                     "network": {"vpcCidr": "10.0.0.0/16"},
                     "nodeGroups": [{"name": "workers", "instanceTypes": ["t3.medium"], "minSize": 1, "maxSize": 3}]}
        }))
        .unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    loop {
        let list = api.list(&ListParams::default()).await.unwrap();
        let ready = list
            .items
            .iter()
            .filter(|o| o.data["status"]["phase"] == "Ready")
            .count();
        if ready == n {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "only {ready}/{n} Ready after 15 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let to_ready = started.elapsed();
    let first_build = fake.instrument().stats().total() as f64 / n as f64;
    let reconciles_at_ready = reconciles(&metrics);

    // One drift period of no-change passes.
    fake.instrument().reset_stats();
    let before = reconciles(&metrics);
    tokio::time::sleep(drift + Duration::from_secs(5)).await;
    let passes = reconciles(&metrics) - before;
    let per_pass = if passes > 0.0 {
        fake.instrument().stats().total() as f64 / passes
    } else {
        0.0
    };
    let reads_only = fake.instrument().stats().mutations == 0;

    println!(
        "objects={n:>5}  ready_after={:>7.1}s  calls_per_object_first_build={first_build:>6.1}  calls_per_no_change_pass={per_pass:>5.1} (mutations: {})  drift_passes={passes:.0}  reconciles_per_second={:>6.1}  peak_rss={:.0} MiB",
        to_ready.as_secs_f64(),
        if reads_only { "none" } else { "some" },
        reconciles_at_ready / to_ready.as_secs_f64(),
        peak_rss_mib(),
    );
    let _ = stop.send(true);
    let _ = controller.await;
    emulator.shutdown().await;
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sizes = std::env::var("FLEET_SIZES").unwrap_or_else(|_| "1,100,1000".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for size in sizes.split(',').filter_map(|s| s.trim().parse::<usize>().ok()) {
        runtime.block_on(run(size));
    }
}
