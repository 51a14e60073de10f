//! The write verbs: create, update and patch (merge, JSON, strategic, server-side apply), with the real
//! server's rules for uid, generation, resourceVersion preconditions, the status subresource, managedFields
//! and finalizers. Deletion and garbage collection are in [`crate::delete`].

use serde_json::{Value, json};

use crate::delete::collect_garbage;
use crate::errors::ApiError;
use crate::resources::{ResourceDef, from_crd};
use crate::schema;
use crate::ssa;
use crate::state::{State, now};
use crate::store::Store;
use crate::strategic;

/// How unknown fields of custom objects are treated (`fieldValidation`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Refuse with 400 (kubectl's default).
    Strict,
    /// Prune and warn (the server's default when the parameter is absent).
    #[default]
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
    /// `application/strategic-merge-patch+json` (built-ins only).
    Strategic,
    /// `application/apply-patch+yaml`: server-side apply.
    Apply,
}

/// Options of one write request.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `fieldValidation`.
    pub validation: FieldValidation,
    /// `fieldManager`, or the client's user agent up to the first `/`.
    pub manager: String,
    /// `force` (server-side apply).
    pub force: bool,
    /// `dryRun=All`: everything but storing.
    pub dry_run: bool,
}

/// A write's result: the object and warnings for the `Warning` header.
pub type Written = (Value, Vec<String>);

/// What `metadata.generation` follows: everything but metadata, and but status when status is a
/// subresource (for a custom resource without one, a status change is a change of the object).
fn strip_for_generation(def: &ResourceDef, object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(map) = copy.as_object_mut() {
        for key in ["metadata", "apiVersion", "kind"] {
            map.remove(key);
        }
        if def.status_subresource || def.schema.is_none() {
            map.remove("status");
        }
    }
    copy
}

/// Defaults, prunes and validates a custom object (CEL rules included, `old` for transition rules);
/// returns warnings or the failure.
fn check_schema(
    def: &ResourceDef,
    name: &str,
    object: &mut Value,
    old: Option<&Value>,
    validation: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let Some(schema) = &def.schema else {
        return Ok(Vec::new());
    };
    let mut outcome = schema::process(object, schema);
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
    if outcome.causes.is_empty() {
        outcome.causes = crate::cel::validate(schema, object, old);
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

fn crd_accepted(state: &State, object: &mut Value, old: Option<&Value>) {
    let defs = from_crd(object);
    if let Ok(mut served) = state.defs.lock() {
        // The CRD's versions replace whatever it served before (a version may have been dropped).
        if let Some(first) = defs.first() {
            served.retain(|d| d.bucket != first.bucket);
        }
        served.extend(defs);
    }
    let conditions = old
        .map(|o| o["status"]["conditions"].clone())
        .filter(Value::is_array)
        .unwrap_or_else(|| {
            let time = now();
            json!([
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": time},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": time},
            ])
        });
    object["status"] = json!({
        "acceptedNames": object["spec"]["names"].clone(),
        "storedVersions": object["spec"]["versions"].as_array().into_iter().flatten()
            .filter(|v| v["storage"].as_bool() == Some(true)).map(|v| v["name"].clone()).collect::<Vec<_>>(),
        "conditions": conditions,
    });
}

/// Creates an object. `applied` is true when it comes from server-side apply (managedFields already set).
pub fn create(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    mut object: Value,
    options: &WriteOptions,
    applied: bool,
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
    let warnings = check_schema(def, &name, &mut object, None, options.validation)?;
    let mut store = state.store.lock().map_err(|_| ApiError::poisoned())?;
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
        m.remove("deletionGracePeriodSeconds");
        if !applied {
            m.remove("managedFields");
        }
    }
    if def.status_subresource
        && def.plural != "namespaces"
        && let Some(map) = object.as_object_mut()
    {
        map.remove("status");
    }
    crate::defaults::apply(def, &mut object, None, &store);
    if def.plural == "customresourcedefinitions" {
        crd_accepted(state, &mut object, None);
    }
    if !applied {
        ssa::record_update(def, None, &mut object, &options.manager, None);
    }
    if options.dry_run {
        return Ok((object, warnings));
    }
    let stored = store.put(&def.bucket, namespace, &name, object, true);
    Ok((stored, warnings))
}

/// One write over an existing object.
struct Over<'a> {
    def: &'a ResourceDef,
    namespace: &'a str,
    name: &'a str,
    subresource: Option<&'a str>,
    options: &'a WriteOptions,
    /// False for server-side apply, whose result already carries its managedFields.
    record_manager: bool,
}

