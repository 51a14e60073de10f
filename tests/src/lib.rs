//! Helpers shared by the repository-level tests: locating the repository, its tools and binaries.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(".."))
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
    panic!(
        "{name} not found (set {env}, or run scripts/install-test-tools.sh to install it into .tools/bin)"
    );
}

/// The path of a binary of this workspace built next to the running test (`target/<profile>/<name>`). Cargo
/// builds it when it is missing or older than a source file of the workspace, so that a binary left over from
/// an older build is never tested by mistake. (`cargo nextest run --workspace` builds it fresh with the tests'
/// features; asking cargo unconditionally would rebuild it with other features and cost minutes.)
pub fn workspace_binary(package: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let candidate = profile_dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = format!("{package}/{name}");
    // Checked once per process: walking the sources again for every operator a test starts is wasted work.
    let stale = !built.contains(&key) && {
        let built_at = std::fs::metadata(&candidate).and_then(|m| m.modified()).ok();
        built_at.is_none_or(|at| newest_source_change(&repo_root()).is_some_and(|s| s > at))
    };
    built.insert(key);
    if stale {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .current_dir(repo_root());
        if let Some(target_dir) = profile_dir.parent() {
            command.arg("--target-dir").arg(target_dir);
        }
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            command.arg("--release");
        }
        let status = command.status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "building {package}/{name} failed"
        );
    }
    assert!(candidate.is_file(), "{} was not built", candidate.display());
    candidate
}

/// When a file that goes into the workspace's binaries last changed: sources and manifests under `crates/`,
/// `Cargo.lock`, and `deploy/` (the binary embeds the examples and the CRD).
fn newest_source_change(root: &Path) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(modified));
            }
        }
    }
    let mut newest = std::fs::metadata(root.join("Cargo.lock"))
        .and_then(|m| m.modified())
        .ok();
    for dir in ["crates", "deploy"] {
        walk(&root.join(dir), &mut newest);
    }
    newest
}

/// Runs kubectl with this kubeconfig and returns (success, stdout, stderr).
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    kubectl_with_input(kubeconfig, args, None)
}

/// `kubectl apply -f -` with `text` (YAML or JSON documents) on standard input; returns (success, stdout,
/// stderr).
pub fn kubectl_apply_text(kubeconfig: &Path, text: &str) -> (bool, String, String) {
    kubectl_with_input(kubeconfig, &["apply", "-f", "-"], Some(text))
}

/// The one place that runs kubectl: with this kubeconfig, these arguments and, if given, this standard input.
fn kubectl_with_input(kubeconfig: &Path, args: &[&str], input: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(tool("kubectl", "KUBECTL"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running kubectl: {e}"));
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        // kubectl reads all of its input before it writes anything, so this cannot dead-lock on full pipes.
        stdin
            .write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("writing kubectl's input: {e}"));
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("running kubectl: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs kubectl and panics with its output when it fails.
pub fn kubectl_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = kubectl(kubeconfig, args);
    assert!(ok, "kubectl {} failed:\n{stdout}\n{stderr}", args.join(" "));
    stdout
}
