//! Objects the controller generates in the EksCluster's namespace, owned by it so that deleting the EksCluster
//! removes them: per region an aws-auth ConfigMap (`<name>-<region>-aws-auth`, whose `data` is exactly what
//! `kube-system/aws-auth` of the workload cluster needs) and a kubeconfig Secret (`<name>-<region>-kubeconfig`,
//! using the `aws eks get-token` exec plugin as `aws eks update-kubeconfig` writes it).

use std::collections::BTreeMap;

use eks_api::EksCluster;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;
use serde_json::json;

/// Label on every generated object naming the owning EksCluster.
pub const OWNER_LABEL: &str = "eksoperator.io/owner";
/// Label on every generated object naming its region.
pub const REGION_LABEL: &str = "eksoperator.io/region";
/// Label saying which controller made the object (`app.kubernetes.io/managed-by`).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The key of the kubeconfig in the Secret.
pub const KUBECONFIG_KEY: &str = "kubeconfig";

/// Name of the region's generated aws-auth ConfigMap.
pub fn aws_auth_name(object: &str, region: &str) -> String {
    format!("{object}-{region}-aws-auth")
}

/// Name of the region's generated kubeconfig Secret.
pub fn kubeconfig_name(object: &str, region: &str) -> String {
    format!("{object}-{region}-kubeconfig")
}

/// The owner reference that ties a generated object to its EksCluster.
pub fn owner_reference(owner: &EksCluster) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: EksCluster::api_version(&()).into_owned(),
        kind: EksCluster::kind(&()).into_owned(),
        name: owner.metadata.name.clone()?,
        uid: owner.metadata.uid.clone()?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

fn metadata(owner: &EksCluster, name: String, region: &str) -> ObjectMeta {
    let labels = BTreeMap::from([
        (
            OWNER_LABEL.to_owned(),
            owner.metadata.name.clone().unwrap_or_default(),
        ),
        (REGION_LABEL.to_owned(), region.to_owned()),
        (MANAGED_BY_LABEL.to_owned(), "eks-operator".to_owned()),
    ]);
    ObjectMeta {
        name: Some(name),
        namespace: owner.metadata.namespace.clone(),
        labels: Some(labels),
        owner_references: owner_reference(owner).map(|r| vec![r]),
        ..ObjectMeta::default()
    }
}

/// The region's aws-auth ConfigMap in the EksCluster's namespace.
pub fn aws_auth_config_map(owner: &EksCluster, region: &str, data: BTreeMap<String, String>) -> ConfigMap {
    let name = aws_auth_name(owner.metadata.name.as_deref().unwrap_or_default(), region);
    ConfigMap {
        metadata: metadata(owner, name, region),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// What a kubeconfig needs of a regional cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterAccess {
    /// The EKS cluster name.
    pub cluster_name: String,
    /// The cluster ARN (used as the kubeconfig's cluster, user and context name, as the AWS CLI does).
    pub cluster_arn: String,
    /// The API endpoint URL.
    pub endpoint: String,
    /// Base64 CA data.
    pub certificate_authority_data: String,
    /// The region.
    pub region: String,
    /// The role the cluster was created through (`spec.credentials.roleArn`): the kubeconfig's token is made
    /// as that role (`aws eks get-token --role-arn`), the principal EKS maps as the creator.
    pub role_arn: Option<String>,
}

/// A kubeconfig that authenticates through `aws eks get-token`, as `aws eks update-kubeconfig` writes it.
pub fn kubeconfig(access: &ClusterAccess) -> serde_json::Value {
    let arn = &access.cluster_arn;
    let mut args = vec![
        "--region",
        access.region.as_str(),
        "eks",
        "get-token",
        "--cluster-name",
        access.cluster_name.as_str(),
        "--output",
        "json",
    ];
    if let Some(role) = &access.role_arn {
        args.extend(["--role-arn", role.as_str()]);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": arn, "cluster": {
            "server": access.endpoint.trim_end_matches('/'),
            "certificate-authority-data": access.certificate_authority_data,
        }}],
        "contexts": [{"name": arn, "context": {"cluster": arn, "user": arn}}],
        "current-context": arn,
        "preferences": {},
        "users": [{"name": arn, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": args,
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": false,
        }}}],
    })
}

