//! Server-side apply and `metadata.managedFields`: every write records which manager owns which fields
//! (`Apply` for applies, `Update` for everything else); an apply that changes a field another manager owns is
//! a conflict unless forced, and a field a manager stops applying is removed unless another manager owns it.

use serde_json::{Value, json};

use crate::fields::{self, FieldSet, Path};
use crate::resources::ResourceDef;
use crate::state::now;

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    subresource: String,
    fields: FieldSet,
}

impl Entry {
    fn to_json(&self) -> Value {
        let mut value = json!({"manager": self.manager, "operation": self.operation,
            "apiVersion": self.api_version, "time": self.time, "fieldsType": "FieldsV1",
            "fieldsV1": fields::to_fields_v1(&self.fields)});
        if !self.subresource.is_empty() {
            value["subresource"] = json!(self.subresource);
        }
        value
    }
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// Its API version.
    pub api_version: String,
    /// The field, as the real server prints it (`.spec.size`).
    pub field: String,
}

fn read(object: Option<&Value>) -> Vec<Entry> {
    object
        .and_then(|o| o["metadata"]["managedFields"].as_array())
        .into_iter()
        .flatten()
        .map(|e| Entry {
            manager: e["manager"].as_str().unwrap_or_default().to_owned(),
            operation: e["operation"].as_str().unwrap_or("Update").to_owned(),
            api_version: e["apiVersion"].as_str().unwrap_or_default().to_owned(),
            time: e["time"].as_str().unwrap_or_default().to_owned(),
            subresource: e["subresource"].as_str().unwrap_or_default().to_owned(),
            fields: fields::from_fields_v1(&e["fieldsV1"]),
        })
        .collect()
}

fn write(object: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    if list.is_empty() {
        if let Some(meta) = object["metadata"].as_object_mut() {
            meta.remove("managedFields");
        }
    } else {
        object["metadata"]["managedFields"] = Value::Array(list);
    }
}

/// The part of an object whose fields are tracked: labels, annotations, finalizers and owner references of
/// the metadata, and either everything but status or only status when the resource has a status
/// subresource.
fn tracked(def: &ResourceDef, object: &Value, subresource: Option<&str>) -> Value {
    let mut view = object.clone();
    let Some(map) = view.as_object_mut() else {
        return Value::Null;
    };
    map.remove("apiVersion");
    map.remove("kind");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.retain(|k, _| {
            matches!(
                k.as_str(),
                "labels" | "annotations" | "finalizers" | "ownerReferences"
            )
        });
        if meta.is_empty() {
            map.remove("metadata");
        }
    }
    if def.status_subresource {
        if subresource == Some("status") {
            map.retain(|k, _| k == "status");
        } else {
            map.remove("status");
        }
    }
    view
}

fn leaves(def: &ResourceDef, value: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    fields::leaves(def, value, &[], &Vec::new(), &mut out);
    out
}

fn owned_by_others(entries: &[Entry], me: usize, path: &Path) -> bool {
    entries
        .iter()
        .enumerate()
        .any(|(i, e)| i != me && e.fields.iter().any(|q| fields::overlaps(q, path)))
}

