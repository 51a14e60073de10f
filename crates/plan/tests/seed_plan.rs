//! The seed's two-region setup planned offline: ids, tags, subnet layout and aws-auth as the blog post has them.
#![allow(clippy::unwrap_used)]

use eks_api::{EksCluster, RegionName, SubnetTier, validate};
use eks_plan::aws_auth::RoleMapping;
use eks_plan::{RegionPlan, RoleKind, RouteTarget, plan_region, plan_region_offline, tags};

fn seed() -> EksCluster {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/examples/cloudlad-two-regions.yaml"
    );
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn region(name: &str) -> RegionName {
    RegionName::parse(name).unwrap()
}

fn plan(name: &str) -> RegionPlan {
    let mut object = seed();
    object.metadata.uid = Some("0b5c7f3e-uid".into());
    let cluster = validate(&object).unwrap();
    plan_region_offline(&cluster, &region(name), Some("123456789012")).unwrap()
}

#[test]
fn ids_follow_the_seed_label_module() {
    assert_eq!(plan("eu-west-1").cluster_id.as_str(), "eu-west-1-test-cloudlad");
    assert_eq!(plan("eu-west-2").cluster_id.as_str(), "eu-west-2-test-cloudlad");
    assert_eq!(plan("eu-west-1").cluster.name, "eu-west-1-test-cloudlad");
}

#[test]
fn explicit_subnets_in_eu_west_1_and_computed_ones_in_eu_west_2() {
    let p = plan("eu-west-1");
    let cidrs = |plan: &RegionPlan, tier| -> Vec<String> {
        plan.subnets
            .iter()
            .filter(|s| s.tier == tier)
            .map(|s| s.cidr.to_string())
            .collect()
    };
    assert_eq!(p.vpc.cidr.to_string(), "10.0.0.0/16");
    assert_eq!(
        cidrs(&p, SubnetTier::Private),
        ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
    );
    assert_eq!(
        cidrs(&p, SubnetTier::Public),
        ["10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24"]
    );
    let zones: Vec<&str> = p.subnets.iter().map(|s| s.zone.as_str()).collect();
    assert_eq!(
        zones,
        [
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c"
        ]
    );
    assert!(p.zones.placeholder);

    let q = plan("eu-west-2");
    assert_eq!(q.vpc.cidr.to_string(), "10.1.0.0/16");
    assert_eq!(
        cidrs(&q, SubnetTier::Private),
        ["10.1.0.0/19", "10.1.32.0/19", "10.1.64.0/19"]
    );
    assert_eq!(
        cidrs(&q, SubnetTier::Public),
        ["10.1.128.0/20", "10.1.144.0/20", "10.1.160.0/20"]
    );
}

#[test]
fn eks_tags_as_eks_requires() {
    let p = plan("eu-west-1");
    let key = "kubernetes.io/cluster/eu-west-1-test-cloudlad";
    assert_eq!(p.vpc.tags[key], "shared");
    for subnet in &p.subnets {
        assert_eq!(subnet.tags[key], "shared", "{}", subnet.name);
        match subnet.tier {
            SubnetTier::Public => {
                assert_eq!(subnet.tags["kubernetes.io/role/elb"], "1");
                assert!(!subnet.tags.contains_key("kubernetes.io/role/internal-elb"));
                assert!(subnet.map_public_ip_on_launch);
            }
            SubnetTier::Private => {
                assert_eq!(subnet.tags["kubernetes.io/role/internal-elb"], "1");
                assert!(!subnet.tags.contains_key("kubernetes.io/role/elb"));
                assert!(!subnet.map_public_ip_on_launch);
            }
        }
    }
    assert_eq!(p.node_groups[0].tags[key], "owned");
    assert_eq!(p.security_group("nodes").unwrap().tags[key], "owned");
}

