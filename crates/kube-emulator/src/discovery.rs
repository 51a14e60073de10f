//! Discovery (`/version`, `/api`, `/apis`, group and resource lists) and enough OpenAPI for kubectl: the v3
//! documents advertise the `fieldValidation` parameter (so kubectl validates on the server) and carry the
//! CRD schemas (so `kubectl explain` works).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::resources::{ResourceDef, api_resources};

/// `/version`.
pub fn version() -> Value {
    json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0-kube-emulator", "gitCommit": "0000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
        "platform": "linux/amd64"})
}

/// `/api`.
pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

fn groups(defs: &[ResourceDef]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for def in defs.iter().filter(|d| !d.group.is_empty()) {
        let versions = groups.entry(def.group.clone()).or_default();
        if !versions.contains(&def.version) {
            versions.push(def.version.clone());
        }
    }
    groups
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let list: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": list, "preferredVersion": list.first().cloned().unwrap_or(Value::Null)})
}

/// `/apis`.
pub fn group_list(defs: &[ResourceDef]) -> Value {
    let groups: Vec<Value> = groups(defs)
        .iter()
        .map(|(name, versions)| group_json(name, versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn group(defs: &[ResourceDef], name: &str) -> Option<Value> {
    let groups = groups(defs);
    let versions = groups.get(name)?;
    let mut value = group_json(name, versions);
    value["kind"] = json!("APIGroup");
    value["apiVersion"] = json!("v1");
    Some(value)
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub fn resource_list(defs: &[ResourceDef], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceDef> = defs
        .iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = served.iter().flat_map(|d| api_resources(d)).collect();
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

/// `/openapi/v3`: one entry per group version.
pub fn openapi_root(defs: &[ResourceDef]) -> Value {
    let mut paths = serde_json::Map::new();
    for def in defs {
        let key = if def.group.is_empty() {
            "api/v1".to_owned()
        } else {
            format!("apis/{}/{}", def.group, def.version)
        };
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash=emulator")}),
        );
    }
    json!({"paths": paths})
}

fn schema_name(def: &ResourceDef) -> String {
    let group: Vec<&str> = def.group.split('.').rev().collect();
    format!("{}.{}.{}", group.join("."), def.version, def.kind)
}

/// `/openapi/v3/{api/v1 | apis/g/v}`.
pub fn openapi_group_version(defs: &[ResourceDef], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceDef> = defs
        .iter()
        .filter(|d| d.group == group && d.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for def in served {
        let prefix = if group.is_empty() {
            "/api/v1".to_owned()
        } else {
            format!("/apis/{group}/{version}")
        };
        let collection = if def.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", def.plural)
        } else {
            format!("{prefix}/{}", def.plural)
        };
        let gvk = json!({"group": def.group, "version": def.version, "kind": def.kind});
        let params = json!([
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        ]);
        let reference = json!({"$ref": format!("#/components/schemas/{}", schema_name(def))});
        let body = json!({"content": {"application/json": {"schema": reference}}});
        paths.insert(collection.clone(), json!({
            "post": {"parameters": params, "requestBody": body, "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "post",
                     "responses": {"201": body}},
            "get": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "list"},
        }));
        paths.insert(format!("{collection}/{{name}}"), json!({
            "get": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "get", "responses": {"200": body}},
            "put": {"parameters": params, "requestBody": body, "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "put"},
            "patch": {"parameters": params, "x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch"},
            "delete": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "delete"},
        }));
        let mut schema = def
            .schema
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(schema_name(def), schema);
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
        "components": {"schemas": schemas}}),
    )
}
