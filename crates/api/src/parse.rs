//! Reading `EksCluster` documents from YAML or JSON with errors that name the field, the way the API server's
//! strict field validation does: a wrong type names its path, an unknown field is refused rather than dropped.

use serde::Deserialize;

use crate::spec::EksCluster;
use crate::validate::{FieldError, ValidationError};

/// `apiVersion` of `EksCluster`.
pub const API_VERSION: &str = "eksoperator.io/v1alpha1";
/// `kind` of `EksCluster`.
pub const KIND: &str = "EksCluster";

/// Why a file of documents could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The text is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// A document is not a valid `EksCluster`.
    #[error("document {index}{}: {error}", name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default())]
    Document {
        /// Position of the document in the file, from 1.
        index: usize,
        /// `metadata.name` where it could be read.
        name: Option<String>,
        /// What is wrong.
        error: ValidationError,
    },
}

/// Reads every non-empty document of a YAML (or JSON) text as an `EksCluster`.
pub fn parse_documents(text: &str) -> Result<Vec<EksCluster>, ParseError> {
    let values: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(text).map_err(|e| ParseError::Yaml(e.to_string()))?;
    values
        .into_iter()
        .filter(|v| !v.is_null())
        .enumerate()
        .map(|(i, value)| {
            let name = value
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .map(str::to_owned);
            from_value(value).map_err(|error| ParseError::Document {
                index: i + 1,
                name,
                error,
            })
        })
        .collect()
}

/// Reads one `EksCluster` from a JSON value, refusing unknown fields and naming the path of type errors.
pub fn from_value(value: serde_json::Value) -> Result<EksCluster, ValidationError> {
    let single = |field: &str, message: String| ValidationError {
        errors: vec![FieldError {
            field: field.to_owned(),
            message,
        }],
    };
    match value.get("apiVersion").and_then(|v| v.as_str()) {
        Some(API_VERSION) => {}
        other => return Err(single("apiVersion", format!("{other:?} must be {API_VERSION:?}"))),
    }
    match value.get("kind").and_then(|v| v.as_str()) {
        Some(KIND) => {}
        other => return Err(single("kind", format!("{other:?} must be {KIND:?}"))),
    }
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let object = EksCluster::deserialize(serde_ignored::Deserializer::new(&value, &mut record));
    let object = match object {
        Ok(object) => object,
        Err(_) => {
            // Deserialise again to learn the path of the offending field.
            let err = match serde_path_to_error::deserialize::<_, EksCluster>(&value) {
                Err(err) => err,
                Ok(object) => return Ok(object),
            };
            let path = err.path().to_string();
            return Err(single(&path, err.into_inner().to_string()));
        }
    };
    let unknown: Vec<FieldError> = unknown
        .into_iter()
        .filter(|path| {
            let top = path.split(['.', '[']).next().unwrap_or_default();
            !matches!(top, "apiVersion" | "kind" | "metadata" | "status")
        })
        .map(|path| FieldError {
            message: format!("unknown field {path:?}"),
            field: path,
        })
        .collect();
    if unknown.is_empty() {
        Ok(object)
    } else {
        Err(ValidationError { errors: unknown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: eksoperator.io/v1alpha1\nkind: EksCluster\nmetadata: {name: a}\nspec:\n  regions: [eu-west-1]\n  kubernetesVersion: \"1.31\"\n  network: {vpcCidr: 10.0.0.0/16}\n";

    #[test]
    fn reads_several_documents_and_skips_empty_ones() {
        let text = format!("---\n{GOOD}---\n{}\n---\n", GOOD.replace("name: a", "name: b"));
        let objects = parse_documents(&text).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[1].metadata.name.as_deref(), Some("b"));
    }

    #[test]
    fn unknown_fields_are_named() {
        let text = GOOD.replace("vpcCidr:", "vpcCidrs: 10.0.0.0/8, vpcCidr:");
        let err = parse_documents(&text).unwrap_err().to_string();
        assert!(err.contains("spec.network.vpcCidrs"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn type_errors_name_the_path() {
        let text = format!(
            "{GOOD}  nodeGroups: [{{name: w, instanceTypes: [t3.medium], minSize: two, maxSize: 3}}]\n"
        );
        let err = parse_documents(&text).unwrap_err().to_string();
        assert!(err.contains("spec.nodeGroups[0].minSize"), "{err}");
    }

    #[test]
    fn wrong_kind_is_refused() {
        let err = parse_documents(&GOOD.replace("kind: EksCluster", "kind: ConfigMap")).unwrap_err();
        assert!(err.to_string().contains("kind"), "{err}");
    }
}
