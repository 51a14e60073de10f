//! Paths moto cannot show (every EKS object is ACTIVE at once there, no UpdateClusterVersion), covered with the
//! in-memory fake: state machines, version upgrades, IAM propagation, DependencyViolation, constant reads.
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
    FakeAws::new(FakeConfig {
        settle_after: 3,
        ..FakeConfig::default()
    })
}

#[tokio::test]
async fn fake_cluster_and_node_group_go_creating_to_active_while_passes_report_progress() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let first = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
    record(&mut recorded, &first);
    assert_eq!(first.phase, RegionPhase::Provisioning);
    assert!(
        first.in_progress.iter().any(|p| p.contains("CREATING")),
        "{:?}",
        first.in_progress
    );
    assert_eq!(
        first.zones,
        ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "local zones are skipped"
    );
    let mut saw_nodegroup_creating = false;
    for _ in 0..20 {
        let report = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        saw_nodegroup_creating |= report
            .in_progress
            .iter()
            .any(|p| p.starts_with("node group workers CREATING"));
        if report.phase == RegionPhase::Ready {
            break;
        }
    }
    assert!(saw_nodegroup_creating);
    assert!(recorded.steady);
    aws.instrument().reset_stats();
    let again = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
    assert_eq!(again.phase, RegionPhase::Ready);
    assert_eq!(
        aws.instrument().stats().mutations,
        0,
        "{}",
        aws.instrument().stats().summary()
    );
}

#[tokio::test]
async fn fake_version_upgrade_goes_one_minor_at_a_time_control_plane_first_then_node_groups() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), REGION, &mut recorded, 40).await;
    let newer = cluster_from(
        &seed_text().replace("kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.33\""),
        UID,
    );
    recorded.steady = false;
    let mut seen: Vec<(String, String)> = Vec::new();
    for _ in 0..80 {
        let report = ensure_region(&ctx, &newer, &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        assert!(report.error.is_none(), "{:?}", report.error);
        let versions = aws.with_state(|s| {
            let r = s.region(REGION);
            (
                r.cluster_status(ID).unwrap().1,
                r.nodegroup_status(ID, "workers").unwrap().1,
            )
        });
        if seen.last() != Some(&versions) {
            seen.push(versions);
        }
        if report.phase == RegionPhase::Ready {
            break;
        }
    }
    let pairs: Vec<(&str, &str)> = seen.iter().map(|(c, n)| (c.as_str(), n.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("1.32", "1.31"),
            ("1.32", "1.32"),
            ("1.33", "1.32"),
            ("1.33", "1.33")
        ]
    );
}

#[tokio::test]
async fn fake_iam_propagation_on_create_cluster_is_retried_not_reported_as_failure() {
    let aws = fake();
    aws.instrument()
        .inject(FaultRule::on("CreateCluster", Fault::IamPropagation).times(3));
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let mut waited = 0;
    for _ in 0..40 {
        let report = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_ne!(report.phase, RegionPhase::Failed);
        waited += usize::from(
            report
                .in_progress
                .iter()
                .any(|p| p.contains("IAM role to propagate")),
        );
        if report.phase == RegionPhase::Ready {
            break;
        }
    }
    assert_eq!(waited, 3);
    assert!(recorded.steady);
}

#[tokio::test]
async fn fake_throttling_and_server_errors_are_retryable_errors() {
    let aws = fake();
    aws.instrument()
        .inject(FaultRule::on("DescribeVpcs", Fault::Throttle).times(1));
    aws.instrument()
        .inject(FaultRule::on("CreateVpc", Fault::ServerError).times(1));
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let first = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
    assert_eq!(first.error.as_ref().unwrap().reason(), "Throttled");
    assert_eq!(first.phase, RegionPhase::Provisioning);
    assert!(first.requeue_after.is_some());
    let second = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
    assert_eq!(second.error.as_ref().unwrap().reason(), "AwsServerError");
    record(&mut recorded, &second);
    converge(&ctx, &seed(), REGION, &mut recorded, 40).await;
}

#[tokio::test]
async fn fake_teardown_walks_deleting_states_and_names_an_interface_that_blocks_the_vpc() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let report = converge(&ctx, &seed(), REGION, &mut recorded, 40).await;
    let vpc = report.ids.vpc_id.clone().unwrap();
    let subnet = report.ids.subnets["private-0"].clone();
    aws.with_state(|s| {
        s.region(REGION)
            .add_network_interface("eni-lb", &vpc, &subnet, "in-use", "ELB app/k8s-ingress")
    });
    let request = TeardownRequest {
        owner_uid: UID.into(),
        region: region(REGION),
        cluster_id: Some(ID.into()),
        oidc_provider_arn: None,
        credentials: None,
        deletion_policy: DeletionPolicy::Delete,
    };
    let mut saw_deleting = false;
    let mut blocked = None;
    for _ in 0..40 {
        let report = teardown_region(&ctx, &request).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        saw_deleting |= report.in_progress.iter().any(|p| p.contains("DELETING"));
        if !report.blocking.is_empty() {
            blocked = Some(report.blocking.clone());
            break;
        }
    }
    assert!(saw_deleting);
    let blocked = blocked.expect("the interface should block");
    assert!(
        blocked
            .iter()
            .any(|b| b.contains("eni-lb") && b.contains("ELB app/k8s-ingress")),
        "{blocked:?}"
    );
    aws.with_state(|s| s.region(REGION).enis.clear());
    assert!(tear_down(&ctx, &request, 40).await);
    assert_eq!(aws.with_state(|s| s.resource_count()), 0);
}

