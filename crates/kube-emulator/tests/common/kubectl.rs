//! Running the machine's real kubectl against an emulator.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kube_emulator::Emulator;

/// `$KUBECTL`, else kubectl from PATH.
pub fn kubectl_binary() -> PathBuf {
    std::env::var_os("KUBECTL").map(PathBuf::from).unwrap_or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
            .expect("kubectl is required on PATH for these tests")
    })
}

/// Runs kubectl with the kubeconfig and a discovery cache of its own: success, stdout, stderr.
pub fn kubectl(config: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(kubectl_binary())
        .arg("--kubeconfig")
        .arg(config)
        // A discovery cache per test: ports are reused, caches must not be.
        .arg("--cache-dir")
        .arg(config.with_file_name("kube-cache"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs kubectl, which must succeed; its stdout.
pub fn ok(config: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (success, stdout, stderr) = kubectl(config, args, stdin);
    assert!(success, "kubectl {}: {stdout}{stderr}", args.join(" "));
    stdout
}

/// An emulator, a temporary directory and a kubeconfig for it there.
pub async fn started() -> (Emulator, tempfile::TempDir, PathBuf) {
    let emulator = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&config).unwrap();
    (emulator, dir, config)
}
