//! The EKS control plane, managed node groups and the IAM OIDC provider.

use eks_api::{CapacityType, ClusterId, SubnetTier, Topology, ValidatedCluster};
use ipnet::Ipv4Net;

use crate::model::{ClusterPlan, NodeGroupPlan, OidcProviderPlan, RoleKind, SubnetPlan, TaintPlan};
use crate::network::anywhere;
use crate::security::CLUSTER_GROUP;
use crate::tags::{self, Tags, resource_tags};

/// The audience IAM roles for service accounts use.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The control plane request.
pub(crate) fn plan_cluster(
    cluster: &ValidatedCluster,
    id: &ClusterId,
    subnets: &[SubnetPlan],
    user_tags: &Tags,
    ownership: &Tags,
) -> ClusterPlan {
    let spec = cluster.spec();
    let public_access_cidrs: Vec<Ipv4Net> = if !spec.endpoint.public_access {
        Vec::new()
    } else if cluster.public_access_cidrs().is_empty() {
        vec![anywhere()]
    } else {
        cluster.public_access_cidrs().to_vec()
    };
    let mut logging: Vec<String> = spec
        .control_plane_logging
        .iter()
        .map(|l| l.as_str().to_owned())
        .collect();
    logging.sort();
    logging.dedup();
    ClusterPlan {
        name: id.to_string(),
        kubernetes_version: spec.kubernetes_version.clone(),
        role: RoleKind::ControlPlane,
        subnet_keys: subnets.iter().map(|s| s.key.clone()).collect(),
        security_group_keys: vec![CLUSTER_GROUP.to_owned()],
        endpoint_public_access: spec.endpoint.public_access,
        endpoint_private_access: spec.endpoint.private_access,
        public_access_cidrs,
        logging,
        tags: resource_tags(user_tags, ownership, "eks-cluster", id.as_str(), []),
    }
}

/// The node group requests.
pub(crate) fn plan_node_groups(
    cluster: &ValidatedCluster,
    id: &ClusterId,
    topology: Topology,
    subnets: &[SubnetPlan],
    user_tags: &Tags,
    ownership: &Tags,
) -> Vec<NodeGroupPlan> {
    let spec = cluster.spec();
    let owned = (tags::kubernetes_cluster_key(id), "owned".to_owned());
    spec.node_groups
        .iter()
        .map(|group| {
            let tier = match topology {
                Topology::Public => SubnetTier::Public,
                Topology::Private => SubnetTier::Private,
                Topology::PublicAndPrivate => group.subnets.unwrap_or(SubnetTier::Private),
            };
            let name = format!("{id}-{}", group.name);
            NodeGroupPlan {
                name: group.name.clone(),
                role: RoleKind::Worker,
                subnet_keys: subnets
                    .iter()
                    .filter(|s| s.tier == tier)
                    .map(|s| s.key.clone())
                    .collect(),
                instance_types: group.instance_types.clone(),
                min_size: group.min_size,
                max_size: group.max_size,
                desired_size: group.desired_size,
                disk_size_gib: group.disk_size_gib,
                ssh_key_name: group.ssh_key_name.clone(),
                labels: group.labels.clone(),
                taints: group
                    .taints
                    .iter()
                    .map(|t| TaintPlan {
                        key: t.key.clone(),
                        value: t.value.clone(),
                        effect: t.effect,
                    })
                    .collect(),
                capacity_type: match group.capacity_type {
                    CapacityType::OnDemand => "ON_DEMAND",
                    CapacityType::Spot => "SPOT",
                }
                .to_owned(),
                kubernetes_version: spec.kubernetes_version.clone(),
                tags: resource_tags(
                    user_tags,
                    ownership,
                    &format!("node-group/{}", group.name),
                    &name,
                    [owned.clone()],
                ),
            }
        })
        .collect()
}

/// The OIDC provider request.
pub(crate) fn plan_oidc(id: &ClusterId, user_tags: &Tags, ownership: &Tags) -> OidcProviderPlan {
    OidcProviderPlan {
        client_ids: vec![STS_AUDIENCE.to_owned()],
        tags: resource_tags(user_tags, ownership, "oidc-provider", &format!("{id}-oidc"), []),
    }
}
