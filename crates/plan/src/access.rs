//! The access entries a region's cluster must hold: the spec's own, plus the migration of the generated aws-auth
//! when the authentication mode reads access entries.
//!
//! Migration table (<https://docs.aws.amazon.com/eks/latest/userguide/migrating-access-entries.html>):
//!
//! | aws-auth | access entry |
//! |---|---|
//! | the worker role (`system:bootstrappers`, `system:nodes`) | `EC2_LINUX`, no username, groups or policies |
//! | a `mapRoles` entry with exactly the node groups | `EC2_LINUX` |
//! | `system:masters` in `groups` | `AmazonEKSClusterAdminPolicy` at cluster scope |
//! | other groups | `kubernetesGroups` (`system:` groups other than the above are dropped: EKS refuses them) |
//! | `username` | `username` |
//!
//! An entry of `spec.access.entries` for the same principal replaces the migrated one: what the user wrote wins.

use std::collections::BTreeSet;

use eks_api::access::{CLUSTER_ADMIN_POLICY, policy_arn};
use eks_api::{AccessEntrySpec, AccessEntryType, AccessScopeType, AuthenticationMode, AwsAuthSpec};
use serde::Serialize;

use crate::aws_auth::NODE_GROUPS;

/// The group aws-auth uses for cluster admins.
pub const MASTERS_GROUP: &str = "system:masters";

/// What a region's cluster must hold for access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPlan {
    /// The authentication mode the spec asks for.
    pub authentication_mode: AuthenticationMode,
    /// Whether the creator gets an admin entry at create time.
    pub bootstrap_cluster_creator_admin_permissions: bool,
    /// Every entry the operator manages, in the order: spec entries, then migrated ones. Empty in the
    /// `ConfigMap` mode, where EKS serves no access entries.
    pub entries: Vec<AccessEntryPlan>,
}

/// Where a planned entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum EntryOrigin {
    /// `spec.access.entries` or the region's override.
    Spec,
    /// Migrated from the generated worker-role entry of aws-auth.
    WorkerRole,
    /// Migrated from `spec.awsAuth.mapRoles`.
    MapRoles,
    /// Migrated from `spec.awsAuth.mapUsers`.
    MapUsers,
}

impl EntryOrigin {
    /// Whether the entry replaces an aws-auth mapping (and so must exist before the mode becomes `Api`).
    pub fn is_migrated(self) -> bool {
        self != Self::Spec
    }
}

/// One access entry as it must exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntryPlan {
    /// ARN of the IAM role or user.
    pub principal_arn: String,
    /// The entry's type.
    pub entry_type: AccessEntryType,
    /// The user name, when one is asked for (otherwise EKS's default stays).
    pub username: Option<String>,
    /// The Kubernetes groups (compared as a set).
    pub kubernetes_groups: Vec<String>,
    /// The associated access policies.
    pub policies: Vec<PolicyAssociationPlan>,
    /// Where the entry comes from.
    pub origin: EntryOrigin,
    /// `system:` groups of the aws-auth mapping that have no access entry equivalent and were left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped_groups: Vec<String>,
}

/// An access policy associated with an entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAssociationPlan {
    /// ARN of the access policy.
    pub policy_arn: String,
    /// `cluster` or `namespace`.
    pub scope: AccessScopeType,
    /// The namespaces of a namespace scope, sorted.
    pub namespaces: Vec<String>,
}

impl AccessPlan {
    /// The entries a region's cluster must hold. `worker_role_arn` is the generated aws-auth's worker role;
    /// `entries` the region's spec entries (`RegionConfig::access_entries`).
    pub fn new(
        mode: AuthenticationMode,
        bootstrap: bool,
        entries: &[AccessEntrySpec],
        aws_auth: &AwsAuthSpec,
        worker_role_arn: &str,
    ) -> Self {
        let mut planned: Vec<AccessEntryPlan> = Vec::new();
        if mode.uses_access_entries() {
            planned.extend(entries.iter().map(from_spec));
            let mut taken: BTreeSet<String> = planned.iter().map(|e| e.principal_arn.clone()).collect();
            for migrated in migrate_aws_auth(aws_auth, worker_role_arn) {
                if taken.insert(migrated.principal_arn.clone()) {
                    planned.push(migrated);
                }
            }
        }
        Self {
            authentication_mode: mode,
            bootstrap_cluster_creator_admin_permissions: bootstrap,
            entries: planned,
        }
    }

    /// The planned entry of `principal`.
    pub fn entry(&self, principal: &str) -> Option<&AccessEntryPlan> {
        self.entries.iter().find(|e| e.principal_arn == principal)
    }

    /// The migrated principals that have no entry among `existing`: while there is one, the mode must not become
    /// `Api` (the principal would be locked out).
    pub fn api_mode_blockers<'a>(&'a self, existing: &BTreeSet<String>) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|e| e.origin.is_migrated() && !existing.contains(&e.principal_arn))
            .map(|e| e.principal_arn.as_str())
            .collect()
    }
}

