//! Regenerates `builtins.json` from k8s-openapi's resource metadata and [`FACTS`], and fails when the
//! committed table differs or when k8s-openapi has a listable resource this list does not name.

use std::collections::BTreeSet;

use k8s_openapi::{ClusterResourceScope, ListableResource, NamespaceResourceScope};

use super::{ALL_VERBS, Builtin, FACTS, TABLE};

/// Whether a scope is a namespace's.
trait ScopeKind {
    const NAMESPACED: bool;
}
impl ScopeKind for NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl ScopeKind for ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// (group, version, kind, plural, namespaced) of a type.
type Meta = (&'static str, &'static str, &'static str, &'static str, bool);

fn meta<T>() -> Meta
where
    T: ListableResource,
    T::Scope: ScopeKind,
{
    (
        T::GROUP,
        T::VERSION,
        T::KIND,
        T::URL_PATH_SEGMENT,
        <T::Scope as ScopeKind>::NAMESPACED,
    )
}

macro_rules! resources {
    ($($($segment:ident)::+),* $(,)?) => { vec![$(meta::<k8s_openapi::$($segment)::+>()),*] };
}

/// Every `ListableResource` of k8s-openapi's `v1_33` module.
fn k8s_openapi_resources() -> Vec<Meta> {
    resources![
        api::admissionregistration::v1::MutatingWebhookConfiguration,
        api::admissionregistration::v1::ValidatingAdmissionPolicy,
        api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        api::admissionregistration::v1::ValidatingWebhookConfiguration,
        api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
        api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
        api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
        api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
        api::apiserverinternal::v1alpha1::StorageVersion,
        api::apps::v1::ControllerRevision,
        api::apps::v1::DaemonSet,
        api::apps::v1::Deployment,
        api::apps::v1::ReplicaSet,
        api::apps::v1::StatefulSet,
        api::autoscaling::v1::HorizontalPodAutoscaler,
        api::autoscaling::v2::HorizontalPodAutoscaler,
        api::batch::v1::CronJob,
        api::batch::v1::Job,
        api::certificates::v1::CertificateSigningRequest,
        api::certificates::v1alpha1::ClusterTrustBundle,
        api::certificates::v1beta1::ClusterTrustBundle,
        api::coordination::v1::Lease,
        api::coordination::v1alpha2::LeaseCandidate,
        api::coordination::v1beta1::LeaseCandidate,
        api::core::v1::ComponentStatus,
        api::core::v1::ConfigMap,
        api::core::v1::Endpoints,
        api::core::v1::Event,
        api::core::v1::LimitRange,
        api::core::v1::Namespace,
        api::core::v1::Node,
        api::core::v1::PersistentVolume,
        api::core::v1::PersistentVolumeClaim,
        api::core::v1::Pod,
        api::core::v1::PodTemplate,
        api::core::v1::ReplicationController,
        api::core::v1::ResourceQuota,
        api::core::v1::Secret,
        api::core::v1::Service,
        api::core::v1::ServiceAccount,
        api::discovery::v1::EndpointSlice,
        api::events::v1::Event,
        api::flowcontrol::v1::FlowSchema,
        api::flowcontrol::v1::PriorityLevelConfiguration,
        api::networking::v1::IPAddress,
        api::networking::v1::Ingress,
        api::networking::v1::IngressClass,
        api::networking::v1::NetworkPolicy,
        api::networking::v1::ServiceCIDR,
        api::networking::v1beta1::IPAddress,
        api::networking::v1beta1::ServiceCIDR,
        api::node::v1::RuntimeClass,
        api::policy::v1::PodDisruptionBudget,
        api::rbac::v1::ClusterRole,
        api::rbac::v1::ClusterRoleBinding,
        api::rbac::v1::Role,
        api::rbac::v1::RoleBinding,
        api::resource::v1alpha3::DeviceClass,
        api::resource::v1alpha3::DeviceTaintRule,
        api::resource::v1alpha3::ResourceClaim,
        api::resource::v1alpha3::ResourceClaimTemplate,
        api::resource::v1alpha3::ResourceSlice,
        api::resource::v1beta1::DeviceClass,
        api::resource::v1beta1::ResourceClaim,
        api::resource::v1beta1::ResourceClaimTemplate,
        api::resource::v1beta1::ResourceSlice,
        api::resource::v1beta2::DeviceClass,
        api::resource::v1beta2::ResourceClaim,
        api::resource::v1beta2::ResourceClaimTemplate,
        api::resource::v1beta2::ResourceSlice,
        api::scheduling::v1::PriorityClass,
        api::storage::v1::CSIDriver,
        api::storage::v1::CSINode,
        api::storage::v1::CSIStorageCapacity,
        api::storage::v1::StorageClass,
        api::storage::v1::VolumeAttachment,
        api::storage::v1alpha1::VolumeAttributesClass,
        api::storage::v1beta1::VolumeAttributesClass,
        api::storagemigration::v1alpha1::StorageVersionMigration,
        apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        kube_aggregator::pkg::apis::apiregistration::v1::APIService,
    ]
}

