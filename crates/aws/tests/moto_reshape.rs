//! Changing `natGateways` (and `vpnGateway`) on a Ready region against moto: the subnets move to their new
//! route tables (AWS refuses a second association, so the old one goes first), and the surplus route tables,
//! NAT gateways, elastic IPs (which moto leaves associated with a deleted NAT gateway) and VPN gateway go.
#![allow(clippy::unwrap_used)]

mod support;

use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::ensure_region;
use support::network::{RESHAPE_STEPS, assert_network_shape, seed_with};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nat_layout_changes_converge_in_place_then_a_second_pass_makes_no_mutating_call() {
    let server = moto().await;
    let (ctx, instrument) = instrumented(&server).await;
    let clients = plain_clients(&server, REGION).await;
    let mut recorded = RecordedRegion::default();
    for (nat, vpn) in RESHAPE_STEPS {
        let cluster = cluster_from(&seed_with(nat, vpn), UID);
        let report = converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
        assert_network_shape(&clients, UID, ID, &report.zones, nat, vpn).await;

        instrument.reset_stats();
        let again = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
        assert_eq!(
            again.phase,
            RegionPhase::Ready,
            "{nat:?}: {:?}",
            again.in_progress
        );
        let stats = instrument.stats();
        assert_eq!(stats.mutations, 0, "{nat:?}: {}", stats.summary());
    }
}
