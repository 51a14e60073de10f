//! The EKS part of the control endpoint (not part of AWS): make the next updates of a cluster, node group or
//! add-on fail (`POST /emulator/v1/clusters/{name}/update-failures`), and set an add-on's status and health
//! issues (`POST /emulator/v1/clusters/{name}/addons/{addon}/status`). See the crate README.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{AddonStatus, ClusterRecord, UpdateFailure, UpdateTarget};
use crate::App;
use crate::control::problem;

/// The `ErrorCode` values of the EKS `ErrorDetail` shape
/// (<https://docs.aws.amazon.com/eks/latest/APIReference/API_ErrorDetail.html>).
const UPDATE_ERROR_CODES: &[&str] = &[
    "SubnetNotFound",
    "SecurityGroupNotFound",
    "EniLimitReached",
    "IpNotAvailable",
    "AccessDenied",
    "OperationNotPermitted",
    "VpcIdNotFound",
    "Unknown",
    "NodeCreationFailure",
    "PodEvictionFailure",
    "InsufficientFreeAddresses",
    "ClusterUnreachable",
    "InsufficientNumberOfReplicas",
    "ConfigurationConflict",
    "AdmissionRequestDenied",
    "UnsupportedAddonModification",
    "K8sResourceNotFound",
];

/// The `AddonIssue` codes (<https://docs.aws.amazon.com/eks/latest/APIReference/API_AddonIssue.html>).
const ADDON_ISSUE_CODES: &[&str] = &[
    "AccessDenied",
    "InternalFailure",
    "ClusterUnreachable",
    "InsufficientNumberOfReplicas",
    "ConfigurationConflict",
    "AdmissionRequestDenied",
    "UnsupportedAddonModification",
    "K8sResourceNotFound",
    "AddonSubscriptionNeeded",
    "AddonPermissionFailure",
];

/// `POST /emulator/v1/clusters/{name}/update-failures`: the next `count` updates of the cluster (or of the node
/// group or add-on named) end `Failed` with `errorCode`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUpdateFailure {
    region: Option<String>,
    nodegroup_name: Option<String>,
    addon_name: Option<String>,
    #[serde(default = "one")]
    count: u32,
    #[serde(default = "unknown")]
    error_code: String,
    #[serde(default)]
    error_message: Option<String>,
}

fn one() -> u32 {
    1
}

fn unknown() -> String {
    "Unknown".to_owned()
}

/// `POST /emulator/v1/clusters/{name}/addons/{addon}/status`: the add-on's status and health issues.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddonHealth {
    region: Option<String>,
    status: AddonStatus,
    #[serde(default)]
    issues: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Issue {
    code: String,
    message: String,
    #[serde(default)]
    resource_ids: Vec<String>,
}

/// Runs `f` on the one cluster named `name` (in `region` when given).
fn on_cluster(
    app: &Arc<App>,
    name: &str,
    region: Option<&str>,
    f: impl FnOnce(&mut ClusterRecord) -> Result<Value, (StatusCode, String)>,
) -> Response {
    let result = {
        let mut state = app.state();
        let mut matching: Vec<&mut ClusterRecord> = state
            .regions
            .iter_mut()
            .filter(|(r, _)| region.is_none_or(|wanted| wanted == r.as_str()))
            .filter_map(|(_, r)| r.clusters.get_mut(name))
            .collect();
        match matching.as_mut_slice() {
            [c] => f(c),
            [] => Err((StatusCode::NOT_FOUND, format!("no cluster named {name}"))),
            more => Err((
                StatusCode::BAD_REQUEST,
                format!("{} clusters named {name} match; name the region", more.len()),
            )),
        }
    };
    match result {
        Ok(value) => {
            app.save();
            (StatusCode::CREATED, axum::Json(value)).into_response()
        }
        Err((status, message)) => problem(status, message),
    }
}

/// Records an update failure rule on the cluster.
pub fn add_update_failure(app: &Arc<App>, name: &str, rule: NewUpdateFailure) -> Response {
    if !UPDATE_ERROR_CODES.contains(&rule.error_code.as_str()) {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("errorCode must be one of {}", UPDATE_ERROR_CODES.join(", ")),
        );
    }
    if rule.count == 0 {
        return problem(StatusCode::BAD_REQUEST, "count must be at least 1");
    }
    on_cluster(app, name, rule.region.as_deref(), |c| {
        let target = match (&rule.nodegroup_name, &rule.addon_name) {
            (Some(_), Some(_)) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "name a node group or an add-on, not both".to_owned(),
                ));
            }
            (Some(group), None) if !c.nodegroups.contains_key(group) => {
                return Err((StatusCode::NOT_FOUND, format!("no node group {group}")));
            }
            (None, Some(addon)) if !c.addons.contains_key(addon) => {
                return Err((StatusCode::NOT_FOUND, format!("no add-on {addon}")));
            }
            (Some(group), None) => UpdateTarget::Nodegroup(group.clone()),
            (None, Some(addon)) => UpdateTarget::Addon(addon.clone()),
            (None, None) => UpdateTarget::Cluster,
        };
        let error = json!({
            "errorCode": rule.error_code,
            "errorMessage": rule.error_message.clone().unwrap_or_else(|| "injected update failure".to_owned()),
            "resourceIds": [],
        });
        let failure = UpdateFailure {
            target,
            count: rule.count,
            error,
        };
        c.update_failures.push(failure.clone());
        serde_json::to_value(failure).map_err(|err| (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()))
    })
}

/// Sets an add-on's status and health issues (e.g. `DEGRADED` with an `InsufficientNumberOfReplicas` issue).
pub fn set_addon_status(app: &Arc<App>, name: &str, addon: &str, health: AddonHealth) -> Response {
    if let Some(issue) = health
        .issues
        .iter()
        .find(|i| !ADDON_ISSUE_CODES.contains(&i.code.as_str()))
    {
        return problem(
            StatusCode::BAD_REQUEST,
            format!(
                "issue code {} is not one of {}",
                issue.code,
                ADDON_ISSUE_CODES.join(", ")
            ),
        );
    }
    on_cluster(app, name, health.region.as_deref(), |c| {
        let record = c
            .addons
            .get_mut(addon)
            .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no add-on {addon}")))?;
        record.status = health.status;
        let issues: Vec<Value> = health
            .issues
            .iter()
            .map(|i| json!({"code": i.code, "message": i.message, "resourceIds": i.resource_ids}))
            .collect();
        record.addon["health"] = json!({"issues": issues});
        Ok(record.describe())
    })
}
