//! The seed's network with another NAT gateway layout, and a check that AWS holds exactly that layout.

use std::collections::BTreeSet;

use eks_aws::RegionClients;
use eks_aws::types::{Filter, RouteTargetId};
use eks_plan::{Tags, tags};

/// A `spec.network.natGateways` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nat {
    None,
    Single,
    OnePerAz,
}

/// The layouts the reshaping tests walk through, in order: every NAT mode after every other, with the VPN
/// gateway switched off and on again.
pub const RESHAPE_STEPS: [(Nat, bool); 6] = [
    (Nat::Single, true),
    (Nat::OnePerAz, true),
    (Nat::None, false),
    (Nat::Single, true),
    (Nat::OnePerAz, false),
    (Nat::Single, true),
];

/// The seed's text with `natGateways` and `vpnGateway` replaced.
pub fn seed_with(nat: Nat, vpn: bool) -> String {
    let text = super::seed_text();
    assert!(text.contains("natGateways: Single") && text.contains("vpnGateway: true"));
    text.replace("natGateways: Single", &format!("natGateways: {nat:?}"))
        .replace("vpnGateway: true", &format!("vpnGateway: {vpn}"))
}

fn component(tags: &Tags) -> String {
    tags.get(tags::COMPONENT).cloned().unwrap_or_default()
}

fn set<const N: usize>(items: [Vec<String>; N]) -> BTreeSet<String> {
    items.into_iter().flatten().collect()
}

/// Asserts what the owner holds in the region for this layout: exactly the planned NAT gateways (live ones),
/// elastic IPs, route tables and VPN gateway; each subnet associated with exactly its planned table; each
/// private table with exactly the planned default route (to its zone's NAT gateway, the first zone's, or none).
pub async fn assert_network_shape(
    clients: &RegionClients,
    uid: &str,
    cluster_id: &str,
    zones: &[String],
    nat: Nat,
    vpn: bool,
) {
    let owned = [
        Filter::tag(tags::OWNER_UID, uid),
        Filter::tag(tags::CLUSTER_ID, cluster_id),
    ];
    let ec2 = &clients.ec2;
    let nat_zones: Vec<&String> = match nat {
        Nat::None => Vec::new(),
        Nat::Single => zones.iter().take(1).collect(),
        Nat::OnePerAz => zones.iter().collect(),
    };
    let nats: Vec<_> = ec2
        .describe_nat_gateways(&owned)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.is_live())
        .collect();
    let got: BTreeSet<String> = nats.iter().map(|n| component(&n.tags)).collect();
    let want = set([nat_zones.iter().map(|z| format!("nat/nat-{z}")).collect()]);
    assert_eq!(got, want, "{nat:?}: live NAT gateways");
    assert_eq!(nats.len(), want.len(), "{nat:?}: one NAT gateway per component");

    let addresses = ec2.describe_addresses(&owned).await.unwrap();
    let got: BTreeSet<String> = addresses.iter().map(|a| component(&a.tags)).collect();
    let want = set([nat_zones.iter().map(|z| format!("eip/nat-{z}")).collect()]);
    assert_eq!(got, want, "{nat:?}: elastic IPs");
    assert_eq!(
        addresses.len(),
        want.len(),
        "{nat:?}: one elastic IP per component"
    );

    let tables = ec2.describe_route_tables(&owned).await.unwrap();
    let got: BTreeSet<String> = tables.iter().map(|t| component(&t.tags)).collect();
    let private_tables: Vec<String> = match nat {
        Nat::OnePerAz => zones.iter().map(|z| format!("route-table/private-{z}")).collect(),
        _ => vec!["route-table/private".to_owned()],
    };
    let want = set([vec!["route-table/public".to_owned()], private_tables]);
    assert_eq!(got, want, "{nat:?}: route tables");
    assert_eq!(tables.len(), want.len(), "{nat:?}: one route table per component");

    let vgws = ec2.describe_vpn_gateways(&owned).await.unwrap();
    let live = vgws
        .iter()
        .filter(|g| g.state != "deleted" && g.state != "deleting")
        .count();
    assert_eq!(live, usize::from(vpn), "{nat:?}: VPN gateways");

    let vpcs = ec2.describe_vpcs(&owned).await.unwrap();
    assert_eq!(vpcs.len(), 1);
    let in_vpc = ec2
        .describe_route_tables(&[Filter::vpc(&vpcs[0].id)])
        .await
        .unwrap();
    let subnets = ec2.describe_subnets(&owned).await.unwrap();
    assert_eq!(subnets.len(), 2 * zones.len());
    for subnet in &subnets {
        let holders: Vec<_> = in_vpc
            .iter()
            .filter(|t| {
                t.associations
                    .iter()
                    .any(|a| a.subnet_id.as_deref() == Some(subnet.id.as_str()))
            })
            .collect();
        assert_eq!(holders.len(), 1, "{nat:?}: subnet {} has one table", subnet.id);
        let table = holders[0];
        let associations = table
            .associations
            .iter()
            .filter(|a| a.subnet_id.as_deref() == Some(subnet.id.as_str()))
            .count();
        assert_eq!(associations, 1, "{nat:?}: subnet {} associated once", subnet.id);
        let default_route = table.routes.iter().find(|r| r.destination == "0.0.0.0/0");
        if component(&subnet.tags).starts_with("subnet/public-") {
            assert_eq!(component(&table.tags), "route-table/public");
            assert!(matches!(
                default_route.and_then(|r| r.target.as_ref()),
                Some(RouteTargetId::Gateway(id)) if id.starts_with("igw-")
            ));
            continue;
        }
        let (table_component, nat_zone) = match nat {
            Nat::None => ("route-table/private".to_owned(), None),
            Nat::Single => ("route-table/private".to_owned(), Some(&zones[0])),
            Nat::OnePerAz => (format!("route-table/private-{}", subnet.zone), Some(&subnet.zone)),
        };
        assert_eq!(
            component(&table.tags),
            table_component,
            "{nat:?}: table of {}",
            subnet.id
        );
        match nat_zone {
            None => assert!(default_route.is_none(), "{nat:?}: {:?}", table.routes),
            Some(zone) => {
                let nat_id = nats
                    .iter()
                    .find(|n| component(&n.tags) == format!("nat/nat-{zone}"))
                    .map(|n| n.id.clone());
                assert_eq!(
                    default_route.and_then(|r| r.target.clone()),
                    nat_id.map(RouteTargetId::NatGateway),
                    "{nat:?}: default route of {}",
                    subnet.id
                );
            }
        }
    }
}
