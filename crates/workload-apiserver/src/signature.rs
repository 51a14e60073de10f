//! SigV4 verification of a presigned token for this cluster's `x-k8s-aws-id`, when the secret of its access
//! key is known: what STS does when aws-iam-authenticator replays the URL with its cluster name in the
//! header (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>).

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::token::{CLUSTER_ID_HEADER, PresignedCall, parse_amz_date};

/// Whether the token's signature is the one its key makes for `cluster_name` (false on any signing error).
pub fn matches(call: &PresignedCall, secret: &str, cluster_name: &str) -> bool {
    let Some(time) = parse_amz_date(&call.amz_date) else {
        return false;
    };
    // The URL as it was before presigning: every parameter except the ones SigV4 adds.
    let mut unsigned = call.url.clone();
    let kept: Vec<(String, String)> = call
        .url
        .query_pairs()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("x-amz-"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    unsigned.query_pairs_mut().clear().extend_pairs(kept);
    let identity: Identity = Credentials::new(
        call.access_key_id.clone(),
        secret.to_owned(),
        call.session_token.clone(),
        None,
        "token",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(call.expires));
    let Ok(params) = v4::SigningParams::builder()
        .identity(&identity)
        .region(&call.region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
    else {
        return false;
    };
    let authority = match (call.url.host_str(), call.url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return false,
    };
    let headers = [("host", authority.as_str()), (CLUSTER_ID_HEADER, cluster_name)];
    let Ok(signable) = SignableRequest::new(
        "GET",
        unsigned.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    ) else {
        return false;
    };
    match sign(signable, &params.into()) {
        Ok(output) => output.signature() == call.signature,
        Err(_) => false,
    }
}
