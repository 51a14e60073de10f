//! The fake IAM (global: one store for every region).

use async_trait::async_trait;

use super::Shared;
use super::store::{FakeState, aws_error, not_found};
use crate::api::IamApi;
use crate::error::AwsResult;
use crate::types::*;

pub(crate) struct FakeIam(pub(crate) Shared);

impl FakeIam {
    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> AwsResult<T>) -> AwsResult<T> {
        f(&mut self.0.lock())
    }
}

fn no_role(op: &'static str, name: &str) -> crate::error::AwsError {
    not_found(op, "NoSuchEntity", &format!("role {name}"))
}

#[async_trait]
impl IamApi for FakeIam {
    async fn get_role(&self, name: &str) -> AwsResult<Option<Role>> {
        self.with(|s| Ok(s.roles.get(name).map(|(r, _)| r.clone())))
    }

    async fn create_role(
        &self,
        name: &str,
        trust_policy: &serde_json::Value,
        tags: &Tags,
    ) -> AwsResult<Role> {
        let account = self.0.config.account.clone();
        self.with(|s| {
            if s.roles.contains_key(name) {
                return Err(aws_error(
                    "CreateRole",
                    "EntityAlreadyExists",
                    format!("Role with name {name} already exists."),
                ));
            }
            let role = Role {
                name: name.to_owned(),
                arn: format!("arn:aws:iam::{account}:role/{name}"),
                trust_policy: trust_policy.clone(),
                tags: tags.clone(),
            };
            s.roles
                .insert(name.to_owned(), (role.clone(), Default::default()));
            Ok(role)
        })
    }

    async fn update_assume_role_policy(&self, name: &str, trust_policy: &serde_json::Value) -> AwsResult<()> {
        self.with(|s| {
            let (role, _) = s
                .roles
                .get_mut(name)
                .ok_or_else(|| no_role("UpdateAssumeRolePolicy", name))?;
            role.trust_policy = trust_policy.clone();
            Ok(())
        })
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        self.with(|s| {
            let (role, _) = s.roles.get_mut(name).ok_or_else(|| no_role("TagRole", name))?;
            role.tags.extend(tags.clone());
            Ok(())
        })
    }

    async fn list_attached_role_policies(&self, name: &str) -> AwsResult<Vec<String>> {
        self.with(|s| {
            let (_, attached) = s
                .roles
                .get(name)
                .ok_or_else(|| no_role("ListAttachedRolePolicies", name))?;
            Ok(attached.iter().cloned().collect())
        })
    }

    async fn attach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()> {
        self.with(|s| {
            let (_, attached) = s
                .roles
                .get_mut(name)
                .ok_or_else(|| no_role("AttachRolePolicy", name))?;
            attached.insert(policy_arn.to_owned());
            Ok(())
        })
    }

    async fn detach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()> {
        self.with(|s| {
            let (_, attached) = s
                .roles
                .get_mut(name)
                .ok_or_else(|| no_role("DetachRolePolicy", name))?;
            if !attached.remove(policy_arn) {
                return Err(not_found("DetachRolePolicy", "NoSuchEntity", policy_arn));
            }
            Ok(())
        })
    }

    async fn delete_role(&self, name: &str) -> AwsResult<()> {
        self.with(|s| {
            let (_, attached) = s.roles.get(name).ok_or_else(|| no_role("DeleteRole", name))?;
            if !attached.is_empty() {
                return Err(aws_error(
                    "DeleteRole",
                    "DeleteConflict",
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            s.roles.remove(name);
            Ok(())
        })
    }

    async fn list_oidc_providers(&self) -> AwsResult<Vec<String>> {
        self.with(|s| Ok(s.oidc.keys().cloned().collect()))
    }

    async fn get_oidc_provider(&self, arn: &str) -> AwsResult<Option<OidcProvider>> {
        self.with(|s| Ok(s.oidc.get(arn).cloned()))
    }

    async fn create_oidc_provider(&self, q: &CreateOidcProvider) -> AwsResult<String> {
        let account = self.0.config.account.clone();
        self.with(|s| {
            let url = q.url.trim_start_matches("https://").to_owned();
            let arn = format!("arn:aws:iam::{account}:oidc-provider/{url}");
            if s.oidc.contains_key(&arn) {
                return Err(aws_error(
                    "CreateOpenIDConnectProvider",
                    "EntityAlreadyExists",
                    format!("Provider with url {} already exists.", q.url),
                ));
            }
            s.oidc.insert(
                arn.clone(),
                OidcProvider {
                    arn: arn.clone(),
                    url,
                    client_ids: q.client_ids.clone(),
                    tags: q.tags.clone(),
                },
            );
            Ok(arn)
        })
    }

    async fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> AwsResult<()> {
        self.with(|s| {
            let p = s
                .oidc
                .get_mut(arn)
                .ok_or_else(|| not_found("AddClientIDToOpenIDConnectProvider", "NoSuchEntity", arn))?;
            if !p.client_ids.iter().any(|c| c == client_id) {
                p.client_ids.push(client_id.to_owned());
            }
            Ok(())
        })
    }

    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> AwsResult<()> {
        self.with(|s| {
            let p = s
                .oidc
                .get_mut(arn)
                .ok_or_else(|| not_found("TagOpenIDConnectProvider", "NoSuchEntity", arn))?;
            p.tags.extend(tags.clone());
            Ok(())
        })
    }

    async fn delete_oidc_provider(&self, arn: &str) -> AwsResult<()> {
        self.with(|s| {
            s.oidc
                .remove(arn)
                .ok_or_else(|| not_found("DeleteOpenIDConnectProvider", "NoSuchEntity", arn))?;
            Ok(())
        })
    }
}
