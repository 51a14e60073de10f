//! An in-memory Kubernetes API server for tests and the local mode of eks-operator.
//!
//! It serves discovery, OpenAPI (enough for kubectl's server-side field validation and `explain`), every
//! built-in resource of Kubernetes 1.33 (stored only, with the server's defaults) and any resource defined
//! by a CustomResourceDefinition (schema validation, defaulting, pruning, CEL rules), with
//! get/list/watch/create/update/patch (merge, JSON, strategic, server-side apply with managedFields)/delete,
//! finalizers, the status and scale subresources, garbage collection of owned objects and `Table` output. See the crate README for what is deliberately not
//! emulated.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = kube_emulator::Emulator::start().await?; // a free loopback port, ready at once
//! emulator.apply_yaml(include_str!("../tests/fixtures/widget-crd.yaml"))?;
//! let client = emulator.client(); // a kube::Client
//! emulator.faults().fail_next(2, 429); // the next two requests get 429 with Retry-After
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod builtins;
mod cel;
mod defaults;
mod delete;
mod discovery;
mod errors;
mod faults;
mod fields;
mod http;
mod kubeconfig;
mod openapi;
mod params;
mod protobuf;
pub mod resources;
mod scale;
pub mod schema;
pub mod select;
mod ssa;
mod state;
pub mod store;
mod strategic;
mod table;
mod verbs;
mod watch;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use errors::ApiError;
pub use faults::Faults;
pub use state::State;

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding the port failed.
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The error.
        source: std::io::Error,
    },
}

/// Why [`Emulator::apply_yaml`], [`Emulator::apply_json`] or [`Emulator::apply_crd`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The text is not YAML or JSON objects.
    #[error("parsing the manifest: {0}")]
    Parse(String),
    /// A document has no `apiVersion`, `kind` or `metadata.name`, or its kind is not served.
    #[error("{0}")]
    Unknown(String),
    /// The server refused the object, as it would over HTTP.
    #[error("{0}")]
    Refused(#[from] ApiError),
}

/// Options of [`Emulator::start_with`] (see [`Emulator::builder`] for more).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
}

/// Settings of an emulator about to start.
#[derive(Clone, Debug)]
pub struct Builder {
    port: u16,
    history: usize,
    bookmark_interval: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            port: 0,
            history: store::HISTORY,
            bookmark_interval: Duration::from_secs(10),
        }
    }
}

impl Builder {
    /// The loopback port (0, the default: a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// How many changes are kept for watches that resume from a resource version (default 20,000); a watch
    /// from an older version gets `410 Gone`.
    pub fn watch_history(mut self, changes: usize) -> Self {
        self.history = changes;
        self
    }

    /// How often a watch that allows bookmarks gets one (default 10 s; at least 10 ms).
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Binds 127.0.0.1 and starts serving; the emulator is ready when this returns.
    pub async fn start(self) -> Result<Emulator, StartError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|source| StartError::Bind {
                port: self.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: self.port,
            source,
        })?;
        let mut state = State::new(self.history);
        state.bookmark_interval = self.bookmark_interval;
        let state = Arc::new(state);
        let app = Router::new().fallback(http::handle).with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let faults = state.faults.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
                // End open watches so the server can finish.
                faults.drop_watches();
            };
            let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        });
        Ok(Emulator {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running emulator; it stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The bearer token of the kubeconfigs the emulator writes.
pub const TOKEN: &str = "kube-emulator-token";

impl Emulator {
    /// Starts on a free loopback port with default settings.
    pub async fn start() -> Result<Self, StartError> {
        Builder::default().start().await
    }

    /// Settings for an emulator to start ([`Builder::start`]).
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts with options.
    pub async fn start_with(options: Options) -> Result<Self, StartError> {
        Builder::default().port(options.port).start().await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kube client for the emulator (plain HTTP, the kubeconfig's bearer token, namespace `default`).
    /// Call it inside a Tokio runtime, as any `kube::Client` is built.
    pub fn client(&self) -> kube::Client {
        let uri = self.url().parse().unwrap_or_default();
        let mut config = kube::Config::new(uri);
        config.default_namespace = "default".into();
        config.auth_info.token = Some(TOKEN.to_owned().into());
        #[allow(clippy::expect_used)]
        kube::Client::try_from(config).expect("a plain HTTP client can always be built")
    }

    /// A kubeconfig that kubectl, Helm and kube-rs accept.
    pub fn kubeconfig(&self) -> String {
        kubeconfig::render(&self.url(), TOKEN)
    }

    /// Writes [`Self::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// The distinct bearer tokens seen so far, in the order first seen (accepted, never checked).
    pub fn seen_bearer_tokens(&self) -> Vec<String> {
        self.state.tokens.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// The fault-injection handle (cheap to clone).
    pub fn faults(&self) -> Faults {
        self.state.faults.clone()
    }

    /// Ends every open watch (clients must re-watch); see [`Faults::drop_watches`].
    pub fn drop_watches(&self) {
        self.state.faults.drop_watches();
    }

    /// Makes the next `count` requests fail with `code` (500 or 429); see [`Faults::fail_next`].
    pub fn fail_next(&self, count: u32, code: u16) {
        self.state.faults.fail_next(count, code);
    }

    /// Adds latency to every request; see [`Faults::set_latency`].
    pub fn set_latency(&self, latency: Duration) {
        self.state.faults.set_latency(latency);
    }

    /// Applies one object (server-side apply as field manager `kube-emulator`, forced), without HTTP and
    /// without fault injection. Namespaced objects without a namespace go to `default`. Returns the stored
    /// object.
    pub fn apply_json(&self, object: &Value) -> Result<Value, ApplyError> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return Err(ApplyError::Unknown(
                "an object needs apiVersion, kind and metadata.name".into(),
            ));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let def = self
            .state
            .all_defs()
            .into_iter()
            .find(|d| d.group == group && d.version == version && d.kind == kind)
            .ok_or_else(|| ApplyError::Unknown(format!("no kind \"{kind}\" is served in {api_version}")))?;
        let namespace = if def.namespaced {
            object["metadata"]["namespace"].as_str().unwrap_or("default")
        } else {
            ""
        };
        let options = verbs::WriteOptions {
            validation: verbs::FieldValidation::Strict,
            manager: "kube-emulator".into(),
            force: true,
            dry_run: false,
        };
        let (stored, _, _) = verbs::patch(
            &self.state,
            &def,
            namespace,
            name,
            None,
            verbs::PatchType::Apply,
            object.clone(),
            &options,
        )?;
        Ok(stored)
    }

    /// Applies every document of a YAML (or JSON) text, in order (see [`Self::apply_json`]). A
    /// CustomResourceDefinition is served as soon as it is applied, so a later document may use it.
    pub fn apply_yaml(&self, text: &str) -> Result<Vec<Value>, ApplyError> {
        let documents: Vec<Value> =
            serde_saphyr::from_multiple(text).map_err(|e| ApplyError::Parse(e.to_string()))?;
        documents
            .iter()
            .filter(|d| d.is_object())
            .map(|d| self.apply_json(d))
            .collect()
    }

    /// Applies a CustomResourceDefinition; its resource is served (and `Established`) when this returns.
    pub fn apply_crd(
        &self,
        crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    ) -> Result<Value, ApplyError> {
        let mut value = serde_json::to_value(crd).map_err(|e| ApplyError::Parse(e.to_string()))?;
        value["apiVersion"] = "apiextensions.k8s.io/v1".into();
        value["kind"] = "CustomResourceDefinition".into();
        self.apply_json(&value)
    }

    /// The shared state (store and served resources), for white-box tests.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Stops serving (open watches end) and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
