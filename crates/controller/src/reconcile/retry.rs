//! When a pass that failed in some region is tried again: a region's failure carries the delay decided from
//! what the pass amounted to ([`Setback`]), and status says when that is.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::context::{Context, Setback};
use crate::error::Error;
use crate::infra::RegionOutcome;

/// What the regions' pass amounted to: progress when any region moved forward; throttled when every failure
/// was a throttling error (one stuck region keeps the ladder for the object).
pub(super) fn setback(outcomes: &[&RegionOutcome]) -> Setback {
    let mut errors = outcomes.iter().filter_map(|o| o.error.as_ref()).peekable();
    let any_error = errors.peek().is_some();
    Setback {
        progress: outcomes.iter().any(|o| o.progress.is_made()),
        throttled: any_error && errors.all(|e| e.throttled),
    }
}

/// The first region's failure as the reconcile's error, with the delay the object's backoff gives the pass
/// (recorded now: call once per pass).
pub(super) fn region_failure(ctx: &Context, uid: &str, outcomes: &[&RegionOutcome]) -> Option<Error> {
    let (outcome, error) = outcomes.iter().find_map(|o| o.error.as_ref().map(|e| (o, e)))?;
    Some(Error::Region {
        region: outcome.status.region.clone(),
        reason: error.reason.clone(),
        message: error.message.clone(),
        retry_in: ctx.backoff_after(uid, setback(outcomes)),
    })
}

/// When the failure is tried again, for `status.nextAttemptAt` (whole seconds, as Kubernetes writes times).
pub(super) fn next_attempt_at(failure: Option<&Error>, now: Timestamp) -> Option<Time> {
    let Some(Error::Region { retry_in, .. }) = failure else {
        return None;
    };
    let delay = Duration::from_secs(retry_in.as_secs_f64().ceil() as u64);
    let at = now.checked_add(delay).ok()?;
    Timestamp::from_second(at.as_second()).ok().map(Time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::RegionError;
    use eks_aws::engine::Progress;

    fn outcome(progress: Progress, error: Option<bool>) -> RegionOutcome {
        RegionOutcome {
            progress,
            error: error.map(|throttled| RegionError {
                reason: if throttled { "Throttled" } else { "AwsServerError" }.into(),
                message: "m".into(),
                retryable: true,
                throttled,
            }),
            ..RegionOutcome::default()
        }
    }

    #[test]
    fn the_setback_of_several_regions() {
        let stuck = outcome(Progress::None, Some(false));
        let throttled = outcome(Progress::None, Some(true));
        let moved = outcome(Progress::Made, None);
        let failed_after_progress = outcome(Progress::Made, Some(false));
        assert_eq!(setback(&[&stuck]), Setback::default());
        assert_eq!(
            setback(&[&throttled, &throttled]),
            Setback {
                progress: false,
                throttled: true
            }
        );
        assert!(
            !setback(&[&throttled, &stuck]).throttled,
            "a stuck region keeps the ladder"
        );
        assert!(setback(&[&stuck, &moved]).progress);
        assert!(setback(&[&failed_after_progress]).progress);
        assert!(!setback(&[&moved]).throttled);
    }

    #[test]
    fn next_attempt_at_is_whole_seconds_after_now() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let failure = Error::Region {
            region: "eu-west-1".into(),
            reason: "Throttled".into(),
            message: "m".into(),
            retry_in: Duration::from_millis(2_300),
        };
        let at = next_attempt_at(Some(&failure), now).unwrap();
        assert_eq!(at.0.as_second(), 1_800_000_003);
        assert_eq!(next_attempt_at(None, now), None);
        assert_eq!(next_attempt_at(Some(&Error::MissingField("x")), now), None);
    }
}
