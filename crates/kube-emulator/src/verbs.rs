//! The write verbs: create, update, patch (merge, JSON, strategic-as-merge, server-side apply) and delete,
//! with the real server's rules for uid, generation, resourceVersion preconditions, the status subresource,
//! finalizers and garbage collection of owned objects.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::{ResourceDef, from_crd};
use crate::schema;
use crate::state::{State, now};
use crate::store::Store;

/// How unknown fields of custom objects are treated (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse with 400 (kubectl's default).
    #[default]
    Strict,
    /// Prune and warn.
    Warn,
    /// Prune silently.
    Ignore,
}

/// The patch types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`, treated as a merge patch.
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply,
}

/// A write's result: the object and warnings for the `Warning` header.
pub type Written = (Value, Vec<String>);

fn strip_for_generation(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        for key in ["metadata", "status", "apiVersion", "kind"] {
            map.remove(key);
        }
    }
    copy
}

/// Defaults, prunes and validates a custom object; returns warnings or the failure.
fn check_schema(
    def: &ResourceDef,
    name: &str,
    object: &mut Value,
    validation: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let Some(schema) = &def.schema else {
        return Ok(Vec::new());
    };
    let outcome = schema::process(object, schema);
    if !outcome.unknown.is_empty() && validation == FieldValidation::Strict {
        let list: Vec<String> = outcome
            .unknown
            .iter()
            .map(|u| format!("unknown field \"{u}\""))
            .collect();
        return Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            list.join(", ")
        )));
    }
    if !outcome.causes.is_empty() {
        return Err(ApiError::invalid(def, name, &outcome.causes));
    }
    Ok(match validation {
        FieldValidation::Warn => outcome
            .unknown
            .iter()
            .map(|u| format!("unknown field \"{u}\""))
            .collect(),
        _ => Vec::new(),
    })
}

fn namespace_exists(store: &Store, namespace: &str) -> bool {
    store.get("/namespaces", "", namespace).is_some()
}

fn crd_accepted(state: &State, object: &mut Value) {
    let defs = from_crd(object);
    if let Ok(mut served) = state.defs.lock() {
        for def in defs {
            served.retain(|d| !(d.group == def.group && d.version == def.version && d.plural == def.plural));
            served.push(def);
        }
    }
    let time = now();
    object["status"] = json!({
        "acceptedNames": object["spec"]["names"].clone(),
        "storedVersions": object["spec"]["versions"].as_array().into_iter().flatten()
            .filter(|v| v["storage"].as_bool() == Some(true)).map(|v| v["name"].clone()).collect::<Vec<_>>(),
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": time},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": time},
        ],
    });
}

/// Creates an object.
pub fn create(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    mut object: Value,
    validation: FieldValidation,
) -> Result<Written, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was in an unknown format",
        ));
    }
    let name = match object["metadata"]["name"].as_str().filter(|n| !n.is_empty()) {
        Some(name) => name.to_owned(),
        None => match object["metadata"]["generateName"].as_str() {
            Some(prefix) => format!("{prefix}{}", state.suffix()),
            None => {
                return Err(ApiError::invalid(
                    def,
                    "",
                    &[schema::Cause {
                        reason: "FieldValueRequired",
                        field: "metadata.name".into(),
                        message: "Required value: name or generateName is required".into(),
                    }],
                ));
            }
        },
    };
    let warnings = check_schema(def, &name, &mut object, validation)?;
    let mut store = state
        .store
        .lock()
        .map_err(|_| ApiError::bad_request("store poisoned"))?;
    if def.namespaced && !namespace_exists(&store, namespace) {
        let ns_def = state
            .find("", "v1", "namespaces")
            .ok_or_else(|| ApiError::no_route("namespaces"))?;
        return Err(ApiError::not_found(&ns_def, namespace));
    }
    if store.get(&def.bucket, namespace, &name).is_some() {
        return Err(ApiError::already_exists(def, &name));
    }
    object["apiVersion"] = json!(def.api_version());
    object["kind"] = json!(def.kind);
    let meta = &mut object["metadata"];
    meta["name"] = json!(name);
    if def.namespaced {
        meta["namespace"] = json!(namespace);
    } else if let Some(m) = meta.as_object_mut() {
        m.remove("namespace");
    }
    meta["uid"] = json!(state.uid());
    meta["creationTimestamp"] = json!(now());
    meta["generation"] = json!(1);
    if let Some(m) = meta.as_object_mut() {
        m.remove("resourceVersion");
        m.remove("deletionTimestamp");
    }
    if def.status_subresource
        && def.schema.is_some()
        && let Some(map) = object.as_object_mut()
    {
        map.remove("status");
    }
    if def.plural == "customresourcedefinitions" {
        crd_accepted(state, &mut object);
    }
    if def.plural == "namespaces" {
        object["status"] = json!({"phase": "Active"});
    }
    let stored = store.put(&def.bucket, namespace, &name, object, true);
    Ok((stored, warnings))
}

