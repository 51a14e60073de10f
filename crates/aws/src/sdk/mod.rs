//! The traits implemented on the AWS SDK clients.
//!
//! Creates without a client token (VPC, subnet, gateways, EIP, route table, NAT gateway, security group) run
//! with a retry classifier of their own ([`retry::RefusedOnly`]): the SDK retries them only when AWS refused
//! them before running them (throttling); if the response is lost, the next pass re-observes by the ownership
//! tags before creating again, instead of the SDK blindly sending a second create.

mod ec2;
mod ec2_convert;
mod eks;
mod eks_access;
mod iam;
pub mod retry;
mod sts;

pub use ec2::SdkEc2;
pub use eks::SdkEks;
pub use iam::SdkIam;
pub use sts::SdkSts;

use crate::error::AwsError;

/// Shorthand for mapping an SDK error of `operation`.
pub(crate) fn sdk_err<E>(
    operation: &'static str,
) -> impl FnOnce(
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk(operation, e)
}