/// Applies `config` for `manager` over `current` (None: the object is being created). Returns the merged
/// object with its managedFields, or the conflicts when not forced.
pub fn apply(
    def: &ResourceDef,
    current: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    subresource: Option<&str>,
) -> Result<Value, Vec<Conflict>> {
    let applied_view = tracked(def, config, subresource);
    let applied = leaves(def, &applied_view);
    let mut entries = read(current);
    let current_view = current.map(|c| tracked(def, c, subresource));
    let sub = subresource.unwrap_or_default().to_owned();

    // Conflicts: fields another manager owns whose value the apply would change.
    let mut conflicts = Vec::new();
    let mut conflicting: Vec<(usize, Path)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if entry.manager == manager {
            continue;
        }
        for path in &applied {
            let new_value = fields::get(&applied_view, path);
            let changes = |at: &Path| {
                let old = current_view.as_ref().and_then(|v| fields::get(v, at));
                old.is_some() && old != fields::get(&applied_view, at)
            };
            // A field owned by the other manager at, above or (unless merged into as an object) below the
            // applied one, whose value the apply changes.
            let conflict = entry.fields.iter().any(|q| {
                fields::overlaps(q, path)
                    && if q.len() > path.len() {
                        !new_value.is_some_and(Value::is_object) && changes(q)
                    } else {
                        changes(path)
                    }
            });
            if conflict {
                conflicts.push(Conflict {
                    manager: entry.manager.clone(),
                    api_version: entry.api_version.clone(),
                    field: fields::display(path),
                });
                conflicting.push((i, path.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for (i, path) in conflicting {
        if let Some(entry) = entries.get_mut(i) {
            entry.fields.retain(|q| !fields::overlaps(q, &path));
        }
    }

    let mut object = current.cloned().unwrap_or_else(|| json!({"metadata": {}}));
    let mine = entries
        .iter()
        .position(|e| e.manager == manager && e.operation == "Apply" && e.subresource == sub);
    if let Some(me) = mine {
        // Fields this manager stopped applying go unless someone else owns them; list items go as a whole
        // when nothing of them is applied any more.
        let dropped: Vec<Path> = entries[me].fields.difference(&applied).cloned().collect();
        let mut removals: Vec<Path> = Vec::new();
        for path in &dropped {
            let item_prefix = path
                .iter()
                .rposition(|s| s.starts_with("k:") || s.starts_with("v:"))
                .map(|i| path[..=i].to_vec());
            if let Some(prefix) = item_prefix
                && !applied.iter().any(|p| p.starts_with(&prefix))
                && !owned_by_others(&entries, me, &prefix)
            {
                removals.push(prefix);
            } else if !owned_by_others(&entries, me, path) {
                removals.push(path.clone());
            }
        }
        removals.sort_by_key(|p| std::cmp::Reverse(p.len()));
        removals.dedup();
        for path in removals {
            fields::remove(&mut object, &path);
        }
    }
    let mut merge_config = config.clone();
    if let Some(map) = merge_config.as_object_mut() {
        if def.status_subresource {
            if subresource == Some("status") {
                map.retain(|k, _| matches!(k.as_str(), "status" | "apiVersion" | "kind"));
            } else {
                map.remove("status");
            }
        }
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            meta.remove("resourceVersion");
        }
    }
    fields::merge(def, &mut object, &merge_config, &[]);
    let entry = Entry {
        manager: manager.to_owned(),
        operation: "Apply".into(),
        api_version: def.api_version(),
        time: now(),
        subresource: sub,
        fields: applied,
    };
    match mine {
        Some(me) => entries[me] = entry,
        None => entries.push(entry),
    }
    write(&mut object, &entries);
    Ok(object)
}

/// Records a non-apply write by `manager` (`operation: Update`): the fields it changed become its own and
/// are taken from every other manager. `new` gets the resulting managedFields.
pub fn record_update(
    def: &ResourceDef,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
) {
    let old_view = old.map(|o| tracked(def, o, subresource));
    let new_view = tracked(def, new, subresource);
    let mut changed = FieldSet::new();
    fields::diff(
        def,
        old_view.as_ref(),
        Some(&new_view),
        &[],
        &Vec::new(),
        &mut changed,
    );
    let mut entries = read(old);
    if changed.is_empty() {
        write(new, &entries);
        return;
    }
    let sub = subresource.unwrap_or_default().to_owned();
    for entry in &mut entries {
        entry
            .fields
            .retain(|q| !changed.iter().any(|p| fields::overlaps(p, q)));
    }
    let present: FieldSet = changed
        .into_iter()
        .filter(|p| fields::get(&new_view, p).is_some())
        .collect();
    let position = entries
        .iter()
        .position(|e| e.manager == manager && e.operation == "Update" && e.subresource == sub);
    let index = match position {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_owned(),
                operation: "Update".into(),
                api_version: def.api_version(),
                time: String::new(),
                subresource: sub,
                fields: FieldSet::new(),
            });
            entries.len() - 1
        }
    };
    entries[index].fields.extend(present);
    entries[index].time = now();
    entries[index].api_version = def.api_version();
    write(new, &entries);
}

/// The 409 message of an apply conflict, in the real server's words.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let n = conflicts.len();
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with \"{}\" using {}: {}",
            one.manager, one.api_version, one.field
        );
    }
    let mut message = format!("Apply failed with {n} conflicts:");
    let mut managers: Vec<(&str, &str)> = conflicts
        .iter()
        .map(|c| (c.manager.as_str(), c.api_version.as_str()))
        .collect();
    managers.dedup();
    for (manager, version) in managers {
        message.push_str(&format!(" conflicts with \"{manager}\" using {version}:"));
        for c in conflicts.iter().filter(|c| c.manager == manager) {
            message.push_str(&format!("\n- {}", c.field));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtins;

    fn cm_def() -> ResourceDef {
        builtins().into_iter().find(|d| d.plural == "configmaps").unwrap()
    }

    #[test]
    fn dropped_fields_are_removed_unless_shared() {
        let def = cm_def();
        let first = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "data": {"a": "1", "b": "2"}});
        let object = apply(&def, None, &first, "one", false, None).unwrap();
        let second = json!({"metadata": {"name": "a"}, "data": {"a": "1"}});
        let object = apply(&def, Some(&object), &second, "one", false, None).unwrap();
        assert_eq!(object["data"], json!({"a": "1"}));
        assert!(object["metadata"].get("labels").is_none());
        // Another manager applying the same value shares ownership: no conflict, and it keeps the field.
        let object = apply(&def, Some(&object), &second, "two", false, None).unwrap();
        let object = apply(&def, Some(&object), &json!({"data": {}}), "one", false, None).unwrap();
        assert_eq!(object["data"], json!({"a": "1"}));
    }

    #[test]
    fn conflicts_and_force() {
        let def = cm_def();
        let object = apply(&def, None, &json!({"data": {"a": "1"}}), "one", false, None).unwrap();
        let err = apply(
            &def,
            Some(&object),
            &json!({"data": {"a": "2"}}),
            "two",
            false,
            None,
        )
        .unwrap_err();
        assert_eq!(err[0].field, ".data.a");
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"one\" using v1: .data.a"
        );
        let object = apply(
            &def,
            Some(&object),
            &json!({"data": {"a": "2"}}),
            "two",
            true,
            None,
        )
        .unwrap();
        assert_eq!(object["data"]["a"], "2");
        let managers: Vec<&str> = object["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["two"]);
    }

    #[test]
    fn updates_take_ownership() {
        let def = cm_def();
        let object = apply(&def, None, &json!({"data": {"a": "1"}}), "one", false, None).unwrap();
        let mut new = object.clone();
        new["data"]["a"] = json!("9");
        record_update(&def, Some(&object), &mut new, "kubectl-edit", None);
        let entries = new["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["manager"], "kubectl-edit");
        assert_eq!(entries[0]["operation"], "Update");
        let err = apply(&def, Some(&new), &json!({"data": {"a": "1"}}), "one", false, None).unwrap_err();
        assert_eq!(err[0].manager, "kubectl-edit");
    }
}