/// Writes `new` over `old` (both whole objects), honouring the status subresource, generation and
/// finalizers. `subresource` is `Some("status")` for `/status` writes.
#[allow(clippy::too_many_arguments)]
fn write_over(
    state: &State,
    store: &mut Store,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    old: &Value,
    mut new: Value,
    subresource: Option<&str>,
) -> Value {
    if def.status_subresource {
        if subresource == Some("status") {
            let status = new.get("status").cloned();
            new = old.clone();
            match status {
                Some(status) => new["status"] = status,
                None => {
                    if let Some(map) = new.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        } else {
            match old.get("status") {
                Some(status) => new["status"] = status.clone(),
                None => {
                    if let Some(map) = new.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
    }
    new["apiVersion"] = json!(def.api_version());
    new["kind"] = json!(def.kind);
    for key in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "name",
        "namespace",
    ] {
        match old["metadata"].get(key) {
            Some(value) => new["metadata"][key] = value.clone(),
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(key);
                }
            }
        }
    }
    let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
    let changed = strip_for_generation(old) != strip_for_generation(&new);
    new["metadata"]["generation"] = json!(if changed { generation + 1 } else { generation });
    if def.plural == "customresourcedefinitions" {
        crd_accepted(state, &mut new);
    }
    let finalizers_empty = new["metadata"]["finalizers"].as_array().is_none_or(Vec::is_empty);
    if new["metadata"]["deletionTimestamp"].is_string() && finalizers_empty {
        store.put(&def.bucket, namespace, name, new, false);
        let removed = store.remove(&def.bucket, namespace, name).unwrap_or_default();
        collect_garbage(state, store);
        return removed;
    }
    if old == &new_with_rv(&new, old) {
        // A no-op write changes nothing, not even the resource version (no watch event).
        return old.clone();
    }
    store.put(&def.bucket, namespace, name, new, false)
}

fn new_with_rv(new: &Value, old: &Value) -> Value {
    let mut copy = new.clone();
    copy["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    copy
}

/// Replaces an object (PUT), with optimistic concurrency on `metadata.resourceVersion`.
pub fn update(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    mut object: Value,
    subresource: Option<&str>,
    validation: FieldValidation,
) -> Result<Written, ApiError> {
    let warnings = if subresource.is_none() {
        check_schema(def, name, &mut object, validation)?
    } else {
        Vec::new()
    };
    let mut store = state
        .store
        .lock()
        .map_err(|_| ApiError::bad_request("store poisoned"))?;
    let old = store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))?;
    if let Some(rv) = object["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        && Some(rv) != old["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(def, name));
    }
    Ok((
        write_over(state, &mut store, def, namespace, name, &old, object, subresource),
        warnings,
    ))
}

/// Removes from `target` every leaf that `previous` has and `current` lacks (the fields a manager stopped
/// applying).
fn remove_dropped(target: &mut Value, previous: &Value, current: &Value) {
    let (Some(prev), Some(target_map)) = (previous.as_object(), target.as_object_mut()) else {
        return;
    };
    for (key, prev_value) in prev {
        if matches!(key.as_str(), "apiVersion" | "kind") {
            continue;
        }
        match current.get(key) {
            None => {
                target_map.remove(key);
            }
            Some(cur) if prev_value.is_object() && cur.is_object() => {
                if let Some(child) = target_map.get_mut(key) {
                    remove_dropped(child, prev_value, cur);
                }
            }
            Some(_) => {}
        }
    }
}

