//! The RBAC the Helm chart `charts/eks-operator` grants, from `helm template`, against the one list of what the
//! controller uses (`eks_controller::rbac`): the ClusterRole holds exactly its namespaced rules, watching one
//! namespace moves them into a Role there and renders no ClusterRole, leader election adds a Role on its one
//! Lease (with a PodDisruptionBudget when replicated), no rule uses a wildcard, and the comment above every
//! rule in the template source is that rule's reason.

mod chart_support;

use std::collections::BTreeSet;

use chart_support::{NAMESPACE, all_of, args, chart_dir, kind, labels_contain, name, one, render};
use eks_controller::rbac::{self, Rule};
use serde_json::Value;

/// RBAC rules flattened to `(apiGroup, resource, verb, resourceName or "")`, so that two sets compare exactly.
fn flat_rules(role: &Value) -> BTreeSet<(String, String, String, String)> {
    let mut flat = BTreeSet::new();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for rule in role["rules"].as_array().expect("rules is a list") {
        let names = strings(&rule["resourceNames"]);
        let names = if names.is_empty() {
            vec![String::new()]
        } else {
            names
        };
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    for resource_name in &names {
                        flat.insert((
                            group.clone(),
                            resource.clone(),
                            verb.clone(),
                            resource_name.clone(),
                        ));
                    }
                }
            }
        }
    }
    flat
}

/// The rules of the controller's table, flattened like [`flat_rules`]; rules limited to the Lease name `lease`.
fn table(rules: &[Rule], lease: &str) -> BTreeSet<(String, String, String, String)> {
    let mut flat = BTreeSet::new();
    for rule in rules {
        for resource in rule.resources {
            for verb in rule.verbs {
                let name = if rule.only_the_lease { lease } else { "" };
                flat.insert((
                    rule.api_group.to_owned(),
                    (*resource).to_owned(),
                    (*verb).to_owned(),
                    name.to_owned(),
                ));
            }
        }
    }
    flat
}

/// What the controller does on namespaced resources (see `crates/controller/src/rbac.rs`).
fn namespaced_rules() -> BTreeSet<(String, String, String, String)> {
    table(&rbac::NAMESPACED_RULES, "")
}

#[test]
fn leader_election_is_on_exactly_when_more_than_one_replica_or_asked() {
    let single = render(&[]);
    assert!(!args(&single).contains(&"--leader-election".to_owned()));
    assert!(
        all_of(&single, "PodDisruptionBudget").is_empty(),
        "a PDB on one replica would block drains"
    );
    assert!(
        all_of(&single, "Role").is_empty(),
        "no Lease rights without leader election"
    );
    assert_eq!(one(&single, "Deployment")["spec"]["strategy"]["type"], "Recreate");

    let replicated = render(&["replicaCount=2"]);
    let replicated_args = args(&replicated);
    assert!(
        replicated_args.contains(&"--leader-election".to_owned()),
        "{replicated_args:?}"
    );
    assert!(
        replicated_args.contains(&"--lease-name=eks-operator".to_owned()),
        "{replicated_args:?}"
    );
    let deployment = one(&replicated, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    let pdb = one(&replicated, "PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(labels_contain(
        &deployment["spec"]["template"]["metadata"]["labels"],
        &pdb["spec"]["selector"]["matchLabels"]
    ));
    assert_lease_role(&replicated, "eks-operator");

    let forced = render(&["leaderElection.enabled=true", "leaderElection.leaseName=shard-a"]);
    assert!(args(&forced).contains(&"--leader-election".to_owned()));
    assert!(args(&forced).contains(&"--lease-name=shard-a".to_owned()));
    assert!(all_of(&forced, "PodDisruptionBudget").is_empty());
    assert_lease_role(&forced, "shard-a");
}

/// The Lease Role: in the release namespace, create plus get/update/patch of this one Lease, bound to the
/// operator's ServiceAccount.
fn assert_lease_role(docs: &[Value], lease: &str) {
    let role = one(docs, "Role");
    assert_eq!(role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(flat_rules(role), table(&rbac::LEADER_ELECTION_RULES, lease));
    let binding = one(docs, "RoleBinding");
    assert_eq!(binding["metadata"]["namespace"], NAMESPACE);
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_binds_service_account(binding);
}

fn assert_binds_service_account(binding: &Value) {
    assert_eq!(
        binding["subjects"],
        serde_json::json!([{"kind": "ServiceAccount", "name": "eks-operator", "namespace": NAMESPACE}])
    );
}

#[test]
fn cluster_role_holds_exactly_what_the_controller_uses() {
    let docs = render(&[]);
    let cluster_role = one(&docs, "ClusterRole");
    let expected: BTreeSet<_> = table(&rbac::CLUSTER_RULES, "")
        .union(&namespaced_rules())
        .cloned()
        .collect();
    assert_eq!(flat_rules(cluster_role), expected);
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(binding["roleRef"]["name"], name(cluster_role));
    assert_binds_service_account(binding);
}

#[test]
fn watching_one_namespace_grants_namespaced_rights_there_only() {
    let docs = render(&["watch.namespace=team-a"]);
    // Nothing stays cluster-wide: the controller needs no cluster-scoped rule.
    assert!(rbac::CLUSTER_RULES.is_empty());
    assert!(all_of(&docs, "ClusterRole").is_empty());
    assert!(all_of(&docs, "ClusterRoleBinding").is_empty());
    let role = one(&docs, "Role");
    assert_eq!(role["metadata"]["namespace"], "team-a");
    assert_eq!(flat_rules(role), namespaced_rules());
    let binding = one(&docs, "RoleBinding");
    assert_eq!(binding["metadata"]["namespace"], "team-a");
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_binds_service_account(binding);
}

#[test]
fn no_rbac_rule_uses_a_wildcard() {
    for sets in [&[][..], &["replicaCount=2", "watch.namespace=team-a"][..]] {
        for doc in render(sets)
            .iter()
            .filter(|d| matches!(kind(d), "ClusterRole" | "Role"))
        {
            for (group, resource, verb, _) in flat_rules(doc) {
                assert!(
                    ![&group, &resource, &verb].iter().any(|s| s.contains('*')),
                    "wildcard in {}",
                    name(doc)
                );
            }
        }
    }
}

#[test]
fn the_comment_above_every_rbac_rule_in_the_templates_is_its_reason() {
    let templates = chart_dir().join("templates");
    let mut comments = Vec::new();
    for entry in std::fs::read_dir(&templates).expect("templates/") {
        let path = entry.expect("a template").path();
        let text = std::fs::read_to_string(&path).expect("a readable template");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("- apiGroups:") {
                continue;
            }
            let mut block: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with('#'))
                .map(|l| l.trim_start_matches('#').trim())
                .collect();
            block.reverse();
            assert!(
                !block.is_empty(),
                "{}:{}: an RBAC rule without a comment saying what the controller does with it",
                path.display(),
                i + 1
            );
            comments.push(block.join(" "));
        }
    }
    comments.sort();
    let mut reasons: Vec<String> = rbac::NAMESPACED_RULES
        .iter()
        .chain(&rbac::LEADER_ELECTION_RULES)
        .chain(&rbac::CLUSTER_RULES)
        .map(|rule| rule.reason.to_owned())
        .collect();
    reasons.sort();
    assert_eq!(
        comments, reasons,
        "one rule in the templates per rule of the table, commented with its reason"
    );
}
