//! Conformance-style checks of the writes: server-side apply ownership, strategic merge, dry run, CEL rules
//! (including every rule of the project's EksCluster CRD), bookmarks, and the library's apply helpers.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{get, raw, send, with_widgets};
use kube_emulator::{ApplyError, Emulator};
use serde_json::{Value, json};

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const WIDGETS: &str = "/apis/example.io/v1/namespaces/default/widgets";

fn widget(name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": size}})
}

#[tokio::test]
async fn cel_rules_are_evaluated() {
    let emulator = Emulator::start().await.unwrap();
    let crd = common::WIDGET_CRD.replace(
        "              required: [size]\n",
        "              required: [size]\n              x-kubernetes-validations:\n                - {rule: \"self.size == oldSelf.size\", message: size is immutable}\n                - {rule: \"self.color != 'blue' || self.size > 2\", message: blue widgets are large}\n",
    );
    emulator.apply_yaml(&crd).unwrap();
    let mut blue = widget("w", 1);
    blue["spec"]["color"] = json!("blue");
    let refused = send(&emulator, "POST", WIDGETS, &blue).await;
    assert_eq!(refused.code, 422, "{}", refused.text);
    assert_eq!(
        refused.body["message"],
        "Widget.example.io \"w\" is invalid: spec: Invalid value: \"object\": blue widgets are large"
    );
    assert_eq!(send(&emulator, "POST", WIDGETS, &widget("w", 1)).await.code, 201);
    let patch = json!({"spec": {"size": 2}});
    let immutable = raw(
        &emulator,
        "PATCH",
        &format!("{WIDGETS}/w"),
        &[("Content-Type", "application/merge-patch+json")],
        Some(&patch.to_string()),
    )
    .await;
    assert_eq!(immutable.code, 422);
    assert!(immutable.text.contains("size is immutable"), "{}", immutable.text);
}

