//! `Status` failures as the real server writes them, so kubectl and kube-rs print and classify them the same.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::resources::ResourceDef;
use crate::schema::Cause;

/// A failed request, answered with a `Status` object.
#[derive(Debug, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    code: u16,
    reason: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String, details: Value) -> Self {
        Self {
            code,
            reason,
            message,
            details,
        }
    }

    fn details(def: &ResourceDef, name: &str) -> Value {
        json!({"name": name, "group": def.group, "kind": def.plural})
    }

    /// 404 NotFound.
    pub fn not_found(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", def.qualified()),
            Self::details(def, name),
        )
    }

    /// 404 for a path that serves nothing, worded as kube-apiserver's not-found handler words it (the path
    /// is only logged).
    pub fn no_route(path: &str) -> Self {
        tracing::debug!(path, "no resource is served here");
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            json!({}),
        )
    }

    /// 409 AlreadyExists.
    pub fn already_exists(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", def.qualified()),
            Self::details(def, name),
        )
    }

    /// 409 Conflict on a stale resourceVersion.
    pub fn conflict(def: &ResourceDef, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                def.qualified()
            ),
            Self::details(def, name),
        )
    }

    /// 422 Invalid with causes.
    pub fn invalid(def: &ResourceDef, name: &str, causes: &[Cause]) -> Self {
        let parts: Vec<String> = causes
            .iter()
            .map(|c| {
                let field = if c.field.is_empty() { "<nil>" } else { &c.field };
                format!("{field}: {}", c.message)
            })
            .collect();
        let qualified_kind = if def.group.is_empty() {
            def.kind.clone()
        } else {
            format!("{}.{}", def.kind, def.group)
        };
        let message = if parts.len() == 1 {
            format!("{qualified_kind} \"{name}\" is invalid: {}", parts[0])
        } else {
            format!("{qualified_kind} \"{name}\" is invalid: [{}]", parts.join(", "))
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let mut details = Self::details(def, name);
        details["kind"] = json!(def.kind);
        details["causes"] = json!(causes);
        Self::new(422, "Invalid", message, details)
    }

    /// 422 Invalid for request options (`CreateOptions.meta.k8s.io "" is invalid: ...`).
    pub fn invalid_options(kind: &str, causes: &[Cause]) -> Self {
        let parts: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let message = if parts.len() == 1 {
            format!("{kind}.meta.k8s.io \"\" is invalid: {}", parts[0])
        } else {
            format!("{kind}.meta.k8s.io \"\" is invalid: [{}]", parts.join(", "))
        };
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        Self::new(
            422,
            "Invalid",
            message,
            json!({"group": "meta.k8s.io", "kind": kind, "causes": causes}),
        )
    }

    /// 409 Conflict of a server-side apply with fields other managers own.
    pub fn apply_conflict(def: &ResourceDef, name: &str, conflicts: &[crate::ssa::Conflict]) -> Self {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|c| {
                json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\" using {}", c.manager, c.api_version), "field": c.field})
            })
            .collect();
        let mut details = Self::details(def, name);
        details["causes"] = json!(causes);
        Self::new(409, "Conflict", crate::ssa::conflict_message(conflicts), details)
    }

    /// 409 Conflict of a failed delete precondition.
    pub fn precondition(def: &ResourceDef, name: &str, what: &str, expected: Option<&str>) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {what} in precondition: {}",
                def.qualified(),
                expected.unwrap_or_default()
            ),
            Self::details(def, name),
        )
    }

    /// 415 for a strategic merge patch of a custom resource.
    pub fn unsupported_patch() -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml".into(),
            json!({}),
        )
    }

    /// 500 when a lock was poisoned by a panicking request.
    pub fn poisoned() -> Self {
        Self::new(
            500,
            "InternalError",
            "Internal error occurred: the emulator's store lock is poisoned".into(),
            json!({}),
        )
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), json!({}))
    }

    /// 415 for protobuf bodies: clients then fall back to JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json".into(), json!({}))
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            json!({}),
        )
    }

    /// 410 Gone (`Expired`) for a watch from a version no longer kept.
    pub fn gone(rv: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {rv}"),
            json!({}),
        )
    }

    /// An injected failure.
    pub fn injected(code: u16) -> Self {
        let reason = if code == 429 {
            "TooManyRequests"
        } else {
            "InternalError"
        };
        Self::new(
            code,
            reason,
            format!("injected failure ({code})"),
            json!({"retryAfterSeconds": 1}),
        )
    }

    /// The HTTP code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The Status object.
    pub fn status(&self) -> Value {
        serde_json::to_value(self.wire()).unwrap_or(Value::Null)
    }

    /// The Status object in the real server's field order, with a trailing newline, as its JSON encoder
    /// (`k8s.io/apimachinery/pkg/runtime/serializer/json`, `json.Encoder`) writes it. Field order and
    /// `omitempty` follow `metav1.Status` and `metav1.StatusDetails` (`k8s.io/apimachinery/pkg/apis/meta/v1/types.go`).
    pub fn body(&self) -> String {
        let mut text = serde_json::to_string(&self.wire()).unwrap_or_default();
        text.push('\n');
        text
    }

    fn wire(&self) -> WireStatus<'_> {
        let d = &self.details;
        let text = |key: &str| d[key].as_str().filter(|s| !s.is_empty());
        WireStatus {
            kind: "Status",
            api_version: "v1",
            metadata: Empty {},
            status: "Failure",
            message: &self.message,
            reason: self.reason,
            details: WireDetails {
                name: text("name"),
                group: text("group"),
                kind: text("kind"),
                uid: text("uid"),
                causes: d["causes"]
                    .as_array()
                    .filter(|c| !c.is_empty())
                    .map(|c| c.iter().map(WireCause::from).collect()),
                retry_after_seconds: d["retryAfterSeconds"].as_i64().filter(|s| *s != 0),
            },
            code: self.code,
        }
    }
}

