//! [`StsApi`] on the STS SDK client.

use async_trait::async_trait;

use super::sdk_err;
use crate::api::StsApi;
use crate::error::AwsResult;
use crate::types::CallerIdentity;

/// The STS client.
#[derive(Clone, Debug)]
pub struct SdkSts {
    client: aws_sdk_sts::Client,
}

impl SdkSts {
    /// Wraps an SDK client.
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl StsApi for SdkSts {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(sdk_err("GetCallerIdentity"))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
        })
    }
}
