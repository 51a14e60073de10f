//! Elastic IPs and NAT gateways.

use sha2::{Digest, Sha256};

use super::{NetworkView, find, repair_tags};
use crate::engine::pass::{Pass, Verb, component};
use crate::error::AwsResult;
use crate::types::*;

/// A client token for a NAT gateway create. It changes when a previous NAT gateway of the same key was
/// deleted (out of band), so that re-creating it is not answered with the old, deleted one.
fn client_token(owner_uid: &str, key: &str, allocation_id: &str, generation: usize) -> String {
    let digest = Sha256::digest(format!("{owner_uid}/{key}/{allocation_id}/{generation}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub(super) async fn ensure(pass: &mut Pass<'_>, view: &NetworkView) -> AwsResult<()> {
    let ec2 = pass.clients.ec2.clone();
    for planned in &pass.plan.nat_gateways {
        let eip = match find(&view.addresses, |a| &a.tags, &planned.eip_tags) {
            Some(eip) => {
                repair_tags(pass, &eip.allocation_id, &eip.tags, &planned.eip_tags).await?;
                eip.clone()
            }
            None => {
                let eip = ec2.allocate_address(&planned.eip_tags).await?;
                pass.did(
                    Verb::Created,
                    format!("elastic IP {} ({})", eip.allocation_id, eip.public_ip),
                );
                eip
            }
        };
        pass.ids
            .eips
            .insert(planned.key.clone(), eip.allocation_id.clone());

        let wanted = component(&planned.tags);
        let same_key = |n: &&NatGateway| component(&n.tags) == wanted;
        let live = view.nat_gateways.iter().filter(same_key).find(|n| n.is_live());
        let nat_id = match live {
            Some(nat) => {
                repair_tags(pass, &nat.id, &nat.tags, &planned.tags).await?;
                if nat.state == "pending" {
                    pass.waiting(format!("NAT gateway {} pending", nat.id));
                }
                nat.id.clone()
            }
            None => {
                let Some(subnet_id) = pass.ids.subnets.get(&planned.subnet_key).cloned() else {
                    pass.waiting(format!("NAT gateway {} waits for its subnet", planned.key));
                    continue;
                };
                // AWS disassociates the EIP of a deleted NAT gateway; emulators may not.
                if let Some(association) = &eip.association_id {
                    ec2.disassociate_address(association).await?;
                    pass.did(
                        Verb::Updated,
                        format!(
                            "disassociated elastic IP {} from a deleted NAT gateway",
                            eip.allocation_id
                        ),
                    );
                }
                let previous = view.nat_gateways.iter().filter(same_key).count();
                let nat = ec2
                    .create_nat_gateway(&CreateNatGateway {
                        subnet_id,
                        allocation_id: eip.allocation_id.clone(),
                        client_token: client_token(
                            &pass.plan.owner.uid,
                            &planned.key,
                            &eip.allocation_id,
                            previous,
                        ),
                        tags: planned.tags.clone(),
                    })
                    .await?;
                let verb = if previous > 0 {
                    Verb::Repaired
                } else {
                    Verb::Created
                };
                pass.did(verb, format!("NAT gateway {} in {}", nat.id, planned.zone));
                if nat.state == "pending" {
                    pass.waiting(format!("NAT gateway {} pending", nat.id));
                }
                nat.id
            }
        };
        pass.ids.nat_gateways.insert(planned.key.clone(), nat_id);
    }
    Ok(())
}
