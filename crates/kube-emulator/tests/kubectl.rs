//! The emulator driven by the machine's real kubectl, as a user would.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod common;

use common::kubectl::{kubectl, ok, started};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/widget-crd.yaml");

fn widget(name: &str, extra: &str) -> String {
    format!("apiVersion: example.io/v1\nkind: Widget\nmetadata: {{name: {name}}}\nspec:\n  size: 3\n{extra}")
}

#[tokio::test(flavor = "multi_thread")]
async fn crd_lifecycle_with_kubectl() {
    let (_emulator, _dir, config) = started().await;
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        ok(config, &["apply", "-f", FIXTURE], None);
        ok(
            config,
            &[
                "wait",
                "--for=condition=Established",
                "crd/widgets.example.io",
                "--timeout=10s",
            ],
            None,
        );
        assert!(ok(config, &["api-resources"], None).contains("widgets"));

        // Client-side and server-side apply; defaults are applied.
        ok(config, &["apply", "-f", "-"], Some(&widget("a", "")));
        ok(
            config,
            &["apply", "--server-side", "-f", "-"],
            Some(&widget("b", "")),
        );
        let yaml = ok(config, &["get", "widget", "a", "-o", "yaml"], None);
        assert!(yaml.contains("color: red"), "{yaml}");
        assert!(yaml.contains("generation: 1"));

        // Short name and printer columns.
        let table = ok(config, &["get", "wd"], None);
        assert!(table.contains("SIZE") && table.contains("AGE"), "{table}");
        assert!(
            table.lines().any(|l| l.starts_with("a ") && l.contains('3')),
            "{table}"
        );

        // Invalid objects are refused with the field named.
        let (success, _, stderr) = kubectl(
            config,
            &["apply", "-f", "-"],
            Some(&widget("c", "").replace("size: 3", "size: 30")),
        );
        assert!(!success);
        assert!(
            stderr.contains("spec.size") && stderr.contains("less than or equal to 10"),
            "{stderr}"
        );
        let (success, _, stderr) = kubectl(
            config,
            &["apply", "-f", "-"],
            Some(&widget("d", "  shape: round\n")),
        );
        assert!(!success);
        assert!(stderr.contains("unknown field \"spec.shape\""), "{stderr}");
        // --validate=false prunes instead.
        ok(
            config,
            &["apply", "--validate=false", "-f", "-"],
            Some(&widget("d", "  shape: round\n")),
        );
        assert!(!ok(config, &["get", "widget", "d", "-o", "jsonpath={.spec}"], None).contains("shape"));

        // Patches and labels.
        ok(
            config,
            &[
                "patch",
                "widget",
                "a",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"size":5}}"#,
            ],
            None,
        );
        ok(
            config,
            &[
                "patch",
                "widget",
                "a",
                "--type",
                "json",
                "-p",
                r#"[{"op":"replace","path":"/spec/color","value":"blue"}]"#,
            ],
            None,
        );
        ok(config, &["label", "widget", "a", "tier=front"], None);
        let yaml = ok(config, &["get", "widget", "a", "-o", "yaml"], None);
        assert!(
            yaml.contains("size: 5") && yaml.contains("color: blue") && yaml.contains("tier: front"),
            "{yaml}"
        );
        assert!(
            yaml.contains("generation: 3"),
            "spec patches bump the generation, labels do not: {yaml}"
        );
        assert_eq!(
            ok(
                config,
                &["get", "widgets", "-l", "tier=front", "-o", "name"],
                None
            )
            .trim(),
            "widget.example.io/a"
        );

        ok(config, &["describe", "widget", "a"], None);
        let (success, _, stderr) = kubectl(config, &["get", "widget", "missing"], None);
        assert!(!success);
        assert!(
            stderr.contains("Error from server (NotFound): widgets.example.io \"missing\" not found"),
            "{stderr}"
        );

        ok(config, &["delete", "widget", "a", "--timeout=10s"], None);
        let (success, _, _) = kubectl(config, &["get", "widget", "a"], None);
        assert!(!success);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn built_in_resources_with_kubectl() {
    let (_emulator, _dir, config) = started().await;
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        // Typed generators (`kubectl create configmap`) send protobuf, which the emulator does not decode (see
        // the README); manifests go through JSON as they do for every apply.
        let manifests = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team-a}\ndata: {a: b}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: team-a}\nstringData: {k: v}\n";
        ok(config, &["apply", "-f", "-"], Some(manifests));
        let listed = ok(
            config,
            &["get", "configmaps,secrets", "-n", "team-a", "-o", "name"],
            None,
        );
        assert!(
            listed.contains("configmap/settings") && listed.contains("secret/creds"),
            "{listed}"
        );
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team-a}\n";
        let (success, _, stderr) = kubectl(config, &["create", "-f", "-"], Some(cm));
        assert!(!success);
        assert!(stderr.contains("AlreadyExists"), "{stderr}");
        let (success, _, stderr) = kubectl(
            config,
            &["apply", "-f", "-"],
            Some(&cm.replace("team-a", "nowhere")),
        );
        assert!(!success);
        assert!(stderr.contains("namespaces \"nowhere\" not found"), "{stderr}");
        // Typed generators that send protobuf: namespaces, service accounts, configmaps, secrets.
        ok(config, &["create", "namespace", "team-b"], None);
        ok(
            config,
            &["create", "serviceaccount", "robot", "-n", "team-b"],
            None,
        );
        ok(
            config,
            &[
                "create",
                "configmap",
                "plain",
                "-n",
                "team-b",
                "--from-literal=k=v",
            ],
            None,
        );
        ok(
            config,
            &[
                "create",
                "secret",
                "generic",
                "hidden",
                "-n",
                "team-b",
                "--from-literal=k=v",
            ],
            None,
        );
        assert_eq!(
            ok(
                config,
                &[
                    "get",
                    "secret",
                    "hidden",
                    "-n",
                    "team-b",
                    "-o",
                    "jsonpath={.data.k}"
                ],
                None
            ),
            "dg=="
        );
        ok(config, &["apply", "-n", "team-b", "-f", "-"], Some(DEPLOYMENT));
        let all = ok(config, &["get", "all", "-n", "team-b", "-o", "name"], None);
        assert_eq!(all.trim(), "deployment.apps/web", "{all}");
        assert_eq!(
            ok(config, &["auth", "can-i", "delete", "secrets"], None).trim(),
            "yes"
        );
        ok(config, &["delete", "namespace", "team-a"], None);
        assert!(!ok(config, &["get", "configmaps", "-A", "-o", "name"], None).contains("settings"));
    });
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: app:1, env: [{name: A, value: '1'}]}
      - {name: side, image: side:1}
