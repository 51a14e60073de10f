//! The control endpoint for tests (not part of AWS), under `/emulator/v1/`:
//! `GET state`, `POST clusters/{name}/insights`, `POST faults`. See the crate README.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::eks::control as control_eks;
use crate::faults::FaultRule;

/// An insight added through `POST /emulator/v1/clusters/{name}/insights`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewInsight {
    /// The cluster's region (needed only when clusters of that name exist in several regions).
    region: Option<String>,
    #[serde(default = "upgrade_readiness")]
    category: String,
    status: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kubernetes_version: Option<String>,
}

fn upgrade_readiness() -> String {
    "UPGRADE_READINESS".to_owned()
}

pub(crate) fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"message": message.into()}))).into_response()
}

/// Serves one control request.
pub async fn handle(app: &Arc<App>, request: Request<Body>) -> Response {
    let method = request.method().clone();
    let path = request
        .uri()
        .path()
        .trim_start_matches("/emulator/v1/")
        .to_owned();
    let body = match axum::body::to_bytes(request.into_body(), 1024 * 1024).await {
        Ok(body) => body,
        Err(err) => return problem(StatusCode::BAD_REQUEST, err.to_string()),
    };
    let segments: Vec<&str> = path.split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["state"]) => {
            crate::eks::lifecycle::advance(app).await;
            axum::Json(serde_json::to_value(&*app.state()).unwrap_or_default()).into_response()
        }
        (&Method::POST, ["faults"]) => match serde_json::from_slice::<FaultRule>(&body) {
            Ok(rule) => {
                app.faults().add(rule.clone());
                (StatusCode::CREATED, axum::Json(rule)).into_response()
            }
            Err(err) => problem(StatusCode::BAD_REQUEST, format!("a fault rule: {err}")),
        },
        (&Method::POST, ["clusters", name, "insights"]) => {
            match serde_json::from_slice::<NewInsight>(&body) {
                Ok(insight) => add_insight(app, name, insight),
                Err(err) => problem(StatusCode::BAD_REQUEST, format!("an insight: {err}")),
            }
        }
        (&Method::POST, ["clusters", name, "update-failures"]) => {
            match serde_json::from_slice::<control_eks::NewUpdateFailure>(&body) {
                Ok(rule) => control_eks::add_update_failure(app, name, rule),
                Err(err) => problem(StatusCode::BAD_REQUEST, format!("an update failure: {err}")),
            }
        }
        (&Method::POST, ["clusters", name, "addons", addon, "status"]) => {
            match serde_json::from_slice::<control_eks::AddonHealth>(&body) {
                Ok(health) => control_eks::set_addon_status(app, name, addon, health),
                Err(err) => problem(StatusCode::BAD_REQUEST, format!("an add-on status: {err}")),
            }
        }
        _ => problem(
            StatusCode::NOT_FOUND,
            format!("no control operation {method} /emulator/v1/{path}"),
        ),
    }
}

fn add_insight(app: &Arc<App>, name: &str, insight: NewInsight) -> Response {
    if !matches!(
        insight.status.as_str(),
        "PASSING" | "WARNING" | "ERROR" | "UNKNOWN"
    ) {
        return problem(
            StatusCode::BAD_REQUEST,
            "status must be PASSING, WARNING, ERROR or UNKNOWN",
        );
    }
    let mut state = app.state();
    let regions: Vec<String> = state
        .regions
        .iter()
        .filter(|(region, r)| {
            r.clusters.contains_key(name) && insight.region.as_ref().is_none_or(|wanted| wanted == *region)
        })
        .map(|(region, _)| region.clone())
        .collect();
    let [region] = regions.as_slice() else {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("{} clusters named {name} match; name the region", regions.len()),
        );
    };
    let id = crate::eks::model::uuid();
    let now = crate::eks::model::seconds(crate::timing::now_ms());
    let region = region.clone();
    let Some(cluster) = state.region(&region).clusters.get_mut(name) else {
        return problem(StatusCode::NOT_FOUND, "cluster vanished");
    };
    let version = insight
        .kubernetes_version
        .unwrap_or_else(|| next_minor(&cluster.cluster.version));
    let value: Value = json!({
        "id": id,
        "name": insight.name,
        "category": insight.category,
        "kubernetesVersion": version,
        "lastRefreshTime": now,
        "lastTransitionTime": now,
        "description": insight.description,
        "insightStatus": {"status": insight.status, "reason": insight.description},
        "recommendation": "",
        "additionalInfo": {},
        "resources": [],
        "categorySpecificSummary": {"deprecationDetails": []},
    });
    cluster.insights.push(value.clone());
    drop(state);
    app.save();
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// `1.33` → `1.34` (insights are about the next version).
pub fn next_minor(version: &str) -> String {
    match version
        .split_once('.')
        .and_then(|(major, minor)| Some((major, minor.parse::<u32>().ok()?)))
    {
        Some((major, minor)) => format!("{major}.{}", minor + 1),
        None => version.to_owned(),
    }
}
