//! Crashes and lost responses against moto: whatever happens, exactly one of each resource results.
#![allow(clippy::unwrap_used)]

mod support;

use eks_aws::engine::RecordedRegion;
use eks_aws::instrument::{Fault, FaultRule};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_after_every_kth_mutation_then_resume_leaves_exactly_one_of_each() {
    let mut server = moto().await;
    let cluster = seed();
    // How many mutations a full build of the region takes.
    let (ctx, instrument) = instrumented(&server).await;
    converge(&ctx, &cluster, REGION, &mut RecordedRegion::default(), 10).await;
    let total = instrument.stats().mutations;
    assert!(total > 20, "{}", instrument.stats().summary());

    for k in 1..=total {
        server.reset().await;
        let (ctx, instrument) = instrumented(&server).await;
        instrument.stop_after_mutations(k);
        let mut recorded = RecordedRegion::default();
        for _ in 0..10 {
            let report = eks_aws::ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
            record(&mut recorded, &report);
            if instrument.stopped() {
                break;
            }
        }
        assert!(instrument.stopped(), "k={k}: the build needed fewer mutations");
        // A fresh engine (new context, nothing carried over but the recorded zones) finishes the job.
        let (fresh, _) = instrumented(&server).await;
        converge(&fresh, &cluster, REGION, &mut recorded, 10).await;
        let clients = plain_clients(&server, REGION).await;
        assert_eq!(
            inventory(&clients, UID, ID).await,
            seed_inventory(),
            "after stopping at mutation {k}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_responses_and_throttling_leave_exactly_one_of_each() {
    let server = moto().await;
    let cluster = seed();
    let (ctx, instrument) = instrumented(&server).await;
    // Every third mutation is applied but answered with a 500; every fourth call is throttled.
    instrument.inject(FaultRule::every(3, true, Fault::LostResponse));
    instrument.inject(FaultRule::every(4, false, Fault::Throttle));
    let mut recorded = RecordedRegion::default();
    let mut errors = 0;
    for _ in 0..80 {
        let report = eks_aws::ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        if let Some(error) = &report.error {
            assert!(error.is_retryable(), "{error}");
            errors += 1;
        }
        if report.phase == eks_aws::RegionPhase::Ready {
            break;
        }
    }
    assert!(errors > 5, "faults were not injected");
    instrument.clear_faults();
    converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
    let clients = plain_clients(&server, REGION).await;
    assert_eq!(inventory(&clients, UID, ID).await, seed_inventory());
}
