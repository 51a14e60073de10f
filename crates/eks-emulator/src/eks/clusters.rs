//! Clusters: `CreateCluster`, `DescribeCluster`, `ListClusters`, `DeleteCluster`
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html> and siblings).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::access;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::*;
use crate::backend::BackendError;
use crate::timing::{Phase, now_ms};

/// At most this many clusters per region (EKS's default quota,
/// <https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html>).
const CLUSTERS_PER_REGION: usize = 100;

/// The control plane log types (<https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html>).
pub const LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    name: String,
    version: Option<String>,
    role_arn: String,
    resources_vpc_config: VpcConfigRequest,
    kubernetes_network_config: Option<Value>,
    logging: Option<Value>,
    client_request_token: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    encryption_config: Option<Value>,
    access_config: Option<AccessConfigRequest>,
    upgrade_policy: Option<Value>,
    zonal_shift_config: Option<Value>,
}

/// The `VpcConfigRequest` shape.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfigRequest {
    /// Subnets.
    #[serde(default)]
    pub subnet_ids: Option<Vec<String>>,
    /// Security groups.
    #[serde(default)]
    pub security_group_ids: Option<Vec<String>>,
    /// Public endpoint.
    pub endpoint_public_access: Option<bool>,
    /// Private endpoint.
    pub endpoint_private_access: Option<bool>,
    /// Public CIDRs.
    pub public_access_cidrs: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessConfigRequest {
    bootstrap_cluster_creator_admin_permissions: Option<bool>,
    authentication_mode: Option<AuthenticationMode>,
}

/// A name EKS accepts for clusters and node groups: `^[0-9A-Za-z][A-Za-z0-9\-_]*`, 1 to 100 characters.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 100
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Maps a backend failure during a check to the error EKS answers: what does not exist is the caller's
/// `InvalidParameterException`; an unreachable backend is a `ServerException`.
pub fn check_failed(err: BackendError, what: &str) -> EksError {
    match err {
        BackendError::Service { code, message } => EksError::invalid(format!("{what}: {code}: {message}")),
        BackendError::Unavailable(message) => EksError::new(ErrorCode::Server, message),
    }
}

/// The logging setup in EKS's normalized form: one group of enabled types, one of disabled types.
pub fn normalize_logging(requested: Option<&Value>) -> EksResult<Value> {
    let mut enabled = BTreeSet::new();
    let mut disabled = BTreeSet::new();
    for setup in requested
        .and_then(|l| l["clusterLogging"].as_array())
        .into_iter()
        .flatten()
    {
        let on = setup["enabled"].as_bool().unwrap_or(false);
        for kind in setup["types"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !LOG_TYPES.contains(&kind) {
                return Err(EksError::invalid(format!("Invalid log type {kind}")));
            }
            if on {
                disabled.remove(kind);
                enabled.insert(kind);
            } else {
                enabled.remove(kind);
                disabled.insert(kind);
            }
        }
    }
    let previous_or_default = LOG_TYPES.iter().filter(|t| !enabled.contains(*t)).copied();
    disabled.extend(previous_or_default);
    let mut groups = Vec::new();
    if !enabled.is_empty() {
        groups.push(json!({"types": enabled, "enabled": true}));
    }
    if !disabled.is_empty() {
        groups.push(json!({"types": disabled, "enabled": false}));
    }
    Ok(json!({"clusterLogging": groups}))
}

fn hex_id() -> String {
    format!("{:032X}", fastrand::u128(..))
}

