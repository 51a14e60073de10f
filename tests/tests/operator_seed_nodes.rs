//! The seed's end state, end to end: the two-region example through `eks-operator run` against the local AWS
//! endpoint (eks-emulator + moto), then each region's generated kubeconfig Secret, used as a user would (its
//! exec plugin is `aws eks get-token`), shows `kubectl get nodes` with the node group's two nodes Ready. With
//! `awsAuth.manage: false` (the example's default), removing the worker role's aws-auth entry in one workload
//! cluster takes that region's nodes NotReady, as EKS does; the other region's stay Ready.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use eks_e2e::{kubectl_ok, repo_root};
use operator_support::{
    LocalAws, Operator, REGIONS, SEED, eventually, generated_kubeconfig, wait_ready, workload_kubectl, world,
};

/// `kubectl get nodes --no-headers`: each node's (name, STATUS column).
fn nodes(aws: &LocalAws, kubeconfig: &Path) -> Vec<(String, String)> {
    let (ok, out, _) = workload_kubectl(aws, kubeconfig, &["get", "nodes", "--no-headers"]);
    if !ok {
        return Vec::new();
    }
    out.lines()
        .filter_map(|l| {
            let mut columns = l.split_whitespace();
            Some((columns.next()?.to_owned(), columns.next()?.to_owned()))
        })
        .collect()
}

fn all(nodes: &[(String, String)], status: &str) -> bool {
    nodes.len() == 2 && nodes.iter().all(|(_, s)| s == status)
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_nodes_through_the_generated_kubeconfig_shows_the_workers_until_aws_auth_drops_them() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.local_aws, &w.log);
    kubectl_ok(config, &["apply", "-f", repo_root().join(SEED).to_str().unwrap()]);
    wait_ready(config, &w.log);

    let kubeconfigs: Vec<PathBuf> = REGIONS.iter().map(|r| generated_kubeconfig(&w, r)).collect();
    for (region, kubeconfig) in REGIONS.iter().zip(&kubeconfigs) {
        eventually(
            &format!("two Ready nodes in {region}"),
            Duration::from_secs(60),
            || async { all(&nodes(&w.local_aws, kubeconfig), "Ready") },
        )
        .await;
        let names = nodes(&w.local_aws, kubeconfig);
        assert!(
            names
                .iter()
                .all(|(n, _)| n.starts_with("ip-") && n.ends_with(".compute.internal")),
            "{region}: {names:?}"
        );
        // The worker role is mapped by EKS itself (the example leaves awsAuth unmanaged).
        let (ok, roles, err) = workload_kubectl(
            &w.local_aws,
            kubeconfig,
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
        assert!(ok, "{err}");
        assert!(
            roles.contains(&format!("role/eks-worker-{region}-test-cloudlad")),
            "{roles}"
        );
    }

    // The worker role's entry removed in the first region: its nodes go NotReady, the second region's stay.
    let (ok, out, err) = workload_kubectl(
        &w.local_aws,
        &kubeconfigs[0],
        &[
            "patch",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"mapRoles":""}}"#,
        ],
    );
    assert!(ok, "{out}{err}");
    eventually(
        "the first region's nodes NotReady",
        Duration::from_secs(60),
        || async { all(&nodes(&w.local_aws, &kubeconfigs[0]), "NotReady") },
    )
    .await;
    assert!(all(&nodes(&w.local_aws, &kubeconfigs[1]), "Ready"));
}
