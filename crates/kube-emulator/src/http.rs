//! The HTTP surface: one handler that routes paths the way the real server lays them out
//! (`/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}`, `/apis/{group}/{version}/...`, the legacy
//! `/watch/` prefix), reads the query parameters and bodies, and answers in JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::delete::{Preconditions, delete};
use crate::discovery;
use crate::errors::ApiError;
use crate::openapi;
use crate::params::{self, OptionsKind, Params, flag, query};
use crate::resources::ResourceDef;
use crate::select::{FieldSelector, LabelSelector};
use crate::state::State;
use crate::table::table;
use crate::verbs::{self, FieldValidation, PatchType, WriteOptions};
use crate::watch::watch;

/// A path to objects.
struct Target {
    def: ResourceDef,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

/// What the client asked the answer to look like (`Accept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The objects themselves.
    Object,
    /// A `meta.k8s.io/v1` Table.
    Table,
    /// `PartialObjectMetadata` (kube-rs metadata API).
    Metadata,
}

impl Shape {
    fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers
            .get("accept")
            .and_then(|a| a.to_str().ok())
            .unwrap_or_default();
        if accept.contains("as=Table") {
            Self::Table
        } else if accept.contains("as=PartialObjectMetadata") {
            Self::Metadata
        } else {
            Self::Object
        }
    }
}

/// `PartialObjectMetadata` of an object.
pub fn metadata_only(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]})
}

fn json_response(code: StatusCode, value: &Value, warnings: &[String]) -> Response {
    // The real server's JSON encoder ends every body with a newline.
    let mut text = value.to_string();
    text.push('\n');
    let mut response = (code, [("content-type", "application/json")], text).into_response();
    for warning in warnings {
        if let Ok(header) = HeaderValue::from_str(&format!("299 - \"{}\"", warning.replace('"', "\\\""))) {
            response.headers_mut().append("warning", header);
        }
    }
    response
}

