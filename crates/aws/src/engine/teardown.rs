//! Teardown of one region in dependency order: node groups → cluster → OIDC provider → NAT gateways (until
//! deleted, across passes) → elastic IPs → VPN/internet gateways → route tables, leftover network
//! interfaces, subnets, security groups → IAM roles → VPC (last: its cluster-id tag finds the rest when no id
//! was recorded). Only what carries this object's owner-uid tag is touched; `DeletionPolicy::Retain` makes no
//! call at all.

use std::time::Duration;

use eks_api::{ClusterId, CredentialsSpec, DeletionPolicy, RegionName};
use eks_plan::tags;
use futures::future::join_all;

use super::errors::EngineError;
use super::pass::{Action, Verb, owner_filters};
use super::report::Progress;
use super::{cluster, iam, network, nodegroups, oidc, security_groups};
use crate::context::{AwsContext, RegionClients};
use crate::types::Filter;

/// What a teardown needs: ownership and the cluster id (from status, or found through the tags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeardownRequest {
    /// The owning object's uid (the owner-uid tag value).
    pub owner_uid: String,
    /// The region.
    pub region: RegionName,
    /// The regional cluster id as recorded; `None` looks it up through the VPC's tags.
    pub cluster_id: Option<String>,
    /// The OIDC provider's ARN as recorded; `None` looks through the account's providers (one read per
    /// provider of the region, so a large account pays for a lost status).
    pub oidc_provider_arn: Option<String>,
    /// The role to assume, if any.
    pub credentials: Option<CredentialsSpec>,
    /// Delete or Retain.
    pub deletion_policy: DeletionPolicy,
}

/// The result of one teardown pass.
#[derive(Clone, Debug, PartialEq)]
pub struct TeardownReport {
    /// The region.
    pub region: String,
    /// True when nothing owned by the object is left (or Retain).
    pub gone: bool,
    /// What is still being deleted.
    pub in_progress: Vec<String>,
    /// What blocks deletion and needs attention (network interfaces in use, ...).
    pub blocking: Vec<String>,
    /// What the pass did, also when it then failed.
    pub actions: Vec<Action>,
    /// Whether the pass deleted something (or moved a deletion forward), also when it then failed.
    pub progress: Progress,
    /// Why the pass stopped, if it did.
    pub error: Option<EngineError>,
    /// When to look again.
    pub requeue_after: Option<Duration>,
}

/// One teardown pass.
pub(crate) struct TeardownPass<'a> {
    pub clients: &'a RegionClients,
    pub owner_uid: &'a str,
    pub cluster_id: &'a str,
    pub oidc_provider_arn: Option<&'a str>,
    pub filters: Vec<Filter>,
    pub in_progress: Vec<String>,
    pub blocking: Vec<String>,
    pub actions: Vec<Action>,
}

impl TeardownPass<'_> {
    pub fn did(&mut self, verb: Verb, resource: impl Into<String>) {
        let resource = resource.into();
        tracing::info!(region = %self.clients.region, cluster = %self.cluster_id, "{} {resource}", verb.as_str());
        self.actions.push(Action { verb, resource });
    }

    pub fn waiting(&mut self, what: impl Into<String>) {
        self.in_progress.push(what.into());
    }
}

fn cluster_id_of(region: &RegionName, id: &str) -> Option<ClusterId> {
    let rest = id.strip_prefix(region.as_str())?.strip_prefix('-')?;
    ClusterId::new(region, None, rest).ok()
}

/// Runs one teardown pass over one region.
pub async fn teardown_region(ctx: &AwsContext, request: &TeardownRequest) -> TeardownReport {
    let mut report = TeardownReport {
        region: request.region.to_string(),
        gone: false,
        in_progress: Vec::new(),
        blocking: Vec::new(),
        actions: Vec::new(),
        progress: Progress::None,
        error: None,
        requeue_after: None,
    };
    if request.deletion_policy == DeletionPolicy::Retain {
        report.gone = true;
        return report;
    }
    match run(ctx, request, &mut report).await {
        Ok(gone) => report.gone = gone,
        Err(e) => report.error = Some(e),
    }
    // A teardown pass that deleted something, or found nothing left, moved forward.
    report.progress = if report.gone || !report.actions.is_empty() {
        Progress::Made
    } else {
        Progress::None
    };
    if !report.gone {
        report.requeue_after = Some(ctx.options.progress_requeue);
    }
    report
}