/// `CreateCluster`: checks the request and the backend as EKS does, creates the control plane's security group
/// and interfaces in the backend, and records the cluster `CREATING`.
pub async fn create(ctx: &Ctx<'_>) -> EksResult<Value> {
    let q: CreateRequest = ctx.body()?;
    if !valid_name(&q.name) {
        return Err(EksError::invalid(format!(
            "The cluster name {} is invalid: it must match ^[0-9A-Za-z][A-Za-z0-9\\-_]* and be at most 100 characters",
            q.name
        )));
    }
    let version = q.version.clone().unwrap_or_else(|| DEFAULT_VERSION.to_owned());
    if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        return Err(EksError::invalid(format!("unsupported Kubernetes version {version}")).cluster(&q.name));
    }
    if let Some(existing) = existing(ctx, &q.name, q.client_request_token.as_deref())? {
        return Ok(json!({"cluster": existing}));
    }
    let mode = q
        .access_config
        .as_ref()
        .and_then(|a| a.authentication_mode)
        .unwrap_or(AuthenticationMode::ConfigMap);
    let bootstrap = q
        .access_config
        .as_ref()
        .and_then(|a| a.bootstrap_cluster_creator_admin_permissions)
        .unwrap_or(true);
    let logging = normalize_logging(q.logging.as_ref())?;
    let vpc = &q.resources_vpc_config;
    let public = vpc.endpoint_public_access.unwrap_or(true);
    let private = vpc.endpoint_private_access.unwrap_or(false);
    if !public && !private {
        return Err(EksError::invalid("The endpoint must be public, private, or both").cluster(&q.name));
    }
    let subnet_ids = vpc.subnet_ids.clone().unwrap_or_default();
    let group_ids = vpc.security_group_ids.clone().unwrap_or_default();

    // What EKS checks before it creates anything (CreateCluster "Errors"; subnet requirements:
    // https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
    let backend = ctx.app.backend(ctx.scope);
    if !backend
        .role_exists(&q.role_arn)
        .await
        .map_err(|e| check_failed(e, "roleArn"))?
    {
        return Err(EksError::invalid(format!(
            "Role with arn: {}, could not be assumed because it does not exist or the trusted entity is not correct",
            q.role_arn
        ))
        .cluster(&q.name));
    }
    let subnets = backend
        .subnets(&subnet_ids)
        .await
        .map_err(|e| check_failed(e, "subnetIds"))?;
    if let Some(missing) = subnet_ids.iter().find(|id| !subnets.iter().any(|s| &s.id == *id)) {
        return Err(EksError::invalid(format!("The subnet ID '{missing}' does not exist")).cluster(&q.name));
    }
    let zones: BTreeSet<&str> = subnets.iter().map(|s| s.zone.as_str()).collect();
    if zones.len() < 2 {
        return Err(
            EksError::invalid("Subnets specified must be in at least two different AZs").cluster(&q.name),
        );
    }
    let vpc_ids: BTreeSet<&str> = subnets.iter().map(|s| s.vpc_id.as_str()).collect();
    let [vpc_id] = vpc_ids.into_iter().collect::<Vec<_>>()[..] else {
        return Err(EksError::invalid("Subnets must all belong to the same VPC").cluster(&q.name));
    };
    let groups = backend
        .security_groups(&group_ids)
        .await
        .map_err(|e| check_failed(e, "securityGroupIds"))?;
    if let Some(missing) = group_ids.iter().find(|id| !groups.contains_key(*id)) {
        return Err(
            EksError::invalid(format!("The security group '{missing}' does not exist")).cluster(&q.name),
        );
    }
    if groups.values().any(|v| v != vpc_id) {
        return Err(
            EksError::invalid("Security groups must belong to the VPC of the subnets").cluster(&q.name),
        );
    }
    let (account, caller_arn) = backend
        .caller()
        .await
        .map_err(|e| check_failed(e, "caller identity"))?;
    let network = backend
        .create_control_plane_network(&q.name, vpc_id, &subnets, &group_ids)
        .await
        .map_err(|e| {
            EksError::new(
                ErrorCode::Server,
                format!("creating the control plane network: {e}"),
            )
        })?;

    let now = now_ms();
    let region = ctx.region().to_owned();
    let arn = format!("arn:aws:eks:{region}:{account}:cluster/{}", q.name);
    let kubernetes_network_config = json!({
        "serviceIpv4Cidr": q.kubernetes_network_config.as_ref()
            .and_then(|c| c["serviceIpv4Cidr"].as_str()).unwrap_or("172.20.0.0/16"),
        "ipFamily": q.kubernetes_network_config.as_ref()
            .and_then(|c| c["ipFamily"].as_str()).unwrap_or("ipv4"),
        "elasticLoadBalancing": {"enabled": false},
    });
    let cluster = Cluster {
        name: q.name.clone(),
        arn,
        created_at: seconds(now),
        version,
        endpoint: None,
        role_arn: q.role_arn.clone(),
        resources_vpc_config: VpcConfig {
            subnet_ids,
            security_group_ids: group_ids,
            cluster_security_group_id: network.cluster_security_group_id.clone(),
            vpc_id: vpc_id.to_owned(),
            endpoint_public_access: public,
            endpoint_private_access: private,
            public_access_cidrs: vpc
                .public_access_cidrs
                .clone()
                .unwrap_or_else(|| vec!["0.0.0.0/0".to_owned()]),
        },
        kubernetes_network_config,
        logging,
        identity: json!({"oidc": {"issuer": format!("https://oidc.eks.{region}.amazonaws.com/id/{}", hex_id())}}),
        status: ClusterStatus::Creating,
        certificate_authority: None,
        client_request_token: q.client_request_token.clone(),
        platform_version: "eks.1".to_owned(),
        tags: q.tags.clone(),
        encryption_config: q.encryption_config.clone(),
        health: json!({"issues": []}),
        access_config: AccessConfig {
            bootstrap_cluster_creator_admin_permissions: bootstrap,
            authentication_mode: mode,
        },
        upgrade_policy: q
            .upgrade_policy
            .clone()
            .unwrap_or_else(|| json!({"supportType": "EXTENDED"})),
        zonal_shift_config: q.zonal_shift_config.clone(),
    };
    let mut record = ClusterRecord {
        cluster: cluster.clone(),
        account: account.clone(),
        creator_arn: caller_arn.clone(),
        access_key: ctx.scope.access_key.clone(),
        ready_at: now
            + ctx
                .app
                .config()
                .timing
                .duration(Phase::ClusterCreate, ctx.app.config().time_scale)
                .as_millis() as u64,
        network,
        nodegroups: BTreeMap::new(),
        updates: Vec::new(),
        access_entries: BTreeMap::new(),
        insights: Vec::new(),
        pod_identity: BTreeMap::new(),
        addons: BTreeMap::new(),
        update_failures: Vec::new(),
    };
    // With an API mode and the bootstrap flag, EKS gives the creator an access entry with cluster admin
    // (https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html).
    if bootstrap && mode != AuthenticationMode::ConfigMap {
        access::bootstrap_creator(&mut record, &region, now);
    }
    let mut state = ctx.app.state();
    let regional = state.region(&region);
    if regional.clusters.contains_key(&q.name) || regional.clusters.len() >= CLUSTERS_PER_REGION {
        drop(state);
        let backend = ctx.app.backend(ctx.scope);
        let network = record.network.clone();
        tokio::spawn(async move {
            let _ = backend.delete_control_plane_network(&network).await;
        });
        return Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Cluster already exists with name: {}", q.name),
        )
        .cluster(&q.name));
    }
    regional.clusters.insert(q.name.clone(), record);
    Ok(json!({"cluster": cluster}))
}