fn ok(value: &Value) -> Response {
    json_response(StatusCode::OK, value, &[])
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
        // `/api/v1/namespaces/{name}/status` is the namespace itself.
        ["namespaces", _, "status" | "finalize"] => (None, rest),
        ["namespaces", ns, more @ ..] if !more.is_empty() => (Some((*ns).to_owned()), more),
        other => (None, other),
    };
    let plural = rest[0];
    let def = state
        .find(group, version, plural)
        .ok_or_else(|| ApiError::no_route(&segments.join("/")))?;
    if rest.len() > 3 || (def.namespaced != namespace.is_some() && rest.len() > 1) {
        return Err(ApiError::no_route(&segments.join("/")));
    }
    let subresource = rest.get(2).map(|s| (*s).to_owned());
    if let Some(sub) = &subresource
        && !(sub == "status" && def.status_subresource)
        && !(sub == "scale" && def.scale_subresource)
        && !(sub == "finalize" && def.plural == "namespaces")
    {
        return Err(ApiError::no_route(&segments.join("/")));
    }
    Ok(Some(Target {
        def,
        namespace,
        name: rest.get(1).map(|s| (*s).to_owned()),
        subresource,
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
        && !tokens.iter().any(|seen| seen == token)
    {
        // Distinct tokens only: a long-running emulator must not grow by one entry per request.
        tokens.push(token.to_owned());
    }
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(code) = state.faults.take_failure() {
        return ApiError::injected(code).into_response();
    }
    match route(&state, &method, &uri, &headers, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn discovery_route(state: &State, segments: &[&str], path: &str) -> Option<Result<Response, ApiError>> {
    let defs = state.all_defs();
    let found = |value: Option<Value>| Some(value.map(|v| ok(&v)).ok_or_else(|| ApiError::no_route(path)));
    match segments {
        ["version"] => Some(Ok(ok(&discovery::version()))),
        ["healthz" | "readyz" | "livez"] => Some(Ok((StatusCode::OK, "ok").into_response())),
        ["api"] => Some(Ok(ok(&discovery::core_versions()))),
        ["apis"] => Some(Ok(ok(&discovery::group_list(&defs)))),
        ["api", version] => found(discovery::resource_list(&defs, "", version)),
        ["apis", group] => found(discovery::group(&defs, group)),
        ["apis", group, version] => found(discovery::resource_list(&defs, group, version)),
        ["openapi", "v3"] => Some(Ok(ok(&openapi::v3_root(&defs)))),
        ["openapi", "v3", "api", "v1"] => found(openapi::v3_group_version(&defs, "", "v1")),
        ["openapi", "v3", "apis", group, version] => found(openapi::v3_group_version(&defs, group, version)),
        ["openapi", "v2"] => Some(Ok(ok(&openapi::v2(&defs)))),
        _ => None,
    }
}

/// The field manager of a write: `fieldManager`, else the user agent up to its first `/`, as the real
/// server derives it.
fn manager(params: &Params, headers: &HeaderMap) -> String {
    if let Some(m) = params.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    headers
        .get("user-agent")
        .and_then(|u| u.to_str().ok())
        .and_then(|u| u.split('/').next())
        .filter(|u| !u.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

fn write_options(params: &Params, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
    let validation = match params.get("fieldValidation").map(String::as_str) {
        Some("Ignore") => FieldValidation::Ignore,
        Some("Strict") => FieldValidation::Strict,
        // `Warn` is the real server's default when the parameter is absent.
        Some("Warn" | "") | None => FieldValidation::Warn,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}"
            )));
        }
    };
    Ok(WriteOptions {
        validation,
        manager: manager(params, headers),
        force: flag(params, "force"),
        dry_run: params.contains_key("dryRun"),
    })
}

fn route(
    state: &Arc<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ApiError> {
    let path = uri.path().trim_end_matches('/');
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(response) = discovery_route(state, &segments, path) {
        return response;
    }
    let mut params = query(uri);
    // The legacy `/api/v1/watch/...` and `/apis/g/v/watch/...` paths.
    let watch_at = if segments.first() == Some(&"api") { 2 } else { 3 };
    if segments.get(watch_at) == Some(&"watch") {
        segments.remove(watch_at);
        params.insert("watch".into(), "true".into());
    }
    if method == Method::POST
        && let [
            "apis",
            "authorization.k8s.io",
            "v1",
            kind @ ("selfsubjectaccessreviews" | "selfsubjectrulesreviews"),
        ] = segments.as_slice()
    {
        // kubectl sends the review as protobuf; its content does not matter here.
        let review = parse_body(headers, body).unwrap_or_else(|_| json!({}));
        return Ok(access_review(kind, review));
    }
    let Some(target) = parse_target(state, &segments)? else {
        return Err(ApiError::no_route(path));
    };
    let namespace = target.namespace.clone().unwrap_or_default();
    let shape = Shape::from_headers(headers);
    let def = &target.def;
    let subresource = target.subresource.as_deref();
    if subresource == Some("scale")
        && let Some(name) = target.name.as_deref()
    {
        return scale_route(state, method, headers, body, &params, def, &namespace, name);
    }
    match (method.clone(), target.name.as_deref()) {
        (Method::GET, None) if flag(&params, "watch") => watch(
            state.clone(),
            def.clone(),
            target.namespace.clone(),
            &params,
            shape,
        ),
        (Method::GET, None) => list(state, def, target.namespace.as_deref(), &params, shape),
        (Method::GET, Some(name)) => {
            let (object, rv) = {
                let store = state.store.lock().map_err(|_| ApiError::poisoned())?;
                let object = store
                    .get(&def.bucket, &namespace, name)
                    .cloned()
                    .map(|o| convert(def, o))
                    .ok_or_else(|| ApiError::not_found(def, name))?;
                (object, store.rv())
            };
            Ok(ok(&match shape {
                Shape::Table => table(def, &[object], rv),
                Shape::Metadata => metadata_only(&object),
                Shape::Object => object,
            }))
        }
        (Method::POST, None) => {
            params::validate(&params, OptionsKind::Create)?;
            let object = parse_body(headers, body)?;
            let options = write_options(&params, headers)?;
            let (created, warnings) = verbs::create(state, def, &namespace, object, &options, false)?;
            Ok(json_response(
                StatusCode::CREATED,
                &convert(def, created),
                &warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            params::validate(&params, OptionsKind::Update)?;
            let object = parse_body(headers, body)?;
            let options = write_options(&params, headers)?;
            let (written, warnings) =
                verbs::update(state, def, &namespace, name, object, subresource, &options)?;
            Ok(json_response(StatusCode::OK, &convert(def, written), &warnings))
        }
        (Method::PATCH, Some(name)) => {
            params::validate(&params, OptionsKind::Patch)?;
            let kind = patch_type(headers)?;
            if kind == PatchType::Apply && params.get("fieldManager").is_none_or(String::is_empty) {
                return Err(ApiError::bad_request(
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                ));
            }
            let patch = parse_body(headers, body)?;
            let options = write_options(&params, headers)?;
            let (written, warnings, created) =
                verbs::patch(state, def, &namespace, name, subresource, kind, patch, &options)?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(json_response(code, &convert(def, written), &warnings))
        }
        (Method::DELETE, Some(name)) => {
            // DeleteOptions may come as protobuf (Helm): then only the query parameters count.
            let options = parse_body(headers, body).unwrap_or(Value::Null);
            params::validate(&params::with_delete_body(&params, &options), OptionsKind::Delete)?;
            let dry_run = params.contains_key("dryRun")
                || options["dryRun"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|x| x == "All"));
            let (object, gone) = delete(
                state,
                def,
                &namespace,
                name,
                &Preconditions::from_body(&options),
                dry_run,
            )?;
            if gone {
                // The real server answers a completed deletion with a success Status.
                let body = crate::errors::deleted_status(def, name, object["metadata"]["uid"].as_str());
                return Ok((StatusCode::OK, [("content-type", "application/json")], body).into_response());
            }
            Ok(ok(&convert(def, object)))
        }
        (Method::DELETE, None) => {
            params::validate(&params, OptionsKind::Delete)?;
            let selector = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
                .map_err(ApiError::bad_request)?;
            let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
                .map_err(ApiError::bad_request)?;
            let objects = state
                .store
                .lock()
                .map_err(|_| ApiError::poisoned())?
                .list(&def.bucket, target.namespace.as_deref());
            let mut deleted = Vec::new();
            for object in objects
                .iter()
                .filter(|o| selector.matches(o) && fields.matches(o))
            {
                let ns = object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                match delete(state, def, &ns, &name, &Preconditions::default(), false) {
                    Ok((object, _)) => deleted.push(convert(def, object)),
                    Err(e) if e.code() == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(ok(
                &json!({"apiVersion": def.api_version(), "kind": format!("{}List", def.kind), "metadata": {}, "items": deleted}),
            ))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The `/scale` subresource.
#[allow(clippy::too_many_arguments)]
fn scale_route(
    state: &State,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
    params: &Params,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let scale = match *method {
        Method::GET => crate::scale::get(state, def, namespace, name)?,
        Method::PUT | Method::PATCH => {
            let kind = if *method == Method::PUT {
                params::validate(params, OptionsKind::Update)?;
                None
            } else {
                params::validate(params, OptionsKind::Patch)?;
                Some(patch_type(headers)?)
            };
            let options = write_options(params, headers)?;
            crate::scale::write(
                state,
                def,
                namespace,
                name,
                parse_body(headers, body)?,
                kind,
                &options,
            )?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(ok(&scale))
}

/// The patch type of a PATCH's content type.
fn patch_type(headers: &HeaderMap) -> Result<PatchType, ApiError> {
    let content_type = headers
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default();
    if content_type.contains("apply-patch") {
        Ok(PatchType::Apply)
    } else if content_type.contains("json-patch") {
        Ok(PatchType::Json)
    } else if content_type.contains("strategic") {
        Ok(PatchType::Strategic)
    } else if content_type.contains("merge-patch") {
        Ok(PatchType::Merge)
    } else {
        Err(ApiError::unsupported_patch())
    }
}

/// `kubectl auth can-i`: authorization is not emulated, so everything is allowed.
fn access_review(kind: &str, mut review: Value) -> Response {
    const REASON: &str = "kube-emulator does not check authorization";
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!(if kind == "selfsubjectaccessreviews" {
        "SelfSubjectAccessReview"
    } else {
        "SelfSubjectRulesReview"
    });
    review["status"] = if kind == "selfsubjectaccessreviews" {
        json!({"allowed": true, "reason": REASON})
    } else {
        json!({"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": false})
    };
    json_response(StatusCode::CREATED, &review, &[])
}

/// A continue token: the namespace and name of the last item of the previous page.
fn continue_token(object: &Value) -> String {
    let meta = &object["metadata"];
    let key = json!([meta["namespace"].as_str().unwrap_or_default(), meta["name"]]).to_string();
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_continue(token: &str) -> Result<(String, String), ApiError> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    bytes
        .and_then(|b| serde_json::from_slice::<(String, String)>(&b).ok())
        .ok_or_else(|| ApiError::bad_request("continue key is not valid: invalid continue token"))
}

fn list(
    state: &State,
    def: &ResourceDef,
    namespace: Option<&str>,
    params: &Params,
    shape: Shape,
) -> Result<Response, ApiError> {
    let labels = LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let after = params
        .get("continue")
        .filter(|c| !c.is_empty())
        .map(|c| parse_continue(c))
        .transpose()?;
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let (objects, rv) = {
        let store = state.store.lock().map_err(|_| ApiError::poisoned())?;
        (store.list(&def.bucket, namespace), store.rv())
    };
    let api_version = def.api_version();
    // Objects stay shared (no deep copy) unless another group version stored them (events, HPAs).
    let mut matching = objects
        .into_iter()
        .filter(|o| {
            after.as_ref().is_none_or(|(ns, name)| {
                let meta = &o["metadata"];
                let key = (
                    meta["namespace"].as_str().unwrap_or_default(),
                    meta["name"].as_str().unwrap_or_default(),
                );
                key > (ns.as_str(), name.as_str())
            })
        })
        .map(|o| {
            if o["apiVersion"].as_str() != Some(api_version.as_str()) {
                Arc::new(convert(def, o.as_ref().clone()))
            } else {
                o
            }
        })
        .filter(|o| labels.matches(o) && fields.matches(o));
    let items: Vec<Arc<Value>> = matching.by_ref().take(limit).collect();
    let remaining = matching.count();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if remaining > 0
        && let Some(last) = items.last()
    {
        metadata["continue"] = json!(continue_token(last));
        metadata["remainingItemCount"] = json!(remaining);
    }
    let value = match shape {
        Shape::Table => {
            let owned: Vec<Value> = items.iter().map(|o| o.as_ref().clone()).collect();
            let mut t = table(def, &owned, rv);
            t["metadata"] = metadata;
            t
        }
        Shape::Metadata => {
            let items: Vec<Value> = items.iter().map(|o| metadata_only(o)).collect();
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList", "metadata": metadata, "items": items})
        }
        Shape::Object => {
            // Written straight from the shared objects.
            let body = format!(
                "{{\"apiVersion\":{},\"kind\":{},\"metadata\":{metadata},\"items\":[",
                json!(def.api_version()),
                json!(format!("{}List", def.kind))
            );
            let mut body = body.into_bytes();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                serde_json::to_writer(&mut body, item.as_ref())
                    .map_err(|e| ApiError::bad_request(format!("serializing: {e}")))?;
            }
            body.extend_from_slice(b"]}");
            return Ok((StatusCode::OK, [("content-type", "application/json")], body).into_response());
        }
    };
    Ok(ok(&value))
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
/// An object of a store shared by two group versions, as the requested one: events are converted between
/// `v1` and `events.k8s.io/v1`; other kinds (HorizontalPodAutoscaler `v1`/`v2`) only get the requested
/// `apiVersion` (no field conversion).
pub fn convert(def: &ResourceDef, mut object: Value) -> Value {
    if def.plural != "events" {
        let wanted = def.api_version();
        if object["apiVersion"].as_str().is_some_and(|v| v != wanted) {
            object["apiVersion"] = json!(wanted);
        }
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
