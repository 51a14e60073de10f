//! Field paths as server-side apply tracks them (`f:spec`, `k:{"name":"app"}`, `v:"x"`), and the list
//! semantics they depend on: atomic lists, sets and maps keyed by fields (containers by name, ...).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::resources::ResourceDef;

/// One path into an object, in `fieldsV1` segment form.
pub type Path = Vec<String>;
/// A set of leaf paths.
pub type FieldSet = BTreeSet<Path>;

/// How a list merges and how its items are addressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced as a whole.
    Atomic,
    /// Items are scalars, unique, addressed by value.
    Set,
    /// Items are objects addressed by these key fields.
    Map(Vec<String>),
}

fn schema_at<'a>(root: &'a Value, names: &[String]) -> Option<&'a Value> {
    let mut current = root;
    for name in names {
        while current["type"] == "array" {
            current = &current["items"];
        }
        current = current["properties"]
            .get(name)
            .or_else(|| current.get("additionalProperties").filter(|a| a.is_object()))?;
    }
    Some(current)
}

/// The kind of the list at `names` (field names from the root, list indices left out).
pub fn list_kind(def: &ResourceDef, names: &[String]) -> ListKind {
    let last = names.last().map_or("", String::as_str);
    let parent = names.len().checked_sub(2).and_then(|i| names.get(i));
    if names.len() == 2 && names[0] == "metadata" {
        return match last {
            "finalizers" => ListKind::Set,
            "ownerReferences" => ListKind::Map(vec!["uid".into()]),
            _ => ListKind::Atomic,
        };
    }
    if let Some(schema) = &def.schema {
        let Some(list) = schema_at(schema, names) else {
            return ListKind::Atomic;
        };
        return match list["x-kubernetes-list-type"].as_str() {
            Some("set") => ListKind::Set,
            Some("map") => ListKind::Map(
                list["x-kubernetes-list-map-keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => ListKind::Atomic,
        };
    }
    let key = |k: &str| ListKind::Map(vec![k.to_owned()]);
    match last {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            key("name")
        }
        "volumeMounts" => key("mountPath"),
        "ports" if names.iter().any(|n| n.ends_with("ontainers")) => key("containerPort"),
        "ports" if parent.is_some_and(|p| p == "spec") => key("port"),
        _ => ListKind::Atomic,
    }
}

/// The segment addressing `item` in a list of `kind`, if it can be addressed.
pub fn item_segment(kind: &ListKind, item: &Value) -> Option<String> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => (!item.is_object() && !item.is_array()).then(|| format!("v:{item}")),
        ListKind::Map(keys) => {
            let mut key = Map::new();
            let mut sorted = keys.clone();
            sorted.sort();
            for k in sorted {
                if let Some(v) = item.get(&k) {
                    key.insert(k, v.clone());
                }
            }
            (!key.is_empty()).then(|| format!("k:{}", Value::Object(key)))
        }
    }
}

/// Whether every item of a list can be addressed (otherwise the list is treated as atomic).
fn addressable<'a>(kind: &ListKind, items: &'a [Value]) -> Option<Vec<(String, &'a Value)>> {
    if *kind == ListKind::Atomic {
        return None;
    }
    items
        .iter()
        .map(|i| item_segment(kind, i).map(|s| (s, i)))
        .collect()
}

fn child(path: &Path, segment: String) -> Path {
    let mut next = path.clone();
    next.push(segment);
    next
}

fn with_name(names: &[String], name: &str) -> Vec<String> {
    let mut next = names.to_vec();
    next.push(name.to_owned());
    next
}

/// Collects the leaf paths of `value` into `out`.
pub fn leaves(def: &ResourceDef, value: &Value, names: &[String], path: &Path, out: &mut FieldSet) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves(def, v, &with_name(names, k), &child(path, format!("f:{k}")), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let kind = list_kind(def, names);
            match addressable(&kind, items) {
                Some(addressed) => {
                    for (segment, item) in addressed {
                        let item_path = child(path, segment);
                        if kind == ListKind::Set || item.as_object().is_none_or(Map::is_empty) {
                            out.insert(item_path);
                        } else {
                            leaves(def, item, names, &item_path, out);
                        }
                    }
                }
                None => {
                    out.insert(path.clone());
                }
            }
        }
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// Collects the leaf paths whose values differ between `old` and `new`.
pub fn diff(
    def: &ResourceDef,
    old: Option<&Value>,
    new: Option<&Value>,
    names: &[String],
    path: &Path,
    out: &mut FieldSet,
) {
    if old == new {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) if !a.is_empty() && !b.is_empty() => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                diff(
                    def,
                    a.get(k),
                    b.get(k),
                    &with_name(names, k),
                    &child(path, format!("f:{k}")),
                    out,
                );
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            let kind = list_kind(def, names);
            match (addressable(&kind, a), addressable(&kind, b)) {
                (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                    let segments: BTreeSet<&String> = a.iter().chain(b.iter()).map(|(s, _)| s).collect();
                    for segment in segments {
                        let find = |list: &[(String, &'_ Value)]| {
                            list.iter().find(|(s, _)| s == segment).map(|(_, v)| (*v).clone())
                        };
                        let (x, y) = (find(&a), find(&b));
                        let item_path = child(path, segment.clone());
                        if kind == ListKind::Set {
                            if x.is_some() != y.is_some() {
                                out.insert(item_path);
                            }
                        } else if x != y {
                            let mut inner = FieldSet::new();
                            diff(def, x.as_ref(), y.as_ref(), names, &item_path, &mut inner);
                            if inner.is_empty() {
                                inner.insert(item_path);
                            }
                            out.extend(inner);
                        }
                    }
                }
                _ => {
                    out.insert(path.clone());
                }
            }
        }
        _ => {
            for value in [old, new].into_iter().flatten() {
                leaves(def, value, names, path, out);
            }
            if old.is_none() || new.is_none() {
                // An added or removed empty object is still a change of its own path.
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            }
        }
    }
}

