//! Every bad input of `spec.access` (and of the access entries of `regionOverrides`): the error names the field.
#![allow(clippy::unwrap_used)]

use eks_api::{EksCluster, EksClusterStatus, RegionStatus, validate, validate_mode_transition};
use serde_json::{Value, json};

const SEED: &str = include_str!("../../../deploy/examples/cloudlad-two-regions.yaml");

/// The seed with `access` as given.
fn with_access(access: Value) -> EksCluster {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] = access;
    eks_api::parse::from_value(value).unwrap()
}

fn entry(extra: Value) -> Value {
    let mut base = json!({"principalArn": "arn:aws:iam::123456789012:role/ops-admin"});
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    base
}

fn api_with(entries: Value) -> EksCluster {
    with_access(json!({"authenticationMode": "ApiAndConfigMap", "entries": entries}))
}

fn assert_error(object: &EksCluster, field: &str, words: &str) {
    let err = match validate(object) {
        Ok(_) => panic!("the document validated"),
        Err(err) => err.to_string(),
    };
    assert!(
        err.contains(&format!("{field}:")),
        "expected field {field} in: {err}"
    );
    assert!(err.contains(words), "expected {words:?} in: {err}");
}

#[test]
fn a_full_access_block_is_valid_and_defaults_are_filled() {
    let object = api_with(json!([entry(json!({
        "username": "ops-admin",
        "kubernetesGroups": ["platform-admins"],
        "accessPolicies": [
            {"policy": "AmazonEKSClusterAdminPolicy", "scope": {"type": "cluster"}},
            {"policy": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
             "scope": {"type": "namespace", "namespaces": ["team-a"]}}
        ]
    })), {"principalArn": "arn:aws:iam::123456789012:role/nodes", "type": "EC2_LINUX"}]));
    let cluster = validate(&object).unwrap();
    assert!(cluster.spec().access.bootstrap_cluster_creator_admin_permissions);
    assert_eq!(cluster.regions()[0].access_entries.len(), 2);
}

#[test]
fn the_default_mode_is_config_map() {
    let object = with_access(json!({}));
    assert_eq!(
        object.spec.access.authentication_mode,
        eks_api::AuthenticationMode::ConfigMap
    );
    validate(&object).unwrap();
}

#[test]
fn a_malformed_principal_arn() {
    let object = api_with(json!([{"principalArn": "ops-admin"}]));
    assert_error(
        &object,
        "spec.access.entries[0].principalArn",
        "not an IAM role or user ARN",
    );
}

#[test]
fn an_assumed_role_arn_is_not_a_principal() {
    let object =
        api_with(json!([{"principalArn": "arn:aws:sts::123456789012:assumed-role/ops-admin/session"}]));
    assert_error(
        &object,
        "spec.access.entries[0].principalArn",
        "assumed-role ARNs are not principals",
    );
}

#[test]
fn duplicate_principals() {
    let object = api_with(json!([entry(json!({})), entry(json!({}))]));
    assert_error(
        &object,
        "spec.access.entries[1].principalArn",
        "duplicate principal",
    );
}

#[test]
fn a_region_override_repeating_a_principal() {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] = json!({"authenticationMode": "Api", "entries": [entry(json!({}))]});
    value["spec"]["regionOverrides"]["eu-west-2"]["access"] = json!({"entries": [entry(json!({}))]});
    let object: EksCluster = eks_api::parse::from_value(value).unwrap();
    assert_error(
        &object,
        "spec.regionOverrides.eu-west-2.access.entries[0].principalArn",
        "duplicate principal",
    );
}

#[test]
fn region_override_entries_are_added_in_their_region_only() {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] = json!({"authenticationMode": "Api", "entries": [entry(json!({}))]});
    value["spec"]["regionOverrides"]["eu-west-2"]["access"] =
        json!({"entries": [{"principalArn": "arn:aws:iam::123456789012:user/alice"}]});
    let object: EksCluster = eks_api::parse::from_value(value).unwrap();
    let cluster = validate(&object).unwrap();
    assert_eq!(cluster.regions()[0].access_entries.len(), 1);
    assert_eq!(cluster.regions()[1].access_entries.len(), 2);
}

