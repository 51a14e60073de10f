//! Access entries and access policies (<https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html>,
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html> and siblings).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::clusters::with_cluster;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::*;
use crate::timing::now_ms;

/// The access policies EKS offers (<https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html>).
pub const ACCESS_POLICIES: &[&str] = &[
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
];

/// The ARN of access policy `name`.
pub fn policy_arn(name: &str) -> String {
    format!("arn:aws:eks::aws:cluster-access-policy/{name}")
}

const ENTRY_TYPES: &[&str] = &[
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "EC2",
    "HYBRID_LINUX",
    "HYPERPOD_LINUX",
];

/// The IAM principal behind a caller ARN: an assumed-role session maps back to its role (without the role's path,
/// which the session ARN does not carry).
pub fn principal_of(caller_arn: &str) -> String {
    match caller_arn.split_once(":assumed-role/") {
        Some((prefix, rest)) => {
            let account = prefix.rsplit(':').next().unwrap_or_default();
            let role = rest.split('/').next().unwrap_or_default();
            format!("arn:aws:iam::{account}:role/{role}")
        }
        None => caller_arn.to_owned(),
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

#[allow(clippy::too_many_arguments)] // the fields of one new entry, each from the request
fn entry_value(
    record: &ClusterRecord,
    region: &str,
    principal: &str,
    kind: &str,
    username: Option<String>,
    groups: Vec<String>,
    tags: BTreeMap<String, String>,
    now: u64,
) -> Value {
    let tail = principal
        .split_once(":iam::")
        .map(|(_, t)| t.replace(':', "/"))
        .unwrap_or_default();
    json!({
        "clusterName": record.cluster.name,
        "principalArn": principal,
        "kubernetesGroups": groups,
        "accessEntryArn": format!("arn:aws:eks:{region}:{}:access-entry/{}/{tail}/{}", record.account, record.cluster.name, uuid()),
        "createdAt": seconds(now),
        "modifiedAt": seconds(now),
        "tags": tags,
        "username": username.unwrap_or_else(|| default_username(principal, kind)),
        "type": kind,
    })
}

/// Gives the creator an access entry with `AmazonEKSClusterAdminPolicy` (cluster scope).
pub fn bootstrap_creator(record: &mut ClusterRecord, region: &str, now: u64) {
    let principal = principal_of(&record.creator_arn);
    let entry = entry_value(
        record,
        region,
        &principal,
        "STANDARD",
        None,
        Vec::new(),
        BTreeMap::new(),
        now,
    );
    let policy = policy_arn("AmazonEKSClusterAdminPolicy");
    let associated = json!({
        "policyArn": policy, "accessScope": {"type": "cluster", "namespaces": []},
        "associatedAt": seconds(now), "modifiedAt": seconds(now),
    });
    record.access_entries.insert(
        principal,
        AccessEntryRecord {
            entry,
            policies: BTreeMap::from([(policy, associated)]),
        },
    );
}

fn require_api_mode(c: &ClusterRecord) -> EksResult<()> {
    if c.cluster.access_config.authentication_mode == AuthenticationMode::ConfigMap {
        return Err(EksError::new(
            ErrorCode::InvalidRequest,
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        )
        .cluster(&c.cluster.name));
    }
    Ok(())
}

fn no_entry(cluster: &str, principal: &str) -> EksError {
    EksError::new(
        ErrorCode::ResourceNotFound,
        format!("The specified principalArn could not be found: {principal}"),
    )
    .cluster(cluster)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    principal_arn: String,
    #[serde(default)]
    kubernetes_groups: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    username: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn check_groups(groups: &[String]) -> EksResult<()> {
    if let Some(group) = groups.iter().find(|g| g.starts_with("system:")) {
        return Err(EksError::invalid(format!(
            "The kubernetes group {group} is invalid: groups may not start with system:"
        )));
    }
    Ok(())
}

/// `CreateAccessEntry`.
pub fn create(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let q: CreateRequest = ctx.body()?;
    let region = ctx.region().to_owned();
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        if !q.principal_arn.starts_with("arn:aws:iam::") {
            return Err(EksError::invalid(format!(
                "The principalArn {} is not an IAM principal ARN",
                q.principal_arn
            ))
            .cluster(cluster));
        }
        let kind = q.kind.clone().unwrap_or_else(|| "STANDARD".to_owned());
        if !ENTRY_TYPES.contains(&kind.as_str()) {
            return Err(
                EksError::invalid(format!("The access entry type {kind} is invalid")).cluster(cluster),
            );
        }
        if kind != "STANDARD" && (q.username.is_some() || !q.kubernetes_groups.is_empty()) {
            return Err(EksError::invalid(format!(
                "username and kubernetesGroups cannot be set for type {kind}"
            ))
            .cluster(cluster));
        }
        check_groups(&q.kubernetes_groups).map_err(|e| e.cluster(cluster))?;
        if c.access_entries.contains_key(&q.principal_arn) {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                "The specified access entry resource is already in use on this cluster.",
            )
            .cluster(cluster));
        }
        let entry = entry_value(
            c,
            &region,
            &q.principal_arn,
            &kind,
            q.username.clone(),
            q.kubernetes_groups.clone(),
            q.tags.clone(),
            now_ms(),
        );
        c.access_entries.insert(
            q.principal_arn.clone(),
            AccessEntryRecord {
                entry: entry.clone(),
                policies: BTreeMap::new(),
            },
        );
        Ok(json!({"accessEntry": entry}))
    })
}

