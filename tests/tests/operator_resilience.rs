//! End to end, resilience of the running operator: two replicas with leader election, and a management
//! cluster that fails requests and drops watches. Restarts mid-way are in `operator_restart.rs`.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::time::Duration;

use eks_e2e::{kubectl, kubectl_ok, repo_root};
use operator_support::{Operator, SEED, eventually, lease_holder, owned_vpcs, world};

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_only_the_leader_reconciles_and_the_other_takes_over() {
    let w = world().await;
    let config = w.config.as_path();
    let start = |identity: &str| {
        let log = w.log.with_file_name(format!("{identity}.log"));
        let args = ["--leader-election", "--lease-namespace", "default"].map(String::from);
        Operator::start_with(config, &w.local_aws, &log, &args, &[("POD_NAME", identity)])
    };
    let holder = || lease_holder(config);
    let first = start("replica-a");
    eventually("replica-a to hold the lease", Duration::from_secs(30), || async {
        holder() == "replica-a"
    })
    .await;
    let second = start("replica-b");
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(ready, "{out}{err}");
    assert_eq!(holder(), "replica-a");
    let b_log = std::fs::read_to_string(w.log.with_file_name("replica-b.log")).unwrap_or_default();
    assert!(!b_log.contains("Created"), "the standby made AWS calls:\n{b_log}");

    drop(first);
    eventually(
        "replica-b to take over the lease",
        Duration::from_secs(60),
        || async { holder() == "replica-b" },
    )
    .await;
    // The new leader reconciles: a deleted generated object comes back.
    kubectl_ok(config, &["delete", "configmap", "cloudlad-eu-west-1-aws-auth"]);
    eventually(
        "replica-b to put the ConfigMap back",
        Duration::from_secs(30),
        || async { kubectl(config, &["get", "configmap", "cloudlad-eu-west-1-aws-auth"]).0 },
    )
    .await;
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_controller_survives_a_flaky_api_server() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.local_aws, &w.log);
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    // Failures and dropped watches while the regions are being built.
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.emulator.fail_next(15, 500);
    w.emulator.drop_watches();
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.emulator.fail_next(10, 429);
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(
        ready,
        "{out}{err}\n{}",
        std::fs::read_to_string(&w.log).unwrap_or_default()
    );
    // After watches are dropped again, changes are still seen.
    w.emulator.drop_watches();
    kubectl_ok(config, &["delete", "configmap", "cloudlad-eu-west-2-aws-auth"]);
    eventually(
        "the ConfigMap to come back after dropped watches",
        Duration::from_secs(60),
        || async { kubectl(config, &["get", "configmap", "cloudlad-eu-west-2-aws-auth"]).0 },
    )
    .await;
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(
            owned_vpcs(&w.aws, region).await,
            1,
            "{region}: nothing duplicated"
        );
    }
}
