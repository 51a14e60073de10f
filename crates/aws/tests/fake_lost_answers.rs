//! A lost answer to any mutating call the engine makes, on the in-memory fake: the call is applied, the
//! engine gets a 500, and the next pass finds what the call did (by tag, by name, or by the "already done"
//! answer of a repeat) instead of failing or making it twice. One lost answer costs at most one pass.
#![allow(clippy::unwrap_used)]

mod support;

use eks_api::DeletionPolicy;
use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::fake::{FakeAws, FakeConfig};
use eks_aws::instrument::{Fault, FaultRule};
use eks_aws::{TeardownRequest, ensure_region, teardown_region};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

fn fake() -> FakeAws {
    FakeAws::new(FakeConfig::default())
}

/// The teardown request; `recorded_id` false is an object whose status lost the cluster id (found through the
/// VPC's tags then).
fn teardown_request(recorded_id: bool) -> TeardownRequest {
    TeardownRequest {
        owner_uid: UID.to_owned(),
        region: region(REGION),
        cluster_id: recorded_id.then(|| ID.to_owned()),
        oidc_provider_arn: None,
        credentials: None,
        deletion_policy: DeletionPolicy::Delete,
    }
}

/// The mutating operations in a fake's call counts (`service:Operation` keys), as fault rule names.
fn mutating_operations(aws: &FakeAws) -> Vec<&'static str> {
    aws.instrument()
        .stats()
        .by_operation
        .keys()
        .filter_map(|key| key.split_once(':').map(|(_, op)| op.to_owned()))
        .filter(|op| !["Describe", "Get", "List"].iter().any(|r| op.starts_with(r)))
        .map(|op| &*Box::leak(op.into_boxed_str()))
        .collect()
}

/// Ensure passes until Ready; returns (passes, passes that failed with the injected lost answer).
async fn build(aws: &FakeAws, recorded: &mut RecordedRegion, max: usize) -> (usize, usize) {
    let ctx = aws.context();
    let mut lost = 0;
    for pass in 1..=max {
        let report = ensure_region(&ctx, &seed(), &region(REGION), recorded).await;
        record(recorded, &report);
        if let Some(error) = &report.error {
            assert!(
                error.to_string().contains("response was lost"),
                "pass {pass}: {error}"
            );
            lost += 1;
        }
        if report.phase == RegionPhase::Ready {
            return (pass, lost);
        }
    }
    panic!("not Ready after {max} passes");
}

/// Teardown passes until gone; returns (passes, passes that failed with the injected lost answer).
async fn destroy(aws: &FakeAws, recorded_id: bool, max: usize) -> (usize, usize) {
    let ctx = aws.context();
    let mut lost = 0;
    for pass in 1..=max {
        let report = teardown_region(&ctx, &teardown_request(recorded_id)).await;
        if let Some(error) = &report.error {
            assert!(
                error.to_string().contains("response was lost"),
                "pass {pass}: {error}"
            );
            lost += 1;
        }
        if report.gone && report.error.is_none() {
            return (pass, lost);
        }
    }
    panic!("not gone after {max} teardown passes");
}

#[tokio::test]
async fn a_lost_answer_to_any_build_call_is_found_again_by_the_next_pass() {
    let clean = fake();
    let (clean_passes, _) = build(&clean, &mut RecordedRegion::default(), 40).await;
    let operations = mutating_operations(&clean);
    assert!(operations.len() >= 15, "{operations:?}");
    for op in operations {
        let aws = fake();
        aws.instrument()
            .inject(FaultRule::on(op, Fault::LostResponse).times(1));
        let (passes, lost) = build(&aws, &mut RecordedRegion::default(), 40).await;
        assert_eq!(lost, 1, "{op}: the lost answer failed one pass");
        assert!(
            passes <= clean_passes + 1,
            "{op}: {passes} passes, {clean_passes} without the fault"
        );
        let clients = aws.raw_clients(&region(REGION));
        assert_eq!(inventory(&clients, UID, ID).await, seed_inventory(), "{op}");
    }
}

#[tokio::test]
async fn a_lost_answer_to_any_teardown_call_is_found_again_by_the_next_pass() {
    lost_teardown_answers(true).await;
}

/// Without a recorded cluster id the teardown finds the rest through the VPC's cluster-id tag, so the VPC must
/// outlive everything else: a lost answer after it was deleted would leave the roles unfindable.
#[tokio::test]
async fn a_lost_answer_to_any_teardown_call_is_found_again_when_status_lost_the_cluster_id() {
    lost_teardown_answers(false).await;
}

async fn lost_teardown_answers(recorded_id: bool) {
    let clean = fake();
    build(&clean, &mut RecordedRegion::default(), 40).await;
    clean.instrument().reset_stats();
    let (clean_passes, _) = destroy(&clean, recorded_id, 40).await;
    let operations = mutating_operations(&clean);
    assert!(operations.len() >= 10, "{operations:?}");
    for op in operations {
        let aws = fake();
        build(&aws, &mut RecordedRegion::default(), 40).await;
        aws.instrument()
            .inject(FaultRule::on(op, Fault::LostResponse).times(1));
        let (passes, lost) = destroy(&aws, recorded_id, 40).await;
        assert_eq!(lost, 1, "{op}: the lost answer failed one pass");
        assert!(
            passes <= clean_passes + 1,
            "{op}: {passes} teardown passes, {clean_passes} without the fault"
        );
        let clients = aws.raw_clients(&region(REGION));
        assert_eq!(inventory(&clients, UID, ID).await, Inventory::default(), "{op}");
    }
}