#[tokio::test]
async fn fake_no_change_reconcile_reads_do_not_grow_with_node_groups() {
    let mut counts = Vec::new();
    for extra in [0usize, 4] {
        let mut text = seed_text();
        for i in 0..extra {
            text = text.replace(
                "  awsAuth:\n",
                &format!("    - name: pool{i}\n      instanceTypes: [m5.large]\n      minSize: 1\n      maxSize: 3\n  awsAuth:\n"),
            );
        }
        let cluster = cluster_from(&text, UID);
        let aws = fake();
        let ctx = aws.context();
        let mut recorded = RecordedRegion::default();
        converge(&ctx, &cluster, REGION, &mut recorded, 60).await;
        aws.instrument().reset_stats();
        let report = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
        assert_eq!(report.phase, RegionPhase::Ready);
        assert_eq!(report.ids.node_groups.len(), 1 + extra);
        let stats = aws.instrument().stats();
        assert_eq!(stats.mutations, 0);
        counts.push(stats.reads);
    }
    assert_eq!(counts[0], counts[1], "reads with 1 and 5 node groups");
}

#[tokio::test]
async fn fake_teardown_deletes_the_recorded_oidc_provider_without_listing_the_account() {
    let aws = fake();
    let ctx = aws.context();
    let neighbour = cluster_from(
        &seed_text().replace("name: cloudlad", "name: neighbour"),
        "00000000-0000-0000-0000-00000000beef",
    );
    let mut theirs = RecordedRegion::default();
    let their_report = converge(&ctx, &neighbour, REGION, &mut theirs, 40).await;
    let mut recorded = RecordedRegion::default();
    let ours = converge(&ctx, &seed(), REGION, &mut recorded, 40).await;
    let our_arn = ours.ids.oidc_provider_arn.clone().unwrap();
    let their_arn = their_report.ids.oidc_provider_arn.clone().unwrap();
    assert_ne!(our_arn, their_arn);

    let request = TeardownRequest {
        owner_uid: UID.into(),
        region: region(REGION),
        cluster_id: Some(ID.into()),
        oidc_provider_arn: Some(our_arn.clone()),
        credentials: None,
        deletion_policy: DeletionPolicy::Delete,
    };
    aws.instrument().reset_stats();
    assert!(tear_down(&ctx, &request, 40).await);
    let stats = aws.instrument().stats();
    assert!(
        !stats.by_operation.contains_key("iam:ListOpenIDConnectProviders"),
        "{}",
        stats.summary()
    );
    let providers = aws
        .raw_clients(&region(REGION))
        .iam
        .list_oidc_providers()
        .await
        .unwrap();
    assert_eq!(providers, [their_arn], "only the neighbour's provider is left");

    // Without a recorded ARN (status lost), the region's providers are looked through; the neighbour's stays.
    let request = TeardownRequest {
        owner_uid: "00000000-0000-0000-0000-00000000beef".into(),
        region: region(REGION),
        cluster_id: None,
        oidc_provider_arn: None,
        credentials: None,
        deletion_policy: DeletionPolicy::Delete,
    };
    assert!(tear_down(&ctx, &request, 40).await);
    let providers = aws
        .raw_clients(&region(REGION))
        .iam
        .list_oidc_providers()
        .await
        .unwrap();
    assert!(providers.is_empty(), "{providers:?}");
}

#[tokio::test]
async fn fake_changed_subnet_layout_is_refused_with_the_subnet_named_and_nothing_changed() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), REGION, &mut recorded, 40).await;
    // A per-region override (not covered by the CRD's transition rules) that moves the private subnets.
    let moved = cluster_from(
        &seed_text().replace(
            "  regionOverrides:\n",
            "  regionOverrides:\n    eu-west-1:\n      network:\n        \
             privateSubnetCidrs: [10.0.11.0/24, 10.0.12.0/24, 10.0.13.0/24]\n        \
             publicSubnetCidrs: [10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]\n",
        ),
        UID,
    );
    aws.instrument().reset_stats();
    let report = ensure_region(&ctx, &moved, &region(REGION), &recorded).await;
    let error = report.error.expect("the layout change is refused");
    assert_eq!(error.reason(), "SubnetLayoutImmutable");
    let message = error.to_string();
    assert!(
        message.contains("(private-0) is 10.0.1.0/24 in eu-west-1a") && message.contains("10.0.11.0/24"),
        "{message}"
    );
    assert_eq!(aws.instrument().stats().mutations, 0, "nothing is changed");

    // Fewer zones: the plan no longer has the third subnets.
    let fewer = cluster_from(
        &seed_text()
            .replace("availabilityZones: 3", "availabilityZones: 2")
            .replace(
                "[10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]",
                "[10.0.1.0/24, 10.0.2.0/24]",
            )
            .replace(
                "[10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]",
                "[10.0.101.0/24, 10.0.102.0/24]",
            ),
        UID,
    );
    let report = ensure_region(&ctx, &fewer, &region(REGION), &recorded).await;
    let message = report.error.expect("dropping subnets is refused").to_string();
    assert!(message.contains("no such subnet"), "{message}");
    assert_eq!(aws.instrument().stats().mutations, 0, "nothing is changed");

    // Back to the spec the region was built from: a pass like any other.
    let report = ensure_region(&ctx, &seed(), &region(REGION), &recorded).await;
    assert!(report.error.is_none(), "{:?}", report.error);
}
