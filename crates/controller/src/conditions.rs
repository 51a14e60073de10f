//! Standard Kubernetes conditions whose `lastTransitionTime` changes only on a real transition.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Every region is ready.
pub const READY: &str = "Ready";
/// Something is being created, changed or deleted.
pub const PROGRESSING: &str = "Progressing";
/// A region failed or drifted and could not be repaired.
pub const DEGRADED: &str = "Degraded";

/// A condition as the reconcile computes it, before its transition time is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    /// `Ready`, `Progressing`, `Degraded`.
    pub type_: &'static str,
    /// True or false.
    pub status: bool,
    /// A PascalCase reason.
    pub reason: String,
    /// A human-readable message.
    pub message: String,
}

impl DesiredCondition {
    /// A condition with its fields.
    pub fn new(
        type_: &'static str,
        status: bool,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Merges the desired conditions into the previous ones: a condition keeps its `lastTransitionTime` when its
/// status did not change (reason and message may still change), and takes `now` when it did or is new.
pub fn merge(
    previous: &[Condition],
    desired: &[DesiredCondition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    desired
        .iter()
        .map(|want| {
            let status = if want.status { "True" } else { "False" };
            let last_transition_time = previous
                .iter()
                .find(|c| c.type_ == want.type_ && c.status == status)
                .map_or(Time(now), |c| c.last_transition_time.clone());
            Condition {
                type_: want.type_.to_owned(),
                status: status.to_owned(),
                reason: want.reason.clone(),
                message: want.message.clone(),
                last_transition_time,
                observed_generation: generation,
            }
        })
        .collect()
}

/// Whether the conditions hold a condition of this type with status True.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    conditions.iter().any(|c| c.type_ == type_ && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap_or_default()
    }

    #[test]
    fn transition_time_changes_only_on_status_change() {
        let first = merge(
            &[],
            &[DesiredCondition::new(READY, false, "Provisioning", "vpc")],
            Some(1),
            at(100),
        );
        assert_eq!(first[0].last_transition_time, Time(at(100)));
        let same = merge(
            &first,
            &[DesiredCondition::new(READY, false, "Provisioning", "cluster")],
            Some(1),
            at(200),
        );
        assert_eq!(
            same[0].last_transition_time,
            Time(at(100)),
            "same status keeps the time"
        );
        assert_eq!(same[0].message, "cluster");
        let flipped = merge(
            &same,
            &[DesiredCondition::new(READY, true, "Ready", "all regions")],
            Some(2),
            at(300),
        );
        assert_eq!(flipped[0].last_transition_time, Time(at(300)));
        assert_eq!(flipped[0].observed_generation, Some(2));
        assert!(is_true(&flipped, READY));
    }
}
