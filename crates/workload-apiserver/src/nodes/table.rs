//! `kubectl get nodes` as the real server prints it (NAME, STATUS, ROLES, AGE, VERSION and, with `-o wide`,
//! the addresses, OS image, kernel and runtime): the in-process store knows Name and Age only, so node
//! tables are rendered here (columns of `printNode` in `pkg/printers/internalversion/printers.go`).

use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::front::{Body, full};
use crate::rbac::RequestAttributes;

fn age(created: &str) -> String {
    let Some(start) = k8s_time(created) else {
        return "<unknown>".into();
    };
    let secs = std::time::SystemTime::now()
        .duration_since(start)
        .map_or(0, |d| d.as_secs());
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn k8s_time(text: &str) -> Option<std::time::SystemTime> {
    // 2026-12-06T04:10:00Z → 20261206T041000Z
    let compact: String = text.chars().filter(|c| *c != '-' && *c != ':').collect();
    crate::token::parse_amz_date(&compact)
}

fn status(node: &Value) -> String {
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .is_some_and(|c| c["status"] == "True");
    let mut text = if ready { "Ready" } else { "NotReady" }.to_owned();
    if node["spec"]["unschedulable"] == true {
        text.push_str(",SchedulingDisabled");
    }
    text
}

fn roles(node: &Value) -> String {
    let roles: Vec<&str> = node["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

fn address(node: &Value, kind: &str) -> String {
    node["status"]["addresses"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["type"] == kind))
        .and_then(|a| a["address"].as_str())
        .unwrap_or("<none>")
        .to_owned()
}

fn row(node: &Value) -> Value {
    let info = &node["status"]["nodeInfo"];
    let mut metadata = node["metadata"].clone();
    if let Some(m) = metadata.as_object_mut() {
        m.remove("managedFields");
    }
    json!({"cells": [node["metadata"]["name"], status(node), roles(node),
        age(node["metadata"]["creationTimestamp"].as_str().unwrap_or_default()), info["kubeletVersion"],
        address(node, "InternalIP"), address(node, "ExternalIP"), info["osImage"], info["kernelVersion"],
        info["containerRuntimeVersion"]],
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}})
}

/// A Table answer for a plain `get`/`list` of nodes that asks for one; `None` for anything else (forwarded).
pub fn table_response(
    state: &Arc<kube_emulator::State>,
    request: &http::Request<Incoming>,
    attributes: &RequestAttributes,
) -> Option<http::Response<Body>> {
    let accept = request.headers().get(http::header::ACCEPT)?.to_str().ok()?;
    let query = request.uri().query().unwrap_or_default();
    if attributes.resource != "nodes"
        || !attributes.subresource.is_empty()
        || !matches!(attributes.verb.as_str(), "get" | "list")
        || !accept.contains("as=Table")
        || query.contains("Selector")
    {
        return None;
    }
    let store = state.store.lock().ok()?;
    let nodes: Vec<Value> = if attributes.name.is_empty() {
        store
            .list(super::NODES, None)
            .iter()
            .map(|n| n.as_ref().clone())
            .collect()
    } else {
        vec![store.get(super::NODES, "", &attributes.name)?.clone()]
    };
    let column = |name: &str, priority: u8, description: &str| {
        json!({"name": name, "type": "string", "format": if name == "Name" { "name" } else { "" },
            "description": description, "priority": priority})
    };
    let table = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": store.rv().to_string()},
        "columnDefinitions": [column("Name", 0, "Name must be unique within a namespace."),
            column("Status", 0, "The status of the node"), column("Roles", 0, "The roles of the node"),
            column("Age", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."),
            column("Version", 0, "Kubelet Version reported by the node."),
            column("Internal-IP", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
            column("External-IP", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
            column("OS-Image", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            column("Kernel-Version", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            column("Container-Runtime", 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).")],
        "rows": nodes.iter().map(row).collect::<Vec<_>>()});
    let mut response = http::Response::new(full(table.to_string()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json;as=Table;v=v1;g=meta.k8s.io"),
    );
    Some(response)
}
