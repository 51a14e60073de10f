//! The resource types the emulator serves: built-ins and those defined by CustomResourceDefinitions.

use serde_json::{Value, json};

/// A printer column of a CRD.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Header.
    pub name: String,
    /// `string`, `date`, `integer`, ...
    pub type_: String,
    /// Simple JSONPath such as `.spec.regions`.
    pub json_path: String,
    /// Description (the column's tooltip in the Table).
    pub description: String,
    /// 0: always shown; more: only with `-o wide`.
    pub priority: i64,
}

/// One served resource type.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDef {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural name.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind.
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names.
    pub short_names: Vec<String>,
    /// Categories (`all` for `kubectl get all`).
    pub categories: Vec<String>,
    /// Whether `/status` is a subresource (writes to the main resource then ignore status).
    pub status_subresource: bool,
    /// Whether `/scale` is a subresource (`autoscaling/v1` `Scale` over `spec.replicas`).
    pub scale_subresource: bool,
    /// The verbs discovery lists.
    pub verbs: Vec<String>,
    /// Printer columns (CRDs).
    pub columns: Vec<Column>,
    /// The `openAPIV3Schema` of a CRD version.
    pub schema: Option<Value>,
    /// The bucket objects are stored in; two group versions of one resource share it (events).
    pub bucket: String,
}

impl ResourceDef {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (the CRD name form).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// The built-in resources (every resource a Kubernetes 1.33 server serves by default; see
/// [`crate::builtins`]).
pub fn builtins() -> Vec<ResourceDef> {
    crate::builtins::builtins()
}

/// The resource definitions of a CRD object (one per served version).
pub fn from_crd(crd: &Value) -> Vec<ResourceDef> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_owned();
    let names = &spec["names"];
    let plural = names["plural"].as_str().unwrap_or_default().to_owned();
    let kind = names["kind"].as_str().unwrap_or_default().to_owned();
    let singular = names["singular"]
        .as_str()
        .map_or_else(|| kind.to_lowercase(), str::to_owned);
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let categories: Vec<String> = names["categories"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .map(|v| ResourceDef {
            group: group.clone(),
            version: v["name"].as_str().unwrap_or_default().to_owned(),
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced,
            short_names: short_names.clone(),
            categories: categories.clone(),
            status_subresource: v["subresources"]["status"].is_object(),
            // The scale subresource of custom resources (`specReplicasPath`) is not emulated.
            scale_subresource: false,
            verbs: crate::builtins::ALL_VERBS
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            columns: v["additionalPrinterColumns"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| Column {
                    name: c["name"].as_str().unwrap_or_default().to_owned(),
                    type_: c["type"].as_str().unwrap_or("string").to_owned(),
                    json_path: c["jsonPath"].as_str().unwrap_or_default().to_owned(),
                    description: c["description"].as_str().unwrap_or_default().to_owned(),
                    priority: c["priority"].as_i64().unwrap_or(0),
                })
                .collect(),
            schema: Some(v["schema"]["openAPIV3Schema"].clone()).filter(|s| s.is_object()),
            bucket: format!("{group}/{plural}"),
        })
        .collect()
}

/// The `APIResource` entries of a resource for discovery.
pub fn api_resources(def: &ResourceDef) -> Vec<Value> {
    let verbs = json!(def.verbs);
    let mut main = json!({
        "name": def.plural, "singularName": def.singular, "namespaced": def.namespaced,
        "kind": def.kind, "verbs": verbs,
    });
    if !def.short_names.is_empty() {
        main["shortNames"] = json!(def.short_names);
    }
    if !def.categories.is_empty() {
        main["categories"] = json!(def.categories);
    }
    let mut list = vec![main];
    if def.status_subresource {
        list.push(
            json!({"name": format!("{}/status", def.plural), "singularName": "", "namespaced": def.namespaced,
            "kind": def.kind, "verbs": ["get", "patch", "update"]}),
        );
    }
    if def.scale_subresource {
        list.push(
            json!({"name": format!("{}/scale", def.plural), "singularName": "", "namespaced": def.namespaced,
            "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}),
        );
    }
    list
}
