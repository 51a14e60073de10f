//! Server-side defaults that clients read back, as kube-apiserver sets them on every write: the defaulting
//! functions of `pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go`,
//! `pkg/apis/batch/v1/defaults.go` and the registry strategies (`PrepareForCreate`) of
//! `pkg/registry/core/{namespace,pod,service}/strategy.go`, with the Service cluster IP allocated as
//! `pkg/registry/core/service/ipallocator` does (from the service CIDR, here [`SERVICE_CIDR`]).
//! Fields already set are kept; defaults are filled in only where the client left a field out.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::resources::ResourceDef;
use crate::store::Store;

/// The service CIDR cluster IPs come from (kubeadm's default `--service-cluster-ip-range`).
pub const SERVICE_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 96, 0, 0), 12);

/// The value at `path` when every step exists (unlike indexing, which inserts nulls).
fn at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |v, key| v.get_mut(*key))
        .filter(|v| !v.is_null())
}

/// The objects of the list at `path`.
fn items<'a>(value: &'a mut Value, path: &[&str]) -> impl Iterator<Item = &'a mut Value> {
    at(value, path)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// Sets `object[key]` to `value` when it is absent or null (`object` itself may be null: it becomes an
/// object).
fn default(object: &mut Value, key: &str, value: Value) {
    if object.is_null() {
        *object = json!({});
    }
    if let Some(map) = object.as_object_mut() {
        let slot = map.entry(key.to_owned()).or_insert(Value::Null);
        if slot.is_null() {
            *slot = value;
        }
    }
}

/// Fills the defaults of a built-in object being written; `old` is the stored object on an update.
pub fn apply(def: &ResourceDef, object: &mut Value, old: Option<&Value>, store: &Store) {
    if def.schema.is_some() || !object.is_object() {
        return;
    }
    match (def.group.as_str(), def.plural.as_str()) {
        ("", "namespaces") => namespace(object, old),
        ("", "services") => service(object, old, store),
        ("", "pods") => pod(object, old),
        ("", "secrets") => default(object, "type", json!("Opaque")),
        ("", "podtemplates") => pod_template(object),
        (group, plural) => {
            if let Some(spec) = at(object, &["spec"]) {
                workload(group, plural, spec);
            }
        }
    }
}

fn workload(group: &str, plural: &str, spec: &mut Value) {
    match (group, plural) {
        ("", "persistentvolumeclaims") => default(spec, "volumeMode", json!("Filesystem")),
        ("", "replicationcontrollers") | ("apps", "replicasets") => {
            default(spec, "replicas", json!(1));
            pod_template(spec);
        }
        ("apps", "deployments") => deployment(spec),
        ("apps", "statefulsets") => stateful_set(spec),
        ("apps", "daemonsets") => daemon_set(spec),
        ("batch", "jobs") => job(spec),
        ("batch", "cronjobs") => cron_job(spec),
        _ => {}
    }
}

/// `SetDefaults_Namespace` and `namespaceStrategy.PrepareForCreate`: the `kubernetes` finalizer, phase
/// `Active`, and the immutable `kubernetes.io/metadata.name` label.
fn namespace(object: &mut Value, old: Option<&Value>) {
    let name = object["metadata"]["name"].clone();
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    if old.is_none() {
        default(&mut object["spec"], "finalizers", json!(["kubernetes"]));
    }
    default(&mut object["status"], "phase", json!("Active"));
}

fn allocate_cluster_ip(store: &Store) -> Option<String> {
    let used: HashSet<String> = store
        .list("/services", None)
        .iter()
        .filter_map(|s| s["spec"]["clusterIP"].as_str().map(str::to_owned))
        .collect();
    let (base, prefix) = SERVICE_CIDR;
    let base = u32::from(base);
    let size = 1u32 << (32 - u32::from(prefix));
    // The first address is the network's; the last its broadcast (neither is allocated).
    (1..size - 1)
        .map(|offset| Ipv4Addr::from(base + offset).to_string())
        .find(|ip| !used.contains(ip))
}

