//! The fake's state: per-region EC2 and EKS stores, the global IAM store, and filter evaluation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use eks_plan::tags::OWNER_UID;

use crate::error::{AwsError, ErrorDetail};
use crate::types::*;

/// A lifecycle that settles after a number of observations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    pub status: String,
    pub seen: u32,
}

impl Lifecycle {
    pub fn new(status: &str) -> Self {
        Self {
            status: status.to_owned(),
            seen: 0,
        }
    }
}

/// A stored EKS cluster.
#[derive(Clone, Debug)]
pub(crate) struct StoredCluster {
    pub cluster: Cluster,
    pub life: Lifecycle,
    pub nodegroups: BTreeMap<String, (Nodegroup, Lifecycle)>,
    pub token: String,
    /// Access entries by principal, with their associated policies by policy ARN.
    pub access_entries: BTreeMap<String, (AccessEntry, BTreeMap<String, AssociatedPolicy>)>,
}

/// One region's EC2 and EKS.
#[derive(Default)]
pub struct RegionState {
    pub(crate) vpcs: BTreeMap<String, Vpc>,
    pub(crate) dns: HashMap<String, (bool, bool)>,
    pub(crate) subnets: BTreeMap<String, Subnet>,
    pub(crate) igws: BTreeMap<String, InternetGateway>,
    pub(crate) vgws: BTreeMap<String, VpnGateway>,
    pub(crate) addresses: BTreeMap<String, Address>,
    pub(crate) nats: BTreeMap<String, (NatGateway, Lifecycle, String)>,
    pub(crate) route_tables: BTreeMap<String, RouteTable>,
    pub(crate) security_groups: BTreeMap<String, SecurityGroup>,
    /// Network interfaces by id, with their VPC.
    pub enis: BTreeMap<String, (NetworkInterface, String)>,
    pub(crate) clusters: BTreeMap<String, StoredCluster>,
    /// Resource ids by owner-uid tag value.
    pub(crate) by_owner: HashMap<String, BTreeSet<String>>,
}

impl RegionState {
    /// Indexes a resource's owner tag.
    pub(crate) fn index(&mut self, id: &str, tags: &Tags) {
        if let Some(uid) = tags.get(OWNER_UID) {
            self.by_owner
                .entry(uid.clone())
                .or_default()
                .insert(id.to_owned());
        }
    }

    /// Candidate ids for a Describe: the owner index when the filters name an owner uid, else `None` (scan).
    pub(crate) fn candidates(&self, filters: &[Filter]) -> Option<Vec<String>> {
        let key = format!("tag:{OWNER_UID}");
        let owner = filters.iter().find(|f| f.name == key)?;
        Some(
            owner
                .values
                .iter()
                .filter_map(|uid| self.by_owner.get(uid))
                .flat_map(|ids| ids.iter().cloned())
                .collect(),
        )
    }

    /// Adds a network interface (what a load balancer would leave), for tests.
    pub fn add_network_interface(
        &mut self,
        id: &str,
        vpc_id: &str,
        subnet_id: &str,
        status: &str,
        description: &str,
    ) {
        self.enis.insert(
            id.to_owned(),
            (
                NetworkInterface {
                    id: id.to_owned(),
                    status: status.to_owned(),
                    description: description.to_owned(),
                    subnet_id: subnet_id.to_owned(),
                    security_group_ids: Vec::new(),
                },
                vpc_id.to_owned(),
            ),
        );
    }

    /// Sets a node group's sizes out of band (a person or an autoscaler).
    pub fn scale_nodegroup(&mut self, cluster: &str, name: &str, scaling: Scaling) -> bool {
        match self
            .clusters
            .get_mut(cluster)
            .and_then(|c| c.nodegroups.get_mut(name))
        {
            Some((ng, _)) => {
                ng.scaling = scaling;
                true
            }
            None => false,
        }
    }

    /// The status and version of a cluster.
    pub fn cluster_status(&self, name: &str) -> Option<(String, String)> {
        self.clusters
            .get(name)
            .map(|c| (c.life.status.clone(), c.cluster.version.clone()))
    }

    /// The status and version of a node group.
    pub fn nodegroup_status(&self, cluster: &str, name: &str) -> Option<(String, String)> {
        self.clusters
            .get(cluster)
            .and_then(|c| c.nodegroups.get(name))
            .map(|(ng, life)| (life.status.clone(), ng.version.clone()))
    }
}

/// The whole fake account.
#[derive(Default)]
pub struct FakeState {
    pub(crate) regions: HashMap<String, RegionState>,
    pub(crate) roles: BTreeMap<String, (Role, BTreeSet<String>)>,
    pub(crate) oidc: BTreeMap<String, OidcProvider>,
    pub(crate) next_id: u64,
}

impl FakeState {
    /// A region's state (created on first use).
    pub fn region(&mut self, region: &str) -> &mut RegionState {
        self.regions.entry(region.to_owned()).or_default()
    }

    /// How many resources of every kind exist (for tests and the fleet benchmark).
    pub fn resource_count(&self) -> usize {
        self.roles.len()
            + self.oidc.len()
            + self
                .regions
                .values()
                .map(|r| {
                    r.vpcs.len()
                        + r.subnets.len()
                        + r.igws.len()
                        + r.vgws.values().filter(|g| g.state != "deleted").count()
                        + r.addresses.len()
                        + r.nats.values().filter(|n| n.0.is_live()).count()
                        + r.route_tables.len()
                        + r.security_groups.len()
                        + r.clusters.len()
                        + r.clusters.values().map(|c| c.nodegroups.len()).sum::<usize>()
                })
                .sum::<usize>()
    }
}

/// Whether a resource with `tags` and the named `fields` passes every filter.
pub(crate) fn matches(tags: &Tags, fields: &[(&str, &str)], filters: &[Filter]) -> bool {
    filters.iter().all(|f| {
        if let Some(key) = f.name.strip_prefix("tag:") {
            tags.get(key).is_some_and(|v| f.values.contains(v))
        } else if f.name == "tag-key" {
            f.values.iter().any(|k| tags.contains_key(k))
        } else {
            fields
                .iter()
                .filter(|(name, _)| *name == f.name)
                .any(|(_, value)| f.values.iter().any(|v| v == value))
        }
    })
}

/// An error as AWS would answer it.
pub(crate) fn aws_error(operation: &'static str, code: &str, message: impl Into<String>) -> AwsError {
    AwsError::from_code(operation, code, &message.into(), Some(400))
}

/// `NotFound` for an id.
pub(crate) fn not_found(operation: &'static str, code: &str, id: &str) -> AwsError {
    AwsError::NotFound(ErrorDetail::new(operation, code, format!("{id} does not exist")))
}

/// Advances a lifecycle by one observation; returns true when it settled on this observation.
pub(crate) fn observe(life: &mut Lifecycle, settle_after: u32) -> bool {
    let transient = matches!(
        life.status.as_str(),
        "CREATING" | "UPDATING" | "DELETING" | "pending" | "deleting"
    );
    if !transient {
        return false;
    }
    life.seen += 1;
    if life.seen < settle_after {
        return false;
    }
    life.seen = 0;
    life.status = match life.status.as_str() {
        "CREATING" | "UPDATING" => "ACTIVE",
        "pending" => "available",
        "deleting" => "deleted",
        _ => "GONE",
    }
    .to_owned();
    true
}
