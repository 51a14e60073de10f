//! Keeps the generated aws-auth ConfigMap and kubeconfig Secret of each region in step with AWS: written when
//! missing or different, so that their `data` is exactly the desired one (the controller also watches them, so
//! a deleted or edited one is put back, keys someone added included), removed when the region goes. With
//! `spec.awsAuth.manage`, aws-auth is also applied into the workload cluster.

use std::collections::BTreeMap;

use eks_api::{EksCluster, RegionStatus, ValidatedCluster};
use eks_plan::AwsAuthPlan;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::events;
use crate::context::{Context, FIELD_MANAGER};
use crate::error::{Error, Result};
use crate::generated::{self, ClusterAccess};
use crate::workload::{WorkloadTarget, merge};

/// What writing a generated object did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    /// It already was as desired.
    Unchanged,
    /// It was missing.
    Created,
    /// It differed after a spec change.
    Updated,
    /// It differed though the spec did not change: someone edited it.
    Repaired,
}

/// A kind of generated object: how its content compares and how foreign content is removed.
trait Generated:
    Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Serialize
    + std::fmt::Debug
{
    /// `ConfigMap` or `Secret`, for events.
    const KIND: &'static str;
    /// Whether the live content equals the desired one.
    fn same_content(live: &Self, desired: &Self) -> bool;
    /// A JSON merge patch removing what the live object holds beyond the desired content (keys someone added,
    /// which server-side apply leaves to their manager), or `None` when there is nothing of the kind.
    fn remove_foreign(live: &Self, desired: &Self) -> Option<Value>;
}

fn foreign_keys<V>(live: Option<&BTreeMap<String, V>>, desired: Option<&BTreeMap<String, V>>) -> Vec<String> {
    live.into_iter()
        .flat_map(BTreeMap::keys)
        .filter(|key| !desired.is_some_and(|d| d.contains_key(*key)))
        .cloned()
        .collect()
}

fn nulls(keys: &[String]) -> Value {
    Value::Object(keys.iter().map(|k| (k.clone(), Value::Null)).collect())
}

impl Generated for ConfigMap {
    const KIND: &'static str = "ConfigMap";

    fn same_content(live: &Self, desired: &Self) -> bool {
        live.data == desired.data && live.binary_data.as_ref().is_none_or(BTreeMap::is_empty)
    }

    fn remove_foreign(live: &Self, desired: &Self) -> Option<Value> {
        let data = foreign_keys(live.data.as_ref(), desired.data.as_ref());
        let binary = foreign_keys(live.binary_data.as_ref(), desired.binary_data.as_ref());
        if data.is_empty() && binary.is_empty() {
            return None;
        }
        let mut patch = serde_json::Map::new();
        if !data.is_empty() {
            patch.insert("data".into(), nulls(&data));
        }
        if !binary.is_empty() {
            patch.insert("binaryData".into(), nulls(&binary));
        }
        Some(Value::Object(patch))
    }
}

impl Generated for Secret {
    const KIND: &'static str = "Secret";

    fn same_content(live: &Self, desired: &Self) -> bool {
        live.data == desired.data
    }

    fn remove_foreign(live: &Self, desired: &Self) -> Option<Value> {
        let data = foreign_keys(live.data.as_ref(), desired.data.as_ref());
        (!data.is_empty()).then(|| json!({"data": nulls(&data)}))
    }
}

