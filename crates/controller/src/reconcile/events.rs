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
    let event = bounded(type_, reason, action, note, related);
    if let Err(err) = ctx.recorder.publish(&event, &reference).await {
        tracing::debug!("publishing event {reason} failed: {err}");
    }
}

/// An event within the API's limits: reason and action at most 128 characters, the note at most 1,000.
fn bounded(
    type_: EventType,
    reason: &str,
    action: &str,
    note: &str,
    related: Option<ObjectReference>,
) -> Event {
    Event {
        type_,
        reason: reason.chars().take(128).collect(),
        note: Some(note.chars().take(1000).collect()),
        action: action.chars().take(128).collect(),
        secondary: related,
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
/// of one series that names only the first; the recorder keeps only the most recent few of an object's series
/// (see [`crate::recorder`]), so this costs no memory per resource.
pub(super) async fn publish_outcome(ctx: &Context, object: &DynamicObject, outcome: &RegionOutcome) {
    for event in outcome_events(outcome) {
        let reference = object.object_ref(&ctx.resource);
        if let Err(err) = ctx.recorder.publish(&event, &reference).await {
            tracing::debug!("publishing event {} failed: {err}", event.reason);
        }
    }
}

/// The events of one region's pass, in the order the AWS layer reported them, its error last.
fn outcome_events(outcome: &RegionOutcome) -> Vec<Event> {
    let region = &outcome.status.region;
    let done = outcome.events.iter().map(|event| {
        let type_ = match event.severity {
            EventSeverity::Normal => EventType::Normal,
            EventSeverity::Warning => EventType::Warning,
        };
        bounded(
            type_,
            &event.reason,
            &format!("{region}/{}", event.message),
            &format!("{region}: {}", event.message),
            None,
        )
    });
    let failed = outcome.error.as_ref().map(|error| {
        bounded(
            EventType::Warning,
            &error.reason,
            region,
            &format!("{region}: {}", error.message),
            None,
        )
    });
    done.chain(failed).collect()
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use eks_api::RegionStatus;
    use eks_aws::fake::{FakeAws, FakeConfig};
    use k8s_openapi::api::events::v1::Event as K8sEvent;
    use kube::api::{Api, ListParams};
    use kube::runtime::events::Reporter;

    use super::*;
    use crate::aws_infra::AwsInfrastructure;
    use crate::infra::Infrastructure;
    use crate::recorder::{EventRecorder, SERIES_PER_OBJECT};

    fn two_region_object(i: usize) -> EksCluster {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "eksoperator.io/v1alpha1", "kind": "EksCluster",
            "metadata": {"name": format!("c{i}"), "namespace": "default",
                         "uid": format!("00000000-0000-0000-0000-{i:012}")},
            "spec": {"regions": ["eu-west-1", "eu-west-2"], "stage": "test", "kubernetesVersion": "1.31",
                     "network": {"vpcCidr": "10.0.0.0/16"},
                     "nodeGroups": [{"name": "workers", "instanceTypes": ["t3.medium"], "minSize": 1, "maxSize": 3}]}
        }))
        .unwrap()
    }

    /// Every pass of a first build of each region of `object`, from the AWS layer on the in-memory fake, until
    /// the region is Ready.
    async fn first_build(infra: &AwsInfrastructure, object: &EksCluster) -> Vec<RegionOutcome> {
        let cluster = eks_api::validate(object).unwrap();
        let mut outcomes = Vec::new();
        for config in cluster.regions() {
            let mut recorded: Option<RegionStatus> = None;
            loop {
                let outcome = infra
                    .ensure_region(&cluster, &config.region, recorded.as_ref(), false)
                    .await;
                assert!(outcome.error.is_none(), "{:?}", outcome.error);
                let ready = outcome.status.phase == Some(Phase::Ready);
                recorded = Some(outcome.status.clone());
                outcomes.push(outcome);
                if ready {
                    break;
                }
            }
        }
        outcomes
    }

    #[tokio::test]
    async fn a_fleet_of_two_region_builds_keeps_a_bounded_number_of_event_series_per_object() {
        const OBJECTS: usize = 30;
        let emulator = kube_emulator::Emulator::start().await.unwrap();
        let client = emulator.client();
        let recorder = EventRecorder::new(client.clone(), Reporter::from("eks-operator".to_owned()));
        let fake = FakeAws::new(FakeConfig::default());
        let infra = AwsInfrastructure::new(Arc::new(fake.context()));
        let mut published = 0;
        let mut first_notes = Vec::new();
        for i in 0..OBJECTS {
            let object = two_region_object(i);
            let reference = object.object_ref(&());
            let uid = object.metadata.uid.clone().unwrap();
            let events: Vec<Event> = first_build(&infra, &object)
                .await
                .iter()
                .flat_map(outcome_events)
                .collect();
            let distinct: HashSet<(String, String)> = events
                .iter()
                .map(|e| (e.reason.clone(), e.action.clone()))
                .collect();
            // What the bound is for: a build has more distinct events than an object may keep series of
            // (kube-runtime's recorder kept every one of them, for every object, for six minutes).
            assert!(distinct.len() > 2 * SERIES_PER_OBJECT, "{}", distinct.len());
            for event in &events {
                recorder.publish(event, &reference).await.unwrap();
                published += 1;
            }
            assert!(recorder.cached_series_of(&uid) <= SERIES_PER_OBJECT);
            if i == 0 {
                first_notes = events.iter().filter_map(|e| e.note.clone()).collect();
            }
        }
        assert!(
            recorder.cached_series() <= OBJECTS * SERIES_PER_OBJECT,
            "{}",
            recorder.cached_series()
        );

        // Every event reached the API server, as a new Event or as a repeat counted in its series.
        let api: Api<K8sEvent> = Api::namespaced(client.clone(), "default");
        let listed = api.list(&ListParams::default()).await.unwrap().items;
        let counted: i32 = listed
            .iter()
            .map(|e| e.series.as_ref().map_or(1, |s| s.count))
            .sum();
        assert_eq!(counted, published);
        // The first object's events name each region's VPC and both IAM roles, one resource per event.
        for region in ["eu-west-1", "eu-west-2"] {
            for resource in ["VPC vpc-", "IAM role eks-cluster-", "IAM role eks-worker-"] {
                let prefix = format!("{region}: {resource}");
                assert!(
                    first_notes.iter().any(|n| n.starts_with(&prefix)),
                    "{prefix}: {first_notes:?}"
                );
                let on_server = listed.iter().any(|e| {
                    e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("c0")
                        && e.note.as_deref().is_some_and(|n| n.starts_with(&prefix))
                });
                assert!(on_server, "{prefix}");
            }
        }

        // A repeat of a recent event is still counted in its series, not published again.
        let last = two_region_object(OBJECTS - 1);
        let warning = bounded(
            EventType::Warning,
            "Throttled",
            "eu-west-1",
            "eu-west-1: slow down",
            None,
        );
        recorder.publish(&warning, &last.object_ref(&())).await.unwrap();
        recorder.publish(&warning, &last.object_ref(&())).await.unwrap();
        let throttled: Vec<K8sEvent> = api
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("Throttled"))
            .collect();
        assert_eq!(throttled.len(), 1);
        assert_eq!(throttled[0].series.as_ref().map(|s| s.count), Some(2));

        // An object the controller lets go keeps nothing.
        let uid = last.metadata.uid.clone().unwrap();
        assert!(recorder.cached_series_of(&uid) > 0);
        recorder.forget(&uid);
        assert_eq!(recorder.cached_series_of(&uid), 0);
        emulator.shutdown().await;
    }
}
