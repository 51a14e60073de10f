//! Validation of `spec.network` and its per-region overrides, resolved into one [`ResolvedNetwork`] per region.

use ipnet::Ipv4Net;
use serde::Serialize;

use crate::names::RegionName;
use crate::network::{
    DEFAULT_ZONE_COUNT, LARGEST_VPC_PREFIX, MAX_ZONES, MIN_ZONES, NatGateways, SMALLEST_SUBNET_PREFIX,
    SMALLEST_VPC_PREFIX, SubnetLayout, Topology, ZoneSelection, compute_layout,
};
use crate::patterns;
use crate::spec::EksClusterSpec;
use crate::validate::{Errors, parse_cidr};

/// The network of one region after overrides and defaults, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedNetwork {
    /// The VPC's primary CIDR.
    pub vpc_cidr: Ipv4Net,
    /// How the zones are chosen.
    pub zones: ZoneSelection,
    /// The subnets, given or computed.
    #[serde(skip)]
    pub layout: SubnetLayout,
    /// Whether the subnets were computed from the VPC CIDR rather than listed in the spec.
    pub subnets_computed: bool,
    /// Which subnet tiers exist.
    pub topology: Topology,
    /// NAT gateways, with the default resolved (`Single` with both tiers, `None` otherwise).
    pub nat_gateways: NatGateways,
    /// Whether a VPN gateway is attached.
    pub vpn_gateway: bool,
}

/// Merges `spec.network` with the region's override and validates the result. Field paths name the field
/// where the offending value was written (the override's when it came from there).
pub(crate) fn resolve_network(
    spec: &EksClusterSpec,
    region: &RegionName,
    errors: &mut Errors,
) -> Option<ResolvedNetwork> {
    let base = &spec.network;
    let over = spec
        .region_overrides
        .get(region.as_str())
        .and_then(|o| o.network.as_ref());
    let over_path = format!("spec.regionOverrides.{region}.network");
    let path = |field: &str, overridden: bool| {
        if overridden {
            format!("{over_path}.{field}")
        } else {
            format!("spec.network.{field}")
        }
    };
    let before = errors.len();

    // VPC CIDR.
    let vpc_override = over.and_then(|o| o.vpc_cidr.as_ref());
    let vpc_field = path("vpcCidr", vpc_override.is_some());
    let vpc = match parse_cidr(vpc_override.unwrap_or(&base.vpc_cidr)) {
        Ok(vpc) if !(LARGEST_VPC_PREFIX..=SMALLEST_VPC_PREFIX).contains(&vpc.prefix_len()) => {
            errors.add(
                &vpc_field,
                format!("{vpc} must be between /{LARGEST_VPC_PREFIX} and /{SMALLEST_VPC_PREFIX}"),
            );
            None
        }
        Ok(vpc) => Some(vpc),
        Err(message) => {
            errors.add(&vpc_field, message);
            None
        }
    };

    // Zones.
    let zones_override = over.and_then(|o| o.zones.as_ref());
    let count_override = over.and_then(|o| o.availability_zones);
    let zone_names: &[String] = zones_override.map_or(&base.zones, Vec::as_slice);
    let zones_field = path("zones", zones_override.is_some());
    let count = count_override.or(if zones_override.is_some() {
        None
    } else {
        base.availability_zones
    });
    let count_field = path("availabilityZones", count_override.is_some());
    let zones = if zone_names.is_empty() {
        let n = count.unwrap_or(DEFAULT_ZONE_COUNT);
        if !(MIN_ZONES..=MAX_ZONES).contains(&n) {
            errors.add(
                &count_field,
                format!("{n} must be between {MIN_ZONES} and {MAX_ZONES}"),
            );
        }
        ZoneSelection::Count(n)
    } else {
        check_zone_names(zone_names, region, &zones_field, errors);
        if let Some(n) = count
            && usize::from(n) != zone_names.len()
        {
            errors.add(
                &count_field,
                format!("{n} differs from the {} zones named in zones", zone_names.len()),
            );
        }
        ZoneSelection::Named(zone_names.to_vec())
    };

    // Topology and NAT.
    let topology = base.topology.unwrap_or_default();
    let nat_override = over.and_then(|o| o.nat_gateways);
    let nat_field = path("natGateways", nat_override.is_some());
    let nat_gateways = nat_override.or(base.nat_gateways).unwrap_or(match topology {
        Topology::PublicAndPrivate => NatGateways::Single,
        Topology::Private | Topology::Public => NatGateways::None,
    });
    if nat_gateways != NatGateways::None && topology != Topology::PublicAndPrivate {
        errors.add(
            &nat_field,
            format!("{nat_gateways:?} NAT gateways need public and private subnets; the {topology:?} topology has only one tier"),
        );
    }
    let vpn_gateway = over.and_then(|o| o.vpn_gateway).unwrap_or(base.vpn_gateway);

    // Subnets: an override of the VPC CIDR without subnets recomputes them for the region.
    let private_override = over.and_then(|o| o.private_subnet_cidrs.as_ref());
    let public_override = over.and_then(|o| o.public_subnet_cidrs.as_ref());
    let (private_raw, public_raw, private_field, public_field): (&[String], &[String], String, String) =
        if private_override.is_some() || public_override.is_some() {
            (
                private_override.map_or(&[], Vec::as_slice),
                public_override.map_or(&[], Vec::as_slice),
                format!("{over_path}.privateSubnetCidrs"),
                format!("{over_path}.publicSubnetCidrs"),
            )
        } else if vpc_override.is_some() {
            (&[], &[], String::new(), String::new())
        } else {
            (
                &base.private_subnet_cidrs,
                &base.public_subnet_cidrs,
                "spec.network.privateSubnetCidrs".to_owned(),
                "spec.network.publicSubnetCidrs".to_owned(),
            )
        };
    match topology {
        Topology::Private if !public_raw.is_empty() => {
            errors.add(&public_field, "the Private topology has no public subnets");
        }
        Topology::Public if !private_raw.is_empty() => {
            errors.add(&private_field, "the Public topology has no private subnets");
        }
        Topology::PublicAndPrivate if private_raw.is_empty() != public_raw.is_empty() => {
            let missing = if private_raw.is_empty() {
                &private_field
            } else {
                &public_field
            };
            errors.add(
                missing,
                "give both privateSubnetCidrs and publicSubnetCidrs, or neither",
            );
        }
        _ => {}
    }

    let vpc = vpc?;
    let subnets_computed = private_raw.is_empty() && public_raw.is_empty();
    let layout = if subnets_computed {
        match compute_layout(vpc, topology, u8::try_from(zones.len()).unwrap_or(u8::MAX)) {
            Ok(layout) => layout,
            Err(message) => {
                errors.add(&vpc_field, message);
                return None;
            }
        }
    } else {
        let private = parse_subnets(private_raw, &private_field, vpc, errors);
        let public = parse_subnets(public_raw, &public_field, vpc, errors);
        check_overlaps(&private, &public, &private_field, &public_field, errors);
        for (list, field) in [(&private, &private_field), (&public, &public_field)] {
            let given = list.len();
            if given > 0 && given < zones.len() {
                errors.add(
                    field,
                    format!(
                        "{given} subnets for {} availability zones: give at least one subnet per zone",
                        zones.len()
                    ),
                );
            }
        }
        SubnetLayout {
            private: private.into_iter().map(|(_, n)| n).collect(),
            public: public.into_iter().map(|(_, n)| n).collect(),
        }
    };

    if errors.len() > before {
        return None;
    }
    Some(ResolvedNetwork {
        vpc_cidr: vpc,
        zones,
        layout,
        subnets_computed,
        topology,
        nat_gateways,
        vpn_gateway,
    })
}

