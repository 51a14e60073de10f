//! Nodes join: managed node groups' nodes Ready while their role is mapped, self-managed instances after
//! theirs is; and a restarted server resumes from its state directory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use common::*;
use workload_apiserver::{ManagedNodeGroupNodes, Taint, WorkloadApiServer, WorkloadConfig};

const CLUSTER: &str = "demo";
const LIMIT: Duration = Duration::from_secs(30);

fn config(moto: &Moto, creator: &str) -> WorkloadConfig {
    let mut config = WorkloadConfig::new(CLUSTER, REGION, &moto.endpoint(), creator);
    config.reconcile_interval = Duration::from_millis(200);
    config
}

/// The nodes as JSON, read over HTTPS as the creator.
async fn nodes(server: &WorkloadApiServer, moto: &Moto, creds: &Creds) -> Vec<serde_json::Value> {
    let token = sdk_token(
        creds,
        CLUSTER,
        &format!("127.0.0.1:{}", moto.port),
        SystemTime::now(),
    );
    let (status, body) = request(
        &server.endpoint(),
        &server.certificate_authority(),
        "GET",
        "/api/v1/nodes",
        Some(&token),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

fn ready(node: &serde_json::Value) -> bool {
    node["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

async fn wait_nodes(
    server: &WorkloadApiServer,
    moto: &Moto,
    creds: &Creds,
    what: &str,
    check: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let current = nodes(server, moto, creds).await;
        if check(&current) {
            return current;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_nodes_are_ready_while_their_role_is_mapped() {
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let node_role = "arn:aws:iam::123456789012:role/demo-nodes";
    let server = WorkloadApiServer::start(config(&moto, &creator)).await.unwrap();
    server.set_node_groups(vec![ManagedNodeGroupNodes {
        name: "workers".into(),
        desired_size: 2,
        labels: BTreeMap::from([("team".to_owned(), "web".to_owned())]),
        taints: vec![Taint {
            key: "dedicated".into(),
            value: "web".into(),
            effect: "NoSchedule".into(),
        }],
        instance_type: "t3.medium".into(),
        version: "1.31".into(),
        node_role_arn: node_role.into(),
        zones: vec!["eu-west-1a".into(), "eu-west-1b".into()],
    }]);
    let ready_nodes = wait_nodes(&server, &moto, &creds, "2 Ready nodes", |n| {
        n.len() == 2 && n.iter().all(ready)
    })
    .await;
    let node = &ready_nodes[0];
    let name = node["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("ip-10-") && name.ends_with(".eu-west-1.compute.internal"),
        "{name}"
    );
    let labels = &node["metadata"]["labels"];
    assert_eq!(labels["eks.amazonaws.com/nodegroup"], "workers");
    assert_eq!(labels["node.kubernetes.io/instance-type"], "t3.medium");
    assert_eq!(labels["topology.kubernetes.io/region"], "eu-west-1");
    assert_eq!(labels["team"], "web");
    assert_eq!(node["spec"]["taints"][0]["key"], "dedicated");
    assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], "v1.31.0-eks");
    let zones: std::collections::BTreeSet<_> = ready_nodes
        .iter()
        .map(|n| n["metadata"]["labels"]["topology.kubernetes.io/zone"].to_string())
        .collect();
    assert_eq!(zones.len(), 2);
    assert!(server.node_group_health("workers").is_empty());

    // EKS mapped the node role in aws-auth; kubectl shows the nodes Ready.
    let dir = tempfile::tempdir().unwrap();
    let kc = write_kubeconfig(
        dir.path(),
        "admin",
        &server.endpoint(),
        &server.certificate_authority(),
        &moto,
        CLUSTER,
        &creds,
    );
    let (ok, out, err) = kubectl(
        &kc,
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
    assert!(
        ok && out.contains(node_role) && out.contains("system:nodes"),
        "{out}{err}"
    );
    let (ok, out, err) = kubectl(&kc, &["get", "nodes"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("NAME") && out.contains("STATUS") && out.contains("VERSION"),
        "{out}"
    );
    assert_eq!(out.matches(" Ready ").count(), 2, "{out}");
    assert!(out.contains("v1.31.0-eks"), "{out}");

    // Remove the mapping: the nodes go NotReady and the node group reports AccessDenied.
    let (ok, _, err) = kubectl(
        &kc,
        &[
            "patch",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"mapRoles":"[]"}}"#,
        ],
    );
    assert!(ok, "{err}");
    wait_nodes(&server, &moto, &creds, "NotReady nodes", |n| {
        n.len() == 2 && !n.iter().any(ready)
    })
    .await;
    let (_, out, _) = kubectl(&kc, &["get", "nodes"]);
    assert_eq!(out.matches(" NotReady ").count(), 2, "{out}");
    let health = server.node_group_health("workers");
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].code, "AccessDenied");
    assert_eq!(health[0].resource_ids.len(), 2);

    // Map it again and scale to one node.
    let map = format!(
        "{{\"data\":{{\"mapRoles\":\"- rolearn: {node_role}\\n  username: system:node:{{{{EC2PrivateDNSName}}}}\\n  groups: [system:bootstrappers, system:nodes]\\n\"}}}}"
    );
    let (ok, _, err) = kubectl(
        &kc,
        &[
            "patch",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "--type",
            "merge",
            "-p",
            &map,
        ],
    );
    assert!(ok, "{err}");
    wait_nodes(&server, &moto, &creds, "Ready again", |n| {
        n.len() == 2 && n.iter().all(ready)
    })
    .await;
    assert!(server.node_group_health("workers").is_empty());
    server.set_node_groups(vec![ManagedNodeGroupNodes {
        name: "workers".into(),
        desired_size: 1,
        instance_type: "t3.medium".into(),
        version: "1.31".into(),
        node_role_arn: node_role.into(),
        ..ManagedNodeGroupNodes::default()
    }]);
    wait_nodes(&server, &moto, &creds, "one node", |n| n.len() == 1).await;
    server.set_node_groups(Vec::new());
    wait_nodes(&server, &moto, &creds, "no node", <[_]>::is_empty).await;
    server.shutdown().await;
}

const USER_DATA: &str = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n--BOUNDARY\nContent-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n  kubelet:\n    flags:\n      - --node-labels=team=data,tier=batch\n      - --register-with-taints=dedicated=data:NoSchedule\n--BOUNDARY--\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_self_managed_instance_joins_after_its_role_is_mapped() {
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let (role_arn, _) = assume_role(&moto, "self-managed-workers");
    let base = base_creds();
    aws(
        &moto,
        &base,
        &[
            "iam",
            "create-instance-profile",
            "--instance-profile-name",
            "workers",
        ],
    );
    aws(
        &moto,
        &base,
        &[
            "iam",
            "add-role-to-instance-profile",
            "--instance-profile-name",
            "workers",
            "--role-name",
            "self-managed-workers",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let user_data = dir.path().join("user-data.txt");
    std::fs::write(&user_data, USER_DATA).unwrap();
    let run = aws(
        &moto,
        &base,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            "ami-12345678",
            "--instance-type",
            "m5.large",
            "--count",
            "1",
            "--iam-instance-profile",
            "Name=workers",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=kubernetes.io/cluster/demo,Value=owned}]",
            "--user-data",
            &format!("file://{}", user_data.display()),
        ],
    );
    let instance_id = run["Instances"][0]["InstanceId"].as_str().unwrap().to_owned();
    // An instance of another cluster never joins.
    aws(
        &moto,
        &base,
        &[
            "ec2",
            "run-instances",
            "--image-id",
            "ami-12345678",
            "--instance-type",
            "m5.large",
            "--count",
            "1",
            "--iam-instance-profile",
            "Name=workers",
            "--tag-specifications",
            "ResourceType=instance,Tags=[{Key=kubernetes.io/cluster/other,Value=owned}]",
        ],
    );
    let server = WorkloadApiServer::start(config(&moto, &creator)).await.unwrap();
    // Seen, but its role is not mapped: no node registers.
    wait_for("the instance to be seen", LIMIT, || {
        server.seen_instances().contains_key(&instance_id).then_some(())
    })
    .await;
    assert_eq!(server.seen_instances().len(), 1);
    assert!(nodes(&server, &moto, &creds).await.is_empty());

    let kc = write_kubeconfig(
        dir.path(),
        "admin",
        &server.endpoint(),
        &server.certificate_authority(),
        &moto,
        CLUSTER,
        &creds,
    );
    let aws_auth = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: aws-auth, namespace: kube-system}}\ndata:\n  mapRoles: |\n    - rolearn: {role_arn}\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups: [system:bootstrappers, system:nodes]\n"
    );
    let (ok, _, err) = kubectl_stdin(&kc, &["apply", "-f", "-"], Some(&aws_auth));
    assert!(ok, "{err}");
    let joined = wait_nodes(&server, &moto, &creds, "the instance's node", |n| {
        n.len() == 1 && ready(&n[0])
    })
    .await;
    let node = &joined[0];
    assert_eq!(
        node["metadata"]["name"].as_str(),
        server.seen_instances().get(&instance_id).map(String::as_str)
    );
    assert_eq!(node["metadata"]["labels"]["team"], "data");
    assert_eq!(node["metadata"]["labels"]["tier"], "batch");
    assert_eq!(
        node["metadata"]["labels"]["node.kubernetes.io/instance-type"],
        "m5.large"
    );
    assert_eq!(
        node["spec"]["taints"][0],
        serde_json::json!({"key": "dedicated", "value": "data", "effect": "NoSchedule"})
    );
    assert!(
        node["spec"]["providerID"]
            .as_str()
            .unwrap()
            .ends_with(&instance_id)
    );
    let (ok, out, err) = kubectl(&kc, &["get", "nodes"]);
    assert!(ok && out.contains(" Ready "), "{out}{err}");

    // Terminated: the node goes.
    aws(
        &moto,
        &base,
        &["ec2", "terminate-instances", "--instance-ids", &instance_id],
    );
    wait_nodes(&server, &moto, &creds, "the node to go", <[_]>::is_empty).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_keeps_its_ca_port_and_objects() {
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let state = tempfile::tempdir().unwrap();
    let mut cfg = config(&moto, &creator);
    cfg.state_dir = Some(state.path().to_owned());
    let first = WorkloadApiServer::start(cfg.clone()).await.unwrap();
    let (endpoint, ca) = (first.endpoint(), first.certificate_authority());
    let token = sdk_token(
        &creds,
        CLUSTER,
        &format!("127.0.0.1:{}", moto.port),
        SystemTime::now(),
    );
    let (status, body) = request(
        &endpoint,
        &ca,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(&token),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"a":"b"}}"#,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let crd = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},"spec":{"group":"example.io","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}"#;
    let (status, body) = request(
        &endpoint,
        &ca,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        Some(&token),
        crd,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let widget =
        r#"{"apiVersion":"example.io/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}"#;
    let (status, body) = request(
        &endpoint,
        &ca,
        "POST",
        "/apis/example.io/v1/namespaces/default/widgets",
        Some(&token),
        widget,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    first.shutdown().await;

    let second = WorkloadApiServer::start(cfg).await.unwrap();
    assert_eq!(second.endpoint(), endpoint);
    assert_eq!(second.certificate_authority(), ca);
    let (status, body) = request(
        &endpoint,
        &ca,
        "GET",
        "/api/v1/namespaces/default/configmaps/kept",
        Some(&token),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["a"], "b");
    let (status, body) = request(
        &endpoint,
        &ca,
        "GET",
        "/apis/example.io/v1/namespaces/default/widgets/w",
        Some(&token),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["spec"]["size"], 3);
    second.shutdown().await;
}
