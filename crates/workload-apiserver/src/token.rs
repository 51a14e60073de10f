//! The structure of an EKS bearer token, checked as aws-iam-authenticator's server checks it
//! (<https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster>,
//! `pkg/token/token.go`, `Verify`): `k8s-aws-v1.` + base64url of a presigned STS `GetCallerIdentity` URL on an
//! STS host, with only the `Action`, `Version` and `X-Amz-*` query parameters, signed with SigV4 (query
//! parameters), `X-Amz-SignedHeaders` naming `x-k8s-aws-id`, and an `X-Amz-Date` no older than 15 minutes.
//!
//! The value of `x-k8s-aws-id` (the cluster name) is not in the URL: the signature covers it, and the
//! authenticator sends its own cluster name in that header when it replays the URL, so STS refuses a token
//! made for another cluster. The backend here (moto) does not verify signatures, so this module verifies the
//! signature itself when it knows the secret of the token's access key ([`crate::WorkloadConfig::known_credentials`]);
//! for other keys only the structure, the expiry and the signed-header list can be checked (see the README).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// The prefix of EKS tokens.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// How long after `X-Amz-Date` EKS accepts a token (aws-iam-authenticator's `presignedURLExpiration`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Why a bearer token was refused (every variant ends as a 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `Authorization: Bearer` header.
    #[error("no bearer token")]
    Missing,
    /// The token does not start with `k8s-aws-v1.` or is not base64url of a URL.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The URL is not an STS `GetCallerIdentity` call on an accepted host.
    #[error("not an STS GetCallerIdentity URL: {0}")]
    NotSts(String),
    /// A SigV4 presigning parameter is missing or wrong.
    #[error("unsigned or badly signed: {0}")]
    Unsigned(String),
    /// `X-Amz-Date` is more than 15 minutes ago.
    #[error("token expired at {0} (15 minute lifetime)")]
    Expired(String),
    /// The signature does not match for this cluster's `x-k8s-aws-id` (a token for another cluster).
    #[error("signature does not match for x-k8s-aws-id {0:?}")]
    SignatureMismatch(String),
}

impl TokenError {
    /// A stable short name (log field, metric label).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Missing => "TokenMissing",
            Self::Malformed(_) => "TokenMalformed",
            Self::NotSts(_) => "TokenNotSts",
            Self::Unsigned(_) => "TokenUnsigned",
            Self::Expired(_) => "TokenExpired",
            Self::SignatureMismatch(_) => "TokenSignatureMismatch",
        }
    }
}

/// What a structurally valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedCall {
    /// The presigned URL.
    pub url: url::Url,
    /// Access key id of the signer (`X-Amz-Credential`).
    pub access_key_id: String,
    /// `YYYYMMDD/region/sts/aws4_request`.
    pub scope: String,
    /// Signing region.
    pub region: String,
    /// `X-Amz-Date`.
    pub amz_date: String,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub session_token: Option<String>,
    /// `X-Amz-Signature`.
    pub signature: String,
    /// `X-Amz-Expires` (seconds).
    pub expires: u64,
    /// `X-Amz-SignedHeaders`.
    pub signed_headers: Vec<String>,
}

