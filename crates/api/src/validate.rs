//! Turns an `EksCluster` into a [`ValidatedCluster`], or into errors that name the field and say what is wrong.
//!
//! Every rule the CRD schema holds (patterns, enums, bounds, CEL) is checked here again: the operator must not
//! trust that the API server enforced them, and `eks-operator plan` runs with no API server at all.

use std::collections::BTreeSet;
use std::fmt;

use ipnet::Ipv4Net;

use crate::access::AccessEntrySpec;
use crate::names::{ClusterId, RegionName};
use crate::patterns;
use crate::spec::{AwsAuthSpec, EksCluster, EksClusterSpec, NodeGroupSpec};
use crate::validate_network::{ResolvedNetwork, resolve_network};

/// Tag key prefixes reserved for AWS, Kubernetes and the operator's own ownership tags.
pub const RESERVED_TAG_PREFIXES: [&str; 3] = ["aws:", "eksoperator.io/", "kubernetes.io/cluster/"];

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, as `kubectl explain` names it: `spec.network.vpcCidr`, `spec.nodeGroups[0].minSize`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in one object. Never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The problems, in the order of the spec's fields.
    pub errors: Vec<FieldError>,
}

impl ValidationError {
    /// Stable short name used as event reason and condition reason.
    pub fn reason(&self) -> &'static str {
        "InvalidSpec"
    }

    /// The path of the first offending field.
    pub fn first_field(&self) -> &str {
        self.errors.first().map_or("spec", |e| e.field.as_str())
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

/// Collects field errors while a validation walks the spec.
#[derive(Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The settings of one region after overrides, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionConfig {
    /// The region.
    pub region: RegionName,
    /// `<region>-<stage>-<name>`.
    pub cluster_id: ClusterId,
    /// The region's effective network.
    pub network: ResolvedNetwork,
    /// The region's access entries: `spec.access.entries` followed by the region's own from `regionOverrides`.
    pub access_entries: Vec<AccessEntrySpec>,
}

/// An `EksCluster` whose spec passed validation. Only [`validate`] makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedCluster {
    name: String,
    namespace: String,
    uid: Option<String>,
    generation: Option<i64>,
    spec: EksClusterSpec,
    regions: Vec<RegionConfig>,
    public_access_cidrs: Vec<Ipv4Net>,
}

impl ValidatedCluster {
    /// The object's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The object's namespace (`default` when the document had none).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
    /// The object's uid; `None` for a document that was never stored by an API server (offline `plan`).
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }
    /// The object's `metadata.generation`.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }
    /// The validated spec.
    pub fn spec(&self) -> &EksClusterSpec {
        &self.spec
    }
    /// The regions in the order of `spec.regions`.
    pub fn regions(&self) -> &[RegionConfig] {
        &self.regions
    }
    /// The settings of one region.
    pub fn region(&self, region: &RegionName) -> Option<&RegionConfig> {
        self.regions.iter().find(|r| &r.region == region)
    }
    /// The parsed `spec.endpoint.publicAccessCidrs`.
    pub fn public_access_cidrs(&self) -> &[Ipv4Net] {
        &self.public_access_cidrs
    }
}

/// Validates an `EksCluster`. Returns every problem found, not only the first.
pub fn validate(object: &EksCluster) -> Result<ValidatedCluster, ValidationError> {
    let mut errors = Errors::default();
    let name = object.metadata.name.clone().unwrap_or_default();
    validate_name(&name, &mut errors);
    let spec = &object.spec;

    let stage = spec.stage.as_deref();
    if let Some(stage) = stage
        && !patterns::is_stage(stage)
    {
        errors.add(
            "spec.stage",
            format!("{stage:?} must be lower-case letters, digits and '-', at most 20 characters"),
        );
    }
    if !patterns::is_kubernetes_version(&spec.kubernetes_version) {
        errors.add(
            "spec.kubernetesVersion",
            format!(
                "{:?} must be a Kubernetes minor version such as \"1.31\"",
                spec.kubernetes_version
            ),
        );
    }

    let regions = validate_regions(spec, &name, &mut errors);
    let public_access_cidrs = validate_endpoint(spec, &mut errors);
    for (i, group) in spec.node_groups.iter().enumerate() {
        validate_node_group(group, &format!("spec.nodeGroups[{i}]"), spec, &mut errors);
    }
    let mut seen = BTreeSet::new();
    for (i, group) in spec.node_groups.iter().enumerate() {
        if !seen.insert(group.name.as_str()) {
            errors.add(
                format!("spec.nodeGroups[{i}].name"),
                format!("duplicate node group {:?}", group.name),
            );
        }
    }
    validate_aws_auth(&spec.aws_auth, &mut errors);
    crate::validate_access::validate_access(spec, &mut errors);
    validate_tags(spec, &mut errors);
    if let Some(credentials) = &spec.credentials
        && !patterns::is_role_arn(&credentials.role_arn)
    {
        errors.add(
            "spec.credentials.roleArn",
            format!("{:?} is not an IAM role ARN", credentials.role_arn),
        );
    }

    if !errors.is_empty() {
        return Err(ValidationError { errors: errors.0 });
    }
    Ok(ValidatedCluster {
        name,
        namespace: object
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        uid: object.metadata.uid.clone(),
        generation: object.metadata.generation,
        spec: spec.clone(),
        regions,
        public_access_cidrs,
    })
}

