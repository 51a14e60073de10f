//! [`IamApi`] on the IAM SDK client.

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;

use super::sdk_err;
use crate::api::IamApi;
use crate::error::{AwsError, AwsResult, ErrorDetail, optional};
use crate::types::*;

/// The IAM client (IAM is global; one client serves every region).
#[derive(Clone, Debug)]
pub struct SdkIam {
    client: aws_sdk_iam::Client,
}

impl SdkIam {
    /// Wraps an SDK client.
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        Self { client }
    }
}

fn iam_tags(operation: &'static str, tags: &Tags) -> AwsResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder().key(k).value(v).build().map_err(|e| {
                AwsError::InvalidRequest(ErrorDetail::new(operation, "InvalidTag", e.to_string()))
            })
        })
        .collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// IAM returns policy documents URL-encoded.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_policy(document: Option<&str>) -> serde_json::Value {
    let Some(document) = document else {
        return serde_json::Value::Null;
    };
    serde_json::from_str(document)
        .or_else(|_| serde_json::from_str(&percent_decode(document)))
        .unwrap_or(serde_json::Value::Null)
}

#[async_trait]
impl IamApi for SdkIam {
    async fn get_role(&self, name: &str) -> AwsResult<Option<Role>> {
        let out = optional(
            self.client
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(sdk_err("GetRole")),
        )?;
        Ok(out.and_then(|o| {
            o.role().map(|r| Role {
                name: r.role_name().to_owned(),
                arn: r.arn().to_owned(),
                trust_policy: decode_policy(r.assume_role_policy_document()),
                tags: tags_of(r.tags()),
            })
        }))
    }

    async fn create_role(
        &self,
        name: &str,
        trust_policy: &serde_json::Value,
        tags: &Tags,
    ) -> AwsResult<Role> {
        let out = self
            .client
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy.to_string())
            .set_tags(Some(iam_tags("CreateRole", tags)?))
            .send()
            .await
            .map_err(sdk_err("CreateRole"))?;
        let role = out.role().ok_or_else(|| {
            AwsError::Server(ErrorDetail::new(
                "CreateRole",
                "IncompleteResponse",
                "the response has no role",
            ))
        })?;
        Ok(Role {
            name: role.role_name().to_owned(),
            arn: role.arn().to_owned(),
            trust_policy: trust_policy.clone(),
            tags: tags.clone(),
        })
    }

    async fn update_assume_role_policy(&self, name: &str, trust_policy: &serde_json::Value) -> AwsResult<()> {
        self.client
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy.to_string())
            .send()
            .await
            .map_err(sdk_err("UpdateAssumeRolePolicy"))?;
        Ok(())
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> AwsResult<()> {
        self.client
            .tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags("TagRole", tags)?))
            .send()
            .await
            .map_err(sdk_err("TagRole"))?;
        Ok(())
    }

    async fn list_attached_role_policies(&self, name: &str) -> AwsResult<Vec<String>> {
        let policies = self
            .client
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_err("ListAttachedRolePolicies"))?;
        Ok(policies
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect())
    }

    async fn attach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()> {
        self.client
            .attach_role_policy()
            .role_name(name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_err("AttachRolePolicy"))?;
        Ok(())
    }

    async fn detach_role_policy(&self, name: &str, policy_arn: &str) -> AwsResult<()> {
        self.client
            .detach_role_policy()
            .role_name(name)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(sdk_err("DetachRolePolicy"))?;
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> AwsResult<()> {
        self.client
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(sdk_err("DeleteRole"))?;
        Ok(())
    }

    async fn list_oidc_providers(&self) -> AwsResult<Vec<String>> {
        let out = self
            .client
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(sdk_err("ListOpenIDConnectProviders"))?;
        Ok(out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_owned))
            .collect())
    }

    async fn get_oidc_provider(&self, arn: &str) -> AwsResult<Option<OidcProvider>> {
        let out = optional(
            self.client
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
                .await
                .map_err(sdk_err("GetOpenIDConnectProvider")),
        )?;
        Ok(out.map(|o| OidcProvider {
            arn: arn.to_owned(),
            url: o.url().unwrap_or_default().to_owned(),
            client_ids: o.client_id_list().to_vec(),
            tags: tags_of(o.tags()),
        }))
    }

    async fn create_oidc_provider(&self, request: &CreateOidcProvider) -> AwsResult<String> {
        let out = self
            .client
            .create_open_id_connect_provider()
            .url(&request.url)
            .set_client_id_list(Some(request.client_ids.clone()))
            .set_thumbprint_list(Some(request.thumbprints.clone()))
            .set_tags(Some(iam_tags("CreateOpenIDConnectProvider", &request.tags)?))
            .send()
            .await
            .map_err(sdk_err("CreateOpenIDConnectProvider"))?;
        Ok(out.open_id_connect_provider_arn().unwrap_or_default().to_owned())
    }

    async fn add_oidc_client_id(&self, arn: &str, client_id: &str) -> AwsResult<()> {
        self.client
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(sdk_err("AddClientIDToOpenIDConnectProvider"))?;
        Ok(())
    }

    async fn tag_oidc_provider(&self, arn: &str, tags: &Tags) -> AwsResult<()> {
        self.client
            .tag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tags(Some(iam_tags("TagOpenIDConnectProvider", tags)?))
            .send()
            .await
            .map_err(sdk_err("TagOpenIDConnectProvider"))?;
        Ok(())
    }

    async fn delete_oidc_provider(&self, arn: &str) -> AwsResult<()> {
        self.client
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(sdk_err("DeleteOpenIDConnectProvider"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_policies_decode() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(
            decode_policy(Some(encoded)),
            serde_json::json!({"Version": "2012-10-17"})
        );
        assert_eq!(decode_policy(Some("{\"a\":1}")), serde_json::json!({"a": 1}));
        assert_eq!(percent_decode("100%"), "100%");
    }
}
