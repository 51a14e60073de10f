//! End to end, what the running operator tells about itself: `/metrics` (reconciles, failures, the duration
//! histogram, AWS calls by service, operation and outcome, objects by phase), `/healthz` and `/readyz`, JSON log
//! lines that name the region and the object, the refusal to start without the CRD or without an API server,
//! and leader election (losing the lease, or being cut off from the API server for longer than it lasts, stops
//! reconciling, confirming it again resumes it). The real
//! `eks-operator run` binary against the emulator and moto, as in `operator_lifecycle.rs`.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use eks_e2e::{kubectl, kubectl_ok, repo_root};
use kube_emulator::Emulator;
use operator_support::{
    LocalAws, REGIONS, SEED, World, eventually, lease_holder, run_command, wait_ready, world,
};
use serde_json::Value;

/// `eks-operator run` with both output streams captured into files, killed when dropped.
struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// The command of `eks-operator run` against this kubeconfig and the local AWS endpoint, with fast requeues, writing its two
/// streams into `<dir>/<name>.stdout` and `<dir>/<name>.stderr`.
fn operator_command(
    kubeconfig: &Path,
    aws: &LocalAws,
    name: &str,
    args: &[&str],
) -> (Command, PathBuf, PathBuf) {
    let dir = kubeconfig.parent().unwrap();
    let (stdout, stderr) = (
        dir.join(format!("{name}.stdout")),
        dir.join(format!("{name}.stderr")),
    );
    let mut command = run_command(kubeconfig, aws);
    command
        .args(["--progress-period", "1s", "--drift-period", "2s"])
        .args(args)
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    (command, stdout, stderr)
}

impl Running {
    fn start(w: &World, name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let (mut command, stdout, stderr) = operator_command(&w.config, &w.local_aws, name, args);
        let child = command.envs(env.iter().copied()).spawn().unwrap();
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the command to its end (60 s at most) off the async runtime, which serves the emulator.
async fn run_to_end(mut command: Command) -> ExitStatus {
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the operator did not exit within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
    .await
    .unwrap()
}

/// A loopback address nothing listens on right now.
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `GET path` over HTTP/1.1: the status code and the body, or `None` while nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

/// The value of the sample named exactly `series` (name and labels, as exposed) in an exposition text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Every non-empty line of `text` as JSON; panics naming the first line that is not a JSON object.
fn json_lines(text: &str, what: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a line of {what} is not JSON ({e}): {line}\n{text}"));
            assert!(value.is_object(), "a line of {what} is not a JSON object: {line}");
            value
        })
        .collect()
}