";

#[tokio::test(flavor = "multi_thread")]
async fn apply_conflicts_explain_and_crd_deletion_with_kubectl() {
    let (_emulator, _dir, config) = started().await;
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        ok(config, &["apply", "-f", FIXTURE], None);
        let explained = ok(config, &["explain", "widgets.spec"], None);
        assert!(
            explained.contains("What the widget should be") && explained.contains("How many parts"),
            "{explained}"
        );

        // Server-side apply: a field another manager changed is a conflict until forced.
        ok(
            config,
            &["apply", "--server-side", "-f", "-"],
            Some(&widget("s", "")),
        );
        ok(
            config,
            &[
                "patch",
                "widget",
                "s",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"size":4}}"#,
            ],
            None,
        );
        let (success, _, stderr) = kubectl(
            config,
            &["apply", "--server-side", "-f", "-"],
            Some(&widget("s", "")),
        );
        assert!(!success);
        assert!(
            stderr.contains("conflict") && stderr.contains("kubectl-patch") && stderr.contains(".spec.size"),
            "{stderr}"
        );
        ok(
            config,
            &["apply", "--server-side", "--force-conflicts", "-f", "-"],
            Some(&widget("s", "")),
        );
        assert_eq!(
            ok(
                config,
                &["get", "widget", "s", "-o", "jsonpath={.spec.size}"],
                None
            ),
            "3"
        );
        let managed = ok(
            config,
            &["get", "widget", "s", "-o", "yaml", "--show-managed-fields"],
            None,
        );
        assert!(
            managed.contains("manager: kubectl") && managed.contains("operation: Apply"),
            "{managed}"
        );

        // Client-side apply of a built-in twice: the strategic merge patch keeps the list items it names.
        ok(config, &["apply", "-f", "-"], Some(DEPLOYMENT));
        ok(
            config,
            &["apply", "-f", "-"],
            Some(
                &DEPLOYMENT
                    .replace("app:1", "app:2")
                    .replace("replicas: 2", "replicas: 3"),
            ),
        );
        let containers = ok(
            config,
            &[
                "get",
                "deploy",
                "web",
                "-o",
                "jsonpath={.spec.template.spec.containers[*].image}",
            ],
            None,
        );
        assert_eq!(containers, "app:2 side:1");
        let generation = ok(
            config,
            &["get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"],
            None,
        );
        assert_eq!(generation, "2");
        let described = ok(config, &["describe", "deployment", "web"], None);
        assert!(described.contains("app:2"), "{described}");
        ok(config, &["delete", "-f", "-"], Some(DEPLOYMENT));

        // Deleting the CRD deletes its objects; the resource is no longer served.
        ok(config, &["delete", "crd", "widgets.example.io"], None);
        let (success, _, stderr) = kubectl(config, &["get", "widgets"], None);
        assert!(!success);
        assert!(
            stderr.contains("the server doesn't have a resource type \"widgets\"")
                || stderr.contains("the server could not find the requested resource"),
            "{stderr}"
        );
    });
}

