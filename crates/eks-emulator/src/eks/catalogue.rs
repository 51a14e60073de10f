//! The add-on catalogue `DescribeAddonVersions` and `DescribeAddonConfiguration` answer: the five Amazon EKS
//! add-ons the operator manages, several versions each, with the Kubernetes versions each is compatible with, the
//! default per Kubernetes version, and a JSON schema of each version's configuration values.
//!
//! Versions follow EKS's naming (`vX.Y.Z-eksbuild.N`) and the compatibility pattern of the published add-ons
//! (<https://docs.aws.amazon.com/eks/latest/userguide/managing-vpc-cni.html>,
//! <https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html>,
//! <https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html>): kube-proxy has one line per
//! Kubernetes minor, coredns moves every few minors, the others span all supported versions. The exact version
//! numbers are the emulator's own, not a copy of EKS's list of the day.

use serde_json::{Value, json};

use super::model::SUPPORTED_VERSIONS;

/// One version of an add-on.
#[derive(Debug, Clone, Copy)]
pub struct AddonVersion {
    /// The add-on's name.
    pub addon: &'static str,
    /// The version (`vX.Y.Z-eksbuild.N`).
    pub version: &'static str,
    /// The Kubernetes versions it runs on.
    pub compatible: &'static [&'static str],
    /// The Kubernetes versions for which it is the default.
    pub default_for: &'static [&'static str],
    /// Whether `CreateAddon` needs `configurationValues`.
    pub requires_configuration: bool,
}

/// An add-on of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct AddonKind {
    /// Its name.
    pub name: &'static str,
    /// Its type as `DescribeAddonVersions` reports it.
    pub kind: &'static str,
    /// Its namespace in the cluster.
    pub namespace: &'static str,
    /// Service accounts that may get a Pod Identity association, with the recommended managed policy.
    pub service_accounts: &'static [(&'static str, &'static str)],
}

const ALL: &[&str] = SUPPORTED_VERSIONS;

