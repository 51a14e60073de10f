//! Schema helpers for the CRD generation.

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// The schema of an optional enum field that keeps the field's own description.
///
/// kube hoists `Option<Enum>` into the enum's schema and with it the enum type's doc comment, which would
/// replace the field's description in `kubectl explain`. This schema has no description of its own, so the
/// field's doc comment is the one that stays.
pub(crate) fn optional_enum<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = T::json_schema(generator);
    if let Some(object) = schema.as_object_mut() {
        object.remove("description");
        object.insert("nullable".to_owned(), serde_json::Value::Bool(true));
    }
    schema
}