/// Served by default: GA versions only (KEP-3136).
fn generally_available(version: &str) -> bool {
    version
        .strip_prefix('v')
        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
}

/// Kubernetes version priority within a group: the higher GA version first (autoscaling `v2` before `v1`),
/// so discovery's preferred version is the first.
fn rows() -> Vec<Builtin> {
    let mut rows: Vec<Builtin> = k8s_openapi_resources()
        .into_iter()
        .filter(|(_, version, ..)| generally_available(version))
        .map(|(group, version, kind, plural, namespaced)| {
            let facts = FACTS.iter().find(|f| f.group == group && f.plural == plural);
            let strings = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            let mut subresources = Vec::new();
            if facts.is_some_and(|f| f.status) {
                subresources.push("status".to_owned());
            }
            if facts.is_some_and(|f| f.scale) {
                subresources.push("scale".to_owned());
            }
            Builtin {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                namespaced,
                short_names: strings(facts.map_or(&[], |f| f.short_names)),
                categories: strings(facts.map_or(&[], |f| f.categories)),
                subresources,
                verbs: strings(facts.and_then(|f| f.verbs).unwrap_or(ALL_VERBS)),
            }
        })
        .collect();
    let number = |v: &str| v.trim_start_matches('v').parse::<u32>().unwrap_or(0);
    rows.sort_by(|a, b| {
        (
            a.group.as_str(),
            std::cmp::Reverse(number(&a.version)),
            a.plural.as_str(),
        )
            .cmp(&(
                b.group.as_str(),
                std::cmp::Reverse(number(&b.version)),
                b.plural.as_str(),
            ))
    });
    rows
}

fn render(rows: &[Builtin]) -> String {
    let lines: Vec<String> = rows
        .iter()
        .map(|r| format!("  {}", serde_json::to_string(r).unwrap()))
        .collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}

#[test]
fn builtin_table_is_generated_from_k8s_openapi() {
    let text = render(&rows());
    if std::env::var_os("KUBE_EMULATOR_REGENERATE").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/builtins.json");
        std::fs::write(path, &text).unwrap();
    }
    assert!(
        TABLE == text,
        "src/builtins.json is stale: run KUBE_EMULATOR_REGENERATE=1 cargo nextest run -p kube-emulator builtin_table"
    );
    assert_eq!(super::table(), rows());
}

#[test]
fn every_fact_names_a_served_resource() {
    let rows = rows();
    for f in FACTS {
        assert!(
            rows.iter().any(|r| r.group == f.group && r.plural == f.plural),
            "{}/{} is not served",
            f.group,
            f.plural
        );
    }
}

/// The target this test runs on (cargo metadata resolves only its dependencies, which are present offline).
fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "linux" => format!("{arch}-unknown-linux-gnu"),
        "macos" => format!("{arch}-apple-darwin"),
        other => format!("{arch}-unknown-{other}"),
    }
}

/// The list above names every listable resource of k8s-openapi's `v1_33` sources (found through `cargo
/// metadata`), so a k8s-openapi upgrade that adds a resource fails here until it is listed.
#[test]
fn the_type_list_covers_every_listable_resource_of_k8s_openapi() {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--locked",
            "--filter-platform",
        ])
        .arg(host_triple())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "k8s-openapi")
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap()
        .to_owned();
    let root = std::path::Path::new(&manifest)
        .parent()
        .unwrap()
        .join("src/v1_33");
    let mut found = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("impl crate::ListableResource for ") {
                        let kind = rest.trim_end_matches(" {").to_owned();
                        let version = path
                            .parent()
                            .unwrap()
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .into_owned();
                        found.insert((version, kind));
                    }
                }
            }
        }
    }
    let listed: BTreeSet<(String, String)> = k8s_openapi_resources()
        .into_iter()
        .map(|(_, version, kind, ..)| (version.to_owned(), kind.to_owned()))
        .collect();
    assert!(!found.is_empty());
    assert_eq!(found, listed);
}
