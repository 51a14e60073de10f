//! The emulator driven by a second official client in another language: the Python `kubernetes` package
//! (PyPI), as a user of the local mode would. Each test starts its own emulator on a free port, writes a
//! kubeconfig into a temporary directory and runs one script of `tests/python/` against it; the script's
//! assertions decide. The tests fail (never skip) when python3 or the package is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use kube_emulator::Emulator;

const INSTALL: &str = "run scripts/install-test-tools.sh, which installs the Python kubernetes package";

/// Checks that python3 can import `kubernetes`, failing with what to run when it cannot.
fn require_python_client() {
    let output = Command::new("python3")
        .args(["-c", "import kubernetes; print(kubernetes.__version__)"])
        .output()
        .unwrap_or_else(|e| panic!("python3 cannot be run ({e}): {INSTALL}"));
    assert!(
        output.status.success(),
        "python3 cannot import kubernetes ({}): {INSTALL}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// Runs `tests/python/<script>` against a fresh emulator; returns its standard output.
async fn run(script: &str) -> String {
    require_python_client();
    let emulator = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&kubeconfig).unwrap();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python");
    let mut command = tokio::process::Command::new("python3");
    command
        .arg(scripts.join(script))
        .arg(&kubeconfig)
        .current_dir(dir.path())
        .env("PYTHONPATH", &scripts)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The dynamic client caches discovery under the temporary directory, not in the shared /tmp.
        .env("TMPDIR", dir.path())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(240), command.output())
        .await
        .expect("the script did not finish in 240 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    emulator.shutdown().await;
    stdout
}

#[tokio::test]
async fn every_served_resource_is_created_read_listed_watched_patched_and_deleted() {
    let out = run("discovery_walk.py").await;
    assert!(out.contains("walked "), "{out}");
    println!("{out}");
}

#[tokio::test]
async fn watches_and_informers_with_label_selectors_and_resync() {
    let out = run("watch_informer.py").await;
    println!("{out}");
}

#[tokio::test]
async fn create_from_yaml_with_multi_document_and_list_manifests_of_every_kind() {
    let out = run("create_from_yaml.py").await;
    println!("{out}");
}

#[tokio::test]
async fn server_side_apply_conflicts_dry_run_deletion_options_and_status_bodies() {
    let out = run("writes.py").await;
    println!("{out}");
}