/// The add-ons, by name.
pub const ADDONS: &[AddonKind] = &[
    AddonKind {
        name: "vpc-cni",
        kind: "networking",
        namespace: "kube-system",
        service_accounts: &[("aws-node", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")],
    },
    AddonKind {
        name: "coredns",
        kind: "networking",
        namespace: "kube-system",
        service_accounts: &[],
    },
    AddonKind {
        name: "kube-proxy",
        kind: "networking",
        namespace: "kube-system",
        service_accounts: &[],
    },
    AddonKind {
        name: "aws-ebs-csi-driver",
        kind: "storage",
        namespace: "kube-system",
        service_accounts: &[(
            "ebs-csi-controller-sa",
            "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        )],
    },
    AddonKind {
        name: "eks-pod-identity-agent",
        kind: "security",
        namespace: "kube-system",
        service_accounts: &[],
    },
];

const fn v(
    addon: &'static str,
    version: &'static str,
    compatible: &'static [&'static str],
    default_for: &'static [&'static str],
) -> AddonVersion {
    AddonVersion {
        addon,
        version,
        compatible,
        default_for,
        requires_configuration: false,
    }
}

/// Every add-on version, newest first within an add-on (the order `DescribeAddonVersions` answers).
pub const VERSIONS: &[AddonVersion] = &[
    v(
        "vpc-cni",
        "v1.20.4-eksbuild.1",
        &["1.30", "1.31", "1.32", "1.33", "1.34"],
        &["1.34"],
    ),
    v("vpc-cni", "v1.19.5-eksbuild.3", ALL, &["1.32", "1.33"]),
    v("vpc-cni", "v1.19.2-eksbuild.1", ALL, &["1.30", "1.31"]),
    v(
        "vpc-cni",
        "v1.18.6-eksbuild.1",
        &["1.29", "1.30", "1.31", "1.32"],
        &["1.29"],
    ),
    v("coredns", "v1.12.4-eksbuild.1", &["1.33", "1.34"], &["1.34"]),
    v(
        "coredns",
        "v1.12.1-eksbuild.2",
        &["1.32", "1.33", "1.34"],
        &["1.32", "1.33"],
    ),
    v(
        "coredns",
        "v1.11.4-eksbuild.14",
        &["1.30", "1.31", "1.32", "1.33"],
        &["1.31"],
    ),
    v(
        "coredns",
        "v1.11.3-eksbuild.2",
        &["1.29", "1.30", "1.31"],
        &["1.30"],
    ),
    v("coredns", "v1.11.1-eksbuild.9", &["1.29"], &["1.29"]),
    v("kube-proxy", "v1.34.1-eksbuild.2", &["1.34"], &[]),
    v("kube-proxy", "v1.34.0-eksbuild.2", &["1.34"], &["1.34"]),
    v("kube-proxy", "v1.33.3-eksbuild.4", &["1.33"], &[]),
    v("kube-proxy", "v1.33.0-eksbuild.2", &["1.33"], &["1.33"]),
    v("kube-proxy", "v1.32.6-eksbuild.2", &["1.32"], &[]),
    v("kube-proxy", "v1.32.0-eksbuild.2", &["1.32"], &["1.32"]),
    v("kube-proxy", "v1.31.10-eksbuild.2", &["1.31"], &[]),
    v("kube-proxy", "v1.31.2-eksbuild.3", &["1.31"], &["1.31"]),
    v("kube-proxy", "v1.30.14-eksbuild.2", &["1.30"], &[]),
    v("kube-proxy", "v1.30.6-eksbuild.3", &["1.30"], &["1.30"]),
    v("kube-proxy", "v1.29.15-eksbuild.5", &["1.29"], &[]),
    v("kube-proxy", "v1.29.10-eksbuild.3", &["1.29"], &["1.29"]),
    v(
        "aws-ebs-csi-driver",
        "v1.48.0-eksbuild.2",
        &["1.30", "1.31", "1.32", "1.33", "1.34"],
        &["1.33", "1.34"],
    ),
    v(
        "aws-ebs-csi-driver",
        "v1.41.0-eksbuild.1",
        ALL,
        &["1.30", "1.31", "1.32"],
    ),
    v(
        "aws-ebs-csi-driver",
        "v1.37.0-eksbuild.1",
        &["1.29", "1.30", "1.31", "1.32"],
        &["1.29"],
    ),
    v(
        "eks-pod-identity-agent",
        "v1.3.8-eksbuild.2",
        ALL,
        &["1.32", "1.33", "1.34"],
    ),
    v(
        "eks-pod-identity-agent",
        "v1.3.4-eksbuild.1",
        ALL,
        &["1.29", "1.30", "1.31"],
    ),
];

/// The add-on named `name`.
pub fn addon(name: &str) -> Option<&'static AddonKind> {
    ADDONS.iter().find(|a| a.name == name)
}

/// Version `version` of add-on `name`.
pub fn version(name: &str, version: &str) -> Option<&'static AddonVersion> {
    VERSIONS.iter().find(|v| v.addon == name && v.version == version)
}

/// The versions of `name` compatible with Kubernetes `kubernetes` (all of them when `None`), newest first.
pub fn versions(name: &str, kubernetes: Option<&str>) -> Vec<&'static AddonVersion> {
    VERSIONS
        .iter()
        .filter(|v| v.addon == name && kubernetes.is_none_or(|k| v.compatible.contains(&k)))
        .collect()
}

/// The default version of `name` for Kubernetes `kubernetes`.
pub fn default_version(name: &str, kubernetes: &str) -> Option<&'static AddonVersion> {
    VERSIONS
        .iter()
        .find(|v| v.addon == name && v.default_for.contains(&kubernetes))
}

