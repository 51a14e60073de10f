//! The cleanup path: tear every region down (respecting `deletionPolicy`) before the finalizer is removed.
//! Works from the recorded status and the ownership tags, so an object deleted while still provisioning, or one
//! whose spec is invalid now, is torn down from whatever exists; an object that never validated and never
//! recorded a region is released at once.

use std::collections::BTreeSet;

use eks_api::{DeletionPolicy, Phase, RegionName, RegionStatus};
use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DynamicObject;
use kube::runtime::controller::Action;

use super::apply::{previous_status, typed};
use super::{events, status_writer};
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
    let policy = typed
        .as_ref()
        .map_or(DeletionPolicy::Delete, |t| t.spec.deletion_policy);

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
        ctx.metrics.set_phase(&uid, None);
        return Ok(Action::await_change());
    }
    if policy == DeletionPolicy::Retain {
        events::normal(
            ctx,
            object,
            "Retained",
            "deletionPolicy is Retain: AWS resources are left in place",
        )
        .await;
        ctx.metrics.set_phase(&uid, None);
        return Ok(Action::await_change());
    }

    let owner = format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any());
    let credentials = typed.as_ref().and_then(|t| t.spec.credentials.clone());
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
        ctx.metrics.set_phase(&uid, None);
        ctx.reset_backoff(&uid);
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
    let status = status::from_regions(
        previous.as_ref(),
        object.metadata.generation,
        remaining,
        Timestamp::now(),
    );
    status_writer::write(object, ctx, previous.as_ref(), &status).await?;
    ctx.metrics.set_phase(&uid, Some(Phase::Deleting.as_str()));
    if let Some((outcome, error)) = outcomes.iter().find_map(|o| o.error.as_ref().map(|e| (o, e))) {
        return Err(Error::Region {
            region: outcome.status.region.clone(),
            reason: error.reason.clone(),
            message: error.message.clone(),
        });
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