#[test]
fn every_resource_carries_ownership_user_tags_and_a_component() {
    let p = plan("eu-west-1");
    let mut all: Vec<(&str, &tags::Tags)> = vec![("vpc", &p.vpc.tags)];
    all.extend(p.subnets.iter().map(|s| (s.name.as_str(), &s.tags)));
    all.extend(p.route_tables.iter().map(|t| (t.name.as_str(), &t.tags)));
    all.extend(
        p.nat_gateways
            .iter()
            .flat_map(|n| [(n.name.as_str(), &n.tags), (n.eip_name.as_str(), &n.eip_tags)]),
    );
    all.extend(p.security_groups.iter().map(|g| (g.name.as_str(), &g.tags)));
    all.extend(p.iam_roles.iter().map(|r| (r.name.as_str(), &r.tags)));
    all.extend(p.node_groups.iter().map(|g| (g.name.as_str(), &g.tags)));
    all.push(("igw", &p.internet_gateway.as_ref().unwrap().tags));
    all.push(("vgw", &p.vpn_gateway.as_ref().unwrap().tags));
    all.push(("cluster", &p.cluster.tags));
    all.push(("oidc", &p.oidc_provider.tags));
    let mut components = std::collections::BTreeSet::new();
    for (name, t) in all {
        assert_eq!(t[tags::OWNER_UID], "0b5c7f3e-uid", "{name}");
        assert_eq!(t[tags::OWNER], "default/cloudlad", "{name}");
        assert_eq!(t[tags::REGION], "eu-west-1", "{name}");
        assert_eq!(t[tags::CLUSTER_ID], "eu-west-1-test-cloudlad", "{name}");
        assert_eq!(t["team"], "platform", "{name}");
        assert!(t.contains_key("Name"), "{name}");
        assert!(
            components.insert(t[tags::COMPONENT].clone()),
            "component of {name} is not unique"
        );
    }
}

#[test]
fn gateways_nat_and_routes() {
    let p = plan("eu-west-1");
    assert_eq!(p.nat_gateways.len(), 1, "Single NAT");
    assert_eq!(p.nat_gateways[0].zone, "eu-west-1a");
    assert_eq!(
        p.subnet(&p.nat_gateways[0].subnet_key).unwrap().tier,
        SubnetTier::Public
    );
    assert_eq!(
        p.vpn_gateway.as_ref().unwrap().name,
        "eu-west-1-test-cloudlad-vgw"
    );
    let public = p.route_tables.iter().find(|t| t.key == "public").unwrap();
    assert_eq!(public.routes[0].target, RouteTarget::InternetGateway);
    assert_eq!(public.subnet_keys.len(), 3);
    assert!(!public.propagate_vpn_gateway);
    let private = p.route_tables.iter().find(|t| t.key == "private").unwrap();
    assert_eq!(
        private.routes[0].target,
        RouteTarget::NatGateway {
            key: "nat-eu-west-1a".into()
        }
    );
    assert_eq!(private.subnet_keys, ["private-0", "private-1", "private-2"]);
    assert!(private.propagate_vpn_gateway);
}

#[test]
fn security_groups_open_the_api_only_to_allowed_cidrs_and_nodes() {
    let p = plan("eu-west-1");
    let cluster = p.security_group("cluster").unwrap();
    let https: Vec<String> = cluster
        .ingress
        .iter()
        .map(|r| {
            assert_eq!((r.protocol.as_str(), r.from_port, r.to_port), ("tcp", 443, 443));
            serde_json::to_string(&r.peer).unwrap()
        })
        .collect();
    assert_eq!(https.len(), 2);
    assert!(https.iter().any(|p| p.contains("203.0.113.10/32")));
    assert!(https.iter().any(|p| p.contains("\"nodes\"")));
    assert_eq!(
        p.cluster
            .public_access_cidrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["203.0.113.10/32"]
    );
}

