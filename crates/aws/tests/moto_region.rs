//! The seed's two regions against moto: convergence, a read-only second pass, what AWS then holds,
//! teardown, and a refused VPC CIDR change.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use eks_aws::engine::{EngineError, RecordedRegion, RegionPhase};
use eks_aws::types::{Filter, RouteTargetId, SgPeer, VpcAttribute};
use eks_aws::{TeardownRequest, ensure_regions, teardown_regions};
use eks_plan::tags;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_two_regions_converge_then_a_second_pass_makes_no_mutating_call() {
    let server = moto().await;
    let (ctx, instrument) = instrumented(&server).await;
    let cluster = seed();
    let mut recorded: BTreeMap<String, RecordedRegion> = BTreeMap::new();
    let mut ready = false;
    for _ in 0..10 {
        let reports = ensure_regions(&ctx, &cluster, &recorded).await;
        for report in &reports {
            assert_ne!(report.phase, RegionPhase::Failed, "{:?}", report.error);
            record(recorded.entry(report.region.clone()).or_default(), report);
        }
        if reports.iter().all(|r| r.phase == RegionPhase::Ready) {
            ready = true;
            break;
        }
    }
    assert!(ready, "not Ready: {recorded:#?}");

    instrument.reset_stats();
    let reports = ensure_regions(&ctx, &cluster, &recorded).await;
    let stats = instrument.stats();
    assert!(
        reports.iter().all(|r| r.phase == RegionPhase::Ready),
        "{reports:#?}"
    );
    assert_eq!(
        stats.mutations,
        0,
        "a no-change pass mutated: {}",
        stats.summary()
    );
    assert!(stats.reads <= 2 * 20, "too many reads: {}", stats.summary());

    for (name, cidr, prefix) in [
        ("eu-west-1", "10.0.0.0/16", "10.0."),
        ("eu-west-2", "10.1.0.0/16", "10.1."),
    ] {
        let report = reports.iter().find(|r| r.region == name).unwrap();
        let id = format!("{name}-test-cloudlad");
        let clients = plain_clients(&server, name).await;
        assert_eq!(inventory(&clients, UID, &id).await, seed_inventory(), "{name}");
        let owned = [Filter::tag(tags::OWNER_UID, UID)];
        let ec2 = &clients.ec2;

        let vpcs = ec2.describe_vpcs(&owned).await.unwrap();
        assert_eq!(vpcs[0].cidr, cidr);
        assert_eq!(vpcs[0].tags.get("Name").map(String::as_str), Some(id.as_str()));
        assert_eq!(vpcs[0].tags.get("team").map(String::as_str), Some("platform"));
        for attribute in [VpcAttribute::DnsSupport, VpcAttribute::DnsHostnames] {
            assert!(
                ec2.describe_vpc_attribute(&vpcs[0].id, attribute).await.unwrap(),
                "{attribute:?}"
            );
        }

        let mut zones: Vec<String> = ec2
            .describe_availability_zones()
            .await
            .unwrap()
            .into_iter()
            .filter(|z| z.state == "available" && z.zone_type == "availability-zone")
            .map(|z| z.name)
            .collect();
        zones.sort();
        zones.truncate(3);
        assert_eq!(report.zones, zones);
        let subnets = ec2.describe_subnets(&owned).await.unwrap();
        for subnet in &subnets {
            assert!(subnet.cidr.starts_with(prefix), "{subnet:?}");
            assert!(zones.contains(&subnet.zone));
            assert_eq!(
                subnet
                    .tags
                    .get(&format!("kubernetes.io/cluster/{id}"))
                    .map(String::as_str),
                Some("shared")
            );
            let public = subnet.tags.contains_key("kubernetes.io/role/elb");
            assert_eq!(
                public,
                !subnet.tags.contains_key("kubernetes.io/role/internal-elb")
            );
            assert_eq!(subnet.map_public_ip_on_launch, public, "{subnet:?}");
        }
        if name == "eu-west-1" {
            let mut cidrs: Vec<&str> = subnets.iter().map(|s| s.cidr.as_str()).collect();
            cidrs.sort();
            assert_eq!(
                cidrs,
                [
                    "10.0.1.0/24",
                    "10.0.101.0/24",
                    "10.0.102.0/24",
                    "10.0.103.0/24",
                    "10.0.2.0/24",
                    "10.0.3.0/24"
                ]
            );
        }

        let igw = &ec2.describe_internet_gateways(&owned).await.unwrap()[0];
        assert_eq!(igw.attached_vpcs, [vpcs[0].id.clone()]);
        let vgw = &ec2.describe_vpn_gateways(&owned).await.unwrap()[0];
        assert!(vgw.is_attached_to(&vpcs[0].id));
        let nat = ec2
            .describe_nat_gateways(&owned)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.is_live())
            .unwrap();
        let eip = &ec2.describe_addresses(&owned).await.unwrap()[0];
        assert_eq!(nat.allocation_ids, std::slice::from_ref(&eip.allocation_id));
        let public_subnet = subnets.iter().find(|s| s.id == nat.subnet_id).unwrap();
        assert!(public_subnet.map_public_ip_on_launch);

        for table in ec2.describe_route_tables(&owned).await.unwrap() {
            let default = table
                .routes
                .iter()
                .find(|r| r.destination == "0.0.0.0/0")
                .unwrap();
            let public = table.tags.get(tags::COMPONENT).map(String::as_str) == Some("route-table/public");
            let expected = if public {
                RouteTargetId::Gateway(igw.id.clone())
            } else {
                RouteTargetId::NatGateway(nat.id.clone())
            };
            assert_eq!(default.target.as_ref(), Some(&expected));
            assert_eq!(
                table
                    .associations
                    .iter()
                    .filter(|a| a.subnet_id.is_some())
                    .count(),
                3
            );
        }

        let groups = ec2.describe_security_groups(&owned).await.unwrap();
        let cluster_sg = groups.iter().find(|g| g.name == format!("{id}-cluster")).unwrap();
        let nodes_sg = groups.iter().find(|g| g.name == format!("{id}-nodes")).unwrap();
        let api_peers: Vec<&SgPeer> = cluster_sg
            .ingress
            .iter()
            .filter(|r| r.from_port == 443)
            .map(|r| &r.peer)
            .collect();
        assert_eq!(api_peers.len(), 2, "{:?}", cluster_sg.ingress);
        assert!(api_peers.contains(&&SgPeer::Cidr("203.0.113.10/32".into())));
        assert!(api_peers.contains(&&SgPeer::Group(nodes_sg.id.clone())));
        assert!(
            !cluster_sg
                .ingress
                .iter()
                .any(|r| r.peer == SgPeer::Cidr("0.0.0.0/0".into()))
        );

        for (role, policies) in [
            (format!("eks-cluster-{id}"), vec!["AmazonEKSClusterPolicy"]),
            (
                format!("eks-worker-{id}"),
                vec![
                    "AmazonEKSWorkerNodePolicy",
                    "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly",
                ],
            ),
        ] {
            let attached = clients.iam.list_attached_role_policies(&role).await.unwrap();
            for policy in policies {
                assert!(
                    attached.contains(&format!("arn:aws:iam::aws:policy/{policy}")),
                    "{role}: {attached:?}"
                );
            }
        }

        let eks = clients.eks.describe_cluster(&id).await.unwrap().unwrap();
        assert_eq!(eks.version, "1.31");
        assert_eq!(eks.status, "ACTIVE");
        assert!(eks.vpc.endpoint_public_access && eks.vpc.endpoint_private_access);
        assert_eq!(eks.vpc.public_access_cidrs, ["203.0.113.10/32"]);
        assert_eq!(eks.vpc.subnet_ids.len(), 6);
        assert_eq!(eks.vpc.security_group_ids, std::slice::from_ref(&cluster_sg.id));
        assert!(eks.role_arn.ends_with(&format!("role/eks-cluster-{id}")));
        let ng = clients
            .eks
            .describe_nodegroup(&id, "workers")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ng.scaling.min, ng.scaling.max, ng.scaling.desired), (2, 4, 2));
        assert_eq!(ng.instance_types, ["t3.medium"]);
        let private: Vec<&String> = subnets
            .iter()
            .filter(|s| !s.map_public_ip_on_launch)
            .map(|s| &s.id)
            .collect();
        assert!(ng.subnet_ids.iter().all(|s| private.contains(&s)));
        let issuer = eks.oidc_issuer.unwrap();
        assert_eq!(report.ids.oidc_issuer.as_deref(), Some(issuer.as_str()));
        let provider = clients
            .iam
            .get_oidc_provider(report.ids.oidc_provider_arn.as_ref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(provider.client_ids, ["sts.amazonaws.com"]);
        assert_eq!(report.account_id.as_deref(), Some("123456789012"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_everything_owned_in_both_regions_and_spares_a_lookalike_vpc() {
    let server = moto().await;
    let ctx = server.context().await;
    let cluster = seed();
    for name in ["eu-west-1", "eu-west-2"] {
        converge(&ctx, &cluster, name, &mut RecordedRegion::default(), 10).await;
    }
    let plain = plain_clients(&server, "eu-west-1").await;
    let lookalike_tags = [
        ("Name".to_owned(), "eu-west-1-test-cloudlad".to_owned()),
        (tags::OWNER_UID.to_owned(), "someone-else".to_owned()),
        (tags::CLUSTER_ID.to_owned(), "eu-west-1-test-cloudlad".to_owned()),
    ]
    .into_iter()
    .collect();
    let lookalike = plain
        .ec2
        .create_vpc("10.0.0.0/16", &lookalike_tags)
        .await
        .unwrap();

    let requests: Vec<TeardownRequest> = ["eu-west-1", "eu-west-2"]
        .iter()
        .map(|name| TeardownRequest {
            owner_uid: UID.into(),
            region: region(name),
            cluster_id: None,
            oidc_provider_arn: None,
            credentials: None,
            deletion_policy: eks_api::DeletionPolicy::Delete,
        })
        .collect();
    let mut gone = false;
    for _ in 0..10 {
        let reports = teardown_regions(&ctx, &requests).await;
        for r in &reports {
            assert!(r.error.is_none(), "{r:#?}");
        }
        if reports.iter().all(|r| r.gone) {
            gone = true;
            break;
        }
    }
    assert!(gone);
    for name in ["eu-west-1", "eu-west-2"] {
        let clients = plain_clients(&server, name).await;
        let id = format!("{name}-test-cloudlad");
        assert_eq!(
            inventory(&clients, UID, &id).await,
            Inventory::default(),
            "{name}"
        );
    }
    let left = plain
        .ec2
        .describe_vpcs(&[Filter::tag("Name", "eu-west-1-test-cloudlad")])
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, lookalike.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retain_policy_makes_no_call() {
    let server = moto().await;
    let (ctx, instrument) = instrumented(&server).await;
    let report = eks_aws::teardown_region(
        &ctx,
        &TeardownRequest {
            owner_uid: UID.into(),
            region: region("eu-west-1"),
            cluster_id: Some("eu-west-1-test-cloudlad".into()),
            oidc_provider_arn: None,
            credentials: None,
            deletion_policy: eks_api::DeletionPolicy::Retain,
        },
    )
    .await;
    assert!(report.gone);
    assert_eq!(instrument.stats().total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vpc_cidr_change_is_refused_with_a_clear_message_and_no_mutation() {
    let server = moto().await;
    let (ctx, instrument) = instrumented(&server).await;
    let mut recorded = RecordedRegion::default();
    converge(&ctx, &seed(), "eu-west-1", &mut recorded, 10).await;
    let changed = cluster_from(
        &seed_text()
            .replace("vpcCidr: 10.0.0.0/16", "vpcCidr: 10.2.0.0/16")
            .replace(
                "privateSubnetCidrs: [10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]",
                "privateSubnetCidrs: [10.2.1.0/24, 10.2.2.0/24, 10.2.3.0/24]",
            )
            .replace(
                "publicSubnetCidrs: [10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]",
                "publicSubnetCidrs: [10.2.101.0/24, 10.2.102.0/24, 10.2.103.0/24]",
            ),
        UID,
    );
    instrument.reset_stats();
    let report = eks_aws::ensure_region(&ctx, &changed, &region("eu-west-1"), &recorded).await;
    assert_eq!(report.phase, RegionPhase::Failed);
    let error = report.error.unwrap();
    assert!(matches!(error, EngineError::VpcCidrImmutable { .. }), "{error}");
    assert_eq!(error.reason(), "VpcCidrImmutable");
    assert!(error.to_string().contains("cannot change in place"), "{error}");
    assert_eq!(
        instrument.stats().mutations,
        0,
        "{}",
        instrument.stats().summary()
    );
}
