use std::collections::{BTreeMap, BTreeSet};

use super::*;

const CHANGE_NETWORK: &str = "Ec2ChangeOwnedNetwork";
const IN_OWNED_NETWORK: &str = "Ec2CreateInOwnedNetwork";
const LB_GROUPS: &str = "Ec2DeleteLoadBalancerLeftoverGroups";
const CHANGE_EKS: &str = "EksChangeOwnedClusters";
const ATTACH: &[&str] = &["IamAttachControlPlanePolicies", "IamAttachWorkerPolicies"];

/// The reviewed placement of every action: which statements (by Sid) grant it. A call added to the traits,
/// or a statement that grants an action somewhere else, fails the test until this table says so.
fn expected_placement() -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut put = |sids: &[&'static str], actions: &[&'static str]| {
        for action in actions {
            expected.insert(action, sids.to_vec());
        }
    };
    put(
        &["Ec2Observe"],
        &[
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeNatGateways",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpnGateways",
        ],
    );
    put(
        &["Observe"],
        &[
            "eks:DescribeAccessEntry",
            "eks:DescribeCluster",
            "eks:DescribeNodegroup",
            "eks:ListAccessEntries",
            "eks:ListAssociatedAccessPolicies",
            "eks:ListNodegroups",
            "iam:ListOpenIDConnectProviders",
            "sts:GetCallerIdentity",
        ],
    );
    put(
        &["ObserveOperatorRolesAndProviders"],
        &[
            "iam:GetOpenIDConnectProvider",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
        ],
    );
    put(
        &["Ec2CreateTagged"],
        &[
            "ec2:AllocateAddress",
            "ec2:CreateInternetGateway",
            "ec2:CreateVpc",
            "ec2:CreateVpnGateway",
        ],
    );
    put(
        &["Ec2CreateNatGatewayTagged", IN_OWNED_NETWORK],
        &["ec2:CreateNatGateway"],
    );
    put(
        &["Ec2CreateInVpcTagged", IN_OWNED_NETWORK],
        &[
            "ec2:CreateRouteTable",
            "ec2:CreateSecurityGroup",
            "ec2:CreateSubnet",
        ],
    );
    put(&["Ec2TagOnCreate", CHANGE_NETWORK], &["ec2:CreateTags"]);
    put(
        &[CHANGE_NETWORK],
        &[
            "ec2:AssociateRouteTable",
            "ec2:AttachInternetGateway",
            "ec2:AttachVpnGateway",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateRoute",
            "ec2:DeleteInternetGateway",
            "ec2:DeleteNatGateway",
            "ec2:DeleteRoute",
            "ec2:DeleteRouteTable",
            "ec2:DeleteSubnet",
            "ec2:DeleteVpc",
            "ec2:DeleteVpnGateway",
            "ec2:DetachInternetGateway",
            "ec2:DetachVpnGateway",
            "ec2:DisassociateRouteTable",
            "ec2:EnableVgwRoutePropagation",
            "ec2:ModifySubnetAttribute",
            "ec2:ModifyVpcAttribute",
            "ec2:ReleaseAddress",
            "ec2:ReplaceRoute",
        ],
    );
    put(
        &[CHANGE_NETWORK, LB_GROUPS],
        &[
            "ec2:DeleteSecurityGroup",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ],
    );
    put(
        &[CHANGE_NETWORK, "Ec2UnownedInterfaces"],
        &["ec2:DisassociateAddress"],
    );
    put(&["Ec2UnownedInterfaces"], &["ec2:DeleteNetworkInterface"]);
    put(&["EksCreateClusterTagged"], &["eks:CreateCluster"]);
    put(
        &["EksCreateNodegroupTaggedInOwnedCluster"],
        &["eks:CreateNodegroup"],
    );
    put(&["EksTagOnCreate", CHANGE_EKS], &["eks:TagResource"]);
    put(
        &[CHANGE_EKS],
        &[
            "eks:AssociateAccessPolicy",
            "eks:CreateAccessEntry",
            "eks:DeleteAccessEntry",
            "eks:DeleteCluster",
            "eks:DeleteNodegroup",
            "eks:DisassociateAccessPolicy",
            "eks:UpdateAccessEntry",
            "eks:UpdateClusterConfig",
            "eks:UpdateClusterVersion",
            "eks:UpdateNodegroupConfig",
            "eks:UpdateNodegroupVersion",
        ],
    );
    put(&["EksServiceLinkedRoles"], &["iam:CreateServiceLinkedRole"]);
    put(
        &["IamCreateTagged"],
        &["iam:CreateRole", "iam:CreateOpenIDConnectProvider"],
    );
    put(
        &["IamCreateTagged", "IamChangeOwned"],
        &["iam:TagRole", "iam:TagOpenIDConnectProvider"],
    );
    put(
        &["IamChangeOwned"],
        &[
            "iam:AddClientIDToOpenIDConnectProvider",
            "iam:DeleteOpenIDConnectProvider",
            "iam:DeleteRole",
            "iam:UpdateAssumeRolePolicy",
        ],
    );
    put(ATTACH, &["iam:AttachRolePolicy", "iam:DetachRolePolicy"]);
    put(&["PassOperatorRolesToEks"], &["iam:PassRole"]);
    put(&["AssumeSpecCredentialsRoles"], &["sts:AssumeRole"]);
    expected
}

