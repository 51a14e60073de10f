//! The state directory: the CA (see [`crate::tls`]), the port, the node groups EKS has announced in aws-auth
//! and every object of the cluster, so a restarted server resumes with the same CA, port (when free) and
//! objects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why the state directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading failed.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not what this server writes.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
}

const STATE_FILE: &str = "cluster-state.json";
const CRD_BUCKET: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// One stored object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedObject {
    /// Store bucket.
    pub bucket: String,
    /// Namespace (empty for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The object.
    pub object: Value,
}

/// What the state directory holds besides the CA.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saved {
    /// The port last served on.
    pub port: Option<u16>,
    /// Managed node groups whose role was added to aws-auth (EKS does it once, at creation).
    pub announced_groups: BTreeSet<String>,
    /// The cluster's objects.
    pub objects: Vec<SavedObject>,
}

impl Saved {
    /// Reads the state directory (nothing there: empty).
    pub fn load(dir: Option<&Path>) -> Result<Self, PersistError> {
        let Some(path) = dir.map(|d| d.join(STATE_FILE)) else {
            return Ok(Self::default());
        };
        if !path.is_file() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|source| PersistError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| PersistError::Parse { path, source })
    }

    /// The saved CustomResourceDefinitions, ready to apply (so that their resources are served again).
    pub fn crds(&self) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|o| o.bucket == CRD_BUCKET)
            .map(|o| {
                let mut crd = o.object.clone();
                if let Some(metadata) = crd["metadata"].as_object_mut() {
                    for field in [
                        "resourceVersion",
                        "managedFields",
                        "uid",
                        "creationTimestamp",
                        "generation",
                    ] {
                        metadata.remove(field);
                    }
                }
                if let Some(object) = crd.as_object_mut() {
                    object.remove("status");
                }
                crd
            })
            .collect()
    }

    /// Puts the saved objects other than CRDs (see [`Self::crds`]) back into a fresh store (their uids and
    /// timestamps kept).
    pub fn restore(&self, state: &Arc<kube_emulator::State>) {
        let Ok(mut store) = state.store.lock() else {
            return;
        };
        for saved in self.objects.iter().filter(|o| o.bucket != CRD_BUCKET) {
            let added = store.get(&saved.bucket, &saved.namespace, &saved.name).is_none();
            store.put(
                &saved.bucket,
                &saved.namespace,
                &saved.name,
                saved.object.clone(),
                added,
            );
        }
    }

    /// Takes the store's objects.
    pub fn capture(&mut self, state: &Arc<kube_emulator::State>) {
        let Ok(store) = state.store.lock() else {
            return;
        };
        self.objects = store
            .all()
            .flat_map(|(bucket, objects)| {
                objects.iter().map(|((namespace, name), object)| SavedObject {
                    bucket: bucket.clone(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                    object: object.as_ref().clone(),
                })
            })
            .collect();
    }

    /// Writes the state file (atomically: a temporary file renamed over it).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let temporary = dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(
            &temporary,
            serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(temporary, dir.join(STATE_FILE))
    }
}
