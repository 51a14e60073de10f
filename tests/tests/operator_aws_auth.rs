//! End to end, managed aws-auth: the operator writes the aws-auth ConfigMap into each region's workload cluster
//! (an emulator per region, reached through the endpoint override), keeping entries others added.
#![allow(clippy::unwrap_used)]

mod operator_support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use std::path::Path;
use std::time::Duration;

use eks_e2e::{kubectl, kubectl_apply_text, kubectl_ok, repo_root};
use kube_emulator::Emulator;
use operator_support::{Operator, SEED, eventually, world};

#[tokio::test(flavor = "multi_thread")]
async fn managed_aws_auth_is_applied_into_the_workload_clusters() {
    let w = world().await;
    let config = w.config.as_path();
    // Each regional "workload cluster" is a second emulator; the operator reaches it through the override
    // that tests and the local mode use instead of the endpoints moto hands out.
    let workload = Emulator::start().await.unwrap();
    let workload_config = w.config.with_file_name("workload-kubeconfig");
    workload.write_kubeconfig(&workload_config).unwrap();
    let second = Emulator::start().await.unwrap();
    let second_config = w.config.with_file_name("second-kubeconfig");
    second.write_kubeconfig(&second_config).unwrap();
    // Someone else's entry already in the workload cluster must survive.
    let foreign = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/break-glass\n      username: break-glass\n";
    let (ok, out, err) = kubectl_apply_text(&workload_config, foreign);
    assert!(ok, "{out}{err}");

    let overrides = [
        format!(
            "--workload-endpoint-override=eu-west-1-test-cloudlad={}",
            workload.url()
        ),
        format!(
            "--workload-endpoint-override=eu-west-2-test-cloudlad={}",
            second.url()
        ),
    ];
    let operator = Operator::start_with(config, &w.moto, &w.log, &overrides, &[]);
    let seed = std::fs::read_to_string(repo_root().join(SEED))
        .unwrap()
        .replace("  awsAuth:\n", "  awsAuth:\n    manage: true\n");
    let (ok, out, err) = kubectl_apply_text(config, &seed);
    assert!(ok, "{out}{err}");
    let map_roles = |c: &Path| {
        kubectl(
            c,
            &[
                "get",
                "configmap",
                "aws-auth",
                "-n",
                "kube-system",
                "-o",
                "jsonpath={.data.mapRoles}",
            ],
        )
        .1
    };
    eventually(
        "aws-auth in both workload clusters",
        Duration::from_secs(60),
        || async {
            map_roles(&workload_config).contains("eks-worker-eu-west-1-test-cloudlad")
                && map_roles(&second_config).contains("eks-worker-eu-west-2-test-cloudlad")
        },
    )
    .await;
    let roles = kubectl_ok(
        &workload_config,
        &[
            "get",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.data.mapRoles}",
        ],
    );
    assert!(roles.contains("system:node:{{EC2PrivateDNSName}}"), "{roles}");
    assert!(roles.contains("role/ops-admin"), "{roles}");
    assert!(
        roles.contains("role/break-glass"),
        "entries others added are kept: {roles}"
    );
    // Each workload cluster was reached with an aws-iam-authenticator token: `k8s-aws-v1.` and a base64url
    // (unpadded) presigned STS GetCallerIdentity URL whose signature covers the `x-k8s-aws-id` header.
    for (name, cluster) in [("eu-west-1", &workload), ("eu-west-2", &second)] {
        let tokens = cluster.seen_bearer_tokens();
        let urls: Vec<String> = tokens
            .iter()
            .filter_map(|t| t.strip_prefix("k8s-aws-v1."))
            .filter_map(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .filter_map(|bytes| String::from_utf8(bytes).ok())
            .collect();
        assert!(
            urls.iter().any(|url| url.contains("Action=GetCallerIdentity")
                && url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256")
                && url.contains("X-Amz-Expires=60")
                && url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id")
                && url.contains("X-Amz-Signature=")),
            "{name}: no aws-iam-authenticator token among {tokens:?} (decoded: {urls:?})"
        );
    }
    drop(operator);
}
