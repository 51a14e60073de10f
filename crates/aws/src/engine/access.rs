//! The cluster's authentication mode and access entries
//! (<https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html>).
//!
//! One pass: when the spec leaves `ConfigMap`, move to `API_AND_CONFIG_MAP` first (aws-auth is still read, so
//! nobody loses access) and come back when the update is done; then create missing entries with their policies,
//! update username and groups in place where the spec sets them, associate missing or changed policies,
//! disassociate the policies the spec dropped from the entries the operator created, delete the entries the
//! operator created that left the plan; only then, and only when every principal migrated from aws-auth has an
//! entry, move to `API`. Entries others made are never deleted; a field EKS defaults (a username the spec does
//! not set) is never compared, so a converged cluster makes no mutating call.

use std::collections::{BTreeMap, BTreeSet};

use eks_api::{AccessEntryStatus, AccessEntryType, AssociatedPolicyStatus, AuthenticationMode};
use eks_plan::access::{AccessEntryPlan, EntryOrigin};
use eks_plan::tags;

use super::errors::EngineError;
use super::pass::{Pass, Verb};
use crate::error::AwsError;
use crate::types::*;

/// Brings the authentication mode and the access entries of an `ACTIVE` cluster to the plan.
pub(crate) async fn ensure(pass: &mut Pass<'_>, cluster: &Cluster) -> Result<(), EngineError> {
    let wanted = pass.plan.access.authentication_mode;
    let current = cluster
        .authentication_mode
        .as_deref()
        .and_then(AuthenticationMode::from_eks)
        .unwrap_or_default();
    pass.ids.authentication_mode = Some(current);
    if current > wanted {
        return Err(EngineError::AuthenticationModeBackwards {
            current: current.as_str().to_owned(),
            wanted: wanted.as_str().to_owned(),
        });
    }
    if wanted == AuthenticationMode::ConfigMap {
        return Ok(());
    }
    if current == AuthenticationMode::ConfigMap {
        change_mode(pass, cluster, AuthenticationMode::ApiAndConfigMap).await?;
        return Ok(());
    }

    let failures = reconcile_entries(pass, cluster).await?;
    let existing: BTreeSet<String> = pass
        .ids
        .access_entries
        .iter()
        .map(|e| e.principal_arn.clone())
        .collect();
    if wanted == AuthenticationMode::Api && current == AuthenticationMode::ApiAndConfigMap {
        let blockers = pass.plan.access.api_mode_blockers(&existing);
        if blockers.is_empty() && failures.is_empty() {
            change_mode(pass, cluster, AuthenticationMode::Api).await?;
        } else if !blockers.is_empty() {
            pass.blocking.push(format!(
                "authentication mode Api waits for the access entries of {} (still mapped only in aws-auth)",
                blockers.join(", ")
            ));
        }
    }
    match failures.into_iter().next() {
        Some((principal, error)) => Err(EngineError::AccessEntryFailed {
            principal,
            detail: error.to_string(),
        }),
        None => Ok(()),
    }
}

async fn change_mode(
    pass: &mut Pass<'_>,
    cluster: &Cluster,
    to: AuthenticationMode,
) -> Result<(), EngineError> {
    let update = ClusterConfigUpdate::AccessConfig {
        authentication_mode: to.as_eks().to_owned(),
    };
    pass.clients
        .eks
        .update_cluster_config(&cluster.name, &update)
        .await?;
    let from = pass.ids.authentication_mode.unwrap_or_default();
    pass.did(
        Verb::Updated,
        format!(
            "authentication mode of EKS cluster {} from {} to {}",
            cluster.name,
            from.as_str(),
            to.as_str()
        ),
    );
    pass.waiting(format!(
        "EKS cluster {} changes its authentication mode to {}",
        cluster.name,
        to.as_str()
    ));
    Ok(())
}

