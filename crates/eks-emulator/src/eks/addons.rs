//! Managed add-ons: `CreateAddon`, `DescribeAddon`, `ListAddons`, `UpdateAddon`, `DeleteAddon`
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAddon.html> and siblings), over the
//! [`catalogue`](super::catalogue) that `DescribeAddonVersions` and `DescribeAddonConfiguration` answer
//! (see [`super::addon_versions`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::catalogue::{self, AddonVersion};
use super::clusters::with_cluster;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::*;
use super::updates::{busy, retried, start_update};
use crate::timing::{Phase, now_ms};

/// A Pod Identity association as `CreateAddon`/`UpdateAddon` name it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssociationRequest {
    service_account: String,
    role_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    addon_name: String,
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    client_request_token: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    configuration_values: Option<String>,
    pod_identity_associations: Option<Vec<AssociationRequest>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    client_request_token: Option<String>,
    configuration_values: Option<String>,
    pod_identity_associations: Option<Vec<AssociationRequest>>,
}

fn not_found(cluster: &str, addon: &str) -> EksError {
    EksError::new(
        ErrorCode::ResourceNotFound,
        format!("No addon: {addon} found in cluster: {cluster}"),
    )
    .cluster(cluster)
    .addon(addon)
}

fn phase_ms(ctx: &Ctx<'_>) -> u64 {
    ctx.app
        .config()
        .timing
        .duration(Phase::Addon, ctx.app.config().time_scale)
        .as_millis() as u64
}

/// `resolveConflicts` takes `OVERWRITE`, `NONE` or `PRESERVE` (the `ResolveConflicts` enum of the API model).
fn check_resolve_conflicts(value: Option<&str>) -> EksResult<()> {
    match value {
        None | Some("OVERWRITE" | "NONE" | "PRESERVE") => Ok(()),
        Some(other) => Err(EksError::invalid(format!(
            "resolveConflicts {other} is not one of OVERWRITE, NONE, PRESERVE"
        ))),
    }
}

fn check_role(field: &str, role: &str) -> EksResult<()> {
    if role.starts_with("arn:aws:iam::") && role.contains(":role/") {
        Ok(())
    } else {
        Err(EksError::invalid(format!(
            "{field} {role} is not an IAM role ARN"
        )))
    }
}

/// The catalogue version `requested` (or the default) of `addon` for a cluster on Kubernetes `kubernetes`;
/// a version the catalogue lacks or that does not run on that Kubernetes version is an
/// `InvalidParameterException` naming the compatible versions.
fn resolve_version(
    addon: &str,
    requested: Option<&str>,
    kubernetes: &str,
) -> EksResult<&'static AddonVersion> {
    let Some(requested) = requested else {
        return catalogue::default_version(addon, kubernetes).ok_or_else(|| {
            EksError::invalid(format!(
                "Addon {addon} has no default version for Kubernetes {kubernetes}"
            ))
        });
    };
    let compatible = || {
        catalogue::versions(addon, Some(kubernetes))
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let version = catalogue::version(addon, requested).ok_or_else(|| {
        EksError::invalid(format!(
            "Addon version specified is not supported: {requested} for {addon}; compatible versions: {}",
            compatible()
        ))
    })?;
    if !version.compatible.contains(&kubernetes) {
        return Err(EksError::invalid(format!(
            "Addon version {requested} of {addon} is not compatible with cluster version {kubernetes}; compatible versions: {}",
            compatible()
        )));
    }
    Ok(version)
}

/// Checks `values` (JSON) against the version's configuration schema; the first violation is an
/// `InvalidParameterException` naming its path in the document.
pub fn validate_configuration(version: &AddonVersion, values: &str) -> EksResult<()> {
    let document: Value = serde_json::from_str(values).map_err(|err| {
        EksError::invalid(format!("configurationValues is not a valid JSON document: {err}"))
    })?;
    let validator = jsonschema::validator_for(&version.schema())
        .map_err(|err| EksError::new(ErrorCode::Server, format!("the configuration schema: {err}")))?;
    if let Some(error) = validator.iter_errors(&document).next() {
        let path = error.instance_path().to_string();
        let path = if path.is_empty() { "/".to_owned() } else { path };
        return Err(EksError::invalid(format!(
            "ConfigurationValue provided in request is not supported: Json schema validation failed at {path}: {error}"
        )));
    }
    Ok(())
}

