//! kube-rs against the emulator: watchers see every change in order, resume after dropped watches, relist
//! after 410 Gone, and clients recover from injected 500/429s. Plus the API conventions the controller relies
//! on: generation, status subresource, finalizers, garbage collection, optimistic concurrency, server-side
//! apply ownership, selectors and pagination.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use kube_emulator::Emulator;
use serde_json::json;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "x"}}, "data": {"v": value}})).unwrap()
}

async fn widgets(emulator: &Emulator) -> Api<DynamicObject> {
    let crd: serde_json::Value = serde_saphyr::from_str(include_str!("fixtures/widget-crd.yaml")).unwrap();
    let crds: Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = Api::all(emulator.client());
    crds.create(&PostParams::default(), &serde_json::from_value(crd).unwrap())
        .await
        .unwrap();
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.io", "v1", "Widget"), "widgets");
    Api::namespaced_with(emulator.client(), "default", &resource)
}

#[tokio::test]
async fn watcher_sees_every_change_and_survives_dropped_watches() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    let mut stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();
    api.create(&PostParams::default(), &cm("a", "1")).await.unwrap();
    assert_eq!(stream.try_next().await.unwrap().unwrap().data.unwrap()["v"], "1");
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    assert_eq!(stream.try_next().await.unwrap().unwrap().data.unwrap()["v"], "2");
    emulator.drop_watches();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "3"}})),
    )
    .await
    .unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let object = stream.try_next().await.unwrap().unwrap();
            if object.data.as_ref().unwrap()["v"] == "3" {
                return object;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(next.metadata.name.as_deref(), Some("a"));
}

#[tokio::test]
async fn injected_429s_are_retried_and_500s_reported() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    // kube's client retries 429s (with Retry-After) on its own.
    emulator.fail_next(2, 429);
    assert!(api.list(&ListParams::default()).await.is_ok());
    emulator.fail_next(1, 500);
    let err = api.get("x").await.unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
}

#[tokio::test]
async fn api_conventions() {
    let emulator = Emulator::start().await.unwrap();
    let api = widgets(&emulator).await;
    let widget: DynamicObject = serde_json::from_value(json!({"apiVersion": "example.io/v1", "kind": "Widget",
        "metadata": {"name": "w", "finalizers": ["example.io/hold"]}, "spec": {"size": 2}, "status": {"ready": true}})).unwrap();
    let created = api.create(&PostParams::default(), &widget).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(
        created.data.get("status").is_none(),
        "status is ignored on create with the status subresource"
    );

    // Status writes change only status and not the generation; spec writes bump it.
    let status = api
        .patch_status(
            "w",
            &PatchParams::apply("test").force(),
            &Patch::Apply(
                json!({"apiVersion": "example.io/v1", "kind": "Widget", "status": {"ready": true}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["ready"], true);
    assert_eq!(status.metadata.generation, Some(1));
    let spec = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3}, "status": {"ready": false}})),
        )
        .await
        .unwrap();
    assert_eq!(spec.metadata.generation, Some(2));
    assert_eq!(
        spec.data["status"]["ready"], true,
        "writes to the main resource ignore status"
    );

    // Optimistic concurrency.
    let mut stale = created.clone();
    stale.data["spec"]["size"] = json!(4);
    let err = api
        .replace("w", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 409), "{err}");

    // A field a manager stops applying is removed.
    let apply = |labels: serde_json::Value| json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w", "labels": labels}});
    api.patch(
        "w",
        &PatchParams::apply("mgr"),
        &Patch::Apply(apply(json!({"a": "1", "b": "2"}))),
    )
    .await
    .unwrap();
    let after = api
        .patch(
            "w",
            &PatchParams::apply("mgr"),
            &Patch::Apply(apply(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    let labels = after.metadata.labels.unwrap();
    assert!(
        labels.contains_key("a") && !labels.contains_key("b"),
        "{labels:?}"
    );

    // Owned objects are garbage collected once the owner is gone; finalizers hold the owner.
    let configmaps: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    let mut owned = cm("owned", "x");
    owned.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "example.io/v1".into(),
            kind: "Widget".into(),
            name: "w".into(),
            uid: created.metadata.uid.clone().unwrap(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    ]);
    configmaps.create(&PostParams::default(), &owned).await.unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let held = api.get("w").await.unwrap();
    assert!(held.metadata.deletion_timestamp.is_some());
    assert!(configmaps.get("owned").await.is_ok());
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("w").await.unwrap().is_none());
    assert!(configmaps.get_opt("owned").await.unwrap().is_none());
}

#[tokio::test]
async fn selectors_and_pagination() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    for i in 0..5 {
        let mut object = cm(&format!("c{i}"), "v");
        if i % 2 == 0 {
            object.metadata.labels = Some([("tier".to_owned(), "even".to_owned())].into());
        }
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    assert_eq!(
        api.list(&ListParams::default().labels("tier=even"))
            .await
            .unwrap()
            .items
            .len(),
        3
    );
    assert_eq!(
        api.list(&ListParams::default().labels("tier notin (even)"))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(
        api.list(&ListParams::default().fields("metadata.name=c1"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().unwrap();
    let rest = api
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    let resource_versions: Vec<u64> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| c.metadata.resource_version.clone().unwrap().parse().unwrap())
        .collect();
    assert!(
        resource_versions.windows(2).all(|w| w[0] < w[1]),
        "one increasing resource version for the store"
    );
}
