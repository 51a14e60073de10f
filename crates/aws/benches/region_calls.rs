//! Benchmark: AWS calls and wall time for one region of the seed example against moto — a first build, a
//! no-change reconcile, and a teardown. Not a test: it prints figures (quoted in the README).
//!
//! `cargo bench -p eks-aws --bench region_calls`
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::instrument::{CallStats, Instrument, InstrumentedProvider};
use eks_aws::moto::MotoServer;
use eks_aws::{AwsContext, TeardownRequest, ensure_region, teardown_region};

fn line(what: &str, passes: usize, stats: &CallStats, millis: u128) {
    println!(
        "{what:<22} passes={passes:<2} calls={:<4} reads={:<4} mutations={:<4} wall={millis} ms",
        stats.total(),
        stats.reads,
        stats.mutations
    );
}

#[tokio::main]
async fn main() {
    let server = MotoServer::start().unwrap_or_else(|e| panic!("{e}"));
    // The local AWS endpoint in front of moto (EKS and `EnableVgwRoutePropagation`), every transition at once.
    let mut config = eks_emulator::Config::new(server.endpoint());
    config.timing = eks_emulator::timing::Timing::Instant;
    let endpoint = eks_emulator::Emulator::start(config).await.unwrap();
    let sdk = eks_aws::moto::local_sdk_config(&endpoint.url()).await;
    let instrument = Instrument::new();
    let provider = InstrumentedProvider::new(Arc::new(eks_aws::SdkProvider::new(sdk)), instrument.clone());
    let ctx = AwsContext::new(Arc::new(provider)).with_options(MotoServer::engine_options());
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/examples/cloudlad-two-regions.yaml"
    ))
    .unwrap();
    let mut object = eks_api::parse::parse_documents(&text).unwrap().remove(0);
    object.metadata.uid = Some("bench-uid".into());
    let cluster = eks_api::validate(&object).unwrap();
    let region = eks_api::RegionName::parse("eu-west-1").unwrap();
    let mut recorded = RecordedRegion::default();

    let start = Instant::now();
    let mut passes = 0;
    loop {
        passes += 1;
        let report = ensure_region(&ctx, &cluster, &region, &recorded).await;
        recorded.zones = report.zones.clone();
        recorded.node_groups = report.ids.node_groups.clone();
        recorded.steady = report.phase == RegionPhase::Ready;
        if report.phase == RegionPhase::Ready || passes == 10 {
            break;
        }
    }
    line(
        "first build",
        passes,
        &instrument.stats(),
        start.elapsed().as_millis(),
    );

    instrument.reset_stats();
    let start = Instant::now();
    let report = ensure_region(&ctx, &cluster, &region, &recorded).await;
    assert_eq!(report.phase, RegionPhase::Ready);
    let oidc_provider_arn = report.ids.oidc_provider_arn.clone();
    line(
        "no-change reconcile",
        1,
        &instrument.stats(),
        start.elapsed().as_millis(),
    );
    println!("  {}", instrument.stats().summary());

    instrument.reset_stats();
    let start = Instant::now();
    let request = TeardownRequest {
        owner_uid: "bench-uid".into(),
        region,
        cluster_id: Some("eu-west-1-test-cloudlad".into()),
        oidc_provider_arn,
        credentials: None,
        deletion_policy: eks_api::DeletionPolicy::Delete,
    };
    let mut passes = 0;
    loop {
        passes += 1;
        let report = teardown_region(&ctx, &request).await;
        if report.gone || passes == 10 {
            break;
        }
    }
    line(
        "teardown",
        passes,
        &instrument.stats(),
        start.elapsed().as_millis(),
    );
}
