//! Conformance-style checks of the API conventions (https://github.com/kubernetes/community/blob/master/
//! contributors/devel/sig-architecture/api-conventions.md) at the HTTP level: what the real server answers,
//! status codes, Status reasons and headers included.
#![allow(clippy::unwrap_used)]

mod common;

use common::{get, raw, send, with_widgets};
use kube_emulator::Emulator;
use serde_json::{Value, json};

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const WIDGETS: &str = "/apis/example.io/v1/namespaces/default/widgets";

fn widget(name: &str, size: i64) -> Value {
    json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": size}})
}

fn rv(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn discovery_documents() {
    let emulator = with_widgets().await;
    let core = get(&emulator, "/api/v1").await.body;
    assert_eq!(core["kind"], "APIResourceList");
    let resources = core["resources"].as_array().unwrap();
    let cm = resources.iter().find(|r| r["name"] == "configmaps").unwrap();
    assert_eq!(cm["shortNames"], json!(["cm"]));
    assert_eq!(cm["namespaced"], true);
    assert!(cm["verbs"].as_array().unwrap().contains(&json!("watch")));
    assert!(resources.iter().any(|r| r["name"] == "namespaces/status"));

    // Aggregated discovery is answered with the plain document, so clients fall back.
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let groups = raw(&emulator, "GET", "/apis", &[("Accept", accept)], None)
        .await
        .body;
    assert_eq!(groups["kind"], "APIGroupList");
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for group in [
        "apps",
        "coordination.k8s.io",
        "events.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "example.io",
    ] {
        assert!(names.contains(&group), "{group} in {names:?}");
    }
    let widgets = get(&emulator, "/apis/example.io/v1").await.body;
    let widget = &widgets["resources"][0];
    assert_eq!(widget["kind"], "Widget");
    assert_eq!(widget["singularName"], "widget");
    assert_eq!(widget["shortNames"], json!(["wd"]));
    assert_eq!(widgets["resources"][1]["name"], "widgets/status");
    assert_eq!(get(&emulator, "/version").await.body["major"], "1");
    let namespaces = get(&emulator, "/api/v1/namespaces").await.body;
    let names: Vec<&str> = namespaces["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
}

#[tokio::test]
async fn errors_are_status_objects() {
    let emulator = with_widgets().await;
    let missing = get(&emulator, &format!("{WIDGETS}/nope")).await;
    assert_eq!(missing.code, 404);
    assert_eq!(missing.body["kind"], "Status");
    assert_eq!(missing.body["status"], "Failure");
    assert_eq!(missing.body["reason"], "NotFound");
    assert_eq!(missing.body["message"], "widgets.example.io \"nope\" not found");
    assert_eq!(
        missing.body["details"],
        json!({"name": "nope", "group": "example.io", "kind": "widgets"})
    );

    assert_eq!(send(&emulator, "POST", WIDGETS, &widget("w", 1)).await.code, 201);
    let again = send(&emulator, "POST", WIDGETS, &widget("w", 1)).await;
    assert_eq!(
        (again.code, again.body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    let invalid = send(&emulator, "POST", WIDGETS, &widget("x", 99)).await;
    assert_eq!(
        (invalid.code, invalid.body["reason"].as_str()),
        (422, Some("Invalid"))
    );
    assert_eq!(
        invalid.body["message"],
        "Widget.example.io \"x\" is invalid: spec.size: Invalid value: 99: spec.size in body should be less than or equal to 10"
    );
    assert_eq!(invalid.body["details"]["causes"][0]["field"], "spec.size");

    let method = raw(&emulator, "POST", &format!("{WIDGETS}/w"), &[], Some("{}")).await;
    assert_eq!(
        (method.code, method.body["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    let bad = raw(&emulator, "POST", WIDGETS, &[], Some("{not json")).await;
    assert_eq!((bad.code, bad.body["reason"].as_str()), (400, Some("BadRequest")));
    let no_ns = send(
        &emulator,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        &json!({"metadata": {"name": "a"}}),
    )
    .await;
    assert_eq!(no_ns.code, 404);
    assert_eq!(no_ns.body["message"], "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn field_validation_strict_warn_ignore() {
    let emulator = with_widgets().await;
    let mut body = widget("w", 1);
    body["spec"]["shape"] = json!("round");
    let strict = send(
        &emulator,
        "POST",
        &format!("{WIDGETS}?fieldValidation=Strict"),
        &body,
    )
    .await;
    assert_eq!(strict.code, 400);
    assert_eq!(
        strict.body["message"],
        "strict decoding error: unknown field \"spec.shape\""
    );
    let warn = send(
        &emulator,
        "POST",
        &format!("{WIDGETS}?fieldValidation=Warn"),
        &body,
    )
    .await;
    assert_eq!(warn.code, 201);
    assert_eq!(
        warn.header("warning"),
        ["299 - \"unknown field \\\"spec.shape\\\"\""]
    );
    assert!(warn.body["spec"].get("shape").is_none(), "pruned");
    body["metadata"]["name"] = json!("v");
    let ignore = send(
        &emulator,
        "POST",
        &format!("{WIDGETS}?fieldValidation=Ignore"),
        &body,
    )
    .await;
    assert_eq!(ignore.code, 201);
    assert!(ignore.header("warning").is_empty());
    assert_eq!(ignore.body["spec"]["color"], "red", "defaulted");
}

#[tokio::test]
async fn resource_versions_generation_and_status_subresource() {
    let emulator = with_widgets().await;
    let cm = send(
        &emulator,
        "POST",
        CMS,
        &json!({"metadata": {"name": "c"}, "data": {"a": "1"}}),
    )
    .await
    .body;
    let w = send(&emulator, "POST", WIDGETS, &widget("w", 1)).await.body;
    assert!(rv(&w) > rv(&cm), "one counter across resources");
    assert_eq!(w["metadata"]["generation"], 1);
    assert!(w["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(w["metadata"]["creationTimestamp"].is_string());

    let path = format!("{WIDGETS}/w");
    let merge = [("Content-Type", "application/merge-patch+json")];
    let patch = |body: Value| {
        let path = path.clone();
        let emulator = &emulator;
        async move {
            raw(emulator, "PATCH", &path, &merge, Some(&body.to_string()))
                .await
                .body
        }
    };
    let labelled = patch(json!({"metadata": {"labels": {"a": "b"}}})).await;
    assert_eq!(
        labelled["metadata"]["generation"], 1,
        "metadata changes keep the generation"
    );
    let same = patch(json!({"spec": {"size": 1}})).await;
    assert_eq!(rv(&same), rv(&labelled), "a no-op write changes nothing");
    let ignored = patch(json!({"status": {"ready": true}})).await;
    assert!(
        ignored.get("status").is_none(),
        "the main resource ignores status"
    );
    let spec = patch(json!({"spec": {"size": 2}})).await;
    assert_eq!(spec["metadata"]["generation"], 2);

    // PUT /status changes only status, and not the generation.
    let mut status = spec.clone();
    status["status"] = json!({"ready": true});
    status["spec"]["size"] = json!(9);
    let written = send(&emulator, "PUT", &format!("{path}/status"), &status)
        .await
        .body;
    assert_eq!(written["status"]["ready"], true);
    assert_eq!(written["spec"]["size"], 2);
    assert_eq!(written["metadata"]["generation"], 2);

    // A stale resourceVersion is a 409 Conflict.
    let stale = send(&emulator, "PUT", &path, &spec).await;
    assert_eq!(
        (stale.code, stale.body["reason"].as_str()),
        (409, Some("Conflict"))
    );
    assert!(
        stale.body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    // Subresources a resource does not have are 404.
    assert_eq!(get(&emulator, &format!("{CMS}/c/status")).await.code, 404);
}

#[tokio::test]
async fn finalizers_and_garbage_collection() {
    let emulator = Emulator::start().await.unwrap();
    let owner = send(
        &emulator,
        "POST",
        CMS,
        &json!({"metadata": {"name": "owner", "finalizers": ["x.io/hold"]}}),
    )
    .await
    .body;
    let other = send(&emulator, "POST", CMS, &json!({"metadata": {"name": "other"}}))
        .await
        .body;
    let reference = |o: &Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]});
    send(
        &emulator,
        "POST",
        CMS,
        &json!({"metadata": {"name": "child", "ownerReferences": [reference(&owner)]}}),
    )
    .await;
    send(
        &emulator,
        "POST",
        CMS,
        &json!({"metadata": {"name": "shared", "ownerReferences": [reference(&owner), reference(&other)]}}),
    )
    .await;

    let held = raw(&emulator, "DELETE", &format!("{CMS}/owner"), &[], None).await;
    assert_eq!(held.code, 200);
    assert!(held.body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        get(&emulator, &format!("{CMS}/child")).await.code,
        200,
        "the owner still exists"
    );
    let merge = [("Content-Type", "application/merge-patch+json")];
    let released = raw(
        &emulator,
        "PATCH",
        &format!("{CMS}/owner"),
        &merge,
        Some(r#"{"metadata":{"finalizers":null}}"#),
    )
    .await;
    assert_eq!(released.code, 200);
    assert_eq!(get(&emulator, &format!("{CMS}/owner")).await.code, 404);
    assert_eq!(
        get(&emulator, &format!("{CMS}/child")).await.code,
        404,
        "collected"
    );
    assert_eq!(
        get(&emulator, &format!("{CMS}/shared")).await.code,
        200,
        "one owner is left"
    );

    let gone = raw(&emulator, "DELETE", &format!("{CMS}/other"), &[], None)
        .await
        .body;
    assert_eq!(
        (gone["kind"].as_str(), gone["status"].as_str()),
        (Some("Status"), Some("Success"))
    );
    assert_eq!(get(&emulator, &format!("{CMS}/shared")).await.code, 404);

    // Deleting a CRD deletes its objects and stops serving it.
    emulator.apply_yaml(common::WIDGET_CRD).unwrap();
    send(&emulator, "POST", WIDGETS, &widget("w", 1)).await;
    raw(
        &emulator,
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.io",
        &[],
        None,
    )
    .await;
    assert_eq!(get(&emulator, WIDGETS).await.code, 404);
    emulator.apply_yaml(common::WIDGET_CRD).unwrap();
    assert_eq!(get(&emulator, WIDGETS).await.body["items"], json!([]));
}

#[tokio::test]
async fn selectors_and_pagination() {
    let emulator = Emulator::start().await.unwrap();
    for (i, (tier, zone)) in [("web", "a"), ("web", "b"), ("db", "a"), ("cache", "")]
        .iter()
        .enumerate()
    {
        let mut labels = json!({"tier": tier});
        if !zone.is_empty() {
            labels["zone"] = json!(zone);
        }
        send(
            &emulator,
            "POST",
            CMS,
            &json!({"metadata": {"name": format!("c{i}"), "labels": labels}}),
        )
        .await;
    }
    for (selector, expected) in [
        ("tier%3Dweb", vec!["c0", "c1"]),
        ("tier%3D%3Dweb", vec!["c0", "c1"]),
        ("tier!%3Dweb", vec!["c2", "c3"]),
        ("tier+in+(web,db),zone%3Da", vec!["c0", "c2"]),
        ("tier+notin+(web)", vec!["c2", "c3"]),
        ("zone", vec!["c0", "c1", "c2"]),
        ("!zone", vec!["c3"]),
    ] {
        let list = get(&emulator, &format!("{CMS}?labelSelector={selector}"))
            .await
            .body;
        let got: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{selector}");
    }
    let by_name = get(
        &emulator,
        "/api/v1/configmaps?fieldSelector=metadata.name%3Dc2,metadata.namespace%3Ddefault",
    )
    .await
    .body;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);

    // Pages are stable even when objects are created between them.
    let first = get(&emulator, &format!("{CMS}?limit=3")).await.body;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert_eq!(first["metadata"]["remainingItemCount"], 1);
    send(&emulator, "POST", CMS, &json!({"metadata": {"name": "a-first"}})).await;
    let token = first["metadata"]["continue"].as_str().unwrap();
    let second = get(&emulator, &format!("{CMS}?limit=3&continue={token}"))
        .await
        .body;
    let got: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["c3"]);
    assert!(second["metadata"].get("continue").is_none());
}

#[tokio::test]
async fn watch_from_versions_and_410_gone() {
    let emulator = Emulator::builder().watch_history(5).start().await.unwrap();
    let first = send(&emulator, "POST", CMS, &json!({"metadata": {"name": "c0"}}))
        .await
        .body;
    for i in 1..10 {
        send(
            &emulator,
            "POST",
            CMS,
            &json!({"metadata": {"name": format!("c{i}")}}),
        )
        .await;
    }
    let gone = get(
        &emulator,
        &format!("{CMS}?watch=true&resourceVersion={}&timeoutSeconds=1", rv(&first)),
    )
    .await;
    assert_eq!(gone.code, 200);
    let event: Value = serde_json::from_str(gone.text.lines().next().unwrap()).unwrap();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");

    // From a kept version: only the later changes; without a version: ADDED for everything.
    let list = get(&emulator, CMS).await.body;
    let recent = rv(&list) - 2;
    let resumed = get(
        &emulator,
        &format!("/api/v1/watch/namespaces/default/configmaps?resourceVersion={recent}&timeoutSeconds=1"),
    )
    .await;
    let kinds: Vec<Value> = resumed
        .text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].clone())
        .collect();
    assert_eq!(kinds, [json!("ADDED"), json!("ADDED")]);
    let all = get(&emulator, &format!("{CMS}?watch=1&timeoutSeconds=1")).await;
    assert_eq!(all.text.lines().count(), 10);
}

#[tokio::test]
async fn events_are_one_store_for_both_apis_and_tables_render_columns() {
    let emulator = with_widgets().await;
    send(
        &emulator,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        &json!({
        "metadata": {"name": "e1"}, "reason": "Ready", "note": "it is ready", "type": "Normal",
        "regarding": {"kind": "Widget", "name": "w"}, "reportingController": "ctl", "reportingInstance": "i",
        "action": "Reconcile", "eventTime": "2026-01-01T00:00:00.000000Z"}),
    )
    .await;
    let core = get(&emulator, "/api/v1/namespaces/default/events").await.body;
    assert_eq!(core["items"][0]["apiVersion"], "v1");
    assert_eq!(core["items"][0]["message"], "it is ready");
    assert_eq!(core["items"][0]["involvedObject"]["name"], "w");

    send(&emulator, "POST", WIDGETS, &widget("w", 4)).await;
    let accept = [(
        "Accept",
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )];
    let table = raw(&emulator, "GET", WIDGETS, &accept, None).await.body;
    assert_eq!(table["kind"], "Table");
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Size", "Age"]);
    assert_eq!(table["rows"][0]["cells"][0], "w");
    assert_eq!(table["rows"][0]["cells"][1], 4);

    // Bearer tokens are recorded, never checked.
    raw(
        &emulator,
        "GET",
        CMS,
        &[("Authorization", "Bearer secret-1")],
        None,
    )
    .await;
    assert!(emulator.seen_bearer_tokens().contains(&"secret-1".to_owned()));
}

#[tokio::test]
async fn watches_with_selectors_see_objects_enter_and_leave() {
    let emulator = Emulator::start().await.unwrap();
    let start = rv(&get(&emulator, CMS).await.body);
    let merge = [("Content-Type", "application/merge-patch+json")];
    send(
        &emulator,
        "POST",
        CMS,
        &json!({"metadata": {"name": "c", "labels": {"tier": "web"}}}),
    )
    .await;
    for tier in ["db", "web"] {
        let patch = json!({"metadata": {"labels": {"tier": tier}}}).to_string();
        raw(&emulator, "PATCH", &format!("{CMS}/c"), &merge, Some(&patch)).await;
    }
    let watched = get(
        &emulator,
        &format!("{CMS}?watch=true&labelSelector=tier%3Dweb&resourceVersion={start}&timeoutSeconds=1"),
    )
    .await;
    let kinds: Vec<String> = watched
        .text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["ADDED", "DELETED", "ADDED"]);
}
