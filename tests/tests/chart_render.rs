//! The Helm chart `charts/eks-operator` rendered and linted: `helm lint --strict`, its CRD copy, its version,
//! and the objects `helm template` renders with several value sets, checked for structure and intent (security
//! context, probes, arguments, the metrics Service, optional objects, the values schema, the NOTES). There is
//! no API server here, so the checks a `kubectl apply --dry-run` would make are made on the parsed documents.

mod chart_support;

use std::collections::BTreeSet;
use std::process::Command;

use chart_support::{
    NAMESPACE, RELEASE, all_of, args, chart_dir, container, env, helm, kind, labels_contain, name, one,
    parse_documents, render, set_args,
};
use serde_json::Value;

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
        "--progress-period=20s",
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
        "progressPeriod=45s",
        "maxConcurrentReconciles=3",
    ]));
    for expected in [
        "--namespace=team-a",
        "--selector=shard=a",
        "--log-level=eks_controller=debug",
        "--log-format=text",
        "--drift-period=5m",
        "--progress-period=45s",
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
            "progressPeriod=250ms",
            "maxConcurrentReconciles=32",
            "http.port=9090",
            "logLevel=eks_controller=debug",
        ],
        &["driftPeriod=010m", "progressPeriod=1h"],
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
        // The operator refuses a zero period (it would requeue without pause): the schema must too, or the
        // release installs and the pod crash-loops.
        "driftPeriod=0s",
        "driftPeriod=0",
        "driftPeriod=000ms",
        "progressPeriod=0s",
        "progressPeriod=0m",
        "progressPeriod=20 s",
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
