//! An in-memory Kubernetes API server for tests and the local mode of eks-operator.
//!
//! It serves discovery, OpenAPI v3 (enough for kubectl's server-side field validation and `explain`), the
//! built-in resources the operator and its chart use, and any resource defined by a CustomResourceDefinition,
//! with get/list/watch/create/update/patch (merge, JSON, strategic-as-merge, server-side apply)/delete,
//! finalizers, the status subresource, garbage collection of owned objects and `Table` output. See the crate
//! README for what is deliberately not emulated.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod discovery;
mod errors;
mod http;
mod protobuf;
pub mod resources;
pub mod schema;
pub mod select;
mod state;
pub mod store;
mod table;
mod verbs;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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

/// Options of [`Emulator::start_with`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
}

/// A running emulator; it stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start() -> Result<Self, StartError> {
        Self::start_with(Options::default()).await
    }

    /// Starts with options.
    pub async fn start_with(options: Options) -> Result<Self, StartError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| StartError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: options.port,
            source,
        })?;
        let state = Arc::new(State::default());
        let app = Router::new().fallback(http::handle).with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let watch_epoch = state.watch_epoch.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
                // End open watches so the server can finish.
                watch_epoch.send_modify(|e| *e += 1);
            };
            let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        });
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kube client for the emulator.
    pub fn client(&self) -> kube::Client {
        // With both rustls back ends linked into one binary (the AWS SDK brings aws-lc-rs), rustls needs a
        // process default; keep whichever is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let uri = self.url().parse().unwrap_or_default();
        let config = kube::Config::new(uri);
        #[allow(clippy::expect_used)]
        kube::Client::try_from(config).expect("a plain HTTP client can always be built")
    }

    /// A kubeconfig that kubectl and kube-rs accept.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: emulator\n  cluster:\n    server: {url}\ncontexts:\n- name: emulator\n  context:\n    cluster: emulator\n    user: emulator\n    namespace: default\ncurrent-context: emulator\npreferences: {{}}\nusers:\n- name: emulator\n  user:\n    token: emulator-token\n",
            url = self.url()
        )
    }

    /// Writes [`Self::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// Bearer tokens seen so far (accepted, never checked).
    pub fn seen_bearer_tokens(&self) -> Vec<String> {
        self.state.tokens.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Ends every open watch (clients must re-watch).
    pub fn drop_watches(&self) {
        self.state.watch_epoch.send_modify(|e| *e += 1);
    }

    /// Makes the next `count` requests fail with `code` (500 or 429).
    pub fn fail_next(&self, count: u32, code: u16) {
        self.state
            .faults
            .fail_code
            .store(u32::from(code), Ordering::Relaxed);
        self.state.faults.fail_next.store(count, Ordering::Relaxed);
    }

    /// Adds latency to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.state
            .faults
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// The shared state (store and served resources), for white-box tests.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Stops serving and waits for the server task.
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