/// Writes the region's generated objects where AWS has produced what they need, and records their names.
/// Returns the failure to apply aws-auth into the workload cluster, if any: it is recorded in the region's
/// `lastError` and published as a Warning event here, and the caller turns it into a failed reconcile (with
/// backoff) once the status is written.
pub(super) async fn ensure(
    ctx: &Context,
    owner: &EksCluster,
    cluster: &ValidatedCluster,
    region: &mut RegionStatus,
    recorded: Option<&RegionStatus>,
    spec_changed: bool,
) -> Result<Option<Error>> {
    let namespace = cluster.namespace();
    let mut failure = None;
    if let Some(worker_arn) = region.worker_role_arn.clone() {
        let plan = AwsAuthPlan::new(worker_arn.clone(), &cluster.spec().aws_auth);
        let data = merge::desired(&plan, &worker_arn).map_err(|e| Error::Render {
            what: "aws-auth ConfigMap",
            message: e.to_string(),
        })?;
        let config_map = generated::aws_auth_config_map(owner, &region.region, data);
        let was_written = recorded.is_some_and(|r| r.aws_auth_config_map.is_some());
        let written = write_exact(ctx, namespace, &config_map, spec_changed, was_written).await?;
        announce(ctx, owner, namespace, &config_map, written, "aws-auth").await;
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
                credentials: cluster.spec().credentials.clone(),
            };
            match ctx.workload.apply_aws_auth(&target, &plan).await {
                Ok(true) => {
                    let message = format!("applied kube-system/aws-auth in {cluster_id}");
                    events::normal_for(ctx, owner, "AppliedAwsAuth", &message).await;
                }
                Ok(false) => {}
                Err(source) => {
                    let detail = format!("applying kube-system/aws-auth in {cluster_id}: {source}");
                    let error = Error::AwsAuthApply {
                        region: region.region.clone(),
                        cluster: cluster_id.clone(),
                        source,
                    };
                    tracing::warn!(region = %region.region, reason = error.reason(), "{error}");
                    events::warning_for(ctx, owner, &error.reason(), &error.to_string()).await;
                    region
                        .last_error
                        .get_or_insert_with(|| format!("{}: {detail}", error.reason()));
                    failure = Some(error);
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
            role_arn: cluster.spec().credentials.as_ref().map(|c| c.role_arn.clone()),
        };
        let secret = generated::kubeconfig_secret(owner, &access).map_err(|e| Error::Render {
            what: "kubeconfig Secret",
            message: e.to_string(),
        })?;
        let was_written = recorded.is_some_and(|r| r.kubeconfig_secret.is_some());
        let written = write_exact(ctx, namespace, &secret, spec_changed, was_written).await?;
        announce(ctx, owner, namespace, &secret, written, "kubeconfig").await;
        region.kubeconfig_secret = Some(secret.name_any());
    }
    Ok(failure)
}

/// One Normal event per generated object written: `Created`, `Updated` or `Repaired`.
async fn announce<K: Generated>(
    ctx: &Context,
    owner: &EksCluster,
    namespace: &str,
    object: &K,
    written: Written,
    what: &str,
) {
    let name = object.name_any();
    let (reason, how) = match written {
        Written::Unchanged => return,
        Written::Created => ("Created", "created"),
        Written::Updated => ("Updated", "updated after the spec changed"),
        Written::Repaired => (
            "Repaired",
            "put back as generated (it had been deleted or edited)",
        ),
    };
    let note = format!("{} {namespace}/{name} ({what}): {how}", K::KIND);
    events::normal_about(ctx, owner, reference::<K>(namespace, &name), reason, &note).await;
}

/// Deletes the generated objects of a region that is gone, with a `Deleted` event for each one that existed.
pub(super) async fn remove(ctx: &Context, owner: &EksCluster, region: &str) -> Result<()> {
    let namespace = owner.namespace().unwrap_or_default();
    let name = owner.name_any();
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let aws_auth = generated::aws_auth_name(&name, region);
    if deleted(config_maps.delete(&aws_auth, &DeleteParams::default()).await)? {
        let note = format!("ConfigMap {namespace}/{aws_auth} (aws-auth): deleted, region {region} is gone");
        let related = reference::<ConfigMap>(&namespace, &aws_auth);
        events::normal_about(ctx, owner, related, "Deleted", &note).await;
    }
    let kubeconfig = generated::kubeconfig_name(&name, region);
    if deleted(secrets.delete(&kubeconfig, &DeleteParams::default()).await)? {
        let note = format!("Secret {namespace}/{kubeconfig} (kubeconfig): deleted, region {region} is gone");
        let related = reference::<Secret>(&namespace, &kubeconfig);
        events::normal_about(ctx, owner, related, "Deleted", &note).await;
    }
    Ok(())
}

