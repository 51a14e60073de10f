//! A lost answer to a call the engine makes only to repair drift, on the in-memory fake: the region converged,
//! something was changed out of band, the repairing call is applied but its answer lost (a 500), and the next
//! pass meets the repaired state (or the "already done" answer of a repeat) and is Ready, with no further
//! mutating call. The build and teardown calls are covered by `fake_lost_answers.rs`; these are the calls only
//! a drift pass makes.
#![allow(clippy::unwrap_used)]

mod support;

use eks_aws::engine::{RecordedRegion, RegionPhase};
use eks_aws::fake::{FakeAws, FakeConfig};
use eks_aws::instrument::{Fault, FaultRule};
use eks_aws::types::{
    ClusterConfigUpdate, Direction, Filter, NodegroupConfigUpdate, RouteTable, Scaling, SgPeer, SgRule, Tags,
    VpcAttribute,
};
use eks_aws::{RegionClients, ensure_region};
use eks_plan::tags::OWNER_UID;
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

/// Out-of-band changes, each repaired by one kind of call.
#[derive(Clone, Copy, Debug)]
enum Drift {
    /// A private table's default route points at the internet gateway instead of its NAT gateway.
    DefaultRouteRetargeted,
    /// A route table lost its subnet association.
    AssociationRemoved,
    /// Someone opened SSH to the world on the node security group.
    ExtraIngressRule,
    /// Someone added an egress rule.
    ExtraEgressRule,
    /// A public subnet stopped mapping public IPs.
    PublicIpMappingOff,
    /// The VPC's DNS hostnames were turned off.
    DnsHostnamesOff,
    /// A subnet's `Name` tag was overwritten.
    SubnetTagOverwritten,
    /// The cluster role's trust policy was replaced.
    TrustPolicyReplaced,
    /// A role's `Name`-like tag was overwritten.
    RoleTagOverwritten,
    /// The node group was scaled by hand.
    NodeGroupScaled,
    /// Audit logging was turned on by hand (the seed enables none).
    LoggingOn,
    /// A worker policy was detached from the node role.
    RolePolicyDetached,
    /// A cluster tag was overwritten.
    ClusterTagOverwritten,
    /// An OIDC provider tag was overwritten.
    OidcTagOverwritten,
}

