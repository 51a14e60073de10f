//! The EKS-optimized AMI parameters of SSM, through the AWS CLI (JSON 1.1 protocol): served by the emulator,
//! naming images that exist in moto's EC2; other parameters go to moto.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use eks_emulator::timing::Timing;

const AL2023: &str =
    "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/image_id";
const AL2023_NEXT: &str =
    "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id";
const ARM: &str = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/standard/recommended/image_id";
const GPU: &str = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/nvidia/recommended/image_id";
const ROCKET: &str = "/aws/service/bottlerocket/aws-k8s-1.33/x86_64/latest/image_id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_ami_parameters_name_images_that_exist_in_the_backend() {
    let stack = Stack::start(Timing::Instant).await;
    let url = stack.emulator.url();
    let ec2 = aws_sdk_ec2::Client::new(&stack.sdk("eu-west-1").await);

    let mut images = Vec::new();
    for name in [AL2023, AL2023_NEXT, ARM, GPU, ROCKET] {
        let answer = aws_json(&url, &["ssm", "get-parameter", "--name", name])
            .await
            .unwrap();
        let parameter = &answer["Parameter"];
        assert_eq!(parameter["Name"], name);
        assert_eq!(parameter["DataType"], "aws:ec2:image");
        let image = parameter["Value"].as_str().unwrap().to_owned();
        let found = ec2.describe_images().image_ids(&image).send().await.unwrap();
        let described = &found.images()[0];
        let arch = described.architecture().unwrap().as_str().to_owned();
        assert_eq!(arch, if name == ARM { "arm64" } else { "x86_64" }, "{name}");
        images.push(image);
    }
    assert_ne!(
        images[0], images[1],
        "a new Kubernetes version has a new recommended AMI"
    );
    assert_ne!(images[1], images[4], "Bottlerocket is another image");
    // Stable: the same name answers the same image.
    let again = aws_json(&url, &["ssm", "get-parameter", "--name", AL2023])
        .await
        .unwrap();
    assert_eq!(again["Parameter"]["Value"], images[0].as_str());

    let missing = aws_json(
        &url,
        &[
            "ssm",
            "get-parameter",
            "--name",
            "/aws/service/eks/optimized-ami/1.20/amazon-linux-2023/x86_64/standard/recommended/image_id",
        ],
    )
    .await
    .unwrap_err();
    assert!(missing.contains("ParameterNotFound"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_parameters_go_to_moto_and_get_parameters_merges_both() {
    let stack = Stack::start(Timing::Instant).await;
    let url = stack.emulator.url();
    aws_json(
        &url,
        &[
            "ssm",
            "put-parameter",
            "--name",
            "/app/greeting",
            "--value",
            "hello",
            "--type",
            "String",
        ],
    )
    .await
    .unwrap();
    let own = aws_json(&url, &["ssm", "get-parameter", "--name", "/app/greeting"])
        .await
        .unwrap();
    assert_eq!(own["Parameter"]["Value"], "hello");

    let bad = "/aws/service/bottlerocket/aws-k8s-1.99/x86_64/latest/image_id";
    let both = aws_json(
        &url,
        &[
            "ssm",
            "get-parameters",
            "--names",
            ROCKET,
            "/app/greeting",
            bad,
            "/app/absent",
        ],
    )
    .await
    .unwrap();
    let mut names: Vec<&str> = both["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["/app/greeting", ROCKET]);
    let mut invalid: Vec<&str> = both["InvalidParameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    invalid.sort_unstable();
    assert_eq!(invalid, ["/app/absent", bad]);

    // Injected faults reach SSM operations too.
    let rule = r#"{"operation": "GetParameter", "errorCode": "ThrottlingException"}"#;
    let (status, _) = control(&stack.emulator, "POST", "/emulator/v1/faults", rule).await;
    assert_eq!(status, 201);
    let throttled = aws_json(&url, &["ssm", "get-parameter", "--name", AL2023])
        .await
        .unwrap_err();
    assert!(throttled.contains("ThrottlingException"), "{throttled}");
    assert!(
        aws_json(&url, &["ssm", "get-parameter", "--name", AL2023])
            .await
            .is_ok()
    );
}