/// Whether a delete removed something: a missing object is not an error.
fn deleted<T>(result: kube::Result<T>) -> Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// The reference of a generated object, as the related object of its events.
fn reference<K: Resource<DynamicType = ()>>(namespace: &str, name: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        namespace: Some(namespace.to_owned()),
        name: Some(name.to_owned()),
        ..ObjectReference::default()
    }
}

fn same_meta<K: Resource>(live: &K, desired: &K) -> bool {
    let labels_match = desired
        .labels()
        .iter()
        .all(|(k, v)| live.labels().get(k) == Some(v));
    labels_match && live.owner_references() == desired.owner_references()
}

/// Makes the live object's content exactly `desired`: server-side applies it (forced) unless the live object
/// already matches, then removes content others added. Returns what it did: a missing object that the status
/// says was written before, or one that differs while the spec did not change, was repaired.
async fn write_exact<K: Generated>(
    ctx: &Context,
    namespace: &str,
    desired: &K,
    spec_changed: bool,
    was_written: bool,
) -> Result<Written> {
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    let name = desired.name_any();
    let live = api.get_opt(&name).await?;
    if let Some(live) = &live
        && K::same_content(live, desired)
        && same_meta(live, desired)
    {
        return Ok(Written::Unchanged);
    }
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(desired),
    )
    .await?;
    if let Some(patch) = live.as_ref().and_then(|live| K::remove_foreign(live, desired)) {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        api.patch(&name, &params, &Patch::Merge(&patch)).await?;
    }
    Ok(match (live, spec_changed) {
        (None, _) if was_written => Written::Repaired,
        (None, _) => Written::Created,
        (Some(_), true) => Written::Updated,
        (Some(_), false) => Written::Repaired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn config_map(data: &[(&str, &str)], binary: &[&str]) -> ConfigMap {
        ConfigMap {
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            binary_data: (!binary.is_empty()).then(|| {
                binary
                    .iter()
                    .map(|k| ((*k).to_owned(), ByteString(vec![1])))
                    .collect()
            }),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn keys_someone_added_are_removed_and_nothing_else() {
        let desired = config_map(&[("mapRoles", "- a")], &[]);
        let live = config_map(&[("mapRoles", "- edited"), ("extra", "x")], &["blob"]);
        assert!(!ConfigMap::same_content(&live, &desired));
        assert_eq!(
            ConfigMap::remove_foreign(&live, &desired),
            Some(json!({"data": {"extra": null}, "binaryData": {"blob": null}}))
        );
        assert_eq!(
            ConfigMap::remove_foreign(&config_map(&[("mapRoles", "- a"), ("extra", "x")], &[]), &desired),
            Some(json!({"data": {"extra": null}}))
        );
        let edited_only = config_map(&[("mapRoles", "- edited")], &[]);
        assert_eq!(ConfigMap::remove_foreign(&edited_only, &desired), None);
        assert!(ConfigMap::same_content(&desired.clone(), &desired));
        assert!(!ConfigMap::same_content(
            &config_map(&[("mapRoles", "- a")], &["blob"]),
            &desired
        ));

        let secret = |keys: &[&str]| Secret {
            data: Some(
                keys.iter()
                    .map(|k| ((*k).to_owned(), ByteString(vec![2])))
                    .collect(),
            ),
            ..Secret::default()
        };
        assert_eq!(
            Secret::remove_foreign(&secret(&["kubeconfig", "token"]), &secret(&["kubeconfig"])),
            Some(json!({"data": {"token": null}}))
        );
        assert_eq!(
            Secret::remove_foreign(&secret(&["kubeconfig"]), &secret(&["kubeconfig"])),
            None
        );
    }
}
