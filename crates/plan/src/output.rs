//! The documents `eks-operator plan` prints. Their JSON form is stable and documented in the README.

use eks_api::ValidatedCluster;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;

use crate::aws_auth::AwsAuthError;
use crate::{PlanError, RegionPlan, plan_region_offline};

/// `apiVersion` of the plan documents.
pub const API_VERSION: &str = "eksoperator.io/v1alpha1";

/// Every object's plan, as printed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanList {
    /// Always `eksoperator.io/v1alpha1`.
    pub api_version: &'static str,
    /// Always `EksClusterPlanList`.
    pub kind: &'static str,
    /// One entry per EksCluster document.
    pub items: Vec<ClusterPlanDocument>,
}

/// The plan of one EksCluster.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPlanDocument {
    /// Always `eksoperator.io/v1alpha1`.
    pub api_version: &'static str,
    /// Always `EksClusterPlan`.
    pub kind: &'static str,
    /// The object's name and namespace.
    pub metadata: PlanMetadata,
    /// One plan per region, in the order of `spec.regions`.
    pub regions: Vec<RegionPlanDocument>,
}

/// Name and namespace of the planned object.
#[derive(Debug, Serialize)]
pub struct PlanMetadata {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
}

/// The plan of one region with the aws-auth ConfigMap rendered as a Kubernetes object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionPlanDocument {
    /// The region's desired resources.
    #[serde(flatten)]
    pub plan: RegionPlan,
    /// `kube-system/aws-auth` exactly as it will be applied (`data.mapRoles` is a YAML string).
    pub aws_auth_config_map: ConfigMap,
    /// Remarks a reader needs, such as placeholder zones or account ids.
    pub notes: Vec<String>,
}

/// Errors making the printed plan.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Planning a region failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Rendering aws-auth failed.
    #[error(transparent)]
    AwsAuth(#[from] AwsAuthError),
}

/// Plans every region of a validated object offline.
pub fn document(
    cluster: &ValidatedCluster,
    account_id: Option<&str>,
) -> Result<ClusterPlanDocument, OutputError> {
    let mut regions = Vec::new();
    for config in cluster.regions() {
        let plan = plan_region_offline(cluster, &config.region, account_id)?;
        let mut notes = Vec::new();
        if plan.zones.placeholder {
            notes.push(format!(
                "availability zones {} are placeholders: at reconcile time the operator uses the first {} available zones of {} and records them in status",
                plan.zones.names.join(", "),
                plan.zones.names.len(),
                plan.region
            ));
        }
        if account_id.is_none() {
            notes.push(
                "role ARNs carry <AWS_ACCOUNT_ID>: pass --account-id, or let the operator resolve it with sts:GetCallerIdentity"
                    .to_owned(),
            );
        }
        if cluster.uid().is_none() {
            notes.push(
                "ownership tags carry <uid>: the API server assigns the object's uid when it is created"
                    .to_owned(),
            );
        }
        regions.push(RegionPlanDocument {
            aws_auth_config_map: plan.aws_auth.config_map()?,
            plan,
            notes,
        });
    }
    Ok(ClusterPlanDocument {
        api_version: API_VERSION,
        kind: "EksClusterPlan",
        metadata: PlanMetadata {
            name: cluster.name().to_owned(),
            namespace: cluster.namespace().to_owned(),
        },
        regions,
    })
}

/// Wraps the documents in a list.
pub fn list(items: Vec<ClusterPlanDocument>) -> PlanList {
    PlanList {
        api_version: API_VERSION,
        kind: "EksClusterPlanList",
        items,
    }
}
