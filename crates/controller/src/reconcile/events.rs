//! Kubernetes events on the EksCluster, through the one shared recorder. Publishing is best effort: a failed
//! event is logged, never a failed reconcile.

use eks_api::{EksCluster, Phase};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::Resource;
use kube::api::DynamicObject;
use kube::runtime::events::{Event, EventType};

use crate::context::Context;
use crate::infra::{EventSeverity, RegionOutcome};

/// The action of events that are about the object as a whole.
const RECONCILE_ACTION: &str = "Reconcile";

async fn publish(ctx: &Context, reference: ObjectReference, type_: EventType, reason: &str, note: &str) {
    publish_related(ctx, reference, None, RECONCILE_ACTION, type_, reason, note).await;
}

/// The recorder counts an event as a repeat of an earlier one (a `series`, keeping the first note) when type,
/// reason, action and related object are equal; `related` and `action` keep events about different objects
/// apart (AWS resources have no object reference, so their events carry the resource as the action).
async fn publish_related(
    ctx: &Context,
    reference: ObjectReference,
    related: Option<ObjectReference>,
    action: &str,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.chars().take(128).collect(),
        note: Some(note.chars().take(1000).collect()),
        action: action.chars().take(128).collect(),
        secondary: related,
    };
    if let Err(err) = ctx.recorder.publish(&event, &reference).await {
        tracing::debug!("publishing event {reason} failed: {err}");
    }
}

/// A Normal event on the watched object.
pub(super) async fn normal(ctx: &Context, object: &DynamicObject, reason: &str, note: &str) {
    publish(
        ctx,
        object.object_ref(&ctx.resource),
        EventType::Normal,
        reason,
        note,
    )
    .await;
}

/// A Warning event on the watched object.
pub(super) async fn warning(ctx: &Context, object: &DynamicObject, reason: &str, note: &str) {
    publish(
        ctx,
        object.object_ref(&ctx.resource),
        EventType::Warning,
        reason,
        note,
    )
    .await;
}

/// A Normal event on the typed object.
pub(super) async fn normal_for(ctx: &Context, object: &EksCluster, reason: &str, note: &str) {
    publish(ctx, object.object_ref(&()), EventType::Normal, reason, note).await;
}

/// A Normal event on the typed object about a related object (a generated ConfigMap or Secret).
pub(super) async fn normal_about(
    ctx: &Context,
    object: &EksCluster,
    related: ObjectReference,
    reason: &str,
    note: &str,
) {
    publish_related(
        ctx,
        object.object_ref(&()),
        Some(related),
        RECONCILE_ACTION,
        EventType::Normal,
        reason,
        note,
    )
    .await;
}

/// A Warning event on the typed object.
pub(super) async fn warning_for(ctx: &Context, object: &EksCluster, reason: &str, note: &str) {
    publish(ctx, object.object_ref(&()), EventType::Warning, reason, note).await;
}

/// One event per thing the AWS layer did or met in a region, plus its error. Each carries the region and the
/// AWS resource as its action, so that the twenty `Created` events of a first build stay twenty events instead
/// of one series that names only the first resource.
pub(super) async fn publish_outcome(ctx: &Context, object: &DynamicObject, outcome: &RegionOutcome) {
    let region = &outcome.status.region;
    for event in &outcome.events {
        let type_ = match event.severity {
            EventSeverity::Normal => EventType::Normal,
            EventSeverity::Warning => EventType::Warning,
        };
        let note = format!("{region}: {}", event.message);
        let action = format!("{region}/{}", event.message);
        let reference = object.object_ref(&ctx.resource);
        publish_related(ctx, reference, None, &action, type_, &event.reason, &note).await;
    }
    if let Some(error) = &outcome.error {
        let note = format!("{region}: {}", error.message);
        let reference = object.object_ref(&ctx.resource);
        publish_related(
            ctx,
            reference,
            None,
            region,
            EventType::Warning,
            &error.reason,
            &note,
        )
        .await;
    }
}

/// An event when the overall phase changes.
pub(super) async fn phase_transition(
    ctx: &Context,
    object: &DynamicObject,
    before: Option<Phase>,
    after: Phase,
) {
    if before == Some(after) {
        return;
    }
    match after {
        Phase::Ready => normal(ctx, object, "Ready", "every region is ready").await,
        Phase::Failed => {
            warning(
                ctx,
                object,
                "Failed",
                "a region failed; see status.regions[].lastError",
            )
            .await
        }
        other => {
            normal(
                ctx,
                object,
                other.as_str(),
                &format!("phase is now {}", other.as_str()),
            )
            .await
        }
    }
}
