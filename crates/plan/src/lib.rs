//! Pure desired state of one region of an `EksCluster`.
//!
//! [`plan_region`] turns a validated spec, a region and that region's availability zones into a [`RegionPlan`]:
//! every AWS resource with its name, tags and key properties, the IAM roles with their policies, the EKS
//! cluster and node group requests and the aws-auth ConfigMap. No kube client, no AWS SDK, no I/O: the AWS
//! layer reconciles against the plan, and `eks-operator plan` prints it.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod aws_auth;
mod eks;
pub mod iam;
pub mod model;
pub mod names;
mod network;
pub mod output;
pub mod security;
pub mod tags;

use eks_api::{RegionName, ValidatedCluster, ZoneSelection};

pub use aws_auth::AwsAuthPlan;
pub use model::*;
pub use tags::Tags;

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The region is not one of the spec's regions.
    #[error("region {0} is not in spec.regions")]
    UnknownRegion(RegionName),
    /// The caller passed a different number of zones than the spec asks for.
    #[error("region {region} needs {wanted} availability zones, {given} were given")]
    ZoneCount {
        /// The region.
        region: RegionName,
        /// How many the spec asks for.
        wanted: usize,
        /// How many were passed.
        given: usize,
    },
}

impl PlanError {
    /// Stable short name for events and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownRegion(_) => "UnknownRegion",
            Self::ZoneCount { .. } => "ZoneCount",
        }
    }
}

/// The zones to plan a region with when AWS has not been asked yet: the names the spec gives, or
/// `<region>a`, `<region>b`, ... as placeholders. The second value says whether they are placeholders.
pub fn offline_zones(
    cluster: &ValidatedCluster,
    region: &RegionName,
) -> Result<(Vec<String>, bool), PlanError> {
    let config = cluster
        .region(region)
        .ok_or_else(|| PlanError::UnknownRegion(region.clone()))?;
    Ok(match &config.network.zones {
        ZoneSelection::Named(names) => (names.clone(), false),
        ZoneSelection::Count(n) => (
            (0..*n)
                .map(|i| format!("{region}{}", char::from(b'a' + i)))
                .collect(),
            true,
        ),
    })
}

/// Plans one region with its availability zones (from the spec, from AWS, or [`offline_zones`]).
/// `account_id` fills the role ARNs; without it they carry `<AWS_ACCOUNT_ID>`.
pub fn plan_region(
    cluster: &ValidatedCluster,
    region: &RegionName,
    zones: &[String],
    account_id: Option<&str>,
) -> Result<RegionPlan, PlanError> {
    let config = cluster
        .region(region)
        .ok_or_else(|| PlanError::UnknownRegion(region.clone()))?;
    let network = &config.network;
    if zones.len() != network.zones.len() || zones.is_empty() {
        return Err(PlanError::ZoneCount {
            region: region.clone(),
            wanted: network.zones.len(),
            given: zones.len(),
        });
    }
    let id = &config.cluster_id;
    let spec = cluster.spec();
    let user_tags = &spec.tags;
    let ownership = tags::ownership(cluster, region, id);
    let partition = names::partition(region.as_str());

    let net = network::plan_network(id, network, zones, user_tags, &ownership);
    let security_groups =
        security::plan_security_groups(id, cluster.public_access_cidrs(), user_tags, &ownership);
    let iam_roles = iam::plan_roles(id, partition, account_id, user_tags, &ownership);
    let worker_arn = names::role_arn(partition, account_id, &iam::role_name(RoleKind::Worker, id));
    let access = access::AccessPlan::new(
        spec.access.authentication_mode,
        spec.access.bootstrap_cluster_creator_admin_permissions,
        &config.access_entries,
        &spec.aws_auth,
        &worker_arn,
    );
    let cluster_plan = eks::plan_cluster(cluster, id, &net.subnets, user_tags, &ownership);
    let node_groups =
        eks::plan_node_groups(cluster, id, network.topology, &net.subnets, user_tags, &ownership);

    Ok(RegionPlan {
        region: region.clone(),
        cluster_id: id.clone(),
        owner: Owner {
            uid: cluster.uid().unwrap_or(tags::UID_PLACEHOLDER).to_owned(),
            namespace: cluster.namespace().to_owned(),
            name: cluster.name().to_owned(),
        },
        zones: ZonePlan {
            names: zones.to_vec(),
            placeholder: false,
        },
        vpc: net.vpc,
        subnets: net.subnets,
        internet_gateway: net.internet_gateway,
        nat_gateways: net.nat_gateways,
        route_tables: net.route_tables,
        vpn_gateway: net.vpn_gateway,
        security_groups,
        iam_roles,
        cluster: cluster_plan,
        node_groups,
        oidc_provider: eks::plan_oidc(id, user_tags, &ownership),
        aws_auth: AwsAuthPlan::new(worker_arn, &spec.aws_auth),
        access,
        ownership_tags: ownership,
        deletion_policy: spec.deletion_policy,
    })
}

/// Plans one region without asking AWS: zones come from [`offline_zones`] and are marked as placeholders when
/// the spec only counts them.
pub fn plan_region_offline(
    cluster: &ValidatedCluster,
    region: &RegionName,
    account_id: Option<&str>,
) -> Result<RegionPlan, PlanError> {
    let (zones, placeholder) = offline_zones(cluster, region)?;
    let mut plan = plan_region(cluster, region, &zones, account_id)?;
    plan.zones.placeholder = placeholder;
    Ok(plan)
}
