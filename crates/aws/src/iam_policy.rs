//! The operator's own IAM policy, derived from the calls the code makes so that it cannot drift: every
//! operation of the service traits is declared once in [`crate::api`] with how the policy grants it
//! ([`Grant`]), and the policy is built from those declarations. Which resources and conditions each action
//! gets follows the IAM Service Authorization Reference: a create is conditioned on the ownership tag in the request (`aws:RequestTag`) on the
//! ARN of the resource it creates only, the parent it is made in (VPC, subnet, elastic IP, cluster) must carry
//! the tag (`aws:ResourceTag`), and every change or delete is conditioned on the tag of what it changes.
//!
//! Besides the trait calls the policy grants three actions the SDK or AWS make on the operator's behalf:
//! `iam:PassRole` (CreateCluster and CreateNodegroup pass the roles the operator created),
//! `iam:CreateServiceLinkedRole` (EKS creates its service-linked roles on the first CreateCluster and
//! CreateNodegroup of an account) and `sts:AssumeRole` (`spec.credentials`, through the SDK's assume-role
//! credentials provider).

use std::collections::BTreeSet;

use eks_plan::RoleKind;

use crate::api::all_operations;
use crate::declare::{Grant, Op, Service};
use eks_plan::iam::{ROLE_KINDS, managed_policies, managed_policy_arn, role_name_prefix};
use eks_plan::tags::{MANAGED_BY, MANAGED_BY_VALUE};
use serde_json::{Map, Value, json};

/// The policy comes as two documents, so that each fits the 6,144 characters of an IAM managed policy: the
/// name, what it holds, and where it is committed relative to the repository root.
pub const DOCUMENTS: [(&str, &str, &str); 2] = [
    (
        "network",
        "EC2: the VPCs and everything in them",
        "deploy/iam/eks-operator-network.json",
    ),
    (
        "clusters",
        "EKS, IAM and STS: clusters, node groups, roles, OIDC providers",
        "deploy/iam/eks-operator-clusters.json",
    ),
];

/// The partitions `eks-operator iam-policy --partition` writes a policy for.
pub const PARTITIONS: [&str; 5] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

/// The IAM path of the roles `spec.credentials.roleArn` may name (`arn:aws:iam::<account>:role/eks-operator/<name>`):
/// the operator may assume those only, not every role whose trust policy happens to trust its account.
pub const ASSUMABLE_ROLE_PATH: &str = "/eks-operator/";

/// The actions the policy grants that no trait call makes, each with why.
pub const EXTRA_ACTIONS: [(&str, &str); 3] = [
    (
        "iam:PassRole",
        "CreateCluster and CreateNodegroup pass the control plane and worker roles to EKS",
    ),
    (
        "iam:CreateServiceLinkedRole",
        "EKS creates AWSServiceRoleForAmazonEKS and AWSServiceRoleForAmazonEKSNodegroup on the first cluster and node group of an account",
    ),
    (
        "sts:AssumeRole",
        "spec.credentials: the SDK's assume-role credentials provider",
    ),
];

/// Mutations granted without an ownership-tag condition, as `(Sid, action, why)`: what they act on is not the
/// operator's to tag. Each is in a statement of its own on the narrowest resource type AWS allows.
pub const TAG_CONDITION_EXEMPT: [(&str, &str, &str); 7] = [
    (
        "Ec2UnownedInterfaces",
        "ec2:DeleteNetworkInterface",
        "detached interfaces EKS and the VPC CNI left in the operator's VPC carry no tag of the operator; AWS deletes only detached ones",
    ),
    (
        "Ec2UnownedInterfaces",
        "ec2:DisassociateAddress",
        "the interface is the one AWS made for a NAT gateway; the elastic IP itself must match Ec2ChangeOwnedNetwork",
    ),
    (
        "Ec2DeleteLoadBalancerLeftoverGroups",
        "ec2:DeleteSecurityGroup",
        "groups Kubernetes load balancer controllers left in the VPC are tagged kubernetes.io/cluster/<cluster id>, a key no policy can name in advance",
    ),
    (
        "Ec2DeleteLoadBalancerLeftoverGroups",
        "ec2:RevokeSecurityGroupEgress",
        "rules between those leftover groups are revoked first so that the groups can be deleted",
    ),
    (
        "Ec2DeleteLoadBalancerLeftoverGroups",
        "ec2:RevokeSecurityGroupIngress",
        "rules between those leftover groups are revoked first so that the groups can be deleted",
    ),
    (
        "EksServiceLinkedRoles",
        "iam:CreateServiceLinkedRole",
        "IAM creates service-linked roles itself, without the operator's tags; conditioned on iam:AWSServiceName instead",
    ),
    (
        "AssumeSpecCredentialsRoles",
        "sts:AssumeRole",
        "the roles spec.credentials names are the user's; limited to the path /eks-operator/ instead",
    ),
];