/// Checks each requested association: a service account the add-on uses (its `podIdentityConfiguration`)
/// and an IAM role ARN.
fn check_associations(kind: &catalogue::AddonKind, associations: &[AssociationRequest]) -> EksResult<()> {
    for a in associations {
        if !kind
            .service_accounts
            .iter()
            .any(|(sa, _)| *sa == a.service_account)
        {
            return Err(EksError::invalid(format!(
                "podIdentityAssociations: service account {} is not one {} uses (see DescribeAddonConfiguration)",
                a.service_account, kind.name
            )));
        }
        check_role("podIdentityAssociations.roleArn", &a.role_arn)?;
    }
    Ok(())
}

/// Creates the add-on's Pod Identity associations as EKS does (owned by the add-on) and answers their ARNs;
/// existing ones the add-on owns are updated in place, the ones it no longer names deleted.
fn sync_associations(
    c: &mut ClusterRecord,
    addon_arn: &str,
    wanted: &[(String, String)],
    now: u64,
) -> Vec<String> {
    let region = addon_arn.split(':').nth(3).unwrap_or_default().to_owned();
    let namespace = addon_arn
        .split('/')
        .nth(2)
        .and_then(catalogue::addon)
        .map_or("kube-system", |k| k.namespace);
    c.pod_identity.retain(|_, a| {
        a["ownerArn"] != addon_arn || wanted.iter().any(|(sa, _)| a["serviceAccount"] == sa.as_str())
    });
    let mut arns = Vec::new();
    for (service_account, role) in wanted {
        let existing = c
            .pod_identity
            .values_mut()
            .find(|a| a["namespace"] == namespace && a["serviceAccount"] == service_account.as_str());
        if let Some(a) = existing {
            if a["roleArn"] != role.as_str() {
                a["roleArn"] = json!(role);
                a["modifiedAt"] = json!(seconds(now));
            }
            arns.push(a["associationArn"].as_str().unwrap_or_default().to_owned());
            continue;
        }
        let id = format!("a-{}", &uuid().replace('-', "")[..17]);
        let arn = format!(
            "arn:aws:eks:{region}:{}:podidentityassociation/{}/{id}",
            c.account, c.cluster.name
        );
        let association = json!({
            "clusterName": c.cluster.name,
            "namespace": namespace,
            "serviceAccount": service_account,
            "roleArn": role,
            "associationArn": arn,
            "associationId": id,
            "tags": {},
            "createdAt": seconds(now),
            "modifiedAt": seconds(now),
            "ownerArn": addon_arn,
        });
        c.pod_identity.insert(id, association);
        arns.push(arn);
    }
    arns
}

fn pairs(associations: &[AssociationRequest]) -> Vec<(String, String)> {
    associations
        .iter()
        .map(|a| (a.service_account.clone(), a.role_arn.clone()))
        .collect()
}

