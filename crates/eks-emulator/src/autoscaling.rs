//! Auto Scaling instance refresh, which moto lacks: `StartInstanceRefresh`, `DescribeInstanceRefreshes` and
//! `CancelInstanceRefresh` (Query protocol, `Action=`), following the EC2 Auto Scaling API reference
//! (<https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html> and siblings).
//! Every other Auto Scaling request goes to moto unchanged.
//!
//! A refresh is `Pending`, then `InProgress` while the group's instances are replaced, then `Successful`, over
//! the timing model. Replacing means terminating each instance that was in the group when the refresh started
//! through moto's `TerminateInstanceInAutoScalingGroup` without decrementing the desired capacity, so moto
//! launches a new one from the group's current launch template version. At most
//! `100 - MinHealthyPercentage` percent of the instances (at least one) are replaced at a time. Transitions are
//! evaluated on every Auto Scaling request (the caller follows a refresh with `DescribeInstanceRefreshes`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Request, StatusCode};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::backend::BackendError;
use crate::faults::{Protocol, error_response};
use crate::scope::SigningScope;
use crate::timing::{Phase, now_ms};

const XMLNS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

/// A refresh's status (`InstanceRefreshStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshStatus {
    /// Accepted, not started.
    Pending,
    /// Replacing instances.
    InProgress,
    /// Every instance replaced.
    Successful,
    /// Being cancelled.
    Cancelling,
    /// Cancelled.
    Cancelled,
}

impl RefreshStatus {
    fn active(self) -> bool {
        matches!(
            self,
            RefreshStatus::Pending | RefreshStatus::InProgress | RefreshStatus::Cancelling
        )
    }
}

/// One instance refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRefresh {
    /// Its id.
    pub id: String,
    /// The Auto Scaling group.
    pub group: String,
    /// Its status.
    pub status: RefreshStatus,
    /// When it was started (ms since the epoch).
    pub start_ms: u64,
    /// When it ended.
    pub end_ms: Option<u64>,
    /// When it leaves `Pending`.
    pub in_progress_at: u64,
    /// When it may complete.
    pub done_at: u64,
    /// `Preferences.MinHealthyPercentage`.
    pub min_healthy_percentage: u32,
    /// `Preferences.InstanceWarmup`, seconds.
    pub instance_warmup: Option<u32>,
    /// The instances to replace (known once `InProgress`).
    pub instances: Vec<String>,
    /// How many of them were replaced.
    pub replaced: usize,
    /// The access key whose backend account holds the group.
    pub access_key: String,
}

impl InstanceRefresh {
    fn percentage_complete(&self) -> usize {
        match self.status {
            RefreshStatus::Successful => 100,
            _ if self.instances.is_empty() => 0,
            _ => self.replaced * 100 / self.instances.len(),
        }
    }

    fn batch(&self) -> usize {
        let total = self.instances.len();
        (total * (100 - self.min_healthy_percentage.min(100)) as usize / 100).max(1)
    }
}

fn fail(status: StatusCode, code: &str, message: &str) -> Response {
    error_response(Protocol::AwsQuery, status, code, message)
}

