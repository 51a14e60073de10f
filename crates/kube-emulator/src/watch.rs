//! Watches: a stream of JSON lines (`{"type": "ADDED", "object": ...}`), as kubectl and kube-rs read them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::http::{Shape, convert, metadata_only};
use crate::resources::ResourceDef;
use crate::select::{FieldSelector, LabelSelector};
use crate::state::State;
use crate::store::Change;
use crate::table::table;

fn watch_event(def: &ResourceDef, shape: Shape, kind: &str, object: &Value) -> Bytes {
    let shaped = match shape {
        _ if kind == "BOOKMARK" => None,
        Shape::Object if object["apiVersion"].as_str() == Some(def.api_version().as_str()) => None,
        Shape::Object => Some(convert(def, object.clone())),
        Shape::Metadata => Some(metadata_only(object)),
        Shape::Table => {
            let rv = object["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            Some(table(def, &[convert(def, object.clone())], rv))
        }
    };
    let object = shaped.as_ref().unwrap_or(object);
    let mut line = format!("{{\"type\":\"{kind}\",\"object\":{object}}}");
    line.push('\n');
    Bytes::from(line)
}

/// How a change shows in a watch with selectors: a modification that makes an object enter the selection is
/// ADDED, one that makes it leave is DELETED; None when the watch does not see it.
fn event_kind(matches: &impl Fn(&str, &Value) -> bool, change: &Change) -> Option<&'static str> {
    let now = matches(&change.bucket, &change.object);
    let before = change.previous.as_ref().map(|p| matches(&change.bucket, p));
    match (change.kind, before, now) {
        ("MODIFIED", Some(false), true) => Some("ADDED"),
        ("MODIFIED", Some(true), false) => Some("DELETED"),
        (kind, _, true) => Some(kind),
        _ => None,
    }
}

/// A watch: initial `ADDED` events (no version given), or the changes after the given version (410 when it is
/// older than the kept history), then live changes, bookmarks when asked for, until the timeout, a dropped
/// watch or the server's shutdown.
pub fn watch(
    state: Arc<State>,
    def: ResourceDef,
    namespace: Option<String>,
    params: &HashMap<String, String>,
    shape: Shape,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let bookmarks = crate::params::flag(params, "allowWatchBookmarks");
    // Streaming lists (`sendInitialEvents=true`): the current objects as ADDED events, then a bookmark
    // marking their end.
    let send_initial = crate::params::flag(params, "sendInitialEvents");
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let from: u64 = params
        .get("resourceVersion")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let matches = {
        let (def, namespace) = (def.clone(), namespace.clone());
        move |bucket: &str, object: &Value| {
            bucket == def.bucket
                && namespace
                    .as_deref()
                    .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns))
                && labels.matches(object)
                && (fields.is_empty() || fields.matches(&convert(&def, object.clone())))
        }
    };
    let (initial, receiver, current_rv) = {
        let store = state.store.lock().map_err(|_| ApiError::poisoned())?;
        if from != 0 && !send_initial && state.faults.take_watch_expiry() {
            let gone = ApiError::gone(from).status();
            let line = format!("{}\n", json!({"type": "ERROR", "object": gone}));
            return Ok((StatusCode::OK, [("content-type", "application/json")], line).into_response());
        }
        // Only shared references are taken under the lock; serializing happens after it.
        if from == 0 || send_initial {
            let mut initial: Vec<(&'static str, Arc<Value>)> = store
                .list(&def.bucket, namespace.as_deref())
                .into_iter()
                .filter(|o| matches(&def.bucket, o))
                .map(|o| ("ADDED", o))
                .collect();
            if send_initial && bookmarks {
                let end = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": {
                    "resourceVersion": store.rv().to_string(),
                    "annotations": {"k8s.io/initial-events-end": "true"}}});
                initial.push(("BOOKMARK", Arc::new(end)));
            }
            (initial, store.subscribe(), store.rv())
        } else if from < store.oldest() {
            let gone = ApiError::gone(from).status();
            let line = format!("{}\n", json!({"type": "ERROR", "object": gone}));
            return Ok((StatusCode::OK, [("content-type", "application/json")], line).into_response());
        } else {
            let (past, receiver) = store.since(from);
            let initial = past
                .into_iter()
                .filter_map(|c| event_kind(&matches, &c).map(|kind| (kind, c.object)))
                .collect();
            (initial, receiver, store.rv())
        }
    };
    let initial: Vec<Bytes> = initial
        .into_iter()
        .map(|(kind, object)| watch_event(&def, shape, kind, &object))
        .collect();
    let mut epoch = state.faults.watch_epoch();
    epoch.mark_unchanged();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let def_for_stream = def.clone();
    let interval = state.bookmark_interval;
    let first_bookmark = tokio::time::Instant::now() + interval;
    let live = futures::stream::unfold(
        (receiver, epoch, current_rv, first_bookmark),
        move |(mut receiver, mut epoch, mut last_rv, mut next_bookmark)| {
            let def = def_for_stream.clone();
            let matches = matches.clone();
            async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => return None,
                        _ = epoch.changed() => return None,
                        _ = tokio::time::sleep_until(next_bookmark), if bookmarks => {
                            next_bookmark = tokio::time::Instant::now() + interval;
                            let object = json!({"kind": def.kind, "apiVersion": def.api_version(),
                                "metadata": {"resourceVersion": last_rv.to_string()}});
                            let event = watch_event(&def, shape, "BOOKMARK", &object);
                            return Some((Ok::<Bytes, std::io::Error>(event), (receiver, epoch, last_rv, next_bookmark)));
                        }
                        change = receiver.recv() => match change {
                            Ok(change) => {
                                last_rv = change.rv;
                                if let Some(kind) = event_kind(&matches, &change) {
                                    let event = watch_event(&def, shape, kind, &change.object);
                                    return Some((Ok(event), (receiver, epoch, last_rv, next_bookmark)));
                                }
                            }
                            // A watch that lags too far behind ends; the client resumes from its last version.
                            Err(_) => return None,
                        }
                    }
                }
            }
        },
    );
    let stream = futures::stream::iter(initial.into_iter().map(Ok::<Bytes, std::io::Error>)).chain(live);
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}
