//! The operator's own IAM policy, derived from the calls the code makes so that it cannot drift: every
//! operation of the service traits goes through exactly one `read!`/`write!` in [`crate::instrument`], and the
//! policy is built from those names. Two actions are added that no trait call makes directly:
//! `iam:PassRole` (CreateCluster and CreateNodegroup pass the roles the operator created) and `sts:AssumeRole`
//! (for `spec.credentials`, through the SDK's assume-role credentials provider).

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// Where the generated policy is committed, relative to the repository root.
pub const POLICY_PATH: &str = "deploy/iam/eks-operator-policy.json";

/// The tag that marks what the operator created (see `eks_plan::tags`).
const MANAGED_BY: &str = "eksoperator.io/managed-by";

const WRAPPERS: &str = include_str!("instrument/wrappers.rs");

/// The IAM actions of every operation the service traits call (`ec2:CreateVpc`, ...), with whether it mutates.
pub fn trait_actions() -> BTreeSet<(String, bool)> {
    let mut actions = BTreeSet::new();
    for (marker, mutating) in [("read!(", false), ("write!(", true)] {
        let mut rest = WRAPPERS;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let Some(end) = rest.find(')') else { break };
            let args: Vec<&str> = rest[..end]
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect();
            if let [service, name] = args.as_slice() {
                let service = service.to_lowercase();
                let name = name.trim_matches('"');
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric())
                    && service.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    actions.insert((format!("{service}:{name}"), mutating));
                }
            }
        }
    }
    actions
}

/// Every action the policy grants.
pub fn policy_actions() -> BTreeSet<String> {
    let mut actions: BTreeSet<String> = trait_actions().into_iter().map(|(a, _)| a).collect();
    actions.insert("iam:PassRole".into());
    actions.insert("sts:AssumeRole".into());
    actions
}

fn is_create(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or_default();
    (name.starts_with("Create") && !matches!(name, "CreateRoute" | "CreateTags")) || name == "AllocateAddress"
}

/// The least-privilege policy document.
pub fn policy() -> Value {
    let actions = trait_actions();
    let pick = |service: &str, mutating: bool, filter: &dyn Fn(&str) -> bool| -> Vec<String> {
        actions
            .iter()
            .filter(|(a, m)| a.starts_with(&format!("{service}:")) && *m == mutating && filter(a))
            .map(|(a, _)| a.clone())
            .collect()
    };
    let reads: Vec<String> = ["ec2", "eks", "iam", "sts"]
        .iter()
        .flat_map(|s| pick(s, false, &|_| true))
        .collect();
    let ec2_creates = pick("ec2", true, &is_create);
    let ec2_mutations = pick("ec2", true, &|a| !is_create(a));
    let eks_creates = pick("eks", true, &is_create);
    let eks_mutations = pick("eks", true, &|a| !is_create(a));
    let iam_role_actions = pick("iam", true, &|a| !a.contains("OpenIDConnectProvider"));
    let iam_oidc_actions = pick("iam", true, &|a| a.contains("OpenIDConnectProvider"));
    let roles = json!([
        "arn:aws:iam::*:role/eks-cluster-*",
        "arn:aws:iam::*:role/eks-worker-*"
    ]);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Observe", "Effect": "Allow", "Action": reads, "Resource": "*"},
            {"Sid": "CreateTaggedNetwork", "Effect": "Allow", "Action": ec2_creates, "Resource": "*",
             "Condition": {"StringEquals": {format!("aws:RequestTag/{MANAGED_BY}"): "eks-operator"}}},
            {"Sid": "TagOnCreate", "Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": "*",
             "Condition": {"StringEquals": {"ec2:CreateAction": pick("ec2", true, &is_create).iter()
                 .map(|a| a.trim_start_matches("ec2:").to_owned()).collect::<Vec<_>>()}}},
            {"Sid": "ChangeOwnedNetwork", "Effect": "Allow", "Action": ec2_mutations, "Resource": "*",
             "Condition": {"StringEquals": {format!("aws:ResourceTag/{MANAGED_BY}"): "eks-operator"}}},
            {"Sid": "CreateTaggedClusters", "Effect": "Allow", "Action": eks_creates, "Resource": "*",
             "Condition": {"StringEquals": {format!("aws:RequestTag/{MANAGED_BY}"): "eks-operator"}}},
            {"Sid": "ChangeOwnedClusters", "Effect": "Allow", "Action": eks_mutations, "Resource": "*",
             "Condition": {"StringEquals": {format!("aws:ResourceTag/{MANAGED_BY}"): "eks-operator"}}},
            {"Sid": "OperatorRoles", "Effect": "Allow", "Action": iam_role_actions, "Resource": roles},
            {"Sid": "ClusterOidcProviders", "Effect": "Allow", "Action": iam_oidc_actions,
             "Resource": "arn:aws:iam::*:oidc-provider/oidc.eks.*.amazonaws.com/id/*"},
            {"Sid": "PassOperatorRolesToEks", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles,
             "Condition": {"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}}},
            {"Sid": "AssumeClusterCredentials", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        ]
    })
}

/// The policy as committed: pretty JSON with a final newline.
pub fn policy_json() -> String {
    let mut text = serde_json::to_string_pretty(&policy()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(policy: &Value) -> BTreeSet<String> {
        let mut all = BTreeSet::new();
        for statement in policy["Statement"].as_array().unwrap() {
            match &statement["Action"] {
                Value::String(a) => {
                    all.insert(a.clone());
                }
                Value::Array(list) => all.extend(list.iter().filter_map(|a| a.as_str().map(str::to_owned))),
                _ => {}
            }
        }
        all
    }

    #[test]
    fn every_called_operation_and_nothing_else_is_granted() {
        let calls: BTreeSet<String> = trait_actions().into_iter().map(|(a, _)| a).collect();
        assert!(calls.len() > 60, "parsed only {} operations", calls.len());
        for expected in [
            "ec2:CreateVpc",
            "ec2:DescribeNatGateways",
            "eks:CreateCluster",
            "iam:AttachRolePolicy",
            "sts:GetCallerIdentity",
        ] {
            assert!(calls.contains(expected), "{expected}");
        }
        let granted = granted(&policy());
        let extra: Vec<&String> = granted.difference(&calls).collect();
        assert_eq!(extra, ["iam:PassRole", "sts:AssumeRole"]);
        assert!(calls.is_subset(&granted));
    }

    #[test]
    fn mutations_are_conditioned_on_the_ownership_tag_and_pass_role_is_narrow() {
        let policy = policy();
        for statement in policy["Statement"].as_array().unwrap() {
            let sid = statement["Sid"].as_str().unwrap();
            if sid.starts_with("Create") || sid.starts_with("Change") {
                assert!(statement["Condition"].to_string().contains(MANAGED_BY), "{sid}");
            }
        }
        let pass = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Action"] == "iam:PassRole")
            .unwrap();
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "eks.amazonaws.com"
        );
        assert!(pass["Resource"].to_string().contains("role/eks-worker-*"));
    }

    #[test]
    fn committed_policy_is_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/iam/eks-operator-policy.json"
        );
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == policy_json(),
            "{POLICY_PATH} is stale: run `cargo run -p eks-operator -- iam-policy > {POLICY_PATH}`"
        );
    }
}
