//! Out-of-band changes against moto are found and put back by the next passes.
#![allow(clippy::unwrap_used)]

mod support;

use aws_config::Region;
use eks_aws::engine::RecordedRegion;
use eks_aws::testing::MotoServer;
use eks_aws::types::{Direction, Filter, NodegroupConfigUpdate, RouteTargetId, Scaling, SgPeer, SgRule};
use eks_aws::{AwsContext, RegionClients};
use eks_plan::tags;
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

struct Setup {
    server: MotoServer,
    ctx: AwsContext,
    recorded: RecordedRegion,
    clients: RegionClients,
    raw: aws_sdk_ec2::Client,
}

async fn ready() -> Setup {
    let server = moto();
    let ctx = server.context().await;
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), REGION, &mut recorded, 10).await;
    let clients = plain_clients(&server, REGION).await;
    let config = server
        .sdk_config()
        .await
        .to_builder()
        .region(Region::new(REGION))
        .build();
    let raw = aws_sdk_ec2::Client::new(&config);
    Setup {
        server,
        ctx,
        recorded,
        clients,
        raw,
    }
}

fn owned() -> [Filter; 1] {
    [Filter::tag(tags::OWNER_UID, UID)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_nat_gateway_deleted_out_of_band_is_recreated_and_routed() {
    let mut s = ready().await;
    let old = s
        .clients
        .ec2
        .describe_nat_gateways(&owned())
        .await
        .unwrap()
        .remove(0);
    s.clients.ec2.delete_nat_gateway(&old.id).await.unwrap();
    converge(&s.ctx, &seed(), REGION, &mut s.recorded, 10).await;
    let live: Vec<_> = s
        .clients
        .ec2
        .describe_nat_gateways(&owned())
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.is_live())
        .collect();
    assert_eq!(live.len(), 1);
    assert_ne!(live[0].id, old.id);
    let tables = s.clients.ec2.describe_route_tables(&owned()).await.unwrap();
    let private = tables
        .iter()
        .find(|t| t.tags.get(tags::COMPONENT).map(String::as_str) == Some("route-table/private"))
        .unwrap();
    let default = private
        .routes
        .iter()
        .find(|r| r.destination == "0.0.0.0/0")
        .unwrap();
    assert_eq!(
        default.target,
        Some(RouteTargetId::NatGateway(live[0].id.clone()))
    );
    assert_eq!(inventory(&s.clients, UID, ID).await, seed_inventory());
    drop(s.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_removed_route_is_put_back() {
    let mut s = ready().await;
    let tables = s.clients.ec2.describe_route_tables(&owned()).await.unwrap();
    let public = tables
        .iter()
        .find(|t| t.tags.get(tags::COMPONENT).map(String::as_str) == Some("route-table/public"))
        .unwrap();
    s.raw
        .delete_route()
        .route_table_id(&public.id)
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    converge(&s.ctx, &seed(), REGION, &mut s.recorded, 10).await;
    let tables = s.clients.ec2.describe_route_tables(&owned()).await.unwrap();
    let public = tables.iter().find(|t| t.id == public.id).unwrap();
    let igw = s
        .clients
        .ec2
        .describe_internet_gateways(&owned())
        .await
        .unwrap()
        .remove(0);
    let default = public
        .routes
        .iter()
        .find(|r| r.destination == "0.0.0.0/0")
        .unwrap();
    assert_eq!(default.target, Some(RouteTargetId::Gateway(igw.id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_removed_tags_are_put_back() {
    let mut s = ready().await;
    let vpc = s.clients.ec2.describe_vpcs(&owned()).await.unwrap().remove(0);
    let subnet = s.clients.ec2.describe_subnets(&owned()).await.unwrap().remove(0);
    let shared = format!("kubernetes.io/cluster/{ID}");
    s.raw
        .delete_tags()
        .resources(&vpc.id)
        .tags(aws_sdk_ec2::types::Tag::builder().key("team").build())
        .send()
        .await
        .unwrap();
    s.raw
        .delete_tags()
        .resources(&subnet.id)
        .tags(aws_sdk_ec2::types::Tag::builder().key(&shared).build())
        .send()
        .await
        .unwrap();
    converge(&s.ctx, &seed(), REGION, &mut s.recorded, 10).await;
    let vpc = s.clients.ec2.describe_vpcs(&owned()).await.unwrap().remove(0);
    assert_eq!(vpc.tags.get("team").map(String::as_str), Some("platform"));
    let subnet = s
        .clients
        .ec2
        .describe_subnets(&[Filter::new("subnet-id", [subnet.id.clone()])])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(subnet.tags.get(&shared).map(String::as_str), Some("shared"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_node_group_scaled_by_hand_is_scaled_back() {
    let mut s = ready().await;
    let update = NodegroupConfigUpdate {
        scaling: Some(Scaling {
            min: 1,
            max: 6,
            desired: 5,
        }),
        ..Default::default()
    };
    s.clients
        .eks
        .update_nodegroup_config(ID, "workers", &update)
        .await
        .unwrap();
    converge(&s.ctx, &seed(), REGION, &mut s.recorded, 10).await;
    let ng = s
        .clients
        .eks
        .describe_nodegroup(ID, "workers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ng.scaling,
        Scaling {
            min: 2,
            max: 4,
            desired: 2
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaler_owned_desired_size_is_left_alone_while_min_and_max_are_enforced() {
    let server = moto();
    let ctx = server.context().await;
    let cluster = cluster_from(&seed_text().replace("      desiredSize: 2\n", ""), UID);
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
    let clients = plain_clients(&server, REGION).await;
    let ng = clients
        .eks
        .describe_nodegroup(ID, "workers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ng.scaling.desired, 2, "starts at minSize");
    // The autoscaler scales up: left alone.
    let up = NodegroupConfigUpdate {
        scaling: Some(Scaling {
            min: 2,
            max: 4,
            desired: 3,
        }),
        ..Default::default()
    };
    clients
        .eks
        .update_nodegroup_config(ID, "workers", &up)
        .await
        .unwrap();
    converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
    let ng = clients
        .eks
        .describe_nodegroup(ID, "workers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ng.scaling,
        Scaling {
            min: 2,
            max: 4,
            desired: 3
        }
    );
    // Someone widens max and goes beyond it: max is enforced and desired kept within it.
    let wide = NodegroupConfigUpdate {
        scaling: Some(Scaling {
            min: 2,
            max: 8,
            desired: 7,
        }),
        ..Default::default()
    };
    clients
        .eks
        .update_nodegroup_config(ID, "workers", &wide)
        .await
        .unwrap();
    converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
    let ng = clients
        .eks
        .describe_nodegroup(ID, "workers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ng.scaling,
        Scaling {
            min: 2,
            max: 4,
            desired: 4
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_extra_security_group_rule_is_revoked() {
    let mut s = ready().await;
    let groups = s.clients.ec2.describe_security_groups(&owned()).await.unwrap();
    let cluster_sg = groups.iter().find(|g| g.name == format!("{ID}-cluster")).unwrap();
    let ssh = SgRule {
        protocol: "tcp".into(),
        from_port: 22,
        to_port: 22,
        peer: SgPeer::Cidr("0.0.0.0/0".into()),
        description: None,
    };
    s.clients
        .ec2
        .authorize_rules(&cluster_sg.id, Direction::Ingress, &[ssh])
        .await
        .unwrap();
    converge(&s.ctx, &seed(), REGION, &mut s.recorded, 10).await;
    let groups = s.clients.ec2.describe_security_groups(&owned()).await.unwrap();
    let cluster_sg = groups.iter().find(|g| g.id == cluster_sg.id).unwrap();
    assert!(
        !cluster_sg.ingress.iter().any(|r| r.from_port == 22),
        "{:?}",
        cluster_sg.ingress
    );
    assert_eq!(cluster_sg.ingress.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_cidrs_and_logging_changes_are_applied_without_an_update_loop() {
    let mut s = ready().await;
    let changed = cluster_from(
        &seed_text()
            .replace(
                "publicAccessCidrs: [203.0.113.10/32]",
                "publicAccessCidrs: [203.0.113.10/32, 198.51.100.0/24]",
            )
            .replace(
                "  endpoint:\n",
                "  controlPlaneLogging: [api, audit]\n  endpoint:\n",
            ),
        UID,
    );
    s.recorded.steady = false;
    converge(&s.ctx, &changed, REGION, &mut s.recorded, 10).await;
    let eks = s.clients.eks.describe_cluster(ID).await.unwrap().unwrap();
    let mut cidrs = eks.vpc.public_access_cidrs.clone();
    cidrs.sort();
    assert_eq!(cidrs, ["198.51.100.0/24", "203.0.113.10/32"]);
    assert_eq!(eks.enabled_log_types, ["api", "audit"]);
    // Further passes change nothing (moto keeps only the fields of the last update: no loop).
    let (ctx, instrument) = instrumented(&s.server).await;
    converge(&ctx, &changed, REGION, &mut s.recorded, 1).await;
    assert_eq!(
        instrument.stats().mutations,
        0,
        "{}",
        instrument.stats().summary()
    );
}
