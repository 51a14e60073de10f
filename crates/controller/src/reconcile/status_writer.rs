//! Writes the status through server-side apply with the controller's one field manager, and only when it
//! changed, so that a steady object causes no writes (and no watch events).

use eks_api::EksClusterStatus;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use crate::context::{Context, FIELD_MANAGER};
use crate::error::{Error, Result};

/// Applies `status` unless it equals `previous`. Returns whether it wrote.
pub(super) async fn write(
    object: &DynamicObject,
    ctx: &Context,
    previous: Option<&EksClusterStatus>,
    status: &EksClusterStatus,
) -> Result<bool> {
    if previous == Some(status) {
        return Ok(false);
    }
    let namespace = object
        .namespace()
        .ok_or(Error::MissingField("metadata.namespace"))?;
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &namespace, &ctx.resource);
    let body = json!({
        "apiVersion": ctx.resource.api_version,
        "kind": ctx.resource.kind,
        "status": status,
    });
    api.patch_status(
        &object.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(true)
}
