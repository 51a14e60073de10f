//! The access entry calls of [`SdkEks`] (<https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html>
//! and siblings); the `EksApi` impl in `eks.rs` forwards to them.

use aws_sdk_eks::types as sdk;

use super::eks::{SdkEks, hash_tags, tags_of};
use super::sdk_err;
use crate::error::{AwsResult, optional};
use crate::types::*;

fn entry(e: &sdk::AccessEntry) -> AccessEntry {
    AccessEntry {
        principal_arn: e.principal_arn().unwrap_or_default().to_owned(),
        entry_type: e.r#type().unwrap_or("STANDARD").to_owned(),
        username: e.username().unwrap_or_default().to_owned(),
        kubernetes_groups: e.kubernetes_groups().to_vec(),
        tags: tags_of(e.tags()),
    }
}

impl SdkEks {
    pub(super) async fn access_entries(&self, cluster: &str) -> AwsResult<Vec<String>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_access_entries()
                .cluster_name(cluster)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(sdk_err("ListAccessEntries"))?;
            out.extend(page.access_entries().iter().cloned());
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    pub(super) async fn describe_entry(
        &self,
        cluster: &str,
        principal: &str,
    ) -> AwsResult<Option<AccessEntry>> {
        let out = optional(
            self.client
                .describe_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal)
                .send()
                .await
                .map_err(sdk_err("DescribeAccessEntry")),
        )?;
        Ok(out.and_then(|o| o.access_entry().map(entry)))
    }

    pub(super) async fn create_entry(
        &self,
        cluster: &str,
        request: &CreateAccessEntry,
    ) -> AwsResult<AccessEntry> {
        let out = self
            .client
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(&request.principal_arn)
            .r#type(&request.entry_type)
            .set_username(request.username.clone())
            .set_kubernetes_groups(
                (!request.kubernetes_groups.is_empty()).then(|| request.kubernetes_groups.clone()),
            )
            .set_tags(Some(hash_tags(&request.tags)))
            .send()
            .await
            .map_err(sdk_err("CreateAccessEntry"))?;
        Ok(out.access_entry().map(entry).unwrap_or_else(|| AccessEntry {
            principal_arn: request.principal_arn.clone(),
            entry_type: request.entry_type.clone(),
            username: request.username.clone().unwrap_or_default(),
            kubernetes_groups: request.kubernetes_groups.clone(),
            tags: request.tags.clone(),
        }))
    }

    pub(super) async fn update_entry(
        &self,
        cluster: &str,
        principal: &str,
        update: &AccessEntryUpdate,
    ) -> AwsResult<()> {
        self.client
            .update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_username(update.username.clone())
            .set_kubernetes_groups(update.kubernetes_groups.clone())
            .send()
            .await
            .map_err(sdk_err("UpdateAccessEntry"))?;
        Ok(())
    }

    pub(super) async fn delete_entry(&self, cluster: &str, principal: &str) -> AwsResult<()> {
        self.client
            .delete_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .send()
            .await
            .map_err(sdk_err("DeleteAccessEntry"))?;
        Ok(())
    }

    pub(super) async fn associated_policies(
        &self,
        cluster: &str,
        principal: &str,
    ) -> AwsResult<Vec<AssociatedPolicy>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_associated_access_policies()
                .cluster_name(cluster)
                .principal_arn(principal)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(sdk_err("ListAssociatedAccessPolicies"))?;
            out.extend(page.associated_access_policies().iter().map(|p| {
                let scope = p.access_scope();
                let mut namespaces = scope.map(|s| s.namespaces().to_vec()).unwrap_or_default();
                namespaces.sort();
                AssociatedPolicy {
                    policy_arn: p.policy_arn().unwrap_or_default().to_owned(),
                    scope_type: scope
                        .and_then(|s| s.r#type())
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    namespaces,
                }
            }));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => {
                    out.sort();
                    return Ok(out);
                }
            }
        }
    }

    pub(super) async fn associate(
        &self,
        cluster: &str,
        principal: &str,
        policy: &AssociatedPolicy,
    ) -> AwsResult<()> {
        let scope = sdk::AccessScope::builder()
            .r#type(sdk::AccessScopeType::from(policy.scope_type.as_str()))
            .set_namespaces((!policy.namespaces.is_empty()).then(|| policy.namespaces.clone()))
            .build();
        self.client
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(&policy.policy_arn)
            .access_scope(scope)
            .send()
            .await
            .map_err(sdk_err("AssociateAccessPolicy"))?;
        Ok(())
    }

    pub(super) async fn disassociate(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> AwsResult<()> {
        self.client
            .disassociate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_err("DisassociateAccessPolicy"))?;
        Ok(())
    }
}
