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

fn builtin(
    group: &str,
    version: &str,
    plural: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
) -> ResourceDef {
    ResourceDef {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: kind.to_lowercase(),
        kind: kind.into(),
        namespaced,
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        categories: if matches!(plural, "pods" | "services" | "deployments") {
            vec!["all".into()]
        } else {
            Vec::new()
        },
        status_subresource: status,
        columns: Vec::new(),
        schema: None,
        bucket: format!("{group}/{plural}"),
    }
}

/// The built-in resources.
pub fn builtins() -> Vec<ResourceDef> {
    let mut defs = vec![
        builtin("", "v1", "namespaces", "Namespace", false, &["ns"], true),
        builtin("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
        builtin("", "v1", "secrets", "Secret", true, &[], false),
        builtin(
            "",
            "v1",
            "serviceaccounts",
            "ServiceAccount",
            true,
            &["sa"],
            false,
        ),
        builtin("", "v1", "services", "Service", true, &["svc"], true),
        builtin("", "v1", "events", "Event", true, &["ev"], false),
        builtin("", "v1", "pods", "Pod", true, &["po"], true),
        builtin("events.k8s.io", "v1", "events", "Event", true, &["ev"], false),
        builtin("coordination.k8s.io", "v1", "leases", "Lease", true, &[], false),
        builtin("apps", "v1", "deployments", "Deployment", true, &["deploy"], true),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            "Role",
            true,
            &[],
            false,
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            "RoleBinding",
            true,
            &[],
            false,
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "ClusterRole",
            false,
            &[],
            false,
        ),
        builtin(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "ClusterRoleBinding",
            false,
            &[],
            false,
        ),
        builtin(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            true,
        ),
        builtin(
            "policy",
            "v1",
            "poddisruptionbudgets",
            "PodDisruptionBudget",
            true,
            &["pdb"],
            true,
        ),
    ];
    // One store for both event APIs, as in the real server.
    for def in &mut defs {
        if def.plural == "events" {
            def.bucket = "events".into();
        }
    }
    defs
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
    let verbs = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ]);
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
    list
}