const EKS_CRD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/crds/eksclusters.eksoperator.io.yaml"
);
const EKS_EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/examples/minimal-single-region.yaml"
);

#[tokio::test(flavor = "multi_thread")]
async fn the_projects_eks_cluster_crd_with_kubectl() {
    assert!(
        Path::new(EKS_CRD).is_file() && Path::new(EKS_EXAMPLE).is_file(),
        "the project's {EKS_CRD} and {EKS_EXAMPLE} must exist"
    );
    let (_emulator, _dir, config) = started().await;
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        ok(config, &["apply", "--server-side", "-f", EKS_CRD], None);
        ok(
            config,
            &[
                "wait",
                "--for=condition=Established",
                "crd/eksclusters.eksoperator.io",
                "--timeout=10s",
            ],
            None,
        );
        ok(config, &["apply", "-f", EKS_EXAMPLE], None);
        let table = ok(config, &["get", "eksc"], None);
        let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAME", "REGIONS", "VERSION", "PHASE", "AGE"], "{table}");
        assert!(
            table.contains("[\"us-east-1\"]") && table.contains("1.31"),
            "{table}"
        );
        assert!(ok(config, &["explain", "eksc.spec.network"], None).contains("vpcCidr"));

        let example = std::fs::read_to_string(EKS_EXAMPLE).unwrap();
        let invalid = example
            .replace("name: demo", "name: bad")
            .replace("10.20.0.0/16", "abc");
        let (success, _, stderr) = kubectl(config, &["apply", "-f", "-"], Some(&invalid));
        assert!(!success);
        assert!(
            stderr.contains("The EksCluster \"bad\" is invalid")
                && stderr.contains("spec.network.vpcCidr: Invalid value: \"abc\""),
            "{stderr}"
        );
        // CEL: the VPC CIDR is immutable.
        let changed = example.replace("10.20.0.0/16", "10.30.0.0/16");
        let (success, _, stderr) = kubectl(config, &["apply", "-f", "-"], Some(&changed));
        assert!(!success);
        assert!(stderr.contains("vpcCidr is immutable"), "{stderr}");
        let (success, _, stderr) = kubectl(
            config,
            &["apply", "-f", "-"],
            Some(&example.replace("  regions:", "  colour: blue\n  regions:")),
        );
        assert!(!success);
        assert!(stderr.contains("unknown field \"spec.colour\""), "{stderr}");
        ok(config, &["delete", "-f", EKS_EXAMPLE], None);
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn events_from_the_kube_rs_recorder_show_in_kubectl() {
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let (emulator, _dir, config) = started().await;
    let recorder = Recorder::new(
        emulator.client(),
        Reporter {
            controller: "widget-controller".into(),
            instance: Some("pod-1".into()),
        },
    );
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("example.io/v1".into()),
        kind: Some("Widget".into()),
        name: Some("w".into()),
        namespace: Some("default".into()),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "Stuck".into(),
        note: Some("the widget is stuck".into()),
        action: "Reconcile".into(),
        secondary: None,
    };
    recorder.publish(&event, &reference).await.unwrap();
    recorder.publish(&event, &reference).await.unwrap();
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        let table = ok(config, &["get", "events"], None);
        let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            "{table}"
        );
        assert!(
            table.contains("Warning")
                && table.contains("Stuck")
                && table.contains("widget/w")
                && table.contains("the widget is stuck"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 2, "one event, its series counted: {table}");
        let core = ok(
            config,
            &["get", "events.v1.", "-o", "jsonpath={.items[0].count}"],
            None,
        );
        assert_eq!(core, "2", "the series count shows in the core/v1 shape");
    });
}
