//! Converging under AWS brown-outs, through the real SDK and the engine, against moto behind the tests' own
//! fault proxy (`crates/fault-proxy`): every k-th request is throttled with the service's own error, the
//! answer of every m-th mutation is lost after moto applied it. A single region with three zones, a NAT
//! gateway per zone and a VPN gateway must reach Ready within a number of passes computed from the clean
//! run and the faults the proxy injected, hold exactly one of each resource, make no mutating call in
//! drift passes after Ready, and tear down cleanly under the same faults.
//!
//! moto 5.2 lacks `EnableVgwRoutePropagation`, so these tests use the moto harness's engine options
//! ([`MotoServer::engine_options`], propagation off) like the other moto tests.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use eks_api::{DeletionPolicy, ValidatedCluster};
use eks_aws::context::configure;
use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::moto::MotoServer;
use eks_aws::{AwsContext, SdkProvider, TeardownRequest, ensure_region, teardown_region};
use fault_proxy::{FaultProxy, Faults};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-brownout";

/// One region, three zones, a NAT gateway per zone, a VPN gateway.
fn brownout_cluster() -> ValidatedCluster {
    cluster_from(
        r#"
apiVersion: eksoperator.io/v1alpha1
kind: EksCluster
metadata: {name: brownout, namespace: default}
spec:
  regions: [eu-west-1]
  stage: test
  kubernetesVersion: "1.31"
  network:
    vpcCidr: 10.0.0.0/16
    availabilityZones: 3
    topology: PublicAndPrivate
    natGateways: OnePerAz
    vpnGateway: true
  nodeGroups:
    - {name: workers, instanceTypes: [t3.medium], minSize: 1, maxSize: 3, desiredSize: 2}
  deletionPolicy: Delete
"#,
        UID,
    )
}

fn full_inventory() -> Inventory {
    Inventory {
        vpcs: 1,
        subnets: 6,
        internet_gateways: 1,
        vpn_gateways: 1,
        addresses: 3,
        nat_gateways: 3,
        route_tables: 4,
        security_groups: 2,
        clusters: 1,
        node_groups: 1,
        roles: 2,
        oidc_providers: 1,
    }
}

