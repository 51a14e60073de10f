//! Updates of the control plane (`UpdateClusterConfig`, `UpdateClusterVersion`), `DescribeUpdate`/`ListUpdates`
//! for cluster, node group and add-on updates, and insights (`ListInsights`, `DescribeInsight`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::clusters::{VpcConfigRequest, normalize_logging, with_cluster};
use super::error::{EksError, EksResult, ErrorCode};
use super::model::*;
use crate::timing::{Phase, now_ms};

/// Records a new `InProgress` update on `record` and answers it as `{"update": ...}`.
pub fn start_update(
    record: &mut ClusterRecord,
    target: UpdateTarget,
    kind: &str,
    params: Vec<(&str, String)>,
    token: Option<String>,
    done_at: u64,
    change: Change,
) -> Value {
    let update = Update {
        id: uuid(),
        status: UpdateStatus::InProgress,
        kind: kind.to_owned(),
        params: params
            .into_iter()
            .map(|(k, v)| UpdateParam {
                kind: k.to_owned(),
                value: v,
            })
            .collect(),
        created_at: seconds(now_ms()),
        errors: Vec::new(),
    };
    let failure = take_failure(record, &target);
    record.updates.push(UpdateRecord {
        update: update.clone(),
        target,
        done_at,
        token,
        change,
        failure,
    });
    json!({"update": update})
}

/// Consumes one failure the control endpoint set for updates of `target`, if any.
fn take_failure(record: &mut ClusterRecord, target: &UpdateTarget) -> Option<serde_json::Value> {
    let index = record.update_failures.iter().position(|f| &f.target == target)?;
    let rule = &mut record.update_failures[index];
    let error = rule.error.clone();
    rule.count = rule.count.saturating_sub(1);
    if rule.count == 0 {
        record.update_failures.remove(index);
    }
    Some(error)
}

/// The earlier update of `target` with the same idempotency token, if the request is a retry.
pub fn retried(record: &ClusterRecord, target: &UpdateTarget, token: Option<&str>) -> Option<Value> {
    let token = token?;
    record
        .updates
        .iter()
        .find(|u| &u.target == target && u.token.as_deref() == Some(token))
        .map(|u| json!({"update": u.update}))
}

/// Whether an update of `target` is in progress.
pub fn busy(record: &ClusterRecord, target: &UpdateTarget) -> bool {
    record
        .updates
        .iter()
        .any(|u| &u.target == target && u.update.status == UpdateStatus::InProgress)
}

