//! Query parameters as the real server reads them: booleans, and the value checks of `dryRun`,
//! `fieldValidation`, `fieldManager` and `propagationPolicy`, with the server's error wording.

use std::collections::HashMap;

use axum::http::Uri;

use crate::errors::ApiError;
use crate::schema::Cause;

/// The query parameters of a request (the last value of a repeated key wins).
pub type Params = HashMap<String, String>;

/// Decodes the query string of `uri`.
pub fn query(uri: &Uri) -> Params {
    uri.query()
        .map(|q| {
            q.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A boolean parameter as the real server converts it (`runtime.Convert_Slice_string_To_bool` in
/// `k8s.io/apimachinery/pkg/runtime/conversion.go`): absent is false; `0` and `false` in any case are
/// false; any other value, the empty one included, is true. So `watch=True`, `watch=1` and `watch` watch.
pub fn flag(params: &Params, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The `*Options` kind a verb's parameters decode into (named in validation errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionsKind {
    /// POST.
    Create,
    /// PUT.
    Update,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl OptionsKind {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "CreateOptions",
            Self::Update => "UpdateOptions",
            Self::Patch => "PatchOptions",
            Self::Delete => "DeleteOptions",
        }
    }
}

fn not_supported(field: &str, value: &str, supported: &[&str]) -> Cause {
    let supported: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
    Cause {
        reason: "FieldValueNotSupported",
        field: field.into(),
        message: format!(
            "Unsupported value: {value}: supported values: {}",
            supported.join(", ")
        ),
    }
}

/// Checks the options of a write or delete as `k8s.io/apimachinery/pkg/apis/meta/v1/validation`
/// (`ValidateCreateOptions`, `ValidatePatchOptions`, `ValidateDeleteOptions`, `ValidateDryRun`,
/// `ValidateFieldManager`, `ValidateFieldValidation`) does, answering 422 `Invalid` as it does:
/// `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"x"}: supported values: "All"`.
pub fn validate(params: &Params, kind: OptionsKind) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    if let Some(dry_run) = params.get("dryRun")
        && dry_run != "All"
    {
        causes.push(not_supported(
            "dryRun",
            &format!("[]string{{\"{dry_run}\"}}"),
            &["All"],
        ));
    }
    if kind != OptionsKind::Delete {
        if let Some(manager) = params.get("fieldManager") {
            if manager.len() > 128 {
                causes.push(Cause {
                    reason: "FieldValueTooLong",
                    field: "fieldManager".into(),
                    message: "Too long: may not be more than 128 bytes".into(),
                });
            }
            if manager.chars().any(|c| c.is_control()) {
                causes.push(Cause {
                    reason: "FieldValueInvalid",
                    field: "fieldManager".into(),
                    message: format!("Invalid value: \"{manager}\": must only contain printable characters"),
                });
            }
        }
        if let Some(validation) = params.get("fieldValidation")
            && !matches!(validation.as_str(), "" | "Ignore" | "Strict" | "Warn")
        {
            causes.push(not_supported(
                "fieldValidation",
                &format!("\"{validation}\""),
                &["", "Ignore", "Strict", "Warn"],
            ));
        }
    }
    if kind == OptionsKind::Delete
        && let Some(policy) = params.get("propagationPolicy")
        && !matches!(policy.as_str(), "Foreground" | "Background" | "Orphan")
    {
        causes.push(not_supported(
            "propagationPolicy",
            &format!("\"{policy}\""),
            &["Foreground", "Background", "Orphan", "nil"],
        ));
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_options(kind.name(), &causes))
    }
}

/// The parameters of a DELETE with the `propagationPolicy` and `dryRun` of its `DeleteOptions` body, which
/// the server checks the same way.
pub fn with_delete_body(params: &Params, body: &serde_json::Value) -> Params {
    let mut merged = params.clone();
    if let Some(policy) = body["propagationPolicy"].as_str() {
        merged.insert("propagationPolicy".into(), policy.to_owned());
    }
    if let Some(other) = body["dryRun"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .find(|d| *d != "All")
    {
        merged.insert("dryRun".into(), other.to_owned());
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn booleans_are_false_only_for_zero_and_false_in_any_case() {
        for value in ["true", "True", "TRUE", "1", "yes", "", "anything"] {
            assert!(flag(&params(&[("watch", value)]), "watch"), "{value:?}");
        }
        for value in ["false", "False", "FALSE", "0"] {
            assert!(!flag(&params(&[("watch", value)]), "watch"), "{value:?}");
        }
        assert!(!flag(&params(&[]), "watch"));
    }

    #[test]
    fn a_query_without_values_reads_as_empty_strings() {
        let uri: Uri = "/api/v1/pods?watch&limit=5&labelSelector=a%3Db".parse().unwrap();
        let p = query(&uri);
        assert_eq!(p.get("watch").map(String::as_str), Some(""));
        assert!(flag(&p, "watch"));
        assert_eq!(p.get("labelSelector").map(String::as_str), Some("a=b"));
    }

    #[test]
    fn option_values_are_checked_with_the_servers_wording() {
        let error = validate(&params(&[("dryRun", "all")]), OptionsKind::Create).unwrap_err();
        assert_eq!(error.code(), 422);
        assert_eq!(
            error.status()["message"],
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"all\"}: supported values: \"All\""
        );
        let error = validate(&params(&[("fieldValidation", "strict")]), OptionsKind::Patch).unwrap_err();
        assert_eq!(
            error.status()["message"],
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
        );
        let error = validate(&params(&[("propagationPolicy", "Later")]), OptionsKind::Delete).unwrap_err();
        assert_eq!(
            error.status()["message"],
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Later\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
        );
        let long = "m".repeat(129);
        assert!(validate(&params(&[("fieldManager", &long)]), OptionsKind::Update).is_err());
        assert!(validate(&params(&[("fieldManager", "a\u{7}")]), OptionsKind::Update).is_err());
        for ok in [
            params(&[
                ("dryRun", "All"),
                ("fieldValidation", "Strict"),
                ("fieldManager", "kubectl"),
            ]),
            params(&[("fieldValidation", "")]),
        ] {
            assert!(validate(&ok, OptionsKind::Create).is_ok());
        }
        assert!(
            validate(
                &params(&[("propagationPolicy", "Foreground")]),
                OptionsKind::Delete
            )
            .is_ok()
        );
    }
}
