//! `meta.k8s.io/v1` Tables for `kubectl get`, with a CRD's printer columns.

use serde_json::{Value, json};

use crate::resources::ResourceDef;

/// A duration since `timestamp`, as kubectl shows ages (`5s`, `3m`, `2h`, `4d`).
pub fn age(timestamp: &str) -> String {
    let Ok(then) = timestamp.parse::<k8s_openapi::jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let seconds = (k8s_openapi::jiff::Timestamp::now().as_second() - then.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Evaluates a simple JSONPath (`.spec.regions`, `.status.conditions[0].type`).
pub fn evaluate(object: &Value, path: &str) -> Value {
    let mut current = object;
    for part in path.trim_start_matches('.').split('.').filter(|p| !p.is_empty()) {
        let (field, index) = match part.split_once('[') {
            Some((field, rest)) => (field, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        current = &current[field];
        if let Some(i) = index {
            current = &current[i];
        }
    }
    current.clone()
}

fn cell(value: Value, type_: &str) -> Value {
    match (type_, value) {
        ("date", Value::String(s)) => json!(age(&s)),
        (_, Value::Null) => Value::Null,
        (_, Value::String(s)) => json!(s),
        (_, Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect();
            json!(format!("[\"{}\"]", parts.join("\",\"")))
        }
        (_, other) => other,
    }
}

/// The Table of `objects`.
pub fn table(def: &ResourceDef, objects: &[Value], resource_version: u64) -> Value {
    let mut columns = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}),
    ];
    for c in &def.columns {
        if c.json_path == ".metadata.creationTimestamp" {
            continue;
        }
        columns
            .push(json!({"name": c.name, "type": c.type_, "format": "", "description": "", "priority": 0}));
    }
    columns.push(json!({"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}));
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o["metadata"]["name"].clone()];
            for c in def.columns.iter().filter(|c| c.json_path != ".metadata.creationTimestamp") {
                cells.push(cell(evaluate(o, &c.json_path), &c.type_));
            }
            cells.push(json!(age(o["metadata"]["creationTimestamp"].as_str().unwrap_or_default())));
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": columns, "rows": rows})
}