/// Patches an object; server-side apply creates it when missing. Returns the object, warnings and whether it
/// was created.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    subresource: Option<&str>,
    kind: PatchType,
    body: Value,
    manager: Option<&str>,
    validation: FieldValidation,
) -> Result<(Value, Vec<String>, bool), ApiError> {
    let existing = state
        .store
        .lock()
        .ok()
        .and_then(|s| s.get(&def.bucket, namespace, name).cloned());
    let key = (
        def.bucket.clone(),
        namespace.to_owned(),
        name.to_owned(),
        manager.unwrap_or_default().to_owned(),
    );
    let Some(old) = existing else {
        if kind != PatchType::Apply {
            return Err(ApiError::not_found(def, name));
        }
        let mut object = body.clone();
        object["metadata"]["name"] = json!(name);
        let (created, warnings) = create(state, def, namespace, object, validation)?;
        if let Ok(mut applied) = state.applied.lock() {
            applied.insert(key, body);
        }
        return Ok((created, warnings, true));
    };
    let mut new = old.clone();
    match kind {
        PatchType::Merge | PatchType::Strategic => json_patch::merge(&mut new, &body),
        PatchType::Json => {
            // As in the real server, `test` against null passes for a path that does not exist.
            let mut ops = body.as_array().cloned().unwrap_or_default();
            ops.retain(|op| {
                !(op["op"] == "test"
                    && op["value"].is_null()
                    && op["path"].as_str().is_some_and(|p| new.pointer(p).is_none()))
            });
            let operations: json_patch::Patch = serde_json::from_value(Value::Array(ops))
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut new, &operations).map_err(|e| {
                ApiError::invalid(
                    def,
                    name,
                    &[schema::Cause {
                        reason: "FieldValueInvalid",
                        field: "patch".into(),
                        message: e.to_string(),
                    }],
                )
            })?;
        }
        PatchType::Apply => {
            let previous = state.applied.lock().ok().and_then(|a| a.get(&key).cloned());
            if let Some(previous) = previous {
                remove_dropped(&mut new, &previous, &body);
            }
            let mut body_without_rv = body.clone();
            if let Some(m) = body_without_rv["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            json_patch::merge(&mut new, &body_without_rv);
        }
    }
    // A resourceVersion in the patch is a precondition.
    let precondition = body["metadata"]["resourceVersion"].as_str().map(str::to_owned);
    if let Some(rv) = &precondition
        && Some(rv.as_str()) != old["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(def, name));
    }
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    let warnings = if subresource.is_none() {
        check_schema(def, name, &mut new, validation)?
    } else {
        Vec::new()
    };
    let mut store = state
        .store
        .lock()
        .map_err(|_| ApiError::bad_request("store poisoned"))?;
    let current = store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))?;
    if current["metadata"]["resourceVersion"] != old["metadata"]["resourceVersion"] {
        return Err(ApiError::conflict(def, name));
    }
    let written = write_over(state, &mut store, def, namespace, name, &old, new, subresource);
    if kind == PatchType::Apply
        && let Ok(mut applied) = state.applied.lock()
    {
        applied.insert(key, body);
    }
    Ok((written, warnings, false))
}

/// Deletes an object: with finalizers it only gets a `deletionTimestamp`; otherwise it is removed and the
/// objects it owned are garbage collected.
pub fn delete(state: &State, def: &ResourceDef, namespace: &str, name: &str) -> Result<Value, ApiError> {
    let mut store = state
        .store
        .lock()
        .map_err(|_| ApiError::bad_request("store poisoned"))?;
    let mut object = store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))?;
    let has_finalizers = object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if !object["metadata"]["deletionTimestamp"].is_string() {
            object["metadata"]["deletionTimestamp"] = json!(now());
            object["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            object = store.put(&def.bucket, namespace, name, object, false);
        }
        return Ok(object);
    }
    let removed = store.remove(&def.bucket, namespace, name).unwrap_or(object);
    if def.plural == "namespaces" {
        let buckets: Vec<String> = store.all().map(|(b, _)| b.clone()).collect();
        for bucket in buckets {
            for item in store.list(&bucket, Some(name)) {
                let item_name = item["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                store.remove(&bucket, name, &item_name);
            }
        }
    }
    if def.plural == "customresourcedefinitions" {
        for served in from_crd(&removed) {
            store.drop_bucket(&served.bucket);
            if let Ok(mut defs) = state.defs.lock() {
                defs.retain(|d| d.bucket != served.bucket);
            }
        }
    }
    collect_garbage(state, &mut store);
    Ok(removed)
}

/// Background garbage collection: deletes objects all of whose owners are gone (dependents with finalizers
/// get a deletionTimestamp), until nothing more goes.
fn collect_garbage(state: &State, store: &mut Store) {
    let _ = state;
    loop {
        let uids: HashSet<String> = store
            .all()
            .flat_map(|(_, objects)| {
                objects
                    .values()
                    .filter_map(|o| o["metadata"]["uid"].as_str().map(str::to_owned))
            })
            .collect();
        let orphans: Vec<(String, String, String, bool)> = store
            .all()
            .flat_map(|(bucket, objects)| {
                objects.iter().filter_map(|((ns, name), o)| {
                    let owners = o["metadata"]["ownerReferences"].as_array()?;
                    let orphaned = !owners.is_empty()
                        && owners
                            .iter()
                            .all(|r| r["uid"].as_str().is_none_or(|u| !uids.contains(u)));
                    let finalizers = o["metadata"]["finalizers"]
                        .as_array()
                        .is_some_and(|f| !f.is_empty());
                    let pending = o["metadata"]["deletionTimestamp"].is_string();
                    (orphaned && !(finalizers && pending))
                        .then(|| (bucket.clone(), ns.clone(), name.clone(), finalizers))
                })
            })
            .collect();
        if orphans.is_empty() {
            return;
        }
        for (bucket, ns, name, finalizers) in orphans {
            if finalizers {
                if let Some(mut object) = store.get(&bucket, &ns, &name).cloned() {
                    object["metadata"]["deletionTimestamp"] = json!(now());
                    store.put(&bucket, &ns, &name, object, false);
                }
            } else {
                store.remove(&bucket, &ns, &name);
            }
        }
    }
}