#[tokio::test]
async fn server_side_apply_ownership() {
    let emulator = with_widgets().await;
    let apply = |manager: &str, force: bool, body: Value| {
        let path = format!(
            "{WIDGETS}/w?fieldManager={manager}{}",
            if force { "&force=true" } else { "" }
        );
        let emulator = &emulator;
        async move {
            raw(
                emulator,
                "PATCH",
                &path,
                &[("Content-Type", "application/apply-patch+yaml")],
                Some(&body.to_string()),
            )
            .await
        }
    };
    let mut config = widget("w", 2);
    config["metadata"]["labels"] = json!({"team": "a", "tier": "web"});
    let created = apply("alice", false, config.clone()).await;
    assert_eq!(created.code, 201);
    let entry = &created.body["metadata"]["managedFields"][0];
    assert_eq!(
        (entry["manager"].as_str(), entry["operation"].as_str()),
        (Some("alice"), Some("Apply"))
    );
    assert_eq!(entry["fieldsV1"]["f:spec"]["f:size"], json!({}));

    // Another manager changing alice's field conflicts, unless forced; the same value is shared.
    let bob = apply("bob", false, widget("w", 3)).await;
    assert_eq!((bob.code, bob.body["reason"].as_str()), (409, Some("Conflict")));
    assert_eq!(
        bob.body["message"],
        "Apply failed with 1 conflict: conflict with \"alice\" using example.io/v1: .spec.size"
    );
    assert_eq!(apply("bob", false, widget("w", 2)).await.code, 200);

    // Alice stops applying a label (removed) and the size (kept: bob owns it too).
    let mut less = json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w", "labels": {"team": "a"}}});
    let after = apply("alice", false, less.clone()).await.body;
    assert_eq!(after["metadata"]["labels"], json!({"team": "a"}));
    assert_eq!(after["spec"]["size"], 2);

    // A non-apply write takes ownership: alice's next apply of that field conflicts; force takes it back.
    let merge = [("Content-Type", "application/merge-patch+json")];
    raw(
        &emulator,
        "PATCH",
        &format!("{WIDGETS}/w?fieldManager=editor"),
        &merge,
        Some(r#"{"metadata":{"labels":{"team":"b"}}}"#),
    )
    .await;
    let conflict = apply("alice", false, less.clone()).await;
    assert_eq!(conflict.code, 409);
    assert!(conflict.text.contains("editor"), "{}", conflict.text);
    less["metadata"]["labels"]["team"] = json!("c");
    let forced = apply("alice", true, less).await.body;
    assert_eq!(forced["metadata"]["labels"]["team"], "c");
    let mut managers: Vec<(&str, &str)> = forced["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["manager"].as_str().unwrap(), e["operation"].as_str().unwrap()))
        .collect();
    managers.sort_unstable();
    assert_eq!(
        managers,
        [("alice", "Apply"), ("bob", "Apply")],
        "the editor lost its only field"
    );

    let missing_manager = raw(
        &emulator,
        "PATCH",
        &format!("{WIDGETS}/w"),
        &[("Content-Type", "application/apply-patch+yaml")],
        Some("{}"),
    )
    .await;
    assert_eq!(missing_manager.code, 400);
}

#[tokio::test]
async fn strategic_merge_keeps_other_containers_and_dry_run_stores_nothing() {
    let emulator = Emulator::start().await.unwrap();
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "side:1"}]}}}});
    let dry = send(&emulator, "POST", &format!("{path}?dryRun=All"), &deployment).await;
    assert_eq!(dry.code, 201);
    assert_eq!(get(&emulator, &format!("{path}/d")).await.code, 404);
    send(&emulator, "POST", path, &deployment).await;
    let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
        "containers": [{"name": "app", "image": "app:2"}]}}}});
    let patched = raw(
        &emulator,
        "PATCH",
        &format!("{path}/d"),
        &[("Content-Type", "application/strategic-merge-patch+json")],
        Some(&patch.to_string()),
    )
    .await
    .body;
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"],
        // With the defaults the real server's `SetDefaults_Container` adds.
        json!([{"name": "app", "image": "app:2", "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"},
            {"name": "side", "image": "side:1", "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}])
    );
    assert_eq!(patched["metadata"]["generation"], 2);
    let widgets = with_widgets().await;
    send(&widgets, "POST", WIDGETS, &widget("w", 1)).await;
    let refused = raw(
        &widgets,
        "PATCH",
        &format!("{WIDGETS}/w"),
        &[("Content-Type", "application/strategic-merge-patch+json")],
        Some("{}"),
    )
    .await;
    assert_eq!(
        refused.code, 415,
        "custom resources take no strategic merge patch"
    );
}

#[test]
fn every_cel_rule_of_the_projects_crd_compiles() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/crds/eksclusters.eksoperator.io.yaml"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the project's CRD {path} cannot be read: {e}"));
    fn rules(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "x-kubernetes-validations" {
                        out.extend(
                            child
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|r| r["rule"].as_str().map(str::to_owned)),
                        );
                    } else {
                        rules(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| rules(i, out)),
            _ => {}
        }
    }
    let crd: Value = serde_saphyr::from_str(&text).unwrap();
    let mut found = Vec::new();
    rules(&crd, &mut found);
    assert!(!found.is_empty());
    for rule in found {
        assert!(cel::Program::compile(&rule).is_ok(), "does not compile: {rule}");
    }
}