fn from_spec(entry: &AccessEntrySpec) -> AccessEntryPlan {
    let mut policies: Vec<PolicyAssociationPlan> = entry
        .access_policies
        .iter()
        .map(|p| {
            let mut namespaces = p.scope.namespaces.clone();
            namespaces.sort();
            namespaces.dedup();
            PolicyAssociationPlan {
                policy_arn: p.policy_arn(),
                scope: p.scope.scope_type,
                namespaces,
            }
        })
        .collect();
    policies.sort();
    AccessEntryPlan {
        principal_arn: entry.principal_arn.clone(),
        entry_type: entry.entry_type,
        username: entry.username.clone(),
        kubernetes_groups: sorted(entry.kubernetes_groups.iter().cloned()),
        policies,
        origin: EntryOrigin::Spec,
        dropped_groups: Vec::new(),
    }
}

/// The access entries equivalent to the generated aws-auth: the worker role, then `mapRoles`, then `mapUsers`.
/// `mapAccounts` has no equivalent (validation refuses the `Api` mode with it).
pub fn migrate_aws_auth(aws_auth: &AwsAuthSpec, worker_role_arn: &str) -> Vec<AccessEntryPlan> {
    let mut out = vec![node_entry(worker_role_arn, EntryOrigin::WorkerRole)];
    for role in &aws_auth.map_roles {
        if role.rolearn == worker_role_arn {
            continue;
        }
        out.push(if is_node_mapping(&role.groups) {
            node_entry(&role.rolearn, EntryOrigin::MapRoles)
        } else {
            mapped_entry(&role.rolearn, &role.username, &role.groups, EntryOrigin::MapRoles)
        });
    }
    for user in &aws_auth.map_users {
        out.push(mapped_entry(
            &user.userarn,
            &user.username,
            &user.groups,
            EntryOrigin::MapUsers,
        ));
    }
    out
}

fn is_node_mapping(groups: &[String]) -> bool {
    let groups: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
    groups == NODE_GROUPS.iter().copied().collect()
}

fn node_entry(principal: &str, origin: EntryOrigin) -> AccessEntryPlan {
    AccessEntryPlan {
        principal_arn: principal.to_owned(),
        entry_type: AccessEntryType::Ec2Linux,
        username: None,
        kubernetes_groups: Vec::new(),
        policies: Vec::new(),
        origin,
        dropped_groups: Vec::new(),
    }
}

fn mapped_entry(principal: &str, username: &str, groups: &[String], origin: EntryOrigin) -> AccessEntryPlan {
    let policies = if groups.iter().any(|g| g == MASTERS_GROUP) {
        vec![PolicyAssociationPlan {
            policy_arn: policy_arn(CLUSTER_ADMIN_POLICY),
            scope: AccessScopeType::Cluster,
            namespaces: Vec::new(),
        }]
    } else {
        Vec::new()
    };
    let (system, plain): (Vec<String>, Vec<String>) =
        groups.iter().cloned().partition(|g| g.starts_with("system:"));
    AccessEntryPlan {
        principal_arn: principal.to_owned(),
        entry_type: AccessEntryType::Standard,
        username: Some(username.to_owned()).filter(|u| !u.is_empty()),
        kubernetes_groups: sorted(plain),
        policies,
        origin,
        dropped_groups: system.into_iter().filter(|g| g != MASTERS_GROUP).collect(),
    }
}

