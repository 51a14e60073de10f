//! End to end under an AWS brown-out: the real `eks-operator run` binary talks to the local AWS endpoint
//! (eks-emulator in front of moto) through the tests' fault proxy (`crates/fault-proxy`, in front of the
//! endpoint: every k-th request throttled with the service's own error, the answer of every m-th mutation lost
//! after AWS applied it). The seed's two regions reach Ready, drift passes after Ready make no mutating call,
//! and deleting the object removes everything, all under the same faults.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use eks_e2e::{kubectl_ok, repo_root};
use fault_proxy::{Counts, FaultProxy, Faults};
use operator_support::{Owned, REGIONS, SEED, World, eventually, owned, run_command, wait_ready, world};

/// `eks-operator run` against the local AWS endpoint through `proxy`, with fast requeues; killed on drop.
struct ProxiedOperator(Child);

impl ProxiedOperator {
    fn start(w: &World, proxy: &FaultProxy) -> Self {
        let log = std::fs::File::create(&w.log).unwrap();
        let child = run_command(&w.config, &w.local_aws)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args([
                "--http-addr",
                "127.0.0.1:0",
                "--progress-period",
                "1s",
                "--drift-period",
                "2s",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for ProxiedOperator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What one run of the seed measured.
struct Measured {
    to_ready: Duration,
    calls: Counts,
}

/// Applies the seed through the proxy with `faults`, waits for Ready, checks that drift passes after Ready
/// make no mutating call, deletes the object and checks that nothing is left.
async fn seed_lifecycle(faults: Faults) -> Measured {
    let w = world().await;
    let proxy = FaultProxy::start(&w.local_aws.endpoint(), faults).await.unwrap();
    let _operator = ProxiedOperator::start(&w, &proxy);
    let config = w.config.as_path();
    let started = Instant::now();
    kubectl_ok(config, &["apply", "-f", repo_root().join(SEED).to_str().unwrap()]);
    wait_ready(config, &w.log);
    let to_ready = started.elapsed();
    let calls = proxy.counts();
    for region in REGIONS {
        assert_eq!(owned(&w.aws, region).await, Owned::seed_ready(), "{region}");
    }

    // Drift passes after Ready (every 2 s), under the same faults: each looks at the VPC of both regions.
    // Wait until at least three more passes have (counted on the proxy, not timed), then: no mutation.
    proxy.reset_counts();
    eventually(
        "three drift passes after Ready",
        Duration::from_secs(60),
        || async {
            proxy
                .counts()
                .by_operation
                .get("ec2:DescribeVpcs")
                .is_some_and(|c| c.forwarded >= 3 * REGIONS.len() as u64)
        },
    )
    .await;
    let after = proxy.counts();
    assert_eq!(
        after.mutations(),
        0,
        "mutating calls after Ready: {}\n{}",
        after.mutation_summary(),
        std::fs::read_to_string(&w.log).unwrap_or_default()
    );

    kubectl_ok(config, &["delete", "eksc", "cloudlad", "--timeout=300s"]);
    for region in REGIONS {
        assert_eq!(owned(&w.aws, region).await, Owned::default(), "{region}");
    }
    Measured { to_ready, calls }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_gets_ready_and_is_deleted_cleanly_while_aws_throttles_and_loses_answers() {
    let measured = seed_lifecycle(Faults::new(6, 4)).await;
    assert!(measured.calls.throttled() > 0 && measured.calls.lost() > 0);
}

/// The figures quoted in the README: time to Ready and AWS calls of the seed, without and with faults.
/// `cargo nextest run -p eks-e2e --test operator_brownout --run-ignored only --no-capture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement for the README, not a test"]
async fn measure_the_seed_with_and_without_faults() {
    for (label, faults) in [("no faults", Faults::NONE), ("k=6, m=4", Faults::new(6, 4))] {
        let m = seed_lifecycle(faults).await;
        println!(
            "{label}: Ready after {:.1} s; requests reaching AWS: {} reads, {} mutations; {} throttled, {} answers lost",
            m.to_ready.as_secs_f64(),
            m.calls.reads(),
            m.calls.mutations(),
            m.calls.throttled(),
            m.calls.lost()
        );
    }
}
