//! A local moto server, the AWS side of the local mode (`eks-operator dev`) and of the integration tests:
//! started on a loopback port as a child process, killed on drop.
//!
//! Only 127.0.0.1 is ever contacted. `moto_server` must be on `PATH` (`pip install 'moto[server]'`;
//! `scripts/install-test-tools.sh` installs it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use crate::context::{AwsContext, EngineOptions, SdkProvider, configure};

/// Why `moto_server` could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// `moto_server` is not on `PATH`.
    #[error(
        "moto_server is not on PATH: install it with `pip install 'moto[server]'` (or run scripts/install-test-tools.sh)"
    )]
    NotInstalled,
    /// No free loopback port.
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
    /// The process could not be spawned.
    #[error("cannot start moto_server: {0}")]
    Spawn(std::io::Error),
    /// It did not answer in time.
    #[error("moto_server did not answer on 127.0.0.1:{0} within 30 s")]
    NoAnswer(u16),
    /// A request to its control API failed.
    #[error("moto_server request failed: {0}")]
    Request(std::io::Error),
}

/// A running `moto_server`.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    port: u16,
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` with `MOTO_IAM_LOAD_MANAGED_POLICIES=true` and waits
    /// until it accepts connections.
    pub fn start() -> Result<Self, MotoError> {
        Self::start_on(0)
    }

    /// Like [`Self::start`] on a chosen port (0: a free one).
    pub fn start_on(port: u16) -> Result<Self, MotoError> {
        let program = find_on_path("moto_server").ok_or(MotoError::NotInstalled)?;
        let port = if port == 0 {
            free_port().map_err(MotoError::NoPort)?
        } else {
            port
        };
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(MotoError::Spawn)?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if server.request("GET", "/moto-api/").is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(MotoError::NoAnswer(port))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        if response.starts_with("HTTP/1.1 2") || response.starts_with("HTTP/1.0 2") {
            Ok(response)
        } else {
            Err(std::io::Error::other(
                response.lines().next().unwrap_or_default().to_owned(),
            ))
        }
    }

    /// Clears every resource of this server (`POST /moto-api/reset`).
    pub fn reset(&self) -> Result<(), MotoError> {
        self.request("POST", "/moto-api/reset")
            .map(|_| ())
            .map_err(MotoError::Request)
    }

    /// An SDK configuration pointing at this server with dummy static credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        local_sdk_config(&self.endpoint()).await
    }

    /// Engine options for tests: quick progress requeues.
    pub fn engine_options() -> EngineOptions {
        EngineOptions {
            progress_requeue: Duration::from_millis(10),
        }
    }

    /// An SDK client provider on this server.
    pub async fn provider(&self) -> Arc<SdkProvider> {
        Arc::new(SdkProvider::new(self.sdk_config().await))
    }

    /// A context on this server with [`Self::engine_options`].
    pub async fn context(&self) -> AwsContext {
        AwsContext::new(self.provider().await).with_options(Self::engine_options())
    }
}

/// An SDK configuration on a local AWS endpoint (moto, or eks-emulator in front of it) with moto's dummy static
/// credentials (`testing`/`testing`) in `us-east-1`.
pub async fn local_sdk_config(endpoint: &str) -> SdkConfig {
    configure(aws_config::defaults(BehaviorVersion::latest()))
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
