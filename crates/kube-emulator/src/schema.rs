//! Structural-schema handling of custom objects, as the real server does it: defaults applied, unknown fields
//! pruned (and reported for `fieldValidation=Strict`), and the value validated against `openAPIV3Schema`
//! (types, required, enum, pattern, format, bounds, lengths, item counts, list-type set). Messages follow the
//! real server's wording. CEL `x-kubernetes-validations` rules are evaluated separately, in `crate::cel`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

/// One validation failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, ...
    pub reason: &'static str,
    /// Field path (`spec.network.vpcCidr`).
    pub field: String,
    /// Message in the real server's style.
    pub message: String,
}

/// The result of processing one object.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Validation failures.
    pub causes: Vec<Cause>,
    /// Paths of unknown fields that were pruned.
    pub unknown: Vec<String>,
}

fn regex(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut map = cache.lock().ok()?;
    map.entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn show(value: &Value) -> String {
    value.to_string()
}

/// Applies defaults, prunes and validates `object` (the whole object; `metadata`, `apiVersion` and `kind` are
/// left alone) against the root schema.
pub fn process(object: &mut Value, schema: &Value) -> Outcome {
    let mut outcome = Outcome::default();
    let Some(map) = object.as_object_mut() else {
        return outcome;
    };
    // The root is an object like any other, except for the three fields the server owns.
    let reserved: Vec<(String, Value)> = ROOT_RESERVED
        .iter()
        .filter_map(|key| map.remove(*key).map(|value| ((*key).to_owned(), value)))
        .collect();
    walk_object(map, schema, "", false, &mut outcome);
    outcome.causes.retain(|cause| {
        !(cause.reason == "FieldValueRequired" && ROOT_RESERVED.contains(&cause.field.as_str()))
    });
    map.extend(reserved);
    outcome
}

/// Root fields that are not the schema's to default, prune or require.
const ROOT_RESERVED: [&str; 3] = ["apiVersion", "kind", "metadata"];

fn invalid(outcome: &mut Outcome, path: &str, value: &Value, message: String) {
    outcome.causes.push(Cause {
        reason: "FieldValueInvalid",
        field: path.to_owned(),
        message: format!("Invalid value: {}: {message}", show(value)),
    });
}

/// Whether `text` has the string `format` (the formats the real server checks that are easy to check here;
/// others pass).
fn format_ok(format: &str, text: &str) -> bool {
    use base64::Engine as _;
    match format {
        "date-time" => text.parse::<k8s_openapi::jiff::Timestamp>().is_ok(),
        "date" => text.parse::<k8s_openapi::jiff::civil::Date>().is_ok(),
        "byte" => base64::engine::general_purpose::STANDARD.decode(text).is_ok(),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => text.split_once('/').is_some_and(|(ip, bits)| {
            let max = match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) => 32,
                Ok(std::net::IpAddr::V6(_)) => 128,
                Err(_) => return false,
            };
            bits.parse::<u8>().is_ok_and(|b| b <= max)
        }),
        "uuid" => {
            text.len() == 36
                && text.char_indices().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }
        _ => true,
    }
}

