//! The fake's route tables: routes, subnet associations, VPN gateway route propagation.

use super::{new_id, select};
use crate::error::AwsResult;
use crate::fake::store::{RegionState, aws_error, matches, not_found};
use crate::types::*;

/// `DescribeRouteTables`.
pub(super) fn describe_route_tables(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<RouteTable>> {
    Ok(select(&r.route_tables, r.candidates(f), |t| {
        matches(&t.tags, &[("vpc-id", &t.vpc_id)], f)
    }))
}

/// `CreateRouteTable` with the VPC's `local` route.
pub(super) fn create_route_table(
    r: &mut RegionState,
    next: &mut u64,
    vpc_id: &str,
    tags: &Tags,
) -> AwsResult<RouteTable> {
    let cidr = r
        .vpcs
        .get(vpc_id)
        .ok_or_else(|| not_found("CreateRouteTable", "InvalidVpcID.NotFound", vpc_id))?
        .cidr
        .clone();
    let table = RouteTable {
        id: new_id(next, "rtb"),
        vpc_id: vpc_id.to_owned(),
        routes: vec![Route {
            destination: cidr,
            target: Some(RouteTargetId::Gateway("local".into())),
            state: "active".into(),
            origin: "CreateRouteTable".into(),
        }],
        associations: Vec::new(),
        propagating_vgws: Vec::new(),
        tags: tags.clone(),
    };
    r.index(&table.id, tags);
    r.route_tables.insert(table.id.clone(), table.clone());
    Ok(table)
}

/// `CreateRoute`: `RouteAlreadyExists` when the destination has a route.
pub(super) fn create_route(
    r: &mut RegionState,
    table_id: &str,
    destination: &str,
    target: &RouteTargetId,
) -> AwsResult<()> {
    let t = r
        .route_tables
        .get_mut(table_id)
        .ok_or_else(|| not_found("CreateRoute", "InvalidRouteTableID.NotFound", table_id))?;
    if t.routes.iter().any(|x| x.destination == destination) {
        return Err(aws_error(
            "CreateRoute",
            "RouteAlreadyExists",
            format!("route {destination} exists"),
        ));
    }
    t.routes.push(Route {
        destination: destination.to_owned(),
        target: Some(target.clone()),
        state: "active".into(),
        origin: "CreateRoute".into(),
    });
    Ok(())
}

/// `ReplaceRoute`: `InvalidRoute.NotFound` when the destination has no route.
pub(super) fn replace_route(
    r: &mut RegionState,
    table_id: &str,
    destination: &str,
    target: &RouteTargetId,
) -> AwsResult<()> {
    let t = r
        .route_tables
        .get_mut(table_id)
        .ok_or_else(|| not_found("ReplaceRoute", "InvalidRouteTableID.NotFound", table_id))?;
    let route = t
        .routes
        .iter_mut()
        .find(|x| x.destination == destination)
        .ok_or_else(|| not_found("ReplaceRoute", "InvalidRoute.NotFound", destination))?;
    route.target = Some(target.clone());
    route.state = "active".into();
    Ok(())
}

/// `DeleteRoute`: `InvalidRoute.NotFound` when the destination has no route.
pub(super) fn delete_route(r: &mut RegionState, table_id: &str, destination: &str) -> AwsResult<()> {
    let t = r
        .route_tables
        .get_mut(table_id)
        .ok_or_else(|| not_found("DeleteRoute", "InvalidRouteTableID.NotFound", table_id))?;
    let before = t.routes.len();
    t.routes.retain(|x| x.destination != destination);
    if t.routes.len() == before {
        return Err(not_found("DeleteRoute", "InvalidRoute.NotFound", destination));
    }
    Ok(())
}

/// `AssociateRouteTable`: `Resource.AlreadyAssociated` when the subnet has a table already.
pub(super) fn associate_route_table(
    r: &mut RegionState,
    next: &mut u64,
    table_id: &str,
    subnet_id: &str,
) -> AwsResult<String> {
    if r.route_tables.values().any(|t| {
        t.associations
            .iter()
            .any(|a| a.subnet_id.as_deref() == Some(subnet_id))
    }) {
        return Err(aws_error(
            "AssociateRouteTable",
            "Resource.AlreadyAssociated",
            format!("{subnet_id} is already associated"),
        ));
    }
    let id = new_id(next, "rtbassoc");
    let t = r
        .route_tables
        .get_mut(table_id)
        .ok_or_else(|| not_found("AssociateRouteTable", "InvalidRouteTableID.NotFound", table_id))?;
    t.associations.push(RouteTableAssociation {
        id: id.clone(),
        subnet_id: Some(subnet_id.to_owned()),
        main: false,
    });
    Ok(id)
}

/// `DisassociateRouteTable`.
pub(super) fn disassociate_route_table(r: &mut RegionState, association_id: &str) -> AwsResult<()> {
    for t in r.route_tables.values_mut() {
        t.associations.retain(|a| a.id != association_id);
    }
    Ok(())
}

/// `EnableVgwRoutePropagation` (idempotent).
pub(super) fn enable_vgw_route_propagation(
    r: &mut RegionState,
    table_id: &str,
    vgw_id: &str,
) -> AwsResult<()> {
    let t = r.route_tables.get_mut(table_id).ok_or_else(|| {
        not_found(
            "EnableVgwRoutePropagation",
            "InvalidRouteTableID.NotFound",
            table_id,
        )
    })?;
    if !t.propagating_vgws.iter().any(|v| v == vgw_id) {
        t.propagating_vgws.push(vgw_id.to_owned());
    }
    Ok(())
}

/// `DeleteRouteTable`: `DependencyViolation` while associated.
pub(super) fn delete_route_table(r: &mut RegionState, table_id: &str) -> AwsResult<()> {
    let t = r
        .route_tables
        .get(table_id)
        .ok_or_else(|| not_found("DeleteRouteTable", "InvalidRouteTableID.NotFound", table_id))?;
    if !t.associations.is_empty() {
        return Err(aws_error(
            "DeleteRouteTable",
            "DependencyViolation",
            format!("{table_id} has associations"),
        ));
    }
    r.route_tables.remove(table_id);
    Ok(())
}