fn statements(policy: &Value) -> &Vec<Value> {
    policy["Statement"].as_array().unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        _ => Vec::new(),
    }
}

fn sid(statement: &Value) -> &str {
    statement["Sid"].as_str().unwrap()
}

fn find<'a>(policy: &'a Value, wanted: &str) -> &'a Value {
    statements(policy)
        .iter()
        .find(|s| sid(s) == wanted)
        .unwrap_or_else(|| panic!("no statement {wanted}"))
}

/// The ownership-tag keys a statement's condition tests for the operator's value.
fn ownership_keys(statement: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for key in ["aws:RequestTag", "aws:ResourceTag"] {
        let full = format!("{key}/{MANAGED_BY}");
        if statement["Condition"]["StringEquals"][&full] == MANAGED_BY_VALUE {
            keys.insert(key.to_owned());
        }
    }
    keys
}

#[test]
fn every_call_is_granted_in_exactly_the_expected_statements() {
    let expected = expected_placement();
    let calls: BTreeSet<String> = trait_actions().into_iter().map(|(a, _)| a).collect();
    let extras: BTreeSet<String> = EXTRA_ACTIONS.iter().map(|(a, _)| (*a).to_owned()).collect();
    let placed: BTreeSet<String> = expected.keys().map(|a| (*a).to_owned()).collect();
    assert_eq!(
        calls.union(&extras).cloned().collect::<BTreeSet<_>>(),
        placed,
        "the traits' operations plus the extra actions are exactly the reviewed ones"
    );
    assert_eq!(policy_actions(), placed);

    let policy = policy();
    let mut granted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in statements(&policy) {
        assert_eq!(statement["Effect"], "Allow", "{}", sid(statement));
        for action in strings(&statement["Action"]) {
            granted.entry(action).or_default().push(sid(statement).to_owned());
        }
    }
    for (action, sids) in &expected {
        let mut want: Vec<String> = sids.iter().map(|s| (*s).to_owned()).collect();
        let mut got = granted.remove(*action).unwrap_or_default();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{action}");
    }
    assert!(granted.is_empty(), "granted but not reviewed: {granted:?}");
}

#[test]
fn reads_are_the_only_unconditioned_grants_besides_the_commented_exemptions() {
    let policy = policy();
    let mutating: BTreeSet<String> = trait_actions()
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(a, _)| a)
        .chain(EXTRA_ACTIONS.iter().map(|(a, _)| (*a).to_owned()))
        .collect();
    let exempt: BTreeSet<(String, String)> = TAG_CONDITION_EXEMPT
        .iter()
        .map(|(s, a, why)| {
            assert!(why.len() > 20, "{s} {a}: say why");
            ((*s).to_owned(), (*a).to_owned())
        })
        .collect();
    let mut used = BTreeSet::new();
    for statement in statements(&policy) {
        let keys = ownership_keys(statement);
        for action in strings(&statement["Action"]) {
            if !mutating.contains(&action) {
                assert!(
                    matches!(
                        sid(statement),
                        "Ec2Observe" | "Observe" | "ObserveOperatorRolesAndProviders"
                    ),
                    "read {action} in {}",
                    sid(statement)
                );
                continue;
            }
            let pair = (sid(statement).to_owned(), action.clone());
            if exempt.contains(&pair) {
                assert!(
                    keys.is_empty(),
                    "{pair:?} is exempt but conditioned: drop the exemption"
                );
                used.insert(pair);
            } else {
                assert!(
                    !keys.is_empty(),
                    "{action} in {} has no ownership-tag condition",
                    sid(statement)
                );
            }
        }
    }
    assert_eq!(used, exempt, "every exemption is used");
}