/// An engine context whose SDK clients talk to moto through the proxy.
async fn through(proxy: &FaultProxy) -> AwsContext {
    let config = configure(aws_config::defaults(BehaviorVersion::latest()))
        .endpoint_url(proxy.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await;
    AwsContext::new(Arc::new(SdkProvider::new(config))).with_options(MotoServer::engine_options())
}

fn teardown_request() -> TeardownRequest {
    TeardownRequest {
        owner_uid: UID.to_owned(),
        region: region(REGION),
        cluster_id: None,
        oidc_provider_arn: None,
        credentials: None,
        deletion_policy: DeletionPolicy::Delete,
    }
}

/// What a run took: passes, failed passes.
#[derive(Debug, Default)]
struct Run {
    passes: u64,
    failed: u64,
}

/// Ensure passes until Ready (at most `max`); a failed pass must be retryable.
async fn build(ctx: &AwsContext, cluster: &ValidatedCluster, recorded: &mut RecordedRegion, max: u64) -> Run {
    let mut run = Run::default();
    while run.passes < max {
        let report = ensure_region(ctx, cluster, &region(REGION), recorded).await;
        record(recorded, &report);
        run.passes += 1;
        if let Some(error) = &report.error {
            assert!(error.is_retryable(), "pass {}: {error}", run.passes);
            run.failed += 1;
        }
        if report.phase == RegionPhase::Ready {
            return run;
        }
    }
    panic!("not Ready after {max} passes: {recorded:#?}");
}

/// Teardown passes until gone (at most `max`); a failed pass must be retryable.
async fn destroy(ctx: &AwsContext, max: u64) -> Run {
    let mut run = Run::default();
    while run.passes < max {
        let report = teardown_region(ctx, &teardown_request()).await;
        run.passes += 1;
        if let Some(error) = &report.error {
            assert!(error.is_retryable(), "teardown pass {}: {error}", run.passes);
            run.failed += 1;
        }
        if report.gone && report.error.is_none() {
            return run;
        }
    }
    panic!("not gone after {max} teardown passes");
}

/// The clean run: how many passes a build and a teardown take without faults.
async fn clean_passes(server: &MotoServer, cluster: &ValidatedCluster) -> (u64, u64) {
    let proxy = FaultProxy::start(&server.endpoint(), Faults::NONE).await.unwrap();
    let ctx = through(&proxy).await;
    let built = build(&ctx, cluster, &mut RecordedRegion::default(), 20).await;
    assert_eq!(built.failed, 0);
    let torn = destroy(&ctx, 20).await;
    assert_eq!(torn.failed, 0);
    server.reset().unwrap();
    (built.passes, torn.passes)
}

async fn converge_under(k: u64, m: u64) {
    let server = moto();
    let cluster = brownout_cluster();
    let (build_passes, teardown_passes) = clean_passes(&server, &cluster).await;

    let proxy = FaultProxy::start(&server.endpoint(), Faults::new(k, m))
        .await
        .unwrap();
    let ctx = through(&proxy).await;
    let mut recorded = RecordedRegion::default();
    let built = build(&ctx, &cluster, &mut recorded, 400).await;
    let counts = proxy.counts();
    assert!(
        counts.throttled() > 0 && counts.lost() > 0,
        "k={k} m={m}: faults were injected: {counts:?}"
    );
    // Each failed pass was stopped by a fault the SDK did not absorb, and the passes that did not fail are
    // never more than the clean run needed: no fault leads to extra work or to a loop.
    let faults = counts.throttled() + counts.lost();
    assert!(
        built.failed <= faults,
        "k={k} m={m}: {} failed passes for {faults} faults",
        built.failed
    );
    assert!(
        built.passes - built.failed <= build_passes,
        "k={k} m={m}: {} passes that did not fail, the clean run needed {build_passes}",
        built.passes - built.failed
    );
    let direct = plain_clients(&server, REGION).await;
    assert_eq!(inventory(&direct, UID, ID).await, full_inventory(), "k={k} m={m}");

    // Drift passes after Ready, under the same faults: no mutating call reaches AWS.
    proxy.reset_counts();
    let mut ready_passes = 0;
    for _ in 0..40 {
        let report = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        if report.phase == RegionPhase::Ready {
            ready_passes += 1;
        }
        if ready_passes == 5 {
            break;
        }
    }
    let counts = proxy.counts();
    assert_eq!(ready_passes, 5, "k={k} m={m}: drift passes stay Ready");
    assert_eq!(
        counts.mutations(),
        0,
        "k={k} m={m}: mutating calls after Ready: {}",
        counts.mutation_summary()
    );
    assert!(counts.reads() > 0);

    // A clean delete under the same faults.
    proxy.reset_counts();
    let torn = destroy(&ctx, 400).await;
    let counts = proxy.counts();
    let faults = counts.throttled() + counts.lost();
    assert!(torn.failed <= faults, "k={k} m={m}: {torn:?} for {faults} faults");
    assert!(
        torn.passes - torn.failed <= teardown_passes,
        "k={k} m={m}: {torn:?}, the clean teardown needed {teardown_passes}"
    );
    assert_eq!(
        inventory(&direct, UID, ID).await,
        Inventory::default(),
        "k={k} m={m}: everything is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_and_tears_down_with_every_6th_request_throttled_and_every_4th_mutation_lost() {
    converge_under(6, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_and_tears_down_with_every_5th_request_throttled_and_every_3rd_mutation_lost() {
    converge_under(5, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_and_tears_down_with_every_3rd_request_throttled_and_every_2nd_mutation_lost() {
    converge_under(3, 2).await;
}
