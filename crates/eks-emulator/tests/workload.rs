//! The workload API server of each cluster, reached as a user reaches EKS: `DescribeCluster`'s endpoint and CA
//! through the real Rust SDK, then kubectl with a kubeconfig whose exec plugin is `aws eks get-token` (the AWS
//! CLI presigning its `k8s-aws-v1.` token against this endpoint).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_eks::types::NodegroupScalingConfig;
use common::*;
use eks_emulator::timing::Timing;
use eks_emulator::{Config, Emulator};

const REGION: &str = "eu-west-1";

/// A kubeconfig for `cluster` whose user runs `aws eks get-token` against the emulator with `key`.
fn exec_kubeconfig(dir: &Path, cluster: &str, endpoint: &str, ca: &str, aws_endpoint: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {cluster}\n  context: {{cluster: {cluster}, user: creator}}\ncurrent-context: {cluster}\nusers:\n- name: creator\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}, --region, {REGION}]\n      interactiveMode: Never\n      env:\n      - {{name: AWS_ACCESS_KEY_ID, value: AKIDTESTING}}\n      - {{name: AWS_SECRET_ACCESS_KEY, value: secret}}\n      - {{name: AWS_ENDPOINT_URL, value: \"{aws_endpoint}\"}}\n      - {{name: AWS_CONFIG_FILE, value: /dev/null}}\n      - {{name: AWS_SHARED_CREDENTIALS_FILE, value: /dev/null}}\n"
    );
    let path = dir.join(format!("{cluster}-exec.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A kubeconfig for `cluster` with a fixed bearer token.
fn token_kubeconfig(dir: &Path, cluster: &str, endpoint: &str, ca: &str, token: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {cluster}\n  context: {{cluster: {cluster}, user: u}}\ncurrent-context: {cluster}\nusers:\n- name: u\n  user:\n    token: \"{token}\"\n"
    );
    let path = dir.join(format!("{cluster}-token.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

/// kubectl with its own discovery cache: (success, stdout, stderr).
fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into()))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(kubeconfig.with_extension("cache"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("kubectl on PATH");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `aws eks get-token` against the emulator: the token.
fn cli_token(aws_endpoint: &str, cluster: &str) -> String {
    let out = Command::new("aws")
        .args(["eks", "get-token", "--cluster-name", cluster, "--region", REGION])
        .env("AWS_ACCESS_KEY_ID", "AKIDTESTING")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI (`aws`) on PATH");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["status"]["token"].as_str().unwrap().to_owned()
}

/// Each node as `name ready-status`, sorted.
fn nodes(kubeconfig: &Path) -> Vec<String> {
    let (ok, out, _) = kubectl(
        kubeconfig,
        &[
            "get",
            "nodes",
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
        ],
    );
    if !ok {
        return vec!["<error>".into()];
    }
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_cluster_serves_eks_tokens_over_tls_its_nodes_join_and_deletion_stops_it() {
    let stack = Stack::start(Timing::Fast).await;
    let sdk = stack.sdk(REGION).await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let dir = tempfile::tempdir().unwrap();

    create_cluster(&eks, "w1", &net).send().await.unwrap();
    let cluster = active(&eks, "w1").await;
    let endpoint = cluster.endpoint().unwrap().to_owned();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let ca = cluster
        .certificate_authority()
        .unwrap()
        .data()
        .unwrap()
        .to_owned();
    assert!(!ca.is_empty());

    // The creator, through `aws eks get-token` (presigned against the emulator's own endpoint).
    let config = exec_kubeconfig(dir.path(), "w1", &endpoint, &ca, &stack.emulator.url());
    let (ok, out, err) = kubectl(&config, &["get", "namespaces", "-o", "name"]);
    assert!(ok, "{err}");
    assert!(out.contains("namespace/default"), "{out}");
    assert!(out.contains("namespace/kube-system"), "{out}");
    // The usual objects of a new cluster.
    let (ok, _, err) = kubectl(&config, &["get", "clusterrole", "cluster-admin"]);
    assert!(ok, "{err}");

    // The same token as a fixed bearer token works; a malformed one gets 401.
    let fixed = token_kubeconfig(
        dir.path(),
        "w1",
        &endpoint,
        &ca,
        &cli_token(&stack.emulator.url(), "w1"),
    );
    let (ok, _, err) = kubectl(&fixed, &["get", "namespace", "default"]);
    assert!(ok, "{err}");
    let bad = token_kubeconfig(dir.path(), "w1-bad", &endpoint, &ca, "k8s-aws-v1.bm90LWEtdXJs");
    let (ok, _, err) = kubectl(&bad, &["get", "namespaces"]);
    assert!(!ok);
    assert!(
        err.contains("Unauthorized") || err.contains("provide credentials"),
        "{err}"
    );

    // A managed node group: its nodes register and turn Ready.
    eks.create_nodegroup()
        .cluster_name("w1")
        .nodegroup_name("workers")
        .node_role(&net.node_role_arn)
        .set_subnets(Some(net.subnets.clone()))
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(1)
                .desired_size(2)
                .max_size(3)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ready = until(60, || {
        let config = config.clone();
        async move {
            let nodes = nodes(&config);
            (nodes.len() == 2 && nodes.iter().all(|n| n.ends_with(" True"))).then_some(nodes)
        }
    })
    .await;
    assert!(
        ready
            .iter()
            .all(|n| n.starts_with("ip-") && n.contains(".eu-west-1.compute.internal")),
        "{ready:?}"
    );
    let (ok, labels, err) = kubectl(
        &config,
        &["get", "nodes", "-o", "jsonpath={.items[0].metadata.labels}"],
    );
    assert!(ok, "{err}");
    assert!(
        labels.contains(r#""eks.amazonaws.com/nodegroup":"workers""#),
        "{labels}"
    );

    // Node group deleted: its nodes leave. Cluster deleted: its server stops.
    eks.delete_nodegroup()
        .cluster_name("w1")
        .nodegroup_name("workers")
        .send()
        .await
        .unwrap();
    until(60, || {
        let config = config.clone();
        async move { nodes(&config).is_empty().then_some(()) }
    })
    .await;
    until(30, || {
        let eks = eks.clone();
        async move { eks.delete_cluster().name("w1").send().await.is_ok().then_some(()) }
    })
    .await;
    let port = port_of(&endpoint);
    until(30, || async move {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .is_err()
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_emulator_with_a_state_dir_resumes_each_workload_server_with_its_endpoint_ca_and_objects()
{
    let moto = Moto::start();
    let state = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(moto.url());
    config.timing = Timing::Instant;
    config.state_dir = Some(state.path().to_owned());
    let emulator = Emulator::start(config.clone()).await.unwrap();
    let sdk = sdk_config(&emulator.url(), REGION, "AKIDTESTING").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "keep", &net).send().await.unwrap();
    let cluster = active(&eks, "keep").await;
    let endpoint = cluster.endpoint().unwrap().to_owned();
    let ca = cluster
        .certificate_authority()
        .unwrap()
        .data()
        .unwrap()
        .to_owned();
    let kube = exec_kubeconfig(dir.path(), "keep", &endpoint, &ca, &emulator.url());
    let (ok, _, err) = kubectl(
        &kube,
        &[
            "create",
            "configmap",
            "kept",
            "-n",
            "default",
            "--from-literal=a=b",
        ],
    );
    assert!(ok, "{err}");
    let emulator_port = emulator.port();
    emulator.shutdown().await;
    let workload_port = port_of(&endpoint);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", workload_port)).is_err(),
        "the workload server outlived the emulator"
    );

    // Same emulator port, so the kubeconfig's AWS endpoint stays valid.
    config.port = emulator_port;
    let emulator = Emulator::start(config).await.unwrap();
    let sdk = sdk_config(&emulator.url(), REGION, "AKIDTESTING").await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let again = active(&eks, "keep").await;
    assert_eq!(again.endpoint(), Some(endpoint.as_str()));
    assert_eq!(again.certificate_authority().unwrap().data(), Some(ca.as_str()));
    let (ok, out, err) = kubectl(
        &kube,
        &[
            "get",
            "configmap",
            "kept",
            "-n",
            "default",
            "-o",
            "jsonpath={.data.a}",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "b");
    tokio::time::timeout(Duration::from_secs(30), emulator.shutdown())
        .await
        .unwrap();
}
