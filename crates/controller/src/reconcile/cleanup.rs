//! The cleanup path: tear every region down (respecting `deletionPolicy`) before the finalizer is removed.
//! Works from the recorded status and the ownership tags, so an object deleted while still provisioning, or one
//! whose spec is invalid now, is torn down from whatever exists; an object that never validated and never
//! recorded a region is released at once.

use std::collections::BTreeSet;

use eks_api::{ClusterId, CredentialsSpec, DeletionPolicy, Phase, RegionName, RegionStatus};
use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DynamicObject;
use kube::runtime::controller::Action;

use super::read::{previous_status, typed};
use super::{events, retry, status_writer};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::infra::TeardownRequest;
use crate::status;

/// Tears the object's regions down; returns `Ok` (which lets the finalizer go) only when every region is
/// gone, and [`Error::TeardownInProgress`] while work remains.
pub(super) async fn cleanup(object: &DynamicObject, ctx: &Context) -> Result<Action> {
    let uid = object.uid().ok_or(Error::MissingField("metadata.uid"))?;
    let previous = previous_status(object);
    let typed = typed(object).ok();
    let validated = typed.as_ref().and_then(|t| eks_api::validate(t).ok());
    // Read from the raw object: a spec that no longer parses still says whether to keep AWS.
    let (policy, unreadable_policy) = deletion_policy(object);

    let mut regions: BTreeSet<String> = previous
        .iter()
        .flat_map(|p| &p.regions)
        .map(|r| r.region.clone())
        .collect();
    if let Some(cluster) = &validated {
        regions.extend(cluster.regions().iter().map(|r| r.region.to_string()));
    }
    if regions.is_empty() {
        tracing::info!("nothing was ever created; releasing");
        release(ctx, &uid);
        return Ok(Action::await_change());
    }
    if policy == DeletionPolicy::Retain {
        let note = match &unreadable_policy {
            Some(value) => format!(
                "spec.deletionPolicy {value} is neither Delete nor Retain: AWS resources are left in place"
            ),
            None => "deletionPolicy is Retain: AWS resources are left in place".to_owned(),
        };
        events::normal(ctx, object, "Retained", &note).await;
        release(ctx, &uid);
        return Ok(Action::await_change());
    }

    let owner = format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any());
    let credentials = typed.as_ref().map_or_else(
        || {
            object
                .data
                .pointer("/spec/credentials")
                .and_then(|c| serde_json::from_value::<CredentialsSpec>(c.clone()).ok())
        },
        |t| t.spec.credentials.clone(),
    );
    let requests: Vec<TeardownRequest> = regions
        .iter()
        .filter_map(|region| {
            Some(TeardownRequest {
                owner_uid: uid.clone(),
                owner: owner.clone(),
                region: RegionName::parse(region).ok()?,
                recorded: previous
                    .as_ref()
                    .and_then(|p| p.regions.iter().find(|r| &r.region == region).cloned()),
                spec_cluster_id: spec_cluster_id(object, region),
                deletion_policy: policy,
                credentials: credentials.clone(),
            })
        })
        .collect();
    let outcomes = join_all(requests.iter().map(|r| ctx.infra.teardown_region(r))).await;
    for outcome in &outcomes {
        events::publish_outcome(ctx, object, outcome).await;
    }
    if outcomes.iter().all(|o| o.gone && o.error.is_none()) {
        events::normal(
            ctx,
            object,
            "Deleted",
            "every AWS resource of every region is gone",
        )
        .await;
        release(ctx, &uid);
        return Ok(Action::await_change());
    }

    let remaining: Vec<RegionStatus> = outcomes
        .iter()
        .filter(|o| !o.gone)
        .map(|o| RegionStatus {
            phase: Some(Phase::Deleting),
            ..o.status.clone()
        })
        .collect();
    let now = Timestamp::now();
    let failure = retry::region_failure(ctx, &uid, &outcomes.iter().collect::<Vec<_>>());
    let mut status = status::from_regions(previous.as_ref(), object.metadata.generation, remaining, now);
    status.next_attempt_at = retry::next_attempt_at(failure.as_ref(), now);
    status_writer::write(object, ctx, previous.as_ref(), &status).await?;
    ctx.metrics.set_phase(&uid, Some(Phase::Deleting.as_str()));
    if let Some(error) = failure {
        return Err(error);
    }
    ctx.reset_backoff(&uid);
    let soonest = outcomes.iter().filter_map(|o| o.requeue_after).min();
    let left: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.gone)
        .map(|o| o.status.region.clone())
        .collect();
    // Returning Ok would let the finalizer go; the teardown is not finished yet.
    Err(Error::TeardownInProgress {
        remaining: left.join(", "),
        after: ctx.timing.progress_requeue(soonest),
    })
}

