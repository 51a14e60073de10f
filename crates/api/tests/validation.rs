//! Every validation rule with a bad document: the error names the field path and says what is wrong.
#![allow(clippy::unwrap_used)]

use eks_api::parse::parse_documents;
use eks_api::{EksCluster, validate};

const SEED: &str = include_str!("../../../deploy/examples/cloudlad-two-regions.yaml");

fn seed_value() -> serde_json::Value {
    serde_saphyr::from_str(SEED).unwrap()
}

/// Applies `edit` to the seed document and returns the validation error text (panics if it validates).
fn error_of(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value = seed_value();
    edit(&mut value);
    let object: EksCluster = match eks_api::parse::from_value(value) {
        Ok(object) => object,
        Err(err) => return err.to_string(),
    };
    match validate(&object) {
        Ok(_) => panic!("the document validated"),
        Err(err) => err.to_string(),
    }
}

fn assert_error(edit: impl FnOnce(&mut serde_json::Value), field: &str, words: &str) {
    let err = error_of(edit);
    assert!(
        err.contains(&format!("{field}:")),
        "expected field {field} in: {err}"
    );
    assert!(err.contains(words), "expected {words:?} in: {err}");
}

fn set(value: &mut serde_json::Value, pointer: &str, new: serde_json::Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = value.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match parent {
        serde_json::Value::Array(items) => items[key.parse::<usize>().unwrap()] = new,
        serde_json::Value::Object(map) => {
            map.insert(key.to_owned(), new);
        }
        other => panic!("{pointer}: {other} is not a container"),
    }
}

#[test]
fn the_seed_example_is_valid() {
    let objects = parse_documents(SEED).unwrap();
    let cluster = validate(&objects[0]).unwrap();
    assert_eq!(cluster.regions().len(), 2);
    assert_eq!(
        cluster.regions()[1].cluster_id.as_str(),
        "eu-west-2-test-cloudlad"
    );
}

#[test]
fn no_regions() {
    assert_error(
        |v| set(v, "/spec/regions", serde_json::json!([])),
        "spec.regions",
        "at least one region",
    );
}

#[test]
fn duplicate_regions() {
    assert_error(
        |v| set(v, "/spec/regions", serde_json::json!(["eu-west-1", "eu-west-1"])),
        "spec.regions[1]",
        "duplicate region",
    );
}

#[test]
fn not_a_region_code() {
    assert_error(
        |v| set(v, "/spec/regions/1", serde_json::json!("Ireland")),
        "spec.regions[1]",
        "not an AWS region code",
    );
}

#[test]
fn invalid_vpc_cidr() {
    assert_error(
        |v| set(v, "/spec/network/vpcCidr", serde_json::json!("10.0.0.0/33")),
        "spec.network.vpcCidr",
        "not an IPv4 CIDR",
    );
    assert_error(
        |v| set(v, "/spec/network/vpcCidr", serde_json::json!("10.0.0.1/16")),
        "spec.network.vpcCidr",
        "host bits",
    );
    assert_error(
        |v| set(v, "/spec/network/vpcCidr", serde_json::json!("300.0.0.0/16")),
        "spec.network.vpcCidr",
        "not an IPv4 CIDR",
    );
}

#[test]
fn vpc_too_large_or_too_small() {
    assert_error(
        |v| set(v, "/spec/network/vpcCidr", serde_json::json!("10.0.0.0/8")),
        "spec.network.vpcCidr",
        "between /16 and /24",
    );
    assert_error(
        |v| set(v, "/spec/network/vpcCidr", serde_json::json!("10.0.0.0/26")),
        "spec.network.vpcCidr",
        "between /16 and /24",
    );
}

#[test]
fn override_vpc_cidr_is_checked_with_its_own_path() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/regionOverrides/eu-west-2/network/vpcCidr",
                serde_json::json!("10.0.0.0/12"),
            )
        },
        "spec.regionOverrides.eu-west-2.network.vpcCidr",
        "between /16 and /24",
    );
}

