//! The Helm chart `charts/eks-operator`: `helm lint --strict`, its CRD copy, and the objects `helm template`
//! renders with several value sets, checked for structure and intent (security context, probes, arguments,
//! RBAC, optional objects). There is no API server here, so the checks a `kubectl apply --dry-run` would make
//! are made on the parsed documents.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const RELEASE: &str = "eks-operator";
const NAMESPACE: &str = "eks-operator";

fn chart_dir() -> PathBuf {
    eks_e2e::repo_root().join("charts/eks-operator")
}

/// Runs helm from the repository root.
fn helm(args: &[&str]) -> Output {
    Command::new(eks_e2e::tool("helm", "HELM"))
        .args(args)
        .current_dir(eks_e2e::repo_root())
        .output()
        .unwrap_or_else(|e| panic!("running helm {}: {e}", args.join(" ")))
}

fn set_args<'a>(sets: &[&'a str]) -> Vec<&'a str> {
    sets.iter().flat_map(|s| ["--set", *s]).collect()
}

/// `helm template` with `--set` values; panics with helm's output when it fails.
fn template_text(sets: &[&str]) -> String {
    let mut args = vec![
        "template",
        RELEASE,
        "charts/eks-operator",
        "--namespace",
        NAMESPACE,
    ];
    args.extend(set_args(sets));
    let output = helm(&args);
    assert!(
        output.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("helm prints UTF-8")
}

/// Every rendered document, parsed.
fn render(sets: &[&str]) -> Vec<Value> {
    parse_documents(&template_text(sets))
}

fn parse_documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

fn all_of<'a>(docs: &'a [Value], wanted: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| kind(d) == wanted).collect()
}

/// The single object of a kind; panics when there is none or more than one.
fn one<'a>(docs: &'a [Value], wanted: &str) -> &'a Value {
    let found = all_of(docs, wanted);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {wanted}, found {}",
        found.len()
    );
    found[0]
}

fn container(docs: &[Value]) -> &Value {
    let containers = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers is a list");
    assert_eq!(containers.len(), 1, "the operator runs as a single container");
    &containers[0]
}

fn args(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .expect("args is a list")
        .iter()
        .map(|a| a.as_str().expect("every argument is a string").to_owned())
        .collect()
}

fn env<'a>(docs: &'a [Value], var: &str) -> Option<&'a Value> {
    container(docs)["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == var)
}

/// Whether every label of `subset` is in `labels` with the same value.
fn labels_contain(labels: &Value, subset: &Value) -> bool {
    let (Some(labels), Some(subset)) = (labels.as_object(), subset.as_object()) else {
        return false;
    };
    !subset.is_empty() && subset.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// RBAC rules flattened to `(apiGroup, resource, verb, resourceName or "")`, so that two sets compare exactly.
fn flat_rules(role: &Value) -> BTreeSet<(String, String, String, String)> {
    let mut flat = BTreeSet::new();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for rule in role["rules"].as_array().expect("rules is a list") {
        let names = strings(&rule["resourceNames"]);
        let names = if names.is_empty() {
            vec![String::new()]
        } else {
            names
        };
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    for resource_name in &names {
                        flat.insert((
                            group.clone(),
                            resource.clone(),
                            verb.clone(),
                            resource_name.clone(),
                        ));
                    }
                }
            }
        }
    }
    flat
}

fn rules(list: &[(&str, &str, &[&str])]) -> BTreeSet<(String, String, String, String)> {
    list.iter()
        .flat_map(|(group, resource, verbs)| {
            verbs.iter().map(move |verb| {
                (
                    group.to_string(),
                    resource.to_string(),
                    verb.to_string(),
                    String::new(),
                )
            })
        })
        .collect()
}

/// What the controller does on namespaced resources (see templates/_rbac.tpl for the reason of each).
fn namespaced_rules() -> BTreeSet<(String, String, String, String)> {
    rules(&[
        (
            "eksoperator.io",
            "eksclusters",
            &["get", "list", "watch", "patch", "update"],
        ),
        ("eksoperator.io", "eksclusters/status", &["patch", "update"]),
        ("eksoperator.io", "eksclusters/finalizers", &["update"]),
        (
            "",
            "configmaps",
            &["get", "list", "watch", "create", "update", "patch", "delete"],
        ),
        (
            "",
            "secrets",
            &["get", "list", "watch", "create", "update", "patch", "delete"],
        ),
        ("", "events", &["create", "patch"]),
        ("events.k8s.io", "events", &["create", "patch"]),
    ])
}

