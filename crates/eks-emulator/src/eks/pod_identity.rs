//! Pod Identity associations
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html> and siblings):
//! one association per service account, identified by an `a-` id.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::clusters::with_cluster;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::seconds;
use crate::timing::now_ms;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    namespace: String,
    service_account: String,
    role_arn: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

fn not_found(cluster: &str, id: &str) -> EksError {
    EksError::new(
        ErrorCode::ResourceNotFound,
        format!("Pod Identity association {id} not found"),
    )
    .cluster(cluster)
}

fn check_role(role: &str) -> EksResult<()> {
    if role.starts_with("arn:aws:iam::") && role.contains(":role/") {
        Ok(())
    } else {
        Err(EksError::invalid(format!(
            "roleArn {role} is not an IAM role ARN"
        )))
    }
}

/// `CreatePodIdentityAssociation`.
pub fn create(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let q: CreateRequest = ctx.body()?;
    check_role(&q.role_arn).map_err(|e| e.cluster(cluster))?;
    let region = ctx.region().to_owned();
    with_cluster(ctx, cluster, |c| {
        let taken = c.pod_identity.values().any(|a| {
            a["namespace"] == q.namespace.as_str() && a["serviceAccount"] == q.service_account.as_str()
        });
        if taken {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!(
                    "Association already exists for service account {}/{}",
                    q.namespace, q.service_account
                ),
            )
            .cluster(cluster));
        }
        let id = format!("a-{}", &super::model::uuid().replace('-', "")[..17]);
        let now = seconds(now_ms());
        let association = json!({
            "clusterName": cluster,
            "namespace": q.namespace,
            "serviceAccount": q.service_account,
            "roleArn": q.role_arn,
            "associationArn": format!("arn:aws:eks:{region}:{}:podidentityassociation/{cluster}/{id}", c.account),
            "associationId": id,
            "tags": q.tags,
            "createdAt": now,
            "modifiedAt": now,
        });
        c.pod_identity.insert(id, association.clone());
        Ok(json!({"association": association}))
    })
}

/// `ListPodIdentityAssociations` (optionally filtered by `namespace` and `serviceAccount`).
pub fn list(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let namespace = ctx.query("namespace").map(str::to_owned);
    let account = ctx.query("serviceAccount").map(str::to_owned);
    let all = with_cluster(ctx, cluster, |c| Ok(c.pod_identity.clone()))?;
    let ids: Vec<String> = all
        .iter()
        .filter(|(_, a)| namespace.as_ref().is_none_or(|n| a["namespace"] == n.as_str()))
        .filter(|(_, a)| account.as_ref().is_none_or(|s| a["serviceAccount"] == s.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    let (ids, next) = super::page(ctx, ids)?;
    let summaries: Vec<Value> = ids
        .iter()
        .filter_map(|id| all.get(id))
        .map(|a| {
            json!({
                "clusterName": a["clusterName"], "namespace": a["namespace"], "serviceAccount": a["serviceAccount"],
                "associationArn": a["associationArn"], "associationId": a["associationId"],
            })
        })
        .collect();
    Ok(json!({"associations": summaries, "nextToken": next}))
}

/// `DescribePodIdentityAssociation`.
pub fn describe(ctx: &Ctx<'_>, cluster: &str, id: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        c.pod_identity
            .get(id)
            .map(|a| json!({"association": a}))
            .ok_or_else(|| not_found(cluster, id))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    role_arn: Option<String>,
}

/// `UpdatePodIdentityAssociation` (the role).
pub fn update(ctx: &Ctx<'_>, cluster: &str, id: &str) -> EksResult<Value> {
    let q: UpdateRequest = ctx.body()?;
    if let Some(role) = &q.role_arn {
        check_role(role).map_err(|e| e.cluster(cluster))?;
    }
    with_cluster(ctx, cluster, |c| {
        let a = c.pod_identity.get_mut(id).ok_or_else(|| not_found(cluster, id))?;
        if let Some(role) = q.role_arn {
            a["roleArn"] = json!(role);
            a["modifiedAt"] = json!(seconds(now_ms()));
        }
        Ok(json!({"association": a}))
    })
}

/// `DeletePodIdentityAssociation`.
pub fn delete(ctx: &Ctx<'_>, cluster: &str, id: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        let a = c.pod_identity.remove(id).ok_or_else(|| not_found(cluster, id))?;
        Ok(json!({"association": a}))
    })
}