fn validate_name(name: &str, errors: &mut Errors) {
    let label = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !label {
        errors.add(
            "metadata.name",
            format!(
                "{name:?} must be a DNS label: lower-case letters, digits and '-', at most 63 characters"
            ),
        );
    }
}

fn validate_regions(spec: &EksClusterSpec, name: &str, errors: &mut Errors) -> Vec<RegionConfig> {
    if spec.regions.is_empty() {
        errors.add("spec.regions", "at least one region is required");
    }
    let mut seen = BTreeSet::new();
    let mut configs = Vec::new();
    for (i, raw) in spec.regions.iter().enumerate() {
        let field = format!("spec.regions[{i}]");
        if !seen.insert(raw.as_str()) {
            errors.add(&field, format!("duplicate region {raw:?}"));
            continue;
        }
        let region = match RegionName::parse(raw) {
            Ok(region) => region,
            Err(message) => {
                errors.add(&field, message);
                continue;
            }
        };
        let cluster_id = match ClusterId::new(&region, spec.stage.as_deref(), name) {
            Ok(id) => Some(id),
            Err(message) => {
                errors.add(&field, message);
                None
            }
        };
        let network = resolve_network(spec, &region, errors);
        if let (Some(cluster_id), Some(network)) = (cluster_id, network) {
            let mut access_entries = spec.access.entries.clone();
            if let Some(access) = spec.region_overrides.get(raw).and_then(|o| o.access.as_ref()) {
                access_entries.extend(access.entries.iter().cloned());
            }
            configs.push(RegionConfig {
                region,
                cluster_id,
                network,
                access_entries,
            });
        }
    }
    for key in spec.region_overrides.keys() {
        if !spec.regions.contains(key) {
            errors.add(
                format!("spec.regionOverrides.{key}"),
                format!("{key:?} is not one of spec.regions"),
            );
        }
    }
    if spec.regions.len() > 1 && !spec.network.zones.is_empty() {
        errors.add(
            "spec.network.zones",
            "zone names belong to one region: with several regions give availabilityZones, or zones per region in regionOverrides",
        );
    }
    configs
}

fn validate_endpoint(spec: &EksClusterSpec, errors: &mut Errors) -> Vec<Ipv4Net> {
    let endpoint = &spec.endpoint;
    if !endpoint.public_access && !endpoint.private_access {
        errors.add(
            "spec.endpoint",
            "at least one of publicAccess and privateAccess must be true",
        );
    }
    if !endpoint.public_access && !endpoint.public_access_cidrs.is_empty() {
        errors.add(
            "spec.endpoint.publicAccessCidrs",
            "must be empty when publicAccess is false",
        );
    }
    let mut cidrs = Vec::new();
    for (i, raw) in endpoint.public_access_cidrs.iter().enumerate() {
        match parse_cidr(raw) {
            Ok(net) => cidrs.push(net),
            Err(message) => errors.add(format!("spec.endpoint.publicAccessCidrs[{i}]"), message),
        }
    }
    cidrs
}

