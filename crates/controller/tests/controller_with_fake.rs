//! The controller in-process against the Kubernetes API server emulator and the in-memory AWS fake, for what
//! moto cannot show: AWS resources that stay `CREATING`, throttling, and how often the controller writes and
//! calls when nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use eks_aws::fake::{FakeAws, FakeConfig};
use eks_aws::instrument::{Fault, FaultRule};
use kube::api::{DeleteParams, DynamicObject, PostParams};
use kube_emulator::Emulator;
use serde_json::Value;
use support::{Controller, eks_clusters, eventually, quick_timing, two_region_cluster};

fn ready_condition(object: &DynamicObject) -> Option<Value> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .cloned()
}

fn cluster_status(fake: &FakeAws, region: &str, name: &str) -> Option<String> {
    fake.with_state(|state| {
        state
            .region(region)
            .cluster_status(name)
            .map(|(status, _)| status)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_aws_backs_off_instead_of_looping_and_converges_once_it_stops() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    fake.instrument()
        .inject(FaultRule::every(1, false, Fault::Throttle));
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    let api = eks_clusters(&client, "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(two_region_cluster("throttled")).unwrap(),
    )
    .await
    .unwrap();

    eventually(
        "the throttling to show in status",
        Duration::from_secs(20),
        || async {
            let object = api.get("throttled").await.unwrap();
            object.data["status"]["regions"]
                .as_array()
                .is_some_and(|regions| {
                    regions
                        .iter()
                        .any(|r| r["lastError"].as_str().is_some_and(|e| e.contains("Throttl")))
                })
        },
    )
    .await;
    // Throttling is weather, not failure: a throttled pass is retried after a random 200-400 ms (the 200 ms
    // base up to twice it), never climbing the failure ladder to the 2 s cap. The gaps between reconciles are
    // watched for 8 s: a hot loop has gaps of milliseconds, the failure ladder gaps of about 2 s; both fail
    // here. (Gaps can only come out longer than the delay on a busy machine, never shorter, so the lower
    // bound does not flake; the upper one is checked on the median, far below the cap.)
    let calls_before = fake.instrument().stats().total();
    let mut seen = controller.reconciles();
    let mut at = vec![tokio::time::Instant::now()];
    let watch_until = tokio::time::Instant::now() + Duration::from_secs(8);
    while tokio::time::Instant::now() < watch_until {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = controller.reconciles();
        for _ in 0..(now - seen) as usize {
            at.push(tokio::time::Instant::now());
        }
        seen = now;
    }
    let mut gaps: Vec<f64> = at
        .windows(2)
        .skip(1)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let calls = fake.instrument().stats().total() - calls_before;
    assert!(
        (6..=45).contains(&(at.len() - 1)),
        "{} reconciles in 8 s of throttling, gaps {gaps:?}",
        at.len() - 1
    );
    assert!(
        gaps.iter().all(|g| *g >= 0.17),
        "no retry sooner than the base delay: {gaps:?}"
    );
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    assert!(
        median < 1.0,
        "throttled passes do not climb to the 2 s cap: {gaps:?}"
    );
    assert!(calls <= 45 * 2 * 2, "{calls} AWS calls in 8 s of throttling");

    fake.instrument().clear_faults();
    eventually(
        "Ready once AWS stops throttling",
        Duration::from_secs(30),
        || async { api.get("throttled").await.unwrap().data["status"]["phase"] == "Ready" },
    )
    .await;
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_deleted_while_its_clusters_are_creating_is_torn_down_from_what_exists() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    // EKS clusters stay CREATING for 40 observations: several seconds at a 200 ms progress period.
    let fake = FakeAws::new(FakeConfig {
        settle_after: 40,
        ..FakeConfig::default()
    });
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    let api = eks_clusters(&client, "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(two_region_cluster("early")).unwrap(),
    )
    .await
    .unwrap();
    eventually(
        "both EKS clusters to be CREATING",
        Duration::from_secs(20),
        || async {
            ["eu-west-1", "eu-west-2"].iter().all(|region| {
                cluster_status(&fake, region, &format!("{region}-test-early")).as_deref() == Some("CREATING")
            })
        },
    )
    .await;
    assert_ne!(api.get("early").await.unwrap().data["status"]["phase"], "Ready");
    assert!(fake.with_state(|s| s.resource_count()) > 0);

    let reconciles_before = controller.reconciles();
    let deleted_at = std::time::Instant::now();
    api.delete("early", &DeleteParams::default()).await.unwrap();
    eventually("the object to be released", Duration::from_secs(60), || async {
        api.get_opt("early").await.unwrap().is_none()
    })
    .await;
    // Teardown passes come at the progress period (200 ms), not as fast as the AWS layer would allow.
    let passes = controller.reconciles() - reconciles_before;
    let bound = deleted_at.elapsed().as_secs_f64() / 0.2 + 5.0;
    assert!(
        passes <= bound,
        "{passes} teardown passes, at most {bound} expected"
    );
    assert_eq!(
        fake.with_state(|s| s.resource_count()),
        0,
        "nothing is left in AWS"
    );
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_change_passes_read_aws_but_write_neither_aws_nor_status() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    let timing = eks_controller::context::Timing {
        drift_period: Duration::from_millis(300),
        ..quick_timing()
    };
    let controller = Controller::start(&client, &fake, timing, 4).await;
    let api = eks_clusters(&client, "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(two_region_cluster("steady")).unwrap(),
    )
    .await
    .unwrap();
    eventually("Ready", Duration::from_secs(30), || async {
        api.get("steady").await.unwrap().data["status"]["phase"] == "Ready"
    })
    .await;
    let ready = api.get("steady").await.unwrap();
    fake.instrument().reset_stats();
    let before = controller.reconciles();

    tokio::time::sleep(Duration::from_secs(3)).await;
    let passes = controller.reconciles() - before;
    assert!(passes >= 3.0, "drift passes ran: {passes}");
    let stats = fake.instrument().stats();
    assert_eq!(stats.mutations, 0, "{}", stats.summary());
    assert!(stats.reads > 0);
    let after = api.get("steady").await.unwrap();
    assert_eq!(
        after.metadata.resource_version, ready.metadata.resource_version,
        "an unchanged status is not written again"
    );
    assert_eq!(ready_condition(&after), ready_condition(&ready));
    assert_eq!(controller.objects_in_phase("Ready"), 1.0);
    controller.stop().await;
    emulator.shutdown().await;
}