/// `ListAccessEntries` (optionally only those with `associatedPolicyArn`).
pub fn list(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let policy = ctx.query("associatedPolicyArn").map(str::to_owned);
    let names = with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        Ok(c.access_entries
            .iter()
            .filter(|(_, e)| policy.as_ref().is_none_or(|p| e.policies.contains_key(p)))
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>())
    })?;
    let (names, next) = super::page(ctx, names)?;
    Ok(json!({"accessEntries": names, "nextToken": next}))
}

/// `DescribeAccessEntry`.
pub fn describe(ctx: &Ctx<'_>, cluster: &str, principal: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        let e = c
            .access_entries
            .get(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        Ok(json!({"accessEntry": e.entry}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    kubernetes_groups: Option<Vec<String>>,
    username: Option<String>,
}

/// `UpdateAccessEntry`.
pub fn update(ctx: &Ctx<'_>, cluster: &str, principal: &str) -> EksResult<Value> {
    let q: UpdateRequest = ctx.body()?;
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        let e = c
            .access_entries
            .get_mut(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        let kind = e.entry["type"].as_str().unwrap_or("STANDARD").to_owned();
        if kind != "STANDARD" && (q.username.is_some() || q.kubernetes_groups.is_some()) {
            return Err(EksError::invalid(format!(
                "username and kubernetesGroups cannot be set for type {kind}"
            ))
            .cluster(cluster));
        }
        if let Some(groups) = &q.kubernetes_groups {
            check_groups(groups).map_err(|e| e.cluster(cluster))?;
            e.entry["kubernetesGroups"] = json!(groups);
        }
        if let Some(username) = &q.username {
            e.entry["username"] = json!(username);
        }
        e.entry["modifiedAt"] = json!(seconds(now_ms()));
        Ok(json!({"accessEntry": e.entry}))
    })
}

/// `DeleteAccessEntry` (its policy associations go with it).
pub fn delete(ctx: &Ctx<'_>, cluster: &str, principal: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        c.access_entries
            .remove(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        Ok(json!({}))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssociateRequest {
    policy_arn: String,
    access_scope: Value,
}

/// `AssociateAccessPolicy` (replaces the scope of an already associated policy).
pub fn associate(ctx: &Ctx<'_>, cluster: &str, principal: &str) -> EksResult<Value> {
    let q: AssociateRequest = ctx.body()?;
    if !ACCESS_POLICIES.iter().any(|p| policy_arn(p) == q.policy_arn) {
        return Err(EksError::invalid(format!(
            "The policyArn {} is not a valid access policy",
            q.policy_arn
        ))
        .cluster(cluster));
    }
    let scope_type = q.access_scope["type"].as_str().unwrap_or_default();
    let namespaces: Vec<String> = q.access_scope["namespaces"]
        .as_array()
        .map(|n| n.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    match (scope_type, namespaces.is_empty()) {
        ("cluster", true) | ("namespace", false) => {}
        ("cluster", false) => {
            return Err(EksError::invalid("namespaces must be empty for a cluster scope").cluster(cluster));
        }
        ("namespace", true) => {
            return Err(EksError::invalid("namespaces are required for a namespace scope").cluster(cluster));
        }
        _ => return Err(EksError::invalid("accessScope.type must be cluster or namespace").cluster(cluster)),
    }
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        let e = c
            .access_entries
            .get_mut(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        if e.entry["type"] != "STANDARD" {
            return Err(EksError::new(
                ErrorCode::InvalidRequest,
                "Access policies can only be associated with STANDARD access entries",
            )
            .cluster(cluster));
        }
        let now = seconds(now_ms());
        let associated_at = e
            .policies
            .get(&q.policy_arn)
            .map(|p| p["associatedAt"].clone())
            .unwrap_or(json!(now));
        let policy = json!({
            "policyArn": q.policy_arn,
            "accessScope": {"type": scope_type, "namespaces": namespaces},
            "associatedAt": associated_at,
            "modifiedAt": now,
        });
        e.policies.insert(q.policy_arn.clone(), policy.clone());
        Ok(json!({"clusterName": cluster, "principalArn": principal, "associatedAccessPolicy": policy}))
    })
}

/// `ListAssociatedAccessPolicies`.
pub fn list_associated(ctx: &Ctx<'_>, cluster: &str, principal: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        let e = c
            .access_entries
            .get(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        let policies: Vec<&Value> = e.policies.values().collect();
        Ok(json!({"clusterName": cluster, "principalArn": principal, "associatedAccessPolicies": policies}))
    })
}

/// `DisassociateAccessPolicy`.
pub fn disassociate(ctx: &Ctx<'_>, cluster: &str, principal: &str, policy: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        require_api_mode(c)?;
        let e = c
            .access_entries
            .get_mut(principal)
            .ok_or_else(|| no_entry(cluster, principal))?;
        e.policies.remove(policy).ok_or_else(|| {
            EksError::new(
                ErrorCode::ResourceNotFound,
                format!("The policy {policy} is not associated with {principal}"),
            )
            .cluster(cluster)
        })?;
        Ok(json!({}))
    })
}

/// `ListAccessPolicies`.
pub fn list_policies(_ctx: &Ctx<'_>) -> EksResult<Value> {
    let policies: Vec<Value> = ACCESS_POLICIES
        .iter()
        .map(|p| json!({"name": p, "arn": policy_arn(p)}))
        .collect();
    Ok(json!({"accessPolicies": policies}))
}
