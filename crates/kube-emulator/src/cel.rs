//! CEL `x-kubernetes-validations` rules of CRD schemas, evaluated with the `cel` crate: `self` is the value
//! at the rule's schema node and `oldSelf` the value at the same place before an update. Transition rules
//! (those using `oldSelf`) are skipped on create and where the old value is absent, as in the real server.
//! Rules the crate cannot compile are skipped (the real server would have refused the CRD), and so are rules
//! whose evaluation panics inside the crate.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::schema::Cause;

fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => n.as_u64().map_or_else(
                || cel::Value::Float(n.as_f64().unwrap_or_default()),
                cel::Value::UInt,
            ),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries: HashMap<cel::objects::Key, cel::Value> = map
                .iter()
                .map(|(k, v)| (cel::objects::Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            cel::Value::Map(entries.into())
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, field: &str) -> String {
    match (path.is_empty(), field.strip_prefix('.')) {
        (true, Some(f)) => f.to_owned(),
        (true, None) => field.to_owned(),
        (false, Some(f)) => format!("{path}.{f}"),
        (false, None) => format!("{path}.{field}"),
    }
}

/// Evaluates every rule of `schema` over `object` (`old`: the object before an update).
pub fn validate(schema: &Value, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = Vec::new();
    walk(schema, object, old, "", &mut causes);
    causes
}

fn walk(schema: &Value, value: &Value, old: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    for rule in schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        check(rule, value, old, path, causes);
    }
    match value {
        Value::Object(map) => {
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in map {
                if path.is_empty() && key == "metadata" {
                    continue;
                }
                if let Some(sub) = schema["properties"].get(key).or(additional) {
                    walk(sub, child, old.and_then(|o| o.get(key)), &join(path, key), causes);
                }
            }
        }
        Value::Array(items) if schema["items"].is_object() => {
            for (i, item) in items.iter().enumerate() {
                walk(&schema["items"], item, None, &format!("{path}[{i}]"), causes);
            }
        }
        _ => {}
    }
}

fn check(rule: &Value, value: &Value, old: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let Some(text) = rule["rule"].as_str() else {
        return;
    };
    let transition = text.contains("oldSelf");
    if transition && old.is_none() {
        return;
    }
    // The evaluation runs third-party code while the store is locked: a panic in it must not poison the
    // lock, so it is caught and the rule skipped.
    let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let program = cel::Program::compile(text).ok()?;
        let mut context = cel::Context::default();
        context.add_variable_from_value("self", to_cel(value));
        if let Some(old) = old.filter(|_| transition) {
            context.add_variable_from_value("oldSelf", to_cel(old));
        }
        Some(program.execute(&context).map_err(|e| e.to_string()))
    }));
    let Ok(Some(result)) = evaluated else {
        tracing::warn!(
            rule = text,
            "CEL rule not compiled or its evaluation failed; skipped"
        );
        return;
    };
    let message = rule["message"]
        .as_str()
        .map_or_else(|| format!("failed rule: {text}"), str::to_owned);
    let message = match result {
        Ok(cel::Value::Bool(true)) => return,
        Ok(_) => message,
        Err(err) => format!("{message}: {err} evaluating rule: {text}"),
    };
    let field = rule["fieldPath"]
        .as_str()
        .map_or_else(|| path.to_owned(), |f| join(path, f));
    let (reason, text) = match rule["reason"].as_str() {
        Some("FieldValueForbidden") => ("FieldValueForbidden", format!("Forbidden: {message}")),
        Some("FieldValueRequired") => ("FieldValueRequired", format!("Required value: {message}")),
        Some("FieldValueDuplicate") => ("FieldValueDuplicate", format!("Duplicate value: {message}")),
        _ => (
            "FieldValueInvalid",
            format!("Invalid value: \"{}\": {message}", type_name(value)),
        ),
    };
    causes.push(Cause {
        reason,
        field,
        message: text,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_with_self_and_old_self() {
        let schema = json!({"type": "object",
            "x-kubernetes-validations": [{"rule": "self.metadata.name.matches('^[a-z]+$')", "message": "bad name"}],
            "properties": {"spec": {"type": "object",
                "x-kubernetes-validations": [
                    {"rule": "!has(self.zones) || size(self.zones) <= self.max", "message": "too many zones", "fieldPath": ".zones"},
                    {"rule": "self.regions.all(r, size(r) + 1 <= 10)", "message": "region too long"}],
                "properties": {
                    "cidr": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "cidr is immutable"}]},
                    "zones": {"type": "array", "items": {"type": "string"}},
                    "regions": {"type": "array", "items": {"type": "string"}},
                    "max": {"type": "integer"}}}}});
        let good = json!({"metadata": {"name": "abc"}, "spec": {"cidr": "10.0.0.0/16", "zones": ["a"], "max": 2, "regions": ["eu-west-1"]}});
        assert!(validate(&schema, &good, None).is_empty());
        assert!(validate(&schema, &good, Some(&good)).is_empty());
        let mut bad = good.clone();
        bad["metadata"]["name"] = json!("A.b");
        bad["spec"]["zones"] = json!(["a", "b", "c"]);
        bad["spec"]["cidr"] = json!("10.1.0.0/16");
        bad["spec"]["regions"] = json!(["ap-southeast-1"]);
        let causes = validate(&schema, &bad, Some(&good));
        let fields: Vec<(&str, &str)> = causes
            .iter()
            .map(|c| (c.field.as_str(), c.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("", "Invalid value: \"object\": bad name"),
                ("spec.zones", "Invalid value: \"object\": too many zones"),
                ("spec", "Invalid value: \"object\": region too long"),
                ("spec.cidr", "Invalid value: \"string\": cidr is immutable"),
            ]
        );
    }
}
