//! Step one of a reconcile, the dereference: the typed object and the status it recorded, read from the
//! dynamic object the watch delivered (so that a malformed object is reported, not a broken watch).

use eks_api::{EksCluster, EksClusterStatus};
use kube::api::DynamicObject;

/// The previous status of the object, if it has a readable one.
pub(super) fn previous_status(object: &DynamicObject) -> Option<EksClusterStatus> {
    object
        .data
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
}

/// Reads the typed object; a malformed one is an invalid spec, reported with the field path.
pub(super) fn typed(object: &DynamicObject) -> Result<EksCluster, eks_api::ValidationError> {
    let mut value = serde_json::to_value(object).map_err(|e| eks_api::ValidationError {
        errors: vec![eks_api::FieldError {
            field: "spec".into(),
            message: e.to_string(),
        }],
    })?;
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    eks_api::parse::from_value(value)
}
