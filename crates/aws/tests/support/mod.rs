//! Shared helpers of the integration tests: the seed object, converging passes, counting what exists.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use eks_api::{RegionName, ValidatedCluster};
use eks_aws::engine::{RecordedRegion, RegionPhase, RegionReport};
use eks_aws::instrument::{Instrument, InstrumentedProvider};
use eks_aws::moto::MotoServer;
use eks_aws::types::Filter;
use eks_aws::{AwsContext, ClientProvider, RegionClients, TeardownRequest, ensure_region, teardown_region};
use eks_plan::tags;

pub mod network;
pub mod scripted;

/// The owner uid the tests use.
pub const UID: &str = "0b5c7f3e-0000-4000-8000-000000000001";

/// The seed example's text.
pub fn seed_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/examples/cloudlad-two-regions.yaml"
    ))
    .unwrap()
}

/// Validates an EksCluster document with a uid.
pub fn cluster_from(text: &str, uid: &str) -> ValidatedCluster {
    let mut object = eks_api::parse::parse_documents(text).unwrap().remove(0);
    object.metadata.uid = Some(uid.to_owned());
    eks_api::validate(&object).unwrap()
}

/// The seed's two-region object.
pub fn seed() -> ValidatedCluster {
    cluster_from(&seed_text(), UID)
}

/// A region name.
pub fn region(name: &str) -> RegionName {
    RegionName::parse(name).unwrap()
}

/// The local AWS endpoint (eks-emulator in this process, `instant` timing so that each pass sees the previous
/// pass's changes completed) in front of moto: EKS and the EC2 calls moto lacks (`EnableVgwRoutePropagation`)
/// are served by the endpoint, the rest by moto.
pub struct Local {
    /// The endpoint.
    pub server: eks_emulator::Emulator,
    /// moto behind it.
    pub moto: MotoServer,
}

impl Local {
    /// `http://127.0.0.1:PORT` of the endpoint.
    pub fn endpoint(&self) -> String {
        self.server.url()
    }

    /// An SDK configuration on the endpoint with test credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        eks_aws::moto::local_sdk_config(&self.endpoint()).await
    }

    /// An SDK client provider on the endpoint.
    pub async fn provider(&self) -> Arc<eks_aws::SdkProvider> {
        Arc::new(eks_aws::SdkProvider::new(self.sdk_config().await))
    }

    /// Clears moto (`/moto-api/reset`) and replaces the endpoint with a fresh one (its EKS state would
    /// otherwise outlive moto's).
    pub async fn reset(&mut self) {
        self.moto.reset().unwrap();
        let fresh = start_endpoint(&self.moto).await;
        let old = std::mem::replace(&mut self.server, fresh);
        old.shutdown().await;
    }

    /// A context on the endpoint with the test engine options.
    pub async fn context(&self) -> AwsContext {
        AwsContext::new(self.provider().await).with_options(MotoServer::engine_options())
    }
}

/// Starts moto (or fails with the message naming the install script) and the endpoint in front of it.
pub async fn moto() -> Local {
    let moto = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    let server = start_endpoint(&moto).await;
    Local { server, moto }
}

async fn start_endpoint(moto: &MotoServer) -> eks_emulator::Emulator {
    let mut config = eks_emulator::Config::new(moto.endpoint());
    config.timing = eks_emulator::timing::Timing::Instant;
    eks_emulator::Emulator::start(config).await.unwrap()
}

/// A context on the endpoint whose calls all go through one instrument.
pub async fn instrumented(server: &Local) -> (AwsContext, Arc<Instrument>) {
    let instrument = Instrument::new();
    let provider = InstrumentedProvider::new(server.provider().await, instrument.clone());
    (
        AwsContext::new(Arc::new(provider)).with_options(MotoServer::engine_options()),
        instrument,
    )
}

/// Records a report the way the controller does.
pub fn record(recorded: &mut RecordedRegion, report: &RegionReport) {
    recorded.zones = report.zones.clone();
    recorded.node_groups = report.ids.node_groups.clone();
    recorded.in_progress = report.in_progress.clone();
    recorded.steady = report.phase == RegionPhase::Ready;
}

