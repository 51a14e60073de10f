//! The built-in resources: one generated table (`builtins.json`) of every resource a Kubernetes 1.33
//! kube-apiserver serves by default, derived from `k8s-openapi`'s resource metadata (group, version, kind,
//! plural, scope of every `ListableResource`) plus the discovery facts k8s-openapi does not carry ([`FACTS`]:
//! short names, categories, subresources, verbs). The test `builtin_table_is_generated_from_k8s_openapi`
//! regenerates the table and fails when the committed copy differs
//! (`KUBE_EMULATOR_REGENERATE=1 cargo nextest run -p kube-emulator builtin_table` rewrites it).
//!
//! Served versions: the GA ones (`v1`, `v2`). Beta APIs are off by default since Kubernetes 1.24
//! ([KEP-3136](https://github.com/kubernetes/enhancements/tree/master/keps/sig-architecture/3136-beta-apis-off-by-default)),
//! alpha ones always were, so `v1alpha*`/`v1beta*` types of k8s-openapi are not served.

use serde::{Deserialize, Serialize};

use crate::resources::ResourceDef;

/// Discovery facts of a resource that k8s-openapi lacks.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Plural name.
    pub plural: &'static str,
    /// Short names.
    pub short_names: &'static [&'static str],
    /// Categories.
    pub categories: &'static [&'static str],
    /// Whether `/status` is a subresource.
    pub status: bool,
    /// Whether `/scale` is a subresource.
    pub scale: bool,
    /// Verbs, when not the full set ([`ALL_VERBS`]).
    pub verbs: Option<&'static [&'static str]>,
}

/// The verbs of an ordinary resource.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const fn facts(
    group: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    status: bool,
    scale: bool,
) -> Facts {
    Facts {
        group,
        plural,
        short_names,
        categories,
        status,
        scale,
        verbs: None,
    }
}

const ALL: &[&str] = &["all"];
const EXT: &[&str] = &["api-extensions"];

/// Short names, categories, subresources (only `status` and `scale`, the ones served here) and verb
/// exceptions of the resources that have any, as `kubectl api-resources -o wide` lists them against a
/// Kubernetes 1.33 kube-apiserver; the values come from the `ShortNames()`, `Categories()` and
/// `NewStorage` subresource maps of `pkg/registry/*/*/storage/storage.go` (and
/// `staging/src/k8s.io/apiextensions-apiserver`, `staging/src/k8s.io/kube-aggregator`) at tag v1.33.0.
/// A resource not listed has none of them and every verb.
pub const FACTS: &[Facts] = &[
    Facts {
        verbs: Some(&["get", "list"]),
        ..facts("", "componentstatuses", &["cs"], &[], false, false)
    },
    facts("", "configmaps", &["cm"], &[], false, false),
    facts("", "endpoints", &["ep"], &[], false, false),
    facts("", "events", &["ev"], &[], false, false),
    facts("", "limitranges", &["limits"], &[], false, false),
    Facts {
        verbs: Some(&["create", "delete", "get", "list", "patch", "update", "watch"]),
        ..facts("", "namespaces", &["ns"], &[], true, false)
    },
    facts("", "nodes", &["no"], &[], true, false),
    facts("", "persistentvolumeclaims", &["pvc"], &[], true, false),
    facts("", "persistentvolumes", &["pv"], &[], true, false),
    facts("", "pods", &["po"], ALL, true, false),
    facts("", "replicationcontrollers", &["rc"], ALL, true, true),
    facts("", "resourcequotas", &["quota"], &[], true, false),
    facts("", "serviceaccounts", &["sa"], &[], false, false),
    facts("", "services", &["svc"], ALL, true, false),
    facts(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        &[],
        EXT,
        false,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        &[],
        EXT,
        true,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
        &[],
        EXT,
        false,
        false,
    ),
    facts(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        &[],
        EXT,
        false,
        false,
    ),
    facts(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
        EXT,
        true,
        false,
    ),
    facts("apiregistration.k8s.io", "apiservices", &[], EXT, true, false),
    facts("apps", "daemonsets", &["ds"], ALL, true, false),
    facts("apps", "deployments", &["deploy"], ALL, true, true),
    facts("apps", "replicasets", &["rs"], ALL, true, true),
    facts("apps", "statefulsets", &["sts"], ALL, true, true),
    facts(
        "autoscaling",
        "horizontalpodautoscalers",
        &["hpa"],
        ALL,
        true,
        false,
    ),
    facts("batch", "cronjobs", &["cj"], ALL, true, false),
    facts("batch", "jobs", &[], ALL, true, false),
    facts(
        "certificates.k8s.io",
        "certificatesigningrequests",
        &["csr"],
        &[],
        true,
        false,
    ),
    facts("events.k8s.io", "events", &["ev"], &[], false, false),
    facts(
        "flowcontrol.apiserver.k8s.io",
        "flowschemas",
        &[],
        &[],
        true,
        false,
    ),
    facts(
        "flowcontrol.apiserver.k8s.io",
        "prioritylevelconfigurations",
        &[],
        &[],
        true,
        false,
    ),
    facts("networking.k8s.io", "ingresses", &["ing"], &[], true, false),
    facts("networking.k8s.io", "ipaddresses", &["ip"], &[], false, false),
    facts(
        "networking.k8s.io",
        "networkpolicies",
        &["netpol"],
        &[],
        false,
        false,
    ),
    facts("networking.k8s.io", "servicecidrs", &[], &[], true, false),
    facts("policy", "poddisruptionbudgets", &["pdb"], &[], true, false),
    facts("scheduling.k8s.io", "priorityclasses", &["pc"], &[], false, false),
    facts("storage.k8s.io", "storageclasses", &["sc"], &[], false, false),
    facts("storage.k8s.io", "volumeattachments", &[], &[], true, false),
];

/// One row of the generated table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builtin {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural name.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Short names.
    #[serde(default, rename = "shortNames")]
    pub short_names: Vec<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Subresources served (`status`, `scale`).
    #[serde(default)]
    pub subresources: Vec<String>,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// The committed table.
const TABLE: &str = include_str!("builtins.json");

/// The rows of the committed table (a test proves it parses and is current).
pub fn table() -> Vec<Builtin> {
    serde_json::from_str(TABLE).unwrap_or_default()
}

/// The built-in resources to serve.
pub fn builtins() -> Vec<ResourceDef> {
    table().into_iter().map(ResourceDef::from).collect()
}

impl From<Builtin> for ResourceDef {
    fn from(row: Builtin) -> Self {
        // One store per resource across versions (HorizontalPodAutoscaler v1 and v2), and one for both event
        // APIs, as in the real server.
        let bucket = if row.plural == "events" {
            "events".to_owned()
        } else {
            format!("{}/{}", row.group, row.plural)
        };
        ResourceDef {
            singular: row.kind.to_lowercase(),
            status_subresource: row.subresources.iter().any(|s| s == "status"),
            scale_subresource: row.subresources.iter().any(|s| s == "scale"),
            group: row.group,
            version: row.version,
            plural: row.plural,
            kind: row.kind,
            namespaced: row.namespaced,
            short_names: row.short_names,
            categories: row.categories,
            verbs: row.verbs,
            columns: Vec::new(),
            schema: None,
            bucket,
        }
    }
}

#[cfg(test)]
#[path = "builtins_generate.rs"]
mod generate;