#[tokio::test]
async fn bookmarks_come_at_the_interval_even_under_traffic() {
    let emulator = Emulator::builder()
        .bookmark_interval(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let writer = {
        let client = emulator.client();
        tokio::spawn(async move {
            let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(client, "default");
            for i in 0.. {
                let secret = serde_json::from_value(json!({"metadata": {"name": format!("s{i}")}})).unwrap();
                let _ = api.create(&Default::default(), &secret).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let watched = get(
        &emulator,
        &format!("{CMS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"),
    )
    .await;
    writer.abort();
    let bookmarks: Vec<Value> = watched
        .text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "BOOKMARK")
        .collect();
    assert!(bookmarks.len() >= 5, "{}", watched.text);
    let versions: Vec<u64> = bookmarks
        .iter()
        .map(|b| {
            b["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] <= w[1]) && versions.last() > versions.first(),
        "{versions:?}"
    );
    assert_eq!(bookmarks[0]["object"]["kind"], "ConfigMap");
}

#[tokio::test]
async fn library_apply_helpers() {
    let emulator = Emulator::start().await.unwrap();
    let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        serde_saphyr::from_str(common::WIDGET_CRD).unwrap();
    let stored = emulator.apply_crd(&crd).unwrap();
    assert_eq!(stored["status"]["conditions"][1]["type"], "Established");
    let applied = emulator
        .apply_yaml("apiVersion: example.io/v1\nkind: Widget\nmetadata: {name: a}\nspec: {size: 2}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: extra}\n")
        .unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0]["metadata"]["namespace"], "default");
    assert_eq!(applied[0]["spec"]["color"], "red", "defaulted");
    assert_eq!(get(&emulator, "/api/v1/namespaces/extra").await.code, 200);
    // Applying again is a no-op; a refused object is the server's error.
    let again = emulator
        .apply_yaml("apiVersion: example.io/v1\nkind: Widget\nmetadata: {name: a}\nspec: {size: 2}\n")
        .unwrap();
    assert_eq!(
        again[0]["metadata"]["resourceVersion"],
        applied[0]["metadata"]["resourceVersion"]
    );
    match emulator.apply_json(&widget("b", 50)) {
        Err(ApplyError::Refused(e)) => assert_eq!(e.code(), 422),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        emulator.apply_json(&json!({"apiVersion": "x.io/v1", "kind": "Nope", "metadata": {"name": "n"}})),
        Err(ApplyError::Unknown(_))
    ));
    assert!(matches!(emulator.apply_yaml(": : :"), Err(ApplyError::Parse(_))));
    let _ = (raw, send, with_widgets);
}

/// Where the project's EksCluster objects of the default namespace are served.
const EKS_CLUSTERS: &str = "/apis/eksoperator.io/v1alpha1/namespaces/default/eksclusters";

/// An emulator serving the project's EksCluster CRD, and the project's minimal example as a JSON value;
/// a missing CRD or example fails the test.
async fn with_the_projects_crd() -> (Emulator, Value) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy");
    let read = |path: String| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path} cannot be read: {e}"))
    };
    let crd = read(format!("{root}/crds/eksclusters.eksoperator.io.yaml"));
    let example = read(format!("{root}/examples/minimal-single-region.yaml"));
    let emulator = Emulator::start().await.unwrap();
    emulator.apply_yaml(&crd).unwrap();
    (emulator, serde_saphyr::from_str(&example).unwrap())
}

#[tokio::test]
async fn every_rule_of_the_projects_crd_is_enforced() {
    let (emulator, base) = with_the_projects_crd().await;
    let path = EKS_CLUSTERS;
    let refused = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut object = base.clone();
        object["metadata"]["name"] = json!(name);
        change(&mut object);
        let emulator = &emulator;
        let name = name.to_owned();
        async move {
            let answer = send(emulator, "POST", path, &object).await;
            assert_eq!(answer.code, 422, "{name}: {}", answer.text);
            answer.body["message"].as_str().unwrap().to_owned()
        }
    };
    let message = refused("zones", &|o| {
        o["spec"]["network"]["zones"] = json!(["us-east-1a", "us-east-1b"]);
        o["spec"]["network"]["availabilityZones"] = json!(3);
    })
    .await;
    assert!(
        message.contains(
            "spec.network: Invalid value: \"object\": availabilityZones must equal the number of zones"
        ),
        "{message}"
    );
    let message = refused("private", &|o| {
        o["spec"]["network"]["topology"] = json!("Private");
        o["spec"]["network"]["natGateways"] = json!("Single");
    })
    .await;
    assert!(
        message.contains("the Private topology has no public subnets"),
        "{message}"
    );
    let message = refused("overrides", &|o| {
        o["spec"]["regionOverrides"] = json!({"eu-west-1": {}});
    })
    .await;
    assert!(message.contains("spec.regionOverrides: Invalid value: \"object\": every key of regionOverrides must be one of regions"), "{message}");
    let message = refused("sizes", &|o| {
        o["spec"]["nodeGroups"][0]["desiredSize"] = json!(9);
    })
    .await;
    assert!(message.contains("spec.nodeGroups: Invalid value: \"object\": nodeGroups: desiredSize must lie between minSize and maxSize"), "{message}");
    let message = refused("min-max", &|o| {
        o["spec"]["nodeGroups"][0]["minSize"] = json!(5);
    })
    .await;
    assert!(message.contains("minSize must not exceed maxSize"), "{message}");
    let message = refused("a.b", &|_| {}).await;
    assert!(
        message.contains("<nil>: Invalid value: \"object\": metadata.name must be lower-case"),
        "{message}"
    );
    let long = "x".repeat(90);
    let message = refused(&long, &|o| o["spec"]["stage"] = json!("staging")).await;
    assert!(message.contains("must be at most 100 characters"), "{message}");

    // The valid example passes; then the stage is immutable.
    let mut object = base.clone();
    object["spec"]["stage"] = json!("test");
    assert_eq!(send(&emulator, "POST", path, &object).await.code, 201);
    let patch = json!({"spec": {"stage": "prod"}}).to_string();
    let merge = [("Content-Type", "application/merge-patch+json")];
    let changed = raw(&emulator, "PATCH", &format!("{path}/demo"), &merge, Some(&patch)).await;
    assert_eq!(changed.code, 422);
    assert!(changed.text.contains("stage is immutable"), "{}", changed.text);
}