fn walk(value: &mut Value, schema: &Value, path: &str, outcome: &mut Outcome) {
    if value.is_null() {
        if schema["nullable"].as_bool() != Some(true) && !schema["default"].is_null() {
            *value = schema["default"].clone();
        } else {
            return;
        }
    }
    if schema["x-kubernetes-int-or-string"].as_bool() == Some(true) {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            invalid(
                outcome,
                path,
                value,
                format!("{path} in body must be of type int-or-string"),
            );
        }
        return;
    }
    let preserve = schema["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true);
    let type_ = schema["type"]
        .as_str()
        .unwrap_or(if preserve { "" } else { "object" });
    let type_ok = match type_ {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        let got = match value {
            Value::Object(_) => "object",
            Value::Array(_) => "array",
            Value::String(_) => "string",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
        };
        invalid(
            outcome,
            path,
            value,
            format!("{path} in body must be of type {type_}: \"{got}\""),
        );
        return;
    }
    match value {
        Value::Object(map) => walk_object(map, schema, path, preserve, outcome),
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(max) = schema["maxItems"].as_u64().filter(|m| count > *m) {
                outcome.causes.push(Cause {
                    reason: "FieldValueTooMany",
                    field: path.to_owned(),
                    message: format!("Too many: {count}: must have at most {max} items"),
                });
            }
            if let Some(min) = schema["minItems"].as_u64().filter(|m| count < *m) {
                invalid(
                    outcome,
                    path,
                    &Value::Array(items.clone()),
                    format!("{path} in body should have at least {min} items"),
                );
            }
            if schema["x-kubernetes-list-type"].as_str() == Some("set") {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        outcome.causes.push(Cause {
                            reason: "FieldValueDuplicate",
                            field: format!("{path}[{i}]"),
                            message: format!("Duplicate value: {}", show(item)),
                        });
                    }
                }
            }
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &schema["items"], &format!("{path}[{i}]"), outcome);
            }
        }
        Value::String(text) => {
            if let Some(allowed) = schema["enum"].as_array()
                && !allowed.iter().any(|a| a.as_str() == Some(text.as_str()))
            {
                let list: Vec<String> = allowed.iter().map(show).collect();
                outcome.causes.push(Cause {
                    reason: "FieldValueNotSupported",
                    field: path.to_owned(),
                    message: format!(
                        "Unsupported value: {}: supported values: {}",
                        show(&Value::String(text.clone())),
                        list.join(", ")
                    ),
                });
            }
            if let Some(pattern) = schema["pattern"].as_str()
                && regex(pattern).is_some_and(|re| !re.is_match(text))
            {
                invalid(
                    outcome,
                    path,
                    &Value::String(text.clone()),
                    format!("{path} in body should match '{pattern}'"),
                );
            }
            if let Some(format) = schema["format"].as_str()
                && !format_ok(format, text)
            {
                invalid(
                    outcome,
                    path,
                    &Value::String(text.clone()),
                    format!("{path} in body must be of type {format}: \"{text}\""),
                );
            }
            let len = text.chars().count() as u64;
            if let Some(max) = schema["maxLength"].as_u64().filter(|m| len > *m) {
                outcome.causes.push(Cause {
                    reason: "FieldValueTooLong",
                    field: path.to_owned(),
                    message: format!("Too long: may not be more than {max} bytes"),
                });
            }
            if let Some(min) = schema["minLength"].as_u64().filter(|m| len < *m) {
                invalid(
                    outcome,
                    path,
                    &Value::String(text.clone()),
                    format!("{path} in body should be at least {min} chars long"),
                );
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or_default();
            if schema["format"] == "int32" && i32::try_from(number.as_i64().unwrap_or(i64::MAX)).is_err() {
                invalid(
                    outcome,
                    path,
                    &Value::Number(number.clone()),
                    format!("{path} in body must be of type int32: \"{number}\""),
                );
            }
            if let Some(max) = schema["maximum"].as_f64().filter(|m| n > *m) {
                invalid(
                    outcome,
                    path,
                    &Value::Number(number.clone()),
                    format!("{path} in body should be less than or equal to {max}"),
                );
            }
            if let Some(min) = schema["minimum"].as_f64().filter(|m| n < *m) {
                invalid(
                    outcome,
                    path,
                    &Value::Number(number.clone()),
                    format!("{path} in body should be greater than or equal to {min}"),
                );
            }
        }
        _ => {}
    }
}