/// `SetDefaults_Service`, `svcStrategy.PrepareForCreate` (status `{loadBalancer: {}}`) and the REST
/// allocator: type `ClusterIP`, `sessionAffinity: None`, port protocol `TCP` and `targetPort` = `port`, a
/// cluster IP from [`SERVICE_CIDR`] (kept on updates), single-stack IPv4, `internalTrafficPolicy: Cluster`;
/// `externalTrafficPolicy: Cluster` and `allocateLoadBalancerNodePorts: true` where they apply.
fn service(object: &mut Value, old: Option<&Value>, store: &Store) {
    default(object, "spec", json!({}));
    let spec = &mut object["spec"];
    default(spec, "type", json!("ClusterIP"));
    default(spec, "sessionAffinity", json!("None"));
    for port in items(spec, &["ports"]) {
        default(port, "protocol", json!("TCP"));
        let number = port["port"].clone();
        default(port, "targetPort", number);
    }
    let kind = spec["type"].as_str().unwrap_or("ClusterIP").to_owned();
    if kind != "ExternalName" {
        if let Some(old_spec) = old.map(|o| &o["spec"])
            && spec["clusterIP"].as_str().is_none_or(str::is_empty)
        {
            spec["clusterIP"] = old_spec["clusterIP"].clone();
            spec["clusterIPs"] = old_spec["clusterIPs"].clone();
        }
        if spec["clusterIP"].as_str().is_none_or(str::is_empty)
            && let Some(ip) = allocate_cluster_ip(store)
        {
            spec["clusterIP"] = json!(ip);
        }
        let ip = spec["clusterIP"].clone();
        default(spec, "clusterIPs", json!([ip]));
        default(spec, "ipFamilies", json!(["IPv4"]));
        default(spec, "ipFamilyPolicy", json!("SingleStack"));
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if kind == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if old.is_none() {
        object["status"] = json!({"loadBalancer": {}});
    } else {
        default(object, "status", json!({"loadBalancer": {}}));
    }
}

/// `SetDefaults_Container`: pull policy from the tag, termination message path and policy.
fn container(container: &mut Value) {
    let image = container["image"].as_str().unwrap_or_default();
    let tagged = image
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':') || last.contains('@'));
    let latest = image.ends_with(":latest");
    default(
        container,
        "imagePullPolicy",
        json!(if tagged && !latest {
            "IfNotPresent"
        } else {
            "Always"
        }),
    );
    default(container, "terminationMessagePath", json!("/dev/termination-log"));
    default(container, "terminationMessagePolicy", json!("File"));
    for port in items(container, &["ports"]) {
        default(port, "protocol", json!("TCP"));
    }
}

/// `SetDefaults_PodSpec` and its containers'.
fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "securityContext", json!({}));
    default(spec, "enableServiceLinks", json!(true));
    for key in ["containers", "initContainers"] {
        for c in items(spec, &[key]) {
            container(c);
        }
    }
}

/// The pod spec of the `template` of `parent`.
fn pod_template(parent: &mut Value) {
    if let Some(spec) = at(parent, &["template", "spec"]) {
        pod_spec(spec);
    }
}

