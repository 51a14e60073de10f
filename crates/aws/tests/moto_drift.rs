//! Out-of-band changes against moto are found and put back by the next passes.
//!
//! Every case runs [`Setup::drift`]: the region has converged on its spec, something is changed out of band,
//! the next passes converge again, and the case checks what they left.
#![allow(clippy::unwrap_used)]

mod support;

use aws_config::Region;
use eks_api::ValidatedCluster;
use eks_aws::engine::RecordedRegion;
use eks_aws::types::{
    Direction, Filter, NodegroupConfigUpdate, Route, RouteTable, RouteTargetId, Scaling, SgPeer, SgRule,
};
use eks_aws::{AwsContext, RegionClients};
use eks_plan::tags;
use support::*;

const REGION: &str = "eu-west-1";
const ID: &str = "eu-west-1-test-cloudlad";

/// A region of moto converged on `cluster`, with clients to change and look at it out of band.
struct Setup {
    server: Local,
    ctx: AwsContext,
    cluster: ValidatedCluster,
    recorded: RecordedRegion,
    clients: RegionClients,
    /// The EC2 SDK client itself, for calls the operator never makes (DeleteRoute, DeleteTags).
    raw: aws_sdk_ec2::Client,
}

impl Setup {
    /// The seed's region, converged.
    async fn seeded() -> Self {
        Self::converged(seed()).await
    }

    /// A fresh moto with `cluster`'s region converged.
    async fn converged(cluster: ValidatedCluster) -> Self {
        let server = moto().await;
        let ctx = server.context().await;
        let mut recorded = RecordedRegion::default();
        converge(&ctx, &cluster, REGION, &mut recorded, 10).await;
        let clients = plain_clients(&server, REGION).await;
        let config = server
            .sdk_config()
            .await
            .to_builder()
            .region(Region::new(REGION))
            .build();
        let raw = aws_sdk_ec2::Client::new(&config);
        Self {
            server,
            ctx,
            cluster,
            recorded,
            clients,
            raw,
        }
    }

    /// Runs passes on the current spec until the region is Ready again.
    async fn reconcile(&mut self) {
        converge(&self.ctx, &self.cluster, REGION, &mut self.recorded, 10).await;
    }

    /// Changes the region out of band with `mutate`, reconciles, then hands what `mutate` returned to `check`.
    async fn drift<T>(&mut self, mutate: impl AsyncFnOnce(&Self) -> T, check: impl AsyncFnOnce(&Self, T)) {
        let before = mutate(self).await;
        self.reconcile().await;
        check(self, before).await;
    }

    /// The owned route table of a component (`route-table/public`, `route-table/private`).
    async fn route_table(&self, component: &str) -> RouteTable {
        let tables = self.clients.ec2.describe_route_tables(&owned()).await.unwrap();
        tables
            .into_iter()
            .find(|t| t.tags.get(tags::COMPONENT).map(String::as_str) == Some(component))
            .unwrap()
    }

    /// The node group's scaling as EKS reports it.
    async fn scaling(&self) -> Scaling {
        let ng = self
            .clients
            .eks
            .describe_nodegroup(ID, "workers")
            .await
            .unwrap()
            .unwrap();
        ng.scaling
    }

    /// Checks the node group's scaling.
    async fn assert_scaling(&self, min: i32, max: i32, desired: i32) {
        assert_eq!(self.scaling().await, Scaling { min, max, desired });
    }

    /// Sets the node group's scaling by hand, as a person or the cluster autoscaler would.
    async fn scale_by_hand(&self, min: i32, max: i32, desired: i32) {
        let update = NodegroupConfigUpdate {
            scaling: Some(Scaling { min, max, desired }),
            ..Default::default()
        };
        self.clients
            .eks
            .update_nodegroup_config(ID, "workers", &update)
            .await
            .unwrap();
    }
}

fn owned() -> [Filter; 1] {
    [Filter::tag(tags::OWNER_UID, UID)]
}

