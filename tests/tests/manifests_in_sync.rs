//! The files under `deploy/` that come from somewhere else stay in step with it: the plain manifests with the
//! Helm chart they are rendered from, the kustomization with the files it lists, and the GitOps examples with
//! the chart, the CRD and the Argo CD health check they document.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RENDER_SCRIPT: &str = "scripts/render-manifests.sh";

/// A fresh directory under cargo's scratch space for integration tests.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn parse_documents(text: &str, what: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{what} does not parse: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

/// The first line where two texts differ, to point at the stale part.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut expected_lines, mut actual_lines) = (expected.lines(), actual.lines());
    for number in 1.. {
        match (expected_lines.next(), actual_lines.next()) {
            (None, None) => break,
            (e, a) if e != a => {
                return format!("line {number}: committed {a:?}, rendered {e:?}");
            }
            _ => {}
        }
    }
    "same lines, different line endings".into()
}

#[test]
fn rendered_manifests_match_the_chart() {
    let root = eks_e2e::repo_root();
    let helm = eks_e2e::tool("helm", "HELM");
    let out = scratch_dir("render-manifests");
    let output = Command::new("bash")
        .arg(root.join(RENDER_SCRIPT))
        .arg(&out)
        .env("HELM", &helm)
        .output()
        .expect("running scripts/render-manifests.sh");
    assert!(
        output.status.success(),
        "{RENDER_SCRIPT} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in ["manifests/eks-operator.yaml", "kustomization.yaml"] {
        let rendered = read(&out.join(file));
        let committed = read(&root.join("deploy").join(file));
        assert!(
            rendered == committed,
            "deploy/{file} is stale ({}): run {RENDER_SCRIPT} and commit the result",
            first_difference(&rendered, &committed)
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn manifests_hold_the_namespace_first_and_no_crd() {
    let text = read(&eks_e2e::repo_root().join("deploy/manifests/eks-operator.yaml"));
    let docs = parse_documents(&text, "deploy/manifests/eks-operator.yaml");
    assert_eq!(
        kind(&docs[0]),
        "Namespace",
        "the Namespace comes first so that a plain -f creates it first"
    );
    assert_eq!(docs[0]["metadata"]["name"], "eks-operator");
    assert!(
        docs.iter().all(|d| kind(d) != "CustomResourceDefinition"),
        "the CRD lives in deploy/crds/ only; kustomize refuses it twice"
    );
    for doc in &docs[1..] {
        let cluster_scoped = matches!(kind(doc), "ClusterRole" | "ClusterRoleBinding");
        assert_eq!(
            doc["metadata"]["namespace"].as_str(),
            (!cluster_scoped).then_some("eks-operator"),
            "{} {}",
            kind(doc),
            doc["metadata"]["name"]
        );
    }
}

#[test]
fn kustomization_builds_the_crd_and_the_operator() {
    let root = eks_e2e::repo_root();
    let kustomization: Value =
        serde_saphyr::from_str(&read(&root.join("deploy/kustomization.yaml"))).expect("kustomization parses");
    assert_eq!(
        kustomization["resources"],
        serde_json::json!([
            "crds/eksclusters.eksoperator.io.yaml",
            "manifests/eks-operator.yaml"
        ])
    );

    let output = Command::new(eks_e2e::tool("kubectl", "KUBECTL"))
        .arg("kustomize")
        .arg(root.join("deploy"))
        .output()
        .expect("running kubectl kustomize");
    assert!(
        output.status.success(),
        "kubectl kustomize deploy/ failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docs = parse_documents(
        &String::from_utf8_lossy(&output.stdout),
        "kubectl kustomize deploy/",
    );
    let mut kinds: Vec<&str> = docs.iter().map(kind).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
            "Deployment",
            "Namespace",
            "Service",
            "ServiceAccount"
        ]
    );
    let crd = docs
        .iter()
        .find(|d| kind(d) == "CustomResourceDefinition")
        .expect("the CRD");
    assert_eq!(crd["metadata"]["name"], "eksclusters.eksoperator.io");
}

/// Every YAML document under `deploy/gitops/`, with the file it came from.
fn gitops_documents() -> Vec<(PathBuf, Value)> {
    fn walk(dir: &Path, found: &mut Vec<(PathBuf, Value)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                for doc in parse_documents(&read(&path), &path.display().to_string()) {
                    found.push((path.clone(), doc));
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&eks_e2e::repo_root().join("deploy/gitops"), &mut found);
    found
}

fn gitops_object<'a>(docs: &'a [(PathBuf, Value)], wanted_kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .map(|(_, doc)| doc)
        .find(|doc| kind(doc) == wanted_kind && doc["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {wanted_kind} {name} under deploy/gitops"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn gitops_examples_install_this_chart() {
    let root = eks_e2e::repo_root();
    let docs = gitops_documents();
    let chart: Value =
        serde_saphyr::from_str(&read(&root.join("charts/eks-operator/Chart.yaml"))).expect("Chart.yaml");
    let release_tag = format!("v{}", chart["appVersion"].as_str().expect("appVersion"));

    let argo = gitops_object(&docs, "Application", "eks-operator");
    assert_eq!(argo["spec"]["source"]["path"], "charts/eks-operator");
    assert_eq!(argo["spec"]["source"]["targetRevision"], release_tag.as_str());
    let sync_options = strings(&argo["spec"]["syncPolicy"]["syncOptions"]);
    for option in ["ServerSideApply=true", "CreateNamespace=true"] {
        assert!(sync_options.contains(&option), "{option} in {sync_options:?}");
    }

    let source = gitops_object(&docs, "GitRepository", "eks-operator");
    assert_eq!(source["spec"]["ref"]["tag"], release_tag.as_str());
    let release = gitops_object(&docs, "HelmRelease", "eks-operator");
    let chart_spec = &release["spec"]["chart"]["spec"];
    assert_eq!(chart_spec["chart"], "./charts/eks-operator");
    assert_eq!(chart_spec["sourceRef"]["kind"], "GitRepository");
    assert_eq!(chart_spec["sourceRef"]["name"], "eks-operator");

    // The values both examples pass are values the chart has.
    let chart_values: Value =
        serde_saphyr::from_str(&read(&root.join("charts/eks-operator/values.yaml"))).expect("values.yaml");
    for values in [
        &argo["spec"]["source"]["helm"]["valuesObject"],
        &release["spec"]["values"],
    ] {
        for key in values.as_object().expect("values is a map").keys() {
            assert!(
                chart_values.get(key).is_some(),
                "{key} is not a value of the chart"
            );
        }
    }
}

#[test]
fn gitops_cluster_objects_are_valid_and_health_checked() {
    let docs = gitops_documents();
    let example_repo = eks_e2e::repo_root().join("deploy/gitops/example-repo");
    let mut prod = Vec::new();
    for (path, doc) in docs.iter().filter(|(_, d)| kind(d) == "EksCluster") {
        assert!(
            path.starts_with(&example_repo),
            "{}: EksCluster objects belong in example-repo/",
            path.display()
        );
        let text = read(path);
        let objects =
            eks_api::parse::parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for object in &objects {
            if let Err(e) = eks_api::validate(object) {
                panic!("{}: {e:?}", path.display());
            }
        }
        // The directory of a cluster set is named after its regions (eu-west-1-2 for eu-west-1 and eu-west-2).
        let regions = strings(&doc["spec"]["regions"]);
        let directory = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            regions.first().is_some_and(|first| directory.starts_with(first)),
            "{} in {directory}",
            regions.join(",")
        );
        if path.starts_with(example_repo.join("clusters/prod")) {
            prod.push((
                doc["metadata"]["namespace"].as_str(),
                doc["metadata"]["name"].as_str(),
            ));
        }
    }
    assert!(
        !prod.is_empty(),
        "example-repo/clusters/prod has EksCluster objects"
    );

    // The Flux Kustomization checks the health of every prod object, and of nothing that does not exist.
    let kustomization = gitops_object(&docs, "Kustomization", "eksclusters-prod");
    assert_eq!(kustomization["spec"]["path"], "./clusters/prod");
    let mut checked: Vec<_> = kustomization["spec"]["healthChecks"]
        .as_array()
        .expect("healthChecks")
        .iter()
        .inspect(|check| {
            assert_eq!(check["apiVersion"], "eksoperator.io/v1alpha1");
            assert_eq!(check["kind"], "EksCluster");
        })
        .map(|check| (check["namespace"].as_str(), check["name"].as_str()))
        .collect();
    checked.sort();
    prod.sort();
    assert_eq!(checked, prod);
    // kstatus alone calls a provisioning EksCluster Current (it has no Reconciling or Stalled condition), so the
    // Kustomization says how to read its Ready and Degraded conditions.
    let exprs = kustomization["spec"]["healthCheckExprs"]
        .as_array()
        .expect("healthCheckExprs");
    let eks = exprs
        .iter()
        .find(|e| e["apiVersion"] == "eksoperator.io/v1alpha1" && e["kind"] == "EksCluster")
        .expect("healthCheckExprs for EksCluster");
    let current = eks["current"].as_str().expect("current");
    let failed = eks["failed"].as_str().expect("failed");
    assert!(
        current.contains("c.type == 'Ready' && c.status == 'True'"),
        "{current}"
    );
    assert!(
        failed.contains("c.type == 'Degraded' && c.status == 'True'"),
        "{failed}"
    );
    assert!(failed.contains("['Failed', 'Invalid']"), "{failed}");

    let argo = gitops_object(&docs, "Application", "eksclusters-prod");
    assert_eq!(argo["spec"]["source"]["path"], "clusters/prod");
    assert_eq!(argo["spec"]["source"]["directory"]["recurse"], true);
}

#[test]
fn argocd_health_snippet_in_the_readme_is_the_lua_file() {
    let gitops = eks_e2e::repo_root().join("deploy/gitops");
    let lua = read(&gitops.join("argocd/health-eksclusters.lua"));
    let readme = read(&gitops.join("README.md"));
    let key = "resource.customizations.health.eksoperator.io_EksCluster: |";
    let after_key = readme
        .split_once(key)
        .map(|(_, rest)| rest)
        .expect("the argocd-cm snippet in the README");
    let snippet: String = after_key
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with("```"))
        .map(|line| format!("{}\n", line.strip_prefix("    ").unwrap_or(line)))
        .collect();
    assert_eq!(
        snippet, lua,
        "the argocd-cm snippet in deploy/gitops/README.md differs from argocd/health-eksclusters.lua"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_apply_k_installs_into_an_api_server() {
    let emulator = kube_emulator::Emulator::start()
        .await
        .expect("starting the emulator");
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let kubeconfig = scratch.path().join("kubeconfig");
    emulator
        .write_kubeconfig(&kubeconfig)
        .expect("writing the kubeconfig");
    let root = eks_e2e::repo_root();
    tokio::task::block_in_place(|| {
        let deploy = root.join("deploy");
        let applied = eks_e2e::kubectl_ok(&kubeconfig, &["apply", "-k", &deploy.to_string_lossy()]);
        for expected in [
            "namespace/eks-operator",
            "customresourcedefinition.apiextensions.k8s.io/eksclusters.eksoperator.io",
            "deployment.apps/eks-operator",
            "clusterrole.rbac.authorization.k8s.io/eks-operator",
        ] {
            assert!(applied.contains(expected), "{expected} not applied:\n{applied}");
        }
        // The example fleet repository, as Argo CD or Flux would apply it once the CRD is there: the API server
        // accepts every object (schema and validation rules of the CRD).
        // kubectl applies files in name order, so the namespaces go first (Argo CD and Flux order by kind).
        let example_repo = root.join("deploy/gitops/example-repo");
        for environment in ["prod", "staging"] {
            let namespace = example_repo
                .join("clusters")
                .join(environment)
                .join("namespace.yaml");
            eks_e2e::kubectl_ok(&kubeconfig, &["apply", "-f", &namespace.to_string_lossy()]);
        }
        let fleet = eks_e2e::kubectl_ok(
            &kubeconfig,
            &["apply", "-R", "-f", &example_repo.to_string_lossy()],
        );
        for expected in [
            "namespace/eks-prod",
            "ekscluster.eksoperator.io/cloudlad",
            "ekscluster.eksoperator.io/payments",
        ] {
            assert!(fleet.contains(expected), "{expected} not applied:\n{fleet}");
        }
        let listed = eks_e2e::kubectl_ok(&kubeconfig, &["get", "eksc", "-A", "-o", "name"]);
        assert_eq!(listed.lines().count(), 3, "{listed}");
    });
    emulator.shutdown().await;
}
