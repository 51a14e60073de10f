//! Tagging of clusters and node groups (`TagResource`, `UntagResource`, `ListTagsForResource`, whose errors are
//! `BadRequestException` and `NotFoundException`:
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_TagResource.html>).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::State;

fn not_found(arn: &str) -> EksError {
    EksError::new(ErrorCode::NotFound, format!("Resource not found: {arn}"))
}

/// Runs `f` on the tags of the cluster or node group `arn` names.
fn with_tags<T>(
    ctx: &Ctx<'_>,
    arn: &str,
    f: impl FnOnce(&mut BTreeMap<String, String>) -> T,
) -> EksResult<T> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, "eks", region, _, resource] = parts[..] else {
        return Err(EksError::new(
            ErrorCode::BadRequest,
            format!("Invalid ARN: {arn}"),
        ));
    };
    let mut state: std::sync::MutexGuard<'_, State> = ctx.app.state();
    let regional = state.region(region);
    let path: Vec<&str> = resource.split('/').collect();
    let tags = match path[..] {
        ["cluster", name] => regional
            .clusters
            .get_mut(name)
            .filter(|c| c.cluster.arn == arn)
            .map(|c| &mut c.cluster.tags),
        ["nodegroup", cluster, group, _] => regional
            .clusters
            .get_mut(cluster)
            .and_then(|c| c.nodegroups.get_mut(group))
            .filter(|g| g.nodegroup.nodegroup_arn == arn)
            .map(|g| &mut g.nodegroup.tags),
        _ => {
            return Err(EksError::new(
                ErrorCode::BadRequest,
                format!("Invalid resource ARN: {arn}"),
            ));
        }
    };
    tags.map(f).ok_or_else(|| not_found(arn))
}

#[derive(Deserialize)]
struct TagRequest {
    tags: BTreeMap<String, String>,
}

/// `TagResource`. Keys starting with `aws:` are reserved.
pub fn tag(ctx: &Ctx<'_>, arn: &str) -> EksResult<Value> {
    let q: TagRequest = ctx
        .body()
        .map_err(|_| EksError::new(ErrorCode::BadRequest, "tags is required"))?;
    if q.tags.keys().any(|k| k.to_ascii_lowercase().starts_with("aws:")) {
        return Err(EksError::new(
            ErrorCode::BadRequest,
            "Tag keys starting with aws: are reserved",
        ));
    }
    with_tags(ctx, arn, |tags| tags.extend(q.tags))?;
    Ok(json!({}))
}

/// `UntagResource` (`tagKeys` repeated in the query).
pub fn untag(ctx: &Ctx<'_>, arn: &str) -> EksResult<Value> {
    let keys = ctx.query_all("tagKeys");
    if keys.is_empty() {
        return Err(EksError::new(ErrorCode::BadRequest, "tagKeys is required"));
    }
    with_tags(ctx, arn, |tags| keys.iter().for_each(|k| drop(tags.remove(k))))?;
    Ok(json!({}))
}

/// `ListTagsForResource`.
pub fn list(ctx: &Ctx<'_>, arn: &str) -> EksResult<Value> {
    let tags = with_tags(ctx, arn, |tags| tags.clone())?;
    Ok(json!({"tags": tags}))
}