/// Writes `new` over `old` (both whole objects), honouring the status subresource, generation, managedFields
/// and finalizers.
fn write_over(state: &State, store: &mut Store, w: &Over<'_>, old: &Value, mut new: Value) -> Value {
    let def = w.def;
    let managed = new["metadata"].get("managedFields").cloned();
    if def.status_subresource {
        let keep_status_only = w.subresource == Some("status");
        let source = if keep_status_only { &new } else { old };
        let status = source.get("status").cloned();
        if keep_status_only {
            new = old.clone();
        }
        match status {
            Some(status) => new["status"] = status,
            None => {
                if let Some(map) = new.as_object_mut() {
                    map.remove("status");
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
        "deletionGracePeriodSeconds",
        "name",
        "namespace",
        "managedFields",
    ] {
        let value = if key == "managedFields" && !w.record_manager {
            managed.clone()
        } else {
            old["metadata"].get(key).cloned()
        };
        match value {
            Some(value) => new["metadata"][key] = value,
            None => {
                if let Some(m) = new["metadata"].as_object_mut() {
                    m.remove(key);
                }
            }
        }
    }
    crate::defaults::apply(def, &mut new, Some(old), store);
    if w.record_manager {
        ssa::record_update(def, Some(old), &mut new, &w.options.manager, w.subresource);
    }
    let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
    let changed = strip_for_generation(def, old) != strip_for_generation(def, &new);
    new["metadata"]["generation"] = json!(if changed { generation + 1 } else { generation });
    if def.plural == "customresourcedefinitions" {
        crd_accepted(state, &mut new, Some(old));
    }
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    if old == &new || w.options.dry_run {
        // A no-op write changes nothing, not even the resource version (no watch event).
        return new;
    }
    let finalizers_empty = new["metadata"]["finalizers"].as_array().is_none_or(Vec::is_empty);
    if new["metadata"]["deletionTimestamp"].is_string() && finalizers_empty {
        store.put(&def.bucket, w.namespace, w.name, new, false);
        let removed = store.remove(&def.bucket, w.namespace, w.name).unwrap_or_default();
        collect_garbage(store);
        return removed;
    }
    store.put(&def.bucket, w.namespace, w.name, new, false)
}

/// Replaces an object (PUT), with optimistic concurrency on `metadata.resourceVersion`.
pub fn update(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    mut object: Value,
    subresource: Option<&str>,
    options: &WriteOptions,
) -> Result<Written, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request was in an unknown format",
        ));
    }
    if let Some(body_name) = object["metadata"]["name"].as_str()
        && body_name != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let mut store = state.store.lock().map_err(|_| ApiError::poisoned())?;
    let current = store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))?;
    let warnings = if subresource.is_none() {
        check_schema(def, name, &mut object, Some(&current), options.validation)?
    } else {
        Vec::new()
    };
    if let Some(rv) = object["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        && Some(rv) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(def, name));
    }
    let over = Over {
        def,
        namespace,
        name,
        subresource,
        options,
        record_manager: true,
    };
    Ok((write_over(state, &mut store, &over, &current, object), warnings))
}

fn json_patch(def: &ResourceDef, name: &str, target: &mut Value, body: &Value) -> Result<(), ApiError> {
    // As in the real server, `test` against null passes for a path that does not exist.
    let mut ops = body
        .as_array()
        .cloned()
        .ok_or_else(|| ApiError::bad_request("a JSON patch must be a list of operations"))?;
    ops.retain(|op| {
        !(op["op"] == "test"
            && op["value"].is_null()
            && op["path"].as_str().is_some_and(|p| target.pointer(p).is_none()))
    });
    let operations: json_patch::Patch = serde_json::from_value(Value::Array(ops))
        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
    json_patch::patch(target, &operations).map_err(|e| {
        ApiError::invalid(
            def,
            name,
            &[schema::Cause {
                reason: "FieldValueInvalid",
                field: "patch".into(),
                message: e.to_string(),
            }],
        )
    })
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
    options: &WriteOptions,
) -> Result<(Value, Vec<String>, bool), ApiError> {
    if kind == PatchType::Strategic && def.schema.is_some() {
        return Err(ApiError::unsupported_patch());
    }
    let mut store = state.store.lock().map_err(|_| ApiError::poisoned())?;
    let existing = store.get(&def.bucket, namespace, name).cloned();
    let Some(old) = existing else {
        drop(store);
        if kind != PatchType::Apply {
            return Err(ApiError::not_found(def, name));
        }
        let mut object = ssa::apply(def, None, &body, &options.manager, options.force, None)
            .map_err(|c| ApiError::apply_conflict(def, name, &c))?;
        object["metadata"]["name"] = json!(name);
        let (created, warnings) = create(state, def, namespace, object, options, true)?;
        return Ok((created, warnings, true));
    };
    let mut new = old.clone();
    match kind {
        PatchType::Merge => json_patch::merge(&mut new, &body),
        PatchType::Strategic => strategic::apply(def, &mut new, &body),
        PatchType::Json => json_patch(def, name, &mut new, &body)?,
        PatchType::Apply => {
            if body["metadata"]["name"].as_str().is_some_and(|n| n != name) {
                return Err(ApiError::bad_request(
                    "the name of the object does not match the name on the URL",
                ));
            }
            new = ssa::apply(
                def,
                Some(&old),
                &body,
                &options.manager,
                options.force,
                subresource,
            )
            .map_err(|c| ApiError::apply_conflict(def, name, &c))?;
        }
    }
    // A resourceVersion in the patch is a precondition.
    if let Some(rv) = body["metadata"]["resourceVersion"].as_str()
        && Some(rv) != old["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::conflict(def, name));
    }
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    let warnings = if subresource.is_none() {
        check_schema(def, name, &mut new, Some(&old), options.validation)?
    } else {
        Vec::new()
    };
    let over = Over {
        def,
        namespace,
        name,
        subresource,
        options,
        record_manager: kind != PatchType::Apply,
    };
    let written = write_over(state, &mut store, &over, &old, new);
    Ok((written, warnings, false))
}