impl Drift {
    /// Every case, with the operation expected to repair it.
    const ALL: [(Drift, &'static str); 14] = [
        (Drift::DefaultRouteRetargeted, "ReplaceRoute"),
        (Drift::AssociationRemoved, "AssociateRouteTable"),
        (Drift::ExtraIngressRule, "RevokeSecurityGroupIngress"),
        (Drift::ExtraEgressRule, "RevokeSecurityGroupEgress"),
        (Drift::PublicIpMappingOff, "ModifySubnetAttribute"),
        (Drift::DnsHostnamesOff, "ModifyVpcAttribute"),
        (Drift::SubnetTagOverwritten, "CreateTags"),
        (Drift::TrustPolicyReplaced, "UpdateAssumeRolePolicy"),
        (Drift::RoleTagOverwritten, "TagRole"),
        (Drift::NodeGroupScaled, "UpdateNodegroupConfig"),
        (Drift::LoggingOn, "UpdateClusterConfig"),
        (Drift::RolePolicyDetached, "AttachRolePolicy"),
        (Drift::ClusterTagOverwritten, "TagResource"),
        (Drift::OidcTagOverwritten, "TagOpenIDConnectProvider"),
    ];

    async fn apply(self, raw: &RegionClients) {
        let owned = [Filter::tag(OWNER_UID, UID)];
        let tables = raw.ec2.describe_route_tables(&owned).await.unwrap();
        let subnets = raw.ec2.describe_subnets(&owned).await.unwrap();
        let groups = raw.ec2.describe_security_groups(&owned).await.unwrap();
        let roles = [format!("eks-cluster-{ID}"), format!("eks-worker-{ID}")];
        let rule = |cidr: &str| SgRule {
            protocol: "tcp".into(),
            from_port: 22,
            to_port: 22,
            peer: SgPeer::Cidr(cidr.into()),
            description: None,
        };
        match self {
            Drift::DefaultRouteRetargeted => {
                let table = nat_routed(&tables);
                let igw = raw.ec2.describe_internet_gateways(&owned).await.unwrap()[0]
                    .id
                    .clone();
                let target = eks_aws::types::RouteTargetId::Gateway(igw);
                raw.ec2
                    .replace_route(&table.id, "0.0.0.0/0", &target)
                    .await
                    .unwrap();
            }
            Drift::AssociationRemoved => {
                let association = tables
                    .iter()
                    .flat_map(|t| &t.associations)
                    .find(|a| !a.main)
                    .unwrap();
                raw.ec2.disassociate_route_table(&association.id).await.unwrap();
            }
            Drift::ExtraIngressRule => {
                raw.ec2
                    .authorize_rules(&groups[0].id, Direction::Ingress, &[rule("0.0.0.0/0")])
                    .await
                    .unwrap();
            }
            Drift::ExtraEgressRule => {
                raw.ec2
                    .authorize_rules(&groups[0].id, Direction::Egress, &[rule("192.0.2.0/24")])
                    .await
                    .unwrap();
            }
            Drift::PublicIpMappingOff => {
                let public = subnets.iter().find(|s| s.map_public_ip_on_launch).unwrap();
                raw.ec2
                    .set_map_public_ip_on_launch(&public.id, false)
                    .await
                    .unwrap();
            }
            Drift::DnsHostnamesOff => {
                let vpc = raw.ec2.describe_vpcs(&owned).await.unwrap()[0].id.clone();
                raw.ec2
                    .modify_vpc_attribute(&vpc, VpcAttribute::DnsHostnames, false)
                    .await
                    .unwrap();
            }
            Drift::SubnetTagOverwritten => {
                let tags = Tags::from([("Name".to_owned(), "renamed-by-hand".to_owned())]);
                raw.ec2
                    .create_tags(&[subnets[0].id.clone()], &tags)
                    .await
                    .unwrap();
            }
            Drift::TrustPolicyReplaced => {
                let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
                raw.iam
                    .update_assume_role_policy(&roles[0], &trust)
                    .await
                    .unwrap();
            }
            Drift::RoleTagOverwritten => {
                let role = raw.iam.get_role(&roles[0]).await.unwrap().unwrap();
                let (key, _) = role.tags.iter().find(|(k, _)| k.as_str() != OWNER_UID).unwrap();
                let tags = Tags::from([(key.clone(), "changed-by-hand".to_owned())]);
                raw.iam.tag_role(&roles[0], &tags).await.unwrap();
            }
            Drift::NodeGroupScaled => {
                let group = raw.eks.list_nodegroups(ID).await.unwrap()[0].clone();
                let current = raw
                    .eks
                    .describe_nodegroup(ID, &group)
                    .await
                    .unwrap()
                    .unwrap()
                    .scaling;
                let scaling = Scaling {
                    desired: current.desired + 1,
                    max: current.max.max(current.desired + 1),
                    ..current
                };
                let update = NodegroupConfigUpdate {
                    scaling: Some(scaling),
                    ..NodegroupConfigUpdate::default()
                };
                raw.eks
                    .update_nodegroup_config(ID, &group, &update)
                    .await
                    .unwrap();
            }
            Drift::LoggingOn => {
                let enabled = raw
                    .eks
                    .describe_cluster(ID)
                    .await
                    .unwrap()
                    .unwrap()
                    .enabled_log_types;
                assert!(enabled.is_empty(), "the seed enables no control plane logging");
                let update = ClusterConfigUpdate::Logging {
                    enable: vec!["audit".to_owned()],
                    disable: Vec::new(),
                };
                raw.eks.update_cluster_config(ID, &update).await.unwrap();
            }
            Drift::RolePolicyDetached => {
                let policy = raw.iam.list_attached_role_policies(&roles[1]).await.unwrap()[0].clone();
                raw.iam.detach_role_policy(&roles[1], &policy).await.unwrap();
            }
            Drift::ClusterTagOverwritten => {
                let cluster = raw.eks.describe_cluster(ID).await.unwrap().unwrap();
                let (key, _) = cluster
                    .tags
                    .iter()
                    .find(|(k, _)| k.as_str() != OWNER_UID)
                    .unwrap();
                let tags = Tags::from([(key.clone(), "changed-by-hand".to_owned())]);
                raw.eks.tag_resource(&cluster.arn, &tags).await.unwrap();
            }
            Drift::OidcTagOverwritten => {
                let arn = raw.iam.list_oidc_providers().await.unwrap()[0].clone();
                let provider = raw.iam.get_oidc_provider(&arn).await.unwrap().unwrap();
                let (key, _) = provider
                    .tags
                    .iter()
                    .find(|(k, _)| k.as_str() != OWNER_UID)
                    .unwrap();
                let tags = Tags::from([(key.clone(), "changed-by-hand".to_owned())]);
                raw.iam.tag_oidc_provider(&arn, &tags).await.unwrap();
            }
        }
    }
}

/// A route table whose default route goes to a NAT gateway.
fn nat_routed(tables: &[RouteTable]) -> &RouteTable {
    tables
        .iter()
        .find(|t| {
            t.routes.iter().any(|r| {
                r.destination == "0.0.0.0/0"
                    && matches!(r.target, Some(eks_aws::types::RouteTargetId::NatGateway(_)))
            })
        })
        .unwrap()
}

/// Drift passes until Ready; returns (passes, passes that failed with the injected lost answer).
async fn repair(aws: &FakeAws, recorded: &mut RecordedRegion, what: &str) -> (usize, usize) {
    let ctx = aws.context();
    let mut lost = 0;
    for pass in 1..=10 {
        let report = ensure_region(&ctx, &seed(), &region(REGION), recorded).await;
        record(recorded, &report);
        if let Some(error) = &report.error {
            assert!(
                error.to_string().contains("response was lost"),
                "{what}, pass {pass}: {error}"
            );
            lost += 1;
        } else if report.phase == RegionPhase::Ready {
            return (pass, lost);
        }
    }
    panic!("{what}: not Ready after 10 drift passes");
}

/// A converged region with `drift` applied: the fake, its recorded status and its raw clients.
async fn drifted(drift: Drift) -> (FakeAws, RecordedRegion, RegionClients) {
    let aws = FakeAws::new(FakeConfig::default());
    let mut recorded = RecordedRegion::default();
    converge(&aws.context(), &seed(), REGION, &mut recorded, 40).await;
    let raw = aws.raw_clients(&region(REGION));
    drift.apply(&raw).await;
    aws.instrument().reset_stats();
    (aws, recorded, raw)
}

#[tokio::test]
async fn a_lost_answer_to_any_repair_call_is_found_again_by_the_next_pass() {
    for (drift, operation) in Drift::ALL {
        let what = format!("{drift:?} repaired by {operation}");
        let (clean, mut recorded, _) = drifted(drift).await;
        let (clean_passes, _) = repair(&clean, &mut recorded, &what).await;
        let calls = clean.instrument().stats();
        assert!(
            calls
                .by_operation
                .keys()
                .any(|k| k.ends_with(&format!(":{operation}"))),
            "{what}: the drift pass calls it: {}",
            calls.summary()
        );

        let (aws, mut recorded, raw) = drifted(drift).await;
        aws.instrument()
            .inject(FaultRule::on(operation, Fault::LostResponse).times(1));
        let (passes, lost) = repair(&aws, &mut recorded, &what).await;
        assert_eq!(lost, 1, "{what}: the lost answer failed one pass");
        assert!(
            passes <= clean_passes + 1,
            "{what}: {passes} passes, {clean_passes} without the fault"
        );

        // Converged again: the next pass changes nothing and the region holds exactly what the seed needs.
        aws.instrument().reset_stats();
        let report = ensure_region(&aws.context(), &seed(), &region(REGION), &recorded).await;
        assert_eq!(report.phase, RegionPhase::Ready, "{what}");
        assert_eq!(
            aws.instrument().stats().mutations,
            0,
            "{what}: {}",
            aws.instrument().stats().summary()
        );
        assert_eq!(inventory(&raw, UID, ID).await, seed_inventory(), "{what}");
    }
}
