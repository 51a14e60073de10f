//! `eks-operator dev` run as a user would, without a terminal: wait for the summary, use kubectl with the
//! printed kubeconfig, compare the summary with moto, interrupt it, and check that it exits 0 and leaves no
//! process behind.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eks_e2e::{kubectl_ok, workspace_binary};

#[test]
fn dev_mode_runs_the_seed_example_and_stops_cleanly() {
    let mut child = Command::new(workspace_binary("eks-operator", "eks-operator"))
        .args(["dev", "--timeout", "120s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut output = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let done = line.contains("Serving until Ctrl-C");
        output.push(line);
        if done {
            break;
        }
    }
    let text = output.join("\n");
    assert!(text.contains("EksCluster default/cloudlad is Ready"), "{text}");
    assert!(text.contains("State is in memory"));
    let field = |label: &str| -> String {
        output
            .iter()
            .find_map(|l| l.trim_start().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_default()
    };
    let kubeconfig = PathBuf::from(field("kubeconfig "));
    assert!(kubeconfig.is_absolute() && kubeconfig.is_file(), "{text}");
    let moto = field("AWS (moto)");
    let moto_port: u16 = moto.rsplit(':').next().unwrap().parse().unwrap();

    // kubectl against the printed kubeconfig agrees with the summary, and the summary with moto.
    let phase = kubectl_ok(
        &kubeconfig,
        &["get", "eksc", "cloudlad", "-o", "jsonpath={.status.phase}"],
    );
    assert_eq!(phase, "Ready");
    let vpc = field("vpc");
    assert_eq!(
        kubectl_ok(
            &kubeconfig,
            &[
                "get",
                "eksc",
                "cloudlad",
                "-o",
                "jsonpath={.status.regions[0].vpcId}"
            ]
        ),
        vpc
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let found = runtime.block_on(async {
        let sdk = aws_sdk_config(&moto).await;
        let ctx = eks_aws::AwsContext::new(std::sync::Arc::new(eks_aws::SdkProvider::new(sdk)));
        let clients = ctx
            .clients(&eks_api::RegionName::parse("eu-west-1").unwrap(), None)
            .await
            .unwrap();
        clients
            .ec2
            .describe_vpcs(&[eks_aws::types::Filter::new("vpc-id", [vpc.clone()])])
            .await
            .unwrap()
    });
    assert_eq!(found.len(), 1, "the summary's VPC {vpc} exists in moto");
    assert_eq!(found[0].cidr, "10.0.0.0/16");

    // Ctrl-C: exit 0, nothing left listening.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "dev mode did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "{exit}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", moto_port)).is_err(),
        "moto_server is still running"
    );
}

async fn aws_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    eks_aws::context::configure(aws_config::defaults(aws_config::BehaviorVersion::latest()))
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}
