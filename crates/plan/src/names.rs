//! Names derived from the cluster id, shortened deterministically where AWS limits them.

use sha2::{Digest, Sha256};

/// The longest IAM role name AWS accepts.
pub const MAX_IAM_ROLE_NAME: usize = 64;

/// Shortens `name` to `max` characters by keeping a prefix and appending `-` and eight hex digits of the
/// SHA-256 of the full name, so two long names stay distinct and the same input always gives the same output.
pub fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let digest = Sha256::digest(name.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let keep = max.saturating_sub(hash.len() + 1);
    let prefix: String = name.chars().take(keep).collect();
    format!("{}-{hash}", prefix.trim_end_matches('-'))
}

/// The AWS partition of a region (`aws`, `aws-us-gov`, `aws-cn`, ...), for ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// Placeholder for the account id in ARNs of an offline plan, as the seed's aws-auth shows it.
pub const ACCOUNT_PLACEHOLDER: &str = "<AWS_ACCOUNT_ID>";

/// The ARN of an IAM role; `account` `None` writes [`ACCOUNT_PLACEHOLDER`].
pub fn role_arn(partition: &str, account: Option<&str>, role_name: &str) -> String {
    format!(
        "arn:{partition}:iam::{}:role/{role_name}",
        account.unwrap_or(ACCOUNT_PLACEHOLDER)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(
            shorten("eks-worker-eu-west-1-test-cloudlad", 64),
            "eks-worker-eu-west-1-test-cloudlad"
        );
    }

    #[test]
    fn long_names_are_shortened_deterministically_and_distinctly() {
        let a = format!("eks-worker-ap-southeast-1-prod-{}", "a".repeat(60));
        let b = format!("eks-worker-ap-southeast-1-prod-{}b", "a".repeat(59));
        let short_a = shorten(&a, 64);
        assert_eq!(short_a.len(), 64);
        assert_eq!(short_a, shorten(&a, 64));
        assert_ne!(short_a, shorten(&b, 64));
        assert!(short_a.starts_with("eks-worker-ap-southeast-1-prod-"));
        assert!(
            short_a
                .rsplit('-')
                .next()
                .is_some_and(|h| h.len() == 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }

    #[test]
    fn partitions() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(role_arn("aws", None, "r"), "arn:aws:iam::<AWS_ACCOUNT_ID>:role/r");
        assert_eq!(
            role_arn("aws", Some("123456789012"), "r"),
            "arn:aws:iam::123456789012:role/r"
        );
    }
}
