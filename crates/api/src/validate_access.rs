//! Validation of `spec.access` and of the access entries of `regionOverrides`.
//!
//! The rules are EKS's (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html>,
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateAccessPolicy.html>), checked before any AWS
//! call so a bad entry is refused with the field named and nothing is created.

use std::collections::BTreeSet;

use crate::access::{ACCESS_POLICIES, AccessEntrySpec, AccessEntryType, AccessScopeType, AuthenticationMode};
use crate::patterns;
use crate::spec::EksClusterSpec;
use crate::status::EksClusterStatus;
use crate::validate::{Errors, FieldError, ValidatedCluster, ValidationError};

/// Checks `spec.access.entries` and every `spec.regionOverrides.<region>.access.entries`.
pub(crate) fn validate_access(spec: &EksClusterSpec, errors: &mut Errors) {
    let mode = spec.access.authentication_mode;
    let override_entries = spec
        .region_overrides
        .values()
        .any(|o| o.access.as_ref().is_some_and(|a| !a.entries.is_empty()));
    if mode == AuthenticationMode::ConfigMap && (!spec.access.entries.is_empty() || override_entries) {
        errors.add(
            "spec.access.authenticationMode",
            "access entries need the ApiAndConfigMap or Api mode: EKS serves no access entries in the ConfigMap mode",
        );
    }
    if mode == AuthenticationMode::Api && !spec.aws_auth.map_accounts.is_empty() {
        errors.add(
            "spec.access.authenticationMode",
            "the Api mode stops reading aws-auth and spec.awsAuth.mapAccounts has no access entry equivalent: give the accounts' principals entries and remove mapAccounts first",
        );
    }
    let mut shared = BTreeSet::new();
    for (i, entry) in spec.access.entries.iter().enumerate() {
        let field = format!("spec.access.entries[{i}]");
        validate_entry(entry, &field, errors);
        if !shared.insert(entry.principal_arn.as_str()) {
            errors.add(
                format!("{field}.principalArn"),
                format!("duplicate principal {:?}", entry.principal_arn),
            );
        }
    }
    for (region, over) in &spec.region_overrides {
        let Some(access) = &over.access else { continue };
        let mut seen = shared.clone();
        for (i, entry) in access.entries.iter().enumerate() {
            let field = format!("spec.regionOverrides.{region}.access.entries[{i}]");
            validate_entry(entry, &field, errors);
            if !seen.insert(entry.principal_arn.as_str()) {
                errors.add(
                    format!("{field}.principalArn"),
                    format!(
                        "duplicate principal {:?} (already in spec.access.entries or this region)",
                        entry.principal_arn
                    ),
                );
            }
        }
    }
}

fn validate_entry(entry: &AccessEntrySpec, field: &str, errors: &mut Errors) {
    if !patterns::is_principal_arn(&entry.principal_arn) {
        errors.add(
            format!("{field}.principalArn"),
            format!(
                "{:?} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>; assumed-role ARNs are not principals)",
                entry.principal_arn
            ),
        );
    }
    if entry.entry_type != AccessEntryType::Standard {
        let kind = entry.entry_type.as_eks();
        if entry.username.is_some() {
            errors.add(
                format!("{field}.username"),
                format!("type {kind} takes no username: EKS sets it"),
            );
        }
        if !entry.kubernetes_groups.is_empty() {
            errors.add(
                format!("{field}.kubernetesGroups"),
                format!("type {kind} takes no kubernetesGroups: EKS sets them"),
            );
        }
        if !entry.access_policies.is_empty() {
            errors.add(
                format!("{field}.accessPolicies"),
                format!("type {kind} takes no access policies: only STANDARD entries do"),
            );
        }
    }
    if let Some(username) = &entry.username
        && (username.is_empty() || username.len() > 253)
    {
        errors.add(format!("{field}.username"), "must hold 1 to 253 characters");
    }
    for (i, group) in entry.kubernetes_groups.iter().enumerate() {
        if group.starts_with("system:") {
            errors.add(
                format!("{field}.kubernetesGroups[{i}]"),
                format!(
                    "{group:?}: groups starting with \"system:\" are refused by EKS; use an access policy"
                ),
            );
        } else if group.is_empty() {
            errors.add(format!("{field}.kubernetesGroups[{i}]"), "must not be empty");
        }
    }
    let mut policies = BTreeSet::new();
    for (i, policy) in entry.access_policies.iter().enumerate() {
        let here = format!("{field}.accessPolicies[{i}]");
        let known = ACCESS_POLICIES.contains(&policy.policy.as_str())
            || patterns::is_access_policy_arn(&policy.policy);
        if !known {
            errors.add(
                format!("{here}.policy"),
                format!(
                    "{:?} is neither an access policy short name ({}) nor an arn:aws:eks::aws:cluster-access-policy/... ARN",
                    policy.policy,
                    ACCESS_POLICIES.join(", ")
                ),
            );
        } else if !policies.insert(policy.policy_arn()) {
            errors.add(
                format!("{here}.policy"),
                format!("duplicate policy {:?} in this entry", policy.policy),
            );
        }
        match (policy.scope.scope_type, policy.scope.namespaces.is_empty()) {
            (AccessScopeType::Namespace, true) => errors.add(
                format!("{here}.scope.namespaces"),
                "a namespace scope needs at least one namespace",
            ),
            (AccessScopeType::Cluster, false) => errors.add(
                format!("{here}.scope.namespaces"),
                "a cluster scope takes no namespaces",
            ),
            _ => {}
        }
        for (j, namespace) in policy.scope.namespaces.iter().enumerate() {
            if namespace.is_empty() || namespace.len() > 63 {
                errors.add(
                    format!("{here}.scope.namespaces[{j}]"),
                    "must hold 1 to 63 characters",
                );
            }
        }
    }
}

/// Refuses a spec whose authentication mode is behind the mode in force in a region (EKS only moves
/// `CONFIG_MAP` → `API_AND_CONFIG_MAP` → `API`; the CRD holds the same rule as a CEL transition rule, checked again
/// here because the operator does not trust that the API server enforced it). Nothing may be called for such a
/// spec.
pub fn validate_mode_transition(
    cluster: &ValidatedCluster,
    status: Option<&EksClusterStatus>,
) -> Result<(), ValidationError> {
    let wanted = cluster.spec().access.authentication_mode;
    let errors: Vec<FieldError> = status
        .into_iter()
        .flat_map(|s| s.regions.iter())
        .filter_map(|r| r.authentication_mode.map(|mode| (r.region.as_str(), mode)))
        .filter(|(_, in_force)| *in_force > wanted)
        .map(|(region, in_force)| FieldError {
            field: "spec.access.authenticationMode".to_owned(),
            message: format!(
                "{} is in force in {region}; the mode only moves ConfigMap -> ApiAndConfigMap -> Api and cannot go back to {}",
                in_force.as_str(),
                wanted.as_str()
            ),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationError { errors })
    }
}