impl AddonVersion {
    /// The `AddonVersionInfo` shape, with compatibilities limited to `kubernetes` when given.
    pub fn info(&self, kubernetes: Option<&str>) -> Value {
        let compatibilities: Vec<Value> = self
            .compatible
            .iter()
            .filter(|k| kubernetes.is_none_or(|wanted| wanted == **k))
            .map(|k| {
                json!({
                    "clusterVersion": k,
                    "platformVersions": ["*"],
                    "defaultVersion": self.default_for.contains(k),
                })
            })
            .collect();
        json!({
            "addonVersion": self.version,
            "architecture": ["amd64", "arm64"],
            "computeTypes": ["ec2", "hybrid"],
            "compatibilities": compatibilities,
            "requiresConfiguration": self.requires_configuration,
            "requiresIamPermissions": addon(self.addon).is_some_and(|a| !a.service_accounts.is_empty()),
        })
    }

    /// The JSON schema of this version's configuration values (draft 7, as EKS publishes them).
    pub fn schema(&self) -> Value {
        let resources = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "limits": {"$ref": "#/definitions/Quantities"},
                "requests": {"$ref": "#/definitions/Quantities"},
            },
        });
        let definitions = json!({
            "Quantities": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "cpu": {"type": "string"},
                    "memory": {"type": "string"},
                },
            },
        });
        let tolerations = json!({"type": "array", "items": {"type": "object"}});
        let node_selector = json!({"type": "object", "additionalProperties": {"type": "string"}});
        let properties = match self.addon {
            "vpc-cni" => json!({
                "env": {
                    "type": "object",
                    "additionalProperties": false,
                    "patternProperties": {"^[A-Z][A-Z0-9_]*$": {"type": "string"}},
                },
                "resources": resources,
                "enableNetworkPolicy": {"type": "string", "enum": ["true", "false"]},
                "nodeAgent": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"enablePolicyEventLogs": {"type": "string", "enum": ["true", "false"]}},
                },
                "tolerations": tolerations,
            }),
            "coredns" => json!({
                "replicaCount": {"type": "integer", "minimum": 1},
                "resources": resources,
                "nodeSelector": node_selector,
                "tolerations": tolerations,
                "autoScaling": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "enabled": {"type": "boolean"},
                        "minReplicas": {"type": "integer", "minimum": 2},
                        "maxReplicas": {"type": "integer", "minimum": 2},
                    },
                },
            }),
            "kube-proxy" => json!({
                "mode": {"type": "string", "enum": ["iptables", "ipvs", "nftables"]},
                "resources": resources,
            }),
            "aws-ebs-csi-driver" => json!({
                "controller": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "replicaCount": {"type": "integer", "minimum": 1},
                        "resources": resources,
                        "nodeSelector": node_selector,
                        "tolerations": tolerations,
                    },
                },
                "node": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"tolerateAllTaints": {"type": "boolean"}, "resources": resources},
                },
            }),
            _ => json!({
                "resources": resources,
                "tolerations": tolerations,
            }),
        };
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": properties,
            "definitions": definitions,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_addon_has_exactly_one_compatible_default_per_kubernetes_version() {
        for addon in ADDONS {
            for kubernetes in SUPPORTED_VERSIONS {
                let defaults: Vec<_> = VERSIONS
                    .iter()
                    .filter(|v| v.addon == addon.name && v.default_for.contains(kubernetes))
                    .collect();
                assert_eq!(defaults.len(), 1, "{} on {kubernetes}", addon.name);
                assert!(defaults[0].compatible.contains(kubernetes));
                assert!(!versions(addon.name, Some(kubernetes)).is_empty());
            }
            assert!(versions(addon.name, None).len() >= 2, "{}", addon.name);
        }
    }

    #[test]
    fn every_version_is_well_formed_and_its_schema_compiles() {
        for v in VERSIONS {
            let (numbers, build) = v.version.split_once("-eksbuild.").unwrap();
            assert!(
                numbers.starts_with('v') && build.parse::<u32>().is_ok(),
                "{}",
                v.version
            );
            assert!(addon(v.addon).is_some());
            assert!(jsonschema::validator_for(&v.schema()).is_ok(), "{}", v.version);
        }
    }
}
