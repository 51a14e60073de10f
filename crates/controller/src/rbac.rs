//! The Kubernetes RBAC the controller needs on the management cluster, each rule with what the code does with
//! it: the one list the Helm chart's ClusterRole and Roles are checked against (`tests/tests/chart_rbac.rs`
//! compares the rendered rules with it, and the comment above each rule in the chart with its reason).
//!
//! From the calls the code makes: the watcher of EksCluster objects and of the owned ConfigMaps and Secrets
//! lists and watches; kube-runtime's finalizer helper adds and removes the finalizer with a JSON patch; the
//! status is written with a server-side apply patch of the status subresource; the generated objects are read
//! with `get`, written with server-side apply (a `patch`, which needs `create` too when the object does not
//! exist yet) and deleted; kube-runtime 5's event recorder creates `events.k8s.io/v1` Events and patches them
//! (never core/v1 Events); kube-lease-manager 0.13 gets, creates and patches its Lease (never updates it). The
//! CRD check at start reads API discovery (`/apis/eksoperator.io/v1alpha1`), which every authenticated user
//! may read through the default `system:discovery` ClusterRole, so no rule is needed for it.

/// One RBAC rule of the controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The API group (`""` for the core group).
    pub api_group: &'static str,
    /// The resources, subresources written `eksclusters/status`.
    pub resources: &'static [&'static str],
    /// The verbs.
    pub verbs: &'static [&'static str],
    /// Whether the rule is limited by name to the leader-election Lease (`resourceNames`).
    pub only_the_lease: bool,
    /// What the controller does with it; the chart's comment above the rule says exactly this.
    pub reason: &'static str,
}

/// Rules on namespaced resources: in the ClusterRole when the operator watches every namespace (they then
/// cover every namespace's ConfigMaps and Secrets), in a Role in the watched namespace when it watches one.
pub const NAMESPACED_RULES: [Rule; 5] = [
    Rule {
        api_group: "eksoperator.io",
        resources: &["eksclusters"],
        verbs: &["list", "watch", "patch"],
        only_the_lease: false,
        reason: "Watches EksCluster objects (the controller's cache) and adds or removes its finalizer with a JSON patch.",
    },
    Rule {
        api_group: "eksoperator.io",
        resources: &["eksclusters/status"],
        verbs: &["patch"],
        only_the_lease: false,
        reason: "Writes what it observed and did (phase, conditions, per-region ids) with a server-side apply patch.",
    },
    Rule {
        api_group: "eksoperator.io",
        resources: &["eksclusters/finalizers"],
        verbs: &["update"],
        only_the_lease: false,
        reason: "Sets owner references with blockOwnerDeletion on the ConfigMaps and Secrets it generates, which the \
                 OwnerReferencesPermissionEnforcement admission plugin allows only to whoever may update the finalizers.",
    },
    Rule {
        api_group: "",
        resources: &["configmaps", "secrets"],
        verbs: &["get", "list", "watch", "create", "patch", "delete"],
        only_the_lease: false,
        reason: "Reads and server-side applies (create for the first apply) the generated <name>-<region>-aws-auth \
                 ConfigMaps and <name>-<region>-kubeconfig Secrets, watches them to restore them when edited or \
                 deleted, and deletes those of dropped regions.",
    },
    Rule {
        api_group: "events.k8s.io",
        resources: &["events"],
        verbs: &["create", "patch"],
        only_the_lease: false,
        reason: "Records an Event on the EksCluster for every AWS resource created, changed or deleted, and for \
                 failures: kube-runtime's recorder creates events.k8s.io/v1 Events and patches them to count repeats.",
    },
];

/// Rules of leader election, in a Role in the Lease's namespace (only with leader election on).
pub const LEADER_ELECTION_RULES: [Rule; 2] = [
    Rule {
        api_group: "coordination.k8s.io",
        resources: &["leases"],
        verbs: &["create"],
        only_the_lease: false,
        reason: "Creates the Lease the first time a replica starts (create cannot be limited by name).",
    },
    Rule {
        api_group: "coordination.k8s.io",
        resources: &["leases"],
        verbs: &["get", "patch"],
        only_the_lease: true,
        reason: "Reads, takes and renews its own Lease, and no other (kube-lease-manager patches it, never updates it).",
    },
];

/// Rules on cluster-scoped resources: none (the CRD check reads discovery, open to every authenticated user).
pub const CLUSTER_RULES: [Rule; 0] = [];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_says_why_and_grants_no_wildcard_and_no_unused_verb() {
        for rule in NAMESPACED_RULES.iter().chain(&LEADER_ELECTION_RULES) {
            assert!(rule.reason.ends_with('.') && rule.reason.len() > 40, "{rule:?}");
            assert!(
                !rule.reason.contains("  "),
                "{rule:?}: the reason is one line of text"
            );
            for verb in rule.verbs {
                assert!(
                    ["get", "list", "watch", "create", "patch", "delete", "update"].contains(verb),
                    "{rule:?}"
                );
            }
            // `update` is granted only where Kubernetes asks for that verb by name (owner-reference enforcement
            // checks `update` of the owner's finalizers); the code writes with patches everywhere else.
            if rule.verbs.contains(&"update") {
                assert_eq!(rule.resources, ["eksclusters/finalizers"]);
            }
            assert!(rule.resources.iter().all(|r| !r.contains('*')));
        }
    }
}
