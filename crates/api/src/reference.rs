//! The spec and status reference in Markdown, generated from the CRD schema so it cannot drift from what
//! `kubectl explain` shows. Committed as `docs/spec-reference.md`; a test fails when the copy is stale.

use serde_json::Value;

/// Where the generated reference is committed, relative to the repository root.
pub const REFERENCE_PATH: &str = "docs/spec-reference.md";

/// Renders the field reference of `EksCluster` `spec` and `status`.
pub fn reference_markdown() -> String {
    let crd = serde_json::to_value(crate::crd::crd()).unwrap_or_default();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let mut out = String::from(
        "# EksCluster reference\n\n<!-- Generated from the CRD by `cargo run -p eks-operator -- reference`; do not edit. -->\n\n\
         `apiVersion: eksoperator.io/v1alpha1`, `kind: EksCluster` (short name `eksc`), namespaced.\n",
    );
    for top in ["spec", "status"] {
        out.push_str(&format!(
            "\n## {top}\n\n| Field | Type | Description |\n|---|---|---|\n"
        ));
        walk(top, &schema["properties"][top], &mut out);
    }
    out
}

fn type_of(schema: &Value) -> String {
    let base = schema["type"].as_str().unwrap_or("object");
    let mut text = match base {
        "array" => format!("[]{}", type_of(&schema["items"])),
        "object" if schema["additionalProperties"].is_object() => {
            format!("map[string]{}", type_of(&schema["additionalProperties"]))
        }
        other => other.to_owned(),
    };
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        text = format!("enum: {}", names.join(", "));
    }
    if let Some(default) = schema.get("default") {
        text.push_str(&format!(" (default `{default}`)"));
    }
    text
}

fn walk(path: &str, schema: &Value, out: &mut String) {
    let Some(props) = schema["properties"].as_object() else {
        if let Some(items) = schema.get("items").filter(|i| i["properties"].is_object()) {
            walk(&format!("{path}[]"), items, out);
        } else if let Some(values) = schema
            .get("additionalProperties")
            .filter(|a| a["properties"].is_object())
        {
            walk(&format!("{path}.<key>"), values, out);
        }
        return;
    };
    for (name, prop) in props {
        let here = format!("{path}.{name}");
        let description = prop["description"]
            .as_str()
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "\\|");
        let required = schema["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|v| v == name.as_str()));
        let marker = if required { " (required)" } else { "" };
        out.push_str(&format!(
            "| `{here}`{marker} | {} | {description} |\n",
            type_of(prop).replace('|', "\\|")
        ));
        walk(&here, prop, out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_lists_nested_fields() {
        let text = super::reference_markdown();
        for field in [
            "`spec.network.vpcCidr` (required)",
            "`spec.nodeGroups[].minSize`",
            "`status.regions[].vpcId`",
            "`spec.regionOverrides.<key>.network`",
        ] {
            assert!(text.contains(field), "missing {field}");
        }
    }
}