/// Hosts a token may point at: `sts.amazonaws.com`, `sts.<region>.amazonaws.com(.cn)`, and the extra
/// `host[:port]` authorities given (the local endpoints the AWS CLI signs for when `AWS_ENDPOINT_URL` is set).
pub fn is_sts_host(authority: &str, extra: &[String]) -> bool {
    if extra.iter().any(|e| e == authority) {
        return true;
    }
    let host = authority.split(':').next().unwrap_or_default();
    if host == "sts.amazonaws.com" {
        return true;
    }
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"));
    match rest.and_then(|r| r.strip_prefix("sts.")) {
        Some(region) => {
            !region.is_empty()
                && region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
        None => false,
    }
}

/// Parses `Authorization` header contents (`Bearer k8s-aws-v1....`) and checks the presigned URL.
pub fn parse(
    header: Option<&str>,
    extra_hosts: &[String],
    now: SystemTime,
) -> Result<PresignedCall, TokenError> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or(TokenError::Missing)?;
    let encoded = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or_else(|| TokenError::Malformed(format!("no {TOKEN_PREFIX} prefix")))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|e| TokenError::Malformed(format!("not base64url: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::Malformed("not UTF-8".into()))?;
    let url = url::Url::parse(&text).map_err(|e| TokenError::Malformed(format!("not a URL: {e}")))?;
    check_url(url, extra_hosts, now)
}

fn check_url(url: url::Url, extra_hosts: &[String], now: SystemTime) -> Result<PresignedCall, TokenError> {
    if !matches!(url.scheme(), "https" | "http") {
        return Err(TokenError::NotSts(format!("scheme {}", url.scheme())));
    }
    let authority = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return Err(TokenError::NotSts("no host".into())),
    };
    if !is_sts_host(&authority, extra_hosts) {
        return Err(TokenError::NotSts(format!(
            "host {authority} is not an STS endpoint"
        )));
    }
    if url.path() != "/" {
        return Err(TokenError::NotSts(format!("path {}", url.path())));
    }
    let mut params = BTreeMap::new();
    for (key, value) in url.query_pairs() {
        let lower = key.to_ascii_lowercase();
        if !(lower == "action" || lower == "version" || lower.starts_with("x-amz-")) {
            return Err(TokenError::NotSts(format!("unexpected query parameter {key}")));
        }
        if params.insert(lower, value.into_owned()).is_some() {
            return Err(TokenError::NotSts(format!("query parameter {key} repeated")));
        }
    }
    if params.get("action").map(String::as_str) != Some("GetCallerIdentity") {
        return Err(TokenError::NotSts("Action is not GetCallerIdentity".into()));
    }
    let get = |name: &str| {
        params
            .get(name)
            .cloned()
            .ok_or_else(|| TokenError::Unsigned(format!("no {name}")))
    };
    if get("x-amz-algorithm")? != "AWS4-HMAC-SHA256" {
        return Err(TokenError::Unsigned(
            "X-Amz-Algorithm is not AWS4-HMAC-SHA256".into(),
        ));
    }
    let credential = get("x-amz-credential")?;
    let mut parts = credential.splitn(2, '/');
    let access_key_id = parts.next().unwrap_or_default().to_owned();
    let scope = parts.next().unwrap_or_default().to_owned();
    let scope_parts: Vec<&str> = scope.split('/').collect();
    if access_key_id.is_empty()
        || scope_parts.len() != 4
        || scope_parts[2] != "sts"
        || scope_parts[3] != "aws4_request"
    {
        return Err(TokenError::Unsigned(format!("X-Amz-Credential {credential:?}")));
    }
    let signed_headers: Vec<String> = get("x-amz-signedheaders")?
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if !signed_headers.iter().any(|h| h == CLUSTER_ID_HEADER) {
        return Err(TokenError::Unsigned(format!(
            "X-Amz-SignedHeaders does not include {CLUSTER_ID_HEADER}"
        )));
    }
    let signature = get("x-amz-signature")?;
    if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(TokenError::Unsigned(
            "X-Amz-Signature is not a SigV4 signature".into(),
        ));
    }
    let expires: u64 = get("x-amz-expires")?
        .parse()
        .map_err(|_| TokenError::Unsigned("X-Amz-Expires is not a number".into()))?;
    let amz_date = get("x-amz-date")?;
    let signed_at =
        parse_amz_date(&amz_date).ok_or_else(|| TokenError::Unsigned(format!("X-Amz-Date {amz_date:?}")))?;
    if !amz_date.starts_with(scope_parts[0]) {
        return Err(TokenError::Unsigned(
            "X-Amz-Date does not match the credential scope".into(),
        ));
    }
    if now > signed_at + TOKEN_LIFETIME {
        return Err(TokenError::Expired(amz_date));
    }
    Ok(PresignedCall {
        region: scope_parts[1].to_owned(),
        url,
        access_key_id,
        scope,
        amz_date,
        session_token: params.get("x-amz-security-token").cloned(),
        signature: signature.to_ascii_lowercase(),
        expires,
        signed_headers,
    })
}

/// `20261206T041000Z` as a time.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Formats a time as `X-Amz-Date` does.
pub fn format_amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's algorithms (http://howardhinnant.github.io/date_algorithms.html).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(url: &str) -> String {
        format!(
            "Bearer {TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )
    }

    const GOOD: &str = "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261206%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20261206T041000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn at(date: &str) -> SystemTime {
        parse_amz_date(date).unwrap()
    }

    #[test]
    fn a_well_formed_token_parses() {
        let call = parse(Some(&token(GOOD)), &[], at("20261206T041500Z")).unwrap();
        assert_eq!(call.access_key_id, "AKIDEXAMPLE");
        assert_eq!(call.region, "eu-west-1");
        assert_eq!(format_amz_date(at("20261206T041000Z")), "20261206T041000Z");
    }

    #[test]
    fn bad_tokens_are_refused_with_their_reason() {
        let now = at("20261206T041500Z");
        let cases = [
            ("Basic abc".to_owned(), "TokenMissing"),
            ("Bearer abc".to_owned(), "TokenMalformed"),
            (format!("Bearer {TOKEN_PREFIX}!!!"), "TokenMalformed"),
            (
                token(&GOOD.replace("sts.eu-west-1.amazonaws.com", "evil.example.com")),
                "TokenNotSts",
            ),
            (
                token(&GOOD.replace("GetCallerIdentity", "AssumeRole")),
                "TokenNotSts",
            ),
            (token(&format!("{GOOD}&Foo=1")), "TokenNotSts"),
            (
                token(&GOOD.replace("host%3Bx-k8s-aws-id", "host")),
                "TokenUnsigned",
            ),
            (
                token(&GOOD.replace(
                    "&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    "",
                )),
                "TokenUnsigned",
            ),
            (
                token(&GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")),
                "TokenUnsigned",
            ),
        ];
        for (header, reason) in cases {
            let error = parse(Some(&header), &[], now).unwrap_err();
            assert_eq!(error.name(), reason, "{header}: {error}");
        }
        assert_eq!(parse(None, &[], now).unwrap_err(), TokenError::Missing);
        let late = parse(Some(&token(GOOD)), &[], at("20261206T042501Z")).unwrap_err();
        assert_eq!(late.name(), "TokenExpired");
    }

    #[test]
    fn sts_hosts() {
        assert!(is_sts_host("sts.amazonaws.com", &[]));
        assert!(is_sts_host("sts.us-east-1.amazonaws.com", &[]));
        assert!(is_sts_host("sts.cn-north-1.amazonaws.com.cn", &[]));
        assert!(!is_sts_host("sts.evil.com", &[]));
        assert!(!is_sts_host("127.0.0.1:5000", &[]));
        assert!(is_sts_host("127.0.0.1:5000", &["127.0.0.1:5000".into()]));
    }
}
