//! Regular expressions shared by the CRD schema (as `pattern`) and by the validation in code.
//!
//! The API server enforces them when it validates an object against the CRD; [`crate::validate`]
//! checks them again because the operator must not trust that the API server did.

use std::sync::LazyLock;

use regex::Regex;

/// An AWS region code such as `eu-west-1`, `us-gov-west-1` or `ap-southeast-4`.
pub const REGION: &str = r"^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$";

/// An availability zone name: a region code followed by one lower-case letter (`eu-west-1a`).
pub const ZONE: &str = r"^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][a-z]$";

/// A dotted-quad IPv4 CIDR such as `10.0.0.0/16`.
pub const IPV4_CIDR: &str = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$";

/// A Kubernetes minor version as EKS names it: `1.31`.
pub const KUBERNETES_VERSION: &str = r"^1\.[0-9]{2}$";

/// The stage part of the cluster id (`test`, `prod`): a DNS label of at most 20 characters.
pub const STAGE: &str = r"^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$";

/// An EC2 instance type: family, optional generation/attributes, a dot and a size (`t3.medium`, `m7gd.2xlarge`).
pub const INSTANCE_TYPE: &str = r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$";

/// An EKS managed node group name.
pub const NODE_GROUP_NAME: &str = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$";

/// An IAM role ARN in any partition.
pub const ROLE_ARN: &str = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$";

/// An IAM user ARN in any partition.
pub const USER_ARN: &str = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:user/[A-Za-z0-9+=,.@_/-]+$";

/// An IAM principal an access entry can name: a role or user ARN in any partition (not an STS `assumed-role`
/// session ARN, which is no principal of its own).
pub const PRINCIPAL_ARN: &str = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$";

/// An EKS access policy ARN (`arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy`).
pub const ACCESS_POLICY_ARN: &str = r"^arn:aws(-[a-z]+)*:eks::aws:cluster-access-policy/[A-Za-z0-9]+$";

/// A twelve digit AWS account id.
pub const ACCOUNT_ID: &str = r"^[0-9]{12}$";

/// An EC2 key pair name (printable ASCII, no leading/trailing blank).
pub const SSH_KEY_NAME: &str = r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$";

fn compile(pattern: &str) -> Regex {
    // The patterns are constants checked by the unit tests below; a failure here is a programming error.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("built-in pattern compiles")
}

macro_rules! matcher {
    ($(#[$doc:meta])* $name:ident, $pattern:ident) => {
        $(#[$doc])*
        pub fn $name(value: &str) -> bool {
            static RE: LazyLock<Regex> = LazyLock::new(|| compile($pattern));
            RE.is_match(value)
        }
    };
}

matcher!(
    /// Whether `value` is an AWS region code.
    is_region, REGION
);
matcher!(
    /// Whether `value` is an availability zone name.
    is_zone, ZONE
);
matcher!(
    /// Whether `value` has the shape of an IPv4 CIDR (the address itself is checked by parsing).
    is_ipv4_cidr_shape, IPV4_CIDR
);
matcher!(
    /// Whether `value` is a Kubernetes minor version such as `1.31`.
    is_kubernetes_version, KUBERNETES_VERSION
);
matcher!(
    /// Whether `value` is a valid stage.
    is_stage, STAGE
);
matcher!(
    /// Whether `value` is an EC2 instance type.
    is_instance_type, INSTANCE_TYPE
);
matcher!(
    /// Whether `value` is a node group name EKS accepts.
    is_node_group_name, NODE_GROUP_NAME
);
matcher!(
    /// Whether `value` is an IAM role ARN.
    is_role_arn, ROLE_ARN
);
matcher!(
    /// Whether `value` is an IAM user ARN.
    is_user_arn, USER_ARN
);
matcher!(
    /// Whether `value` is an IAM role or user ARN.
    is_principal_arn, PRINCIPAL_ARN
);
matcher!(
    /// Whether `value` is an EKS access policy ARN.
    is_access_policy_arn, ACCESS_POLICY_ARN
);
matcher!(
    /// Whether `value` is a twelve digit account id.
    is_account_id, ACCOUNT_ID
);
matcher!(
    /// Whether `value` is an EC2 key pair name.
    is_ssh_key_name, SSH_KEY_NAME
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "eu-west-1",
            "us-east-2",
            "us-gov-west-1",
            "ap-southeast-4",
            "ca-central-1",
            "il-central-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "eu-west",
            "EU-WEST-1",
            "eu-west-1a",
            "mars-north-1",
            "eu-west-0",
            "eu_west_1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn zones() {
        assert!(is_zone("eu-west-1a"));
        assert!(is_zone("ca-central-1d"));
        assert!(!is_zone("eu-west-1"));
        assert!(!is_zone("eu-west-1ab"));
    }

    #[test]
    fn instance_types() {
        for ok in [
            "t3.medium",
            "m7gd.2xlarge",
            "u-6tb1.metal",
            "c5n.18xlarge",
            "g4dn.xlarge",
        ] {
            assert!(is_instance_type(ok), "{ok}");
        }
        for bad in ["t3", "T3.medium", "t3.", ".medium", "t3 medium", "medium.t3x"] {
            assert!(!is_instance_type(bad), "{bad}");
        }
    }

    #[test]
    fn arns_and_accounts() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/ops-admin"));
        assert!(is_role_arn("arn:aws-us-gov:iam::123456789012:role/path/x"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(is_user_arn("arn:aws:iam::123456789012:user/alice"));
        assert!(is_principal_arn("arn:aws:iam::123456789012:role/ops-admin"));
        assert!(is_principal_arn("arn:aws:iam::123456789012:user/alice"));
        assert!(!is_principal_arn(
            "arn:aws:sts::123456789012:assumed-role/ops-admin/s"
        ));
        assert!(!is_principal_arn("arn:aws:iam::123456789012:group/admins"));
        assert!(is_access_policy_arn(
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        ));
        assert!(!is_access_policy_arn(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
    }

    #[test]
    fn misc() {
        assert!(is_kubernetes_version("1.31"));
        assert!(!is_kubernetes_version("1.31.2"));
        assert!(is_stage("test"));
        assert!(!is_stage("Test"));
        assert!(!is_stage("-test"));
        assert!(is_node_group_name("workers"));
        assert!(!is_node_group_name("-workers"));
        assert!(is_ipv4_cidr_shape("10.0.0.0/16"));
        assert!(!is_ipv4_cidr_shape("10.0.0.0/33"));
        assert!(is_ssh_key_name("testbed"));
        assert!(!is_ssh_key_name(" testbed"));
    }
}
