//! Load benchmark (not a timed test): the `kube-emulator` binary in its own process, 20 watchers (10 on
//! ConfigMaps, 10 on a custom resource), 10,000 ConfigMaps and 1,000 custom objects created through kube-rs
//! with 32 requests in flight, then listed whole and in pages of 500. Prints requests per second for each
//! phase, how long the watchers took to see everything, and the server's peak RSS (VmHWM).
//!
//! `cargo bench -p kube-emulator --bench load`
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::watcher;
use serde_json::json;

const CONFIGMAPS: usize = 10_000;
const WIDGETS: usize = 1_000;
const WATCHERS: usize = 20;
const IN_FLIGHT: usize = 32;

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn report(phase: &str, requests: usize, elapsed: Duration) {
    println!(
        "{phase:<40} {requests:>6} requests in {:>7.2} s = {:>8.0} requests/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
}

/// GETs a path over a fresh connection and returns how many bytes came back.
async fn raw_get(url: &str, path: &str) -> usize {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    answer.len()
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    println!("server ready in {:?} at {}", started.elapsed(), url.trim());
    let client = kube::Client::try_from(kube::Config::new(url.trim().parse().unwrap())).unwrap();

    let crd: CustomResourceDefinition =
        serde_saphyr::from_str(include_str!("../tests/fixtures/widget-crd.yaml")).unwrap();
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &crd)
        .await
        .unwrap();
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("example.io", "v1", "Widget"), "widgets");
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);

    // Watchers count the objects they have seen.
    let mut watchers = Vec::new();
    for i in 0..WATCHERS {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let task = if i % 2 == 0 {
            let stream = watcher(Api::<ConfigMap>::all(client.clone()), watcher::Config::default());
            tokio::spawn(async move {
                stream
                    .try_for_each(|event| {
                        if let watcher::Event::Apply(_) = event {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        async { Ok(()) }
                    })
                    .await
            })
        } else {
            let stream = watcher(widgets.clone(), watcher::Config::default());
            tokio::spawn(async move {
                stream
                    .try_for_each(|event| {
                        if let watcher::Event::Apply(_) = event {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        async { Ok(()) }
                    })
                    .await
            })
        };
        watchers.push((i % 2 == 0, seen, task));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let t = Instant::now();
    futures::stream::iter(0..CONFIGMAPS)
        .map(|i| {
            let api = configmaps.clone();
            async move {
                let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": format!("cm-{i:05}"),
                    "labels": {"shard": (i % 10).to_string()}}, "data": {"key": "x".repeat(100)}}))
                .unwrap();
                api.create(&PostParams::default(), &cm).await.unwrap();
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    report("create ConfigMaps", CONFIGMAPS, t.elapsed());

    let t = Instant::now();
    futures::stream::iter(0..WIDGETS)
        .map(|i| {
            let api = widgets.clone();
            async move {
                let widget: DynamicObject =
                    serde_json::from_value(json!({"apiVersion": "example.io/v1", "kind": "Widget",
                    "metadata": {"name": format!("w-{i:04}")}, "spec": {"size": 1 + i % 10}}))
                    .unwrap();
                api.create(&PostParams::default(), &widget).await.unwrap();
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    report("create custom objects (schema checked)", WIDGETS, t.elapsed());
    println!(
        "server RSS after the creates: {} MiB",
        rss_kib(server.id(), "VmRSS:") / 1024
    );

    let t = Instant::now();
    for (is_cm, seen, _) in &watchers {
        let wanted = if *is_cm { CONFIGMAPS } else { WIDGETS };
        while seen.load(Ordering::Relaxed) < wanted {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    println!(
        "{WATCHERS} watchers saw all {} events (10 x {CONFIGMAPS} + 10 x {WIDGETS}) {:?} after the last create",
        10 * (CONFIGMAPS + WIDGETS),
        t.elapsed()
    );

    let t = Instant::now();
    for _ in 0..10 {
        assert_eq!(
            configmaps.list(&ListParams::default()).await.unwrap().items.len(),
            CONFIGMAPS
        );
    }
    report("list all 10,000 ConfigMaps (kube-rs, typed)", 10, t.elapsed());
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..10 {
        bytes = raw_get(url.trim(), "/api/v1/namespaces/default/configmaps").await;
    }
    report("list all 10,000 ConfigMaps (raw HTTP)", 10, t.elapsed());
    println!("  ({} MiB of JSON per list)", bytes / (1024 * 1024));
    let t = Instant::now();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(500);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page = configmaps.list(&params).await.unwrap();
        pages += 1;
        token = page.metadata.continue_.filter(|c| !c.is_empty());
        if token.is_none() {
            break;
        }
    }
    report("list ConfigMaps in pages of 500", pages, t.elapsed());
    let t = Instant::now();
    futures::stream::iter(0..1000)
        .map(|i| {
            let api = configmaps.clone();
            async move { api.get(&format!("cm-{:05}", i * 7)).await.unwrap() }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    report("get ConfigMaps", 1000, t.elapsed());
    let t = Instant::now();
    for _ in 0..100 {
        widgets.list(&ListParams::default().labels("a!=b")).await.unwrap();
    }
    report("list all 1,000 custom objects", 100, t.elapsed());

    println!(
        "server peak RSS (VmHWM): {} MiB",
        rss_kib(server.id(), "VmHWM:") / 1024
    );
    for (_, _, task) in watchers {
        task.abort();
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