fn crd_rules() -> BTreeSet<(String, String, String, String)> {
    rules(&[(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["get", "list"],
    )])
}

#[test]
fn lint_strict_passes_with_default_and_other_values() {
    let value_sets: &[&[&str]] = &[
        &[],
        &["replicaCount=3"],
        &["watch.namespace=team-a", "watch.selector=shard=a"],
        &["metrics.serviceMonitor.enabled=true", "aws.region=eu-west-1"],
        &[
            "serviceAccount.create=false",
            "serviceAccount.name=existing",
            "rbac.create=false",
        ],
    ];
    for sets in value_sets {
        let mut args = vec![
            "lint",
            "--strict",
            "charts/eks-operator",
            "--namespace",
            NAMESPACE,
        ];
        args.extend(set_args(sets));
        let output = helm(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("0 chart(s) failed"),
            "helm {} failed:\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn chart_crd_is_the_generated_crd() {
    let root = eks_e2e::repo_root();
    let generated =
        std::fs::read(root.join("deploy/crds/eksclusters.eksoperator.io.yaml")).expect("deploy CRD");
    let in_chart =
        std::fs::read(chart_dir().join("crds/eksclusters.eksoperator.io.yaml")).expect("chart CRD");
    assert!(
        generated == in_chart,
        "charts/eks-operator/crds/eksclusters.eksoperator.io.yaml differs from deploy/crds/: \
         cp deploy/crds/eksclusters.eksoperator.io.yaml charts/eks-operator/crds/"
    );
    let crd_files = std::fs::read_dir(chart_dir().join("crds"))
        .expect("crds/")
        .count();
    assert_eq!(crd_files, 1, "the chart's crds/ holds only the EksCluster CRD");
}

#[test]
fn include_crds_renders_the_crd_once() {
    let output = helm(&[
        "template",
        RELEASE,
        "charts/eks-operator",
        "--namespace",
        NAMESPACE,
        "--include-crds",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docs = parse_documents(&String::from_utf8_lossy(&output.stdout));
    let crd = one(&docs, "CustomResourceDefinition");
    let file =
        std::fs::read_to_string(eks_e2e::repo_root().join("deploy/crds/eksclusters.eksoperator.io.yaml"))
            .expect("deploy CRD");
    let expected: Value = serde_saphyr::from_str(&file).expect("the CRD parses");
    assert_eq!(crd, &expected);
}

#[test]
fn chart_app_version_is_the_workspace_version() {
    let text = std::fs::read_to_string(chart_dir().join("Chart.yaml")).expect("Chart.yaml");
    let chart: Value = serde_saphyr::from_str(&text).expect("Chart.yaml parses");
    assert_eq!(chart["apiVersion"], "v2");
    assert_eq!(chart["name"], "eks-operator");
    let cargo = std::fs::read_to_string(eks_e2e::repo_root().join("Cargo.toml")).expect("Cargo.toml");
    let workspace_version = cargo
        .split("[workspace.package]")
        .nth(1)
        .and_then(|section| section.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim().trim_matches('"'))
        .expect("[workspace.package] version");
    assert_eq!(
        chart["appVersion"], workspace_version,
        "Chart.yaml appVersion must be the operator's version, the image tag it installs by default"
    );
}

#[test]
fn default_values_render_the_expected_objects() {
    let docs = render(&[]);
    let objects: BTreeSet<(&str, &str)> = docs.iter().map(|d| (kind(d), name(d))).collect();
    let expected = BTreeSet::from([
        ("ClusterRole", "eks-operator"),
        ("ClusterRoleBinding", "eks-operator"),
        ("Deployment", "eks-operator"),
        ("Service", "eks-operator-metrics"),
        ("ServiceAccount", "eks-operator"),
    ]);
    assert_eq!(objects, expected);
    assert_eq!(docs.len(), expected.len(), "no object is rendered twice");

    let cluster_scoped = ["ClusterRole", "ClusterRoleBinding"];
    for doc in &docs {
        let what = format!("{} {}", kind(doc), name(doc));
        assert!(
            doc["apiVersion"].as_str().is_some_and(|v| !v.is_empty()),
            "{what}: apiVersion"
        );
        let dns_label = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        assert!(dns_label(name(doc)), "{what}: the name is not a DNS label");
        let namespace = doc["metadata"]["namespace"].as_str();
        if cluster_scoped.contains(&kind(doc)) {
            assert_eq!(namespace, None, "{what} is cluster-scoped");
        } else {
            assert_eq!(namespace, Some(NAMESPACE), "{what}: namespace");
        }
        let labels = &doc["metadata"]["labels"];
        for label in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ] {
            assert!(
                labels[label].as_str().is_some_and(|v| !v.is_empty()),
                "{what}: label {label}"
            );
        }
    }
}

#[test]
fn deployment_runs_non_root_read_only_without_capabilities() {
    let docs = render(&[]);
    let pod = &one(&docs, "Deployment")["spec"]["template"]["spec"];
    let pod_security = &pod["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_eq!(pod_security["runAsUser"], 65532);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");

    let container = container(&docs);
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert!(
        security["capabilities"].get("add").is_none(),
        "no capability is added back"
    );
    assert_ne!(security["privileged"], true);
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert!(pod.get("hostNetwork").is_none() && pod.get("hostPID").is_none());

    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                container["resources"][bound][resource]
                    .as_str()
                    .is_some_and(|v| !v.is_empty()),
                "resources.{bound}.{resource} is set"
            );
        }
    }
    assert_eq!(container["image"], "ghcr.io/eks-operator/eks-operator:0.1.0");
    assert_eq!(pod["serviceAccountName"], name(one(&docs, "ServiceAccount")));
}