fn validate_node_group(group: &NodeGroupSpec, field: &str, spec: &EksClusterSpec, errors: &mut Errors) {
    if !patterns::is_node_group_name(&group.name) {
        errors.add(
            format!("{field}.name"),
            format!(
                "{:?} must start with a letter or digit and hold at most 63 letters, digits, '-' and '_'",
                group.name
            ),
        );
    }
    if group.instance_types.is_empty() {
        errors.add(
            format!("{field}.instanceTypes"),
            "at least one instance type is required",
        );
    }
    for (i, instance_type) in group.instance_types.iter().enumerate() {
        if !patterns::is_instance_type(instance_type) {
            errors.add(
                format!("{field}.instanceTypes[{i}]"),
                format!("{instance_type:?} is not an EC2 instance type such as t3.medium"),
            );
        }
    }
    if group.min_size < 0 {
        errors.add(
            format!("{field}.minSize"),
            format!("{} must not be negative", group.min_size),
        );
    }
    if group.max_size < 1 {
        errors.add(
            format!("{field}.maxSize"),
            format!("{} must be at least 1", group.max_size),
        );
    }
    if group.min_size > group.max_size {
        errors.add(
            format!("{field}.minSize"),
            format!(
                "minSize {} is greater than maxSize {}",
                group.min_size, group.max_size
            ),
        );
    }
    if let Some(desired) = group.desired_size
        && (desired < group.min_size || desired > group.max_size)
    {
        errors.add(
            format!("{field}.desiredSize"),
            format!(
                "desiredSize {desired} lies outside [minSize {}, maxSize {}]",
                group.min_size, group.max_size
            ),
        );
    }
    if !(1..=16384).contains(&group.disk_size_gib) {
        errors.add(
            format!("{field}.diskSizeGiB"),
            format!("{} must be between 1 and 16384", group.disk_size_gib),
        );
    }
    if let Some(key) = &group.ssh_key_name
        && !patterns::is_ssh_key_name(key)
    {
        errors.add(
            format!("{field}.sshKeyName"),
            format!("{key:?} is not an EC2 key pair name"),
        );
    }
    for (i, taint) in group.taints.iter().enumerate() {
        if taint.key.is_empty() || taint.key.len() > 63 {
            errors.add(format!("{field}.taints[{i}].key"), "must hold 1 to 63 characters");
        }
    }
    let topology = spec.network.topology.unwrap_or_default();
    match (group.subnets, topology) {
        (Some(crate::spec::SubnetTier::Public), crate::network::Topology::Private) => errors.add(
            format!("{field}.subnets"),
            "Public subnets do not exist with the Private topology",
        ),
        (Some(crate::spec::SubnetTier::Private), crate::network::Topology::Public) => errors.add(
            format!("{field}.subnets"),
            "Private subnets do not exist with the Public topology",
        ),
        _ => {}
    }
}

fn validate_aws_auth(auth: &AwsAuthSpec, errors: &mut Errors) {
    for (i, role) in auth.map_roles.iter().enumerate() {
        if !patterns::is_role_arn(&role.rolearn) {
            errors.add(
                format!("spec.awsAuth.mapRoles[{i}].rolearn"),
                format!("{:?} is not an IAM role ARN", role.rolearn),
            );
        }
        if role.username.is_empty() {
            errors.add(
                format!("spec.awsAuth.mapRoles[{i}].username"),
                "must not be empty",
            );
        }
    }
    for (i, user) in auth.map_users.iter().enumerate() {
        if !patterns::is_user_arn(&user.userarn) {
            errors.add(
                format!("spec.awsAuth.mapUsers[{i}].userarn"),
                format!("{:?} is not an IAM user ARN", user.userarn),
            );
        }
        if user.username.is_empty() {
            errors.add(
                format!("spec.awsAuth.mapUsers[{i}].username"),
                "must not be empty",
            );
        }
    }
    for (i, account) in auth.map_accounts.iter().enumerate() {
        if !patterns::is_account_id(account) {
            errors.add(
                format!("spec.awsAuth.mapAccounts[{i}]"),
                format!("{account:?} is not a 12 digit account id"),
            );
        }
    }
}

fn validate_tags(spec: &EksClusterSpec, errors: &mut Errors) {
    if spec.tags.len() > 40 {
        errors.add(
            "spec.tags",
            format!(
                "{} tags given; at most 40 leave room for the operator's own",
                spec.tags.len()
            ),
        );
    }
    for (key, value) in &spec.tags {
        let field = format!("spec.tags.{key}");
        if key.is_empty() || key.len() > 128 {
            errors.add(&field, "tag keys hold 1 to 128 characters");
        }
        if value.len() > 256 {
            errors.add(&field, "tag values hold at most 256 characters");
        }
        if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| key.starts_with(*p)) {
            errors.add(&field, format!("tag keys starting with {prefix:?} are reserved"));
        }
    }
}

/// Parses an IPv4 CIDR that must be a network address (no host bits set).
pub(crate) fn parse_cidr(raw: &str) -> Result<Ipv4Net, String> {
    if !patterns::is_ipv4_cidr_shape(raw) {
        return Err(format!("{raw:?} is not an IPv4 CIDR such as 10.0.0.0/16"));
    }
    let net: Ipv4Net = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not an IPv4 CIDR such as 10.0.0.0/16"))?;
    if net.trunc() != net {
        return Err(format!(
            "{raw:?} has host bits set; the network address is {}",
            net.trunc()
        ));
    }
    Ok(net)
}
