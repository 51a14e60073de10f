//! One `ensure` pass over one region, and all regions of an object concurrently.

use std::collections::BTreeMap;

use eks_api::{RegionConfig, RegionName, ValidatedCluster, ZoneSelection};
use futures::future::join_all;

use super::errors::EngineError;
use super::pass::Pass;
use super::report::{Progress, RecordedRegion, RegionIds, RegionPhase, RegionReport};
use super::{access, cluster, iam, network, nodegroups, oidc, security_groups};
use crate::context::{AwsContext, RegionClients};

/// The zones of a region: the spec's names; or, when the spec counts them, the zones recorded at the first
/// pass; or the first `n` available zones of type `availability-zone` sorted by name (one call).
pub async fn select_zones(
    clients: &RegionClients,
    config: &RegionConfig,
    recorded: &RecordedRegion,
) -> Result<Vec<String>, EngineError> {
    let wanted = match &config.network.zones {
        ZoneSelection::Named(names) => return Ok(names.clone()),
        ZoneSelection::Count(n) => usize::from(*n),
    };
    if recorded.zones.len() == wanted {
        return Ok(recorded.zones.clone());
    }
    let mut zones: Vec<String> = clients
        .ec2
        .describe_availability_zones()
        .await?
        .into_iter()
        .filter(|z| z.state == "available" && z.zone_type == "availability-zone")
        .map(|z| z.name)
        .collect();
    zones.sort();
    if zones.len() < wanted {
        return Err(EngineError::NotEnoughZones {
            region: config.region.to_string(),
            wanted,
            available: zones.len(),
        });
    }
    zones.truncate(wanted);
    Ok(zones)
}

/// Runs one `ensure` pass over one region: observe, compare with the plan, create or repair what differs,
/// and report what is in progress. Never waits for AWS.
pub async fn ensure_region(
    ctx: &AwsContext,
    cluster: &ValidatedCluster,
    region: &RegionName,
    recorded: &RecordedRegion,
) -> RegionReport {
    let mut report = RegionReport {
        region: region.to_string(),
        cluster_id: cluster.region(region).map(|c| c.cluster_id.to_string()),
        account_id: None,
        phase: RegionPhase::Provisioning,
        zones: recorded.zones.clone(),
        ids: RegionIds::default(),
        in_progress: Vec::new(),
        blocking: Vec::new(),
        actions: Vec::new(),
        progress: Progress::None,
        error: None,
        requeue_after: None,
    };
    let result = run(ctx, cluster, region, recorded, &mut report).await;
    report.progress = Progress::of_pass(
        &report.actions,
        result.is_ok(),
        &report.in_progress,
        &recorded.in_progress,
    );
    report.phase = match &result {
        Ok(()) if report.in_progress.is_empty() && report.blocking.is_empty() => RegionPhase::Ready,
        Ok(()) => RegionPhase::Provisioning,
        Err(e) if e.is_retryable() => RegionPhase::Provisioning,
        Err(_) => RegionPhase::Failed,
    };
    if let Err(e) = result {
        tracing::warn!(region = %region, reason = e.reason(), "ensure stopped: {e}");
        report.error = Some(e);
    }
    if report.phase != RegionPhase::Ready {
        report.requeue_after = Some(ctx.options.progress_requeue);
    }
    report
}

/// Ensures every region of the object concurrently; one failing region does not hold the others back.
/// `recorded` maps region names to what the caller recorded.
pub async fn ensure_regions(
    ctx: &AwsContext,
    cluster: &ValidatedCluster,
    recorded: &BTreeMap<String, RecordedRegion>,
) -> Vec<RegionReport> {
    let empty = RecordedRegion::default();
    join_all(cluster.regions().iter().map(|config| {
        let recorded = recorded.get(config.region.as_str()).unwrap_or(&empty);
        ensure_region(ctx, cluster, &config.region, recorded)
    }))
    .await
}

async fn run(
    ctx: &AwsContext,
    cluster: &ValidatedCluster,
    region: &RegionName,
    recorded: &RecordedRegion,
    report: &mut RegionReport,
) -> Result<(), EngineError> {
    if cluster.uid().is_none() {
        return Err(EngineError::Plan("the object has no metadata.uid yet".into()));
    }
    let config = cluster
        .region(region)
        .ok_or_else(|| EngineError::Plan(format!("region {region} is not in spec.regions")))?;
    let credentials = cluster.spec().credentials.as_ref();
    let clients = ctx.clients(region, credentials).await?;
    let identity = ctx.identity(&clients, credentials).await?;
    report.account_id = Some(identity.account.clone());
    let zones = select_zones(&clients, config, recorded).await?;
    report.zones = zones.clone();
    let plan = eks_plan::plan_region(cluster, region, &zones, Some(&identity.account))
        .map_err(|e| EngineError::Plan(e.to_string()))?;
    let mut pass = Pass::new(ctx, &clients, &plan);
    let result = steps(&mut pass, recorded, &identity.account).await;
    report.ids = pass.ids;
    report.in_progress = pass.in_progress;
    report.blocking = pass.blocking;
    report.actions = pass.actions;
    result
}

async fn steps(pass: &mut Pass<'_>, recorded: &RecordedRegion, account: &str) -> Result<(), EngineError> {
    iam::ensure(pass).await?;
    network::ensure(pass).await?;
    let Some(vpc_id) = pass.ids.vpc_id.clone() else {
        return Ok(());
    };
    security_groups::ensure(pass, &vpc_id).await?;
    let state = cluster::ensure(pass).await?;
    let Some(active) = state.active else {
        return Ok(());
    };
    oidc::ensure(pass, &active, account).await?;
    if state.changed {
        pass.ids.node_groups = recorded.node_groups.clone();
        return Ok(());
    }
    let current = nodegroups::ensure(pass, &active, recorded).await?;
    let upgrading = cluster::upgrade(pass, &active, current).await?;
    if !upgrading {
        access::ensure(pass, &active).await?;
    }
    Ok(())
}
