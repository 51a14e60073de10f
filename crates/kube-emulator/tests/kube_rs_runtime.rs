//! kube-rs's runtime against the emulator: a raw watcher sees every create/update/delete in order, resumes
//! after dropped watches without missing or repeating events, relists after `410 Gone`; a `Controller`
//! reconciles every change, handles deletion through a finalizer and survives injected 500s, 429s, latency
//! and dropped watches.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher::{self, Event, watcher};
use kube_emulator::Emulator;
use serde_json::json;
use tokio::sync::mpsc;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": value}})).unwrap()
}

/// A compact form of an event: `"Apply a=1"`, `"Delete a"`, `"Init"`, ...
fn describe(event: &Event<ConfigMap>) -> String {
    let show = |c: &ConfigMap| {
        let value = c
            .data
            .as_ref()
            .and_then(|d| d.get("v"))
            .cloned()
            .unwrap_or_default();
        format!("{}={value}", c.metadata.name.clone().unwrap_or_default())
    };
    match event {
        Event::Apply(c) => format!("Apply {}", show(c)),
        Event::Delete(c) => format!("Delete {}", show(c)),
        Event::Init => "Init".into(),
        Event::InitApply(c) => format!("InitApply {}", show(c)),
        Event::InitDone => "InitDone".into(),
    }
}

