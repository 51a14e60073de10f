//! Security groups of the control plane and the nodes.
//!
//! The cluster group opens the API (443) only to the nodes and to `spec.endpoint.publicAccessCidrs` (the seed's
//! `allowed_ips`); the nodes group lets nodes talk to each other and the control plane reach the kubelets.

use eks_api::ClusterId;
use ipnet::Ipv4Net;

use crate::model::{RulePeer, SecurityGroupPlan, SecurityGroupRule};
use crate::network::anywhere;
use crate::tags::{self, Tags, resource_tags};

/// Key of the control plane's security group.
pub const CLUSTER_GROUP: &str = "cluster";
/// Key of the nodes' security group.
pub const NODES_GROUP: &str = "nodes";

fn rule(protocol: &str, from: i32, to: i32, peer: RulePeer, description: &str) -> SecurityGroupRule {
    SecurityGroupRule {
        protocol: protocol.to_owned(),
        from_port: from,
        to_port: to,
        peer,
        description: description.to_owned(),
    }
}

fn group(key: &str) -> RulePeer {
    RulePeer::SecurityGroup { key: key.to_owned() }
}

fn all_outbound() -> SecurityGroupRule {
    rule(
        "-1",
        -1,
        -1,
        RulePeer::Cidr { cidr: anywhere() },
        "all outbound traffic",
    )
}

/// The two security groups of a region.
pub(crate) fn plan_security_groups(
    id: &ClusterId,
    api_cidrs: &[Ipv4Net],
    user_tags: &Tags,
    ownership: &Tags,
) -> Vec<SecurityGroupPlan> {
    let mut cluster_ingress = vec![rule(
        "tcp",
        443,
        443,
        group(NODES_GROUP),
        "nodes to the Kubernetes API",
    )];
    cluster_ingress.extend(api_cidrs.iter().map(|cidr| {
        rule(
            "tcp",
            443,
            443,
            RulePeer::Cidr { cidr: *cidr },
            "allowed CIDR to the Kubernetes API",
        )
    }));
    cluster_ingress.sort();
    let cluster_name = format!("{id}-cluster");
    let nodes_name = format!("{id}-nodes");
    let owned = (tags::kubernetes_cluster_key(id), "owned".to_owned());
    let mut nodes_ingress = vec![
        rule("-1", -1, -1, group(NODES_GROUP), "nodes to each other"),
        rule(
            "tcp",
            443,
            443,
            group(CLUSTER_GROUP),
            "control plane to webhooks and extension API servers",
        ),
        rule(
            "tcp",
            1025,
            65535,
            group(CLUSTER_GROUP),
            "control plane to kubelets and pods",
        ),
    ];
    nodes_ingress.sort();
    vec![
        SecurityGroupPlan {
            key: CLUSTER_GROUP.to_owned(),
            description: format!("EKS control plane of {id}"),
            ingress: cluster_ingress,
            egress: vec![all_outbound()],
            tags: resource_tags(user_tags, ownership, "security-group/cluster", &cluster_name, []),
            name: cluster_name,
        },
        SecurityGroupPlan {
            key: NODES_GROUP.to_owned(),
            description: format!("EKS worker nodes of {id}"),
            ingress: nodes_ingress,
            egress: vec![all_outbound()],
            tags: resource_tags(user_tags, ownership, "security-group/nodes", &nodes_name, [owned]),
            name: nodes_name,
        },
    ]
}
