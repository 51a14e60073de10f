//! The controller in-process (emulator and in-memory AWS fake): the generated ConfigMap and Secret are kept
//! exactly as generated, with an event for every creation, repair and deletion; a failure to apply aws-auth into
//! the workload cluster is reported, backs off and recovers; a Kubernetes error is a Warning event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use eks_aws::fake::{FakeAws, FakeConfig};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube_emulator::Emulator;
use serde_json::{Value, json};
use support::{
    Controller, Options, closed_port, eks_clusters, event_count, events_of, eventually, has_event,
    quick_timing, two_region_cluster,
};

fn one_region_cluster(name: &str) -> Value {
    let mut object = two_region_cluster(name);
    object["spec"]["regions"] = json!(["eu-west-1"]);
    object
}

fn condition(object: &DynamicObject, type_: &str) -> Option<Value> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .cloned()
}

fn region_error(object: &DynamicObject, region: &str) -> Option<String> {
    object.data["status"]["regions"]
        .as_array()?
        .iter()
        .find(|r| r["region"] == region)?
        .get("lastError")?
        .as_str()
        .map(str::to_owned)
}

/// Waits until the controller has run no reconcile for `quiet`.
async fn idle(controller: &Controller, quiet: Duration) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let before = controller.reconciles();
        tokio::time::sleep(quiet).await;
        if controller.reconciles() == before {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the controller never went idle"
        );
    }
}

async fn create(api: &Api<DynamicObject>, object: Value) {
    api.create(&PostParams::default(), &serde_json::from_value(object).unwrap())
        .await
        .unwrap();
}

