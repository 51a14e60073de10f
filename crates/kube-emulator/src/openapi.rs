//! OpenAPI, enough for kubectl: the v3 documents advertise the `fieldValidation` parameter (so kubectl leaves
//! field validation to the server) and carry the CRD schemas with their descriptions (so `kubectl explain`
//! works); `/openapi/v2` carries the same schemas as definitions. Built-in kinds get an open schema.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

/// `/openapi/v3`: one entry per group version.
pub fn v3_root(defs: &[ResourceDef]) -> Value {
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
pub fn v3_group_version(defs: &[ResourceDef], group: &str, version: &str) -> Option<Value> {
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
        json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": paths,
        "components": {"schemas": schemas}}),
    )
}

/// `/openapi/v2`: the schemas as definitions (built-in kinds open).
pub fn v2(defs: &[ResourceDef]) -> Value {
    let mut definitions = serde_json::Map::new();
    for def in defs {
        let mut schema = def
            .schema
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        schema["x-kubernetes-group-version-kind"] =
            json!([{"group": def.group, "version": def.version, "kind": def.kind}]);
        definitions.insert(schema_name(def), schema);
    }
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": {},
        "definitions": definitions})
}
