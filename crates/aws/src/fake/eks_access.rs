//! The fake's access entries and authentication mode, following the same rules as EKS and `eks-emulator`
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html> and siblings,
//! <https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html#set-cam>): access entry calls only in
//! the `API` and `API_AND_CONFIG_MAP` modes, the mode only moves forward, `system:` groups refused, username
//! and groups only for `STANDARD` entries, policies only on `STANDARD` entries.
//!
//! Not modelled: the creator's bootstrap entry (the fake has no caller identity) and principals that do not exist
//! in IAM.

use super::eks::{FakeEks, cluster_not_found};
use super::store::{RegionState, StoredCluster, aws_error, not_found};
use crate::error::AwsResult;
use crate::types::*;

const MODES: [&str; 3] = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];
const TYPES: [&str; 4] = ["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX"];
const POLICY_PREFIX: &str = "arn:aws:eks::aws:cluster-access-policy/";
const POLICIES: [&str; 5] = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
];

/// `UpdateClusterConfig` with an access config: only forward, and a change must change something.
pub(super) fn change_mode(cluster: &mut Cluster, wanted: &str) -> AwsResult<()> {
    let rank = |m: &str| MODES.iter().position(|x| *x == m);
    let current = cluster.authentication_mode.as_deref().unwrap_or("CONFIG_MAP");
    match (rank(current), rank(wanted)) {
        (Some(from), Some(to)) if to > from => {
            cluster.authentication_mode = Some(wanted.to_owned());
            Ok(())
        }
        (Some(from), Some(to)) if to == from => Err(aws_error(
            "UpdateClusterConfig",
            "InvalidParameterException",
            "Unsupported authentication mode update: the cluster already has this mode",
        )),
        _ => Err(aws_error(
            "UpdateClusterConfig",
            "InvalidParameterException",
            format!("Unsupported authentication mode update from {current} to {wanted}"),
        )),
    }
}

fn in_api_mode<'a>(r: &'a mut RegionState, op: &'static str, name: &str) -> AwsResult<&'a mut StoredCluster> {
    let c = r
        .clusters
        .get_mut(name)
        .ok_or_else(|| cluster_not_found(op, name))?;
    if c.cluster.authentication_mode.as_deref().unwrap_or("CONFIG_MAP") == "CONFIG_MAP" {
        return Err(aws_error(
            op,
            "InvalidRequestException",
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        ));
    }
    Ok(c)
}

fn no_entry(op: &'static str, principal: &str) -> crate::error::AwsError {
    not_found(
        op,
        "ResourceNotFoundException",
        &format!("access entry {principal}"),
    )
}

fn check_groups(op: &'static str, groups: &[String]) -> AwsResult<()> {
    match groups.iter().find(|g| g.starts_with("system:")) {
        Some(group) => Err(aws_error(
            op,
            "InvalidParameterException",
            format!("The kubernetes group {group} is invalid: groups may not start with system:"),
        )),
        None => Ok(()),
    }
}

fn default_username(principal: &str, kind: &str) -> String {
    match kind {
        "EC2_LINUX" | "EC2_WINDOWS" => "system:node:{{EC2PrivateDNSName}}".to_owned(),
        "FARGATE_LINUX" => "system:node:{{SessionName}}".to_owned(),
        _ => match principal.split_once(":role/") {
            Some((prefix, role)) => {
                let account = prefix.rsplit(':').next().unwrap_or_default();
                let role = role.rsplit('/').next().unwrap_or_default();
                format!("arn:aws:sts::{account}:assumed-role/{role}/{{{{SessionName}}}}")
            }
            None => principal.to_owned(),
        },
    }
}

impl FakeEks {
    pub(super) fn access_entries(&self, cluster: &str) -> AwsResult<Vec<String>> {
        self.with(|r, _| {
            let c = in_api_mode(r, "ListAccessEntries", cluster)?;
            Ok(c.access_entries.keys().cloned().collect())
        })
    }

    pub(super) fn describe_entry(&self, cluster: &str, principal: &str) -> AwsResult<Option<AccessEntry>> {
        self.with(|r, _| {
            let c = in_api_mode(r, "DescribeAccessEntry", cluster)?;
            Ok(c.access_entries.get(principal).map(|(e, _)| e.clone()))
        })
    }

