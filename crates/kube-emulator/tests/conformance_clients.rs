//! What clients other than kubectl and kube-rs rely on, checked over raw HTTP: booleans read as the server
//! reads them, option values refused with its words, Status bodies byte for byte, every built-in resource
//! in discovery with its scale subresource, and the server-side defaults clients read back.
#![allow(clippy::unwrap_used)]

mod common;

use common::{get, raw, send};
use kube_emulator::Emulator;
use serde_json::json;

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn booleans_are_false_only_for_zero_and_false_in_any_case() {
    let emulator = Emulator::start().await.unwrap();
    send(
        &emulator,
        "POST",
        CONFIG_MAPS,
        &json!({"metadata": {"name": "a"}}),
    )
    .await;
    for value in ["True", "true", "1", "TRUE", ""] {
        let answer = get(
            &emulator,
            &format!("{CONFIG_MAPS}?watch={value}&timeoutSeconds=1"),
        )
        .await;
        assert_eq!(answer.code, 200);
        assert!(
            answer.text.starts_with("{\"type\":\"ADDED\""),
            "watch={value}: {}",
            answer.text
        );
    }
    for value in ["False", "false", "0", "FALSE"] {
        let answer = get(&emulator, &format!("{CONFIG_MAPS}?watch={value}")).await;
        assert_eq!(answer.body["kind"], "ConfigMapList", "watch={value}");
    }
    // `dryRun` takes only `All`; `force=True` forces.
    let dry = send(
        &emulator,
        "POST",
        &format!("{CONFIG_MAPS}?dryRun=All"),
        &json!({"metadata": {"name": "d"}}),
    )
    .await;
    assert_eq!(dry.code, 201);
    assert_eq!(get(&emulator, &format!("{CONFIG_MAPS}/d")).await.code, 404);
}

