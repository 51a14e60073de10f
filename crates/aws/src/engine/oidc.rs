//! The IAM OIDC identity provider of the cluster's issuer (IAM roles for service accounts).
//!
//! Its ARN follows from the account and the issuer, so observation is one `GetOpenIDConnectProvider`.

use eks_plan::{names, tags};

use super::pass::{Pass, Verb, missing_tags};
use super::teardown::TeardownPass;
use crate::error::{AwsError, AwsResult};
use crate::types::*;

/// SHA-1 thumbprint of the root CA of the EKS OIDC endpoints (IAM no longer checks it for them, but the
/// API and emulators still take one).
pub const EKS_OIDC_THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

/// The provider ARN for an issuer URL.
pub fn provider_arn(partition: &str, account: &str, issuer: &str) -> String {
    let host_path = issuer.trim_start_matches("https://");
    format!("arn:{partition}:iam::{account}:oidc-provider/{host_path}")
}

/// Ensures the provider exists with the planned audiences and tags.
pub(crate) async fn ensure(pass: &mut Pass<'_>, cluster: &Cluster, account: &str) -> AwsResult<()> {
    let Some(issuer) = cluster.oidc_issuer.clone() else {
        pass.waiting(format!("OIDC provider waits for the issuer of {}", cluster.name));
        return Ok(());
    };
    let iam = pass.clients.iam.clone();
    let plan = &pass.plan.oidc_provider;
    let arn = provider_arn(names::partition(pass.plan.region.as_str()), account, &issuer);
    match iam.get_oidc_provider(&arn).await? {
        None => {
            let request = CreateOidcProvider {
                url: issuer.clone(),
                client_ids: plan.client_ids.clone(),
                thumbprints: vec![EKS_OIDC_THUMBPRINT.to_owned()],
                tags: plan.tags.clone(),
            };
            match iam.create_oidc_provider(&request).await {
                Ok(_) => pass.did(Verb::Created, format!("IAM OIDC provider for {issuer}")),
                // Made by an earlier call whose answer was lost (ours: carry on), or someone else's.
                Err(AwsError::AlreadyExists(_)) => match iam.get_oidc_provider(&arn).await? {
                    Some(provider) if provider.tags.get(tags::OWNER_UID) == Some(&pass.plan.owner.uid) => {
                        pass.did(
                            Verb::Created,
                            format!("IAM OIDC provider for {issuer} (found after a lost answer)"),
                        );
                    }
                    Some(_) => {
                        pass.blocking.push(format!(
                            "IAM OIDC provider {arn} exists and is not owned by this object"
                        ));
                        return Ok(());
                    }
                    None => {
                        pass.waiting(format!("IAM OIDC provider for {issuer} being created"));
                        return Ok(());
                    }
                },
                Err(e) => return Err(e),
            }
        }
        Some(provider) => {
            if provider.tags.get(tags::OWNER_UID) != Some(&pass.plan.owner.uid) {
                pass.blocking.push(format!(
                    "IAM OIDC provider {arn} exists and is not owned by this object"
                ));
                return Ok(());
            }
            for client_id in &plan.client_ids {
                if !provider.client_ids.contains(client_id) {
                    iam.add_oidc_client_id(&arn, client_id).await?;
                    pass.did(
                        Verb::Repaired,
                        format!("audience {client_id} of IAM OIDC provider {arn}"),
                    );
                }
            }
            let missing = missing_tags(&provider.tags, &plan.tags);
            if !missing.is_empty() {
                iam.tag_oidc_provider(&arn, &missing).await?;
                pass.did(Verb::Repaired, format!("tags of IAM OIDC provider {arn}"));
            }
        }
    }
    pass.ids.oidc_provider_arn = Some(arn);
    Ok(())
}

/// Deletes the providers tagged with this object's uid and cluster id: the recorded one directly, or, when none
/// is recorded, whichever the account's providers of this region hold. Returns true when none is left.
pub(crate) async fn teardown(tp: &mut TeardownPass<'_>) -> AwsResult<bool> {
    let iam = tp.clients.iam.clone();
    let candidates = match tp.oidc_provider_arn {
        Some(arn) => vec![arn.to_owned()],
        None => iam
            .list_oidc_providers()
            .await?
            .into_iter()
            .filter(|arn| arn.contains(&format!("oidc.eks.{}.", tp.clients.region)))
            .collect(),
    };
    for arn in candidates {
        let Some(provider) = iam.get_oidc_provider(&arn).await? else {
            continue;
        };
        let ours = provider.tags.get(tags::OWNER_UID).map(String::as_str) == Some(tp.owner_uid)
            && provider.tags.get(tags::CLUSTER_ID).map(String::as_str) == Some(tp.cluster_id);
        if ours {
            crate::error::gone_is_done(iam.delete_oidc_provider(&arn).await)?;
            tp.did(Verb::Deleted, format!("IAM OIDC provider {arn}"));
        }
    }
    Ok(true)
}
