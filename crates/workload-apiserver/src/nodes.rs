//! Nodes that join: a level-triggered loop that makes the Node objects of managed node groups and of
//! self-managed instances match what is authorized.
//!
//! A kubelet registers its Node and keeps it Ready only while its credentials (the node role) are mapped:
//! for managed node groups EKS maps the role itself (an aws-auth `mapRoles` entry written when the group is
//! created, or an `EC2_LINUX` access entry), and when that mapping goes the nodes stop posting status, the
//! node controller marks them `Ready=Unknown` (`kubectl get nodes` shows NotReady) and the group reports the
//! `AccessDenied` health issue (EKS user guide, "Managed node group errors",
//! <https://docs.aws.amazon.com/eks/latest/userguide/eks-managed-node-group-troubleshooting.html>).
//! Self-managed instances are those in the backend's EC2 tagged `kubernetes.io/cluster/<name>=owned`
//! (<https://docs.aws.amazon.com/eks/latest/userguide/launch-workers.html>); they register when their instance
//! profile's role is mapped, with the labels and taints of their user data ([`crate::userdata`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::front::Shared;

mod self_managed;
mod table;
use self_managed::Backend;
pub use table::table_response;

const NODES: &str = "/nodes";
const NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";
const SELF_MANAGED_ANNOTATION: &str = "workload-apiserver.local/self-managed";

/// A taint (`spec.taints[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// What the nodes of one managed node group look like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManagedNodeGroupNodes {
    /// Node group name.
    pub name: String,
    /// How many nodes run.
    pub desired_size: u32,
    /// The group's Kubernetes labels.
    pub labels: BTreeMap<String, String>,
    /// The group's taints.
    pub taints: Vec<Taint>,
    /// EC2 instance type.
    pub instance_type: String,
    /// Kubernetes version (`1.31`), the kubelet's.
    pub version: String,
    /// The node IAM role.
    pub node_role_arn: String,
    /// Availability zones the nodes spread over (round robin).
    pub zones: Vec<String>,
}

/// A node group health issue, as `DescribeNodegroup`'s `health.issues[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthIssue {
    /// `AccessDenied`, ...
    pub code: String,
    /// What EKS says.
    pub message: String,
    /// Affected instances.
    pub resource_ids: Vec<String>,
}

