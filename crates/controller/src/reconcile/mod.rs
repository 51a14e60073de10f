//! The reconcile: `kube::runtime::finalizer` is the only top-level action, so apply and cleanup are the only
//! two paths, and the finalizer is on the object before the first AWS call.
//!
//! The controller watches EksCluster objects as dynamic objects and turns each into the typed spec inside the
//! reconcile, so that one malformed object gets an `InvalidSpec` status instead of breaking the watch of all.

mod apply;
mod cleanup;
mod events;
mod generated_objects;
mod read;
mod retry;
mod status_writer;
mod validate;

use std::sync::Arc;
use std::time::Instant;

use kube::api::{Api, DynamicObject};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use crate::context::{Context, FINALIZER};
use crate::error::{Error, Result};

/// Reconciles one EksCluster.
pub async fn reconcile(object: Arc<DynamicObject>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let namespace = object
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &namespace, &ctx.resource);
    let span = tracing::info_span!("reconcile", object = %format!("{namespace}/{}", object.name_any()));
    let reported = object.clone();
    let result = finalizer(&api, FINALIZER, object, |event| async {
        match event {
            Event::Apply(object) => apply::apply(&object, &ctx).await,
            Event::Cleanup(object) => cleanup::cleanup(&object, &ctx).await,
        }
    })
    .instrument(span)
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    if let Err(error) = &result
        && !already_published(error)
    {
        events::warning(&ctx, &reported, &error.reason(), &error.to_string()).await;
    }
    ctx.metrics.reconciled(started.elapsed());
    result
}

/// Whether the reconcile has published the error's Warning event already (a region's failure with the AWS
/// layer's events, an aws-auth failure where it happened) or it is no failure at all (teardown in progress).
/// Every other failure (Kubernetes API, rendering, the finalizer itself) gets its Warning event in
/// [`reconcile`].
fn already_published(error: &Error) -> bool {
    use kube::runtime::finalizer::Error as FinalizerError;
    let inner = match error {
        Error::Finalizer(inner) => match inner.as_ref() {
            FinalizerError::ApplyFailed(e) | FinalizerError::CleanupFailed(e) => e,
            _ => return false,
        },
        other => other,
    };
    matches!(
        inner,
        Error::Region { .. } | Error::AwsAuthApply { .. } | Error::TeardownInProgress { .. }
    )
}

/// Decides when to retry after a failed reconcile: a region's failure at the delay its pass chose (short after
/// progress or throttling), anything else with exponential backoff per object, capped; never a hot loop.
pub fn error_policy(object: Arc<DynamicObject>, error: &Error, ctx: Arc<Context>) -> Action {
    if let Error::Finalizer(inner) = error
        && let kube::runtime::finalizer::Error::CleanupFailed(Error::TeardownInProgress { after, .. }) =
            inner.as_ref()
    {
        return Action::requeue(*after);
    }
    let reason = error.reason();
    ctx.metrics.failed(&reason);
    let uid = object.meta().uid.clone().unwrap_or_default();
    let region_error = match error {
        Error::Region { .. } => Some(error),
        Error::Finalizer(inner) => match inner.as_ref() {
            kube::runtime::finalizer::Error::ApplyFailed(e @ Error::Region { .. })
            | kube::runtime::finalizer::Error::CleanupFailed(e @ Error::Region { .. }) => Some(e),
            _ => None,
        },
        _ => None,
    };
    // A region's failure carries the delay the pass decided with its progress (and wrote to status);
    // every other failure climbs the object's ladder.
    let (region, delay) = match region_error {
        Some(Error::Region { region, retry_in, .. }) => (Some(region.as_str()), *retry_in),
        _ => (None, ctx.next_backoff(&uid)),
    };
    tracing::warn!(
        object = %format!("{}/{}", object.namespace().unwrap_or_default(), object.name_any()),
        region,
        reason,
        retry_in_seconds = delay.as_secs(),
        "reconcile failed: {error}"
    );
    Action::requeue(delay)
}