/// `metav1.Status` as the real server serializes it (fields in declaration order).
#[derive(serde::Serialize)]
struct WireStatus<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Empty,
    status: &'static str,
    message: &'a str,
    reason: &'static str,
    details: WireDetails<'a>,
    code: u16,
}

/// `metav1.StatusCause`: reason, message, field.
#[derive(serde::Serialize)]
struct WireCause<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl<'a> From<&'a Value> for WireCause<'a> {
    fn from(cause: &'a Value) -> Self {
        let text = |key: &str| cause[key].as_str().filter(|s| !s.is_empty());
        Self {
            reason: text("reason"),
            message: text("message"),
            field: text("field"),
        }
    }
}

/// The `Success` Status the real server answers a completed deletion with (core group without `group`).
pub fn deleted_status(def: &ResourceDef, name: &str, uid: Option<&str>) -> String {
    let status = SuccessStatus {
        kind: "Status",
        api_version: "v1",
        metadata: Empty {},
        status: "Success",
        details: WireDetails {
            name: Some(name),
            group: Some(def.group.as_str()).filter(|g| !g.is_empty()),
            kind: Some(def.plural.as_str()),
            uid,
            causes: None,
            retry_after_seconds: None,
        },
    };
    let mut text = serde_json::to_string(&status).unwrap_or_default();
    text.push('\n');
    text
}

/// A `Success` Status.
#[derive(serde::Serialize)]
struct SuccessStatus<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    metadata: Empty,
    status: &'static str,
    details: WireDetails<'a>,
}

/// `{}`.
#[derive(serde::Serialize)]
struct Empty {}

/// `metav1.StatusDetails`; every field is `omitempty`.
#[derive(serde::Serialize)]
struct WireDetails<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causes: Option<Vec<WireCause<'a>>>,
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<i64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (code, [("content-type", "application/json")], self.body()).into_response();
        if self.code == 429 {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
