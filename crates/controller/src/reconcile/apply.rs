//! The apply path: [`read`](super::read) → [`validate`](super::validate) → ensure every region concurrently
//! through the AWS layer (which plans each region from the validated spec) → generated objects → status.

use eks_api::{Phase, RegionStatus, ValidatedCluster};
use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DynamicObject;
use kube::runtime::controller::Action;

use super::read::{previous_status, typed};
use super::{events, generated_objects, retry, status_writer, validate};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::infra::{RegionOutcome, TeardownRequest};
use crate::status;

/// Applies the object: the only path that creates or changes AWS resources.
pub(super) async fn apply(object: &DynamicObject, ctx: &Context) -> Result<Action> {
    let uid = object.uid().ok_or(Error::MissingField("metadata.uid"))?;
    let previous = previous_status(object);
    let generation = object.metadata.generation;
    let Some(cluster) = validate::validate_or_report(object, ctx, &uid, previous.as_ref()).await? else {
        return Ok(Action::await_change());
    };
    let spec_changed = previous.as_ref().and_then(|p| p.observed_generation) != generation;
    let recorded = |region: &str| {
        previous
            .as_ref()
            .and_then(|p| p.regions.iter().find(|r| r.region == region))
    };

    // Every region of the spec is ensured, and every region dropped from the spec torn down, concurrently:
    // one failing region does not hold the others back.
    let ensures = cluster.regions().iter().map(|config| {
        let region = &config.region;
        ctx.infra
            .ensure_region(&cluster, region, recorded(region.as_str()), spec_changed)
    });
    let dropped: Vec<TeardownRequest> = previous
        .iter()
        .flat_map(|p| &p.regions)
        .filter(|r| cluster.regions().iter().all(|c| c.region.as_str() != r.region))
        .filter_map(|r| {
            Some(TeardownRequest {
                owner_uid: uid.clone(),
                owner: format!("{}/{}", cluster.namespace(), cluster.name()),
                region: eks_api::RegionName::parse(&r.region).ok()?,
                recorded: Some(r.clone()),
                spec_cluster_id: eks_api::RegionName::parse(&r.region)
                    .ok()
                    .and_then(|region| {
                        eks_api::ClusterId::new(&region, cluster.spec().stage.as_deref(), cluster.name()).ok()
                    })
                    .map(|id| id.as_str().to_owned()),
                deletion_policy: cluster.spec().deletion_policy,
                credentials: cluster.spec().credentials.clone(),
            })
        })
        .collect();
    let teardowns = dropped.iter().map(|request| ctx.infra.teardown_region(request));
    let (ensured, torn_down) = futures::join!(join_all(ensures), join_all(teardowns));

    // What AWS did is published first, so that a failure writing the generated objects below cannot lose it.
    for outcome in ensured.iter().chain(&torn_down) {
        events::publish_outcome(ctx, object, outcome).await;
    }

    let typed_object = typed(object).map_err(|e| Error::Render {
        what: "object",
        message: e.to_string(),
    })?;
    let mut regions = Vec::new();
    let mut outcomes: Vec<&RegionOutcome> = Vec::new();
    let mut aws_auth_failure = None;
    for outcome in &ensured {
        let mut region_status = outcome.status.clone();
        let failure = generated_objects::ensure(
            ctx,
            &typed_object,
            &cluster,
            &mut region_status,
            recorded(&outcome.status.region),
            spec_changed,
        )
        .await?;
        if aws_auth_failure.is_none() {
            aws_auth_failure = failure;
        }
        regions.push(region_status);
        outcomes.push(outcome);
    }
    for outcome in &torn_down {
        if outcome.gone {
            generated_objects::remove(ctx, &typed_object, &outcome.status.region).await?;
        } else {
            let mut region_status = outcome.status.clone();
            region_status.phase = Some(Phase::Deleting);
            regions.push(region_status);
        }
        outcomes.push(outcome);
    }

    let now = Timestamp::now();
    let failure = retry::region_failure(ctx, &uid, &outcomes);
    let mut status = status::from_regions(previous.as_ref(), generation, regions, now);
    status.next_attempt_at = retry::next_attempt_at(failure.as_ref(), now);
    let phase = status.phase.unwrap_or(Phase::Pending);
    let changed = status_writer::write(object, ctx, previous.as_ref(), &status).await?;
    if changed {
        events::phase_transition(ctx, object, previous.as_ref().and_then(|p| p.phase), phase).await;
    }
    ctx.metrics.set_phase(&uid, Some(phase.as_str()));
    next_action(
        ctx,
        &uid,
        &cluster,
        &status.regions,
        &outcomes,
        failure,
        aws_auth_failure,
    )
}

/// A region's failure is retried at the delay its pass chose ([`retry`]); a failure applying aws-auth into a
/// workload cluster backs off exponentially; work in progress is looked at again soon; a ready object waits
/// for the drift period.
fn next_action(
    ctx: &Context,
    uid: &str,
    cluster: &ValidatedCluster,
    regions: &[RegionStatus],
    outcomes: &[&RegionOutcome],
    region_failure: Option<Error>,
    aws_auth_failure: Option<Error>,
) -> Result<Action> {
    if let Some(error) = region_failure {
        return Err(error);
    }
    if let Some(error) = aws_auth_failure {
        return Err(error);
    }
    ctx.reset_backoff(uid);
    let all_ready =
        regions.len() == cluster.regions().len() && regions.iter().all(|r| r.phase == Some(Phase::Ready));
    if all_ready {
        return Ok(Action::requeue(ctx.timing.drift_period));
    }
    let soonest = outcomes.iter().filter_map(|o| o.requeue_after).min();
    Ok(Action::requeue(ctx.timing.progress_requeue(soonest)))
}