#[tokio::test]
async fn option_values_are_refused_with_the_servers_wording() {
    let emulator = Emulator::start().await.unwrap();
    let cases = [
        (
            "POST",
            format!("{CONFIG_MAPS}?dryRun=true"),
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"true\"}: supported values: \"All\"",
        ),
        (
            "POST",
            format!("{CONFIG_MAPS}?fieldValidation=Loud"),
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loud\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"",
        ),
        (
            "DELETE",
            format!("{CONFIG_MAPS}/a?propagationPolicy=Soon"),
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Soon\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
        ),
    ];
    for (method, path, message) in cases {
        let answer = send(&emulator, method, &path, &json!({"metadata": {"name": "a"}})).await;
        assert_eq!(answer.code, 422, "{path}");
        assert_eq!(answer.body["reason"], "Invalid");
        assert_eq!(answer.body["message"], message);
        assert_eq!(answer.body["details"]["group"], "meta.k8s.io");
    }
    let long = "m".repeat(129);
    let answer = send(
        &emulator,
        "POST",
        &format!("{CONFIG_MAPS}?fieldManager={long}"),
        &json!({"metadata": {"name": "a"}}),
    )
    .await;
    assert_eq!(answer.code, 422);
    assert!(
        answer
            .text
            .contains("fieldManager: Too long: may not be more than 128 bytes"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn status_bodies_are_byte_compatible() {
    let emulator = Emulator::start().await.unwrap();
    let missing = get(&emulator, "/api/v1/namespaces/default/pods/x").await;
    assert_eq!(
        missing.text,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}\n"
    );
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let path = "/apis/apps/v1/namespaces/default/deployments";
    send(&emulator, "POST", path, &deployment).await;
    let again = send(&emulator, "POST", path, &deployment).await;
    assert_eq!(
        again.text,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"deployments.apps \\\"x\\\" already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"x\",\"group\":\"apps\",\"kind\":\"deployments\"},\"code\":409}\n"
    );
    let deleted = raw(
        &emulator,
        "DELETE",
        "/apis/apps/v1/namespaces/default/deployments/x",
        &[],
        None,
    )
    .await;
    let uid = deleted.body["details"]["uid"].as_str().unwrap().to_owned();
    assert_eq!(
        deleted.text,
        format!(
            "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"status\":\"Success\",\"details\":{{\"name\":\"x\",\"group\":\"apps\",\"kind\":\"deployments\",\"uid\":\"{uid}\"}}}}\n"
        )
    );
    let nowhere = get(&emulator, "/apis/nowhere.example.com/v1/things").await;
    assert_eq!(nowhere.code, 404);
    assert_eq!(
        nowhere.text,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"the server could not find the requested resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n"
    );
}

#[tokio::test]
async fn every_built_in_resource_of_1_33_is_discovered_with_its_scale_subresource() {
    let emulator = Emulator::start().await.unwrap();
    assert_eq!(get(&emulator, "/version").await.body["minor"], "33");
    let apps = get(&emulator, "/apis/apps/v1").await.body;
    let names: Vec<&str> = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for name in [
        "controllerrevisions",
        "daemonsets",
        "deployments",
        "deployments/scale",
        "deployments/status",
        "replicasets",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/scale",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let core = get(&emulator, "/api/v1").await.body;
    let rc = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "replicationcontrollers")
        .unwrap();
    assert_eq!(rc["shortNames"], json!(["rc"]));
    assert_eq!(rc["categories"], json!(["all"]));
    let groups = get(&emulator, "/apis").await.body;
    let autoscaling = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "autoscaling")
        .unwrap();
    assert_eq!(autoscaling["preferredVersion"]["version"], "v2");
    for group in [
        "batch",
        "policy",
        "networking.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
        "admissionregistration.k8s.io",
        "apiregistration.k8s.io",
        "certificates.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    ] {
        assert!(
            groups["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["name"] == group),
            "{group}"
        );
    }
    // Scale: read, write through /scale, and the object follows.
    let path = "/apis/apps/v1/namespaces/default/statefulsets";
    let set = json!({"metadata": {"name": "s"}, "spec": {"serviceName": "s", "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    send(&emulator, "POST", path, &set).await;
    let scale = get(&emulator, &format!("{path}/s/scale")).await.body;
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "a=b");
    let mut new = scale.clone();
    new["spec"]["replicas"] = json!(4);
    assert_eq!(
        send(&emulator, "PUT", &format!("{path}/s/scale"), &new)
            .await
            .body["spec"]["replicas"],
        4
    );
    assert_eq!(
        get(&emulator, &format!("{path}/s")).await.body["spec"]["replicas"],
        4
    );
    // The stale resourceVersion of the old Scale is a conflict.
    assert_eq!(
        send(&emulator, "PUT", &format!("{path}/s/scale"), &scale)
            .await
            .code,
        409
    );
}

#[tokio::test]
async fn server_side_defaults_clients_read_back() {
    let emulator = Emulator::start().await.unwrap();
    let services = "/api/v1/namespaces/default/services";
    let svc = send(
        &emulator,
        "POST",
        services,
        &json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await
    .body;
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let spec = &svc["spec"];
    assert_eq!(
        (spec["type"].as_str(), spec["sessionAffinity"].as_str()),
        (Some("ClusterIP"), Some("None"))
    );
    let ip = spec["clusterIP"].as_str().unwrap().to_owned();
    assert!(ip.starts_with("10.96."), "{ip}");
    assert_eq!(spec["clusterIPs"], json!([ip]));
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    // An update without the cluster IP keeps it (it is immutable).
    let mut update = svc.clone();
    update["spec"].as_object_mut().unwrap().remove("clusterIP");
    update["spec"].as_object_mut().unwrap().remove("clusterIPs");
    let updated = send(&emulator, "PUT", &format!("{services}/s"), &update)
        .await
        .body;
    assert_eq!(updated["spec"]["clusterIP"], ip.as_str());
    let ns = send(
        &emulator,
        "POST",
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "team"}}),
    )
    .await
    .body;
    assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team");
    assert_eq!(ns["status"]["phase"], "Active");
    let pod = send(
        &emulator,
        "POST",
        "/api/v1/namespaces/default/pods",
        &json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}),
    )
    .await
    .body;
    assert_eq!(
        pod["status"],
        json!({"phase": "Pending", "qosClass": "Guaranteed"})
    );
    assert_eq!(pod["spec"]["restartPolicy"], "Always");
    let deployment = send(&emulator, "POST", "/apis/apps/v1/namespaces/default/deployments",
        &json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})).await.body;
    assert_eq!(
        deployment["spec"]["strategy"],
        json!({"type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(deployment["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(deployment["spec"]["progressDeadlineSeconds"], 600);
}