#[test]
fn probes_use_the_health_endpoints_on_the_http_port() {
    let docs = render(&[]);
    let container = container(&docs);
    let http_port = container["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|p| p["name"] == "http"))
        .expect("a port named http");
    assert_eq!(http_port["containerPort"], 8080);
    assert!(
        args(&docs).contains(&"--http-addr=0.0.0.0:8080".to_owned()),
        "the operator listens on that port"
    );

    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "http");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "http");

    // The port follows http.port everywhere.
    let moved = render(&["http.port=9090"]);
    assert_eq!(container_port(&moved), 9090);
    assert!(args(&moved).contains(&"--http-addr=0.0.0.0:9090".to_owned()));
}

fn container_port(docs: &[Value]) -> &Value {
    &container(docs)["ports"][0]["containerPort"]
}

#[test]
fn metrics_service_selects_the_operator_pods() {
    let docs = render(&[]);
    let deployment = one(&docs, "Deployment");
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert!(labels_contain(
        pod_labels,
        &deployment["spec"]["selector"]["matchLabels"]
    ));
    let service = one(&docs, "Service");
    assert!(
        labels_contain(pod_labels, &service["spec"]["selector"]),
        "the Service selects the pods"
    );
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["name"], "http-metrics");
    assert_eq!(port["targetPort"], "http");
}

