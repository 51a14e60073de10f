//! The HTTP surface: one handler that routes paths the way the real server lays them out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::discovery;
use crate::errors::ApiError;
use crate::resources::ResourceDef;
use crate::select::{FieldSelector, LabelSelector};
use crate::state::State;
use crate::table::table;
use crate::verbs::{self, FieldValidation, PatchType};

/// A path to objects.
struct Target {
    def: ResourceDef,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

fn json_response(code: StatusCode, value: &Value, warnings: &[String]) -> Response {
    let mut response = (code, [("content-type", "application/json")], value.to_string()).into_response();
    for warning in warnings {
        if let Ok(header) =
            axum::http::HeaderValue::from_str(&format!("299 - \"{}\"", warning.replace('"', "\\\"")))
        {
            response.headers_mut().append("warning", header);
        }
    }
    response
}

fn ok(value: &Value) -> Response {
    json_response(StatusCode::OK, value, &[])
}

fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            q.split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_target(state: &State, segments: &[&str]) -> Result<Option<Target>, ApiError> {
    let (group, version, rest) = match segments {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Ok(None),
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let (namespace, rest) = match rest {
        ["namespaces", ns, more @ ..] if !more.is_empty() => (Some((*ns).to_owned()), more),
        other => (None, other),
    };
    let plural = rest[0];
    let def = state
        .find(group, version, plural)
        .ok_or_else(|| ApiError::no_route(&segments.join("/")))?;
    Ok(Some(Target {
        def,
        namespace,
        name: rest.get(1).map(|s| (*s).to_owned()),
        subresource: rest.get(2).map(|s| (*s).to_owned()),
    }))
}

/// The single entry point of every request.
pub async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        && let Ok(mut tokens) = state.tokens.lock()
    {
        tokens.push(token.to_owned());
    }
    let latency = state.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(code) = state.take_failure() {
        return ApiError::injected(code).into_response();
    }
    match route(&state, &method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(
    state: &Arc<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let path = uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let defs = state.all_defs();
    match segments.as_slice() {
        ["version"] => return Ok(ok(&discovery::version())),
        ["healthz" | "readyz" | "livez"] => return Ok((StatusCode::OK, "ok").into_response()),
        ["api"] => return Ok(ok(&discovery::core_versions())),
        ["apis"] => return Ok(ok(&discovery::group_list(&defs))),
        ["api", version] => {
            return discovery::resource_list(&defs, "", version)
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["apis", group] => {
            return discovery::group(&defs, group)
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["apis", group, version] => {
            return discovery::resource_list(&defs, group, version)
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["openapi", "v3"] => return Ok(ok(&discovery::openapi_root(&defs))),
        ["openapi", "v3", "api", "v1"] => {
            return discovery::openapi_group_version(&defs, "", "v1")
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["openapi", "v3", "apis", group, version] => {
            return discovery::openapi_group_version(&defs, group, version)
                .map(|v| ok(&v))
                .ok_or_else(|| ApiError::no_route(path));
        }
        ["openapi", "v2"] => {
            return Ok(ok(
                &json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": {}, "definitions": {}}),
            ));
        }
        _ => {}
    }
    let Some(target) = parse_target(state, &segments)? else {
        return Err(ApiError::no_route(path));
    };
    let params = query(uri);
    let namespace = target.namespace.clone().unwrap_or_default();
    let validation = match params.get("fieldValidation").map(String::as_str) {
        Some("Ignore") => FieldValidation::Ignore,
        Some("Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        // The real server's default when the parameter is absent.
        _ => FieldValidation::Warn,
    };
    let wants_table = headers
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"));
    let def = &target.def;
    let subresource = target.subresource.as_deref();
    match (method.clone(), target.name.as_deref()) {
        (Method::GET, None) if params.get("watch").is_some_and(|w| w == "true" || w == "1") => {
            watch(state.clone(), def.clone(), target.namespace.clone(), &params)
        }
        (Method::GET, None) => list(state, def, target.namespace.as_deref(), &params, wants_table),
        (Method::GET, Some(name)) => {
            let object = state
                .store
                .lock()
                .ok()
                .and_then(|s| s.get(&def.bucket, &namespace, name).cloned())
                .map(|o| convert(def, o))
                .ok_or_else(|| ApiError::not_found(def, name))?;
            if wants_table {
                let rv = state.store.lock().map(|s| s.rv()).unwrap_or_default();
                return Ok(ok(&table(def, &[object], rv)));
            }
            Ok(ok(&object))
        }
        (Method::POST, None) => {
            let object = parse_body(headers, body)?;
            let (created, warnings) = verbs::create(state, def, &namespace, object, validation)?;
            Ok(json_response(
                StatusCode::CREATED,
                &convert(def, created),
                &warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            let object = parse_body(headers, body)?;
            let (written, warnings) =
                verbs::update(state, def, &namespace, name, object, subresource, validation)?;
            Ok(json_response(StatusCode::OK, &convert(def, written), &warnings))
        }
        (Method::PATCH, Some(name)) => {
            let content_type = headers
                .get("content-type")
                .and_then(|c| c.to_str().ok())
                .unwrap_or_default();
            let kind = if content_type.contains("apply-patch") {
                PatchType::Apply
            } else if content_type.contains("json-patch") {
                PatchType::Json
            } else if content_type.contains("strategic") {
                PatchType::Strategic
            } else {
                PatchType::Merge
            };
            if kind == PatchType::Apply && params.get("fieldManager").is_none_or(String::is_empty) {
                return Err(ApiError::bad_request("PATCH with apply requires a fieldManager"));
            }
            let patch = parse_body(headers, body)?;
            let manager = params.get("fieldManager").map(String::as_str);
            let (written, warnings, created) = verbs::patch(
                state,
                def,
                &namespace,
                name,
                subresource,
                kind,
                patch,
                manager,
                validation,
            )?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(json_response(code, &convert(def, written), &warnings))
        }
        (Method::DELETE, Some(name)) => Ok(ok(&convert(def, verbs::delete(state, def, &namespace, name)?))),
        (Method::DELETE, None) => {
            let selector = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
                .map_err(ApiError::bad_request)?;
            let objects = state
                .store
                .lock()
                .map(|s| s.list(&def.bucket, target.namespace.as_deref()))
                .unwrap_or_default();
            let mut deleted = Vec::new();
            for object in objects.into_iter().filter(|o| selector.matches(o)) {
                let ns = object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                deleted.push(convert(def, verbs::delete(state, def, &ns, &name)?));
            }
            Ok(ok(
                &json!({"apiVersion": def.api_version(), "kind": format!("{}List", def.kind), "metadata": {}, "items": deleted}),
            ))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let content_type = headers
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default();
    if content_type.contains("protobuf") || body.starts_with(b"k8s\0") {
        return crate::protobuf::decode(body).ok_or_else(ApiError::unsupported_media_type);
    }
    if content_type.contains("cbor") {
        // client-go (Helm 4, kubectl) may send CBOR; decode it into the same JSON value.
        let value: ciborium::Value = ciborium::from_reader(body.as_ref())
            .map_err(|e| ApiError::bad_request(format!("the CBOR body could not be decoded: {e}")))?;
        return serde_json::to_value(value).map_err(|e| ApiError::bad_request(format!("the CBOR body: {e}")));
    }
    serde_json::from_slice(body)
        .or_else(|_| serde_saphyr::from_slice::<Value>(body))
        .map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded: {e}")))
}

/// Events are stored once and served by both event APIs, each in its own shape.
fn convert(def: &ResourceDef, mut object: Value) -> Value {
    if def.plural != "events" {
        return object;
    }
    let wanted = def.api_version();
    if object["apiVersion"] == json!(wanted) {
        return object;
    }
    if wanted == "v1" {
        object["message"] = object.get("note").cloned().unwrap_or(Value::Null);
        object["involvedObject"] = object.get("regarding").cloned().unwrap_or(Value::Null);
        object["source"] = json!({"component": object["reportingController"].clone()});
        object["lastTimestamp"] = object.get("eventTime").cloned().unwrap_or(Value::Null);
        object["count"] = object["series"]["count"].as_i64().map_or(json!(1), |c| json!(c));
    } else {
        object["note"] = object.get("message").cloned().unwrap_or(Value::Null);
        object["regarding"] = object.get("involvedObject").cloned().unwrap_or(Value::Null);
    }
    object["apiVersion"] = json!(wanted);
    object
}

fn list(
    state: &State,
    def: &ResourceDef,
    namespace: Option<&str>,
    params: &HashMap<String, String>,
    wants_table: bool,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let (objects, rv) = {
        let store = state
            .store
            .lock()
            .map_err(|_| ApiError::bad_request("store poisoned"))?;
        (store.list(&def.bucket, namespace), store.rv())
    };
    let mut items: Vec<Value> = objects
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .map(|o| convert(def, o))
        .collect();
    let start: usize = params.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let total = items.len();
    items = items.into_iter().skip(start).take(limit).collect();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if start.saturating_add(limit) < total {
        metadata["continue"] = json!((start + limit).to_string());
        metadata["remainingItemCount"] = json!(total - start - limit);
    }
    if wants_table {
        let mut t = table(def, &items, rv);
        t["metadata"] = metadata;
        return Ok(ok(&t));
    }
    Ok(ok(
        &json!({"apiVersion": def.api_version(), "kind": format!("{}List", def.kind), "metadata": metadata, "items": items}),
    ))
}

fn watch_event(def: &ResourceDef, kind: &str, object: Value) -> Bytes {
    let mut line = json!({"type": kind, "object": convert(def, object)}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn watch(
    state: Arc<State>,
    def: ResourceDef,
    namespace: Option<String>,
    params: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let bookmarks = params.get("allowWatchBookmarks").is_some_and(|b| b == "true");
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
                && fields.matches(object)
        }
    };
    let (initial, receiver, current_rv) = {
        let store = state
            .store
            .lock()
            .map_err(|_| ApiError::bad_request("store poisoned"))?;
        if from == 0 {
            let objects = store.list(&def.bucket, namespace.as_deref());
            let initial: Vec<Bytes> = objects
                .into_iter()
                .filter(|o| matches(&def.bucket, o))
                .map(|o| watch_event(&def, "ADDED", o))
                .collect();
            (initial, store.subscribe(), store.rv())
        } else if from < store.oldest() {
            let gone = ApiError::gone(from).status();
            let line = format!("{}\n", json!({"type": "ERROR", "object": gone}));
            return Ok((StatusCode::OK, [("content-type", "application/json")], line).into_response());
        } else {
            let (past, receiver) = store.since(from);
            let initial = past
                .into_iter()
                .filter(|c| matches(&c.bucket, &c.object))
                .map(|c| watch_event(&def, c.kind, c.object))
                .collect();
            (initial, receiver, store.rv())
        }
    };
    let mut epoch = state.watch_epoch.subscribe();
    epoch.mark_unchanged();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let def_for_stream = def.clone();
    let live = futures::stream::unfold(
        (receiver, epoch, current_rv),
        move |(mut receiver, mut epoch, mut last_rv)| {
            let def = def_for_stream.clone();
            let matches = matches.clone();
            async move {
                loop {
                    let bookmark = tokio::time::sleep(Duration::from_secs(if bookmarks { 10 } else { 3600 }));
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => return None,
                        _ = epoch.changed() => return None,
                        _ = bookmark, if bookmarks => {
                            let object = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": {"resourceVersion": last_rv.to_string()}});
                            return Some((Ok::<Bytes, std::io::Error>(watch_event(&def, "BOOKMARK", object)), (receiver, epoch, last_rv)));
                        }
                        change = receiver.recv() => match change {
                            Ok(change) => {
                                last_rv = change.rv;
                                if matches(&change.bucket, &change.object) {
                                    return Some((Ok(watch_event(&def, change.kind, change.object)), (receiver, epoch, last_rv)));
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) | Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
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