#[test]
fn iam_roles_and_aws_auth_match_the_seed() {
    let p = plan("eu-west-1");
    let worker = p.role(RoleKind::Worker).unwrap();
    assert_eq!(worker.name, "eks-worker-eu-west-1-test-cloudlad");
    assert_eq!(
        worker.arn,
        "arn:aws:iam::123456789012:role/eks-worker-eu-west-1-test-cloudlad"
    );
    assert_eq!(
        worker.trust_policy["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    assert_eq!(worker.managed_policy_arns.len(), 3);
    let control = p.role(RoleKind::ControlPlane).unwrap();
    assert_eq!(
        control.managed_policy_arns,
        ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    );
    assert_eq!(
        control.trust_policy["Statement"][0]["Principal"]["Service"],
        "eks.amazonaws.com"
    );

    let cm = p.aws_auth.config_map().unwrap();
    let roles: Vec<RoleMapping> = serde_saphyr::from_str(&cm.data.unwrap()["mapRoles"]).unwrap();
    assert_eq!(roles[0].rolearn, worker.arn);
    assert_eq!(roles[0].username, "system:node:{{EC2PrivateDNSName}}");
    assert_eq!(roles[0].groups, ["system:bootstrappers", "system:nodes"]);
    assert_eq!(roles[1].rolearn, "arn:aws:iam::123456789012:role/ops-admin");
    assert_eq!(roles[1].groups, ["system:masters"]);
}

#[test]
fn node_groups_run_in_private_subnets_with_the_seed_settings() {
    let p = plan("eu-west-1");
    let g = &p.node_groups[0];
    assert_eq!(g.name, "workers");
    assert_eq!(g.subnet_keys, ["private-0", "private-1", "private-2"]);
    assert_eq!((g.min_size, g.max_size, g.desired_size), (2, 4, Some(2)));
    assert_eq!(g.ssh_key_name.as_deref(), Some("testbed"));
    assert_eq!(g.disk_size_gib, 20);
    assert_eq!(g.instance_types, ["t3.medium"]);
}

#[test]
fn real_zones_replace_placeholders() {
    let mut object = seed();
    object.spec.regions = vec!["ca-central-1".into()];
    object.spec.region_overrides.clear();
    let cluster = validate(&object).unwrap();
    let zones: Vec<String> = ["ca-central-1a", "ca-central-1b", "ca-central-1d"]
        .map(String::from)
        .to_vec();
    let p = plan_region(&cluster, &region("ca-central-1"), &zones, None).unwrap();
    assert!(!p.zones.placeholder);
    assert_eq!(p.subnets[2].zone, "ca-central-1d");
    assert_eq!(
        p.role(RoleKind::Worker).unwrap().arn,
        "arn:aws:iam::<AWS_ACCOUNT_ID>:role/eks-worker-ca-central-1-test-cloudlad"
    );
    let err = plan_region(&cluster, &region("ca-central-1"), &zones[..2], None).unwrap_err();
    assert_eq!(err.reason(), "ZoneCount");
}

#[test]
fn long_names_shorten_role_names_with_a_hash() {
    let mut object = seed();
    object.metadata.name = Some("a-very-long-cluster-name-for-the-payments-platform-team".into());
    let cluster = validate(&object).unwrap();
    let p = plan_region_offline(&cluster, &region("eu-west-1"), None).unwrap();
    for role in &p.iam_roles {
        assert!(role.name.len() <= 64, "{}", role.name);
    }
    assert_ne!(p.iam_roles[0].name, p.iam_roles[1].name);
}

#[test]
fn one_nat_per_zone_gives_one_private_table_per_zone() {
    let mut object = seed();
    object.spec.network.nat_gateways = Some(eks_api::NatGateways::OnePerAz);
    let cluster = validate(&object).unwrap();
    let p = plan_region_offline(&cluster, &region("eu-west-1"), None).unwrap();
    assert_eq!(p.nat_gateways.len(), 3);
    let private: Vec<_> = p
        .route_tables
        .iter()
        .filter(|t| t.key.starts_with("private"))
        .collect();
    assert_eq!(private.len(), 3);
    for table in private {
        assert_eq!(table.subnet_keys.len(), 1);
        let RouteTarget::NatGateway { key } = &table.routes[0].target else {
            panic!("not a NAT route")
        };
        let nat = p.nat_gateways.iter().find(|n| &n.key == key).unwrap();
        assert_eq!(p.subnet(&table.subnet_keys[0]).unwrap().zone, nat.zone);
    }
}

#[test]
fn private_and_public_topologies() {
    let mut object = seed();
    object.spec.network.topology = Some(eks_api::Topology::Private);
    object.spec.network.public_subnet_cidrs.clear();
    object.spec.network.nat_gateways = None;
    let p = plan_region_offline(&validate(&object).unwrap(), &region("eu-west-1"), None).unwrap();
    assert!(p.internet_gateway.is_none());
    assert!(p.nat_gateways.is_empty());
    assert!(p.subnets.iter().all(|s| s.tier == SubnetTier::Private));

    let mut object = seed();
    object.spec.network.topology = Some(eks_api::Topology::Public);
    object.spec.network.private_subnet_cidrs.clear();
    object.spec.network.nat_gateways = None;
    let p = plan_region_offline(&validate(&object).unwrap(), &region("eu-west-1"), None).unwrap();
    assert!(p.internet_gateway.is_some());
    assert!(p.nat_gateways.is_empty());
    assert!(
        p.node_groups[0]
            .subnet_keys
            .iter()
            .all(|k| k.starts_with("public"))
    );
}