#[test]
fn creates_are_tagged_on_the_created_type_and_need_owned_parents() {
    let policy = policy();
    for (action, kind, parents, own_sid) in ec2_creates() {
        let own = find(&policy, own_sid);
        assert!(
            strings(&own["Action"]).contains(&format!("ec2:{action}")),
            "{action} in {own_sid}"
        );
        assert!(
            strings(&own["Resource"]).contains(&format!("arn:aws:ec2:*:*:{kind}/*")),
            "{action}"
        );
        assert_eq!(ownership_keys(own), BTreeSet::from(["aws:RequestTag".to_owned()]));
        let parents: BTreeSet<String> = parents.iter().map(|p| format!("arn:aws:ec2:*:*:{p}/*")).collect();
        // No statement that checks the request tag only covers the parent of a create it grants: otherwise
        // the tag of the new resource would authorize the VPC or subnet it goes into.
        for statement in statements(&policy) {
            let grants = strings(&statement["Action"]).contains(&format!("ec2:{action}"));
            if grants && !ownership_keys(statement).contains("aws:ResourceTag") {
                for resource in strings(&statement["Resource"]) {
                    assert!(
                        resource != "*" && !parents.contains(&resource),
                        "{action} on {resource} in {} without the parent's tag",
                        sid(statement)
                    );
                }
            }
        }
        if !parents.is_empty() {
            let in_owned = find(&policy, IN_OWNED_NETWORK);
            assert!(strings(&in_owned["Action"]).contains(&format!("ec2:{action}")));
            let resources: BTreeSet<String> = strings(&in_owned["Resource"]).into_iter().collect();
            assert!(parents.is_subset(&resources), "{action}: {resources:?}");
            assert_eq!(
                ownership_keys(in_owned),
                BTreeSet::from(["aws:ResourceTag".to_owned()])
            );
        }
    }
    // The create statements name exactly the types their actions create.
    for own_sid in [
        "Ec2CreateTagged",
        "Ec2CreateInVpcTagged",
        "Ec2CreateNatGatewayTagged",
    ] {
        let own = find(&policy, own_sid);
        let created: Vec<String> = ec2_creates()
            .iter()
            .filter(|(_, _, _, s)| *s == own_sid)
            .map(|(_, kind, _, _)| format!("arn:aws:ec2:*:*:{kind}/*"))
            .collect();
        assert_eq!(strings(&own["Resource"]), created, "{own_sid}");
    }
    let tag_on_create = find(&policy, "Ec2TagOnCreate");
    let create_actions: Vec<&str> = ec2_creates().iter().map(|(a, _, _, _)| *a).collect();
    assert_eq!(
        tag_on_create["Condition"]["StringEquals"]["ec2:CreateAction"],
        json!(create_actions)
    );
    let nodegroups = find(&policy, "EksCreateNodegroupTaggedInOwnedCluster");
    assert_eq!(
        ownership_keys(nodegroups),
        BTreeSet::from(["aws:RequestTag".to_owned(), "aws:ResourceTag".to_owned()]),
        "a node group goes only into a cluster of the operator"
    );
}