fn ok(action: &str, result: &str) -> Response {
    let body = format!(
        "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        crate::eks::model::uuid()
    );
    (StatusCode::OK, [(http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn backend_fail(err: BackendError) -> Response {
    match err {
        BackendError::Service { code, message } => fail(StatusCode::BAD_REQUEST, &code, &message),
        BackendError::Unavailable(message) => {
            fail(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &message)
        }
    }
}

fn iso(ms: u64) -> String {
    aws_sdk_ec2::primitives::DateTime::from_millis(ms as i64)
        .fmt(aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default()
}

/// Serves one Auto Scaling request.
pub async fn handle(app: &Arc<App>, scope: &SigningScope, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return fail(StatusCode::BAD_REQUEST, "ValidationError", "unreadable body");
    };
    let params: BTreeMap<String, String> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |key: &str| params.get(key).map(String::as_str);
    let action = get("Action").unwrap_or_default().to_owned();
    if let Some(rule) = app.faults().take(&action) {
        return rule.response(Protocol::AwsQuery);
    }
    advance(app, &scope.region).await;
    let group = get("AutoScalingGroupName").unwrap_or_default().to_owned();
    let response = match action.as_str() {
        "StartInstanceRefresh" => start(app, scope, &group, &params).await,
        "DescribeInstanceRefreshes" => {
            let ids: Vec<String> = params
                .iter()
                .filter(|(k, _)| k.starts_with("InstanceRefreshIds.member."))
                .map(|(_, v)| v.clone())
                .collect();
            describe(app, scope, &group, &ids, get("MaxRecords"), get("NextToken"))
        }
        "CancelInstanceRefresh" => cancel(app, scope, &group),
        _ => {
            return app
                .forwarder()
                .forward(Request::from_parts(parts, Body::from(body)), Protocol::AwsQuery)
                .await;
        }
    };
    advance(app, &scope.region).await;
    app.save();
    response
}

async fn start(
    app: &Arc<App>,
    scope: &SigningScope,
    group: &str,
    params: &BTreeMap<String, String>,
) -> Response {
    let get = |key: &str| params.get(key).map(String::as_str);
    if group.is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "AutoScalingGroupName is required",
        );
    }
    if let Some(strategy) = get("Strategy")
        && strategy != "Rolling"
    {
        return fail(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            &format!("Strategy {strategy} is not supported; use Rolling"),
        );
    }
    let min_healthy = match get("Preferences.MinHealthyPercentage").map(str::parse::<u32>) {
        None => 90,
        Some(Ok(p)) if p <= 100 => p,
        Some(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "Preferences.MinHealthyPercentage must be an integer from 0 to 100",
            );
        }
    };
    let warmup = match get("Preferences.InstanceWarmup").map(str::parse::<u32>) {
        None => None,
        Some(Ok(w)) => Some(w),
        Some(Err(_)) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "Preferences.InstanceWarmup must be a number of seconds",
            );
        }
    };
    match group_instances(app, scope, group).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                &format!("AutoScalingGroup name not found - {group}"),
            );
        }
        Err(err) => return backend_fail(err),
    }
    let config = app.config();
    let duration = config
        .timing
        .duration(Phase::InstanceRefresh, config.time_scale)
        .as_millis() as u64;
    let now = now_ms();
    let mut state = app.state();
    let refreshes = &mut state.region(&scope.region).instance_refreshes;
    if refreshes.iter().any(|r| r.group == group && r.status.active()) {
        return fail(
            StatusCode::BAD_REQUEST,
            "InstanceRefreshInProgress",
            "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
        );
    }
    let id = crate::eks::model::uuid();
    refreshes.push(InstanceRefresh {
        id: id.clone(),
        group: group.to_owned(),
        status: RefreshStatus::Pending,
        start_ms: now,
        end_ms: None,
        in_progress_at: now + duration / 10,
        done_at: now + duration,
        min_healthy_percentage: min_healthy,
        instance_warmup: warmup,
        instances: Vec::new(),
        replaced: 0,
        access_key: scope.access_key.clone(),
    });
    ok(
        "StartInstanceRefresh",
        &format!("<InstanceRefreshId>{id}</InstanceRefreshId>"),
    )
}

fn describe(
    app: &Arc<App>,
    scope: &SigningScope,
    group: &str,
    ids: &[String],
    max: Option<&str>,
    token: Option<&str>,
) -> Response {
    if group.is_empty() {
        return fail(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "AutoScalingGroupName is required",
        );
    }
    let max = match max.map(str::parse::<usize>) {
        None => 50,
        Some(Ok(m)) if (1..=100).contains(&m) => m,
        Some(_) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "MaxRecords must be from 1 to 100",
            );
        }
    };
    let Ok(start) = token.map_or(Ok(0), str::parse::<usize>) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "InvalidNextToken",
            "The NextToken is invalid",
        );
    };
    let mut state = app.state();
    // Newest first, as the API answers.
    let matching: Vec<InstanceRefresh> = state
        .region(&scope.region)
        .instance_refreshes
        .iter()
        .rev()
        .filter(|r| r.group == group && (ids.is_empty() || ids.contains(&r.id)))
        .cloned()
        .collect();
    let end = (start + max).min(matching.len());
    let members: String = matching
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(member)
        .collect();
    let next = if end < matching.len() {
        format!("<NextToken>{end}</NextToken>")
    } else {
        String::new()
    };
    ok(
        "DescribeInstanceRefreshes",
        &format!("<InstanceRefreshes>{members}</InstanceRefreshes>{next}"),
    )
}