#[test]
fn pod_namespace_and_name_come_from_the_downward_api() {
    let docs = render(&[]);
    let namespace = env(&docs, "POD_NAMESPACE").expect("POD_NAMESPACE is set");
    assert_eq!(
        namespace["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    let pod_name = env(&docs, "POD_NAME").expect("POD_NAME is set");
    assert_eq!(pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
    assert!(
        env(&docs, "AWS_REGION").is_none(),
        "no region by default: the SDK's own default applies"
    );

    let with_region = render(&[
        "aws.region=eu-west-1",
        "extraEnv[0].name=AWS_STS_REGIONAL_ENDPOINTS",
        "extraEnv[0].value=regional",
    ]);
    assert_eq!(
        env(&with_region, "AWS_REGION").expect("AWS_REGION")["value"],
        "eu-west-1"
    );
    assert_eq!(
        env(&with_region, "AWS_STS_REGIONAL_ENDPOINTS").expect("extraEnv")["value"],
        "regional"
    );
}

#[test]
fn arguments_follow_the_values() {
    let defaults = args(&render(&[]));
    assert_eq!(defaults[0], "run", "the first argument is the subcommand");
    for expected in [
        "--log-level=info",
        "--log-format=json",
        "--drift-period=10m",
        "--max-concurrent-reconciles=8",
        "--http-addr=0.0.0.0:8080",
    ] {
        assert!(
            defaults.contains(&expected.to_owned()),
            "{expected} in {defaults:?}"
        );
    }
    for absent in ["--namespace", "--selector", "--leader-election", "--lease-name"] {
        assert!(
            !defaults.iter().any(|a| a.starts_with(absent)),
            "{absent} not in {defaults:?}"
        );
    }

    let custom = args(&render(&[
        "watch.namespace=team-a",
        "watch.selector=shard=a",
        "logLevel=eks_controller=debug",
        "logFormat=text",
        "driftPeriod=5m",
        "maxConcurrentReconciles=3",
    ]));
    for expected in [
        "--namespace=team-a",
        "--selector=shard=a",
        "--log-level=eks_controller=debug",
        "--log-format=text",
        "--drift-period=5m",
        "--max-concurrent-reconciles=3",
    ] {
        assert!(custom.contains(&expected.to_owned()), "{expected} in {custom:?}");
    }
}

#[test]
fn the_operator_accepts_the_rendered_arguments() {
    // clap checks every flag and value before it acts on --help, so this runs nothing but the parser.
    let operator = eks_e2e::workspace_binary("eks-operator", "eks-operator");
    let value_sets: &[&[&str]] = &[
        &[],
        &[
            "replicaCount=2",
            "watch.namespace=team-a",
            "watch.selector=shard=a",
            "logFormat=text",
        ],
        &[
            "driftPeriod=90s",
            "maxConcurrentReconciles=32",
            "http.port=9090",
            "logLevel=eks_controller=debug",
        ],
    ];
    for sets in value_sets {
        let rendered = args(&render(sets));
        let output = Command::new(&operator)
            .args(&rendered)
            .arg("--help")
            .output()
            .expect("running eks-operator");
        assert!(
            output.status.success(),
            "eks-operator refuses the Deployment's arguments {rendered:?}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn leader_election_is_on_exactly_when_more_than_one_replica_or_asked() {
    let single = render(&[]);
    assert!(!args(&single).contains(&"--leader-election".to_owned()));
    assert!(
        all_of(&single, "PodDisruptionBudget").is_empty(),
        "a PDB on one replica would block drains"
    );
    assert!(
        all_of(&single, "Role").is_empty(),
        "no Lease rights without leader election"
    );
    assert_eq!(one(&single, "Deployment")["spec"]["strategy"]["type"], "Recreate");

    let replicated = render(&["replicaCount=2"]);
    let replicated_args = args(&replicated);
    assert!(
        replicated_args.contains(&"--leader-election".to_owned()),
        "{replicated_args:?}"
    );
    assert!(
        replicated_args.contains(&"--lease-name=eks-operator".to_owned()),
        "{replicated_args:?}"
    );
    let deployment = one(&replicated, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    let pdb = one(&replicated, "PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(labels_contain(
        &deployment["spec"]["template"]["metadata"]["labels"],
        &pdb["spec"]["selector"]["matchLabels"]
    ));
    assert_lease_role(&replicated, "eks-operator");

    let forced = render(&["leaderElection.enabled=true", "leaderElection.leaseName=shard-a"]);
    assert!(args(&forced).contains(&"--leader-election".to_owned()));
    assert!(args(&forced).contains(&"--lease-name=shard-a".to_owned()));
    assert!(all_of(&forced, "PodDisruptionBudget").is_empty());
    assert_lease_role(&forced, "shard-a");
}

/// The Lease Role: in the release namespace, create plus get/update/patch of this one Lease, bound to the
/// operator's ServiceAccount.
fn assert_lease_role(docs: &[Value], lease: &str) {
    let role = one(docs, "Role");
    assert_eq!(role["metadata"]["namespace"], NAMESPACE);
    let mut expected = rules(&[("coordination.k8s.io", "leases", &["create"])]);
    for verb in ["get", "update", "patch"] {
        expected.insert((
            "coordination.k8s.io".into(),
            "leases".into(),
            verb.into(),
            lease.into(),
        ));
    }
    assert_eq!(flat_rules(role), expected);
    let binding = one(docs, "RoleBinding");
    assert_eq!(binding["metadata"]["namespace"], NAMESPACE);
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_binds_service_account(binding);
}

fn assert_binds_service_account(binding: &Value) {
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{"kind": "ServiceAccount", "name": "eks-operator", "namespace": NAMESPACE}])
    );
}

#[test]
fn cluster_role_holds_exactly_what_the_controller_uses() {
    let docs = render(&[]);
    let cluster_role = one(&docs, "ClusterRole");
    let expected: BTreeSet<_> = crd_rules().union(&namespaced_rules()).cloned().collect();
    assert_eq!(flat_rules(cluster_role), expected);
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(binding["roleRef"]["name"], name(cluster_role));
    assert_binds_service_account(binding);
}

#[test]
fn watching_one_namespace_grants_namespaced_rights_there_only() {
    let docs = render(&["watch.namespace=team-a"]);
    // Only the CRD check stays cluster-wide: CRDs are cluster-scoped.
    assert_eq!(flat_rules(one(&docs, "ClusterRole")), crd_rules());
    let role = one(&docs, "Role");
    assert_eq!(role["metadata"]["namespace"], "team-a");
    assert_eq!(flat_rules(role), namespaced_rules());
    let binding = one(&docs, "RoleBinding");
    assert_eq!(binding["metadata"]["namespace"], "team-a");
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_binds_service_account(binding);
}

#[test]
fn no_rbac_rule_uses_a_wildcard() {
    for sets in [&[][..], &["replicaCount=2", "watch.namespace=team-a"][..]] {
        for doc in render(sets)
            .iter()
            .filter(|d| matches!(kind(d), "ClusterRole" | "Role"))
        {
            for (group, resource, verb, _) in flat_rules(doc) {
                assert!(
                    ![&group, &resource, &verb].iter().any(|s| s.contains('*')),
                    "wildcard in {}",
                    name(doc)
                );
            }
        }
    }
}

#[test]
fn every_rbac_rule_has_a_comment_in_the_template_source() {
    let templates = chart_dir().join("templates");
    let mut rules_seen = 0;
    for entry in std::fs::read_dir(&templates).expect("templates/") {
        let path = entry.expect("a template").path();
        let text = std::fs::read_to_string(&path).expect("a readable template");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("- apiGroups:") {
                continue;
            }
            rules_seen += 1;
            let previous = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim_start());
            assert!(
                previous.is_some_and(|l| l.starts_with('#')),
                "{}:{}: an RBAC rule without a comment saying what the controller does with it",
                path.display(),
                i + 1
            );
        }
    }
    // CRDs, eksclusters, status, finalizers, configmaps+secrets, two event groups, two lease rules.
    assert_eq!(rules_seen, 9, "RBAC rules found in the templates");
}

