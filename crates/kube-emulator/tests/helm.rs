//! Helm 4 (from scripts/install-test-tools.sh) installs, upgrades and uninstalls a chart in the emulator.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kube_emulator::Emulator;

/// Helm: `$HELM`, else `<repo>/.tools/bin/helm` (scripts/install-test-tools.sh puts it there), else PATH.
fn helm_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HELM") {
        return PathBuf::from(path);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/helm");
    if local.is_file() {
        return local;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("helm"))
        .find(|p| p.is_file())
        .expect("helm not found ($HELM, .tools/bin/helm, PATH): run scripts/install-test-tools.sh, which installs it into .tools/bin")
}

fn run(program: &Path, config: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env("KUBECONFIG", config)
        .env("HELM_CACHE_HOME", config.with_file_name("cache"))
        .env("HELM_CONFIG_HOME", config.with_file_name("config"))
        .env("HELM_DATA_HOME", config.with_file_name("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {}: {}{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_install_upgrade_uninstall() {
    let emulator = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&config).unwrap();
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chart");
    let helm = helm_binary();
    let kubectl = PathBuf::from("kubectl");
    tokio::task::block_in_place(|| {
        run(&helm, &config, &["install", "probe", chart]);
        let names = run(
            &kubectl,
            &config,
            &[
                "get",
                "configmaps,serviceaccounts,services,deployments,roles,rolebindings",
                "-o",
                "name",
            ],
        );
        for expected in [
            "configmap/probe-settings",
            "serviceaccount/probe",
            "service/probe",
            "deployment.apps/probe",
            "role.rbac.authorization.k8s.io/probe",
            "rolebinding.rbac.authorization.k8s.io/probe",
        ] {
            assert!(names.contains(expected), "{expected} missing: {names}");
        }
        run(
            &helm,
            &config,
            &[
                "upgrade",
                "probe",
                chart,
                "--set",
                "message=bye",
                "--set",
                "replicas=2",
            ],
        );
        assert_eq!(
            run(
                &kubectl,
                &config,
                &[
                    "get",
                    "configmap",
                    "probe-settings",
                    "-o",
                    "jsonpath={.data.message}"
                ]
            ),
            "bye"
        );
        assert_eq!(
            run(
                &kubectl,
                &config,
                &["get", "deployment", "probe", "-o", "jsonpath={.spec.replicas}"]
            ),
            "2"
        );
        assert!(run(&helm, &config, &["list"]).contains("deployed"));
        run(&helm, &config, &["uninstall", "probe"]);
        assert!(
            run(
                &kubectl,
                &config,
                &["get", "configmaps,deployments,secrets", "-o", "name"]
            )
            .trim()
            .is_empty()
        );
    });
}