/// `spec.deletionPolicy` of the raw object, so that a spec which no longer parses keeps a `Retain`: absent
/// means `Delete` (the schema's default); a value that is neither is kept as `Retain`, the choice that can be
/// undone, and returned for the event.
fn deletion_policy(object: &DynamicObject) -> (DeletionPolicy, Option<String>) {
    match object.data.pointer("/spec/deletionPolicy") {
        None | Some(serde_json::Value::Null) => (DeletionPolicy::Delete, None),
        Some(value) => match value.as_str() {
            Some("Delete") => (DeletionPolicy::Delete, None),
            Some("Retain") => (DeletionPolicy::Retain, None),
            _ => (DeletionPolicy::Retain, Some(value.to_string())),
        },
    }
}

/// The object is about to lose its finalizer: forget its phase, its failures and its event series.
fn release(ctx: &Context, uid: &str) {
    ctx.metrics.set_phase(uid, None);
    ctx.reset_backoff(uid);
    ctx.recorder.forget(uid);
}

/// The cluster id the object's name and `spec.stage` give in a region (read from the raw object, so a spec
/// that no longer parses still names it), when they make a valid one.
fn spec_cluster_id(object: &DynamicObject, region: &str) -> Option<String> {
    let region = RegionName::parse(region).ok()?;
    let stage = object.data.pointer("/spec/stage").and_then(|s| s.as_str());
    ClusterId::new(&region, stage, &object.name_any())
        .ok()
        .map(|id| id.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::ApiResource;

    fn object(spec: serde_json::Value) -> DynamicObject {
        let mut object = DynamicObject::new("a", &ApiResource::erase::<eks_api::EksCluster>(&()));
        object.data = serde_json::json!({ "spec": spec });
        object
    }

    #[test]
    fn the_deletion_policy_is_read_from_a_spec_that_does_not_parse() {
        // kubernetesVersion as a number: the typed parse refuses the object.
        let retain = object(serde_json::json!({"kubernetesVersion": 1.31, "deletionPolicy": "Retain"}));
        assert!(typed(&retain).is_err());
        assert_eq!(deletion_policy(&retain), (DeletionPolicy::Retain, None));
        let delete = object(serde_json::json!({"kubernetesVersion": 1.31, "deletionPolicy": "Delete"}));
        assert_eq!(deletion_policy(&delete), (DeletionPolicy::Delete, None));
        let absent = object(serde_json::json!({"kubernetesVersion": 1.31}));
        assert_eq!(deletion_policy(&absent), (DeletionPolicy::Delete, None));
        let odd = object(serde_json::json!({"deletionPolicy": "Keep"}));
        assert_eq!(
            deletion_policy(&odd),
            (DeletionPolicy::Retain, Some("\"Keep\"".to_owned()))
        );
        assert_eq!(
            deletion_policy(&object(serde_json::json!({"deletionPolicy": 3}))).0,
            DeletionPolicy::Retain
        );
    }

    #[test]
    fn the_cluster_id_comes_from_the_name_and_stage_also_when_the_spec_does_not_parse() {
        let staged = object(serde_json::json!({"kubernetesVersion": 1.31, "stage": "test"}));
        assert!(typed(&staged).is_err());
        assert_eq!(
            spec_cluster_id(&staged, "eu-west-1").as_deref(),
            Some("eu-west-1-test-a")
        );
        let plain = object(serde_json::json!({}));
        assert_eq!(
            spec_cluster_id(&plain, "eu-west-2").as_deref(),
            Some("eu-west-2-a")
        );
        assert_eq!(spec_cluster_id(&plain, "not-a-region"), None);
    }
}
