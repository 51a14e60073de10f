//! The fake's security groups and their rules, and the network interfaces that use them.

use super::{new_id, select};
use crate::error::AwsResult;
use crate::fake::store::{RegionState, aws_error, matches, not_found};
use crate::types::*;

/// The ingress or egress rules of `group`.
fn rule_set(group: &mut SecurityGroup, direction: Direction) -> &mut Vec<SgRule> {
    match direction {
        Direction::Ingress => &mut group.ingress,
        Direction::Egress => &mut group.egress,
    }
}

/// `DescribeSecurityGroups`.
pub(super) fn describe_security_groups(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<SecurityGroup>> {
    Ok(select(&r.security_groups, r.candidates(f), |g| {
        matches(&g.tags, &[("vpc-id", &g.vpc_id), ("group-name", &g.name)], f)
    }))
}

/// `CreateSecurityGroup` with the default allow-all egress rule: `InvalidGroup.Duplicate` when the VPC
/// has a group of that name.
pub(super) fn create_security_group(
    r: &mut RegionState,
    next: &mut u64,
    q: &CreateSecurityGroup,
) -> AwsResult<String> {
    if r.security_groups
        .values()
        .any(|g| g.vpc_id == q.vpc_id && g.name == q.name)
    {
        return Err(aws_error(
            "CreateSecurityGroup",
            "InvalidGroup.Duplicate",
            format!("group {} exists", q.name),
        ));
    }
    let group = SecurityGroup {
        id: new_id(next, "sg"),
        name: q.name.clone(),
        vpc_id: q.vpc_id.clone(),
        ingress: Vec::new(),
        egress: vec![SgRule {
            protocol: "-1".into(),
            from_port: -1,
            to_port: -1,
            peer: SgPeer::Cidr("0.0.0.0/0".into()),
            description: None,
        }],
        tags: q.tags.clone(),
    };
    r.index(&group.id, &q.tags);
    let id = group.id.clone();
    r.security_groups.insert(id.clone(), group);
    Ok(id)
}

/// `AuthorizeSecurityGroupIngress`/`Egress`: `InvalidPermission.Duplicate` when a rule exists already.
pub(super) fn authorize_rules(
    r: &mut RegionState,
    group_id: &str,
    direction: Direction,
    rules: &[SgRule],
) -> AwsResult<()> {
    let g = r
        .security_groups
        .get_mut(group_id)
        .ok_or_else(|| not_found("AuthorizeSecurityGroupIngress", "InvalidGroup.NotFound", group_id))?;
    let set = rule_set(g, direction);
    if rules
        .iter()
        .any(|n| set.iter().any(|o| o.identity() == n.identity()))
    {
        return Err(aws_error(
            "AuthorizeSecurityGroupIngress",
            "InvalidPermission.Duplicate",
            "the rule already exists",
        ));
    }
    set.extend(rules.iter().cloned());
    Ok(())
}

/// `RevokeSecurityGroupIngress`/`Egress` (rules that do not exist are ignored).
pub(super) fn revoke_rules(
    r: &mut RegionState,
    group_id: &str,
    direction: Direction,
    rules: &[SgRule],
) -> AwsResult<()> {
    let g = r
        .security_groups
        .get_mut(group_id)
        .ok_or_else(|| not_found("RevokeSecurityGroupIngress", "InvalidGroup.NotFound", group_id))?;
    rule_set(g, direction).retain(|o| !rules.iter().any(|n| n.identity() == o.identity()));
    Ok(())
}

/// `DeleteSecurityGroup`: `DependencyViolation` while another group's rule or a network interface refers
/// to it.
pub(super) fn delete_security_group(r: &mut RegionState, group_id: &str) -> AwsResult<()> {
    if !r.security_groups.contains_key(group_id) {
        return Err(not_found(
            "DeleteSecurityGroup",
            "InvalidGroup.NotFound",
            group_id,
        ));
    }
    let peer = SgPeer::Group(group_id.to_owned());
    let referenced = r
        .security_groups
        .values()
        .any(|g| g.id != group_id && g.ingress.iter().chain(&g.egress).any(|x| x.peer == peer));
    let in_use = r
        .enis
        .values()
        .any(|(e, _)| e.security_group_ids.iter().any(|s| s == group_id));
    if referenced || in_use {
        return Err(aws_error(
            "DeleteSecurityGroup",
            "DependencyViolation",
            format!("resource {group_id} has a dependent object"),
        ));
    }
    r.security_groups.remove(group_id);
    Ok(())
}

/// `DescribeNetworkInterfaces` (filters on `vpc-id` and `subnet-id`).
pub(super) fn describe_network_interfaces(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<NetworkInterface>> {
    Ok(r.enis
        .values()
        .filter(|(e, vpc)| matches(&Tags::new(), &[("vpc-id", vpc), ("subnet-id", &e.subnet_id)], f))
        .map(|(e, _)| e.clone())
        .collect())
}

/// `DeleteNetworkInterface`: `InvalidNetworkInterface.InUse` while attached.
pub(super) fn delete_network_interface(r: &mut RegionState, eni_id: &str) -> AwsResult<()> {
    let (eni, _) = r.enis.get(eni_id).ok_or_else(|| {
        not_found(
            "DeleteNetworkInterface",
            "InvalidNetworkInterfaceID.NotFound",
            eni_id,
        )
    })?;
    if eni.status == "in-use" {
        return Err(aws_error(
            "DeleteNetworkInterface",
            "InvalidNetworkInterface.InUse",
            "the interface is attached",
        ));
    }
    r.enis.remove(eni_id);
    Ok(())
}
