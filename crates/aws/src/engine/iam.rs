//! IAM roles of the control plane and the workers: trust policies, managed policies, tags.
//!
//! IAM has no tag-filtered listing, but role names are derived from the cluster id, so observation is one
//! `GetRole` and one `ListAttachedRolePolicies` per role: a constant per region.

use eks_api::ClusterId;
use eks_plan::{RoleKind, tags};

use super::errors::EngineError;
use super::pass::{Pass, Verb, missing_tags};
use super::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult, gone_is_done};

/// Ensures both roles exist, are ours, trust the right service and carry their managed policies.
pub(crate) async fn ensure(pass: &mut Pass<'_>) -> Result<(), EngineError> {
    let iam = pass.clients.iam.clone();
    let uid = pass.plan.owner.uid.clone();
    for planned in &pass.plan.iam_roles {
        let (role, created) = match iam.get_role(&planned.name).await? {
            Some(role) => {
                if role.tags.get(tags::OWNER_UID) != Some(&uid) {
                    return Err(EngineError::NameTaken {
                        what: format!("IAM role {}", planned.name),
                    });
                }
                if role.trust_policy != planned.trust_policy {
                    iam.update_assume_role_policy(&planned.name, &planned.trust_policy)
                        .await?;
                    pass.did(
                        Verb::Repaired,
                        format!("trust policy of IAM role {}", planned.name),
                    );
                }
                let missing = missing_tags(&role.tags, &planned.tags);
                if !missing.is_empty() {
                    iam.tag_role(&planned.name, &missing).await?;
                    pass.did(Verb::Repaired, format!("tags of IAM role {}", planned.name));
                }
                (role, false)
            }
            None => match iam
                .create_role(&planned.name, &planned.trust_policy, &planned.tags)
                .await
            {
                Ok(role) => {
                    pass.did(Verb::Created, format!("IAM role {}", planned.name));
                    (role, true)
                }
                // Made by an earlier call whose answer was lost: the role is found again by name and
                // checked like any observed one (next pass, if IAM does not show it yet).
                Err(AwsError::AlreadyExists(_)) => match iam.get_role(&planned.name).await? {
                    Some(role) if role.tags.get(tags::OWNER_UID) == Some(&uid) => {
                        pass.did(
                            Verb::Created,
                            format!("IAM role {} (found after a lost answer)", planned.name),
                        );
                        (role, false)
                    }
                    Some(_) => {
                        return Err(EngineError::NameTaken {
                            what: format!("IAM role {}", planned.name),
                        });
                    }
                    None => {
                        pass.waiting(format!("IAM role {} being created", planned.name));
                        continue;
                    }
                },
                Err(e) => return Err(e.into()),
            },
        };
        let attached = if created {
            Vec::new()
        } else {
            iam.list_attached_role_policies(&planned.name).await?
        };
        for policy in &planned.managed_policy_arns {
            if !attached.contains(policy) {
                iam.attach_role_policy(&planned.name, policy).await?;
                let verb = if created { Verb::Created } else { Verb::Repaired };
                pass.did(
                    verb,
                    format!("attachment of {policy} to IAM role {}", planned.name),
                );
            }
        }
        pass.ids.roles.insert(planned.kind, role.arn);
    }
    Ok(())
}

/// Deletes both roles when they are this object's (policies detached first). Returns true when none is left.
pub(crate) async fn teardown(tp: &mut TeardownPass<'_>, cluster_id: &ClusterId) -> AwsResult<bool> {
    let iam = tp.clients.iam.clone();
    let mut done = true;
    for kind in [RoleKind::ControlPlane, RoleKind::Worker] {
        let name = eks_plan::iam::role_name(kind, cluster_id);
        let Some(role) = iam.get_role(&name).await? else {
            continue;
        };
        if role.tags.get(tags::OWNER_UID).map(String::as_str) != Some(tp.owner_uid) {
            continue;
        }
        for policy in iam.list_attached_role_policies(&name).await? {
            gone_is_done(iam.detach_role_policy(&name, &policy).await)?;
        }
        match iam.delete_role(&name).await {
            Ok(()) => tp.did(Verb::Deleted, format!("IAM role {name}")),
            Err(e) if e.is_not_found() => {}
            Err(AwsError::DependencyViolation(d)) => {
                done = false;
                tp.blocking.push(format!("IAM role {name}: {}", d.message));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
