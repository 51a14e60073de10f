//! The TLS front: authenticate, authorize, forward to the in-process store (streaming, so watches pass
//! through), and answer refusals with the `Status` objects the real API server sends
//! (<https://kubernetes.io/docs/reference/access-authn-authz/authentication/>: 401 for an unauthenticated
//! request, 403 `Forbidden` naming the user for an unauthorized one).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::sync::Notify;

use crate::access::{ClusterAccess, Identity, TemplateValues, policies_allow};
use crate::nodes::{HealthIssue, ManagedNodeGroupNodes};
use crate::persist::Saved;
use crate::rbac::{RequestAttributes, allows};
use crate::sts::{Caller, StsError};
use crate::token::TokenError;
use crate::{WorkloadConfig, review, signature, sts, token};

/// A body of either side.
pub type Body = BoxBody<Bytes, hyper::Error>;
/// The HTTP client for the store and the backend's STS.
pub type HttpClient = Client<HttpConnector, Body>;

/// What the front, the reconcile loop and the public handle share.
pub struct Shared {
    /// The configuration.
    pub config: WorkloadConfig,
    /// `http://127.0.0.1:PORT` of the in-process store.
    pub upstream: String,
    /// The in-process store.
    pub state: Arc<kube_emulator::State>,
    /// Who may use the cluster.
    pub access: RwLock<ClusterAccess>,
    /// Managed node groups.
    pub node_groups: RwLock<Vec<ManagedNodeGroupNodes>>,
    /// Health issues per managed node group.
    pub health: Mutex<BTreeMap<String, Vec<HealthIssue>>>,
    /// Instance id → private DNS name of the instances seen (for `{{EC2PrivateDNSName}}`).
    pub instance_dns: Mutex<BTreeMap<String, String>>,
    /// What the state directory keeps besides objects.
    pub saved: Mutex<Saved>,
    /// Wakes the reconcile loop.
    pub wake: Notify,
    /// HTTP client.
    pub client: HttpClient,
    /// Access key id → secret of credentials whose signatures are verified (starts as the configuration's).
    pub known_credentials: RwLock<BTreeMap<String, String>>,
    callers: Mutex<BTreeMap<String, (Caller, Instant)>>,
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

fn status(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<serde_json::Value>,
) -> http::Response<Body> {
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    if let Some(details) = details {
        body["details"] = details;
    }
    let mut response = http::Response::new(full(body.to_string()));
    *response.status_mut() =
        http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn unauthorized() -> http::Response<Body> {
    status(401, "Unauthorized", "Unauthorized", None)
}

impl Shared {
    /// Shared state for a server whose store is at `upstream`.
    pub fn new(
        config: WorkloadConfig,
        upstream: String,
        state: Arc<kube_emulator::State>,
        saved: Saved,
    ) -> Self {
        let access = ClusterAccess {
            creator_arn: config.creator_arn.clone(),
            bootstrap_creator_admin: true,
            ..ClusterAccess::default()
        };
        Self {
            upstream,
            state,
            access: RwLock::new(access),
            node_groups: RwLock::default(),
            health: Mutex::default(),
            instance_dns: Mutex::default(),
            saved: Mutex::new(saved),
            wake: Notify::new(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            callers: Mutex::default(),
            known_credentials: RwLock::new(config.known_credentials.clone()),
            config,
        }
    }

    pub(crate) fn set_access(&self, access: ClusterAccess) {
        if let Ok(mut current) = self.access.write() {
            *current = access;
        }
        self.wake.notify_one();
    }

    pub(crate) fn set_node_groups(&self, groups: Vec<ManagedNodeGroupNodes>) {
        if let Ok(mut current) = self.node_groups.write() {
            *current = groups;
        }
        self.wake.notify_one();
    }

    pub(crate) fn node_group_health(&self, name: &str) -> Vec<HealthIssue> {
        self.health
            .lock()
            .ok()
            .and_then(|h| h.get(name).cloned())
            .unwrap_or_default()
    }

    pub(crate) fn save_port(&self, port: u16) {
        if let Ok(mut saved) = self.saved.lock() {
            saved.port = Some(port);
        }
        self.save();
    }

    /// Writes the state directory (no-op without one).
    pub fn save(&self) {
        let Some(dir) = &self.config.state_dir else {
            return;
        };
        let Ok(mut saved) = self.saved.lock() else {
            return;
        };
        saved.capture(&self.state);
        if let Err(error) = saved.write(dir) {
            tracing::warn!(%error, "cannot write the state directory");
        }
    }

    fn aws_auth(&self) -> Option<serde_json::Value> {
        let store = self.state.store.lock().ok()?;
        store.get("/configmaps", "kube-system", "aws-auth").cloned()
    }

    async fn authenticate(&self, header: Option<&str>) -> Result<Caller, http::Response<Body>> {
        let backend_authority = url::Url::parse(&self.config.backend_endpoint)
            .ok()
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
        let mut hosts = self.config.sts_endpoints.clone();
        hosts.extend(backend_authority);
        let call = token::parse(header, &hosts, SystemTime::now()).map_err(|error| {
            tracing::info!(reason = error.name(), %error, "token refused");
            unauthorized()
        })?;
        let secret = self
            .known_credentials
            .read()
            .ok()
            .and_then(|k| k.get(&call.access_key_id).cloned());
        if let Some(secret) = secret
            && !signature::matches(&call, &secret, &self.config.cluster_name)
        {
            let error = TokenError::SignatureMismatch(self.config.cluster_name.clone());
            tracing::info!(reason = error.name(), %error, "token refused");
            return Err(unauthorized());
        }
        let key = header.unwrap_or_default().to_owned();
        if let Some((caller, until)) = self.callers.lock().ok().and_then(|c| c.get(&key).cloned())
            && Instant::now() < until
        {
            return Ok(caller);
        }
        match sts::resolve(&self.client, &self.config.backend_endpoint, &call).await {
            Ok(caller) => {
                let valid_for = token::parse_amz_date(&call.amz_date)
                    .map(|t| t + token::TOKEN_LIFETIME)
                    .and_then(|end| end.duration_since(SystemTime::now()).ok())
                    .unwrap_or_default();
                if let Ok(mut callers) = self.callers.lock() {
                    callers.retain(|_, (_, until)| *until > Instant::now());
                    callers.insert(key, (caller.clone(), Instant::now() + valid_for));
                }
                Ok(caller)
            }
            Err(StsError::Refused(error)) => {
                tracing::info!(%error, "STS refused the token");
                Err(unauthorized())
            }
            Err(StsError::Unavailable(error)) => {
                tracing::warn!(%error, "STS unavailable");
                Err(status(
                    503,
                    "ServiceUnavailable",
                    "the authentication backend is unavailable",
                    None,
                ))
            }
        }
    }

    /// Authenticates and authorizes a request; forwards it when allowed.
    pub async fn handle(self: Arc<Self>, request: http::Request<Incoming>) -> http::Response<Body> {
        let header = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = match self.authenticate(header).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
        let values = TemplateValues {
            ec2_private_dns_name: caller
                .session_name
                .as_ref()
                .and_then(|s| self.instance_dns.lock().ok()?.get(s).cloned()),
        };
        let aws_auth = self.aws_auth();
        let identity = self
            .access
            .read()
            .ok()
            .and_then(|a| a.identify(&caller, aws_auth.as_ref(), &values));
        let Some(identity) = identity else {
            tracing::info!(caller = caller.arn, "no mapping names the caller");
            return unauthorized();
        };
        let mut identity = identity;
        if let Some((user, groups)) = review::impersonation(request.headers()) {
            for check in review::impersonation_checks(&user, &groups) {
                if !self.allowed(&identity, &check) {
                    let details = json!({"name": check.name, "kind": check.resource});
                    return status(
                        403,
                        "Forbidden",
                        &check.forbidden_message(&identity.user.name),
                        Some(details),
                    );
                }
            }
            identity = review::impersonated(user, groups);
        }
        let attributes =
            RequestAttributes::from_request(request.method(), request.uri().path(), request.uri().query());
        if !self.allowed(&identity, &attributes) {
            let details = json!({"name": attributes.name, "kind": attributes.resource});
            return status(
                403,
                "Forbidden",
                &attributes.forbidden_message(&identity.user.name),
                Some(details),
            );
        }
        if let Some(kind) = review::review_kind(request.method(), request.uri().path()) {
            return self.review(kind, request, &identity, &caller).await;
        }
        if let Some(table) = crate::nodes::table_response(&self.state, &request, &attributes) {
            return table;
        }
        self.forward(request).await
    }

    fn allowed(&self, identity: &Identity, attributes: &RequestAttributes) -> bool {
        identity.user.groups.iter().any(|g| g == "system:masters")
            || policies_allow(&identity.policies, attributes)
            || self
                .state
                .store
                .lock()
                .is_ok_and(|store| allows(&store, &identity.user, attributes))
    }

    async fn review(
        &self,
        kind: review::Review,
        request: http::Request<Incoming>,
        identity: &Identity,
        caller: &Caller,
    ) -> http::Response<Body> {
        let path = request.uri().path().to_owned();
        let Ok(body) = request.into_body().collect().await.map(|b| b.to_bytes()) else {
            return status(400, "BadRequest", "unreadable body", None);
        };
        let answer = match kind {
            review::Review::Access => {
                let Some(review) = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .or_else(|| review::decode_protobuf_access_review(&body))
                else {
                    return status(
                        400,
                        "BadRequest",
                        "the body is not a SelfSubjectAccessReview",
                        None,
                    );
                };
                let allowed = self.allowed(identity, &review::review_attributes(&review));
                review::access_review_answer(review, allowed)
            }
            review::Review::Subject => {
                let version = path
                    .trim_start_matches("/apis/")
                    .rsplit_once('/')
                    .map_or("", |(v, _)| v);
                review::subject_review_answer(version, &identity.user, caller)
            }
        };
        let mut response = http::Response::new(full(answer.to_string()));
        *response.status_mut() = http::StatusCode::CREATED;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }

    async fn forward(&self, request: http::Request<Incoming>) -> http::Response<Body> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let Ok(uri) = format!("{}{path}", self.upstream).parse::<http::Uri>() else {
            return status(400, "BadRequest", "bad request path", None);
        };
        parts.uri = uri;
        parts.headers.remove(http::header::AUTHORIZATION);
        parts.headers.remove(http::header::HOST);
        // Impersonation was authorized and applied here; the store must not see it.
        for header in ["impersonate-user", "impersonate-group", "impersonate-uid"] {
            parts.headers.remove(header);
        }
        let upstream = http::Request::from_parts(parts, body.boxed());
        match self.client.request(upstream).await {
            Ok(response) => response.map(BodyExt::boxed),
            Err(error) => status(
                503,
                "ServiceUnavailable",
                &format!("store unavailable: {error}"),
                None,
            ),
        }
    }
}

/// Accepts TLS connections until the task is aborted (connections end with it).
pub async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or similar: wait a little instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        let (acceptor, shared) = (acceptor.clone(), shared.clone());
        connections.spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(shared.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}