/// Runs passes until the region is Ready (panics on a terminal failure or after `max` passes).
pub async fn converge(
    ctx: &AwsContext,
    cluster: &ValidatedCluster,
    name: &str,
    recorded: &mut RecordedRegion,
    max: usize,
) -> RegionReport {
    let mut last = None;
    for _ in 0..max {
        let report = ensure_region(ctx, cluster, &region(name), recorded).await;
        record(recorded, &report);
        assert_ne!(report.phase, RegionPhase::Failed, "{:?}", report.error);
        if report.phase == RegionPhase::Ready {
            return report;
        }
        last = Some(report);
    }
    panic!("{name} not Ready after {max} passes: {last:#?}");
}

/// Runs teardown passes until nothing owned is left (panics on an error); false when `max` passes did not
/// get there.
pub async fn tear_down(ctx: &AwsContext, request: &TeardownRequest, max: usize) -> bool {
    for _ in 0..max {
        let report = teardown_region(ctx, request).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        if report.gone {
            return true;
        }
    }
    false
}

/// Plain (uninstrumented) clients of a region on moto, for checking through the AWS API.
pub async fn plain_clients(server: &Local, name: &str) -> RegionClients {
    server
        .provider()
        .await
        .region_clients(&region(name), None)
        .await
        .unwrap()
}

/// How many of each resource carry the owner-uid tag.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub vpcs: usize,
    pub subnets: usize,
    pub internet_gateways: usize,
    pub vpn_gateways: usize,
    pub addresses: usize,
    pub nat_gateways: usize,
    pub route_tables: usize,
    pub security_groups: usize,
    pub clusters: usize,
    pub node_groups: usize,
    pub roles: usize,
    pub oidc_providers: usize,
}

/// What one seed region holds when Ready.
pub fn seed_inventory() -> Inventory {
    Inventory {
        vpcs: 1,
        subnets: 6,
        internet_gateways: 1,
        vpn_gateways: 1,
        addresses: 1,
        nat_gateways: 1,
        route_tables: 2,
        security_groups: 2,
        clusters: 1,
        node_groups: 1,
        roles: 2,
        oidc_providers: 1,
    }
}

/// Counts what carries `uid` in a region (live NAT and VPN gateways only), through the AWS API.
pub async fn inventory(clients: &RegionClients, uid: &str, cluster_id: &str) -> Inventory {
    let f = [Filter::tag(tags::OWNER_UID, uid)];
    let ec2 = &clients.ec2;
    let cluster = clients.eks.describe_cluster(cluster_id).await.unwrap();
    let node_groups = match &cluster {
        Some(c) => clients.eks.list_nodegroups(&c.name).await.unwrap().len(),
        None => 0,
    };
    let mut roles = 0;
    for prefix in ["eks-cluster", "eks-worker"] {
        if let Some(role) = clients
            .iam
            .get_role(&format!("{prefix}-{cluster_id}"))
            .await
            .unwrap()
        {
            roles += usize::from(role.tags.get(tags::OWNER_UID).map(String::as_str) == Some(uid));
        }
    }
    let mut oidc_providers = 0;
    for arn in clients.iam.list_oidc_providers().await.unwrap() {
        if let Some(p) = clients.iam.get_oidc_provider(&arn).await.unwrap() {
            oidc_providers += usize::from(
                p.tags.get(tags::CLUSTER_ID).map(String::as_str) == Some(cluster_id)
                    && p.tags.get(tags::OWNER_UID).map(String::as_str) == Some(uid),
            );
        }
    }
    Inventory {
        vpcs: ec2.describe_vpcs(&f).await.unwrap().len(),
        subnets: ec2.describe_subnets(&f).await.unwrap().len(),
        internet_gateways: ec2.describe_internet_gateways(&f).await.unwrap().len(),
        vpn_gateways: ec2
            .describe_vpn_gateways(&f)
            .await
            .unwrap()
            .iter()
            .filter(|g| g.state != "deleted")
            .count(),
        addresses: ec2.describe_addresses(&f).await.unwrap().len(),
        nat_gateways: ec2
            .describe_nat_gateways(&f)
            .await
            .unwrap()
            .iter()
            .filter(|n| n.is_live())
            .count(),
        route_tables: ec2.describe_route_tables(&f).await.unwrap().len(),
        security_groups: ec2.describe_security_groups(&f).await.unwrap().len(),
        clusters: usize::from(
            cluster.is_some_and(|c| c.tags.get(tags::OWNER_UID).map(String::as_str) == Some(uid)),
        ),
        node_groups,
        roles,
        oidc_providers,
    }
}