/// The statements of the EC2 creates, in the order the policy lists them (see [`Grant::Ec2Create`]).
const EC2_CREATE_STATEMENTS: [&str; 3] = [
    "Ec2CreateTagged",
    "Ec2CreateInVpcTagged",
    "Ec2CreateNatGatewayTagged",
];

/// The EC2 creates as `(action name, resource type it creates, parent types, statement)`, from the
/// declarations, in the order of [`EC2_CREATE_STATEMENTS`] then by name. A create goes into the parents it
/// names (Service Authorization Reference: a subnet, route table or security group goes into a VPC, a NAT
/// gateway into a subnet of a VPC with an elastic IP). A statement checks only the request tag, so it never
/// lists a type that is the parent of one of its creates: the new resource's tag would then authorize the VPC
/// or subnet it goes into, which must carry the operator's tag itself.
pub fn ec2_creates() -> Vec<(&'static str, &'static str, &'static [&'static str], &'static str)> {
    let mut creates: Vec<_> = all_operations()
        .filter_map(|op| match op.grant {
            Grant::Ec2Create {
                creates,
                parents,
                statement,
            } => Some((op.name, creates, parents, statement)),
            _ => None,
        })
        .collect();
    creates.sort_by_key(|(name, _, _, statement)| {
        let at = EC2_CREATE_STATEMENTS.iter().position(|s| s == statement);
        (at.unwrap_or(usize::MAX), *name)
    });
    creates
}

/// The service principals of the service-linked roles EKS needs, with the roles' paths and names.
const EKS_SERVICE_LINKED_ROLES: [(&str, &str); 2] = [
    ("eks.amazonaws.com", "AWSServiceRoleForAmazonEKS"),
    (
        "eks-nodegroup.amazonaws.com",
        "AWSServiceRoleForAmazonEKSNodegroup",
    ),
];

/// The IAM actions of every declared operation (`ec2:CreateVpc`, ...), with whether it mutates.
pub fn trait_actions() -> BTreeSet<(String, bool)> {
    all_operations()
        .map(|op| (op.iam_action(), op.mutating))
        .collect()
}

/// Every action the policy grants.
pub fn policy_actions() -> BTreeSet<String> {
    let mut actions: BTreeSet<String> = trait_actions().into_iter().map(|(a, _)| a).collect();
    actions.extend(EXTRA_ACTIONS.iter().map(|(a, _)| (*a).to_owned()));
    actions
}

/// The ARN pattern of every role of a kind in a partition (`arn:aws:iam::*:role/eks-worker-*`).
pub fn role_pattern(partition: &str, kind: RoleKind) -> String {
    format!("arn:{partition}:iam::*:role/{}-*", role_name_prefix(kind))
}

fn request_tag() -> Value {
    json!({"StringEquals": {format!("aws:RequestTag/{MANAGED_BY}"): MANAGED_BY_VALUE}})
}

fn resource_tag() -> Value {
    json!({"StringEquals": {format!("aws:ResourceTag/{MANAGED_BY}"): MANAGED_BY_VALUE}})
}

/// The statements, in order, with the trait actions placed into them.
struct Builder {
    /// The declared operations, sorted by IAM action.
    ops: Vec<&'static Op>,
    statements: Vec<Value>,
}

impl Builder {
    /// The IAM actions of the declared operations matching `pick`, sorted.
    fn calls(&self, pick: impl Fn(&Op) -> bool) -> Vec<String> {
        self.ops
            .iter()
            .filter(|op| pick(op))
            .map(|op| op.iam_action())
            .collect()
    }

    fn add(&mut self, sid: &str, actions: Vec<String>, resources: Vec<String>, condition: Option<Value>) {
        if actions.is_empty() {
            return;
        }
        let mut statement = Map::new();
        statement.insert("Sid".into(), sid.into());
        statement.insert("Effect".into(), "Allow".into());
        statement.insert("Action".into(), actions.into());
        statement.insert(
            "Resource".into(),
            if resources == ["*"] {
                "*".into()
            } else {
                resources.into()
            },
        );
        if let Some(condition) = condition {
            statement.insert("Condition".into(), condition);
        }
        self.statements.push(Value::Object(statement));
    }
}