#[test]
fn attach_and_detach_are_limited_to_the_managed_policies_the_plan_attaches() {
    for partition in PARTITIONS {
        let policy = policy_for(partition);
        let mut covered = BTreeSet::new();
        for statement in statements(&policy) {
            let actions = strings(&statement["Action"]);
            if !actions
                .iter()
                .any(|a| matches!(a.as_str(), "iam:AttachRolePolicy" | "iam:DetachRolePolicy"))
            {
                continue;
            }
            let resources = strings(&statement["Resource"]);
            let kind = ROLE_KINDS
                .into_iter()
                .find(|k| resources == [role_pattern(partition, *k)])
                .unwrap_or_else(|| panic!("{}: {resources:?} is not one role kind", sid(statement)));
            let want: Vec<String> = managed_policies(kind)
                .iter()
                .map(|p| format!("arn:{partition}:iam::aws:policy/{p}"))
                .collect();
            assert_eq!(
                strings(&statement["Condition"]["ArnEquals"]["iam:PolicyARN"]),
                want
            );
            assert!(ownership_keys(statement).contains("aws:ResourceTag"));
            covered.insert(kind);
        }
        assert_eq!(covered, ROLE_KINDS.into_iter().collect::<BTreeSet<_>>());
    }
}

#[test]
fn roles_are_passed_and_changed_only_under_the_plans_role_names() {
    let policy = policy_for("aws-cn");
    let patterns: Vec<String> = ROLE_KINDS.iter().map(|k| role_pattern("aws-cn", *k)).collect();
    assert_eq!(
        patterns,
        [
            "arn:aws-cn:iam::*:role/eks-cluster-*",
            "arn:aws-cn:iam::*:role/eks-worker-*"
        ]
    );
    let id = eks_api::ClusterId::new(
        &eks_api::RegionName::parse("cn-north-1").unwrap(),
        None,
        &"x".repeat(80),
    )
    .unwrap();
    for kind in ROLE_KINDS {
        let name = eks_plan::iam::role_name(kind, &id);
        assert!(
            name.starts_with(&format!("{}-", role_name_prefix(kind))),
            "{name}: shortening keeps the prefix"
        );
    }
    let pass = find(&policy, "PassOperatorRolesToEks");
    assert_eq!(strings(&pass["Resource"]), patterns);
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "eks.amazonaws.com"
    );
    assert!(ownership_keys(pass).contains("aws:ResourceTag"));
    let oidc = "arn:aws-cn:iam::*:oidc-provider/oidc.eks.*".to_owned();
    for sid in ["IamCreateTagged", "IamChangeOwned"] {
        let want = [patterns.clone(), vec![oidc.clone()]].concat();
        assert_eq!(strings(&find(&policy, sid)["Resource"]), want, "{sid}");
    }
    let assume = find(&policy, "AssumeSpecCredentialsRoles");
    assert_eq!(
        strings(&assume["Resource"]),
        ["arn:aws-cn:iam::*:role/eks-operator/*"]
    );
    let linked = find(&policy, "EksServiceLinkedRoles");
    assert_eq!(
        linked["Condition"]["StringEquals"]["iam:AWSServiceName"],
        json!(["eks.amazonaws.com", "eks-nodegroup.amazonaws.com"])
    );
}

#[test]
fn every_arn_is_in_the_partition_and_the_documents_fit_iams_size_limits() {
    for partition in PARTITIONS {
        let policy = policy_for(partition);
        for statement in statements(&policy) {
            for resource in strings(&statement["Resource"]) {
                assert!(
                    resource == "*" || resource.starts_with(&format!("arn:{partition}:")),
                    "{partition}: {resource}"
                );
            }
        }
        // The two documents split the statements, each fits a managed policy (6,144 characters, white space
        // not counted) and both together an inline role policy (10,240).
        let mut split = Vec::new();
        for (name, _, _) in DOCUMENTS {
            let document = document_for(partition, name).unwrap();
            let size = serde_json::to_string(&document).unwrap().len();
            assert!(size <= 6144, "{partition} {name}: {size} characters");
            split.extend(statements(&document).iter().cloned());
        }
        let mut all = statements(&policy).clone();
        let key = |s: &Value| sid(s).to_owned();
        all.sort_by_key(key);
        split.sort_by_key(key);
        assert_eq!(split, all, "{partition}: every statement in exactly one document");
        let size = serde_json::to_string(&policy).unwrap().len();
        assert!(size <= 10240, "{partition}: {size} characters");
    }
    assert!(document_for("aws", "other").is_none());
}

#[test]
fn committed_documents_are_current() {
    for (name, _, path) in DOCUMENTS {
        let file = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == document_json("aws", name),
            "{path} is stale: run `cargo run -p eks-operator -- iam-policy {name} > {path}`"
        );
    }
}
