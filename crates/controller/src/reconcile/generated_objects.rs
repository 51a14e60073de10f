//! Keeps the generated aws-auth ConfigMap and kubeconfig Secret of each region in step with AWS: written when
//! missing or different (the controller also watches them, so a deleted or edited one is put back), removed
//! when the region goes. With `spec.awsAuth.manage`, aws-auth is also applied into the workload cluster.

use eks_api::{EksCluster, RegionStatus, ValidatedCluster};
use eks_plan::AwsAuthPlan;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::events;
use crate::context::{Context, FIELD_MANAGER};
use crate::error::{Error, Result};
use crate::generated::{self, ClusterAccess};
use crate::workload::WorkloadTarget;

/// Writes the region's generated objects where AWS has produced what they need, and records their names.
pub(super) async fn ensure(
    ctx: &Context,
    owner: &EksCluster,
    cluster: &ValidatedCluster,
    region: &mut RegionStatus,
) -> Result<()> {
    let namespace = cluster.namespace();
    if let Some(worker_arn) = region.worker_role_arn.clone() {
        let plan = AwsAuthPlan::new(worker_arn.clone(), &cluster.spec().aws_auth);
        let data = plan.render_data(&worker_arn).map_err(|e| Error::Render {
            what: "aws-auth ConfigMap",
            message: e.to_string(),
        })?;
        let config_map = generated::aws_auth_config_map(owner, &region.region, data.clone());
        let written = apply_if_changed(ctx, namespace, &config_map, |live: &ConfigMap| {
            live.data == config_map.data && same_meta(live, &config_map)
        })
        .await?;
        if written {
            events::normal_for(
                ctx,
                owner,
                "GeneratedAwsAuth",
                &format!("wrote ConfigMap {}", config_map.name_any()),
            )
            .await;
        }
        region.aws_auth_config_map = Some(config_map.name_any());

        if cluster.spec().aws_auth.manage
            && let (Some(endpoint), Some(cluster_id)) = (&region.endpoint, &region.cluster_id)
        {
            let target = WorkloadTarget {
                cluster_name: cluster_id.clone(),
                region: region.region.clone(),
                endpoint: endpoint.clone(),
                certificate_authority_data: region.certificate_authority_data.clone(),
                worker_role_arn: worker_arn.clone(),
            };
            match ctx.workload.apply_aws_auth(&target, &plan).await {
                Ok(true) => {
                    let message = format!("applied kube-system/aws-auth in {cluster_id}");
                    events::normal_for(ctx, owner, "AppliedAwsAuth", &message).await;
                }
                Ok(false) => {}
                Err(message) => {
                    let message = format!("applying kube-system/aws-auth in {cluster_id}: {message}");
                    events::warning_for(ctx, owner, "AwsAuthFailed", &message).await;
                    region.last_error.get_or_insert(message);
                }
            }
        }
    }
    if let (Some(arn), Some(endpoint), Some(ca), Some(name)) = (
        &region.cluster_arn,
        &region.endpoint,
        &region.certificate_authority_data,
        &region.cluster_id,
    ) {
        let access = ClusterAccess {
            cluster_name: name.clone(),
            cluster_arn: arn.clone(),
            endpoint: endpoint.clone(),
            certificate_authority_data: ca.clone(),
            region: region.region.clone(),
        };
        let secret = generated::kubeconfig_secret(owner, &access).map_err(|e| Error::Render {
            what: "kubeconfig Secret",
            message: e.to_string(),
        })?;
        let written = apply_if_changed(ctx, namespace, &secret, |live: &Secret| {
            live.data == secret.data && same_meta(live, &secret)
        })
        .await?;
        if written {
            events::normal_for(
                ctx,
                owner,
                "GeneratedKubeconfig",
                &format!("wrote Secret {}", secret.name_any()),
            )
            .await;
        }
        region.kubeconfig_secret = Some(secret.name_any());
    }
    Ok(())
}

/// Deletes the generated objects of a region that is gone.
pub(super) async fn remove(ctx: &Context, owner: &EksCluster, region: &str) -> Result<()> {
    let namespace = owner.namespace().unwrap_or_default();
    let name = owner.name_any();
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    ignore_not_found(
        config_maps
            .delete(&generated::aws_auth_name(&name, region), &DeleteParams::default())
            .await,
    )?;
    ignore_not_found(
        secrets
            .delete(
                &generated::kubeconfig_name(&name, region),
                &DeleteParams::default(),
            )
            .await,
    )?;
    Ok(())
}

fn ignore_not_found<T>(result: kube::Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn same_meta<K: Resource>(live: &K, desired: &K) -> bool {
    let labels_match = desired
        .labels()
        .iter()
        .all(|(k, v)| live.labels().get(k) == Some(v));
    labels_match && live.owner_references() == desired.owner_references()
}

/// Server-side applies `desired` unless the live object already matches. Returns whether it wrote.
async fn apply_if_changed<K>(
    ctx: &Context,
    namespace: &str,
    desired: &K,
    matches: impl Fn(&K) -> bool,
) -> Result<bool>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    let name = desired.name_any();
    if let Some(live) = api.get_opt(&name).await?
        && matches(&live)
    {
        return Ok(false);
    }
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(desired),
    )
    .await?;
    Ok(true)
}