/// The least-privilege policy document for a partition (`aws`, `aws-cn`, `aws-us-gov`, ...).
pub fn policy_for(partition: &str) -> Value {
    let p = partition;
    let ec2 = |kind: &str| format!("arn:{p}:ec2:*:*:{kind}/*");
    let roles: Vec<String> = ROLE_KINDS.iter().map(|k| role_pattern(p, *k)).collect();
    let oidc = vec![format!("arn:{p}:iam::*:oidc-provider/oidc.eks.*")];
    let eks_resources = vec![
        format!("arn:{p}:eks:*:*:cluster/*"),
        format!("arn:{p}:eks:*:*:nodegroup/*"),
        format!("arn:{p}:eks:*:*:access-entry/*"),
    ];
    let ec2_creates = ec2_creates();
    let created: Vec<String> = ec2_creates.iter().map(|(_, kind, _, _)| ec2(kind)).collect();
    let mut ops: Vec<&'static Op> = all_operations().collect();
    ops.sort_by_key(|op| op.iam_action());
    let mut b = Builder {
        ops,
        statements: Vec::new(),
    };
    let is = |service: Service| move |op: &Op| op.service == service;

    // Reads: IAM reads of one role or provider on the operator's own; every other read has no resource-level
    // permission (EC2 Describe*, STS) or names a cluster by the name the operator derives.
    let scoped_reads = b.calls(|op| op.grant == Grant::ObserveOwned);
    let network_reads = b.calls(|op| op.grant == Grant::Observe && is(Service::Ec2)(op));
    let reads = b.calls(|op| op.grant == Grant::Observe && !is(Service::Ec2)(op));
    b.add("Ec2Observe", network_reads, vec!["*".into()], None);
    b.add("Observe", reads, vec!["*".into()], None);
    b.add(
        "ObserveOperatorRolesAndProviders",
        scoped_reads,
        [roles.clone(), oidc.clone()].concat(),
        None,
    );

    // EC2 creates: tagged at creation, on the types they create (see ec2_creates); the VPCs, subnets and
    // elastic IPs they go into must be the operator's.
    let mut groups: Vec<(&str, Vec<String>, Vec<String>)> = Vec::new();
    for (action, kind, _, sid) in ec2_creates.iter().copied() {
        let action = format!("ec2:{action}");
        match groups.iter_mut().find(|(s, _, _)| *s == sid) {
            Some((_, actions, resources)) => {
                actions.push(action);
                resources.push(ec2(kind));
            }
            None => groups.push((sid, vec![action], vec![ec2(kind)])),
        }
    }
    for (sid, actions, resources) in groups {
        b.add(sid, actions, resources, Some(request_tag()));
    }
    let with_parents: Vec<String> = ec2_creates
        .iter()
        .filter(|(_, _, parents, _)| !parents.is_empty())
        .map(|(a, _, _, _)| format!("ec2:{a}"))
        .collect();
    let parents: BTreeSet<String> = ec2_creates
        .iter()
        .flat_map(|(_, _, parents, _)| parents.iter().map(|kind| ec2(kind)))
        .collect();
    b.add(
        "Ec2CreateInOwnedNetwork",
        with_parents,
        parents.into_iter().collect(),
        Some(resource_tag()),
    );
    let create_actions: Vec<&str> = ec2_creates.iter().map(|(a, _, _, _)| *a).collect();
    let ec2_tagging = b.calls(|op| op.grant == Grant::Tag && is(Service::Ec2)(op));
    b.add(
        "Ec2TagOnCreate",
        ec2_tagging,
        created.clone(),
        Some(json!({"StringEquals": {
            "ec2:CreateAction": create_actions,
            format!("aws:RequestTag/{MANAGED_BY}"): MANAGED_BY_VALUE,
        }})),
    );
    let changes = b.calls(|op| {
        is(Service::Ec2)(op)
            && matches!(
                op.grant,
                Grant::ChangeOwned | Grant::ChangeOwnedOrUnowned { .. } | Grant::Tag
            )
    });
    b.add("Ec2ChangeOwnedNetwork", changes, created, Some(resource_tag()));
    // What the operator does not own, each statement on one resource type, in the order of their actions.
    let mut unowned: Vec<(&str, Vec<String>, &str)> = Vec::new();
    for op in &b.ops {
        let (Grant::ChangeOwnedOrUnowned { statement, resource }
        | Grant::UnownedOnly { statement, resource }) = op.grant
        else {
            continue;
        };
        match unowned.iter_mut().find(|(s, _, _)| *s == statement) {
            Some((_, actions, _)) => actions.push(op.iam_action()),
            None => unowned.push((statement, vec![op.iam_action()], resource)),
        }
    }
    for (sid, actions, kind) in unowned {
        b.add(sid, actions, vec![ec2(kind)], None);
    }

    // EKS: CreateCluster has no resource-level permission; CreateNodegroup is authorized on its cluster, which
    // must be the operator's. Tags given at creation need eks:TagResource with the same request tags.
    let cluster_creates = b.calls(|op| op.grant == Grant::CreateTagged && is(Service::Eks)(op));
    b.add(
        "EksCreateClusterTagged",
        cluster_creates,
        vec!["*".into()],
        Some(request_tag()),
    );
    let nodegroup_creates = b.calls(|op| op.grant == Grant::CreateInOwnedCluster);
    b.add(
        "EksCreateNodegroupTaggedInOwnedCluster",
        nodegroup_creates,
        vec![eks_resources[0].clone()],
        Some(json!({"StringEquals": {
            format!("aws:RequestTag/{MANAGED_BY}"): MANAGED_BY_VALUE,
            format!("aws:ResourceTag/{MANAGED_BY}"): MANAGED_BY_VALUE,
        }})),
    );
    let eks_tagging = b.calls(|op| op.grant == Grant::Tag && is(Service::Eks)(op));
    b.add(
        "EksTagOnCreate",
        eks_tagging,
        eks_resources.clone(),
        Some(request_tag()),
    );
    let eks_changes =
        b.calls(|op| is(Service::Eks)(op) && matches!(op.grant, Grant::ChangeOwned | Grant::Tag));
    b.add(
        "EksChangeOwnedClusters",
        eks_changes,
        eks_resources,
        Some(resource_tag()),
    );
    b.add(
        "EksServiceLinkedRoles",
        vec!["iam:CreateServiceLinkedRole".into()],
        EKS_SERVICE_LINKED_ROLES
            .iter()
            .map(|(service, name)| format!("arn:{p}:iam::*:role/aws-service-role/{service}/{name}"))
            .collect(),
        Some(json!({"StringEquals": {
            "iam:AWSServiceName": EKS_SERVICE_LINKED_ROLES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        }})),
    );

    // IAM roles and OIDC providers: created tagged, the roles under the plan's names (tags at creation need
    // iam:TagRole and iam:TagOpenIDConnectProvider with the same request tags), changed only when tagged; the
    // roles get exactly the managed policies the plan attaches to each kind, and are passed to EKS only.
    let iam_resources = [roles.clone(), oidc].concat();
    let iam_creates =
        b.calls(|op| is(Service::Iam)(op) && matches!(op.grant, Grant::CreateTagged | Grant::Tag));
    b.add(
        "IamCreateTagged",
        iam_creates,
        iam_resources.clone(),
        Some(request_tag()),
    );
    let iam_changes =
        b.calls(|op| is(Service::Iam)(op) && matches!(op.grant, Grant::ChangeOwned | Grant::Tag));
    b.add("IamChangeOwned", iam_changes, iam_resources, Some(resource_tag()));
    let attachments = b.calls(|op| op.grant == Grant::ManagedPolicies);
    for kind in ROLE_KINDS {
        let sid = match kind {
            RoleKind::ControlPlane => "IamAttachControlPlanePolicies",
            RoleKind::Worker => "IamAttachWorkerPolicies",
        };
        let policies: Vec<String> = managed_policies(kind)
            .iter()
            .map(|policy| managed_policy_arn(p, policy))
            .collect();
        b.add(
            sid,
            attachments.clone(),
            vec![role_pattern(p, kind)],
            Some(json!({
                "ArnEquals": {"iam:PolicyARN": policies},
                "StringEquals": {format!("aws:ResourceTag/{MANAGED_BY}"): MANAGED_BY_VALUE},
            })),
        );
    }
    b.add(
        "PassOperatorRolesToEks",
        vec!["iam:PassRole".into()],
        roles,
        Some(json!({"StringEquals": {
            "iam:PassedToService": "eks.amazonaws.com",
            format!("aws:ResourceTag/{MANAGED_BY}"): MANAGED_BY_VALUE,
        }})),
    );

    b.add(
        "AssumeSpecCredentialsRoles",
        vec!["sts:AssumeRole".into()],
        vec![format!("arn:{p}:iam::*:role{ASSUMABLE_ROLE_PATH}*")],
        None,
    );

    json!({"Version": "2012-10-17", "Statement": b.statements})
}

/// The policy of the `aws` partition as one document (for an inline role policy, which may hold 10,240
/// characters).
pub fn policy() -> Value {
    policy_for("aws")
}

/// Whether a statement belongs to the `network` document: all its actions are EC2's.
fn is_network(statement: &Value) -> bool {
    statement["Action"].as_array().is_some_and(|actions| {
        actions
            .iter()
            .all(|a| a.as_str().is_some_and(|a| a.starts_with("ec2:")))
    })
}

/// One of the [`DOCUMENTS`] of the policy of a partition, `None` for an unknown name.
pub fn document_for(partition: &str, name: &str) -> Option<Value> {
    let network = match name {
        "network" => true,
        "clusters" => false,
        _ => return None,
    };
    let policy = policy_for(partition);
    let statements: Vec<Value> = policy["Statement"]
        .as_array()
        .map(|all| all.iter().filter(|s| is_network(s) == network).cloned().collect())
        .unwrap_or_default();
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// A document as committed: pretty JSON with a final newline (empty for an unknown name).
pub fn document_json(partition: &str, name: &str) -> String {
    let Some(document) = document_for(partition, name) else {
        return String::new();
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests;
