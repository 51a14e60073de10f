//! A local HTTP server that answers a script of `(status, body)` in order, as an AWS service would, and
//! records every request it received (target, body), for tests of the SDK path itself: retries, paging.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use eks_api::RegionName;
use eks_aws::context::{SdkProvider, configure};
use eks_aws::{ClientProvider, RegionClients};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line's target (path and query).
    pub target: String,
    /// The body.
    pub body: String,
}

/// A server on a free loopback port answering the scripted `(status, body)` answers in order (the last one
/// again once they run out).
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Reads one HTTP/1.1 request: the head, then as much body as Content-Length says.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Received {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut head_end = None;
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buffer).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            head_end = Some(end);
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buffer).to_string();
    let target = text.split(' ').nth(1).unwrap_or_default().to_owned();
    let body = head_end.map(|end| text[end + 4..].to_owned()).unwrap_or_default();
    Received { target, body }
}

impl ScriptedServer {
    /// Starts the server with its script.
    pub async fn start(script: Vec<(u16, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let request = read_request(&mut stream).await;
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(request);
                    log.len() - 1
                };
                let (status, body) = script[n.min(script.len() - 1)].clone();
                let content_type = if body.starts_with('{') {
                    "application/json"
                } else {
                    "text/xml"
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        Self {
            endpoint,
            received,
            task,
        }
    }

    /// A server around a listener the test drives itself (e.g. one that drops connections).
    pub fn around(endpoint: String, task: tokio::task::JoinHandle<()>) -> Self {
        Self {
            endpoint,
            received: Arc::default(),
            task,
        }
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The requests, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The operator's SDK configuration (standard retries, [`eks_aws::context::MAX_ATTEMPTS`]) on this server,
    /// with a short initial backoff so that the test does not wait for the real one.
    pub async fn clients(&self) -> RegionClients {
        let config = configure(aws_config::defaults(BehaviorVersion::latest()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(eks_aws::context::MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .endpoint_url(&self.endpoint)
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .load()
            .await;
        SdkProvider::new(config)
            .region_clients(&RegionName::parse("eu-west-1").unwrap(), None)
            .await
            .unwrap()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
