//! Which AWS service a request is for, read from its SigV4 credential scope.
//!
//! A signed request names `Credential=AKID/DATE/REGION/SERVICE/aws4_request` in its `Authorization` header; a
//! presigned URL carries the same scope in the `X-Amz-Credential` query parameter. JSON-protocol requests also name
//! their target in `X-Amz-Target` (`Service_Version.Operation`), used only when no scope is present.
//! See <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>.

use http::HeaderMap;

/// The signing scope of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningScope {
    /// The access key id that signed the request.
    pub access_key: String,
    /// The region the request was signed for.
    pub region: String,
    /// The signing name of the service (`eks`, `ec2`, `iam`, `sts`, ...).
    pub service: String,
}

impl SigningScope {
    /// Reads the scope from the `Authorization` header, else from `X-Amz-Credential` in the query, else derives
    /// the service from `X-Amz-Target` (with no access key and region `us-east-1`).
    pub fn of(headers: &HeaderMap, query: Option<&str>) -> Option<Self> {
        if let Some(scope) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split_once("Credential="))
            .and_then(|(_, rest)| parse_credential(rest.split([',', ' ']).next().unwrap_or_default()))
        {
            return Some(scope);
        }
        if let Some(scope) = query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Credential"))
                .and_then(|(_, v)| parse_credential(&v))
        }) {
            return Some(scope);
        }
        let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok())?;
        let prefix = target.split('.').next()?.split('_').next()?;
        Some(Self {
            access_key: String::new(),
            region: "us-east-1".to_owned(),
            service: target_service(prefix).to_owned(),
        })
    }
}

fn parse_credential(credential: &str) -> Option<SigningScope> {
    let mut parts = credential.split('/');
    let access_key = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    (parts.next() == Some("aws4_request")).then_some(SigningScope {
        access_key,
        region,
        service,
    })
}

/// Maps a JSON-protocol target prefix to its signing name (only the services the project uses differ).
fn target_service(prefix: &str) -> &str {
    match prefix {
        "AmazonSSM" => "ssm",
        "TrentService" => "kms",
        "AWSSecurityTokenServiceV20110615" => "sts",
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/eu-west-2/eks/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        let scope = SigningScope::of(&headers, None).unwrap();
        assert_eq!(scope.access_key, "AKID");
        assert_eq!(scope.region, "eu-west-2");
        assert_eq!(scope.service, "eks");
    }

    #[test]
    fn reads_a_presigned_query() {
        let query =
            "Action=GetCallerIdentity&X-Amz-Credential=AKID%2F20261206%2Fus-east-1%2Fsts%2Faws4_request";
        let scope = SigningScope::of(&HeaderMap::new(), Some(query)).unwrap();
        assert_eq!(scope.service, "sts");
    }

    #[test]
    fn reads_a_json_target_and_refuses_garbage() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", "AmazonSSM.GetParameter".parse().unwrap());
        assert_eq!(SigningScope::of(&headers, None).unwrap().service, "ssm");
        let mut bad = HeaderMap::new();
        bad.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/x".parse().unwrap(),
        );
        assert_eq!(SigningScope::of(&bad, None), None);
    }
}