fn member(r: &InstanceRefresh) -> String {
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let end = r
        .end_ms
        .map(|e| format!("<EndTime>{}</EndTime>", iso(e)))
        .unwrap_or_default();
    let warmup = r
        .instance_warmup
        .map(|w| format!("<InstanceWarmup>{w}</InstanceWarmup>"))
        .unwrap_or_default();
    let remaining = r.instances.len().saturating_sub(r.replaced);
    format!(
        "<member><InstanceRefreshId>{}</InstanceRefreshId><AutoScalingGroupName>{}</AutoScalingGroupName><Status>{status}</Status><StartTime>{}</StartTime>{end}<PercentageComplete>{}</PercentageComplete><InstancesToUpdate>{remaining}</InstancesToUpdate><Preferences><MinHealthyPercentage>{}</MinHealthyPercentage>{warmup}<SkipMatching>false</SkipMatching></Preferences><Strategy>Rolling</Strategy></member>",
        r.id,
        r.group,
        iso(r.start_ms),
        r.percentage_complete(),
        r.min_healthy_percentage,
    )
}

fn cancel(app: &Arc<App>, scope: &SigningScope, group: &str) -> Response {
    let mut state = app.state();
    let refreshes = &mut state.region(&scope.region).instance_refreshes;
    match refreshes
        .iter_mut()
        .find(|r| r.group == group && matches!(r.status, RefreshStatus::Pending | RefreshStatus::InProgress))
    {
        Some(r) => {
            r.status = RefreshStatus::Cancelling;
            ok(
                "CancelInstanceRefresh",
                &format!("<InstanceRefreshId>{}</InstanceRefreshId>", r.id),
            )
        }
        None => fail(
            StatusCode::BAD_REQUEST,
            "ActiveInstanceRefreshNotFound",
            &format!("No in progress or pending Instance Refresh found for Auto Scaling group {group}"),
        ),
    }
}

/// What one advance must do in the backend for a refresh.
enum Work {
    /// Read the group's instances (the refresh went `InProgress`).
    Capture(String, String, String),
    /// Replace these instances.
    Replace(String, Vec<String>),
}

/// Moves the region's refreshes forward and replaces instances in the backend.
async fn advance(app: &Arc<App>, region: &str) {
    let now = now_ms();
    let mut work = Vec::new();
    {
        let mut state = app.state();
        for r in state.region(region).instance_refreshes.iter_mut() {
            match r.status {
                RefreshStatus::Cancelling => {
                    r.status = RefreshStatus::Cancelled;
                    r.end_ms = Some(now);
                }
                RefreshStatus::Pending if r.in_progress_at <= now => {
                    r.status = RefreshStatus::InProgress;
                    work.push(Work::Capture(r.id.clone(), r.group.clone(), r.access_key.clone()));
                }
                RefreshStatus::InProgress => {
                    if let Some(batch) = next_batch(r) {
                        work.push(Work::Replace(r.access_key.clone(), batch));
                    } else if r.done_at <= now {
                        r.status = RefreshStatus::Successful;
                        r.end_ms = Some(now);
                    }
                }
                _ => {}
            }
        }
    }
    for item in work {
        match item {
            Work::Capture(id, group, access_key) => {
                let scope = backend_scope(region, &access_key);
                let instances = match group_instances(app, &scope, &group).await {
                    Ok(Some(instances)) => instances,
                    _ => Vec::new(),
                };
                let batch = {
                    let mut state = app.state();
                    let r = state
                        .region(region)
                        .instance_refreshes
                        .iter_mut()
                        .find(|r| r.id == id);
                    r.and_then(|r| {
                        r.instances = instances;
                        next_batch(r)
                    })
                };
                if let Some(batch) = batch {
                    replace(app, &scope, &batch).await;
                }
            }
            Work::Replace(access_key, batch) => {
                replace(app, &backend_scope(region, &access_key), &batch).await;
            }
        }
    }
}

