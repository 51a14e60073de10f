//! Helpers shared by the repository-level tests: locating the repository, its tools and binaries.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap_or_else(|_| PathBuf::from(".."))
}

/// Finds a tool: the environment variable `env` if set, else `<repo>/.tools/bin/<name>`, else `PATH`.
/// Panics with a message naming the installer script when it is nowhere.
pub fn tool(name: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let local = repo_root().join(".tools/bin").join(name);
    if local.is_file() {
        return local;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("{name} not found (set {env}, or run scripts/install-test-tools.sh to install it into .tools/bin)");
}
