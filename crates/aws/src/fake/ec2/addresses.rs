//! The fake's elastic IPs and the NAT gateways that hold them.

use super::{new_id, select};
use crate::error::AwsResult;
use crate::fake::store::{Lifecycle, RegionState, aws_error, matches, not_found, observe};
use crate::types::*;

/// `DescribeAddresses`.
pub(super) fn describe_addresses(r: &RegionState, f: &[Filter]) -> AwsResult<Vec<Address>> {
    Ok(select(&r.addresses, r.candidates(f), |a| {
        matches(&a.tags, &[], f)
    }))
}

/// `AllocateAddress`: a public IP in 198.18.0.0/16 derived from the id counter.
pub(super) fn allocate_address(r: &mut RegionState, next: &mut u64, tags: &Tags) -> AwsResult<Address> {
    let n = *next + 1;
    let eip = Address {
        allocation_id: new_id(next, "eipalloc"),
        association_id: None,
        public_ip: format!("198.18.{}.{}", (n >> 8) & 0xff, n & 0xff),
        tags: tags.clone(),
    };
    r.index(&eip.allocation_id, tags);
    r.addresses.insert(eip.allocation_id.clone(), eip.clone());
    Ok(eip)
}

/// `DisassociateAddress`.
pub(super) fn disassociate_address(r: &mut RegionState, association_id: &str) -> AwsResult<()> {
    for a in r.addresses.values_mut() {
        if a.association_id.as_deref() == Some(association_id) {
            a.association_id = None;
        }
    }
    Ok(())
}

/// `ReleaseAddress`: `InvalidIPAddress.InUse` while associated.
pub(super) fn release_address(r: &mut RegionState, allocation_id: &str) -> AwsResult<()> {
    let a = r
        .addresses
        .get(allocation_id)
        .ok_or_else(|| not_found("ReleaseAddress", "InvalidAllocationID.NotFound", allocation_id))?;
    if a.association_id.is_some() {
        return Err(aws_error(
            "ReleaseAddress",
            "InvalidIPAddress.InUse",
            "the address is associated",
        ));
    }
    r.addresses.remove(allocation_id);
    Ok(())
}

/// `DescribeNatGateways`: each matching gateway counts as one observation and settles after `settle` of
/// them; a deleted one frees its elastic IPs.
pub(super) fn describe_nat_gateways(
    r: &mut RegionState,
    settle: u32,
    f: &[Filter],
) -> AwsResult<Vec<NatGateway>> {
    let ids: Vec<String> = r
        .candidates(f)
        .unwrap_or_else(|| r.nats.keys().cloned().collect());
    let mut out = Vec::new();
    for id in ids {
        let Some((nat, life, _)) = r.nats.get_mut(&id) else {
            continue;
        };
        if !matches(&nat.tags, &[("subnet-id", &nat.subnet_id)], f) {
            continue;
        }
        if observe(life, settle) {
            nat.state = life.status.clone();
            if nat.state == "deleted" {
                let allocations = nat.allocation_ids.clone();
                for a in r
                    .addresses
                    .values_mut()
                    .filter(|a| allocations.contains(&a.allocation_id))
                {
                    a.association_id = None;
                }
            }
        }
        if let Some((nat, _, _)) = r.nats.get(&id) {
            out.push(nat.clone());
        }
    }
    Ok(out)
}

/// `CreateNatGateway`: idempotent on the client token; associates the elastic IP and starts `pending`.
pub(super) fn create_nat_gateway(
    r: &mut RegionState,
    next: &mut u64,
    q: &CreateNatGateway,
) -> AwsResult<NatGateway> {
    if let Some((nat, _, _)) = r.nats.values().find(|(_, _, token)| token == &q.client_token) {
        return Ok(nat.clone());
    }
    if !r.subnets.contains_key(&q.subnet_id) {
        return Err(not_found(
            "CreateNatGateway",
            "InvalidSubnetID.NotFound",
            &q.subnet_id,
        ));
    }
    let association = new_id(next, "eipassoc");
    let eip = r.addresses.get_mut(&q.allocation_id).ok_or_else(|| {
        not_found(
            "CreateNatGateway",
            "InvalidAllocationID.NotFound",
            &q.allocation_id,
        )
    })?;
    if eip.association_id.is_some() {
        return Err(aws_error(
            "CreateNatGateway",
            "Resource.AlreadyAssociated",
            "the elastic IP is already associated",
        ));
    }
    eip.association_id = Some(association);
    let nat = NatGateway {
        id: new_id(next, "nat"),
        subnet_id: q.subnet_id.clone(),
        state: "pending".into(),
        allocation_ids: vec![q.allocation_id.clone()],
        tags: q.tags.clone(),
    };
    r.index(&nat.id, &q.tags);
    r.nats.insert(
        nat.id.clone(),
        (nat.clone(), Lifecycle::new("pending"), q.client_token.clone()),
    );
    Ok(nat)
}

/// `DeleteNatGateway`: a `pending` or `available` gateway turns `deleting`.
pub(super) fn delete_nat_gateway(r: &mut RegionState, nat_id: &str) -> AwsResult<()> {
    let (nat, life, _) = r
        .nats
        .get_mut(nat_id)
        .ok_or_else(|| not_found("DeleteNatGateway", "NatGatewayNotFound", nat_id))?;
    if nat.is_live() {
        nat.state = "deleting".into();
        *life = Lifecycle::new("deleting");
    }
    Ok(())
}
