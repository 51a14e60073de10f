//! The state one pass carries through the resource families.

use eks_plan::{RegionPlan, Tags, tags};

use super::report::RegionIds;
use crate::context::{AwsContext, RegionClients};
use crate::types::Filter;

/// What a pass did to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// Created.
    Created,
    /// Changed to match the spec.
    Updated,
    /// Put back after an out-of-band change.
    Repaired,
    /// Deleted.
    Deleted,
}

impl Verb {
    /// Event reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Updated => "Updated",
            Self::Repaired => "Repaired",
            Self::Deleted => "Deleted",
        }
    }
}

/// One thing a pass did, for events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// What was done.
    pub verb: Verb,
    /// The resource, with its id or name.
    pub resource: String,
}

/// The filters that find what this object owns in this region: owner uid and cluster id.
pub(crate) fn owner_filters(owner_uid: &str, cluster_id: &str) -> Vec<Filter> {
    vec![
        Filter::tag(tags::OWNER_UID, owner_uid),
        Filter::tag(tags::CLUSTER_ID, cluster_id),
    ]
}

/// The planned component a resource is, from its `eksoperator.io/component` tag.
pub(crate) fn component(tags: &Tags) -> Option<&str> {
    tags.get(tags::COMPONENT).map(String::as_str)
}

/// The desired tags that are missing or different on a resource.
pub(crate) fn missing_tags(observed: &Tags, desired: &Tags) -> Tags {
    desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One pass over one region.
pub(crate) struct Pass<'a> {
    pub ctx: &'a AwsContext,
    pub clients: &'a RegionClients,
    pub plan: &'a RegionPlan,
    pub filters: Vec<Filter>,
    pub ids: RegionIds,
    pub in_progress: Vec<String>,
    pub blocking: Vec<String>,
    pub actions: Vec<Action>,
}

impl<'a> Pass<'a> {
    pub fn new(ctx: &'a AwsContext, clients: &'a RegionClients, plan: &'a RegionPlan) -> Self {
        Self {
            ctx,
            clients,
            plan,
            filters: owner_filters(&plan.owner.uid, plan.cluster_id.as_str()),
            ids: RegionIds::default(),
            in_progress: Vec::new(),
            blocking: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Records an action and logs it.
    pub fn did(&mut self, verb: Verb, resource: impl Into<String>) {
        let resource = resource.into();
        tracing::info!(region = %self.plan.region, cluster = %self.plan.cluster_id, "{} {resource}", verb.as_str());
        self.actions.push(Action { verb, resource });
    }

    /// Records work in progress.
    pub fn waiting(&mut self, what: impl Into<String>) {
        self.in_progress.push(what.into());
    }
}
