//! Newtypes for the names that travel between layers, so that a region is never confused with a cluster id.

use std::fmt;

use serde::Serialize;

/// The longest EKS cluster name AWS accepts.
pub const MAX_CLUSTER_ID_LEN: usize = 100;

/// A validated AWS region code such as `eu-west-1`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionName(String);

impl RegionName {
    /// Checks `value` against the region pattern.
    pub fn parse(value: &str) -> Result<Self, String> {
        if crate::patterns::is_region(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!("{value:?} is not an AWS region code (like eu-west-1)"))
        }
    }

    /// The region code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one regional cluster, `<region>-<stage>-<name>` (the seed's `eu-west-1-test-cloudlad`). It names
/// the EKS cluster and prefixes every AWS resource of the region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClusterId(String);

impl ClusterId {
    /// Builds the id from its parts; fails when it is longer than EKS allows.
    pub fn new(region: &RegionName, stage: Option<&str>, name: &str) -> Result<Self, String> {
        let id = match stage {
            Some(stage) => format!("{region}-{stage}-{name}"),
            None => format!("{region}-{name}"),
        };
        if id.len() > MAX_CLUSTER_ID_LEN {
            return Err(format!(
                "cluster id {id:?} is {} characters; EKS allows at most {MAX_CLUSTER_ID_LEN}: shorten metadata.name or spec.stage",
                id.len()
            ));
        }
        Ok(Self(id))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_id() {
        let region = RegionName::parse("eu-west-1").unwrap();
        assert_eq!(
            ClusterId::new(&region, Some("test"), "cloudlad")
                .unwrap()
                .as_str(),
            "eu-west-1-test-cloudlad"
        );
        assert_eq!(
            ClusterId::new(&region, None, "cloudlad").unwrap().as_str(),
            "eu-west-1-cloudlad"
        );
    }

    #[test]
    fn too_long_id_is_refused() {
        let region = RegionName::parse("ap-southeast-1").unwrap();
        let name = "n".repeat(90);
        let err = ClusterId::new(&region, Some("prod"), &name).unwrap_err();
        assert!(err.contains("at most 100"), "{err}");
    }

    #[test]
    fn region_must_be_a_code() {
        assert!(RegionName::parse("eu-west-1").is_ok());
        assert!(RegionName::parse("Ireland").is_err());
    }
}
