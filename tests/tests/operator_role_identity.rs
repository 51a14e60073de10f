//! The operator's own identity in the workload clusters: with `spec.credentials.roleArn` and
//! `awsAuth.manage: true`, the clusters are created through the role, so EKS maps the role (not the operator's
//! base identity) as the creator. The operator signs its workload tokens as that role and the generated
//! kubeconfig Secret carries `--role-arn`; a token of the base identity gets 401 from the workload server
//! (which authenticates like EKS), as it would on EKS.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::time::Duration;

use eks_e2e::{kubectl_apply_text, repo_root};
use operator_support::{
    Operator, REGIONS, SEED, eventually, generated_kubeconfig, wait_ready, workload_kubectl, world,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/eks-operator/cloudlad-admin";

#[tokio::test(flavor = "multi_thread")]
async fn with_a_role_arn_the_operator_reaches_the_workload_clusters_as_the_role_that_created_them() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.local_aws, &w.log);
    let seed = std::fs::read_to_string(repo_root().join(SEED)).unwrap().replace(
        "  awsAuth:\n",
        &format!("  credentials:\n    roleArn: \"{ROLE}\"\n  awsAuth:\n    manage: true\n"),
    );
    let (ok, out, err) = kubectl_apply_text(config, &seed);
    assert!(ok, "{out}{err}");
    wait_ready(config, &w.log);

    for region in REGIONS {
        let generated = generated_kubeconfig(&w, region);
        let text = std::fs::read_to_string(&generated).unwrap();
        assert!(text.contains("--role-arn"), "{text}");
        // The operator wrote aws-auth into the cluster (only the role can: it is the creator).
        eventually(
            &format!("aws-auth with ops-admin in {region}"),
            Duration::from_secs(60),
            || async {
                let (ok, roles, _) = workload_kubectl(
                    &w.local_aws,
                    &generated,
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
                ok && roles.contains("role/ops-admin")
            },
        )
        .await;
        let (ok, managers, err) = workload_kubectl(
            &w.local_aws,
            &generated,
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
        assert!(ok, "{err}");
        assert!(managers.split(' ').any(|m| m == "eks-operator"), "{managers}");

        // The same kubeconfig without `--role-arn`: the base identity is not mapped, 401.
        let base_only = w.config.with_file_name(format!("{region}-base.kubeconfig"));
        let mut parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let args = parsed["users"][0]["user"]["exec"]["args"].as_array_mut().unwrap();
        let at = args.iter().position(|a| a == "--role-arn").unwrap();
        assert_eq!(args[at + 1], ROLE);
        args.drain(at..at + 2);
        std::fs::write(&base_only, serde_json::to_string(&parsed).unwrap()).unwrap();
        let (ok, _, err) = workload_kubectl(&w.local_aws, &base_only, &["get", "namespaces"]);
        assert!(!ok, "the base identity reached the cluster");
        assert!(
            err.contains("Unauthorized") || err.contains("provide credentials"),
            "{err}"
        );
    }
}
