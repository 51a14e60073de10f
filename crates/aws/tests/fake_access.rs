//! Access entries and authentication modes through the region engine on the in-memory fake: the aws-auth
//! migration, exact reconciliation (create with policies, update in place, disassociate, delete only what the
//! operator made), drift repair, the one-way mode with `Api` last, and 0 mutating calls once converged.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::ensure_region;
use eks_aws::fake::{FakeAws, FakeConfig};
use eks_aws::types::{AssociatedPolicy, CreateAccessEntry};
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";
const OPS: &str = "arn:aws:iam::123456789012:role/ops-admin";
const READER: &str = "arn:aws:iam::123456789012:role/reader";
const WORKER: &str = "arn:aws:iam::123456789012:role/eks-worker-eu-west-1-test-cloudlad";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn fake() -> FakeAws {
    FakeAws::new(FakeConfig {
        settle_after: 1,
        ..FakeConfig::default()
    })
}

/// The seed with `access` inserted before `awsAuth` (which maps ops-admin to system:masters).
fn with_access(access: &str) -> eks_api::ValidatedCluster {
    let text = seed_text().replace("  awsAuth:\n", &format!("  access:\n{access}  awsAuth:\n"));
    cluster_from(&text, UID)
}

fn reader_with(policies: &str) -> String {
    format!(
        "    authenticationMode: ApiAndConfigMap\n    entries:\n      - principalArn: {READER}\n        \
         username: reader\n        kubernetesGroups: [readers]\n        accessPolicies: {policies}\n"
    )
}

async fn entries(aws: &FakeAws) -> BTreeSet<String> {
    let clients = aws.context().clients(&region(REGION), None).await.unwrap();
    clients
        .eks
        .list_access_entries(ID)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn policies(aws: &FakeAws, principal: &str) -> Vec<AssociatedPolicy> {
    let clients = aws.context().clients(&region(REGION), None).await.unwrap();
    clients
        .eks
        .list_associated_access_policies(ID, principal)
        .await
        .unwrap()
}

async fn mode(aws: &FakeAws) -> Option<String> {
    let clients = aws.context().clients(&region(REGION), None).await.unwrap();
    clients
        .eks
        .describe_cluster(ID)
        .await
        .unwrap()
        .unwrap()
        .authentication_mode
}

#[tokio::test]
async fn fake_migration_creates_entries_with_policies_and_a_converged_region_makes_no_mutation() {
    let aws = fake();
    let ctx = aws.context();
    let cluster = with_access(&reader_with(
        "[{policy: AmazonEKSViewPolicy, scope: {type: namespace, namespaces: [team-a]}}]",
    ));
    let mut recorded = RecordedRegion::default();
    let report = converge(&ctx, &cluster, REGION, &mut recorded, 60).await;
    assert_eq!(mode(&aws).await.as_deref(), Some("API_AND_CONFIG_MAP"));
    assert_eq!(
        entries(&aws).await,
        BTreeSet::from([OPS.to_owned(), READER.to_owned(), WORKER.to_owned()])
    );
    assert_eq!(
        policies(&aws, OPS).await,
        [AssociatedPolicy {
            policy_arn: ADMIN.to_owned(),
            scope_type: "cluster".to_owned(),
            namespaces: Vec::new()
        }],
        "system:masters became the cluster admin policy"
    );
    assert_eq!(
        policies(&aws, READER).await,
        [AssociatedPolicy {
            policy_arn: VIEW.to_owned(),
            scope_type: "namespace".to_owned(),
            namespaces: vec!["team-a".to_owned()]
        }]
    );
    let status = report.to_status();
    assert_eq!(
        status.authentication_mode,
        Some(eks_api::AuthenticationMode::ApiAndConfigMap)
    );
    let worker = status
        .access_entries
        .iter()
        .find(|e| e.principal_arn == WORKER)
        .unwrap();
    assert_eq!(worker.entry_type.as_deref(), Some("EC2_LINUX"));

    aws.instrument().reset_stats();
    recorded.steady = false;
    let again = ensure_region(&ctx, &cluster, &region(REGION), &recorded).await;
    assert_eq!(again.phase, RegionPhase::Ready);
    let stats = aws.instrument().stats();
    assert_eq!(stats.mutations, 0, "{}", stats.summary());
    assert!(
        stats.by_operation.contains_key("eks:ListAccessEntries"),
        "{}",
        stats.summary()
    );
}

#[tokio::test]
async fn fake_changes_are_applied_in_place_and_only_the_operators_entries_are_deleted() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let first = with_access(&reader_with(
        "[{policy: AmazonEKSViewPolicy, scope: {type: cluster}}, {policy: AmazonEKSEditPolicy, scope: {type: namespace, namespaces: [a]}}]",
    ));
    converge(&ctx, &first, REGION, &mut recorded, 60).await;
    // Someone else's entry: never touched.
    let clients = ctx.clients(&region(REGION), None).await.unwrap();
    let foreign = "arn:aws:iam::123456789012:user/someone";
    clients
        .eks
        .create_access_entry(
            ID,
            &CreateAccessEntry {
                principal_arn: foreign.to_owned(),
                entry_type: "STANDARD".to_owned(),
                ..CreateAccessEntry::default()
            },
        )
        .await
        .unwrap();

    // Edit dropped, view moved to a namespace, groups changed.
    let second = with_access(
        &reader_with("[{policy: AmazonEKSViewPolicy, scope: {type: namespace, namespaces: [b]}}]")
            .replace("[readers]", "[readers, auditors]"),
    );
    aws.instrument().reset_stats();
    let report = converge(&ctx, &second, REGION, &mut recorded, 10).await;
    let stats = aws.instrument().stats();
    assert_eq!(
        stats.by_operation.get("eks:CreateAccessEntry"),
        None,
        "{}",
        stats.summary()
    );
    assert_eq!(stats.by_operation.get("eks:DisassociateAccessPolicy"), Some(&1));
    assert_eq!(stats.by_operation.get("eks:UpdateAccessEntry"), Some(&1));
    assert_eq!(
        policies(&aws, READER).await,
        [AssociatedPolicy {
            policy_arn: VIEW.to_owned(),
            scope_type: "namespace".to_owned(),
            namespaces: vec!["b".to_owned()]
        }]
    );
    let reader = report
        .to_status()
        .access_entries
        .into_iter()
        .find(|e| e.principal_arn == READER)
        .unwrap();
    assert_eq!(reader.kubernetes_groups, ["auditors", "readers"]);

    // The reader leaves the spec: its entry goes, the foreign one stays.
    let third = with_access("    authenticationMode: ApiAndConfigMap\n");
    converge(&ctx, &third, REGION, &mut recorded, 10).await;
    let left = entries(&aws).await;
    assert!(!left.contains(READER), "{left:?}");
    assert!(left.contains(foreign), "{left:?}");
    assert!(left.contains(OPS), "migrated entries stay: {left:?}");
}