    pub(super) fn create_entry(&self, cluster: &str, q: &CreateAccessEntry) -> AwsResult<AccessEntry> {
        const OP: &str = "CreateAccessEntry";
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            let principal = &q.principal_arn;
            let is_principal = principal.starts_with("arn:aws:iam::")
                && (principal.contains(":role/") || principal.contains(":user/"));
            if !is_principal {
                return Err(aws_error(
                    OP,
                    "InvalidParameterException",
                    format!("The principalArn {principal} is not an IAM principal ARN"),
                ));
            }
            let kind = if q.entry_type.is_empty() {
                "STANDARD"
            } else {
                q.entry_type.as_str()
            };
            if !TYPES.contains(&kind) {
                return Err(aws_error(
                    OP,
                    "InvalidParameterException",
                    format!("The access entry type {kind} is invalid"),
                ));
            }
            if kind != "STANDARD" && (q.username.is_some() || !q.kubernetes_groups.is_empty()) {
                return Err(aws_error(
                    OP,
                    "InvalidParameterException",
                    format!("username and kubernetesGroups cannot be set for type {kind}"),
                ));
            }
            check_groups(OP, &q.kubernetes_groups)?;
            if c.access_entries.contains_key(principal) {
                return Err(aws_error(
                    OP,
                    "ResourceInUseException",
                    "The specified access entry resource is already in use on this cluster.",
                ));
            }
            let entry = AccessEntry {
                principal_arn: principal.clone(),
                entry_type: kind.to_owned(),
                username: q
                    .username
                    .clone()
                    .unwrap_or_else(|| default_username(principal, kind)),
                kubernetes_groups: q.kubernetes_groups.clone(),
                tags: q.tags.clone(),
            };
            c.access_entries
                .insert(principal.clone(), (entry.clone(), Default::default()));
            Ok(entry)
        })
    }

    pub(super) fn update_entry(
        &self,
        cluster: &str,
        principal: &str,
        q: &AccessEntryUpdate,
    ) -> AwsResult<()> {
        const OP: &str = "UpdateAccessEntry";
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            let (entry, _) = c
                .access_entries
                .get_mut(principal)
                .ok_or_else(|| no_entry(OP, principal))?;
            if entry.entry_type != "STANDARD" && (q.username.is_some() || q.kubernetes_groups.is_some()) {
                return Err(aws_error(
                    OP,
                    "InvalidParameterException",
                    format!(
                        "username and kubernetesGroups cannot be set for type {}",
                        entry.entry_type
                    ),
                ));
            }
            if let Some(groups) = &q.kubernetes_groups {
                check_groups(OP, groups)?;
                entry.kubernetes_groups = groups.clone();
            }
            if let Some(username) = &q.username {
                entry.username = username.clone();
            }
            Ok(())
        })
    }

    pub(super) fn delete_entry(&self, cluster: &str, principal: &str) -> AwsResult<()> {
        const OP: &str = "DeleteAccessEntry";
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            c.access_entries
                .remove(principal)
                .map(|_| ())
                .ok_or_else(|| no_entry(OP, principal))
        })
    }

    pub(super) fn associated_policies(
        &self,
        cluster: &str,
        principal: &str,
    ) -> AwsResult<Vec<AssociatedPolicy>> {
        const OP: &str = "ListAssociatedAccessPolicies";
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            let (_, policies) = c
                .access_entries
                .get(principal)
                .ok_or_else(|| no_entry(OP, principal))?;
            Ok(policies.values().cloned().collect())
        })
    }

    pub(super) fn associate(&self, cluster: &str, principal: &str, q: &AssociatedPolicy) -> AwsResult<()> {
        const OP: &str = "AssociateAccessPolicy";
        let known = q
            .policy_arn
            .strip_prefix(POLICY_PREFIX)
            .is_some_and(|name| POLICIES.contains(&name));
        if !known {
            return Err(aws_error(
                OP,
                "InvalidParameterException",
                format!("The policyArn {} is not a valid access policy", q.policy_arn),
            ));
        }
        match (q.scope_type.as_str(), q.namespaces.is_empty()) {
            ("cluster", true) | ("namespace", false) => {}
            _ => {
                return Err(aws_error(
                    OP,
                    "InvalidParameterException",
                    "accessScope: a cluster scope takes no namespaces, a namespace scope needs some",
                ));
            }
        }
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            let (entry, policies) = c
                .access_entries
                .get_mut(principal)
                .ok_or_else(|| no_entry(OP, principal))?;
            if entry.entry_type != "STANDARD" {
                return Err(aws_error(
                    OP,
                    "InvalidRequestException",
                    "Access policies can only be associated with STANDARD access entries",
                ));
            }
            let mut policy = q.clone();
            policy.namespaces.sort();
            policies.insert(q.policy_arn.clone(), policy);
            Ok(())
        })
    }

    pub(super) fn disassociate(&self, cluster: &str, principal: &str, policy_arn: &str) -> AwsResult<()> {
        const OP: &str = "DisassociateAccessPolicy";
        self.with(|r, _| {
            let c = in_api_mode(r, OP, cluster)?;
            let (_, policies) = c
                .access_entries
                .get_mut(principal)
                .ok_or_else(|| no_entry(OP, principal))?;
            policies
                .remove(policy_arn)
                .map(|_| ())
                .ok_or_else(|| not_found(OP, "ResourceNotFoundException", policy_arn))
        })
    }
}
