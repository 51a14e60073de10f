//! `eks-emulator`: one local AWS endpoint. It serves the EKS API from its own model (state machines that move over
//! time), serves the EC2 calls moto lacks, and forwards every other request to a moto backend unchanged.
//!
//! Requests are routed by the service of their SigV4 credential scope ([`scope`]). A control endpoint under
//! `/emulator/v1/` (not part of AWS) shows the state and injects insights and faults; see the crate README.
#![forbid(unsafe_code)]

pub mod apiserver;
pub mod autoscaling;
pub mod backend;
pub mod control;
pub mod ec2;
pub mod eks;
pub mod faults;
pub mod forward;
pub mod persist;
pub mod scope;
pub mod ssm;
pub mod timing;
pub mod workload;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::response::Response;
use http::Request;
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::eks::model::State;
use crate::faults::{Faults, Protocol};
use crate::forward::Forwarder;
use crate::scope::SigningScope;
use crate::timing::Timing;
use crate::workload::{ClusterAccess, ClusterKey, ManagedNodeGroupNodes, NoWorkload, WorkloadHost};

/// How the emulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// The backend (moto) base URL.
    pub backend: String,
    /// Pace of state transitions.
    pub timing: Timing,
    /// Multiplier of every transition's duration.
    pub time_scale: f64,
    /// Where state is persisted (JSON); `None` keeps it in memory only.
    pub state_dir: Option<PathBuf>,
}

impl Config {
    /// A configuration on a free port in front of `backend`, `fast` timing, state in memory.
    pub fn new(backend: impl Into<String>) -> Self {
        Self {
            port: 0,
            backend: backend.into(),
            timing: Timing::Fast,
            time_scale: 1.0,
            state_dir: None,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The port could not be bound.
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The persisted state could not be read.
    #[error(transparent)]
    State(#[from] persist::PersistError),
}

/// What was last pushed to each cluster's workload server, so only changes are pushed.
type Pushed = HashMap<ClusterKey, (ClusterAccess, Vec<ManagedNodeGroupNodes>)>;

/// Shared state of a running emulator.
pub struct App {
    state: Mutex<State>,
    config: Config,
    workload: Arc<dyn WorkloadHost>,
    faults: Mutex<Faults>,
    forwarder: Forwarder,
    pushed: Mutex<Pushed>,
    activating: Mutex<std::collections::HashSet<ClusterKey>>,
}

impl App {
    /// Locks the EKS state. Never held across an await.
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn forwarder(&self) -> &Forwarder {
        &self.forwarder
    }

    pub(crate) fn backend(&self, scope: &SigningScope) -> backend::Backend {
        backend::Backend::new(self.forwarder.backend(), scope)
    }

    /// Saves the state when a state directory is configured (errors are logged: the next save retries).
    pub(crate) fn save(&self) {
        if let Some(dir) = &self.config.state_dir {
            let snapshot = self.state().clone();
            if let Err(err) = persist::save(dir, &snapshot) {
                tracing::warn!(error = %err, "saving state");
            }
        }
    }
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    ticker: JoinHandle<()>,
}

impl Emulator {
    /// Starts an emulator whose `ACTIVE` clusters each get a TLS workload API server
    /// ([`apiserver::ApiServerHost`], state under the configured state directory).
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let host = apiserver::ApiServerHost::new(config.state_dir.as_deref());
        Self::start_with(config, Arc::new(host)).await
    }

    /// Starts an emulator without workload API servers ([`NoWorkload`]: endpoints that nothing serves).
    pub async fn start_without_workload(config: Config) -> Result<Self, StartError> {
        Self::start_with(config, Arc::new(NoWorkload)).await
    }

    /// Starts an emulator whose clusters get their workload API servers from `workload`.
    pub async fn start_with(config: Config, workload: Arc<dyn WorkloadHost>) -> Result<Self, StartError> {
        let state = match &config.state_dir {
            Some(dir) => persist::load(dir)?,
            None => State::default(),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        workload.serving_at(&addr.to_string());
        let app = Arc::new(App {
            state: Mutex::new(state),
            forwarder: Forwarder::new(&config.backend),
            config,
            workload,
            faults: Mutex::new(Faults::default()),
            pushed: Mutex::new(HashMap::new()),
            activating: Mutex::new(Default::default()),
        });
        eks::lifecycle::resume(&app).await;
        let router = axum::Router::new().fallback(dispatch).with_state(app.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(err) = serve.await {
                tracing::error!(error = %err, "server stopped");
            }
        });
        let ticking = app.clone();
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(100));
            loop {
                interval.tick().await;
                eks::lifecycle::advance(&ticking).await;
            }
        });
        Ok(Self {
            addr,
            app,
            shutdown: Some(tx),
            server,
            ticker,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A JSON snapshot of the EKS state (as `GET /emulator/v1/state` answers it).
    pub fn state_json(&self) -> serde_json::Value {
        serde_json::to_value(&*self.app.state()).unwrap_or_default()
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(mut self) {
        self.ticker.abort();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
        self.app.workload.shutdown().await;
        self.app.save();
    }
}

/// Routes one request: the control endpoint, EKS, the EC2 calls served here, or the backend.
async fn dispatch(AxumState(app): AxumState<Arc<App>>, request: Request<Body>) -> Response {
    if request.uri().path().starts_with("/emulator/v1/") {
        return control::handle(&app, request).await;
    }
    let scope = SigningScope::of(request.headers(), request.uri().query());
    let service = scope.as_ref().map(|s| s.service.as_str()).unwrap_or_default();
    match (service, scope.clone()) {
        ("eks", Some(scope)) => eks::handle(&app, &scope, request).await,
        ("ec2", Some(scope)) => ec2::handle(&app, &scope, request).await,
        ("ssm", Some(scope)) => ssm::handle(&app, &scope, request).await,
        ("autoscaling", Some(scope)) => autoscaling::handle(&app, &scope, request).await,
        _ => {
            let protocol = if request.headers().contains_key("x-amz-target") {
                Protocol::AwsJson
            } else {
                Protocol::AwsQuery
            };
            let is_form = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let operation = request
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .map(str::to_owned);
            if is_form {
                let (parts, body) = request.into_parts();
                let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
                    return faults::error_response(
                        protocol,
                        http::StatusCode::BAD_REQUEST,
                        "InvalidRequest",
                        "unreadable body",
                    );
                };
                if let Some(action) = ec2::form_action(&body)
                    && let Some(rule) = app.faults().take(&action)
                {
                    return rule.response(protocol);
                }
                return app
                    .forwarder()
                    .forward(Request::from_parts(parts, Body::from(body)), protocol)
                    .await;
            }
            if let Some(rule) = operation.and_then(|op| app.faults().take(&op)) {
                return rule.response(protocol);
            }
            app.forwarder().forward(request, protocol).await
        }
    }
}
