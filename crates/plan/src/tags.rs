//! Tag keys and the tag sets every AWS resource carries.
//!
//! Ownership tags name the owning object (uid, namespace/name), the region and the cluster id, so that a later
//! reconcile finds what it made (and only that) and never makes it twice. The `component` tag says which
//! planned resource an AWS resource is, so observation maps it back to its plan key without guessing.

use std::collections::BTreeMap;

use eks_api::{ClusterId, RegionName, ValidatedCluster};

/// A set of AWS tags, sorted by key.
pub type Tags = BTreeMap<String, String>;

/// Tag key holding the owning object's uid. Describe calls filter on it.
pub const OWNER_UID: &str = "eksoperator.io/owner-uid";
/// Tag key holding `<namespace>/<name>` of the owning object.
pub const OWNER: &str = "eksoperator.io/owner";
/// Tag key holding the region.
pub const REGION: &str = "eksoperator.io/region";
/// Tag key holding the regional cluster id.
pub const CLUSTER_ID: &str = "eksoperator.io/cluster-id";
/// Tag key naming the planned resource (`vpc`, `subnet/private-0`, `nat/eu-west-1a`, ...).
pub const COMPONENT: &str = "eksoperator.io/component";
/// Tag key saying which tool manages the resource.
pub const MANAGED_BY: &str = "eksoperator.io/managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGED_BY_VALUE: &str = "eks-operator";
/// The AWS console's name tag.
pub const NAME: &str = "Name";
/// Placeholder for the uid of an object that no API server has stored yet (offline `plan`).
pub const UID_PLACEHOLDER: &str = "<uid>";

/// `kubernetes.io/cluster/<id>`: the key EKS and its load balancer controllers look for.
pub fn kubernetes_cluster_key(id: &ClusterId) -> String {
    format!("kubernetes.io/cluster/{id}")
}

/// Public subnets: where internet-facing load balancers go.
pub const ROLE_ELB: &str = "kubernetes.io/role/elb";
/// Private subnets: where internal load balancers go.
pub const ROLE_INTERNAL_ELB: &str = "kubernetes.io/role/internal-elb";

/// The operator's own tags for one region of one object.
pub fn ownership(cluster: &ValidatedCluster, region: &RegionName, id: &ClusterId) -> Tags {
    Tags::from([
        (
            OWNER_UID.to_owned(),
            cluster.uid().unwrap_or(UID_PLACEHOLDER).to_owned(),
        ),
        (
            OWNER.to_owned(),
            format!("{}/{}", cluster.namespace(), cluster.name()),
        ),
        (REGION.to_owned(), region.to_string()),
        (CLUSTER_ID.to_owned(), id.to_string()),
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
    ])
}

/// Builds the tags of one resource: the user's tags, then the resource's own, then ownership (which always wins;
/// validation keeps users from writing the reserved keys).
pub(crate) fn resource_tags(
    user: &Tags,
    ownership: &Tags,
    component: &str,
    name: &str,
    extra: impl IntoIterator<Item = (String, String)>,
) -> Tags {
    let mut tags = user.clone();
    tags.insert(NAME.to_owned(), name.to_owned());
    tags.extend(extra);
    tags.extend(ownership.iter().map(|(k, v)| (k.clone(), v.clone())));
    tags.insert(COMPONENT.to_owned(), component.to_owned());
    tags
}
