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

/// The role name of a kind, shortened with a hash suffix when longer than IAM allows. IAM is global, so the
/// region is part of the name (through the cluster id), as in the seed's `eks-worker-eu-west-1-test-cloudlad`.
pub fn role_name(kind: RoleKind, id: &ClusterId) -> String {
    let prefix = match kind {
        RoleKind::ControlPlane => "eks-cluster",
        RoleKind::Worker => "eks-worker",
    };
    shorten(&format!("{prefix}-{id}"), MAX_IAM_ROLE_NAME)
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
            &CONTROL_PLANE_POLICIES[..],
            "iam-role/control-plane",
        ),
        (
            RoleKind::Worker,
            "ec2.amazonaws.com",
            &WORKER_POLICIES[..],
            "iam-role/worker",
        ),
    ]
    .into_iter()
    .map(|(kind, service, policies, component)| {
        let name = role_name(kind, id);
        IamRolePlan {
            kind,
            arn: role_arn(partition, account, &name),
            trust_policy: trust_policy(service),
            managed_policy_arns: policies
                .iter()
                .map(|p| format!("arn:{partition}:iam::aws:policy/{p}"))
                .collect(),
            tags: resource_tags(user_tags, ownership, component, &name, []),
            name,
        }
    })
    .collect()
}
