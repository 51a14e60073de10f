//! The RBAC the Helm chart `charts/eks-operator` grants, from `helm template`: the ClusterRole holds exactly
//! what the controller uses, watching one namespace moves the namespaced rights into a Role there, leader
//! election adds a Role on its one Lease (with a PodDisruptionBudget when replicated), no rule uses a
//! wildcard, and every rule in the template source carries a comment saying why.

mod chart_support;

use std::collections::BTreeSet;

use chart_support::{NAMESPACE, all_of, args, chart_dir, kind, labels_contain, name, one, render};
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

fn rules(list: &[(&str, &str, &[&str])]) -> BTreeSet<(String, String, String, String)> {
    list.iter()
        .flat_map(|(group, resource, verbs)| {
            verbs.iter().map(move |verb| {
                (
                    group.to_string(),
                    resource.to_string(),
                    verb.to_string(),
                    String::new(),
                )
            })
        })
        .collect()
}

/// What the controller does on namespaced resources (see templates/_rbac.tpl for the reason of each).
fn namespaced_rules() -> BTreeSet<(String, String, String, String)> {
    rules(&[
        (
            "eksoperator.io",
            "eksclusters",
            &["get", "list", "watch", "patch", "update"],
        ),
        ("eksoperator.io", "eksclusters/status", &["patch", "update"]),
        ("eksoperator.io", "eksclusters/finalizers", &["update"]),
        (
            "",
            "configmaps",
            &["get", "list", "watch", "create", "update", "patch", "delete"],
        ),
        (
            "",
            "secrets",
            &["get", "list", "watch", "create", "update", "patch", "delete"],
        ),
        ("", "events", &["create", "patch"]),
        ("events.k8s.io", "events", &["create", "patch"]),
    ])
}

fn crd_rules() -> BTreeSet<(String, String, String, String)> {
    rules(&[(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["get", "list"],
    )])
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
    let mut expected = rules(&[("coordination.k8s.io", "leases", &["create"])]);
    for verb in ["get", "update", "patch"] {
        expected.insert((
            "coordination.k8s.io".into(),
            "leases".into(),
            verb.into(),
            lease.into(),
        ));
    }
    assert_eq!(flat_rules(role), expected);
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
    let expected: BTreeSet<_> = crd_rules().union(&namespaced_rules()).cloned().collect();
    assert_eq!(flat_rules(cluster_role), expected);
    let binding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["kind"], "ClusterRole");
    assert_eq!(binding["roleRef"]["name"], name(cluster_role));
    assert_binds_service_account(binding);
}

#[test]
fn watching_one_namespace_grants_namespaced_rights_there_only() {
    let docs = render(&["watch.namespace=team-a"]);
    // Only the CRD check stays cluster-wide: CRDs are cluster-scoped.
    assert_eq!(flat_rules(one(&docs, "ClusterRole")), crd_rules());
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
fn every_rbac_rule_has_a_comment_in_the_template_source() {
    let templates = chart_dir().join("templates");
    let mut rules_seen = 0;
    for entry in std::fs::read_dir(&templates).expect("templates/") {
        let path = entry.expect("a template").path();
        let text = std::fs::read_to_string(&path).expect("a readable template");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("- apiGroups:") {
                continue;
            }
            rules_seen += 1;
            let previous = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim_start());
            assert!(
                previous.is_some_and(|l| l.starts_with('#')),
                "{}:{}: an RBAC rule without a comment saying what the controller does with it",
                path.display(),
                i + 1
            );
        }
    }
    // CRDs, eksclusters, status, finalizers, configmaps+secrets, two event groups, two lease rules.
    assert_eq!(rules_seen, 9, "RBAC rules found in the templates");
}