/// The cluster a retried create names (same token), or the error for a name in use or a full region.
fn existing(ctx: &Ctx<'_>, name: &str, token: Option<&str>) -> EksResult<Option<Cluster>> {
    let mut state = ctx.app.state();
    let regional = state.region(ctx.region());
    if let Some(record) = regional.clusters.get(name) {
        if token.is_some() && record.cluster.client_request_token.as_deref() == token {
            return Ok(Some(record.cluster.clone()));
        }
        return Err(EksError::new(
            ErrorCode::ResourceInUse,
            format!("Cluster already exists with name: {name}"),
        )
        .cluster(name));
    }
    if regional.clusters.len() >= CLUSTERS_PER_REGION {
        return Err(EksError::new(
            ErrorCode::ResourceLimitExceeded,
            format!("Cannot create cluster {name}: the account has reached its limit of {CLUSTERS_PER_REGION} clusters in this region"),
        )
        .cluster(name));
    }
    Ok(None)
}

/// Runs `f` on cluster `name` of the caller's region, or answers `ResourceNotFoundException`.
pub fn with_cluster<T>(
    ctx: &Ctx<'_>,
    name: &str,
    f: impl FnOnce(&mut ClusterRecord) -> EksResult<T>,
) -> EksResult<T> {
    let mut state = ctx.app.state();
    let record = state
        .region(ctx.region())
        .clusters
        .get_mut(name)
        .ok_or_else(|| EksError::no_cluster(name))?;
    f(record)
}

/// `DescribeCluster`.
pub fn describe(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    with_cluster(ctx, name, |c| Ok(json!({"cluster": c.cluster})))
}

/// `ListClusters`.
pub fn list(ctx: &Ctx<'_>) -> EksResult<Value> {
    let names: Vec<String> = ctx
        .app
        .state()
        .region(ctx.region())
        .clusters
        .keys()
        .cloned()
        .collect();
    let (clusters, next) = super::page(ctx, names)?;
    Ok(json!({"clusters": clusters, "nextToken": next}))
}

/// `DeleteCluster`: refused while node groups exist or an update runs
/// (<https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html>: "If you have managed node
/// groups ... attached to the cluster, you must delete them first").
pub fn delete(ctx: &Ctx<'_>, name: &str) -> EksResult<Value> {
    let duration = ctx
        .app
        .config()
        .timing
        .duration(Phase::ClusterDelete, ctx.app.config().time_scale);
    with_cluster(ctx, name, |c| {
        if c.cluster.status == ClusterStatus::Deleting {
            return Ok(json!({"cluster": c.cluster}));
        }
        if !c.nodegroups.is_empty() {
            return Err(
                EksError::new(ErrorCode::ResourceInUse, "Cluster has nodegroups attached").cluster(name),
            );
        }
        if c.updates
            .iter()
            .any(|u| u.update.status == UpdateStatus::InProgress)
        {
            return Err(EksError::new(
                ErrorCode::ResourceInUse,
                format!("Cannot delete because cluster {name} currently has an update in progress"),
            )
            .cluster(name));
        }
        c.cluster.status = ClusterStatus::Deleting;
        c.ready_at = now_ms() + duration.as_millis() as u64;
        // EKS deletes the cluster's add-ons with it.
        for addon in c.addons.values_mut() {
            addon.status = AddonStatus::Deleting;
            addon.ready_at = c.ready_at;
        }
        Ok(json!({"cluster": c.cluster}))
    })
}