/// Makes the store serve `nodes` (core/v1, cluster scope, status subresource) when it does not yet.
pub fn serve_nodes(state: &Arc<kube_emulator::State>) {
    let Ok(mut defs) = state.defs.lock() else {
        return;
    };
    if defs.iter().any(|d| d.group.is_empty() && d.plural == "nodes") {
        return;
    }
    defs.push(kube_emulator::resources::ResourceDef {
        group: String::new(),
        version: "v1".into(),
        plural: "nodes".into(),
        singular: "node".into(),
        kind: "Node".into(),
        namespaced: false,
        short_names: vec!["no".into()],
        categories: Vec::new(),
        status_subresource: true,
        scale_subresource: false,
        verbs: [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
        .map(String::from)
        .to_vec(),
        columns: Vec::new(),
        schema: None,
        bucket: NODES.into(),
    });
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The EC2 private DNS name of an address (`ec2.internal` in us-east-1, `<region>.compute.internal` elsewhere).
pub fn private_dns_name(ip: &str, region: &str) -> String {
    let suffix = if region == "us-east-1" {
        "ec2.internal".to_owned()
    } else {
        format!("{region}.compute.internal")
    };
    format!("ip-{}.{suffix}", ip.replace('.', "-"))
}

/// The deterministic address and instance id of node `index` of a managed node group.
pub fn managed_node_address(cluster: &str, group: &str, index: u32) -> (String, String) {
    let h = fnv(&format!("{cluster}/{group}"));
    let ip = format!(
        "10.{}.{}.{}",
        100 + (h % 100),
        ((h >> 8) % 200) as u32 + index / 250,
        index % 250 + 4
    );
    let instance = format!("i-{:017x}", fnv(&format!("{cluster}/{group}/{index}")) >> 4);
    (ip, instance)
}

/// What one node should look like.
#[derive(Debug, Clone)]
struct DesiredNode {
    name: String,
    ip: String,
    instance_id: String,
    zone: String,
    instance_type: String,
    version: String,
    labels: BTreeMap<String, String>,
    taints: Vec<Taint>,
    self_managed: bool,
}

/// The current time as Kubernetes writes it (`2026-12-06T04:10:00Z`).
fn k8s_now() -> String {
    let t = crate::token::format_amz_date(std::time::SystemTime::now());
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &t[0..4],
        &t[4..6],
        &t[6..8],
        &t[9..11],
        &t[11..13],
        &t[13..15]
    )
}

fn kubelet_version(version: &str) -> String {
    let v = version.trim_start_matches('v');
    let full = if v.split('.').count() == 2 {
        format!("{v}.0")
    } else {
        v.to_owned()
    };
    format!("v{full}-eks")
}

fn node_object(node: &DesiredNode, region: &str, ready: bool) -> Value {
    let mut labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname", node.name.as_str()),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
        ("node.kubernetes.io/instance-type", node.instance_type.as_str()),
        ("beta.kubernetes.io/instance-type", node.instance_type.as_str()),
        ("topology.kubernetes.io/zone", node.zone.as_str()),
        ("topology.kubernetes.io/region", region),
        ("failure-domain.beta.kubernetes.io/zone", node.zone.as_str()),
        ("failure-domain.beta.kubernetes.io/region", region),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    labels.extend(node.labels.clone());
    let taints: Vec<Value> = node
        .taints
        .iter()
        .map(|t| {
            if t.value.is_empty() {
                json!({"key": t.key, "effect": t.effect})
            } else {
                json!({"key": t.key, "value": t.value, "effect": t.effect})
            }
        })
        .collect();
    let condition = if ready {
        json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"})
    } else {
        json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."})
    };
    let mut annotations = json!({"alpha.kubernetes.io/provided-node-ip": node.ip,
        "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"});
    if node.self_managed {
        annotations[SELF_MANAGED_ANNOTATION] = "true".into();
    }
    let mut spec = json!({"providerID": format!("aws:///{}/{}", node.zone, node.instance_id)});
    if !taints.is_empty() {
        spec["taints"] = Value::Array(taints);
    }
    if !ready {
        spec["taints"]
            .as_array_mut()
            .map(|t| t.push(json!({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"})))
            .unwrap_or_else(|| {
                spec["taints"] = json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}])
            });
    }
    let capacity =
        json!({"cpu": "2", "memory": "7941184Ki", "pods": "29", "ephemeral-storage": "20959212Ki"});
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node.name, "labels": labels, "annotations": annotations},
        "spec": spec,
        "status": {"conditions": [condition],
            "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "InternalDNS", "address": node.name},
                {"type": "Hostname", "address": node.name}],
            "capacity": capacity, "allocatable": capacity,
            "nodeInfo": {"kubeletVersion": kubelet_version(&node.version), "kubeProxyVersion": kubelet_version(&node.version),
                "osImage": "Amazon Linux 2023", "operatingSystem": "linux", "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.7.27", "kernelVersion": "6.1.0-eks",
                "machineID": node.instance_id, "systemUUID": node.instance_id, "bootID": node.instance_id}}})
}