/// The QoS class (`pkg/apis/core/helper/qos.GetPodQOS`): BestEffort without requests or limits,
/// Guaranteed when every container limits cpu and memory and requests equal limits, else Burstable.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect();
    let empty = |v: &Value| v.as_object().is_none_or(serde_json::Map::is_empty);
    if containers
        .iter()
        .all(|c| empty(&c["resources"]["requests"]) && empty(&c["resources"]["limits"]))
    {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let limits = &c["resources"]["limits"];
        let requests = &c["resources"]["requests"];
        ["cpu", "memory"]
            .iter()
            .all(|r| !limits[*r].is_null() && (requests[*r].is_null() || requests[*r] == limits[*r]))
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

/// `SetDefaults_Pod`/`PodSpec` and `podStrategy.PrepareForCreate`: phase `Pending` and the QoS class.
fn pod(object: &mut Value, old: Option<&Value>) {
    if let Some(spec) = at(object, &["spec"]) {
        pod_spec(spec);
    }
    if old.is_none() {
        let qos = qos_class(&object["spec"]);
        object["status"] = json!({"phase": "Pending", "qosClass": qos});
    }
}

/// `SetDefaults_Deployment`: one replica, rolling updates of 25 %/25 %, 10 revisions, 600 s deadline.
fn deployment(spec: &mut Value) {
    default(spec, "replicas", json!(1));
    default(
        spec,
        "strategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
    );
    default(spec, "revisionHistoryLimit", json!(10));
    default(spec, "progressDeadlineSeconds", json!(600));
    pod_template(spec);
}

/// `SetDefaults_StatefulSet`.
fn stateful_set(spec: &mut Value) {
    default(spec, "replicas", json!(1));
    default(spec, "podManagementPolicy", json!("OrderedReady"));
    default(
        spec,
        "updateStrategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
    );
    default(spec, "revisionHistoryLimit", json!(10));
    default(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    pod_template(spec);
}

/// `SetDefaults_DaemonSet`.
fn daemon_set(spec: &mut Value) {
    default(
        spec,
        "updateStrategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
    );
    default(spec, "revisionHistoryLimit", json!(10));
    pod_template(spec);
}

/// `SetDefaults_Job`.
fn job(spec: &mut Value) {
    default(spec, "parallelism", json!(1));
    default(spec, "completions", json!(1));
    default(spec, "backoffLimit", json!(6));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    pod_template(spec);
}

/// `SetDefaults_CronJob`.
fn cron_job(spec: &mut Value) {
    default(spec, "concurrencyPolicy", json!("Allow"));
    default(spec, "suspend", json!(false));
    default(spec, "successfulJobsHistoryLimit", json!(3));
    default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job_spec) = at(spec, &["jobTemplate", "spec"]) {
        job(job_spec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(group: &str, plural: &str) -> ResourceDef {
        crate::resources::builtins()
            .into_iter()
            .find(|d| d.group == group && d.plural == plural)
            .unwrap()
    }

    #[test]
    fn services_get_a_cluster_ip_and_the_servers_defaults() {
        let store = Store::new(10);
        let mut svc = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
        apply(&def("", "services"), &mut svc, None, &store);
        assert_eq!(svc["spec"]["type"], "ClusterIP");
        assert_eq!(svc["spec"]["sessionAffinity"], "None");
        assert_eq!(svc["spec"]["clusterIP"], "10.96.0.1");
        assert_eq!(svc["spec"]["clusterIPs"], json!(["10.96.0.1"]));
        assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4"]));
        assert_eq!(svc["spec"]["ipFamilyPolicy"], "SingleStack");
        assert_eq!(svc["spec"]["internalTrafficPolicy"], "Cluster");
        assert_eq!(
            svc["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        let mut headless = json!({"spec": {"clusterIP": "None"}});
        apply(&def("", "services"), &mut headless, None, &store);
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let mut external = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
        apply(&def("", "services"), &mut external, None, &store);
        assert!(external["spec"]["clusterIP"].is_null());
    }

    #[test]
    fn pods_are_pending_with_their_qos_class() {
        let store = Store::new(10);
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "nginx"}]}});
        apply(&def("", "pods"), &mut pod, None, &store);
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        let limits = json!({"cpu": "1", "memory": "1Gi"});
        let mut guaranteed = json!({"spec": {"containers": [{"name": "a", "image": "nginx:1.27",
            "resources": {"limits": limits}}]}});
        apply(&def("", "pods"), &mut guaranteed, None, &store);
        assert_eq!(guaranteed["status"]["qosClass"], "Guaranteed");
        assert_eq!(
            guaranteed["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        let mut burstable = json!({"spec": {"containers": [{"name": "a", "image": "nginx",
            "resources": {"requests": {"cpu": "1"}}}]}});
        apply(&def("", "pods"), &mut burstable, None, &store);
        assert_eq!(burstable["status"]["qosClass"], "Burstable");
    }

    #[test]
    fn deployments_and_namespaces_get_their_defaults() {
        let store = Store::new(10);
        let mut deployment = json!({"spec": {"template": {"spec": {"containers": []}}}});
        apply(&def("apps", "deployments"), &mut deployment, None, &store);
        assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(deployment["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(deployment["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(deployment["spec"]["replicas"], 1);
        let mut ns = json!({"metadata": {"name": "team"}});
        apply(&def("", "namespaces"), &mut ns, None, &store);
        assert_eq!(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team");
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    }
}
