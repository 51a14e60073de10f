//! The `/scale` subresource of Deployments, ReplicaSets, StatefulSets and ReplicationControllers: an
//! `autoscaling/v1` `Scale` over `spec.replicas` (`pkg/registry/apps/deployment/storage/storage.go`,
//! `ScaleREST`). Reads answer the Scale; writes change only `spec.replicas` of the object.

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::ResourceDef;
use crate::state::State;
use crate::verbs::{self, PatchType, WriteOptions};

/// The label selector of a workload as a string (`matchLabels` of apps, the plain map of a
/// ReplicationController).
fn selector(spec: &Value) -> String {
    let labels = spec["selector"]["matchLabels"].as_object().or_else(|| {
        spec["selector"]
            .as_object()
            .filter(|m| !m.contains_key("matchExpressions"))
    });
    labels
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// The `Scale` of an object.
pub fn of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let mut metadata = json!({});
    for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if !meta[key].is_null() {
            metadata[key] = meta[key].clone();
        }
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector(&object["spec"])}})
}

fn current(state: &State, def: &ResourceDef, namespace: &str, name: &str) -> Result<Value, ApiError> {
    let store = state.store.lock().map_err(|_| ApiError::poisoned())?;
    store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))
}

/// `GET .../scale`.
pub fn get(state: &State, def: &ResourceDef, namespace: &str, name: &str) -> Result<Value, ApiError> {
    Ok(of(&current(state, def, namespace, name)?))
}

/// `PUT` or `PATCH .../scale`: `scale` is the new Scale (for a patch, `None` and `patch` applied to the
/// current Scale). A `resourceVersion` in it is a precondition.
pub fn write(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    body: Value,
    patch: Option<PatchType>,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    let object = current(state, def, namespace, name)?;
    let mut scale = of(&object);
    match patch {
        None => scale = body,
        Some(PatchType::Json) => {
            let operations: json_patch::Patch = serde_json::from_value(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut scale, &operations).map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        Some(_) => json_patch::merge(&mut scale, &body),
    }
    let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
    let mut change = json!({"spec": {"replicas": replicas}});
    if let Some(rv) = scale["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
    {
        change["metadata"] = json!({"resourceVersion": rv});
    }
    let (written, _, _) = verbs::patch(
        state,
        def,
        namespace,
        name,
        Some("scale"),
        PatchType::Merge,
        change,
        options,
    )?;
    Ok(of(&written))
}
