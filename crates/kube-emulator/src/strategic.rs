//! Strategic merge patch for built-in resources: a JSON merge patch, except that the lists the real server
//! merges by key (containers, env, volumes and volumeMounts by name or path, ports by port, owner references
//! by uid) are merged item by item, `metadata.finalizers` by union, and the directives kubectl's client-side
//! apply sends (`$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) are honoured.

use serde_json::{Map, Value};

use crate::fields::{ListKind, item_segment, list_kind};
use crate::resources::ResourceDef;

/// Applies a strategic merge `patch` to `target`.
pub fn apply(def: &ResourceDef, target: &mut Value, patch: &Value) {
    merge(def, target, patch, &[]);
}

fn with_name(names: &[String], name: &str) -> Vec<String> {
    let mut next = names.to_vec();
    next.push(name.to_owned());
    next
}

/// A patch value without directives, for places where it is inserted as is.
fn clean(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").is_none_or(|p| p != "delete"))
                .map(clean)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge(def: &ResourceDef, target: &mut Value, patch: &Value, names: &[String]) {
    let Some(patch_map) = patch.as_object() else {
        *target = clean(patch);
        return;
    };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            *target = clean(patch);
            return;
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return;
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in patch_map {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(remove)) = (map.get_mut(field), value.as_array()) {
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        if key.starts_with('$') {
            continue;
        }
        let child_names = with_name(names, key);
        match value {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(_) => {
                let entry = map.entry(key.clone()).or_insert(Value::Null);
                merge(def, entry, value, &child_names);
            }
            Value::Array(items) => {
                let kind = list_kind(def, &child_names);
                match map.get_mut(key) {
                    Some(Value::Array(existing)) if kind != ListKind::Atomic => {
                        merge_list(def, existing, items, &kind, &child_names);
                    }
                    _ => {
                        map.insert(key.clone(), clean(value));
                    }
                }
            }
            other => {
                map.insert(key.clone(), other.clone());
            }
        }
    }
    if let Some(Value::Array(keep)) = patch_map.get("$retainKeys") {
        map.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
    }
}

fn merge_list(
    def: &ResourceDef,
    existing: &mut Vec<Value>,
    patch: &[Value],
    kind: &ListKind,
    names: &[String],
) {
    if patch
        .iter()
        .any(|i| i.get("$patch").is_some_and(|p| p == "replace"))
    {
        *existing = patch
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .map(clean)
            .collect();
        return;
    }
    for item in patch {
        let Some(segment) = item_segment(kind, item) else {
            // Not addressable: the list is replaced, as for an atomic list.
            *existing = patch.iter().map(clean).collect();
            return;
        };
        let position = existing
            .iter()
            .position(|e| item_segment(kind, e).as_deref() == Some(segment.as_str()));
        let delete = item.get("$patch").is_some_and(|p| p == "delete");
        match (position, delete) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {}
            (Some(i), false) if *kind != ListKind::Set => merge(def, &mut existing[i], item, names),
            (Some(_), false) => {}
            (None, false) => existing.push(clean(item)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;
    use serde_json::json;

    #[test]
    fn containers_by_name_finalizers_by_union_and_directives() {
        let def = builtins()
            .into_iter()
            .find(|d| d.plural == "deployments")
            .unwrap();
        let mut target = json!({"metadata": {"finalizers": ["a"]}, "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "side", "image": "side:1"}]}}}});
        let patch = json!({"metadata": {"finalizers": ["b"]}, "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"name": "app", "image": "app:2"}, {"name": "side", "$patch": "delete"}]}}}});
        apply(&def, &mut target, &patch);
        assert_eq!(target["metadata"]["finalizers"], json!(["a", "b"]));
        let containers = &target["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            *containers,
            json!([{"name": "app", "image": "app:2", "env": [{"name": "X", "value": "1"}]}])
        );
        apply(
            &def,
            &mut target,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(target["metadata"]["finalizers"], json!(["b"]));
    }
}
