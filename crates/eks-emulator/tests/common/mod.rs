//! Test support: a moto backend on a free port, an emulator in front of it, SDK clients, a VPC with two zones.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use eks_emulator::timing::Timing;
use eks_emulator::{Config, Emulator};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `moto_server` child process, killed on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server on PATH (scripts/install-test-tools.sh)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto and an in-process emulator in front of it.
pub struct Stack {
    pub moto: Moto,
    pub emulator: Emulator,
}

impl Stack {
    pub async fn start(timing: Timing) -> Self {
        let moto = Moto::start();
        let mut config = Config::new(moto.url());
        config.timing = timing;
        let emulator = Emulator::start(config).await.unwrap();
        Self { moto, emulator }
    }

    pub async fn sdk(&self, region: &str) -> SdkConfig {
        sdk_config(&self.emulator.url(), region, "AKIDTESTING").await
    }
}

pub async fn sdk_config(endpoint: &str, region: &str, key: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(key, "secret", None, None, "test"))
        .load()
        .await
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `seconds`.
pub async fn until<T, F, Fut>(seconds: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not reached within {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What a cluster needs in the backend.
pub struct Network {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub single_zone_subnets: Vec<String>,
    pub security_group: String,
    pub role_arn: String,
    pub node_role_arn: String,
}

pub async fn network(sdk: &SdkConfig) -> Network {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let zones: Vec<String> = zones
        .availability_zones()
        .iter()
        .filter_map(|z| z.zone_name().map(str::to_owned))
        .collect();
    let mut subnets = Vec::new();
    for (i, zone) in zones.iter().take(2).enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.0.{i}.0/24"))
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let single = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.0.9.0/24")
        .availability_zone(&zones[0])
        .send()
        .await
        .unwrap();
    let single_zone_subnets = vec![
        subnets[0].clone(),
        single.subnet().unwrap().subnet_id().unwrap().to_owned(),
    ];
    let sg = ec2
        .create_security_group()
        .group_name(format!("extra-{}", free_port()))
        .description("extra")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let suffix = free_port();
    let role = iam
        .create_role()
        .role_name(format!("cluster-{suffix}"))
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let node = iam
        .create_role()
        .role_name(format!("node-{suffix}"))
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    Network {
        vpc,
        subnets,
        single_zone_subnets,
        security_group: sg.group_id().unwrap().to_owned(),
        role_arn: role.role().unwrap().arn().to_owned(),
        node_role_arn: node.role().unwrap().arn().to_owned(),
    }
}

/// A `CreateCluster` request for `name` on `net`.
pub fn create_cluster(
    eks: &aws_sdk_eks::Client,
    name: &str,
    net: &Network,
) -> aws_sdk_eks::operation::create_cluster::builders::CreateClusterFluentBuilder {
    eks.create_cluster()
        .name(name)
        .version("1.32")
        .role_arn(&net.role_arn)
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .set_subnet_ids(Some(net.subnets.clone()))
                .security_group_ids(&net.security_group)
                .build(),
        )
}

/// Waits until cluster `name` is ACTIVE and returns it.
pub async fn active(eks: &aws_sdk_eks::Client, name: &str) -> aws_sdk_eks::types::Cluster {
    until(30, || async {
        let c = eks
            .describe_cluster()
            .name(name)
            .send()
            .await
            .unwrap()
            .cluster
            .unwrap();
        (c.status() == Some(&aws_sdk_eks::types::ClusterStatus::Active)).then_some(c)
    })
    .await
}

pub fn code<E: aws_sdk_eks::error::ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or("<none>").to_owned()
}

/// Sends one request to the emulator's control endpoint; answers the status and the JSON body.
pub async fn control(emulator: &Emulator, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", emulator.port()))
        .await
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// Runs the AWS CLI against `endpoint` in eu-west-1 (on a blocking thread); answers its JSON output, or its
/// standard error when it fails.
pub async fn aws_json(endpoint: &str, args: &[&str]) -> Result<serde_json::Value, String> {
    let endpoint = endpoint.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("aws")
            .args(&args)
            .args([
                "--endpoint-url",
                &endpoint,
                "--region",
                "eu-west-1",
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", "AKIDCLI")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .expect("the AWS CLI (aws) on PATH")
    })
    .await
    .unwrap();
    if output.status.success() {
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        })
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