/// The `0.0.0.0/0` route of a table.
fn default_route(table: &RouteTable) -> &Route {
    table
        .routes
        .iter()
        .find(|r| r.destination == "0.0.0.0/0")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_nat_gateway_deleted_out_of_band_is_recreated_and_routed() {
    let mut s = Setup::seeded().await;
    s.drift(
        async |s| {
            let nats = s.clients.ec2.describe_nat_gateways(&owned()).await.unwrap();
            let old = nats.into_iter().next().unwrap();
            s.clients.ec2.delete_nat_gateway(&old.id).await.unwrap();
            old
        },
        async |s, old| {
            let nats = s.clients.ec2.describe_nat_gateways(&owned()).await.unwrap();
            let live: Vec<_> = nats.into_iter().filter(|n| n.is_live()).collect();
            assert_eq!(live.len(), 1);
            assert_ne!(live[0].id, old.id);
            let private = s.route_table("route-table/private").await;
            assert_eq!(
                default_route(&private).target,
                Some(RouteTargetId::NatGateway(live[0].id.clone()))
            );
            assert_eq!(inventory(&s.clients, UID, ID).await, seed_inventory());
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_removed_route_is_put_back() {
    let mut s = Setup::seeded().await;
    s.drift(
        async |s| {
            let public = s.route_table("route-table/public").await;
            s.raw
                .delete_route()
                .route_table_id(&public.id)
                .destination_cidr_block("0.0.0.0/0")
                .send()
                .await
                .unwrap();
            public.id
        },
        async |s, public_id| {
            let tables = s.clients.ec2.describe_route_tables(&owned()).await.unwrap();
            let public = tables.into_iter().find(|t| t.id == public_id).unwrap();
            let igws = s.clients.ec2.describe_internet_gateways(&owned()).await.unwrap();
            let igw = igws.into_iter().next().unwrap();
            assert_eq!(
                default_route(&public).target,
                Some(RouteTargetId::Gateway(igw.id))
            );
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_removed_tags_are_put_back() {
    let shared = format!("kubernetes.io/cluster/{ID}");
    let mut s = Setup::seeded().await;
    s.drift(
        async |s| {
            let vpc = s.clients.ec2.describe_vpcs(&owned()).await.unwrap().remove(0);
            let subnet = s.clients.ec2.describe_subnets(&owned()).await.unwrap().remove(0);
            for (id, key) in [(&vpc.id, "team"), (&subnet.id, shared.as_str())] {
                s.raw
                    .delete_tags()
                    .resources(id)
                    .tags(aws_sdk_ec2::types::Tag::builder().key(key).build())
                    .send()
                    .await
                    .unwrap();
            }
            subnet.id
        },
        async |s, subnet_id| {
            let vpc = s.clients.ec2.describe_vpcs(&owned()).await.unwrap().remove(0);
            assert_eq!(vpc.tags.get("team").map(String::as_str), Some("platform"));
            let subnet = s
                .clients
                .ec2
                .describe_subnets(&[Filter::new("subnet-id", [subnet_id])])
                .await
                .unwrap()
                .remove(0);
            assert_eq!(subnet.tags.get(&shared).map(String::as_str), Some("shared"));
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_node_group_scaled_by_hand_is_scaled_back() {
    let mut s = Setup::seeded().await;
    s.drift(
        async |s| s.scale_by_hand(1, 6, 5).await,
        async |s, ()| s.assert_scaling(2, 4, 2).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaler_owned_desired_size_is_left_alone_while_min_and_max_are_enforced() {
    let cluster = cluster_from(&seed_text().replace("      desiredSize: 2\n", ""), UID);
    let mut s = Setup::converged(cluster).await;
    assert_eq!(s.scaling().await.desired, 2, "starts at minSize");
    // The autoscaler scales up: left alone.
    s.drift(
        async |s| s.scale_by_hand(2, 4, 3).await,
        async |s, ()| s.assert_scaling(2, 4, 3).await,
    )
    .await;
    // Someone widens max and goes beyond it: max is enforced and desired kept within it.
    s.drift(
        async |s| s.scale_by_hand(2, 8, 7).await,
        async |s, ()| s.assert_scaling(2, 4, 4).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_extra_security_group_rule_is_revoked() {
    let mut s = Setup::seeded().await;
    s.drift(
        async |s| {
            let groups = s.clients.ec2.describe_security_groups(&owned()).await.unwrap();
            let cluster_sg = groups
                .into_iter()
                .find(|g| g.name == format!("{ID}-cluster"))
                .unwrap();
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
            cluster_sg.id
        },
        async |s, group_id| {
            let groups = s.clients.ec2.describe_security_groups(&owned()).await.unwrap();
            let cluster_sg = groups.iter().find(|g| g.id == group_id).unwrap();
            assert!(
                !cluster_sg.ingress.iter().any(|r| r.from_port == 22),
                "{:?}",
                cluster_sg.ingress
            );
            assert_eq!(cluster_sg.ingress.len(), 2);
        },
    )
    .await;
}

/// Not drift but a spec change, on the same setup: applied, then no update loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_cidrs_and_logging_changes_are_applied_without_an_update_loop() {
    let mut s = Setup::seeded().await;
    s.cluster = cluster_from(
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
    s.reconcile().await;
    let eks = s.clients.eks.describe_cluster(ID).await.unwrap().unwrap();
    let mut cidrs = eks.vpc.public_access_cidrs.clone();
    cidrs.sort();
    assert_eq!(cidrs, ["198.51.100.0/24", "203.0.113.10/32"]);
    assert_eq!(eks.enabled_log_types, ["api", "audit"]);
    // Further passes change nothing (moto keeps only the fields of the last update: no loop).
    let (ctx, instrument) = instrumented(&s.server).await;
    converge(&ctx, &s.cluster, REGION, &mut s.recorded, 1).await;
    assert_eq!(
        instrument.stats().mutations,
        0,
        "{}",
        instrument.stats().summary()
    );
}
