//! The Helm chart `charts/eks-operator` installed for real: `helm install` into the in-process Kubernetes API
//! server emulator creates the chart's objects and its CRD (which then serves the example EksCluster), and
//! `helm uninstall` removes the release's objects but leaves the CRD.

mod chart_support;

use std::process::Command;

use chart_support::{NAMESPACE, RELEASE};

/// Runs helm or kubectl against the emulator's kubeconfig, with Helm's cache and config in the scratch
/// directory; panics with the output when the command fails.
fn run_against(program: &std::path::Path, kubeconfig: &std::path::Path, args: &[&str]) -> String {
    let scratch = kubeconfig.parent().expect("the kubeconfig is in a directory");
    let output = Command::new(program)
        .args(args)
        .current_dir(eks_e2e::repo_root())
        .env("KUBECONFIG", kubeconfig)
        .env("HELM_CACHE_HOME", scratch.join("helm-cache"))
        .env("HELM_CONFIG_HOME", scratch.join("helm-config"))
        .env("HELM_DATA_HOME", scratch.join("helm-data"))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {} failed:\n{}{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_install_into_the_emulator_creates_the_objects() {
    let emulator = kube_emulator::Emulator::start()
        .await
        .expect("starting the emulator");
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let kubeconfig = scratch.path().join("kubeconfig");
    emulator
        .write_kubeconfig(&kubeconfig)
        .expect("writing the kubeconfig");
    let helm = eks_e2e::tool("helm", "HELM");
    let kubectl = eks_e2e::tool("kubectl", "KUBECTL");

    tokio::task::block_in_place(|| {
        let ns = ["--namespace", NAMESPACE];
        run_against(
            &helm,
            &kubeconfig,
            &[
                &[
                    "install",
                    RELEASE,
                    "charts/eks-operator",
                    "--create-namespace",
                    "--set",
                    "replicaCount=2",
                ],
                &ns[..],
            ]
            .concat(),
        );
        let names = run_against(
            &kubectl,
            &kubeconfig,
            &[
                &[
                    "get",
                    "serviceaccounts,services,deployments,roles,rolebindings,poddisruptionbudgets",
                    "-o",
                    "name",
                ],
                &ns[..],
            ]
            .concat(),
        );
        for expected in [
            "serviceaccount/eks-operator",
            "service/eks-operator-metrics",
            "deployment.apps/eks-operator",
            "role.rbac.authorization.k8s.io/eks-operator-leader-election",
            "rolebinding.rbac.authorization.k8s.io/eks-operator-leader-election",
            "poddisruptionbudget.policy/eks-operator",
        ] {
            assert!(
                names.lines().any(|l| l == expected),
                "{expected} missing:\n{names}"
            );
        }
        let cluster_wide = run_against(
            &kubectl,
            &kubeconfig,
            &[
                "get",
                "clusterroles,clusterrolebindings,customresourcedefinitions",
                "-o",
                "name",
            ],
        );
        for expected in [
            "clusterrole.rbac.authorization.k8s.io/eks-operator",
            "clusterrolebinding.rbac.authorization.k8s.io/eks-operator",
            "customresourcedefinition.apiextensions.k8s.io/eksclusters.eksoperator.io",
        ] {
            assert!(
                cluster_wide.lines().any(|l| l == expected),
                "{expected} missing:\n{cluster_wide}"
            );
        }
        let args = run_against(
            &kubectl,
            &kubeconfig,
            &[
                &[
                    "get",
                    "deployment",
                    "eks-operator",
                    "-o",
                    "jsonpath={.spec.template.spec.containers[0].args}",
                ],
                &ns[..],
            ]
            .concat(),
        );
        assert!(args.contains("--leader-election"), "{args}");

        // The CRD Helm installed from crds/ serves EksCluster objects: the NOTES' first steps work.
        run_against(
            &kubectl,
            &kubeconfig,
            &["apply", "-f", "deploy/examples/minimal-single-region.yaml"],
        );
        let listed = run_against(&kubectl, &kubeconfig, &["get", "eksc", "-o", "name"]);
        assert_eq!(listed.trim(), "ekscluster.eksoperator.io/demo");

        // Uninstalling removes the release's objects; Helm leaves the CRD (and so the EksCluster objects) alone.
        run_against(&helm, &kubeconfig, &[&["uninstall", RELEASE], &ns[..]].concat());
        let left = run_against(
            &kubectl,
            &kubeconfig,
            &[&["get", "deployments,services", "-o", "name"], &ns[..]].concat(),
        );
        assert!(left.trim().is_empty(), "left after uninstall:\n{left}");
        let crds = run_against(
            &kubectl,
            &kubeconfig,
            &["get", "customresourcedefinitions", "-o", "name"],
        );
        assert!(crds.contains("eksclusters.eksoperator.io"), "{crds}");
    });
    emulator.shutdown().await;
}
