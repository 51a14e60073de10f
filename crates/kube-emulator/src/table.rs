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

fn column(name: &str, type_: &str, description: &str, priority: i64) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

fn row(object: &Value, cells: Vec<Value>) -> Value {
    json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": object["metadata"]}})
}

/// The columns and cells of events, as `kubectl get events` shows them.
fn events(objects: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let columns = vec![
        column("Last Seen", "string", "Time since the event was last seen", 0),
        column("Type", "string", "Normal or Warning", 0),
        column("Reason", "string", "Why the event happened", 0),
        column("Object", "string", "The object the event is about", 0),
        column("Message", "string", "What happened", 0),
        column("Name", "string", "Name of the event", 1),
    ];
    let rows = objects
        .iter()
        .map(|o| {
            let seen = ["lastTimestamp", "eventTime", "firstTimestamp"]
                .iter()
                .find_map(|k| o[*k].as_str())
                .or_else(|| o["metadata"]["creationTimestamp"].as_str())
                .unwrap_or_default();
            let regarding = if o["involvedObject"].is_object() {
                &o["involvedObject"]
            } else {
                &o["regarding"]
            };
            let kind = regarding["kind"].as_str().unwrap_or_default().to_lowercase();
            let object = format!("{kind}/{}", regarding["name"].as_str().unwrap_or_default());
            let message = o["message"]
                .as_str()
                .or_else(|| o["note"].as_str())
                .unwrap_or_default();
            row(
                o,
                vec![
                    json!(age(seen)),
                    o["type"].clone(),
                    o["reason"].clone(),
                    json!(object),
                    json!(message),
                    o["metadata"]["name"].clone(),
                ],
            )
        })
        .collect();
    (columns, rows)
}

/// The Table of `objects`: Name and the CRD's printer columns in their order (dates as ages), or Name and
/// Age when it has none; events as `kubectl get events` shows them.
pub fn table(def: &ResourceDef, objects: &[Value], resource_version: u64) -> Value {
    let (columns, rows) = if def.plural == "events" {
        events(objects)
    } else if def.columns.is_empty() {
        let columns = vec![
            column("Name", "string", "Name of the object", 0),
            column("Age", "string", "Time since creation", 0),
        ];
        let rows = objects
            .iter()
            .map(|o| {
                let created = o["metadata"]["creationTimestamp"].as_str().unwrap_or_default();
                row(o, vec![o["metadata"]["name"].clone(), json!(age(created))])
            })
            .collect();
        (columns, rows)
    } else {
        let mut columns = vec![column("Name", "string", "Name of the object", 0)];
        for c in &def.columns {
            columns.push(column(&c.name, &c.type_, &c.description, c.priority));
        }
        let rows = objects
            .iter()
            .map(|o| {
                let mut cells = vec![o["metadata"]["name"].clone()];
                for c in &def.columns {
                    cells.push(cell(evaluate(o, &c.json_path), &c.type_));
                }
                row(o, cells)
            })
            .collect();
        (columns, rows)
    };
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": columns, "rows": rows})
}