/// `CreateAddon`: the cluster must be `ACTIVE` (or updating), the version compatible with it, the configuration
/// valid against the version's schema; `CREATING` → `ACTIVE`.
pub fn create(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let q: CreateRequest = ctx.body()?;
    let kind = catalogue::addon(&q.addon_name).ok_or_else(|| {
        EksError::invalid(format!("Addon {} specified is not supported", q.addon_name)).cluster(cluster)
    })?;
    check_resolve_conflicts(q.resolve_conflicts.as_deref()).map_err(|e| e.cluster(cluster))?;
    if let Some(role) = &q.service_account_role_arn {
        check_role("serviceAccountRoleArn", role).map_err(|e| e.cluster(cluster))?;
    }
    let associations = q.pod_identity_associations.as_deref().unwrap_or_default();
    check_associations(kind, associations).map_err(|e| e.cluster(cluster))?;
    let ready_at = now_ms() + phase_ms(ctx);
    let region = ctx.region().to_owned();
    with_cluster(ctx, cluster, |c| {
        if let Some(existing) = c.addons.get(&q.addon_name) {
            if q.client_request_token.is_some() && existing.token == q.client_request_token {
                return Ok(json!({"addon": existing.describe()}));
            }
            return Err(EksError::new(ErrorCode::ResourceInUse, "Addon already exists.")
                .cluster(cluster)
                .addon(&q.addon_name));
        }
        if !matches!(c.cluster.status, ClusterStatus::Active | ClusterStatus::Updating) {
            return Err(EksError::new(
                ErrorCode::InvalidRequest,
                format!("Cluster {cluster} is not ACTIVE"),
            )
            .cluster(cluster));
        }
        let version = resolve_version(&q.addon_name, q.addon_version.as_deref(), &c.cluster.version)
            .map_err(|e| e.cluster(cluster).addon(&q.addon_name))?;
        match q.configuration_values.as_deref() {
            Some(values) if !values.trim().is_empty() => validate_configuration(version, values)
                .map_err(|e| e.cluster(cluster).addon(&q.addon_name))?,
            _ if version.requires_configuration => {
                return Err(EksError::invalid(format!(
                    "Addon version {} requires configurationValues",
                    version.version
                ))
                .cluster(cluster)
                .addon(&q.addon_name));
            }
            _ => {}
        }
        for a in associations {
            let taken = c.pod_identity.values().any(|p| {
                p["namespace"] == kind.namespace && p["serviceAccount"] == a.service_account.as_str()
            });
            if taken {
                return Err(EksError::new(
                    ErrorCode::ResourceInUse,
                    format!(
                        "Association already exists for service account {}/{}",
                        kind.namespace, a.service_account
                    ),
                )
                .cluster(cluster)
                .addon(&q.addon_name));
            }
        }
        let now = now_ms();
        let arn = format!(
            "arn:aws:eks:{region}:{}:addon/{cluster}/{}/{}",
            c.account,
            q.addon_name,
            uuid()
        );
        let association_arns = sync_associations(c, &arn, &pairs(associations), now);
        let mut addon = json!({
            "addonName": q.addon_name,
            "clusterName": cluster,
            "addonVersion": version.version,
            "health": {"issues": []},
            "addonArn": arn,
            "createdAt": seconds(now),
            "modifiedAt": seconds(now),
            "tags": q.tags,
            "publisher": "eks",
            "owner": "aws",
            "podIdentityAssociations": association_arns,
        });
        if let Some(role) = &q.service_account_role_arn {
            addon["serviceAccountRoleArn"] = json!(role);
        }
        if let Some(values) = q.configuration_values.as_deref().filter(|v| !v.trim().is_empty()) {
            addon["configurationValues"] = json!(values);
        }
        let record = AddonRecord {
            addon,
            status: AddonStatus::Creating,
            ready_at,
            token: q.client_request_token.clone(),
            preserve: false,
        };
        let answer = record.describe();
        c.addons.insert(q.addon_name.clone(), record);
        Ok(json!({"addon": answer}))
    })
}

/// `DescribeAddon`.
pub fn describe(ctx: &Ctx<'_>, cluster: &str, addon: &str) -> EksResult<Value> {
    with_cluster(ctx, cluster, |c| {
        c.addons
            .get(addon)
            .map(|a| json!({"addon": a.describe()}))
            .ok_or_else(|| not_found(cluster, addon))
    })
}

/// `ListAddons` (paged).
pub fn list(ctx: &Ctx<'_>, cluster: &str) -> EksResult<Value> {
    let names = with_cluster(ctx, cluster, |c| Ok(c.addons.keys().cloned().collect::<Vec<_>>()))?;
    let (names, next) = super::page(ctx, names)?;
    Ok(json!({"addons": names, "nextToken": next}))
}

/// `UpdateAddon`: one update at a time per add-on (`ResourceInUseException`), the version compatible with the
/// cluster, the configuration valid; an update of type `AddonUpdate` whose change applies when it succeeds.
pub fn update(ctx: &Ctx<'_>, cluster: &str, name: &str) -> EksResult<Value> {
    let q: UpdateRequest = ctx.body()?;
    check_resolve_conflicts(q.resolve_conflicts.as_deref()).map_err(|e| e.cluster(cluster))?;
    if let Some(role) = q.service_account_role_arn.as_deref().filter(|r| !r.is_empty()) {
        check_role("serviceAccountRoleArn", role).map_err(|e| e.cluster(cluster))?;
    }
    let done_at = now_ms() + phase_ms(ctx);
    with_cluster(ctx, cluster, |c| {
        let target = UpdateTarget::Addon(name.to_owned());
        if let Some(update) = retried(c, &target, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        let kubernetes = c.cluster.version.clone();
        let record = c.addons.get(name).ok_or_else(|| not_found(cluster, name))?;
        let updatable = matches!(
            record.status,
            AddonStatus::Active | AddonStatus::Degraded | AddonStatus::UpdateFailed
        );
        if busy(c, &target) || !updatable {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!(
                    "Addon {name} cannot be updated while it is {}",
                    serde_json::to_value(record.status).unwrap_or_default()
                ),
            )
            .cluster(cluster)
            .addon(name));
        }
        let current = record.addon["addonVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let version = resolve_version(
            name,
            Some(q.addon_version.as_deref().unwrap_or(&current)),
            &kubernetes,
        )
        .map_err(|e| e.cluster(cluster).addon(name))?;
        let values = q
            .configuration_values
            .clone()
            .or_else(|| record.addon["configurationValues"].as_str().map(str::to_owned));
        if let Some(values) = values.as_deref().filter(|v| !v.trim().is_empty()) {
            validate_configuration(version, values).map_err(|e| e.cluster(cluster).addon(name))?;
        }
        if let Some(associations) = &q.pod_identity_associations
            && let Some(kind) = catalogue::addon(name)
        {
            check_associations(kind, associations).map_err(|e| e.cluster(cluster).addon(name))?;
        }
        let mut params = vec![("AddonVersion", version.version.to_owned())];
        if let Some(role) = &q.service_account_role_arn {
            params.push(("ServiceAccountRoleArn", role.clone()));
        }
        if let Some(resolve) = &q.resolve_conflicts {
            params.push(("ResolveConflicts", resolve.clone()));
        }
        if let Some(values) = &q.configuration_values {
            params.push(("ConfigurationValues", values.clone()));
        }
        let pod_identity = q.pod_identity_associations.as_deref().map(pairs);
        if let Some(p) = &pod_identity {
            params.push(("PodIdentityAssociations", json!(p).to_string()));
        }
        let change = Change::Addon(AddonChange {
            version: Some(version.version.to_owned()),
            configuration_values: q.configuration_values.clone(),
            service_account_role_arn: q.service_account_role_arn.clone(),
            pod_identity,
        });
        if let Some(record) = c.addons.get_mut(name) {
            record.status = AddonStatus::Updating;
        }
        Ok(start_update(
            c,
            target,
            "AddonUpdate",
            params,
            q.client_request_token.clone(),
            done_at,
            change,
        ))
    })
}