fn apply_seed(config: &Path) {
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_probes_of_the_running_operator_with_the_seed_ready() {
    let w = world().await;
    let addr = free_addr();
    let operator = Running::start(&w, "operator", &["--http-addr", &addr.to_string()], &[]);
    eventually("/healthz to answer", Duration::from_secs(60), || async {
        http_get(addr, "/healthz").is_some()
    })
    .await;
    apply_seed(&w.config);
    wait_ready(&w.config, &operator.stderr);

    let metrics = || {
        http_get(addr, "/metrics")
            .map(|(_, body)| body)
            .unwrap_or_default()
    };
    // The gauge is set right after the status that kubectl saw was written.
    eventually(
        "one object Ready in eks_operator_objects",
        Duration::from_secs(30),
        || async { sample(&metrics(), "eks_operator_objects{phase=\"Ready\"}") == Some(1.0) },
    )
    .await;
    let (code, text) = http_get(addr, "/metrics").unwrap();
    assert_eq!(code, 200, "{text}");
    let reconciles = sample(&text, "eks_operator_reconciles_total").unwrap_or_default();
    assert!(reconciles > 0.0, "{text}");
    // One VPC per region, each created once: both creations counted, as successes.
    let created = "eks_operator_aws_calls_total{service=\"ec2\",operation=\"CreateVpc\",outcome=\"Success\"}";
    assert_eq!(sample(&text, created), Some(2.0), "{text}");
    let identity =
        "eks_operator_aws_calls_total{service=\"sts\",operation=\"GetCallerIdentity\",outcome=\"Success\"}";
    assert!(sample(&text, identity).unwrap_or_default() >= 1.0, "{text}");
    let described =
        "eks_operator_aws_calls_total{service=\"eks\",operation=\"DescribeCluster\",outcome=\"Success\"}";
    assert!(sample(&text, described).unwrap_or_default() >= 2.0, "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("eks_operator_reconcile_duration_seconds_bucket{le=")),
        "{text}"
    );
    let observed = sample(&text, "eks_operator_reconcile_duration_seconds_count").unwrap_or_default();
    assert!(observed > 0.0, "{text}");

    assert_eq!(http_get(addr, "/healthz"), Some((200, "ok".to_owned())));
    assert_eq!(http_get(addr, "/readyz"), Some((200, "ready".to_owned())));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_logs_one_json_object_per_line_and_the_work_on_a_region_names_region_and_object() {
    let w = world().await;
    let operator = Running::start(&w, "operator", &["--http-addr", "127.0.0.1:0"], &[]);
    apply_seed(&w.config);
    wait_ready(&w.config, &operator.stderr);
    let stdout = std::fs::read_to_string(&operator.stdout).unwrap();
    json_lines(&stdout, "standard output");
    let lines = json_lines(&operator.log(), "standard error");
    for line in &lines {
        assert!(
            line["level"].is_string() && line["timestamp"].is_string(),
            "{line}"
        );
        assert!(line["message"].is_string(), "{line}");
    }

    // The engine's lines of what it created, in each region, carry the region span with region and object.
    let created: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("eks_aws::engine"))
                && l["message"].as_str().is_some_and(|m| m.starts_with("Created"))
        })
        .collect();
    for region in REGIONS {
        assert!(
            created.iter().any(|l| l["region"] == region),
            "no creation line for {region}:\n{}",
            operator.log()
        );
    }
    for line in &lines {
        let Some(target) = line["target"].as_str() else {
            continue;
        };
        if !target.starts_with("eks_aws::engine") {
            continue;
        }
        let span = &line["span"];
        assert_eq!(span["name"], "region", "{line}");
        assert!(REGIONS.iter().any(|r| span["region"] == *r), "{line}");
        assert_eq!(span["object"], "default/cloudlad", "{line}");
        let spans = line["spans"]
            .as_array()
            .unwrap_or_else(|| panic!("no span list: {line}"));
        assert!(
            spans
                .iter()
                .any(|s| s["name"] == "reconcile" && s["object"] == "default/cloudlad"),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_exits_with_a_clear_reason_without_the_crd_or_without_an_api_server() {
    let aws = LocalAws::start().await;
    let emulator = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&config).unwrap();

    let error_of = |stderr: &Path| {
        let text = std::fs::read_to_string(stderr).unwrap();
        let lines = json_lines(&text, "standard error");
        let error = lines.iter().rev().find(|l| l["level"] == "ERROR");
        error
            .and_then(|l| l["message"].as_str())
            .unwrap_or_else(|| panic!("no ERROR line:\n{text}"))
            .to_owned()
    };

    let (command, _, stderr) = operator_command(&config, &aws, "no-crd", &["--http-addr", "127.0.0.1:0"]);
    let status = run_to_end(command).await;
    assert_eq!(status.code(), Some(1), "{status}");
    let message = error_of(&stderr);
    assert!(
        message.contains("EksCluster CRD") && message.contains("not installed"),
        "{message}"
    );
    assert!(
        message.contains("kubectl apply -f deploy/crds/eksclusters.eksoperator.io.yaml"),
        "{message}"
    );
    assert!(!message.contains("unreachable"), "{message}");

    // The same kubeconfig once nothing listens on its port any more.
    emulator.shutdown().await;
    let (command, _, stderr) = operator_command(&config, &aws, "no-server", &["--http-addr", "127.0.0.1:0"]);
    let status = run_to_end(command).await;
    assert_eq!(status.code(), Some(1), "{status}");
    let message = error_of(&stderr);
    assert!(
        message.contains("Kubernetes API server is unreachable"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("connect"), "{message}");
    assert!(!message.contains("not installed"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn losing_the_leader_lease_stops_reconciling_until_the_lease_is_won_again() {
    let w = world().await;
    let config = w.config.as_path();
    let args = [
        "--leader-election",
        "--lease-namespace",
        "default",
        "--http-addr",
        "127.0.0.1:0",
    ];
    let mut operator = Running::start(&w, "replica-a", &args, &[("POD_NAME", "replica-a")]);
    apply_seed(config);
    wait_ready(config, &operator.stderr);
    let holder = || lease_holder(config);
    assert_eq!(holder(), "replica-a");

    // Another replica takes the lease, as one does after this one failed to renew it in time.
    let patch = r#"{"spec":{"holderIdentity":"replica-b"}}"#;
    kubectl_ok(
        config,
        &["patch", "lease", "eks-operator", "--type", "merge", "-p", patch],
    );
    eventually(
        "replica-a to notice it lost the lease",
        Duration::from_secs(40),
        || async { operator.log().contains("lost the leader lease") },
    )
    .await;
    assert!(
        operator.child.try_wait().unwrap().is_none(),
        "the operator exited:\n{}",
        operator.log()
    );
    // replica-a renewed the lease once more just before it noticed (the lease manager patches renewTime even
    // of a lease it no longer holds): give replica-b's lease 45 s from then, so that the check below runs
    // well before it expires.
    let lost_at = Instant::now();
    kubectl_ok(
        config,
        &[
            "patch",
            "lease",
            "eks-operator",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"leaseDurationSeconds":45}}"#,
        ],
    );

    // Not leading: a deleted generated object is not put back (the owned-object watch would do it at once,
    // the drift period is 2 s).
    let config_map = "cloudlad-eu-west-1-aws-auth";
    kubectl_ok(config, &["delete", "configmap", config_map]);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !kubectl(config, &["get", "configmap", config_map]).0,
        "a replica that lost the lease reconciled"
    );
    assert!(
        lost_at.elapsed() < Duration::from_secs(40),
        "the check came after replica-b's lease may have expired: it proves nothing"
    );

    // replica-b's lease expires; replica-a wins it again and reconciles again.
    eventually(
        "replica-a to lead again and put the ConfigMap back",
        Duration::from_secs(90),
        || async { kubectl(config, &["get", "configmap", config_map]).0 },
    )
    .await;
    assert_eq!(holder(), "replica-a");
    assert!(
        operator.log().matches("leading: starting the controller").count() >= 2,
        "{}",
        operator.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_cut_off_from_the_api_server_stops_reconciling_before_its_lease_expires_and_resumes_after() {
    let w = world().await;
    let config = w.config.as_path();
    let args = [
        "--leader-election",
        "--lease-namespace",
        "default",
        "--http-addr",
        "127.0.0.1:0",
    ];
    let operator = Running::start(&w, "replica-a", &args, &[("POD_NAME", "replica-a")]);
    apply_seed(config);
    wait_ready(config, &operator.stderr);
    assert_eq!(
        operator.log().matches("leading: starting the controller").count(),
        1,
        "{}",
        operator.log()
    );

    // Every request fails for longer than the Lease lasts (15 s): the lease manager cannot renew and keeps
    // saying "leader", but the fence stops the controller before another replica could take the Lease.
    w.emulator.fail_next(u32::MAX, 500);
    let cut_at = Instant::now();
    eventually(
        "replica-a to stop reconciling without a confirmed lease",
        Duration::from_secs(30),
        || async {
            let log = operator.log();
            log.contains("the leader Lease could not be confirmed")
                && log.contains("lost the leader lease: stopping the controller")
        },
    )
    .await;
    assert!(
        cut_at.elapsed() < Duration::from_secs(15),
        "the controller stopped only after the lease may have expired:\n{}",
        operator.log()
    );

    // The API server answers again: the lease manager renews the Lease and the controller runs again.
    w.emulator.faults().clear();
    eventually("replica-a to lead again", Duration::from_secs(90), || async {
        operator.log().matches("leading: starting the controller").count() == 2
    })
    .await;
    let config_map = "cloudlad-eu-west-1-aws-auth";
    kubectl_ok(config, &["delete", "configmap", config_map]);
    eventually(
        "replica-a to reconcile again and put the ConfigMap back",
        Duration::from_secs(30),
        || async { kubectl(config, &["get", "configmap", config_map]).0 },
    )
    .await;
}
