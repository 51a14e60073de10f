//! The SDK path's retries against a local HTTP server that answers as EC2 would: a token-less create is sent
//! again only when AWS refused it (throttling), never after an ambiguous answer (a 5xx may mean it ran); reads
//! keep the SDK's standard retries.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use eks_api::RegionName;
use eks_aws::context::{SdkProvider, configure};
use eks_aws::{ClientProvider, RegionClients};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CREATED: &str = r#"<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><vpc><vpcId>vpc-0123</vpcId><state>pending</state><cidrBlock>10.0.0.0/16</cidrBlock></vpc></CreateVpcResponse>"#;
const DESCRIBED: &str = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><vpcSet><item><vpcId>vpc-0123</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>"#;

fn ec2_error(code: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{code} (test)</Message></Error></Errors><RequestID>r0</RequestID></Response>"
    )
}

/// A server on a free loopback port answering the scripted `(status, body)` answers in order (the last one
/// again once they run out), counting the requests it received.
struct Server {
    endpoint: String,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(script: Vec<(u16, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                while let Ok(n) = stream.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
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
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = script[n.min(script.len() - 1)].clone();
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        });
        Self {
            endpoint,
            requests,
            task,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The operator's SDK configuration (standard retries, [`eks_aws::context::MAX_ATTEMPTS`]) on this server,
    /// with a short initial backoff so that the test does not wait for the real one.
    async fn clients(&self) -> RegionClients {
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

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn a_throttled_create_is_sent_again_and_succeeds() {
    for code in ["RequestLimitExceeded", "Throttling", "PriorRequestNotComplete"] {
        // EC2 answers RequestLimitExceeded with 503: a 5xx, but a refusal, not an ambiguous answer.
        let server = Server::start(vec![(503, ec2_error(code)), (200, CREATED.to_owned())]).await;
        let clients = server.clients().await;
        let vpc = clients.ec2.create_vpc("10.0.0.0/16", &Default::default()).await;
        assert_eq!(vpc.map(|v| v.id), Ok("vpc-0123".to_owned()), "{code}");
        assert_eq!(server.requests(), 2, "{code}: refused once, then sent again");
    }
}

#[tokio::test]
async fn a_create_answered_with_a_server_error_is_sent_once() {
    for (status, body) in [
        (500, ec2_error("InternalError")),
        (503, ec2_error("Unavailable")),
        (502, String::new()),
    ] {
        let server = Server::start(vec![(status, body), (200, CREATED.to_owned())]).await;
        let clients = server.clients().await;
        let error = clients
            .ec2
            .create_vpc("10.0.0.0/16", &Default::default())
            .await
            .unwrap_err();
        assert_eq!(error.reason(), "AwsServerError", "{status}: {error}");
        assert_eq!(
            server.requests(),
            1,
            "{status}: it may have run; the next pass looks by tag"
        );
    }
}

#[tokio::test]
async fn a_create_whose_connection_drops_is_sent_once() {
    // The server takes the request and closes the connection without an answer.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut chunk = [0u8; 4096];
            let _ = stream.read(&mut chunk).await;
            drop(stream);
        }
    });
    let server = Server {
        endpoint,
        requests,
        task,
    };
    let clients = server.clients().await;
    let error = clients
        .ec2
        .create_vpc("10.0.0.0/16", &Default::default())
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(server.requests(), 1, "{error}");
}

#[tokio::test]
async fn a_read_keeps_the_standard_retries() {
    let server = Server::start(vec![
        (500, ec2_error("InternalError")),
        (200, DESCRIBED.to_owned()),
    ])
    .await;
    let clients = server.clients().await;
    let vpcs = clients.ec2.describe_vpcs(&[]).await.unwrap();
    assert_eq!(vpcs.len(), 1);
    assert_eq!(server.requests(), 2);
}