#[test]
fn an_unknown_policy() {
    let object = api_with(json!([entry(json!({
        "accessPolicies": [{"policy": "AdministratorAccess", "scope": {"type": "cluster"}}]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies[0].policy",
        "neither an access policy short name",
    );
}

#[test]
fn an_iam_policy_arn_is_not_an_access_policy() {
    let object = api_with(json!([entry(json!({
        "accessPolicies": [{"policy": "arn:aws:iam::aws:policy/AdministratorAccess", "scope": {"type": "cluster"}}]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies[0].policy",
        "cluster-access-policy",
    );
}

#[test]
fn a_namespace_scope_without_namespaces() {
    let object = api_with(json!([entry(json!({
        "accessPolicies": [{"policy": "AmazonEKSEditPolicy", "scope": {"type": "namespace"}}]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies[0].scope.namespaces",
        "needs at least one namespace",
    );
}

#[test]
fn a_cluster_scope_with_namespaces() {
    let object = api_with(json!([entry(json!({
        "accessPolicies": [{"policy": "AmazonEKSEditPolicy", "scope": {"type": "cluster", "namespaces": ["a"]}}]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies[0].scope.namespaces",
        "takes no namespaces",
    );
}

#[test]
fn a_duplicate_policy_in_one_entry() {
    let object = api_with(json!([entry(json!({
        "accessPolicies": [
            {"policy": "AmazonEKSViewPolicy", "scope": {"type": "cluster"}},
            {"policy": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "scope": {"type": "cluster"}}
        ]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies[1].policy",
        "duplicate policy",
    );
}

#[test]
fn a_system_group() {
    let object = api_with(json!([entry(
        json!({"kubernetesGroups": ["ok", "system:masters"]})
    )]));
    assert_error(&object, "spec.access.entries[0].kubernetesGroups[1]", "system:");
}

#[test]
fn a_node_entry_with_a_username() {
    let object = api_with(json!([entry(json!({"type": "EC2_LINUX", "username": "x"}))]));
    assert_error(
        &object,
        "spec.access.entries[0].username",
        "type EC2_LINUX takes no username",
    );
}

#[test]
fn a_node_entry_with_groups() {
    let object = api_with(json!([entry(
        json!({"type": "EC2_WINDOWS", "kubernetesGroups": ["a"]})
    )]));
    assert_error(
        &object,
        "spec.access.entries[0].kubernetesGroups",
        "takes no kubernetesGroups",
    );
}

#[test]
fn a_fargate_entry_with_policies() {
    let object = api_with(json!([entry(json!({
        "type": "FARGATE_LINUX",
        "accessPolicies": [{"policy": "AmazonEKSViewPolicy", "scope": {"type": "cluster"}}]
    }))]));
    assert_error(
        &object,
        "spec.access.entries[0].accessPolicies",
        "takes no access policies",
    );
}

#[test]
fn an_unknown_type_is_refused_when_parsing() {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] =
        json!({"authenticationMode": "Api", "entries": [entry(json!({"type": "ROBOT"}))]});
    let err = eks_api::parse::from_value(value).unwrap_err().to_string();
    assert!(err.contains("spec.access.entries[0].type"), "{err}");
}

#[test]
fn an_unknown_mode_is_refused_when_parsing() {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] = json!({"authenticationMode": "API"});
    let err = eks_api::parse::from_value(value).unwrap_err().to_string();
    assert!(err.contains("spec.access.authenticationMode"), "{err}");
}

#[test]
fn entries_in_the_config_map_mode() {
    let object = with_access(json!({"entries": [entry(json!({}))]}));
    assert_error(
        &object,
        "spec.access.authenticationMode",
        "need the ApiAndConfigMap or Api mode",
    );
}

#[test]
fn the_api_mode_with_map_accounts() {
    let mut value: Value = serde_saphyr::from_str(SEED).unwrap();
    value["spec"]["access"] = json!({"authenticationMode": "Api"});
    value["spec"]["awsAuth"]["mapAccounts"] = json!(["123456789012"]);
    let object: EksCluster = eks_api::parse::from_value(value).unwrap();
    assert_error(&object, "spec.access.authenticationMode", "mapAccounts");
}

fn status_with_mode(mode: eks_api::AuthenticationMode) -> EksClusterStatus {
    EksClusterStatus {
        regions: vec![RegionStatus {
            region: "eu-west-1".to_owned(),
            authentication_mode: Some(mode),
            ..RegionStatus::default()
        }],
        ..EksClusterStatus::default()
    }
}

#[test]
fn the_mode_cannot_go_back() {
    use eks_api::AuthenticationMode::*;
    let object = with_access(json!({"authenticationMode": "ApiAndConfigMap"}));
    let cluster = validate(&object).unwrap();
    let err = validate_mode_transition(&cluster, Some(&status_with_mode(Api))).unwrap_err();
    assert_eq!(err.first_field(), "spec.access.authenticationMode");
    assert!(err.to_string().contains("Api is in force in eu-west-1"), "{err}");
    assert_eq!(err.reason(), "InvalidSpec");
    for in_force in [ConfigMap, ApiAndConfigMap] {
        validate_mode_transition(&cluster, Some(&status_with_mode(in_force))).unwrap();
    }
    validate_mode_transition(&cluster, None).unwrap();
}