#[tokio::test]
async fn the_subnet_defining_fields_of_the_projects_crd_are_immutable() {
    let (emulator, base) = with_the_projects_crd().await;
    let path = EKS_CLUSTERS;
    // `full` sets every subnet-defining field but availabilityZones; `bare` sets none of them.
    let mut full = base.clone();
    full["metadata"]["name"] = json!("full");
    full["spec"]["network"]["zones"] = json!(["us-east-1a", "us-east-1b"]);
    full["spec"]["network"]["privateSubnetCidrs"] = json!(["10.20.0.0/19", "10.20.32.0/19"]);
    full["spec"]["network"]["publicSubnetCidrs"] = json!(["10.20.128.0/20", "10.20.144.0/20"]);
    full["spec"]["network"]["topology"] = json!("PublicAndPrivate");
    let mut bare = base.clone();
    bare["metadata"]["name"] = json!("bare");
    for object in [&full, &bare] {
        let created = send(&emulator, "POST", path, object).await;
        assert_eq!(created.code, 201, "{}", created.text);
    }
    let merge = [("Content-Type", "application/merge-patch+json")];
    let patch = |name: &'static str, network: Value| {
        let emulator = &emulator;
        async move {
            let body = json!({"spec": {"network": network}}).to_string();
            raw(emulator, "PATCH", &format!("{path}/{name}"), &merge, Some(&body)).await
        }
    };
    let why = "is immutable: EKS cannot move a cluster's or node group's subnets in place; create a new EksCluster instead";
    for (name, network, field) in [
        ("full", json!({"zones": ["us-east-1a", "us-east-1c"]}), "zones"),
        ("full", json!({"zones": null}), "zones"),
        (
            "full",
            json!({"privateSubnetCidrs": ["10.20.0.0/19", "10.20.64.0/19"]}),
            "privateSubnetCidrs",
        ),
        (
            "full",
            json!({"publicSubnetCidrs": ["10.20.128.0/20", "10.20.160.0/20"]}),
            "publicSubnetCidrs",
        ),
        (
            "full",
            json!({"topology": "Public", "natGateways": "None"}),
            "topology",
        ),
        ("full", json!({"topology": null}), "topology"),
        ("bare", json!({"availabilityZones": 2}), "availabilityZones"),
        ("bare", json!({"topology": "PublicAndPrivate"}), "topology"),
        ("bare", json!({"zones": ["us-east-1a", "us-east-1b"]}), "zones"),
    ] {
        let refused = patch(name, network.clone()).await;
        assert_eq!(refused.code, 422, "{name} {network}: {}", refused.text);
        assert!(
            refused.text.contains(&format!(
                "spec.network: Invalid value: \\\"object\\\": {field} {why}"
            )),
            "{name} {network}: {}",
            refused.text
        );
    }
    // Updates that leave the subnet-defining fields alone pass, NAT gateways and the VPN gateway included.
    for (name, network) in [
        ("full", json!({"natGateways": "OnePerAz", "vpnGateway": true})),
        (
            "full",
            json!({"zones": ["us-east-1a", "us-east-1b"], "topology": "PublicAndPrivate"}),
        ),
        ("full", json!({"natGateways": "None"})),
        ("bare", json!({"natGateways": "OnePerAz"})),
        ("bare", json!({"vpnGateway": true})),
    ] {
        let accepted = patch(name, network.clone()).await;
        assert_eq!(accepted.code, 200, "{name} {network}: {}", accepted.text);
    }
}