#[tokio::test]
async fn fake_entries_and_policies_deleted_out_of_band_are_put_back() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    let cluster = with_access(&reader_with(
        "[{policy: AmazonEKSEditPolicy, scope: {type: cluster}}]",
    ));
    converge(&ctx, &cluster, REGION, &mut recorded, 60).await;
    let clients = ctx.clients(&region(REGION), None).await.unwrap();
    clients.eks.delete_access_entry(ID, OPS).await.unwrap();
    clients
        .eks
        .disassociate_access_policy(ID, READER, EDIT)
        .await
        .unwrap();
    recorded.steady = false;
    converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
    assert!(entries(&aws).await.contains(OPS));
    assert_eq!(policies(&aws, OPS).await[0].policy_arn, ADMIN);
    assert_eq!(policies(&aws, READER).await[0].policy_arn, EDIT);
}

#[tokio::test]
async fn fake_mode_moves_config_map_then_api_and_config_map_then_api_with_entries_first() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), REGION, &mut recorded, 60).await;
    assert_eq!(mode(&aws).await.as_deref(), Some("CONFIG_MAP"));

    let api = with_access("    authenticationMode: Api\n");
    let mut modes = vec![mode(&aws).await.unwrap()];
    let mut entries_when_api = None;
    for _ in 0..20 {
        let report = ensure_region(&ctx, &api, &region(REGION), &recorded).await;
        record(&mut recorded, &report);
        assert_ne!(report.phase, RegionPhase::Failed, "{:?}", report.error);
        let now = mode(&aws).await.unwrap();
        if modes.last() != Some(&now) {
            if now == "API" {
                entries_when_api = Some(entries(&aws).await);
            }
            modes.push(now);
        }
        if report.phase == RegionPhase::Ready {
            break;
        }
    }
    assert_eq!(modes, ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]);
    let before_api = entries_when_api.unwrap();
    assert!(
        before_api.contains(OPS) && before_api.contains(WORKER),
        "every aws-auth principal had its entry when the mode became API: {before_api:?}"
    );
}

#[tokio::test]
async fn fake_a_mode_behind_the_cluster_is_refused_without_a_mutation() {
    let aws = fake();
    let ctx = aws.context();
    let mut recorded = RecordedRegion::default();
    converge(
        &ctx,
        &with_access("    authenticationMode: Api\n"),
        REGION,
        &mut recorded,
        80,
    )
    .await;
    aws.instrument().reset_stats();
    let back = with_access("    authenticationMode: ApiAndConfigMap\n");
    recorded.steady = false;
    let report = ensure_region(&ctx, &back, &region(REGION), &recorded).await;
    assert_eq!(report.phase, RegionPhase::Failed);
    let error = report.error.unwrap();
    assert_eq!(error.reason(), "InvalidSpec");
    assert_eq!(aws.instrument().stats().mutations, 0);
}
