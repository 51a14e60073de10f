//! Step two of a reconcile: turn the object into a validated cluster, or report why it is not one
//! (`Ready=False`, reason `InvalidSpec`, the field path in the message and a Warning event) and wait for a change.
//! An authentication mode behind the one in force in a region (`status.regions[].authenticationMode`) is such
//! an invalid spec.

use eks_api::{EksClusterStatus, Phase, ValidatedCluster};
use k8s_openapi::jiff::Timestamp;
use kube::api::DynamicObject;

use super::read::typed;
use super::{events, status_writer};
use crate::context::Context;
use crate::error::Result;
use crate::status;

/// The validated cluster, or `None` once an invalid spec has been reported in status.
pub(super) async fn validate_or_report(
    object: &DynamicObject,
    ctx: &Context,
    uid: &str,
    previous: Option<&EksClusterStatus>,
) -> Result<Option<ValidatedCluster>> {
    // A mode behind the one in force in a region is refused here too, before any AWS call: EKS cannot go back.
    let validated = typed(object)
        .and_then(|typed| eks_api::validate(&typed))
        .and_then(|cluster| eks_api::validate_mode_transition(&cluster, previous).map(|()| cluster));
    let error = match validated {
        Ok(cluster) => return Ok(Some(cluster)),
        Err(error) => error,
    };
    tracing::warn!(field = error.first_field(), "invalid spec: {error}");
    let status = status::invalid(previous, object.metadata.generation, &error, Timestamp::now());
    if status_writer::write(object, ctx, previous, &status).await? {
        events::warning(ctx, object, error.reason(), &error.to_string()).await;
    }
    ctx.metrics.set_phase(uid, Some(Phase::Invalid.as_str()));
    ctx.reset_backoff(uid);
    Ok(None)
}
