//! The aws-auth ConfigMap as EKS (aws-iam-authenticator) reads it.
//!
//! `data.mapRoles` is a YAML string: the worker role entry first (`username: system:node:{{EC2PrivateDNSName}}`,
//! groups `system:bootstrappers` and `system:nodes`, which lets the nodes join), then the spec's own entries.
//! `mapUsers` and `mapAccounts` are further keys, present only when the spec has entries for them.

use std::collections::BTreeMap;

use eks_api::{AwsAuthSpec, MapRole, MapUser};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// The namespace of the ConfigMap EKS reads.
pub const NAMESPACE: &str = "kube-system";
/// The name of the ConfigMap EKS reads.
pub const NAME: &str = "aws-auth";
/// The user name template of worker nodes.
pub const NODE_USERNAME: &str = "system:node:{{EC2PrivateDNSName}}";
/// The groups worker nodes need.
pub const NODE_GROUPS: [&str; 2] = ["system:bootstrappers", "system:nodes"];

/// One `mapRoles` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    /// IAM role ARN.
    pub rolearn: String,
    /// Kubernetes user name.
    pub username: String,
    /// Kubernetes groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// One `mapUsers` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMapping {
    /// IAM user ARN.
    pub userarn: String,
    /// Kubernetes user name.
    pub username: String,
    /// Kubernetes groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// The entries of a region's aws-auth ConfigMap, with the worker role ARN as planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsAuthPlan {
    /// ARN of the worker role (may carry `<AWS_ACCOUNT_ID>` until the account is known).
    pub worker_role_arn: String,
    /// The spec's extra role entries, after the worker entry.
    pub map_roles: Vec<RoleMapping>,
    /// The spec's user entries.
    pub map_users: Vec<UserMapping>,
    /// The spec's account entries.
    pub map_accounts: Vec<String>,
}

/// Errors rendering the ConfigMap.
#[derive(Debug, thiserror::Error)]
pub enum AwsAuthError {
    /// YAML serialisation failed.
    #[error("rendering aws-auth YAML failed: {0}")]
    Yaml(#[from] serde_saphyr::ser::Error),
}

impl AwsAuthPlan {
    /// Takes the spec's entries; the worker entry is added when rendering.
    pub fn new(worker_role_arn: String, spec: &AwsAuthSpec) -> Self {
        Self {
            worker_role_arn,
            map_roles: spec.map_roles.iter().map(role_mapping).collect(),
            map_users: spec.map_users.iter().map(user_mapping).collect(),
            map_accounts: spec.map_accounts.clone(),
        }
    }

    /// The worker entry followed by the spec's role entries, as `mapRoles` lists them.
    pub fn role_mappings(&self, worker_role_arn: &str) -> Vec<RoleMapping> {
        let worker = RoleMapping {
            rolearn: worker_role_arn.to_owned(),
            username: NODE_USERNAME.to_owned(),
            groups: NODE_GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        };
        std::iter::once(worker)
            .chain(self.map_roles.iter().cloned())
            .collect()
    }

    /// The ConfigMap's `data` with the worker role ARN resolved (from IAM at reconcile time).
    pub fn render_data(&self, worker_role_arn: &str) -> Result<BTreeMap<String, String>, AwsAuthError> {
        let mut data = BTreeMap::new();
        data.insert(
            "mapRoles".to_owned(),
            serde_saphyr::to_string(&self.role_mappings(worker_role_arn))?,
        );
        if !self.map_users.is_empty() {
            data.insert("mapUsers".to_owned(), serde_saphyr::to_string(&self.map_users)?);
        }
        if !self.map_accounts.is_empty() {
            data.insert(
                "mapAccounts".to_owned(),
                serde_saphyr::to_string(&self.map_accounts)?,
            );
        }
        Ok(data)
    }

    /// The `kube-system/aws-auth` ConfigMap exactly as it is applied to the workload cluster, using the
    /// planned worker role ARN.
    pub fn config_map(&self) -> Result<ConfigMap, AwsAuthError> {
        Ok(ConfigMap {
            metadata: ObjectMeta {
                name: Some(NAME.to_owned()),
                namespace: Some(NAMESPACE.to_owned()),
                ..ObjectMeta::default()
            },
            data: Some(self.render_data(&self.worker_role_arn)?),
            ..ConfigMap::default()
        })
    }
}

fn role_mapping(role: &MapRole) -> RoleMapping {
    RoleMapping {
        rolearn: role.rolearn.clone(),
        username: role.username.clone(),
        groups: role.groups.clone(),
    }
}

fn user_mapping(user: &MapUser) -> UserMapping {
    UserMapping {
        userarn: user.userarn.clone(),
        username: user.username.clone(),
        groups: user.groups.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AwsAuthSpec {
        AwsAuthSpec {
            manage: false,
            map_roles: vec![MapRole {
                rolearn: "arn:aws:iam::123456789012:role/ops-admin".into(),
                username: "ops-admin".into(),
                groups: vec!["system:masters".into()],
            }],
            map_users: vec![],
            map_accounts: vec![],
        }
    }

    #[test]
    fn map_roles_parses_back_with_the_worker_first() {
        let plan = AwsAuthPlan::new("arn:aws:iam::123456789012:role/eks-worker-x".into(), &spec());
        let data = plan
            .render_data("arn:aws:iam::123456789012:role/eks-worker-x")
            .unwrap();
        let parsed: Vec<RoleMapping> = serde_saphyr::from_str(&data["mapRoles"]).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].rolearn, "arn:aws:iam::123456789012:role/eks-worker-x");
        assert_eq!(parsed[0].username, "system:node:{{EC2PrivateDNSName}}");
        assert_eq!(parsed[0].groups, ["system:bootstrappers", "system:nodes"]);
        assert_eq!(parsed[1], plan.map_roles[0]);
        assert!(!data.contains_key("mapUsers"));
        assert!(!data.contains_key("mapAccounts"));
    }

    #[test]
    fn users_and_accounts_are_keys_of_their_own() {
        let mut spec = spec();
        spec.map_users.push(MapUser {
            userarn: "arn:aws:iam::123456789012:user/alice".into(),
            username: "alice".into(),
            groups: vec!["devs".into()],
        });
        spec.map_accounts.push("210987654321".into());
        let plan = AwsAuthPlan::new("arn:aws:iam::1:role/w".into(), &spec);
        let data = plan.render_data("arn:aws:iam::1:role/w").unwrap();
        let users: Vec<UserMapping> = serde_saphyr::from_str(&data["mapUsers"]).unwrap();
        assert_eq!(users[0].username, "alice");
        let accounts: Vec<String> = serde_saphyr::from_str(&data["mapAccounts"]).unwrap();
        assert_eq!(accounts, ["210987654321"]);
    }

    #[test]
    fn config_map_is_kube_system_aws_auth() {
        let plan = AwsAuthPlan::new("arn:aws:iam::<AWS_ACCOUNT_ID>:role/w".into(), &spec());
        let cm = plan.config_map().unwrap();
        assert_eq!(cm.metadata.namespace.as_deref(), Some("kube-system"));
        assert_eq!(cm.metadata.name.as_deref(), Some("aws-auth"));
        let roles: Vec<RoleMapping> = serde_saphyr::from_str(&cm.data.unwrap()["mapRoles"]).unwrap();
        assert_eq!(roles[0].rolearn, "arn:aws:iam::<AWS_ACCOUNT_ID>:role/w");
    }
}
