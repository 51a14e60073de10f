//! The SDK path's retries against a local HTTP server that answers as EC2 would: a token-less create is sent
//! again only when AWS refused it (throttling), never after an ambiguous answer (a 5xx may mean it ran); reads
//! keep the SDK's standard retries.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

mod support;

use support::scripted::ScriptedServer as Server;

const CREATED: &str = r#"<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><vpc><vpcId>vpc-0123</vpcId><state>pending</state><cidrBlock>10.0.0.0/16</cidrBlock></vpc></CreateVpcResponse>"#;
const DESCRIBED: &str = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><vpcSet><item><vpcId>vpc-0123</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>"#;

fn ec2_error(code: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{code} (test)</Message></Error></Errors><RequestID>r0</RequestID></Response>"
    )
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
    let server = Server::around(endpoint, task);
    let clients = server.clients().await;
    let error = clients
        .ec2
        .create_vpc("10.0.0.0/16", &Default::default())
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{error}");
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