#[test]
fn subnet_outside_the_vpc() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/network/privateSubnetCidrs/2",
                serde_json::json!("10.9.3.0/24"),
            )
        },
        "spec.network.privateSubnetCidrs[2]",
        "outside the VPC",
    );
}

#[test]
fn overlapping_subnets() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/network/publicSubnetCidrs/0",
                serde_json::json!("10.0.0.0/22"),
            )
        },
        "spec.network.publicSubnetCidrs[0]",
        "overlaps 10.0.1.0/24",
    );
}

#[test]
fn more_zones_than_subnets() {
    assert_error(
        |v| set(v, "/spec/network/availabilityZones", serde_json::json!(4)),
        "spec.network.privateSubnetCidrs",
        "at least one subnet per zone",
    );
}

#[test]
fn only_one_subnet_list() {
    assert_error(
        |v| {
            v["spec"]["network"]
                .as_object_mut()
                .unwrap()
                .remove("publicSubnetCidrs");
        },
        "spec.network.publicSubnetCidrs",
        "both",
    );
}

#[test]
fn private_topology_with_public_subnets_or_nat() {
    assert_error(
        |v| {
            set(v, "/spec/network/topology", serde_json::json!("Private"));
            set(v, "/spec/network/natGateways", serde_json::json!("None"));
        },
        "spec.network.publicSubnetCidrs",
        "Private topology has no public subnets",
    );
    assert_error(
        |v| {
            set(v, "/spec/network/topology", serde_json::json!("Private"));
            v["spec"]["network"]
                .as_object_mut()
                .unwrap()
                .remove("publicSubnetCidrs");
        },
        "spec.network.natGateways",
        "need public and private subnets",
    );
}

#[test]
fn zone_count_out_of_range() {
    assert_error(
        |v| {
            let network = v["spec"]["network"].as_object_mut().unwrap();
            network.remove("publicSubnetCidrs");
            network.remove("privateSubnetCidrs");
            network.insert("availabilityZones".into(), serde_json::json!(7));
        },
        "spec.network.availabilityZones",
        "between 2 and 6",
    );
}

#[test]
fn zone_names_of_another_region() {
    assert_error(
        |v| {
            set(v, "/spec/regions", serde_json::json!(["eu-west-1"]));
            v["spec"]["regionOverrides"] = serde_json::json!({});
            let network = v["spec"]["network"].as_object_mut().unwrap();
            network.remove("availabilityZones");
            network.insert(
                "zones".into(),
                serde_json::json!(["eu-west-1a", "eu-west-2b", "eu-west-1c"]),
            );
        },
        "spec.network.zones[1]",
        "not an availability zone of eu-west-1",
    );
}

#[test]
fn vpc_too_small_for_computed_subnets() {
    assert_error(
        |v| {
            let network = v["spec"]["network"].as_object_mut().unwrap();
            network.remove("publicSubnetCidrs");
            network.remove("privateSubnetCidrs");
            network.insert("vpcCidr".into(), serde_json::json!("10.0.0.0/24"));
            network.insert("availabilityZones".into(), serde_json::json!(6));
        },
        "spec.network.vpcCidr",
        "too small for 6 zones",
    );
}

#[test]
fn node_group_min_greater_than_max() {
    assert_error(
        |v| {
            set(v, "/spec/nodeGroups/0/minSize", serde_json::json!(5));
            v["spec"]["nodeGroups"][0]
                .as_object_mut()
                .unwrap()
                .remove("desiredSize");
        },
        "spec.nodeGroups[0].minSize",
        "greater than maxSize",
    );
}

#[test]
fn node_group_desired_outside_bounds() {
    assert_error(
        |v| set(v, "/spec/nodeGroups/0/desiredSize", serde_json::json!(9)),
        "spec.nodeGroups[0].desiredSize",
        "outside [minSize 2, maxSize 4]",
    );
}

#[test]
fn node_group_min_zero_is_allowed() {
    let mut value = seed_value();
    set(&mut value, "/spec/nodeGroups/0/minSize", serde_json::json!(0));
    set(&mut value, "/spec/nodeGroups/0/desiredSize", serde_json::json!(0));
    validate(&eks_api::parse::from_value(value).unwrap()).unwrap();
}

