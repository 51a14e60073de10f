//! Routing, forwarding, faults, the EC2 calls served here and the control endpoint, through the real SDK.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use common::*;
use eks_emulator::timing::Timing;
use eks_emulator::{Config, Emulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_services_are_forwarded_and_unknown_eks_operations_answer_an_error() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    // IAM and STS through the emulator reach moto.
    let sts = aws_sdk_sts::Client::new(&sdk);
    assert_eq!(
        sts.get_caller_identity().send().await.unwrap().account(),
        Some("123456789012")
    );
    let net = network(&sdk).await;
    let direct = aws_sdk_ec2::Client::new(&sdk_config(&stack.moto.url(), "eu-west-1", "AKIDTESTING").await);
    let vpcs = direct.describe_vpcs().vpc_ids(&net.vpc).send().await.unwrap();
    assert_eq!(
        vpcs.vpcs().len(),
        1,
        "the VPC created through the emulator is in moto"
    );

    // An EKS operation the emulator does not serve: the SDK parses the error, nothing hangs.
    let eks = aws_sdk_eks::Client::new(&sdk);
    let err = eks
        .list_fargate_profiles()
        .cluster_name("c")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnknownOperationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_is_down_answers_a_retryable_server_error() {
    let emulator = Emulator::start(Config::new(format!("http://127.0.0.1:{}", free_port())))
        .await
        .unwrap();
    let sdk = sdk_config(&emulator.url(), "eu-west-1", "AKID").await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let err = ec2.describe_vpcs().send().await.unwrap_err();
    let raw = err.raw_response().expect("an HTTP answer");
    assert_eq!(raw.status().as_u16(), 503);
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    // EKS calls that need the backend fail as a server error, never a hang.
    let eks = aws_sdk_eks::Client::new(&sdk);
    let err = eks
        .create_cluster()
        .name("c")
        .role_arn("arn:aws:iam::123456789012:role/r")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ServerException");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_fail_exactly_the_next_calls() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let rule = r#"{"operation": "ListClusters", "errorCode": "ServerException", "count": 2}"#;
    let (status, _) = control(&stack.emulator, "POST", "/emulator/v1/faults", rule).await;
    assert_eq!(status, 201);
    let rule = r#"{"operation": "DescribeVpcs", "errorCode": "RequestLimitExceeded"}"#;
    control(&stack.emulator, "POST", "/emulator/v1/faults", rule).await;
    let (status, _) = control(&stack.emulator, "POST", "/emulator/v1/faults", "{}").await;
    assert_eq!(status, 400);

    let no_retry = aws_sdk_eks::config::Builder::from(&sdk)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let eks = aws_sdk_eks::Client::from_conf(no_retry);
    for _ in 0..2 {
        let err = eks.list_clusters().send().await.unwrap_err();
        assert_eq!(code(&err), "ServerException");
    }
    assert!(eks.list_clusters().send().await.is_ok());
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&sdk)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    );
    assert_eq!(
        ec2.describe_vpcs().send().await.unwrap_err().code(),
        Some("RequestLimitExceeded")
    );
    assert!(ec2.describe_vpcs().send().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vgw_route_propagation_is_served_and_visible_in_describe_route_tables() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-2").await;
    let net = network(&sdk).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let table = ec2.create_route_table().vpc_id(&net.vpc).send().await.unwrap();
    let table = table.route_table().unwrap().route_table_id().unwrap().to_owned();
    let other = ec2.create_route_table().vpc_id(&net.vpc).send().await.unwrap();
    let other = other.route_table().unwrap().route_table_id().unwrap().to_owned();
    let vgw = ec2
        .create_vpn_gateway()
        .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
        .send()
        .await
        .unwrap();
    let vgw = vgw.vpn_gateway().unwrap().vpn_gateway_id().unwrap().to_owned();

    let detached = ec2
        .enable_vgw_route_propagation()
        .route_table_id(&table)
        .gateway_id(&vgw)
        .send()
        .await;
    assert_eq!(detached.unwrap_err().code(), Some("Gateway.NotAttached"));
    ec2.attach_vpn_gateway()
        .vpc_id(&net.vpc)
        .vpn_gateway_id(&vgw)
        .send()
        .await
        .unwrap();
    ec2.enable_vgw_route_propagation()
        .route_table_id(&table)
        .gateway_id(&vgw)
        .send()
        .await
        .unwrap();
    let missing = ec2
        .enable_vgw_route_propagation()
        .route_table_id("rtb-0000dead")
        .gateway_id(&vgw)
        .send()
        .await;
    assert_eq!(missing.unwrap_err().code(), Some("InvalidRouteTableID.NotFound"));

    let tables = ec2
        .describe_route_tables()
        .route_table_ids(&table)
        .route_table_ids(&other)
        .send()
        .await
        .unwrap();
    for t in tables.route_tables() {
        let gateways: Vec<&str> = t
            .propagating_vgws()
            .iter()
            .filter_map(|g| g.gateway_id())
            .collect();
        if t.route_table_id() == Some(table.as_str()) {
            assert_eq!(gateways, [vgw.as_str()]);
        } else {
            assert!(gateways.is_empty());
        }
    }
    ec2.disable_vgw_route_propagation()
        .route_table_id(&table)
        .gateway_id(&vgw)
        .send()
        .await
        .unwrap();
    let tables = ec2
        .describe_route_tables()
        .route_table_ids(&table)
        .send()
        .await
        .unwrap();
    assert!(tables.route_tables()[0].propagating_vgws().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_from_the_control_endpoint_gate_version_updates() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "ins", &net).send().await.unwrap();
    active(&eks, "ins").await;
    let insight = r#"{"status": "ERROR", "name": "Deprecated APIs", "description": "batch/v1beta1 in use"}"#;
    let (status, added) = control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/ins/insights",
        insight,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(added["kubernetesVersion"], "1.33");
    let listed = eks.list_insights().cluster_name("ins").send().await.unwrap();
    assert_eq!(listed.insights().len(), 1);
    let id = listed.insights()[0].id().unwrap();
    let described = eks
        .describe_insight()
        .cluster_name("ins")
        .id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.insight().unwrap().insight_status().unwrap().status(),
        Some(&aws_sdk_eks::types::InsightStatusValue::Error)
    );
    let blocked = eks
        .update_cluster_version()
        .name("ins")
        .version("1.33")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&blocked), "InvalidRequestException");
    eks.update_cluster_version()
        .name("ins")
        .version("1.33")
        .force(true)
        .send()
        .await
        .unwrap();

    let (status, state) = control(&stack.emulator, "GET", "/emulator/v1/state", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        state["regions"]["eu-west-1"]["clusters"]["ins"]["cluster"]["version"],
        "1.33"
    );
    let (status, _) = control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/none/insights",
        insight,
    )
    .await;
    assert_eq!(status, 400);
}

fn aws_cli(endpoint: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            endpoint,
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
        .output()
        .expect("the AWS CLI (aws) on PATH")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_reads_clusters_and_errors() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "cli", &net).send().await.unwrap();
    active(&eks, "cli").await;
    let url = stack.emulator.url();
    let described = tokio::task::spawn_blocking(move || {
        let ok = aws_cli(&url, &["eks", "describe-cluster", "--name", "cli"]);
        let missing = aws_cli(&url, &["eks", "describe-cluster", "--name", "missing"]);
        (ok, missing)
    })
    .await
    .unwrap();
    let (ok, missing) = described;
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let cluster: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(cluster["cluster"]["status"], "ACTIVE");
    assert_eq!(cluster["cluster"]["version"], "1.32");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ResourceNotFoundException"));
}