fn matches_segment(item: &Value, segment: &str) -> bool {
    if let Some(value) = segment.strip_prefix("v:") {
        return serde_json::from_str::<Value>(value).is_ok_and(|v| &v == item);
    }
    if let Some(key) = segment.strip_prefix("k:") {
        return serde_json::from_str::<Map<String, Value>>(key)
            .is_ok_and(|key| key.iter().all(|(k, v)| item.get(k) == Some(v)));
    }
    false
}

/// The value at `path`, if present.
pub fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut current = value;
    for segment in path {
        current = match segment.strip_prefix("f:") {
            Some(name) => current.get(name)?,
            None => current.as_array()?.iter().find(|i| matches_segment(i, segment))?,
        };
    }
    Some(current)
}

/// Removes the field or list item at `path`; then drops objects left empty on the way.
pub fn remove(value: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let Some(parent) = get_mut(value, parents) else {
        return;
    };
    match (last.strip_prefix("f:"), parent) {
        (Some(name), Value::Object(map)) => {
            map.remove(name);
        }
        (None, Value::Array(items)) => items.retain(|i| !matches_segment(i, last)),
        _ => return,
    }
    if parents.len() > 1 && get(value, parents).is_some_and(|p| p.as_object().is_some_and(Map::is_empty)) {
        remove(value, parents);
    }
}

fn get_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut current = value;
    for segment in path {
        current = match segment.strip_prefix("f:") {
            Some(name) => current.get_mut(name)?,
            None => current
                .as_array_mut()?
                .iter_mut()
                .find(|i| matches_segment(i, segment))?,
        };
    }
    Some(current)
}

/// Merges an applied configuration into `target` as server-side apply does: objects field by field, keyed
/// lists item by item, sets by union, everything else replaced.
pub fn merge(def: &ResourceDef, target: &mut Value, config: &Value, names: &[String]) {
    match (target, config) {
        (Value::Object(t), Value::Object(c)) => {
            for (k, v) in c {
                if v.is_null() {
                    t.remove(k);
                } else if let Some(existing) = t.get_mut(k) {
                    merge(def, existing, v, &with_name(names, k));
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        (Value::Array(t), Value::Array(c)) => {
            let kind = list_kind(def, names);
            if addressable(&kind, t).is_none() || addressable(&kind, c).is_none() {
                t.clone_from(c);
                return;
            }
            for item in c {
                let Some(segment) = item_segment(&kind, item) else {
                    continue;
                };
                match t.iter_mut().find(|i| matches_segment(i, &segment)) {
                    Some(existing) if kind != ListKind::Set => merge(def, existing, item, names),
                    Some(_) => {}
                    None => t.push(item.clone()),
                }
            }
        }
        (target, config) => *target = config.clone(),
    }
}

/// `fieldsV1` JSON of a set of paths.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for segment in path {
            let entry = node
                .entry(segment.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(next) = entry else {
                break;
            };
            node = next;
        }
    }
    Value::Object(root)
}

/// The set of leaf paths in `fieldsV1` JSON.
pub fn from_fields_v1(value: &Value) -> FieldSet {
    fn walk(value: &Value, path: &Path, out: &mut FieldSet) {
        match value.as_object() {
            Some(map) if !map.is_empty() => {
                for (k, v) in map {
                    if k == "." {
                        out.insert(path.clone());
                    } else {
                        walk(v, &child(path, k.clone()), out);
                    }
                }
            }
            _ => {
                if !path.is_empty() {
                    out.insert(path.clone());
                }
            }
        }
    }
    let mut out = FieldSet::new();
    walk(value, &Vec::new(), &mut out);
    out
}

/// A path as the real server prints it in conflicts: `.spec.containers[name="app"].image`.
pub fn display(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if let Some(name) = segment.strip_prefix("f:") {
            out.push('.');
            out.push_str(name);
        } else if let Some(key) = segment.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(key)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(value) = segment.strip_prefix("v:") {
            out.push_str(&format!("[={value}]"));
        }
    }
    out
}

/// Whether one path is a prefix of the other (they address overlapping fields).
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}