#[test]
fn service_monitor_only_when_enabled() {
    assert!(all_of(&render(&[]), "ServiceMonitor").is_empty());
    let docs = render(&[
        "metrics.serviceMonitor.enabled=true",
        "metrics.serviceMonitor.labels.release=prometheus",
    ]);
    let monitor = one(&docs, "ServiceMonitor");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    let service = one(&docs, "Service");
    assert!(labels_contain(
        &service["metadata"]["labels"],
        &monitor["spec"]["selector"]["matchLabels"]
    ));
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"],
        serde_json::json!([NAMESPACE])
    );
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], service["spec"]["ports"][0]["name"]);
    assert_eq!(endpoint["path"], "/metrics");
}

#[test]
fn service_account_carries_the_irsa_annotation_or_is_brought_by_the_user() {
    let role = "arn:aws:iam::123456789012:role/eks-operator";
    let docs = render(&[&format!(
        "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn={role}"
    )]);
    assert_eq!(
        one(&docs, "ServiceAccount")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        role
    );

    let docs = render(&["serviceAccount.create=false", "serviceAccount.name=existing"]);
    assert!(all_of(&docs, "ServiceAccount").is_empty());
    assert_eq!(
        one(&docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"],
        "existing"
    );
    assert_eq!(
        one(&docs, "ClusterRoleBinding")["subjects"][0]["name"],
        "existing"
    );

    let docs = render(&["rbac.create=false"]);
    assert!(
        docs.iter().all(|d| !kind(d).contains("Role")),
        "no RBAC objects when rbac.create=false"
    );
}

#[test]
fn values_schema_refuses_wrong_values() {
    for bad in [
        "logFormat=yaml",
        "driftPeriod=10min",
        "maxConcurrentReconciles=0",
        "image.pullPolicy=Sometimes",
        // A misspelt key fails instead of being ignored.
        "replicas=2",
    ] {
        let output = helm(&["template", RELEASE, "charts/eks-operator", "--set", bad]);
        assert!(!output.status.success(), "--set {bad} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("schema"), "--set {bad}: {stderr}");
    }
}

#[test]
fn notes_tell_how_to_apply_an_example_and_watch_it() {
    let output = helm(&[
        "install",
        RELEASE,
        "charts/eks-operator",
        "--namespace",
        NAMESPACE,
        "--dry-run=client",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let notes = stdout.split("NOTES:").nth(1).expect("helm prints the NOTES");
    assert!(notes.contains("kubectl apply -f deploy/examples/"), "{notes}");
    assert!(notes.contains("kubectl get eksc -w"), "{notes}");
    assert!(
        notes.contains("rollout status deployment/eks-operator"),
        "{notes}"
    );
}

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
