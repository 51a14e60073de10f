//! Who signed a token: the backend's STS `GetCallerIdentity`, and the IAM principal EKS maps that caller to.
//!
//! moto routes a replayed presigned GET to S3 and does not verify signatures (see
//! `/work/shared/reference/moto-facts.md`), so the call is made as a form POST whose `Authorization` header
//! carries the token's access key id (and its session token, for temporary credentials): moto answers with
//! that key's identity, as STS answers the presigned URL.

use bytes::Bytes;
use http_body_util::BodyExt;

use crate::token::PresignedCall;

/// Why the caller could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// The backend could not be reached or answered 5xx (the request gets 503, not 401).
    #[error("STS unavailable: {0}")]
    Unavailable(String),
    /// STS refused the credentials (the request gets 401).
    #[error("STS refused the token: {0}")]
    Refused(String),
}

/// The principal behind a token, as EKS's authenticator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// What STS answered (`arn:aws:sts::123456789012:assumed-role/Role/session` for a role session).
    pub arn: String,
    /// The ARN that aws-auth and access entries name: an assumed role maps back to
    /// `arn:aws:iam::<account>:role/<role>` (without the role's path: the STS ARN does not carry it, and EKS
    /// matches on the path-less form; see the EKS user guide, "Create access entries", and aws-iam-authenticator's
    /// `arn.Canonicalize`).
    pub principal_arn: String,
    /// The account.
    pub account: String,
    /// The role session name (`{{SessionName}}`), for assumed roles.
    pub session_name: Option<String>,
    /// The access key id that signed the token (`{{AccessKeyID}}`).
    pub access_key_id: String,
}

/// Maps an STS caller ARN to the principal ARN EKS matches mappings against.
pub fn canonical_principal(arn: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 {
        return (arn.to_owned(), None);
    }
    let (partition, service, account, resource) = (parts[1], parts[2], parts[4], parts[5]);
    if service == "sts"
        && let Some(rest) = resource.strip_prefix("assumed-role/")
        && let Some((role, session)) = rest.split_once('/')
    {
        return (
            format!("arn:{partition}:iam::{account}:role/{role}"),
            Some(session.to_owned()),
        );
    }
    (arn.to_owned(), None)
}

/// Calls the backend's STS for the token's signer.
pub async fn resolve(
    client: &crate::front::HttpClient,
    backend: &str,
    call: &PresignedCall,
) -> Result<Caller, StsError> {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders=content-type;host;x-amz-date, Signature={}",
        call.access_key_id, call.scope, call.signature
    );
    let mut request = http::Request::post(format!("{}/", backend.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header("authorization", authorization)
        .header("x-amz-date", &call.amz_date);
    if let Some(token) = &call.session_token {
        request = request.header("x-amz-security-token", token);
    }
    let request = request
        .body(crate::front::full(Bytes::from_static(
            b"Action=GetCallerIdentity&Version=2011-06-15",
        )))
        .map_err(|e| StsError::Unavailable(e.to_string()))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| StsError::Unavailable(e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| StsError::Unavailable(e.to_string()))?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    if status.is_server_error() {
        return Err(StsError::Unavailable(format!("{status}: {text}")));
    }
    if !status.is_success() {
        return Err(StsError::Refused(format!(
            "{status}: {}",
            element(&text, "Code").unwrap_or_default()
        )));
    }
    let arn = element(&text, "Arn").ok_or_else(|| StsError::Refused("no Arn in the answer".into()))?;
    let account = element(&text, "Account").unwrap_or_default();
    let (principal_arn, session_name) = canonical_principal(&arn);
    Ok(Caller {
        arn,
        principal_arn,
        account,
        session_name,
        access_key_id: call.access_key_id.clone(),
    })
}

fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_roles_map_back_to_their_role() {
        assert_eq!(
            canonical_principal("arn:aws:sts::123456789012:assumed-role/admin/alice"),
            (
                "arn:aws:iam::123456789012:role/admin".to_owned(),
                Some("alice".to_owned())
            )
        );
        assert_eq!(
            canonical_principal("arn:aws:iam::123456789012:user/bob"),
            ("arn:aws:iam::123456789012:user/bob".to_owned(), None)
        );
        assert_eq!(element("<a><Arn> x </Arn></a>", "Arn").as_deref(), Some("x"));
    }
}
