//! The binary as a user runs it: `crd` matches the committed file, `plan` prints the seed's regions and refuses
//! bad input with the field named and nothing printed.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn eks_operator(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eks-operator"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn crd_matches_the_committed_file() {
    let out = eks_operator(&["crd"], None);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(repo().join(eks_api::crd::CRD_PATH)).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "{} is stale: run `cargo run -p eks-operator -- crd > {}`",
        eks_api::crd::CRD_PATH,
        eks_api::crd::CRD_PATH
    );
}

#[test]
fn reference_matches_the_committed_file() {
    let out = eks_operator(&["reference"], None);
    assert!(out.status.success());
    let path = eks_api::reference::REFERENCE_PATH;
    let committed = std::fs::read_to_string(repo().join(path)).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "{path} is stale: run `cargo run -p eks-operator -- reference > {path}`"
    );
}

#[test]
fn plan_of_the_seed_prints_two_regions_as_json() {
    let out = eks_operator(
        &[
            "plan",
            "-f",
            "deploy/examples/cloudlad-two-regions.yaml",
            "-o",
            "json",
            "--account-id",
            "123456789012",
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["kind"], "EksClusterPlanList");
    let regions = plan["items"][0]["regions"].as_array().unwrap();
    let ids: Vec<&str> = regions.iter().map(|r| r["clusterId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["eu-west-1-test-cloudlad", "eu-west-2-test-cloudlad"]);
    let map_roles = regions[0]["awsAuthConfigMap"]["data"]["mapRoles"]
        .as_str()
        .unwrap();
    assert!(map_roles.contains("rolearn: arn:aws:iam::123456789012:role/eks-worker-eu-west-1-test-cloudlad"));
    assert_eq!(regions[1]["vpc"]["cidr"], "10.1.0.0/16");
    assert_eq!(regions[0]["zones"]["placeholder"], true);
}

#[test]
fn plan_reads_standard_input_as_yaml() {
    let text = std::fs::read_to_string(repo().join("deploy/examples/minimal-single-region.yaml")).unwrap();
    let out = eks_operator(&["plan", "-f", "-"], Some(&text));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("clusterId: us-east-1-demo"), "{stdout}");
    assert!(stdout.contains("<AWS_ACCOUNT_ID>"));
}

#[test]
fn invalid_documents_name_the_field_and_plan_nothing() {
    let text = std::fs::read_to_string(repo().join("deploy/examples/cloudlad-two-regions.yaml"))
        .unwrap()
        .replace("minSize: 2", "minSize: 7");
    let out = eks_operator(&["plan", "-f", "-", "-o", "json"], Some(&text));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is planned for an invalid object");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("spec.nodeGroups[0].minSize: minSize 7 is greater than maxSize 4"),
        "{stderr}"
    );
}

#[test]
fn bad_account_id_and_missing_file_are_clear_errors() {
    let out = eks_operator(
        &[
            "plan",
            "-f",
            "deploy/examples/minimal-single-region.yaml",
            "--account-id",
            "42",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--account-id"));
    let out = eks_operator(&["plan", "-f", "does-not-exist.yaml"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist.yaml"));
}