/// Claims the next batch of instances to replace (under the state lock, so no two requests take the same).
fn next_batch(r: &mut InstanceRefresh) -> Option<Vec<String>> {
    if r.replaced >= r.instances.len() {
        return None;
    }
    let end = (r.replaced + r.batch()).min(r.instances.len());
    let batch = r.instances[r.replaced..end].to_vec();
    r.replaced = end;
    Some(batch)
}

fn backend_scope(region: &str, access_key: &str) -> SigningScope {
    SigningScope {
        access_key: access_key.to_owned(),
        region: region.to_owned(),
        service: "autoscaling".to_owned(),
    }
}

async fn replace(app: &Arc<App>, scope: &SigningScope, instances: &[String]) {
    for instance in instances {
        let params = [
            ("Action", "TerminateInstanceInAutoScalingGroup"),
            ("Version", "2011-01-01"),
            ("InstanceId", instance.as_str()),
            ("ShouldDecrementDesiredCapacity", "false"),
        ];
        if let Err(err) = query(app, scope, &params).await {
            tracing::warn!(instance = %instance, "replacing an instance: {err:?}");
        }
    }
}

/// The instance ids of `group` in the backend, `None` when the group does not exist.
async fn group_instances(
    app: &Arc<App>,
    scope: &SigningScope,
    group: &str,
) -> Result<Option<Vec<String>>, BackendError> {
    let params = [
        ("Action", "DescribeAutoScalingGroups"),
        ("Version", "2011-01-01"),
        ("AutoScalingGroupNames.member.1", group),
    ];
    let xml = query(app, scope, &params).await?;
    let mut found = false;
    let mut instances = Vec::new();
    let mut current = String::new();
    for token in xmlparser::Tokenizer::from(xml.as_str()).flatten() {
        match token {
            xmlparser::Token::ElementStart { local, .. } => current = local.as_str().to_owned(),
            xmlparser::Token::Text { text } => match current.as_str() {
                "AutoScalingGroupName" if text.as_str() == group => found = true,
                "InstanceId" => instances.push(text.as_str().to_owned()),
                _ => {}
            },
            xmlparser::Token::ElementEnd {
                end: xmlparser::ElementEnd::Close(..) | xmlparser::ElementEnd::Empty,
                ..
            } => current.clear(),
            _ => {}
        }
    }
    Ok(found.then_some(instances))
}

/// One Query-protocol call to the backend's Auto Scaling, signed with the caller's scope (moto keys accounts
/// on the access key and does not check signatures).
async fn query(
    app: &Arc<App>,
    scope: &SigningScope,
    params: &[(&str, &str)],
) -> Result<String, BackendError> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let key = if scope.access_key.is_empty() {
        "testing"
    } else {
        &scope.access_key
    };
    let request = Request::post("/")
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
        .header(
            http::header::AUTHORIZATION,
            format!(
                "AWS4-HMAC-SHA256 Credential={key}/20260101/{}/autoscaling/aws4_request, SignedHeaders=host, Signature=0",
                scope.region
            ),
        )
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(())
        .map_err(|err| BackendError::Unavailable(err.to_string()))?;
    let (parts, ()) = request.into_parts();
    let (answer, bytes) = app
        .forwarder()
        .forward_buffered(parts, Bytes::from(body), Protocol::AwsQuery)
        .await
        .map_err(|response| {
            BackendError::Unavailable(format!("the backend answered {}", response.status()))
        })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if answer.status.is_server_error() {
        return Err(BackendError::Unavailable(text));
    }
    if !answer.status.is_success() {
        let element = |name: &str| {
            text.split_once(&format!("<{name}>"))
                .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
                .map(|(value, _)| value.to_owned())
                .unwrap_or_default()
        };
        return Err(BackendError::Service {
            code: element("Code"),
            message: element("Message"),
        });
    }
    Ok(text)
}