fn check_zone_names(zones: &[String], region: &RegionName, field: &str, errors: &mut Errors) {
    if zones.len() < usize::from(MIN_ZONES) || zones.len() > usize::from(MAX_ZONES) {
        errors.add(
            field,
            format!(
                "{} zones given; between {MIN_ZONES} and {MAX_ZONES} are needed",
                zones.len()
            ),
        );
    }
    for (i, zone) in zones.iter().enumerate() {
        let in_region = zone
            .strip_prefix(region.as_str())
            .is_some_and(|rest| rest.len() == 1);
        if !patterns::is_zone(zone) || !in_region {
            errors.add(
                format!("{field}[{i}]"),
                format!("{zone:?} is not an availability zone of {region}"),
            );
        }
        if zones[..i].contains(zone) {
            errors.add(format!("{field}[{i}]"), format!("duplicate zone {zone:?}"));
        }
    }
}

fn parse_subnets(raw: &[String], field: &str, vpc: Ipv4Net, errors: &mut Errors) -> Vec<(usize, Ipv4Net)> {
    let mut nets = Vec::new();
    for (i, cidr) in raw.iter().enumerate() {
        match parse_cidr(cidr) {
            Ok(net) if !vpc.contains(&net) => {
                errors.add(
                    format!("{field}[{i}]"),
                    format!("{net} lies outside the VPC {vpc}"),
                );
            }
            Ok(net) if net.prefix_len() > SMALLEST_SUBNET_PREFIX => {
                errors.add(
                    format!("{field}[{i}]"),
                    format!("{net} is smaller than the /28 AWS allows"),
                );
            }
            Ok(net) => nets.push((i, net)),
            Err(message) => errors.add(format!("{field}[{i}]"), message),
        }
    }
    nets
}

fn check_overlaps(
    private: &[(usize, Ipv4Net)],
    public: &[(usize, Ipv4Net)],
    private_field: &str,
    public_field: &str,
    errors: &mut Errors,
) {
    let all: Vec<(String, Ipv4Net)> = private
        .iter()
        .map(|(i, n)| (format!("{private_field}[{i}]"), *n))
        .chain(public.iter().map(|(i, n)| (format!("{public_field}[{i}]"), *n)))
        .collect();
    for (i, (field, net)) in all.iter().enumerate() {
        if let Some((other_field, other)) = all[..i]
            .iter()
            .find(|(_, other)| other.contains(net) || net.contains(other))
        {
            errors.add(field, format!("{net} overlaps {other} ({other_field})"));
        }
    }
}
