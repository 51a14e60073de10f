//! `--state-dir`: the whole EKS state as one JSON file, replaced atomically (write then rename).
//! Deadlines are wall-clock times, so a restarted emulator resumes every transition where it would have been.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::eks::model::State;

/// Why state could not be read or written.
#[derive(Debug, Error)]
pub enum PersistError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file is not valid.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

fn file(dir: &Path) -> PathBuf {
    dir.join("eks-emulator-state.json")
}

/// The state saved in `dir`, or an empty state when there is none.
pub fn load(dir: &Path) -> Result<State, PersistError> {
    let path = file(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| PersistError::Json { path, source }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(source) => Err(PersistError::Io { path, source }),
    }
}

/// Saves `state` in `dir` (created if missing).
pub fn save(dir: &Path, state: &State) -> Result<(), PersistError> {
    let path = file(dir);
    let io = |source| PersistError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let bytes = serde_json::to_vec(state).map_err(|source| PersistError::Json {
        path: path.clone(),
        source,
    })?;
    let temp = dir.join("eks-emulator-state.json.tmp");
    std::fs::write(&temp, bytes).map_err(io)?;
    std::fs::rename(&temp, &path).map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().regions.is_empty());
        let mut state = State::default();
        state.region("eu-west-1");
        state.allocate_id();
        save(dir.path(), &state).unwrap();
        let back = load(dir.path()).unwrap();
        assert_eq!(back.next_id, 1);
        assert!(back.regions.contains_key("eu-west-1"));
    }
}
