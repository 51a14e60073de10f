//! What the Helm chart tests (`chart_*.rs`) share: helm run from the repository root, `helm template` parsed
//! into documents, and accessors for the rendered objects (kind, name, the operator's container, its
//! arguments and environment, label selection).
// Every test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

pub const RELEASE: &str = "eks-operator";
pub const NAMESPACE: &str = "eks-operator";

pub fn chart_dir() -> PathBuf {
    eks_e2e::repo_root().join("charts/eks-operator")
}

/// Runs helm from the repository root.
pub fn helm(args: &[&str]) -> Output {
    Command::new(eks_e2e::tool("helm", "HELM"))
        .args(args)
        .current_dir(eks_e2e::repo_root())
        .output()
        .unwrap_or_else(|e| panic!("running helm {}: {e}", args.join(" ")))
}

pub fn set_args<'a>(sets: &[&'a str]) -> Vec<&'a str> {
    sets.iter().flat_map(|s| ["--set", *s]).collect()
}

/// `helm template` with `--set` values; panics with helm's output when it fails.
pub fn template_text(sets: &[&str]) -> String {
    let mut args = vec![
        "template",
        RELEASE,
        "charts/eks-operator",
        "--namespace",
        NAMESPACE,
    ];
    args.extend(set_args(sets));
    let output = helm(&args);
    assert!(
        output.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("helm prints UTF-8")
}

/// Every rendered document, parsed.
pub fn render(sets: &[&str]) -> Vec<Value> {
    parse_documents(&template_text(sets))
}

pub fn parse_documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

pub fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

pub fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

pub fn all_of<'a>(docs: &'a [Value], wanted: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| kind(d) == wanted).collect()
}

/// The single object of a kind; panics when there is none or more than one.
pub fn one<'a>(docs: &'a [Value], wanted: &str) -> &'a Value {
    let found = all_of(docs, wanted);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {wanted}, found {}",
        found.len()
    );
    found[0]
}

pub fn container(docs: &[Value]) -> &Value {
    let containers = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers is a list");
    assert_eq!(containers.len(), 1, "the operator runs as a single container");
    &containers[0]
}

pub fn args(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .expect("args is a list")
        .iter()
        .map(|a| a.as_str().expect("every argument is a string").to_owned())
        .collect()
}

pub fn env<'a>(docs: &'a [Value], var: &str) -> Option<&'a Value> {
    container(docs)["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == var)
}

/// Whether every label of `subset` is in `labels` with the same value.
pub fn labels_contain(labels: &Value, subset: &Value) -> bool {
    let (Some(labels), Some(subset)) = (labels.as_object(), subset.as_object()) else {
        return false;
    };
    !subset.is_empty() && subset.iter().all(|(k, v)| labels.get(k) == Some(v))
}
