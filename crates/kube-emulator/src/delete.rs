//! Deletion: finalizers hold an object with a `deletionTimestamp`; otherwise it goes, and background garbage
//! collection removes the objects whose owners are all gone. Deleting a namespace removes its objects,
//! deleting a CustomResourceDefinition its resource and objects.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::resources::{ResourceDef, from_crd};
use crate::state::{State, now};
use crate::store::Store;

/// Preconditions of a delete (`DeleteOptions.preconditions`).
#[derive(Clone, Debug, Default)]
pub struct Preconditions {
    /// The object must have this uid.
    pub uid: Option<String>,
    /// The object must be at this resource version.
    pub resource_version: Option<String>,
}

impl Preconditions {
    /// From a `DeleteOptions` body (empty when there is none).
    pub fn from_body(body: &Value) -> Self {
        let p = &body["preconditions"];
        Self {
            uid: p["uid"].as_str().map(str::to_owned),
            resource_version: p["resourceVersion"].as_str().map(str::to_owned),
        }
    }
}

/// Deletes an object. Returns it (with a `deletionTimestamp` when finalizers hold it) and whether it is gone.
pub fn delete(
    state: &State,
    def: &ResourceDef,
    namespace: &str,
    name: &str,
    preconditions: &Preconditions,
    dry_run: bool,
) -> Result<(Value, bool), ApiError> {
    let mut store = state.store.lock().map_err(|_| ApiError::poisoned())?;
    let mut object = store
        .get(&def.bucket, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(def, name))?;
    let meta = &object["metadata"];
    if preconditions
        .uid
        .as_deref()
        .is_some_and(|u| meta["uid"].as_str() != Some(u))
    {
        return Err(ApiError::precondition(
            def,
            name,
            "UID",
            preconditions.uid.as_deref(),
        ));
    }
    if preconditions
        .resource_version
        .as_deref()
        .is_some_and(|rv| meta["resourceVersion"].as_str() != Some(rv))
    {
        return Err(ApiError::conflict(def, name));
    }
    let has_finalizers = meta["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    if dry_run {
        return Ok((object, !has_finalizers));
    }
    if has_finalizers {
        if !object["metadata"]["deletionTimestamp"].is_string() {
            object["metadata"]["deletionTimestamp"] = json!(now());
            object["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            object = store.put(&def.bucket, namespace, name, object, false);
        }
        return Ok((object, false));
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
    collect_garbage(&mut store);
    Ok((removed, true))
}

/// Background garbage collection: deletes objects all of whose owners are gone (dependents with finalizers
/// get a deletionTimestamp), until nothing more goes.
pub fn collect_garbage(store: &mut Store) {
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