async fn wait_ready(api: &Api<DynamicObject>, name: &str) {
    eventually(&format!("{name} Ready"), Duration::from_secs(30), || async {
        api.get(name).await.unwrap().data["status"]["phase"] == "Ready"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn edited_or_deleted_generated_objects_are_put_back_exactly_with_repaired_events() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    let api = eks_clusters(&client, "default");
    create(&api, one_region_cluster("gen")).await;
    wait_ready(&api, "gen").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let (cm_name, secret_name) = ("gen-eu-west-1-aws-auth", "gen-eu-west-1-kubeconfig");
    eventually("the generated objects", Duration::from_secs(10), || async {
        config_maps.get_opt(cm_name).await.unwrap().is_some()
            && secrets.get_opt(secret_name).await.unwrap().is_some()
    })
    .await;
    let generated_cm = config_maps.get(cm_name).await.unwrap().data.unwrap();
    let generated_secret = secrets.get(secret_name).await.unwrap().data.unwrap();
    assert!(generated_cm["mapRoles"].contains("eks-worker-eu-west-1-test-gen"));
    assert!(
        has_event(
            &client,
            "default",
            "gen",
            "Normal",
            "Created",
            &format!("ConfigMap default/{cm_name}")
        )
        .await
    );
    assert!(
        has_event(
            &client,
            "default",
            "gen",
            "Normal",
            "Created",
            &format!("Secret default/{secret_name}")
        )
        .await
    );
    idle(&controller, Duration::from_millis(500)).await;

    // Someone edits both objects with their own field manager: a value changed, a key added.
    let by_hand = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    config_maps
        .patch(
            cm_name,
            &by_hand,
            &Patch::Merge(json!({"data": {"mapRoles": "- tampered", "extra": "added"}})),
        )
        .await
        .unwrap();
    secrets
        .patch(
            secret_name,
            &by_hand,
            &Patch::Merge(json!({"data": {"token": "c2VjcmV0"}})),
        )
        .await
        .unwrap();
    eventually(
        "both objects exactly as generated",
        Duration::from_secs(10),
        || async {
            config_maps.get(cm_name).await.unwrap().data.as_ref() == Some(&generated_cm)
                && secrets.get(secret_name).await.unwrap().data.as_ref() == Some(&generated_secret)
        },
    )
    .await;
    let repaired = |kind: &str, name: &str| format!("{kind} default/{name}");
    eventually("Repaired events", Duration::from_secs(5), || async {
        has_event(
            &client,
            "default",
            "gen",
            "Normal",
            "Repaired",
            &repaired("ConfigMap", cm_name),
        )
        .await
            && has_event(
                &client,
                "default",
                "gen",
                "Normal",
                "Repaired",
                &repaired("Secret", secret_name),
            )
            .await
    })
    .await;

    // Once equal, nothing is written again.
    idle(&controller, Duration::from_millis(500)).await;
    let version = config_maps.get(cm_name).await.unwrap().metadata.resource_version;
    let secret_version = secrets.get(secret_name).await.unwrap().metadata.resource_version;
    let total = |events: Vec<support::SeenEvent>| events.iter().map(|e| e.count).sum::<i32>();
    let events = total(events_of(&client, "default", "gen").await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        config_maps.get(cm_name).await.unwrap().metadata.resource_version,
        version
    );
    assert_eq!(
        secrets.get(secret_name).await.unwrap().metadata.resource_version,
        secret_version
    );
    assert_eq!(
        total(events_of(&client, "default", "gen").await),
        events,
        "no further events"
    );

    // A deleted one is put back too, and said so.
    config_maps
        .delete(cm_name, &DeleteParams::default())
        .await
        .unwrap();
    eventually("the ConfigMap back", Duration::from_secs(10), || async {
        config_maps
            .get_opt(cm_name)
            .await
            .unwrap()
            .is_some_and(|cm| cm.data.as_ref() == Some(&generated_cm))
    })
    .await;
    let note = repaired("ConfigMap", cm_name);
    eventually("a second Repaired event", Duration::from_secs(5), || async {
        event_count(&client, "default", "gen", "Repaired", &note).await == 2
    })
    .await;
    assert_eq!(
        event_count(&client, "default", "gen", "Created", &note).await,
        1,
        "put back is a repair, not a second creation"
    );
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_dropped_from_the_spec_is_torn_down_and_its_generated_objects_deleted_with_events() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    let controller = Controller::start(&client, &fake, quick_timing(), 4).await;
    let api = eks_clusters(&client, "default");
    create(&api, two_region_cluster("shrink")).await;
    wait_ready(&api, "shrink").await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    eventually(
        "eu-west-2's generated objects",
        Duration::from_secs(10),
        || async {
            config_maps
                .get_opt("shrink-eu-west-2-aws-auth")
                .await
                .unwrap()
                .is_some()
                && secrets
                    .get_opt("shrink-eu-west-2-kubeconfig")
                    .await
                    .unwrap()
                    .is_some()
        },
    )
    .await;

    api.patch(
        "shrink",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"regions": ["eu-west-1"]}})),
    )
    .await
    .unwrap();
    eventually(
        "eu-west-2 gone from status, AWS and the namespace",
        Duration::from_secs(60),
        || async {
            let object = api.get("shrink").await.unwrap();
            let regions: Vec<Value> = object.data["status"]["regions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            regions.len() == 1
                && regions[0]["region"] == "eu-west-1"
                && config_maps
                    .get_opt("shrink-eu-west-2-aws-auth")
                    .await
                    .unwrap()
                    .is_none()
                && secrets
                    .get_opt("shrink-eu-west-2-kubeconfig")
                    .await
                    .unwrap()
                    .is_none()
        },
    )
    .await;
    assert!(
        fake.with_state(|s| s.region("eu-west-2").cluster_status("eu-west-2-test-shrink"))
            .is_none()
    );
    assert!(
        fake.with_state(|s| s.region("eu-west-1").cluster_status("eu-west-1-test-shrink"))
            .is_some()
    );
    assert!(
        config_maps
            .get_opt("shrink-eu-west-1-aws-auth")
            .await
            .unwrap()
            .is_some()
    );
    let events = events_of(&client, "default", "shrink").await;
    let deleted = |note: &str| {
        events
            .iter()
            .any(|e| e.type_ == "Normal" && e.reason == "Deleted" && e.note.contains(note))
    };
    assert!(
        deleted("ConfigMap default/shrink-eu-west-2-aws-auth"),
        "{events:#?}"
    );
    assert!(
        deleted("Secret default/shrink-eu-west-2-kubeconfig"),
        "{events:#?}"
    );
    assert!(deleted("eu-west-2: "), "the AWS teardown's events: {events:#?}");
    controller.stop().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_aws_auth_apply_is_reported_backs_off_and_recovers_once_the_workload_cluster_answers() {
    let management = Emulator::start().await.unwrap();
    let client = management.client();
    let fake = FakeAws::new(FakeConfig::default());
    // The workload cluster's endpoint leads to a closed loopback port.
    let port = closed_port();
    let options = Options {
        workload_overrides: [(
            "eu-west-1-test-auth".to_owned(),
            format!("http://127.0.0.1:{port}"),
        )]
        .into(),
        ..Options::new(quick_timing())
    };
    let controller = Controller::start_with(&client, &fake, options).await;
    let api = eks_clusters(&client, "default");
    let mut object = one_region_cluster("auth");
    object["spec"]["awsAuth"] = json!({"manage": true});
    create(&api, object).await;

    eventually(
        "the aws-auth failure in status",
        Duration::from_secs(30),
        || async {
            let object = api.get("auth").await.unwrap();
            region_error(&object, "eu-west-1").is_some_and(|e| e.starts_with("AwsAuthApplyFailed: "))
                && condition(&object, "Degraded").is_some_and(|c| c["status"] == "True")
        },
    )
    .await;
    let object = api.get("auth").await.unwrap();
    let message = region_error(&object, "eu-west-1").unwrap();
    assert!(
        message.contains("kube-system/aws-auth in eu-west-1-test-auth"),
        "{message}"
    );
    assert!(
        has_event(
            &client,
            "default",
            "auth",
            "Warning",
            "AwsAuthApplyFailed",
            "eu-west-1-test-auth"
        )
        .await,
        "{:#?}",
        events_of(&client, "default", "auth").await
    );
    // Retried with backoff (200 ms doubling to 2 s), not after the 10-minute drift period, and not in a hot
    // loop: in 6 s at most 1 + log2(2 s / 200 ms) + 6 s / 1.8 s ≈ 8 attempts.
    eventually(
        "counted as a failed reconcile",
        Duration::from_secs(5),
        || async { controller.failures("AwsAuthApplyFailed") >= 1.0 },
    )
    .await;
    let before = controller.failures("AwsAuthApplyFailed");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let retries = controller.failures("AwsAuthApplyFailed") - before;
    assert!((2.0..=9.0).contains(&retries), "{retries} retries in 6 s");

    // The workload cluster comes up on that port: the next retry applies aws-auth and clears the error.
    let workload = Emulator::builder().port(port).start().await.unwrap();
    eventually("the error cleared", Duration::from_secs(15), || async {
        let object = api.get("auth").await.unwrap();
        region_error(&object, "eu-west-1").is_none()
            && condition(&object, "Degraded").is_some_and(|c| c["status"] == "False")
    })
    .await;
    let aws_auth: Api<ConfigMap> = Api::namespaced(workload.client(), "kube-system");
    let data: BTreeMap<String, String> = aws_auth.get("aws-auth").await.unwrap().data.unwrap();
    assert!(
        data["mapRoles"].contains("eks-worker-eu-west-1-test-auth"),
        "{data:?}"
    );
    assert!(
        has_event(
            &client,
            "default",
            "auth",
            "Normal",
            "AppliedAwsAuth",
            "eu-west-1-test-auth"
        )
        .await
    );
    controller.stop().await;
    workload.shutdown().await;
    management.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kubernetes_api_error_is_a_warning_event_and_is_retried() {
    let emulator = Emulator::start().await.unwrap();
    let client = emulator.client();
    let fake = FakeAws::new(FakeConfig::default());
    // Drift passes every 300 ms: the controller reconciles on its own, without a request from the test.
    let timing = eks_controller::context::Timing {
        drift_period: Duration::from_millis(300),
        ..quick_timing()
    };
    let controller = Controller::start(&client, &fake, timing, 4).await;
    let api = eks_clusters(&client, "default");
    create(&api, one_region_cluster("kube")).await;
    wait_ready(&api, "kube").await;
    eventually("the generated objects", Duration::from_secs(10), || async {
        Api::<Secret>::namespaced(client.clone(), "default")
            .get_opt("kube-eu-west-1-kubeconfig")
            .await
            .unwrap()
            .is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The next request the API server gets (the drift pass reading the generated ConfigMap) fails with a 500.
    // The test sends none until the controller has counted the failure.
    emulator.faults().fail_next(1, 500);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while controller.failures("KubeApiError") < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no KubeApiError reconcile failure"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eventually("the Warning event", Duration::from_secs(5), || async {
        has_event(
            &client,
            "default",
            "kube",
            "Warning",
            "KubeApiError",
            "Kubernetes API call failed",
        )
        .await
    })
    .await;
    // Retried: the drift passes go on and the object stays Ready.
    let reconciles = controller.reconciles();
    eventually("more passes", Duration::from_secs(10), || async {
        controller.reconciles() >= reconciles + 2.0
    })
    .await;
    assert_eq!(api.get("kube").await.unwrap().data["status"]["phase"], "Ready");
    assert_eq!(controller.failures("KubeApiError"), 1.0);
    controller.stop().await;
    emulator.shutdown().await;
}