fn sorted(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = items.into_iter().collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use eks_api::{AccessPolicySpec, AccessScope, MapRole, MapUser};

    use super::*;

    const WORKER: &str = "arn:aws:iam::123456789012:role/eks-worker-eu-west-1-test-cloudlad";
    const OPS: &str = "arn:aws:iam::123456789012:role/ops-admin";

    fn aws_auth() -> AwsAuthSpec {
        AwsAuthSpec {
            manage: false,
            map_roles: vec![
                MapRole {
                    rolearn: OPS.to_owned(),
                    username: "ops-admin".to_owned(),
                    groups: vec!["system:masters".to_owned(), "platform".to_owned()],
                },
                MapRole {
                    rolearn: "arn:aws:iam::123456789012:role/self-managed-nodes".to_owned(),
                    username: "system:node:{{EC2PrivateDNSName}}".to_owned(),
                    groups: vec!["system:nodes".to_owned(), "system:bootstrappers".to_owned()],
                },
                MapRole {
                    rolearn: "arn:aws:iam::123456789012:role/viewer".to_owned(),
                    username: "viewer".to_owned(),
                    groups: vec!["viewers".to_owned(), "system:authenticated".to_owned()],
                },
            ],
            map_users: vec![MapUser {
                userarn: "arn:aws:iam::123456789012:user/alice".to_owned(),
                username: "alice".to_owned(),
                groups: vec!["devs".to_owned()],
            }],
            map_accounts: Vec::new(),
        }
    }

    #[test]
    fn the_worker_role_becomes_an_ec2_linux_entry() {
        let entries = migrate_aws_auth(&AwsAuthSpec::default(), WORKER);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].principal_arn, WORKER);
        assert_eq!(entries[0].entry_type, AccessEntryType::Ec2Linux);
        assert_eq!(entries[0].origin, EntryOrigin::WorkerRole);
        assert!(entries[0].username.is_none() && entries[0].kubernetes_groups.is_empty());
        assert!(entries[0].policies.is_empty());
    }

    #[test]
    fn system_masters_becomes_the_cluster_admin_policy_and_other_groups_stay_groups() {
        let entries = migrate_aws_auth(&aws_auth(), WORKER);
        let ops = entries.iter().find(|e| e.principal_arn == OPS).unwrap();
        assert_eq!(ops.entry_type, AccessEntryType::Standard);
        assert_eq!(ops.username.as_deref(), Some("ops-admin"));
        assert_eq!(ops.kubernetes_groups, ["platform"]);
        assert_eq!(
            ops.policies,
            [PolicyAssociationPlan {
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy".to_owned(),
                scope: AccessScopeType::Cluster,
                namespaces: Vec::new(),
            }]
        );
        assert!(ops.dropped_groups.is_empty());
    }

    #[test]
    fn node_roles_in_map_roles_become_ec2_linux() {
        let entries = migrate_aws_auth(&aws_auth(), WORKER);
        let nodes = entries
            .iter()
            .find(|e| e.principal_arn.ends_with("role/self-managed-nodes"))
            .unwrap();
        assert_eq!(nodes.entry_type, AccessEntryType::Ec2Linux);
        assert!(nodes.username.is_none() && nodes.kubernetes_groups.is_empty());
    }

    #[test]
    fn other_system_groups_are_dropped_and_reported() {
        let entries = migrate_aws_auth(&aws_auth(), WORKER);
        let viewer = entries
            .iter()
            .find(|e| e.principal_arn.ends_with("role/viewer"))
            .unwrap();
        assert_eq!(viewer.kubernetes_groups, ["viewers"]);
        assert_eq!(viewer.dropped_groups, ["system:authenticated"]);
        assert!(viewer.policies.is_empty());
    }

    #[test]
    fn map_users_become_standard_entries() {
        let entries = migrate_aws_auth(&aws_auth(), WORKER);
        let alice = entries
            .iter()
            .find(|e| e.principal_arn.ends_with("user/alice"))
            .unwrap();
        assert_eq!(alice.origin, EntryOrigin::MapUsers);
        assert_eq!(alice.entry_type, AccessEntryType::Standard);
        assert_eq!(alice.username.as_deref(), Some("alice"));
        assert_eq!(alice.kubernetes_groups, ["devs"]);
        assert_eq!(entries.len(), 5);
    }

    #[test]
    fn the_config_map_mode_plans_no_entries() {
        let plan = AccessPlan::new(AuthenticationMode::ConfigMap, true, &[], &aws_auth(), WORKER);
        assert!(plan.entries.is_empty());
    }

    #[test]
    fn a_spec_entry_replaces_the_migrated_one_for_the_same_principal() {
        let mut own = AccessEntrySpec::standard(OPS);
        own.access_policies = vec![AccessPolicySpec {
            policy: "AmazonEKSViewPolicy".to_owned(),
            scope: AccessScope {
                scope_type: AccessScopeType::Namespace,
                namespaces: vec!["b".to_owned(), "a".to_owned()],
            },
        }];
        let plan = AccessPlan::new(AuthenticationMode::Api, true, &[own], &aws_auth(), WORKER);
        let ops: Vec<_> = plan.entries.iter().filter(|e| e.principal_arn == OPS).collect();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].origin, EntryOrigin::Spec);
        assert_eq!(ops[0].policies[0].namespaces, ["a", "b"]);
        assert!(ops[0].policies[0].policy_arn.ends_with("/AmazonEKSViewPolicy"));
        assert_eq!(plan.entries.len(), 5);
    }

    #[test]
    fn api_mode_is_blocked_while_a_migrated_principal_has_no_entry() {
        let plan = AccessPlan::new(AuthenticationMode::Api, true, &[], &aws_auth(), WORKER);
        let mut existing: BTreeSet<String> = plan.entries.iter().map(|e| e.principal_arn.clone()).collect();
        assert!(plan.api_mode_blockers(&existing).is_empty());
        existing.remove(OPS);
        assert_eq!(plan.api_mode_blockers(&existing), [OPS]);
    }

    #[test]
    fn spec_entries_do_not_block_the_api_mode() {
        let own = AccessEntrySpec::standard("arn:aws:iam::123456789012:role/extra");
        let plan = AccessPlan::new(
            AuthenticationMode::Api,
            true,
            &[own],
            &AwsAuthSpec::default(),
            WORKER,
        );
        let existing = BTreeSet::from([WORKER.to_owned()]);
        assert!(plan.api_mode_blockers(&existing).is_empty());
    }
}