fn walk_object(
    map: &mut Map<String, Value>,
    schema: &Value,
    path: &str,
    preserve: bool,
    outcome: &mut Outcome,
) {
    let props = schema["properties"].as_object();
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let child = join(path, &key);
        let sub = props.and_then(|p| p.get(&key)).or(additional);
        match sub {
            Some(sub) => {
                if let Some(value) = map.get_mut(&key) {
                    walk(value, sub, &child, outcome);
                }
            }
            None if preserve || schema["additionalProperties"].as_bool() == Some(true) => {}
            None => {
                outcome.unknown.push(child);
                map.remove(&key);
            }
        }
    }
    if let Some(props) = props {
        for (key, sub) in props {
            if !map.contains_key(key)
                && let Some(default) = sub.get("default")
            {
                let mut value = default.clone();
                walk(&mut value, sub, &join(path, key), outcome);
                map.insert(key.clone(), value);
            }
        }
    }
    for required in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(required) {
            outcome.causes.push(Cause {
                reason: "FieldValueRequired",
                field: join(path, required),
                message: "Required value".into(),
            });
        }
    }
    let count = map.len() as u64;
    if let Some(max) = schema["maxProperties"].as_u64().filter(|m| count > *m) {
        outcome.causes.push(Cause {
            reason: "FieldValueTooMany",
            field: path.to_owned(),
            message: format!("Too many: {count}: must have at most {max} items"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 5},
            "mode": {"type": "string", "enum": ["A", "B"], "default": "A"},
            "cidr": {"type": "string", "pattern": "^[0-9./]+$"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }}}})
    }

    #[test]
    fn defaults_pruning_and_errors() {
        let mut object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
            "spec": {"size": 9, "cidr": "abc", "extra": 1, "tags": {"a": "b"}, "free": {"any": [1]}}});
        let outcome = process(&mut object, &schema());
        assert_eq!(object["spec"]["mode"], "A");
        assert!(object["spec"].get("extra").is_none());
        assert_eq!(object["spec"]["free"]["any"][0], 1);
        assert_eq!(outcome.unknown, ["spec.extra"]);
        let fields: Vec<&str> = outcome.causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["spec.cidr", "spec.size"]);
        assert!(outcome.causes[0].message.contains("should match '^[0-9./]+$'"));
    }

    #[test]
    fn the_root_prunes_and_requires_but_leaves_the_server_fields_alone() {
        let schema = json!({"type": "object", "required": ["metadata", "spec"], "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
            "spec": {"type": "object"}}});
        let mut object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {}},
            "extra": true});
        let outcome = process(&mut object, &schema);
        assert_eq!(outcome.unknown, ["extra"]);
        let fields: Vec<&str> = outcome.causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["spec"]);
        assert_eq!(
            object,
            json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a", "labels": {}}})
        );
    }

    #[test]
    fn formats() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "at": {"type": "string", "format": "date-time"},
            "net": {"type": "string", "format": "cidr"},
            "n": {"type": "integer", "format": "int32"}}}}});
        let mut good = json!({"spec": {"at": "2026-01-01T00:00:00Z", "net": "10.0.0.0/16", "n": 5}});
        assert!(process(&mut good, &schema).causes.is_empty());
        let mut bad = json!({"spec": {"at": "yesterday", "net": "10.0.0.0/40", "n": 5_000_000_000_i64}});
        let messages: Vec<String> = process(&mut bad, &schema)
            .causes
            .into_iter()
            .map(|c| c.message)
            .collect();
        assert_eq!(
            messages,
            [
                "Invalid value: \"yesterday\": spec.at in body must be of type date-time: \"yesterday\"",
                "Invalid value: 5000000000: spec.n in body must be of type int32: \"5000000000\"",
                "Invalid value: \"10.0.0.0/40\": spec.net in body must be of type cidr: \"10.0.0.0/40\"",
            ]
        );
    }

    #[test]
    fn required_and_enum() {
        let mut object = json!({"spec": {"mode": "C"}});
        let outcome = process(&mut object, &schema());
        assert!(
            outcome
                .causes
                .iter()
                .any(|c| c.field == "spec.size" && c.message == "Required value")
        );
        assert!(
            outcome
                .causes
                .iter()
                .any(|c| c.reason == "FieldValueNotSupported")
        );
    }
}