fn require_active(record: &ClusterRecord, name: &str) -> EksResult<()> {
    if busy(record, &UpdateTarget::Cluster) {
        return Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Cluster {name} has an update in progress"),
        )
        .cluster(name));
    }
    if record.cluster.status != ClusterStatus::Active {
        return Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Cluster {name} is in {:?} state", record.cluster.status).to_uppercase(),
        )
        .cluster(name));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigRequest {
    resources_vpc_config: Option<VpcConfigRequest>,
    logging: Option<Value>,
    client_request_token: Option<String>,
    access_config: Option<AccessUpdate>,
    upgrade_policy: Option<Value>,
    zonal_shift_config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessUpdate {
    authentication_mode: Option<AuthenticationMode>,
}

/// `UpdateClusterConfig`: one kind of change per call, refused when nothing changes, applied when the update
/// succeeds (<https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html>).
pub fn update_cluster_config(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let q: ConfigRequest = ctx.body()?;
    let done_at = now_ms()
        + ctx
            .app
            .config()
            .timing
            .duration(Phase::ClusterConfig, ctx.app.config().time_scale)
            .as_millis() as u64;
    with_cluster(ctx, name, |c| {
        if let Some(update) = retried(c, &UpdateTarget::Cluster, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        let kinds = [
            q.resources_vpc_config.is_some(),
            q.logging.is_some(),
            q.access_config.is_some(),
            q.upgrade_policy.is_some(),
            q.zonal_shift_config.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => {
                return Err(
                    EksError::invalid("No changes needed: the request names no configuration").cluster(name),
                );
            }
            1 => {}
            _ => return Err(EksError::invalid("Only one type of update can be allowed.").cluster(name)),
        }
        require_active(c, name)?;
        let token = q.client_request_token.clone();
        let (kind, params, change) = if let Some(vpc) = &q.resources_vpc_config {
            endpoint_change(c, vpc, name)?
        } else if let Some(logging) = &q.logging {
            let wanted = normalize_logging(Some(&merge_logging(&c.cluster.logging, logging)))?;
            if wanted == c.cluster.logging {
                return Err(
                    EksError::invalid("No changes needed for the logging config provided").cluster(name),
                );
            }
            let text = wanted["clusterLogging"].to_string();
            (
                "LoggingUpdate",
                vec![("ClusterLogging", text)],
                Change::Logging(wanted),
            )
        } else if let Some(access) = &q.access_config {
            let current = c.cluster.access_config.authentication_mode;
            let wanted = access
                .authentication_mode
                .ok_or_else(|| EksError::invalid("authenticationMode is required"))?;
            // The mode only moves towards API
            // (https://docs.aws.amazon.com/eks/latest/userguide/setting-up-access-entries.html).
            if wanted <= current {
                return Err(EksError::invalid(format!(
                    "Unsupported authentication mode update from {} to {}",
                    mode_name(current),
                    mode_name(wanted)
                ))
                .cluster(name));
            }
            (
                "AccessConfigUpdate",
                vec![("AuthenticationMode", mode_name(wanted).to_owned())],
                Change::AuthenticationMode(wanted),
            )
        } else if let Some(policy) = &q.upgrade_policy {
            if policy == &c.cluster.upgrade_policy {
                return Err(
                    EksError::invalid("No changes needed for the upgrade policy provided").cluster(name),
                );
            }
            (
                "UpgradePolicyUpdate",
                vec![("UpgradePolicy", policy.to_string())],
                Change::UpgradePolicy(policy.clone()),
            )
        } else {
            let shift = q.zonal_shift_config.clone().unwrap_or_default();
            (
                "ZonalShiftConfigUpdate",
                vec![("ZonalShiftConfig", shift.to_string())],
                Change::ZonalShift(shift),
            )
        };
        c.cluster.status = ClusterStatus::Updating;
        Ok(start_update(
            c,
            UpdateTarget::Cluster,
            kind,
            params,
            token,
            done_at,
            change,
        ))
    })
}

fn mode_name(mode: AuthenticationMode) -> &'static str {
    match mode {
        AuthenticationMode::ConfigMap => "CONFIG_MAP",
        AuthenticationMode::ApiAndConfigMap => "API_AND_CONFIG_MAP",
        AuthenticationMode::Api => "API",
    }
}

/// Logging setups apply on top of the current one: types not named keep their state.
fn merge_logging(current: &Value, requested: &Value) -> Value {
    let mut setups: Vec<Value> = current["clusterLogging"].as_array().cloned().unwrap_or_default();
    setups.extend(
        requested["clusterLogging"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    json!({"clusterLogging": setups})
}

type ConfigChange = (&'static str, Vec<(&'static str, String)>, Change);

fn endpoint_change(c: &ClusterRecord, vpc: &VpcConfigRequest, name: &str) -> EksResult<ConfigChange> {
    if vpc.subnet_ids.is_some() || vpc.security_group_ids.is_some() {
        return Err(EksError::invalid(
            "eks-emulator does not model subnet or security group updates (VpcConfigUpdate)",
        )
        .cluster(name));
    }
    let current = &c.cluster.resources_vpc_config;
    let public = vpc
        .endpoint_public_access
        .unwrap_or(current.endpoint_public_access);
    let private = vpc
        .endpoint_private_access
        .unwrap_or(current.endpoint_private_access);
    let cidrs = vpc
        .public_access_cidrs
        .clone()
        .unwrap_or_else(|| current.public_access_cidrs.clone());
    if !public && !private {
        return Err(EksError::invalid("The endpoint must be public, private, or both").cluster(name));
    }
    if public == current.endpoint_public_access
        && private == current.endpoint_private_access
        && cidrs == current.public_access_cidrs
    {
        return Err(EksError::invalid(format!(
            "Cluster is already at the desired configuration with endpointPrivateAccess: {private} , endpointPublicAccess: {public}, and Public Endpoint Restrictions: {}",
            cidrs.join(",")
        ))
        .cluster(name));
    }
    let params = vec![
        ("EndpointPublicAccess", public.to_string()),
        ("EndpointPrivateAccess", private.to_string()),
        ("PublicAccessCidrs", json!(cidrs).to_string()),
    ];
    Ok((
        "EndpointAccessUpdate",
        params,
        Change::EndpointAccess {
            public: Some(public),
            private: Some(private),
            cidrs: Some(cidrs),
        },
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionRequest {
    version: String,
    client_request_token: Option<String>,
    #[serde(default)]
    force: bool,
}

/// The minor number of `major.minor`.
pub fn minor(version: &str) -> Option<u32> {
    version.strip_prefix("1.")?.parse().ok()
}

/// `UpdateClusterVersion`: only the next minor version; refused while another update runs and, unless `force`,
/// while an upgrade-readiness insight for the target version is in `ERROR`
/// (<https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterVersion.html>).
pub fn update_cluster_version(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let q: VersionRequest = ctx.body()?;
    let done_at = now_ms()
        + ctx
            .app
            .config()
            .timing
            .duration(Phase::ClusterVersion, ctx.app.config().time_scale)
            .as_millis() as u64;
    with_cluster(ctx, name, |c| {
        if let Some(update) = retried(c, &UpdateTarget::Cluster, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        require_active(c, name)?;
        let current = c.cluster.version.clone();
        if !SUPPORTED_VERSIONS.contains(&q.version.as_str())
            || minor(&q.version) != minor(&current).map(|m| m + 1)
        {
            return Err(EksError::invalid(format!(
                "Unsupported Kubernetes minor version update from {current} to {}",
                q.version
            ))
            .cluster(name));
        }
        let blocking = c.insights.iter().any(|i| {
            i["category"] == "UPGRADE_READINESS"
                && i["insightStatus"]["status"] == "ERROR"
                && i["kubernetesVersion"] == q.version.as_str()
        });
        if blocking && !q.force {
            return Err(EksError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Upgrade insights for {} report ERROR; fix them or update with force",
                    q.version
                ),
            )
            .cluster(name));
        }
        c.cluster.status = ClusterStatus::Updating;
        let params = vec![
            ("Version", q.version.clone()),
            ("PlatformVersion", "eks.1".to_owned()),
        ];
        Ok(start_update(
            c,
            UpdateTarget::Cluster,
            "VersionUpdate",
            params,
            q.client_request_token.clone(),
            done_at,
            Change::ClusterVersion(q.version.clone()),
        ))
    })
}

fn target_of(ctx: &Ctx<'_>) -> UpdateTarget {
    match (ctx.query("nodegroupName"), ctx.query("addonName")) {
        (Some(group), _) => UpdateTarget::Nodegroup(group.to_owned()),
        (None, Some(addon)) => UpdateTarget::Addon(addon.to_owned()),
        (None, None) => UpdateTarget::Cluster,
    }
}

/// `ListUpdates` of the cluster, or of the node group or add-on the query names.
pub fn list(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let target = target_of(ctx);
    let ids = with_cluster(ctx, name, |c| {
        if let UpdateTarget::Nodegroup(group) = &target
            && !c.nodegroups.contains_key(group)
        {
            return Err(EksError::new(
                ErrorCode::ResourceNotFound,
                format!("No node group found for name: {group}."),
            )
            .cluster(name)
            .nodegroup(group));
        }
        if let UpdateTarget::Addon(addon) = &target
            && !c.addons.contains_key(addon)
        {
            return Err(EksError::new(
                ErrorCode::ResourceNotFound,
                format!("No addon: {addon} found in cluster: {name}"),
            )
            .cluster(name)
            .addon(addon));
        }
        Ok(c.updates
            .iter()
            .filter(|u| u.target == target)
            .map(|u| u.update.id.clone())
            .collect::<Vec<_>>())
    })?;
    let (ids, next) = super::page(ctx, ids)?;
    Ok(json!({"updateIds": ids, "nextToken": next}))
}

/// `DescribeUpdate`.
pub fn describe(ctx: &Ctx<'_>, name: &str, id: &str) -> EksResult<Value> {
    let target = target_of(ctx);
    with_cluster(ctx, name, |c| {
        c.updates
            .iter()
            .find(|u| u.update.id == id && u.target == target)
            .map(|u| json!({"update": u.update}))
            .ok_or_else(|| {
                EksError::new(
                    ErrorCode::ResourceNotFound,
                    format!("No update found for ID: {id}"),
                )
                .cluster(name)
            })
    })
}

/// `ListInsights` (filters on category, status and Kubernetes version).
pub fn list_insights(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let q: Value = ctx.body()?;
    let filter = &q["filter"];
    let wanted = |key: &str, value: &Value| {
        filter[key]
            .as_array()
            .is_none_or(|allowed| allowed.is_empty() || allowed.contains(value))
    };
    with_cluster(ctx, name, |c| {
        let insights: Vec<Value> = c
            .insights
            .iter()
            .filter(|i| {
                wanted("categories", &i["category"])
                    && wanted("kubernetesVersions", &i["kubernetesVersion"])
                    && wanted("statuses", &i["insightStatus"]["status"])
            })
            .map(|i| {
                json!({
                    "id": i["id"], "name": i["name"], "category": i["category"],
                    "kubernetesVersion": i["kubernetesVersion"], "lastRefreshTime": i["lastRefreshTime"],
                    "lastTransitionTime": i["lastTransitionTime"], "description": i["description"],
                    "insightStatus": i["insightStatus"],
                })
            })
            .collect();
        Ok(json!({"insights": insights}))
    })
}

/// `DescribeInsight`.
pub fn describe_insight(ctx: &Ctx<'_>, name: &str, id: &str) -> EksResult<Value> {
    with_cluster(ctx, name, |c| {
        c.insights
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| json!({"insight": i}))
            .ok_or_else(|| {
                EksError::new(
                    ErrorCode::ResourceNotFound,
                    format!("No insight found for id: {id}"),
                )
                .cluster(name)
            })
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncryptionRequest {
    encryption_config: Vec<Value>,
    client_request_token: Option<String>,
}

/// `AssociateEncryptionConfig`: envelope encryption of Secrets, once per cluster (it cannot be removed or
/// changed: <https://docs.aws.amazon.com/eks/latest/APIReference/API_AssociateEncryptionConfig.html>).
pub fn associate_encryption_config(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let q: EncryptionRequest = ctx.body()?;
    let done_at = now_ms()
        + ctx
            .app
            .config()
            .timing
            .duration(Phase::ClusterConfig, ctx.app.config().time_scale)
            .as_millis() as u64;
    let [config] = &q.encryption_config[..] else {
        return Err(EksError::invalid("encryptionConfig must hold exactly one configuration").cluster(name));
    };
    if config["resources"] != json!(["secrets"]) || !config["provider"]["keyArn"].is_string() {
        return Err(
            EksError::invalid("encryptionConfig needs resources [\"secrets\"] and provider.keyArn")
                .cluster(name),
        );
    }
    with_cluster(ctx, name, |c| {
        if let Some(update) = retried(c, &UpdateTarget::Cluster, q.client_request_token.as_deref()) {
            return Ok(update);
        }
        if c.cluster
            .encryption_config
            .as_ref()
            .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            return Err(EksError::new(
                ErrorCode::InvalidRequest,
                "Encryption is already enabled on this cluster",
            )
            .cluster(name));
        }
        require_active(c, name)?;
        c.cluster.status = ClusterStatus::Updating;
        let wanted = json!([config]);
        Ok(start_update(
            c,
            UpdateTarget::Cluster,
            "AssociateEncryptionConfig",
            vec![("EncryptionConfig", wanted.to_string())],
            q.client_request_token.clone(),
            done_at,
            Change::Encryption(wanted),
        ))
    })
}
