//! End to end, managed aws-auth: the operator writes the aws-auth ConfigMap into each region's workload cluster
//! (the TLS API server the local AWS endpoint runs per EKS cluster, reached at the endpoint and CA that
//! `DescribeCluster` gives, authenticating and authorizing like EKS), keeping entries others added.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use eks_e2e::{kubectl, kubectl_apply_text, kubectl_ok, repo_root};
use operator_support::{Operator, REGIONS, SEED, World, clients, eventually, wait_ready, world};

/// A kubeconfig for the region's workload cluster as its creator (the operator's credentials), whose user runs
/// `aws eks get-token` against the local AWS endpoint.
pub async fn creator_kubeconfig(w: &World, region: &str) -> PathBuf {
    let name = format!("{region}-test-cloudlad");
    let cluster = clients(&w.aws, region)
        .await
        .eks
        .describe_cluster(&name)
        .await
        .unwrap()
        .unwrap();
    let endpoint = cluster.endpoint.unwrap();
    let ca = cluster.certificate_authority.unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: creator}}\ncurrent-context: {name}\nusers:\n- name: creator\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, {name}, --region, {region}]\n      interactiveMode: Never\n      env:\n      - {{name: AWS_ACCESS_KEY_ID, value: testing}}\n      - {{name: AWS_SECRET_ACCESS_KEY, value: testing}}\n      - {{name: AWS_ENDPOINT_URL, value: \"{}\"}}\n      - {{name: AWS_CONFIG_FILE, value: /dev/null}}\n      - {{name: AWS_SHARED_CREDENTIALS_FILE, value: /dev/null}}\n",
        w.local_aws.endpoint()
    );
    let path = w.config.with_file_name(format!("{region}.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

fn map_roles(c: &Path) -> String {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_aws_auth_is_applied_into_the_workload_clusters() {
    let w = world().await;
    let config = w.config.as_path();
    let operator = Operator::start(config, &w.local_aws, &w.log);
    // First unmanaged: the clusters come up, and someone else writes an entry into each aws-auth.
    kubectl_ok(config, &["apply", "-f", repo_root().join(SEED).to_str().unwrap()]);
    wait_ready(config, &w.log);
    let foreign = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/break-glass\n      username: break-glass\n";
    let mut workloads = Vec::new();
    for region in REGIONS {
        let workload = creator_kubeconfig(&w, region).await;
        let (ok, out, err) = kubectl_apply_text(&workload, foreign);
        assert!(ok, "{region}: {out}{err}");
        workloads.push(workload);
    }

    let seed = std::fs::read_to_string(repo_root().join(SEED))
        .unwrap()
        .replace("  awsAuth:\n", "  awsAuth:\n    manage: true\n");
    let (ok, out, err) = kubectl_apply_text(config, &seed);
    assert!(ok, "{out}{err}");
    eventually(
        "aws-auth written in both workload clusters",
        Duration::from_secs(60),
        || async {
            map_roles(&workloads[0]).contains("eks-worker-eu-west-1-test-cloudlad")
                && map_roles(&workloads[0]).contains("role/ops-admin")
                && map_roles(&workloads[1]).contains("eks-worker-eu-west-2-test-cloudlad")
                && map_roles(&workloads[1]).contains("role/ops-admin")
        },
    )
    .await;
    for workload in &workloads {
        let roles = map_roles(workload);
        assert!(roles.contains("system:node:{{EC2PrivateDNSName}}"), "{roles}");
        assert!(roles.contains("role/ops-admin"), "{roles}");
        assert!(
            roles.contains("role/break-glass"),
            "entries others added are kept: {roles}"
        );
        // The operator wrote it (its field manager), through a server that answers 401 to anything but an
        // aws-iam-authenticator token (`k8s-aws-v1.` + a presigned STS GetCallerIdentity URL signing
        // `x-k8s-aws-id`) of a principal the cluster maps.
        let managers = kubectl_ok(
            workload,
            &[
                "get",
                "configmap",
                "aws-auth",
                "-n",
                "kube-system",
                "-o",
                "jsonpath={.metadata.managedFields[*].manager}",
            ],
        );
        assert!(managers.split(' ').any(|m| m == "eks-operator"), "{managers}");
    }
    drop(operator);
}
