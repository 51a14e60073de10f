//! IAM roles of the control plane and the workers, with their trust policies and managed policies.

use eks_api::ClusterId;
use serde_json::json;

use crate::model::{IamRolePlan, RoleKind};
use crate::names::{MAX_IAM_ROLE_NAME, role_arn, shorten};
use crate::tags::{Tags, resource_tags};

/// Managed policies of the control plane role.
pub const CONTROL_PLANE_POLICIES: [&str; 1] = ["AmazonEKSClusterPolicy"];
/// Managed policies of the worker role.
pub const WORKER_POLICIES: [&str; 3] = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
];

/// Every kind of role the operator creates in a region.
pub const ROLE_KINDS: [RoleKind; 2] = [RoleKind::ControlPlane, RoleKind::Worker];

/// The start of every role name of a kind: names are `<prefix>-<cluster id>`, and shortening keeps the prefix.
pub fn role_name_prefix(kind: RoleKind) -> &'static str {
    match kind {
        RoleKind::ControlPlane => "eks-cluster",
        RoleKind::Worker => "eks-worker",
    }
}

/// The AWS managed policies attached to a kind's role.
pub fn managed_policies(kind: RoleKind) -> &'static [&'static str] {
    match kind {
        RoleKind::ControlPlane => &CONTROL_PLANE_POLICIES,
        RoleKind::Worker => &WORKER_POLICIES,
    }
}

/// The ARN of an AWS managed policy in a partition (`arn:aws:iam::aws:policy/AmazonEKSClusterPolicy`).
pub fn managed_policy_arn(partition: &str, policy: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{policy}")
}

/// The role name of a kind, shortened with a hash suffix when longer than IAM allows. IAM is global, so the
/// region is part of the name (through the cluster id), as in the seed's `eks-worker-eu-west-1-test-cloudlad`.
pub fn role_name(kind: RoleKind, id: &ClusterId) -> String {
    shorten(&format!("{}-{id}", role_name_prefix(kind)), MAX_IAM_ROLE_NAME)
}

fn trust_policy(service: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// The two roles of a region.
pub(crate) fn plan_roles(
    id: &ClusterId,
    partition: &str,
    account: Option<&str>,
    user_tags: &Tags,
    ownership: &Tags,
) -> Vec<IamRolePlan> {
    [
        (
            RoleKind::ControlPlane,
            "eks.amazonaws.com",
            "iam-role/control-plane",
        ),
        (RoleKind::Worker, "ec2.amazonaws.com", "iam-role/worker"),
    ]
    .into_iter()
    .map(|(kind, service, component)| {
        let name = role_name(kind, id);
        IamRolePlan {
            kind,
            arn: role_arn(partition, account, &name),
            trust_policy: trust_policy(service),
            managed_policy_arns: managed_policies(kind)
                .iter()
                .map(|p| managed_policy_arn(partition, p))
                .collect(),
            tags: resource_tags(user_tags, ownership, component, &name, []),
            name,
        }
    })
    .collect()
}
