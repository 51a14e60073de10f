//! Changing `natGateways` (and `vpnGateway`) on a Ready region, with the in-memory fake: subnets move to their
//! new route tables, surplus route tables, NAT gateways, elastic IPs and the VPN gateway go, and a neighbour's
//! resources are left alone.
#![allow(clippy::unwrap_used)]

mod support;

use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::ensure_region;
use eks_aws::fake::{FakeAws, FakeConfig};
use support::network::{Nat, RESHAPE_STEPS, assert_network_shape, seed_with};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";
const NEIGHBOUR_UID: &str = "0b5c7f3e-0000-4000-8000-000000000002";
const NEIGHBOUR_ID: &str = "eu-west-1-test-neighbour";

#[tokio::test]
async fn fake_nat_layout_changes_converge_in_place_and_spare_the_neighbour() {
    let aws = FakeAws::new(FakeConfig {
        settle_after: 3,
        ..FakeConfig::default()
    });
    let ctx = aws.context();
    let clients = aws.raw_clients(&region(REGION));

    let neighbour = cluster_from(
        &seed_text().replace("name: cloudlad", "name: neighbour"),
        NEIGHBOUR_UID,
    );
    let mut neighbour_recorded = RecordedRegion::default();
    converge(&ctx, &neighbour, REGION, &mut neighbour_recorded, 60).await;
    let neighbour_before = inventory(&clients, NEIGHBOUR_UID, NEIGHBOUR_ID).await;

    let mut recorded = RecordedRegion::default();
    for (nat, vpn) in RESHAPE_STEPS {
        let cluster = cluster_from(&seed_with(nat, vpn), UID);
        let report = converge(&ctx, &cluster, REGION, &mut recorded, 60).await;
        assert_network_shape(&clients, UID, ID, &report.zones, nat, vpn).await;

        aws.instrument().reset_stats();
        let again = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
        assert_eq!(
            again.phase,
            RegionPhase::Ready,
            "{nat:?}: {:?}",
            again.in_progress
        );
        let stats = aws.instrument().stats();
        assert_eq!(stats.mutations, 0, "{nat:?}: {}", stats.summary());
        assert_eq!(
            inventory(&clients, NEIGHBOUR_UID, NEIGHBOUR_ID).await,
            neighbour_before,
            "{nat:?}: the neighbour's resources"
        );
    }
}

#[tokio::test]
async fn fake_single_to_one_per_az_moves_subnets_only_when_their_nat_gateway_is_available() {
    let aws = FakeAws::new(FakeConfig {
        settle_after: 3,
        ..FakeConfig::default()
    });
    let ctx = aws.context();
    let clients = aws.raw_clients(&region(REGION));
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), REGION, &mut recorded, 60).await;

    let cluster = cluster_from(&seed_with(Nat::OnePerAz, true), UID);
    let first = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
    record(&mut recorded, &first);
    assert_eq!(first.phase, RegionPhase::Provisioning);
    assert!(
        first
            .in_progress
            .iter()
            .any(|p| p.contains("until private-eu-west-1b has its routes")),
        "{:?}",
        first.in_progress
    );
    // The shared table keeps the subnets of the zones whose NAT gateway is still pending, with its route.
    let tables = clients
        .ec2
        .describe_route_tables(&[eks_aws::types::Filter::tag(eks_plan::tags::OWNER_UID, UID)])
        .await
        .unwrap();
    let shared = tables
        .iter()
        .find(|t| t.tags.get(eks_plan::tags::COMPONENT).map(String::as_str) == Some("route-table/private"))
        .expect("the shared private table stays while subnets wait");
    assert_eq!(shared.associations.len(), 2, "{shared:?}");
    assert!(shared.routes.iter().any(|r| r.destination == "0.0.0.0/0"));
    let report = converge(&ctx, &cluster, REGION, &mut recorded, 60).await;
    assert_network_shape(&clients, UID, ID, &report.zones, Nat::OnePerAz, true).await;
}
