//! The EKS control plane: create, endpoint access and CIDRs, logging, tags, and version upgrades one minor
//! version at a time (after the node groups caught up with the current one).
//!
//! Drift checks compare only the fields the operator sends in an update (endpoint flags, public CIDRs,
//! enabled log types), never subnets or security groups: emulators that replace `resourcesVpcConfig` with
//! the fields of the last update cannot turn this into an update loop.

use sha2::{Digest, Sha256};

use eks_plan::{RoleKind, tags};

use super::errors::EngineError;
use super::pass::{Pass, Verb, missing_tags};
use super::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult};
use crate::types::*;

/// Every control plane log type EKS knows.
pub const LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

/// What the cluster step found.
pub(crate) struct ClusterState {
    /// The cluster, when it is ACTIVE.
    pub active: Option<Cluster>,
    /// True when this pass asked EKS for a change (node groups wait for the next pass).
    pub changed: bool,
}

/// A stable idempotency token for a create.
pub(crate) fn request_token(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("/").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `1.31` → `(1, 31)`.
pub(crate) fn minor(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.split('.').next()?.parse().ok()?))
}

fn record(pass: &mut Pass<'_>, cluster: &Cluster) {
    let ids = &mut pass.ids;
    ids.cluster_arn = Some(cluster.arn.clone()).filter(|a| !a.is_empty());
    ids.cluster_status = Some(cluster.status.clone());
    ids.kubernetes_version = Some(cluster.version.clone());
    ids.endpoint = cluster.endpoint.clone();
    ids.certificate_authority = cluster.certificate_authority.clone();
    ids.oidc_issuer = cluster.oidc_issuer.clone();
}

/// Creates the cluster or brings its configuration back to the plan; never waits.
pub(crate) async fn ensure(pass: &mut Pass<'_>) -> Result<ClusterState, EngineError> {
    let eks = pass.clients.eks.clone();
    let plan = &pass.plan.cluster;
    let idle = ClusterState {
        active: None,
        changed: false,
    };
    let Some(cluster) = eks.describe_cluster(&plan.name).await? else {
        create(pass).await?;
        return Ok(idle);
    };
    if cluster.tags.get(tags::OWNER_UID) != Some(&pass.plan.owner.uid) {
        return Err(EngineError::NameTaken {
            what: format!("EKS cluster {}", plan.name),
        });
    }
    record(pass, &cluster);
    match cluster.status.as_str() {
        "ACTIVE" => {}
        "FAILED" => {
            return Err(EngineError::ResourceFailed {
                what: format!("EKS cluster {}", plan.name),
                status: cluster.status.clone(),
                detail: "see the cluster's health in the EKS console".into(),
            });
        }
        status => {
            pass.waiting(format!("EKS cluster {} {status}", plan.name));
            return Ok(idle);
        }
    }
    if let (Some(running), Some(wanted)) = (minor(&cluster.version), minor(&plan.kubernetes_version))
        && running > wanted
    {
        return Err(EngineError::VersionDowngrade {
            running: cluster.version.clone(),
            wanted: plan.kubernetes_version.clone(),
        });
    }
    let changed = reconcile_config(pass, &cluster).await?;
    Ok(ClusterState {
        active: Some(cluster),
        changed,
    })
}