/// The region's kubeconfig Secret in the EksCluster's namespace.
pub fn kubeconfig_secret(
    owner: &EksCluster,
    access: &ClusterAccess,
) -> Result<Secret, serde_saphyr::ser::Error> {
    let name = kubeconfig_name(owner.metadata.name.as_deref().unwrap_or_default(), &access.region);
    let text = serde_saphyr::to_string(&kubeconfig(access))?;
    Ok(Secret {
        metadata: metadata(owner, name, &access.region),
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(
            KUBECONFIG_KEY.to_owned(),
            ByteString(text.into_bytes()),
        )])),
        ..Secret::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> EksCluster {
        let mut object: EksCluster = serde_json::from_value(json!({
            "apiVersion": "eksoperator.io/v1alpha1", "kind": "EksCluster",
            "metadata": {"name": "cloudlad", "namespace": "team-a", "uid": "u-1"},
            "spec": {"regions": ["eu-west-1"], "kubernetesVersion": "1.31", "network": {"vpcCidr": "10.0.0.0/16"}}
        }))
        .unwrap();
        object.metadata.uid = Some("u-1".into());
        object
    }

    #[test]
    fn config_map_is_owned_and_named_per_region() {
        let cm = aws_auth_config_map(
            &owner(),
            "eu-west-1",
            BTreeMap::from([("mapRoles".into(), "- x".into())]),
        );
        assert_eq!(cm.metadata.name.as_deref(), Some("cloudlad-eu-west-1-aws-auth"));
        assert_eq!(cm.metadata.namespace.as_deref(), Some("team-a"));
        let owner_ref = &cm.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (
                owner_ref.kind.as_str(),
                owner_ref.uid.as_str(),
                owner_ref.controller
            ),
            ("EksCluster", "u-1", Some(true))
        );
    }

    #[test]
    fn kubeconfig_uses_the_aws_cli_exec_plugin() {
        let access = ClusterAccess {
            cluster_name: "eu-west-1-test-cloudlad".into(),
            cluster_arn: "arn:aws:eks:eu-west-1:123456789012:cluster/eu-west-1-test-cloudlad".into(),
            endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com/".into(),
            certificate_authority_data: "Q0E=".into(),
            region: "eu-west-1".into(),
            role_arn: None,
        };
        let secret = kubeconfig_secret(&owner(), &access).unwrap();
        assert_eq!(
            secret.metadata.name.as_deref(),
            Some("cloudlad-eu-west-1-kubeconfig")
        );
        let text = String::from_utf8(secret.data.unwrap()[KUBECONFIG_KEY].0.clone()).unwrap();
        let parsed: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            parsed["clusters"][0]["cluster"]["server"],
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com"
        );
        assert_eq!(parsed["users"][0]["user"]["exec"]["command"], "aws");
        assert_eq!(
            parsed["users"][0]["user"]["exec"]["args"][5],
            "eu-west-1-test-cloudlad"
        );
        assert_eq!(parsed["current-context"], access.cluster_arn);
        let args = parsed["users"][0]["user"]["exec"]["args"].as_array().unwrap();
        assert!(!args.iter().any(|a| a == "--role-arn"), "{args:?}");
    }

    #[test]
    fn kubeconfig_assumes_the_role_the_cluster_was_created_through() {
        let access = ClusterAccess {
            cluster_name: "eu-west-1-test-cloudlad".into(),
            cluster_arn: "arn:aws:eks:eu-west-1:123456789012:cluster/eu-west-1-test-cloudlad".into(),
            endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".into(),
            certificate_authority_data: "Q0E=".into(),
            region: "eu-west-1".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/eks-operator/admin".into()),
        };
        let parsed = kubeconfig(&access);
        let args: Vec<&str> = parsed["users"][0]["user"]["exec"]["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        assert_eq!(
            args[args.len() - 2..],
            ["--role-arn", "arn:aws:iam::123456789012:role/eks-operator/admin"]
        );
    }
}