/// Creates or updates the node (only when something changed). A node that is not registered yet registers
/// only when `ready` (its kubelet can authenticate).
fn upsert(state: &Arc<kube_emulator::State>, node: &DesiredNode, region: &str, ready: bool) {
    let Ok(mut store) = state.store.lock() else {
        return;
    };
    let existing = store.get(NODES, "", &node.name).cloned();
    if existing.is_none() && !ready {
        return;
    }
    let mut desired = node_object(node, region, ready);
    let now = k8s_now();
    if let Some(existing) = &existing {
        desired["metadata"]["uid"] = existing["metadata"]["uid"].clone();
        desired["metadata"]["creationTimestamp"] = existing["metadata"]["creationTimestamp"].clone();
        let old = &existing["status"]["conditions"][0];
        let same_status = old["status"] == desired["status"]["conditions"][0]["status"];
        for field in ["lastHeartbeatTime", "lastTransitionTime"] {
            desired["status"]["conditions"][0][field] = if same_status {
                old[field].clone()
            } else {
                now.clone().into()
            };
        }
        let mut compare = existing.clone();
        compare["metadata"]
            .as_object_mut()
            .map(|m| m.remove("resourceVersion"));
        if compare == desired {
            return;
        }
    } else {
        desired["metadata"]["uid"] = state.uid().into();
        desired["metadata"]["creationTimestamp"] = now.clone().into();
        desired["status"]["conditions"][0]["lastHeartbeatTime"] = now.clone().into();
        desired["status"]["conditions"][0]["lastTransitionTime"] = now.into();
    }
    store.put(NODES, "", &node.name, desired, existing.is_none());
}

fn remove_nodes_except(state: &Arc<kube_emulator::State>, keep: &BTreeSet<String>, self_managed: bool) {
    let Ok(mut store) = state.store.lock() else {
        return;
    };
    let stale: Vec<String> = store
        .list(NODES, None)
        .iter()
        .filter(|n| {
            let is_self = n["metadata"]["annotations"][SELF_MANAGED_ANNOTATION] == "true";
            let is_managed = n["metadata"]["labels"][NODEGROUP_LABEL].is_string();
            if self_managed { is_self } else { is_managed }
        })
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_owned))
        .filter(|name| !keep.contains(name))
        .collect();
    for name in stale {
        store.remove(NODES, "", &name);
    }
}

fn managed_nodes(cluster: &str, group: &ManagedNodeGroupNodes, region: &str) -> Vec<DesiredNode> {
    (0..group.desired_size)
        .map(|index| {
            let (ip, instance_id) = managed_node_address(cluster, &group.name, index);
            let zone = if group.zones.is_empty() {
                format!("{region}a")
            } else {
                group.zones[index as usize % group.zones.len()].clone()
            };
            let mut labels = group.labels.clone();
            labels.insert(NODEGROUP_LABEL.into(), group.name.clone());
            labels.insert("eks.amazonaws.com/capacityType".into(), "ON_DEMAND".into());
            labels.insert(
                "eks.amazonaws.com/nodegroup-image".into(),
                "ami-0eksoptimized0000".into(),
            );
            DesiredNode {
                name: private_dns_name(&ip, region),
                ip,
                instance_id,
                zone,
                instance_type: group.instance_type.clone(),
                version: group.version.clone(),
                labels,
                taints: group.taints.clone(),
                self_managed: false,
            }
        })
        .collect()
}