#[test]
fn invalid_instance_type() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/nodeGroups/0/instanceTypes/0",
                serde_json::json!("t3-medium"),
            )
        },
        "spec.nodeGroups[0].instanceTypes[0]",
        "not an EC2 instance type",
    );
}

#[test]
fn duplicate_node_groups() {
    assert_error(
        |v| {
            let group = v["spec"]["nodeGroups"][0].clone();
            v["spec"]["nodeGroups"].as_array_mut().unwrap().push(group);
        },
        "spec.nodeGroups[1].name",
        "duplicate node group",
    );
}

#[test]
fn invalid_public_access_cidr() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/endpoint/publicAccessCidrs/0",
                serde_json::json!("203.0.113.10"),
            )
        },
        "spec.endpoint.publicAccessCidrs[0]",
        "not an IPv4 CIDR",
    );
}

#[test]
fn public_cidrs_without_public_access() {
    assert_error(
        |v| set(v, "/spec/endpoint/publicAccess", serde_json::json!(false)),
        "spec.endpoint.publicAccessCidrs",
        "must be empty",
    );
}

#[test]
fn cluster_id_longer_than_eks_allows() {
    assert_error(
        |v| {
            set(v, "/metadata/name", serde_json::json!("n".repeat(80)));
            set(v, "/spec/stage", serde_json::json!("s".repeat(20)));
            set(
                v,
                "/spec/regions",
                serde_json::json!(["ap-southeast-1", "eu-west-1"]),
            );
            set(v, "/spec/regionOverrides", serde_json::json!({}));
        },
        "spec.regions[0]",
        "EKS allows at most 100",
    );
}

#[test]
fn bad_object_name() {
    assert_error(
        |v| set(v, "/metadata/name", serde_json::json!("Cloud.Lad")),
        "metadata.name",
        "DNS label",
    );
}

#[test]
fn bad_stage_and_version() {
    assert_error(
        |v| set(v, "/spec/stage", serde_json::json!("Test")),
        "spec.stage",
        "lower-case",
    );
    assert_error(
        |v| set(v, "/spec/kubernetesVersion", serde_json::json!("1.31.4")),
        "spec.kubernetesVersion",
        "minor version",
    );
}

#[test]
fn bad_aws_auth_entries() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/awsAuth/mapRoles/0/rolearn",
                serde_json::json!("ops-admin"),
            )
        },
        "spec.awsAuth.mapRoles[0].rolearn",
        "not an IAM role ARN",
    );
    assert_error(
        |v| set(v, "/spec/awsAuth/mapAccounts", serde_json::json!(["1234"])),
        "spec.awsAuth.mapAccounts[0]",
        "12 digit",
    );
}

#[test]
fn reserved_tag_keys() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/tags",
                serde_json::json!({"eksoperator.io/owner-uid": "x"}),
            )
        },
        "spec.tags.eksoperator.io/owner-uid",
        "reserved",
    );
}

#[test]
fn override_for_a_region_not_listed() {
    assert_error(
        |v| {
            set(
                v,
                "/spec/regionOverrides/us-east-1",
                serde_json::json!({"network": {"vpcCidr": "10.2.0.0/16"}}),
            )
        },
        "spec.regionOverrides.us-east-1",
        "not one of spec.regions",
    );
}

#[test]
fn unknown_field_is_refused() {
    assert_error(
        |v| set(v, "/spec/network/vpnGateways", serde_json::json!(true)),
        "spec.network.vpnGateways",
        "unknown field",
    );
}

#[test]
fn all_errors_are_reported_at_once() {
    let err = error_of(|v| {
        set(v, "/spec/regions/1", serde_json::json!("nowhere"));
        set(v, "/spec/nodeGroups/0/instanceTypes/0", serde_json::json!("huge"));
    });
    assert!(
        err.contains("spec.regions[1]") && err.contains("spec.nodeGroups[0].instanceTypes[0]"),
        "{err}"
    );
}
