//! The controller in-process (emulator and in-memory AWS fake): which objects it reconciles and how it copes
//! with objects the typed spec refuses. A malformed object (stored under a looser, older CRD) next to a
//! healthy one; a `Retain` that must hold though the spec no longer parses; sharding by namespace and selector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use eks_aws::fake::{FakeAws, FakeConfig};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube_emulator::Emulator;
use serde_json::{Value, json};
use support::{
    Controller, Options, create_namespace, eks_clusters, eventually, has_event, install_crd, permissive_crd,
    quick_timing, two_region_cluster,
};

fn ready_reason(object: &DynamicObject) -> Option<String> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")?["reason"]
        .as_str()
        .map(str::to_owned)
}

fn ready_message(object: &DynamicObject) -> String {
    object.data["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn eks_cluster_exists(fake: &FakeAws, region: &str, id: &str) -> bool {
    fake.with_state(|s| s.region(region).cluster_status(id)).is_some()
}

async fn create(api: &Api<DynamicObject>, object: Value) {
    api.create(&PostParams::default(), &serde_json::from_value(object).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_object_gets_invalid_spec_while_a_healthy_one_next_to_it_becomes_ready() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    // Stored under an older CRD that accepted any spec: `kubernetesVersion: 1.31` unquoted, a YAML number. The
    // operator had picked it up already (it carries the finalizer); then the CRD became the strict one.
    install_crd(&client, permissive_crd()).await;
    let api = eks_clusters(&client, "default");
    let mut broken = two_region_cluster("broken");
    broken["spec"]["kubernetesVersion"] = json!(1.31);
    broken["metadata"]["finalizers"] = json!(["eksoperator.io/cleanup"]);
    create(&api, broken).await;
    install_crd(&client, eks_api::crd::crd()).await;
    assert_eq!(
        api.get("broken").await.unwrap().data["spec"]["kubernetesVersion"],
        json!(1.31),
        "the API server still serves the malformed object"
    );
    let refused = eks_api::parse::from_value(serde_json::to_value(api.get("broken").await.unwrap()).unwrap());
    assert!(refused.is_err(), "the typed spec refuses it");

    let fake = FakeAws::new(FakeConfig::default());
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    create(&api, two_region_cluster("healthy")).await;
    eventually("healthy Ready", Duration::from_secs(30), || async {
        api.get("healthy").await.unwrap().data["status"]["phase"] == "Ready"
    })
    .await;
    eventually("broken InvalidSpec", Duration::from_secs(10), || async {
        ready_reason(&api.get("broken").await.unwrap()).as_deref() == Some("InvalidSpec")
    })
    .await;
    let broken = api.get("broken").await.unwrap();
    assert_eq!(broken.data["status"]["phase"], "Invalid");
    assert!(
        ready_message(&broken).contains("spec.kubernetesVersion"),
        "{}",
        ready_message(&broken)
    );
    assert!(
        has_event(
            &client,
            "default",
            "broken",
            "Warning",
            "InvalidSpec",
            "spec.kubernetesVersion"
        )
        .await
    );
    for region in ["eu-west-1", "eu-west-2"] {
        assert!(eks_cluster_exists(
            &fake,
            region,
            &format!("{region}-test-healthy")
        ));
        assert!(!eks_cluster_exists(
            &fake,
            region,
            &format!("{region}-test-broken")
        ));
    }
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_an_object_whose_spec_no_longer_parses_keeps_a_retain_policy() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    let api = eks_clusters(&client, "default");
    let mut kept = two_region_cluster("kept");
    kept["spec"]["deletionPolicy"] = json!("Retain");
    create(&api, kept).await;
    eventually("Ready", Duration::from_secs(30), || async {
        api.get("kept").await.unwrap().data["status"]["phase"] == "Ready"
    })
    .await;
    let built = fake.with_state(|s| s.resource_count());
    assert!(built > 0);

    // The CRD is loosened and the spec broken: the typed parse now refuses the object.
    install_crd(&client, permissive_crd()).await;
    api.patch(
        "kept",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"kubernetesVersion": 1.31}})),
    )
    .await
    .unwrap();
    eventually("InvalidSpec", Duration::from_secs(10), || async {
        ready_reason(&api.get("kept").await.unwrap()).as_deref() == Some("InvalidSpec")
    })
    .await;

    api.delete("kept", &DeleteParams::default()).await.unwrap();
    eventually("the object released", Duration::from_secs(30), || async {
        api.get_opt("kept").await.unwrap().is_none()
    })
    .await;
    assert!(
        has_event(
            &client,
            "default",
            "kept",
            "Normal",
            "Retained",
            "deletionPolicy is Retain"
        )
        .await
    );
    assert_eq!(
        fake.with_state(|s| s.resource_count()),
        built,
        "Retain keeps every AWS resource"
    );
    for region in ["eu-west-1", "eu-west-2"] {
        assert!(eks_cluster_exists(&fake, region, &format!("{region}-test-kept")));
    }
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_by_namespace_and_selector_reconcile_only_their_own_objects() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    for namespace in ["team-a", "team-b"] {
        create_namespace(&client, namespace).await;
    }
    let fake = FakeAws::new(FakeConfig::default());
    // One deployment watches namespace team-a only; another every namespace but only `shard=one`.
    let by_namespace = Controller::start_with(
        &client,
        &fake,
        Options {
            namespace: Some("team-a".into()),
            ..Options::new(quick_timing())
        },
    )
    .await;
    let by_selector = Controller::start_with(
        &client,
        &fake,
        Options {
            selector: Some("shard=one".into()),
            ..Options::new(quick_timing())
        },
    )
    .await;
    let team_a = eks_clusters(&client, "team-a");
    let team_b = eks_clusters(&client, "team-b");
    // Created first, so that a controller watching too much would meet it before the others.
    create(&team_b, two_region_cluster("nobodys")).await;
    create(&team_a, two_region_cluster("alpha")).await;
    let mut labelled = two_region_cluster("beta");
    labelled["metadata"]["labels"] = json!({"shard": "one"});
    create(&team_b, labelled).await;

    eventually("alpha and beta Ready", Duration::from_secs(40), || async {
        team_a.get("alpha").await.unwrap().data["status"]["phase"] == "Ready"
            && team_b.get("beta").await.unwrap().data["status"]["phase"] == "Ready"
    })
    .await;
    // Another moment for a controller that would (wrongly) reconcile it: no finalizer, no status, no AWS.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let nobodys = team_b.get("nobodys").await.unwrap();
    assert_eq!(nobodys.metadata.finalizers, None, "no controller took it");
    assert!(
        nobodys.data.get("status").is_none_or(Value::is_null),
        "{:?}",
        nobodys.data
    );
    for region in ["eu-west-1", "eu-west-2"] {
        assert!(!eks_cluster_exists(
            &fake,
            region,
            &format!("{region}-test-nobodys")
        ));
    }
    // Each object counts in exactly one controller.
    assert_eq!(by_namespace.objects_in_phase("Ready"), 1.0);
    assert_eq!(by_selector.objects_in_phase("Ready"), 1.0);
    by_namespace.stop().await;
    by_selector.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_that_leaves_the_shard_leaves_the_objects_gauge() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    let controller = Controller::start_with(
        &client,
        &fake,
        Options {
            selector: Some("shard=one".into()),
            ..Options::new(quick_timing())
        },
    )
    .await;
    let api = eks_clusters(&client, "default");
    for name in ["stays", "moves"] {
        let mut object = two_region_cluster(name);
        object["metadata"]["labels"] = json!({"shard": "one"});
        create(&api, object).await;
    }
    eventually("both Ready", Duration::from_secs(40), || async {
        controller.objects_in_phase("Ready") == 2.0
    })
    .await;
    assert_eq!(controller.metrics.objects_tracked(), 2);

    // Handed to another shard: the watch reports it deleted, and nothing of it stays behind.
    let relabel = json!({"metadata": {"labels": {"shard": "two"}}});
    api.patch("moves", &PatchParams::default(), &Patch::Merge(&relabel))
        .await
        .unwrap();
    eventually("one object counted", Duration::from_secs(10), || async {
        controller.objects_in_phase("Ready") == 1.0
    })
    .await;
    assert_eq!(controller.metrics.objects_tracked(), 1);
    controller.stop().await;
    emulator.shutdown().await;
}