/// Tears several regions down concurrently; one failing region does not hold the others back.
pub async fn teardown_regions(ctx: &AwsContext, requests: &[TeardownRequest]) -> Vec<TeardownReport> {
    join_all(requests.iter().map(|r| teardown_region(ctx, r))).await
}

async fn run(
    ctx: &AwsContext,
    request: &TeardownRequest,
    report: &mut TeardownReport,
) -> Result<bool, EngineError> {
    let clients = ctx.clients(&request.region, request.credentials.as_ref()).await?;
    let cluster_id = match &request.cluster_id {
        Some(id) => id.clone(),
        None => {
            let vpcs = clients
                .ec2
                .describe_vpcs(&[Filter::tag(tags::OWNER_UID, &request.owner_uid)])
                .await?;
            match vpcs.iter().find_map(|v| v.tags.get(tags::CLUSTER_ID)) {
                Some(id) => id.clone(),
                None => return Ok(true),
            }
        }
    };
    let mut tp = TeardownPass {
        clients: &clients,
        owner_uid: &request.owner_uid,
        cluster_id: &cluster_id,
        oidc_provider_arn: request.oidc_provider_arn.as_deref(),
        filters: owner_filters(&request.owner_uid, &cluster_id),
        in_progress: Vec::new(),
        blocking: Vec::new(),
        actions: Vec::new(),
    };
    let result = steps(&mut tp, &request.region).await;
    report.in_progress = tp.in_progress;
    report.blocking = tp.blocking;
    report.actions = tp.actions;
    result
}

async fn steps(tp: &mut TeardownPass<'_>, region: &RegionName) -> Result<bool, EngineError> {
    let cluster_id = tp.cluster_id.to_owned();
    let eks_cluster = tp.clients.eks.describe_cluster(&cluster_id).await?;
    let ours = eks_cluster
        .as_ref()
        .is_some_and(|c| c.tags.get(tags::OWNER_UID).map(String::as_str) == Some(tp.owner_uid));
    if ours {
        if !nodegroups::teardown(tp, &cluster_id).await? {
            return Ok(false);
        }
        if !cluster::teardown(tp, &cluster_id).await? {
            return Ok(false);
        }
    }
    oidc::teardown(tp).await?;

    let view = network::observe(tp.clients.ec2.as_ref(), &tp.filters).await?;
    if !network::teardown::nat_gateways(tp, &view).await? {
        return Ok(false);
    }
    network::teardown::addresses(tp, &view).await?;
    let gateways_gone = network::teardown::gateways(tp, &view).await?;
    network::teardown::route_tables(tp, &view).await?;
    let mut clear = true;
    for vpc in &view.vpcs {
        clear &= network::teardown::leftover_interfaces(tp, &vpc.id).await?;
    }
    let subnets_gone = network::teardown::subnets(tp, &view).await?;
    let vpc_id = view.vpcs.first().map(|v| v.id.clone());
    let groups_gone = security_groups::teardown(tp, vpc_id.as_deref()).await?;
    // The roles go before the VPC: the VPC's cluster-id tag is how a teardown without a recorded cluster id finds
    // the rest, so it stays until nothing else is left (a pass that deleted the VPC and then lost the answer of a
    // role call would otherwise leave the roles unfindable).
    let roles_gone = match cluster_id_of(region, &cluster_id) {
        Some(id) => iam::teardown(tp, &id).await?,
        None => true,
    };
    let vpcs_gone = roles_gone
        && gateways_gone
        && subnets_gone
        && groups_gone
        && network::teardown::vpcs(tp, &view).await?;
    Ok(clear && vpcs_gone && roles_gone && tp.blocking.is_empty())
}