/// Reconciles every planned entry and deletes the operator's entries that left the plan. Returns the principals
/// EKS refused (the other entries went on), each with its error.
async fn reconcile_entries(
    pass: &mut Pass<'_>,
    cluster: &Cluster,
) -> Result<Vec<(String, AwsError)>, EngineError> {
    let eks = pass.clients.eks.clone();
    let name = cluster.name.clone();
    let uid = pass.plan.owner.uid.clone();
    let existing: BTreeSet<String> = eks.list_access_entries(&name).await?.into_iter().collect();
    let mut failures = Vec::new();
    let mut observed = Vec::new();
    for planned in &pass.plan.access.entries {
        let found = if existing.contains(&planned.principal_arn) {
            eks.describe_access_entry(&name, &planned.principal_arn).await?
        } else {
            None
        };
        let entry = match found {
            Some(mut entry) => {
                update_entry(pass, &name, planned, &mut entry).await?;
                entry
            }
            None => match create_entry(pass, &name, planned).await {
                Ok(Some(entry)) => entry,
                Ok(None) => continue,
                Err(EngineError::Aws(e)) if !e.is_retryable() => {
                    failures.push((planned.principal_arn.clone(), e));
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        let ours = entry.tags.get(tags::OWNER_UID) == Some(&uid);
        let policies = match reconcile_policies(pass, &name, planned, ours).await {
            Ok(policies) => policies,
            Err(EngineError::Aws(e)) if !e.is_retryable() => {
                failures.push((planned.principal_arn.clone(), e));
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        observed.push(status_of(&entry, planned, policies));
    }
    let planned: BTreeSet<&str> = pass
        .plan
        .access
        .entries
        .iter()
        .map(|e| e.principal_arn.as_str())
        .collect();
    for principal in existing.iter().filter(|p| !planned.contains(p.as_str())) {
        let Some(entry) = eks.describe_access_entry(&name, principal).await? else {
            continue;
        };
        if entry.tags.get(tags::OWNER_UID) == Some(&uid) {
            eks.delete_access_entry(&name, principal).await?;
            pass.did(Verb::Deleted, format!("access entry {principal} of {name}"));
        }
    }
    pass.ids.access_entries = observed;
    Ok(failures)
}

async fn create_entry(
    pass: &mut Pass<'_>,
    cluster: &str,
    planned: &AccessEntryPlan,
) -> Result<Option<AccessEntry>, EngineError> {
    let standard = planned.entry_type == AccessEntryType::Standard;
    let request = CreateAccessEntry {
        principal_arn: planned.principal_arn.clone(),
        entry_type: planned.entry_type.as_eks().to_owned(),
        username: planned.username.clone().filter(|_| standard),
        kubernetes_groups: if standard {
            planned.kubernetes_groups.clone()
        } else {
            Vec::new()
        },
        tags: pass.plan.ownership_tags.clone(),
    };
    let eks = pass.clients.eks.clone();
    match eks.create_access_entry(cluster, &request).await {
        Ok(entry) => {
            let what = match planned.origin {
                EntryOrigin::Spec => String::new(),
                EntryOrigin::WorkerRole => " (migrated from aws-auth: the worker role)".to_owned(),
                EntryOrigin::MapRoles => " (migrated from aws-auth mapRoles)".to_owned(),
                EntryOrigin::MapUsers => " (migrated from aws-auth mapUsers)".to_owned(),
            };
            pass.did(
                Verb::Created,
                format!(
                    "access entry {} ({}) of {cluster}{what}",
                    planned.principal_arn,
                    planned.entry_type.as_eks()
                ),
            );
            Ok(Some(entry))
        }
        // Made by an earlier call whose answer was lost, or by someone else (EKS itself makes the entries of
        // managed node group roles): look again and reconcile it in place.
        Err(AwsError::AlreadyExists(_)) => {
            let mut found = eks.describe_access_entry(cluster, &planned.principal_arn).await?;
            if let Some(entry) = &mut found {
                update_entry(pass, cluster, planned, entry).await?;
            }
            Ok(found)
        }
        Err(e) => Err(e.into()),
    }
}

async fn update_entry(
    pass: &mut Pass<'_>,
    cluster: &str,
    planned: &AccessEntryPlan,
    entry: &mut AccessEntry,
) -> Result<(), EngineError> {
    if entry.entry_type != "STANDARD" || planned.entry_type != AccessEntryType::Standard {
        return Ok(());
    }
    let mut update = AccessEntryUpdate::default();
    if let Some(username) = &planned.username
        && username != &entry.username
    {
        update.username = Some(username.clone());
    }
    let groups: BTreeSet<&String> = entry.kubernetes_groups.iter().collect();
    let wanted: BTreeSet<&String> = planned.kubernetes_groups.iter().collect();
    if !planned.kubernetes_groups.is_empty() && groups != wanted {
        update.kubernetes_groups = Some(planned.kubernetes_groups.clone());
    }
    if update == AccessEntryUpdate::default() {
        return Ok(());
    }
    pass.clients
        .eks
        .update_access_entry(cluster, &planned.principal_arn, &update)
        .await?;
    pass.did(
        Verb::Updated,
        format!(
            "username/groups of access entry {} of {cluster}",
            planned.principal_arn
        ),
    );
    if let Some(username) = update.username {
        entry.username = username;
    }
    if let Some(groups) = update.kubernetes_groups {
        entry.kubernetes_groups = groups;
    }
    Ok(())
}

async fn reconcile_policies(
    pass: &mut Pass<'_>,
    cluster: &str,
    planned: &AccessEntryPlan,
    ours: bool,
) -> Result<Vec<AssociatedPolicy>, EngineError> {
    if planned.entry_type != AccessEntryType::Standard {
        return Ok(Vec::new());
    }
    let eks = pass.clients.eks.clone();
    let principal = &planned.principal_arn;
    let mut associated: BTreeMap<String, AssociatedPolicy> = eks
        .list_associated_access_policies(cluster, principal)
        .await?
        .into_iter()
        .map(|p| (p.policy_arn.clone(), p))
        .collect();
    for policy in &planned.policies {
        let wanted = AssociatedPolicy {
            policy_arn: policy.policy_arn.clone(),
            scope_type: policy.scope.as_str().to_owned(),
            namespaces: policy.namespaces.clone(),
        };
        if associated.get(&wanted.policy_arn) == Some(&wanted) {
            continue;
        }
        eks.associate_access_policy(cluster, principal, &wanted).await?;
        pass.did(
            Verb::Updated,
            format!(
                "access policy {} ({} scope) of access entry {principal} of {cluster}",
                wanted.policy_arn, wanted.scope_type
            ),
        );
        associated.insert(wanted.policy_arn.clone(), wanted);
    }
    if ours {
        let keep: BTreeSet<&str> = planned.policies.iter().map(|p| p.policy_arn.as_str()).collect();
        let dropped: Vec<String> = associated
            .keys()
            .filter(|arn| !keep.contains(arn.as_str()))
            .cloned()
            .collect();
        for arn in dropped {
            eks.disassociate_access_policy(cluster, principal, &arn).await?;
            pass.did(
                Verb::Deleted,
                format!("access policy {arn} of access entry {principal} of {cluster}"),
            );
            associated.remove(&arn);
        }
    }
    Ok(associated.into_values().collect())
}

fn status_of(
    entry: &AccessEntry,
    planned: &AccessEntryPlan,
    policies: Vec<AssociatedPolicy>,
) -> AccessEntryStatus {
    AccessEntryStatus {
        principal_arn: planned.principal_arn.clone(),
        entry_type: Some(entry.entry_type.clone()),
        username: Some(entry.username.clone()).filter(|u| !u.is_empty()),
        kubernetes_groups: entry.kubernetes_groups.clone(),
        access_policies: policies
            .into_iter()
            .map(|p| AssociatedPolicyStatus {
                policy_arn: p.policy_arn,
                scope: p.scope_type,
                namespaces: p.namespaces,
            })
            .collect(),
    }
}