/// Applies a successful `UpdateAddon` to add-on `name`.
pub fn apply_change(c: &mut ClusterRecord, name: &str, change: AddonChange, now: u64) {
    let Some(arn) = c
        .addons
        .get(name)
        .and_then(|a| a.addon["addonArn"].as_str().map(str::to_owned))
    else {
        return;
    };
    let associations = change
        .pod_identity
        .as_ref()
        .map(|wanted| sync_associations(c, &arn, wanted, now));
    let Some(record) = c.addons.get_mut(name) else {
        return;
    };
    let addon = &mut record.addon;
    if let Some(version) = change.version {
        addon["addonVersion"] = json!(version);
    }
    let set_or_clear = |addon: &mut Value, key: &str, value: Option<String>| match value {
        Some(v) if v.trim().is_empty() => {
            if let Some(map) = addon.as_object_mut() {
                map.remove(key);
            }
        }
        Some(v) => addon[key] = json!(v),
        None => {}
    };
    set_or_clear(addon, "configurationValues", change.configuration_values);
    set_or_clear(addon, "serviceAccountRoleArn", change.service_account_role_arn);
    if let Some(arns) = associations {
        addon["podIdentityAssociations"] = json!(arns);
    }
    addon["modifiedAt"] = json!(seconds(now));
}

/// `DeleteAddon`: `DELETING` → gone; without `preserve` the add-on's Pod Identity associations go with it.
pub fn delete(ctx: &Ctx<'_>, cluster: &str, name: &str) -> EksResult<Value> {
    let preserve = ctx.query("preserve") == Some("true");
    let ready_at = now_ms() + phase_ms(ctx);
    with_cluster(ctx, cluster, |c| {
        let record = c.addons.get_mut(name).ok_or_else(|| not_found(cluster, name))?;
        if record.status != AddonStatus::Deleting {
            record.status = AddonStatus::Deleting;
            record.ready_at = ready_at;
            record.preserve = preserve;
        }
        Ok(json!({"addon": record.describe()}))
    })
}

/// Moves add-ons out of `CREATING` and `DELETING` at `now`; answers whether anything changed.
pub fn step(c: &mut ClusterRecord, now: u64) -> bool {
    let mut changed = false;
    let mut gone = Vec::new();
    for (name, a) in c.addons.iter_mut() {
        match a.status {
            AddonStatus::Creating if a.ready_at <= now => {
                a.status = AddonStatus::Active;
                a.addon["modifiedAt"] = json!(seconds(now));
                changed = true;
            }
            AddonStatus::Deleting if a.ready_at <= now => gone.push(name.clone()),
            _ => {}
        }
    }
    for name in gone {
        if let Some(a) = c.addons.remove(&name)
            && !a.preserve
        {
            let arn = a.addon["addonArn"].clone();
            c.pod_identity.retain(|_, p| p["ownerArn"] != arn);
        }
        changed = true;
    }
    changed
}