/// Adds the role of each managed node group seen for the first time to aws-auth (ConfigMap modes), as EKS
/// does when it creates a managed node group.
fn announce_node_groups(shared: &Shared) {
    let mode = shared
        .access
        .read()
        .map(|a| a.authentication_mode)
        .unwrap_or_default();
    let groups = shared.node_groups.read().map(|g| g.clone()).unwrap_or_default();
    let Ok(mut saved) = shared.saved.lock() else {
        return;
    };
    for group in groups {
        if saved.announced_groups.contains(&group.name) {
            continue;
        }
        saved.announced_groups.insert(group.name.clone());
        if mode == crate::AuthenticationMode::Api {
            continue;
        }
        let existing = shared
            .state
            .store
            .lock()
            .ok()
            .and_then(|s| s.get("/configmaps", "kube-system", "aws-auth").cloned());
        let mappings = crate::access::aws_auth_mappings(existing.as_ref());
        if mappings.iter().any(|m| m.arn == group.node_role_arn) {
            continue;
        }
        let mut map_roles = existing
            .as_ref()
            .and_then(|c| c["data"]["mapRoles"].as_str())
            .unwrap_or_default()
            .to_owned();
        if !map_roles.is_empty() && !map_roles.ends_with('\n') {
            map_roles.push('\n');
        }
        map_roles.push_str(&format!(
            "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n",
            group.node_role_arn
        ));
        let mut object = existing.unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {}})
        });
        object["data"]["mapRoles"] = map_roles.into();
        if let Ok(mut store) = shared.state.store.lock() {
            let added = store.get("/configmaps", "kube-system", "aws-auth").is_none();
            if added {
                object["metadata"]["uid"] = shared.state.uid().into();
                object["metadata"]["creationTimestamp"] = k8s_now().into();
            }
            store.put("/configmaps", "kube-system", "aws-auth", object, added);
        }
    }
}

/// One pass: managed node groups, then self-managed instances.
async fn reconcile(shared: &Shared, backend: Option<&Backend>) {
    announce_node_groups(shared);
    let region = shared.config.region.clone();
    let cluster = shared.config.cluster_name.clone();
    let access = shared.access.read().map(|a| a.clone()).unwrap_or_default();
    let aws_auth = shared
        .state
        .store
        .lock()
        .ok()
        .and_then(|s| s.get("/configmaps", "kube-system", "aws-auth").cloned());
    let groups = shared.node_groups.read().map(|g| g.clone()).unwrap_or_default();
    let mut keep = BTreeSet::new();
    let mut health = BTreeMap::new();
    for group in &groups {
        let authorized = access.node_role_authorized(&group.node_role_arn, aws_auth.as_ref());
        let nodes = managed_nodes(&cluster, group, &region);
        for node in &nodes {
            upsert(&shared.state, node, &region, authorized);
            keep.insert(node.name.clone());
        }
        let issues = if authorized || nodes.is_empty() {
            Vec::new()
        } else {
            vec![HealthIssue {
                code: "AccessDenied".into(),
                message: "Your worker nodes do not have access to the cluster. Verify if the node instance role is present and correctly configured in the aws-auth ConfigMap.".into(),
                resource_ids: nodes.iter().map(|n| n.instance_id.clone()).collect(),
            }]
        };
        health.insert(group.name.clone(), issues);
    }
    remove_nodes_except(&shared.state, &keep, false);
    if let Ok(mut current) = shared.health.lock() {
        *current = health;
    }
    if let Some(backend) = backend {
        match backend.self_managed(&cluster).await {
            Ok(instances) => {
                let mut keep = BTreeSet::new();
                for (node, role) in instances {
                    let authorized = access.node_role_authorized(&role, aws_auth.as_ref());
                    upsert(&shared.state, &node, &region, authorized);
                    keep.insert(node.name.clone());
                    if let Ok(mut dns) = shared.instance_dns.lock() {
                        dns.insert(node.instance_id.clone(), node.name.clone());
                    }
                }
                remove_nodes_except(&shared.state, &keep, true);
            }
            Err(error) => tracing::debug!(%error, "listing self-managed instances"),
        }
    }
}

/// The reconcile loop: runs every interval and whenever `set_*` wakes it; saves the state directory when
/// the store changed.
pub async fn run(shared: Arc<Shared>) {
    let backend = Backend::new(&shared).await;
    let mut saved_rv = 0;
    loop {
        reconcile(&shared, Some(&backend)).await;
        let rv = shared.state.store.lock().map(|s| s.rv()).unwrap_or_default();
        if rv != saved_rv {
            shared.save();
            saved_rv = rv;
        }
        tokio::select! {
            () = tokio::time::sleep(shared.config.reconcile_interval.max(Duration::from_millis(50))) => {}
            () = shared.wake.notified() => {}
        }
    }
}
