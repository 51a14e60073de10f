//! The Argo CD health check of EksCluster (`deploy/gitops/argocd/health-eksclusters.lua`) run for real: on Lua
//! 5.1 (Argo CD's gopher-lua speaks 5.1) through the Python module lupa, with `obj` set as Argo CD sets it, against
//! statuses made by the operator's own status functions (`eks_controller::status`), so that the script reads
//! what the operator writes: Ready is Healthy, provisioning and deleting are Progressing, a failed region and an
//! invalid spec are Degraded, and a status of an older generation is Progressing.

use std::io::Write;
use std::process::{Command, Stdio};

use eks_api::{FieldError, Phase, RegionStatus, ValidationError};
use eks_controller::status;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

/// Runs the script on each object, returning `(status, message)` per object.
fn argocd_health(objects: &[Value]) -> Vec<(String, String)> {
    let script = eks_e2e::repo_root().join("deploy/gitops/argocd/health-eksclusters.lua");
    let runner = r#"
import json, sys
try:
    from lupa.lua51 import LuaRuntime
except ImportError:
    sys.exit("python3 cannot import lupa.lua51: run scripts/install-test-tools.sh")
lua = LuaRuntime(unpack_returned_tuples=True)
source = open(sys.argv[1]).read()

def to_lua(value):
    if isinstance(value, dict):
        table = lua.table()
        for key, item in value.items():
            table[key] = to_lua(item)
        return table
    if isinstance(value, list):
        table = lua.table()
        for index, item in enumerate(value, 1):
            table[index] = to_lua(item)
        return table
    return value

results = []
for obj in json.load(sys.stdin):
    lua.globals().obj = to_lua(obj)
    hs = lua.execute(source)
    results.append([hs["status"], hs["message"]])
print(json.dumps(results))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(runner)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(objects).expect("JSON").as_bytes())
        .expect("writing the objects");
    let output = child.wait_with_output().expect("python3 ran");
    assert!(
        output.status.success(),
        "the health script failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the runner prints JSON")
}

fn object(generation: i64, status: Option<eks_api::EksClusterStatus>) -> Value {
    let mut object = json!({
        "apiVersion": "eksoperator.io/v1alpha1",
        "kind": "EksCluster",
        "metadata": {"name": "demo", "namespace": "default", "generation": generation},
        "spec": {"regions": ["us-east-1", "eu-west-1"], "kubernetesVersion": "1.31"},
    });
    if let Some(status) = status {
        object["status"] = serde_json::to_value(status).expect("the status serializes");
    }
    object
}

fn region(name: &str, phase: Phase) -> RegionStatus {
    RegionStatus {
        region: name.into(),
        phase: Some(phase),
        ..RegionStatus::default()
    }
}

#[test]
fn the_argocd_health_check_reads_what_the_operator_writes() {
    let now = Timestamp::now();
    let ready = status::from_regions(
        None,
        Some(2),
        vec![
            region("us-east-1", Phase::Ready),
            region("eu-west-1", Phase::Ready),
        ],
        now,
    );
    let mut creating = region("eu-west-1", Phase::Provisioning);
    creating.in_progress = vec!["EKS cluster eu-west-1-demo CREATING".into()];
    let provisioning = status::from_regions(
        None,
        Some(1),
        vec![region("us-east-1", Phase::Ready), creating],
        now,
    );
    let mut failing = region("eu-west-1", Phase::Failed);
    failing.last_error = Some("AccessDenied: not authorized to perform ec2:CreateVpc".into());
    let failed = status::from_regions(
        None,
        Some(1),
        vec![region("us-east-1", Phase::Ready), failing],
        now,
    );
    let invalid = status::invalid(
        None,
        Some(1),
        &ValidationError {
            errors: vec![FieldError {
                field: "spec.network.vpcCidr".into(),
                message: "\"10.0.0.0/8\" is larger than a VPC can be (/16 at most)".into(),
            }],
        },
        now,
    );
    let deleting = status::from_regions(
        None,
        Some(1),
        vec![
            region("us-east-1", Phase::Deleting),
            region("eu-west-1", Phase::Ready),
        ],
        now,
    );

    let cases = [
        ("no status yet", object(1, None), "Progressing", "report status"),
        (
            "every region ready",
            object(2, Some(ready.clone())),
            "Healthy",
            "every region is ready",
        ),
        (
            "a region provisioning",
            object(1, Some(provisioning)),
            "Progressing",
            "EKS cluster eu-west-1-demo CREATING",
        ),
        (
            "a region failed",
            object(1, Some(failed)),
            "Degraded",
            "AccessDenied",
        ),
        (
            "an invalid spec",
            object(1, Some(invalid)),
            "Degraded",
            "spec.network.vpcCidr",
        ),
        ("deleting", object(1, Some(deleting)), "Progressing", ""),
        (
            "ready, but for an older generation",
            object(3, Some(ready)),
            "Progressing",
            "latest change",
        ),
    ];
    let objects: Vec<Value> = cases.iter().map(|(_, object, _, _)| object.clone()).collect();
    let results = argocd_health(&objects);
    assert_eq!(results.len(), cases.len());
    for ((what, _, want_status, want_message), (status, message)) in cases.iter().zip(&results) {
        assert_eq!(status, want_status, "{what}: {message}");
        assert!(
            message.contains(want_message),
            "{what}: {message:?} lacks {want_message:?}"
        );
    }
}