/// The next `n` events, skipping the errors a watcher yields before it retries.
async fn next_events<S>(stream: &mut S, n: usize) -> Vec<String>
where
    S: Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin,
{
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while out.len() < n {
            if let Some(Ok(event)) = stream.next().await {
                out.push(describe(&event));
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out; got {out:?}"));
    out
}

async fn set(api: &Api<ConfigMap>, name: &str, value: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": value}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn watcher_in_order_resumes_without_gaps_and_relists_after_410() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    api.create(&PostParams::default(), &cm("a", "0")).await.unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    assert_eq!(
        next_events(&mut events, 3).await,
        ["Init", "InitApply a=0", "InitDone"]
    );

    set(&api, "a", "1").await;
    api.create(&PostParams::default(), &cm("b", "0")).await.unwrap();
    set(&api, "a", "2").await;
    api.delete("b", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        next_events(&mut events, 4).await,
        ["Apply a=1", "Apply b=0", "Apply a=2", "Delete b=0"]
    );

    // Changes made while the watch is down arrive once, in order, with no relist.
    emulator.drop_watches();
    set(&api, "a", "3").await;
    api.create(&PostParams::default(), &cm("c", "0")).await.unwrap();
    assert_eq!(next_events(&mut events, 2).await, ["Apply a=3", "Apply c=0"]);
    set(&api, "c", "1").await;
    assert_eq!(next_events(&mut events, 1).await, ["Apply c=1"]);

    // A resumed watch answered with 410 Gone makes the watcher list again.
    emulator.faults().expire_next_watches(1);
    emulator.drop_watches();
    assert_eq!(
        next_events(&mut events, 4).await,
        ["Init", "InitApply a=3", "InitApply c=1", "InitDone"]
    );
    set(&api, "a", "4").await;
    assert_eq!(next_events(&mut events, 1).await, ["Apply a=4"]);
}

struct Context {
    api: Api<ConfigMap>,
    seen: mpsc::UnboundedSender<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ReconcileError(#[from] kube::Error);

const FINALIZER: &str = "example.io/cleanup";

async fn reconcile(object: Arc<ConfigMap>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let name = object.metadata.name.clone().unwrap_or_default();
    let value = object
        .data
        .as_ref()
        .and_then(|d| d.get("v"))
        .cloned()
        .unwrap_or_default();
    let finalizers = object.metadata.finalizers.clone().unwrap_or_default();
    if object.metadata.deletion_timestamp.is_some() {
        let _ = ctx.seen.send(format!("deleting {name}"));
        let patch = json!({"metadata": {"finalizers": null}});
        ctx.api
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        return Ok(Action::await_change());
    }
    if !finalizers.iter().any(|f| f == FINALIZER) {
        let patch = json!({"metadata": {"finalizers": [FINALIZER]}});
        ctx.api
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        return Ok(Action::await_change());
    }
    let _ = ctx.seen.send(format!("{name}={value}"));
    Ok(Action::await_change())
}

fn error_policy(_: Arc<ConfigMap>, _: &ReconcileError, _: Arc<Context>) -> Action {
    Action::requeue(Duration::from_millis(200))
}

async fn expect(seen: &mut mpsc::UnboundedReceiver<String>, wanted: &str) {
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let next = seen.recv().await.unwrap();
            if next == wanted {
                return;
            }
            got.push(next);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no reconcile of {wanted}; saw {got:?}"));
}

#[tokio::test]
async fn controller_reconciles_every_change_and_survives_faults() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    let (tx, mut seen) = mpsc::unbounded_channel();
    let context = Arc::new(Context {
        api: api.clone(),
        seen: tx,
    });
    let controller = Controller::new(api.clone(), watcher::Config::default())
        .run(reconcile, error_policy, context)
        .for_each(|_| async {});
    let task = tokio::spawn(controller);

    api.create(&PostParams::default(), &cm("a", "1")).await.unwrap();
    expect(&mut seen, "a=1").await;
    set(&api, "a", "2").await;
    expect(&mut seen, "a=2").await;

    // A flaky API server: failed requests, dropped watches, slow answers.
    let faults = emulator.faults();
    faults.fail_next(4, 500);
    faults.drop_watches();
    tokio::time::sleep(Duration::from_millis(300)).await;
    faults.fail_next(3, 429);
    faults.set_latency(Duration::from_millis(50));
    faults.drop_watches();
    let patch = Patch::Merge(json!({"data": {"v": "3"}}));
    while api.patch("a", &PatchParams::default(), &patch).await.is_err() {}
    expect(&mut seen, "a=3").await;
    faults.clear();

    api.delete("a", &DeleteParams::default()).await.unwrap();
    expect(&mut seen, "deleting a").await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while api.get_opt("a").await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    task.abort();
}

#[tokio::test]
async fn streaming_list_watcher_gets_the_initial_events_end_bookmark() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    api.create(&PostParams::default(), &cm("a", "0")).await.unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    assert_eq!(
        next_events(&mut events, 3).await,
        ["Init", "InitApply a=0", "InitDone"]
    );
    set(&api, "a", "1").await;
    assert_eq!(next_events(&mut events, 1).await, ["Apply a=1"]);
}

#[tokio::test]
async fn metadata_api_and_metadata_watcher() {
    let emulator = Emulator::start().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(emulator.client(), "default");
    api.create(&PostParams::default(), &cm("a", "0")).await.unwrap();
    let meta = api.get_metadata("a").await.unwrap();
    assert_eq!(meta.metadata.name.as_deref(), Some("a"));
    let list = api
        .list_metadata(&kube::api::ListParams::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let metadata: Api<kube::core::PartialObjectMeta<ConfigMap>> =
        Api::namespaced(emulator.client(), "default");
    let mut events = watcher(metadata, watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while seen.len() < 4 {
            if let Some(Ok(event)) = events.next().await {
                seen.push(match event {
                    Event::Init => "Init".to_owned(),
                    Event::InitApply(m) => format!("InitApply {}", m.metadata.name.unwrap_or_default()),
                    Event::InitDone => "InitDone".to_owned(),
                    Event::Apply(m) => format!("Apply {}", m.metadata.name.unwrap_or_default()),
                    Event::Delete(m) => format!("Delete {}", m.metadata.name.unwrap_or_default()),
                });
                if seen.len() == 3 {
                    api.create(&PostParams::default(), &cm("b", "0")).await.unwrap();
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("saw {seen:?}"));
    assert_eq!(seen, ["Init", "InitApply a", "InitDone", "Apply b"]);
}
