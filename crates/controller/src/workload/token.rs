//! Bearer tokens for EKS clusters, made the aws-iam-authenticator way: a presigned STS `GetCallerIdentity`
//! URL whose signed headers include `x-k8s-aws-id: <cluster name>`, base64url-encoded and prefixed
//! `k8s-aws-v1.`. The API server's authenticator replays the URL to learn who is calling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use eks_api::{CredentialsSpec, RegionName};
use futures::future::BoxFuture;

use super::TokenSource;

/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// The prefix of EKS tokens.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// How long a presigned URL stays valid (EKS accepts up to 15 minutes; the AWS CLI uses 60 seconds).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// The cache key of an assumed role: ARN and external id.
type RoleKey = (String, Option<String>);

/// Presigns STS URLs with credentials from the AWS credential chain, or with those of the role an object names.
pub struct StsTokenSource {
    credentials: SharedCredentialsProvider,
    /// The configuration roles are assumed with (None: tokens for a role are refused).
    base: Option<aws_config::SdkConfig>,
    roles: Mutex<HashMap<RoleKey, SharedCredentialsProvider>>,
}

impl StsTokenSource {
    /// Tokens signed with these credentials; a token for a role is an error.
    pub fn new(credentials: SharedCredentialsProvider) -> Arc<Self> {
        Arc::new(Self {
            credentials,
            base: None,
            roles: Mutex::default(),
        })
    }

    /// Tokens signed with `credentials`, or, for an object that names a role, with that role's credentials
    /// assumed through `base` (as the engine assumes it), so that the token's caller is the cluster's creator.
    pub fn assuming_roles(credentials: SharedCredentialsProvider, base: aws_config::SdkConfig) -> Arc<Self> {
        Arc::new(Self {
            credentials,
            base: Some(base),
            roles: Mutex::default(),
        })
    }

    async fn provider(
        &self,
        region: &str,
        role: Option<&CredentialsSpec>,
    ) -> Result<SharedCredentialsProvider, String> {
        let Some(role) = role else {
            return Ok(self.credentials.clone());
        };
        let key = (role.role_arn.clone(), role.external_id.clone());
        if let Some(found) = self.roles.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(found);
        }
        let base = self
            .base
            .as_ref()
            .ok_or_else(|| format!("cannot assume {}: no AWS configuration", role.role_arn))?;
        let region = RegionName::parse(region)?;
        let provider = eks_aws::context::assumed_role_credentials(
            base,
            &role.role_arn,
            role.external_id.as_deref(),
            &region,
        )
        .await;
        if let Ok(mut roles) = self.roles.lock() {
            roles.insert(key, provider.clone());
        }
        Ok(provider)
    }

    async fn make(
        &self,
        cluster_name: &str,
        region: &str,
        role: Option<&CredentialsSpec>,
    ) -> Result<String, String> {
        let credentials = self
            .provider(region, role)
            .await?
            .provide_credentials()
            .await
            .map_err(|e| format!("AWS credentials: {e}"))?;
        let identity: Identity = credentials.into();
        presign(&identity, cluster_name, region, SystemTime::now())
    }
}

/// Builds the token for `cluster_name` in `region` at `time`.
pub fn presign(
    identity: &Identity,
    cluster_name: &str,
    region: &str,
    time: SystemTime,
) -> Result<String, String> {
    let host = format!("sts.{region}.amazonaws.com");
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = [("host", host.as_str()), (CLUSTER_ID_HEADER, cluster_name)];
    let signable = SignableRequest::new("GET", url.clone(), headers.into_iter(), SignableBody::Bytes(&[]))
        .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut request = http::Request::get(url).body(()).map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut request);
    let presigned = request.uri().to_string();
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    ))
}

impl TokenSource for StsTokenSource {
    fn token<'a>(
        &'a self,
        cluster_name: &'a str,
        region: &'a str,
        role: Option<&'a CredentialsSpec>,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.make(cluster_name, region, role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    #[test]
    fn token_is_a_presigned_get_caller_identity_url_bound_to_the_cluster() {
        let identity: Identity = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test").into();
        let token = presign(
            &identity,
            "eu-west-1-test-cloudlad",
            "eu-west-1",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let encoded = token.strip_prefix(TOKEN_PREFIX).expect("prefix");
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with(
                "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
        assert!(url.contains("X-Amz-Expires=60"));
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"), "{url}");
        assert!(url.contains("X-Amz-Signature="));
        assert!(
            url.contains("AKIDEXAMPLE%2F19700101%2Feu-west-1%2Fsts%2Faws4_request"),
            "{url}"
        );
        assert!(!url.contains("secret"));
    }
}