async fn create(pass: &mut Pass<'_>) -> Result<(), EngineError> {
    let plan = &pass.plan.cluster;
    let role = pass.ids.roles.get(&RoleKind::ControlPlane).cloned();
    let subnets: Option<Vec<String>> = plan
        .subnet_keys
        .iter()
        .map(|k| pass.ids.subnets.get(k).cloned())
        .collect();
    let groups: Option<Vec<String>> = plan
        .security_group_keys
        .iter()
        .map(|k| pass.ids.security_groups.get(k).cloned())
        .collect();
    let (Some(role_arn), Some(subnet_ids), Some(security_group_ids)) = (role, subnets, groups) else {
        pass.waiting(format!(
            "EKS cluster {} waits for its role, subnets and security groups",
            plan.name
        ));
        return Ok(());
    };
    let request = CreateCluster {
        name: plan.name.clone(),
        version: plan.kubernetes_version.clone(),
        role_arn,
        vpc: ClusterVpcConfig {
            subnet_ids,
            security_group_ids,
            endpoint_public_access: plan.endpoint_public_access,
            endpoint_private_access: plan.endpoint_private_access,
            public_access_cidrs: plan.public_access_cidrs.iter().map(ToString::to_string).collect(),
        },
        log_types: plan.logging.clone(),
        tags: plan.tags.clone(),
        client_request_token: request_token(&[&pass.plan.owner.uid, &plan.name, "create-cluster"]),
        authentication_mode: Some(pass.plan.access.authentication_mode.as_eks().to_owned()),
        bootstrap_cluster_creator_admin_permissions: Some(
            pass.plan.access.bootstrap_cluster_creator_admin_permissions,
        ),
    };
    match pass.clients.eks.create_cluster(&request).await {
        Ok(cluster) => {
            pass.did(
                Verb::Created,
                format!(
                    "EKS cluster {} (Kubernetes {})",
                    plan.name, plan.kubernetes_version
                ),
            );
            record(pass, &cluster);
            pass.waiting(format!("EKS cluster {} {}", plan.name, cluster.status));
            Ok(())
        }
        Err(AwsError::IamPropagation(_)) => {
            pass.waiting(format!(
                "EKS cluster {} waits for its IAM role to propagate",
                plan.name
            ));
            Ok(())
        }
        Err(AwsError::Conflict(_) | AwsError::AlreadyExists(_)) => {
            pass.waiting(format!("EKS cluster {} being created", plan.name));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

/// One configuration change per pass (EKS runs one update at a time). Returns true when one was asked for.
async fn reconcile_config(pass: &mut Pass<'_>, cluster: &Cluster) -> AwsResult<bool> {
    let eks = pass.clients.eks.clone();
    let plan = &pass.plan.cluster;
    let name = plan.name.clone();
    let wanted_cidrs = sorted(plan.public_access_cidrs.iter().map(ToString::to_string).collect());
    let vpc = &cluster.vpc;
    let cidrs_differ = plan.endpoint_public_access && sorted(vpc.public_access_cidrs.clone()) != wanted_cidrs;
    if vpc.endpoint_public_access != plan.endpoint_public_access
        || vpc.endpoint_private_access != plan.endpoint_private_access
        || cidrs_differ
    {
        let update = ClusterConfigUpdate::EndpointAccess {
            public: plan.endpoint_public_access,
            private: plan.endpoint_private_access,
            public_access_cidrs: wanted_cidrs,
        };
        eks.update_cluster_config(&name, &update).await?;
        pass.did(Verb::Updated, format!("endpoint access of EKS cluster {name}"));
        pass.waiting(format!("EKS cluster {name} updating endpoint access"));
        return Ok(true);
    }
    let wanted_logs = sorted(plan.logging.clone());
    if sorted(cluster.enabled_log_types.clone()) != wanted_logs {
        let disable = LOG_TYPES
            .iter()
            .filter(|t| !wanted_logs.iter().any(|w| w == *t))
            .map(|t| (*t).to_owned())
            .collect();
        let update = ClusterConfigUpdate::Logging {
            enable: wanted_logs,
            disable,
        };
        eks.update_cluster_config(&name, &update).await?;
        pass.did(Verb::Updated, format!("logging of EKS cluster {name}"));
        pass.waiting(format!("EKS cluster {name} updating logging"));
        return Ok(true);
    }
    let missing = missing_tags(&cluster.tags, &plan.tags);
    if !missing.is_empty() && !cluster.arn.is_empty() {
        eks.tag_resource(&cluster.arn, &missing).await?;
        pass.did(Verb::Repaired, format!("tags of EKS cluster {name}"));
    }
    Ok(false)
}

/// Upgrades the control plane by one minor version towards the plan, once every node group runs the
/// control plane's current version. Returns true when an upgrade was asked for.
pub(crate) async fn upgrade(
    pass: &mut Pass<'_>,
    cluster: &Cluster,
    node_groups_current: bool,
) -> AwsResult<bool> {
    let plan = &pass.plan.cluster;
    let (Some((major, running)), Some(wanted)) = (minor(&cluster.version), minor(&plan.kubernetes_version))
    else {
        return Ok(false);
    };
    if (major, running) >= wanted {
        return Ok(false);
    }
    let name = plan.name.clone();
    if !node_groups_current {
        pass.waiting(format!(
            "EKS cluster {name} upgrade to {} waits for node groups to reach {}",
            plan.kubernetes_version, cluster.version
        ));
        return Ok(false);
    }
    let next = format!("{major}.{}", running + 1);
    pass.clients.eks.update_cluster_version(&name, &next).await?;
    pass.did(
        Verb::Updated,
        format!("EKS cluster {name} upgrading {} -> {next}", cluster.version),
    );
    pass.waiting(format!("EKS cluster {name} upgrading to {next}"));
    Ok(true)
}

/// Deletes the cluster when it is this object's and has no node groups left. Returns true when it is gone;
/// records the OIDC issuer on the way for the provider's teardown.
pub(crate) async fn teardown(tp: &mut TeardownPass<'_>, name: &str) -> AwsResult<bool> {
    let eks = tp.clients.eks.clone();
    let Some(cluster) = eks.describe_cluster(name).await? else {
        return Ok(true);
    };
    if cluster.tags.get(tags::OWNER_UID).map(String::as_str) != Some(tp.owner_uid) {
        return Ok(true);
    }
    if cluster.status == "DELETING" {
        tp.waiting(format!("EKS cluster {name} DELETING"));
        return Ok(false);
    }
    match eks.delete_cluster(name).await {
        Ok(()) => tp.did(Verb::Deleted, format!("EKS cluster {name}")),
        Err(e) if e.is_not_found() => return Ok(true),
        Err(AwsError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    tp.waiting(format!("EKS cluster {name} DELETING"));
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_minor() {
        assert_eq!(minor("1.31"), Some((1, 31)));
        assert!(minor("1.9") < minor("1.10"));
        assert_eq!(minor("x"), None);
        assert_eq!(request_token(&["a", "b"]), request_token(&["a", "b"]));
        assert_ne!(request_token(&["a", "b"]), request_token(&["a", "c"]));
    }
}
