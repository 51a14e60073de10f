//! The EksCluster status computed from the regions' outcomes: overall phase, conditions, per-region entries.
//! Pure functions; the reconcile writes the result through server-side apply.

use eks_api::{EksClusterStatus, Phase, RegionStatus, ValidationError};
use k8s_openapi::jiff::Timestamp;

use crate::conditions::{DEGRADED, DesiredCondition, PROGRESSING, READY, merge};

/// The overall phase: the least advanced phase of the regions, failures first.
pub fn overall_phase(regions: &[RegionStatus]) -> Phase {
    let phases: Vec<Phase> = regions
        .iter()
        .map(|r| r.phase.unwrap_or(Phase::Pending))
        .collect();
    if phases.is_empty() {
        Phase::Pending
    } else if phases.contains(&Phase::Deleting) {
        Phase::Deleting
    } else if phases.contains(&Phase::Failed) {
        Phase::Failed
    } else if phases.iter().all(|p| *p == Phase::Ready) {
        Phase::Ready
    } else if phases.contains(&Phase::Provisioning) || phases.contains(&Phase::Ready) {
        Phase::Provisioning
    } else {
        Phase::Pending
    }
}

fn region_conditions(region: &RegionStatus) -> Vec<DesiredCondition> {
    let phase = region.phase.unwrap_or(Phase::Pending);
    let ready = phase == Phase::Ready;
    let ready_message = if ready {
        "every resource exists and matches the spec".to_owned()
    } else if region.in_progress.is_empty() {
        format!("region is {}", phase.as_str())
    } else {
        format!("in progress: {}", region.in_progress.join(", "))
    };
    let (degraded, degraded_reason, degraded_message) = match &region.last_error {
        Some(error) => (true, "Error", error.clone()),
        None if !region.blocked_by.is_empty() => (true, "Blocked", region.blocked_by.join("; ")),
        None => (false, "AsExpected", "no errors".to_owned()),
    };
    vec![
        DesiredCondition::new(READY, ready, phase.as_str(), ready_message),
        DesiredCondition::new(DEGRADED, degraded, degraded_reason, degraded_message),
    ]
}

/// The object's status after a pass over its regions. `previous` supplies the transition times to keep.
pub fn from_regions(
    previous: Option<&EksClusterStatus>,
    generation: Option<i64>,
    mut regions: Vec<RegionStatus>,
    now: Timestamp,
) -> EksClusterStatus {
    for region in &mut regions {
        let old = previous
            .and_then(|p| p.regions.iter().find(|r| r.region == region.region))
            .map_or(&[][..], |r| r.conditions.as_slice());
        region.conditions = merge(old, &region_conditions(region), generation, now);
    }
    let phase = overall_phase(&regions);
    let not_ready: Vec<String> = regions
        .iter()
        .filter(|r| r.phase != Some(Phase::Ready))
        .map(|r| format!("{} ({})", r.region, r.phase.unwrap_or(Phase::Pending).as_str()))
        .collect();
    let failed: Vec<String> = regions
        .iter()
        .filter_map(|r| r.last_error.as_ref().map(|e| format!("{}: {e}", r.region)))
        .chain(
            regions
                .iter()
                .filter(|r| !r.blocked_by.is_empty())
                .map(|r| format!("{}: blocked by {}", r.region, r.blocked_by.join(", "))),
        )
        .collect();
    let in_progress: Vec<String> = regions
        .iter()
        .filter(|r| !r.in_progress.is_empty())
        .map(|r| format!("{}: {}", r.region, r.in_progress.join(", ")))
        .collect();
    let desired = [
        if phase == Phase::Ready {
            DesiredCondition::new(READY, true, "Ready", "every region is ready")
        } else {
            DesiredCondition::new(
                READY,
                false,
                phase.as_str(),
                format!("not ready: {}", not_ready.join(", ")),
            )
        },
        if in_progress.is_empty() {
            DesiredCondition::new(PROGRESSING, false, "Idle", "nothing in progress")
        } else {
            DesiredCondition::new(PROGRESSING, true, phase.as_str(), in_progress.join("; "))
        },
        if failed.is_empty() {
            DesiredCondition::new(DEGRADED, false, "AsExpected", "no errors")
        } else {
            DesiredCondition::new(DEGRADED, true, "RegionFailed", failed.join("; "))
        },
    ];
    let old = previous.map_or(&[][..], |p| p.conditions.as_slice());
    EksClusterStatus {
        observed_generation: generation,
        phase: Some(phase),
        conditions: merge(old, &desired, generation, now),
        regions,
        next_attempt_at: None,
    }
}

/// The status of an object whose spec is invalid: `Ready=False` with reason `InvalidSpec` naming the field.
/// Region entries of earlier passes are kept, since their resources still exist.
pub fn invalid(
    previous: Option<&EksClusterStatus>,
    generation: Option<i64>,
    error: &ValidationError,
    now: Timestamp,
) -> EksClusterStatus {
    let message = error.to_string();
    let desired = [
        DesiredCondition::new(READY, false, error.reason(), message.clone()),
        DesiredCondition::new(PROGRESSING, false, error.reason(), "waiting for a valid spec"),
        DesiredCondition::new(DEGRADED, true, error.reason(), message),
    ];
    let old = previous.map_or(&[][..], |p| p.conditions.as_slice());
    EksClusterStatus {
        observed_generation: generation,
        phase: Some(Phase::Invalid),
        conditions: merge(old, &desired, generation, now),
        regions: previous.map(|p| p.regions.clone()).unwrap_or_default(),
        next_attempt_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::is_true;

    fn region(name: &str, phase: Phase) -> RegionStatus {
        RegionStatus {
            region: name.into(),
            phase: Some(phase),
            ..RegionStatus::default()
        }
    }

    #[test]
    fn phase_is_the_least_advanced() {
        assert_eq!(
            overall_phase(&[region("a", Phase::Ready), region("b", Phase::Ready)]),
            Phase::Ready
        );
        assert_eq!(
            overall_phase(&[region("a", Phase::Ready), region("b", Phase::Provisioning)]),
            Phase::Provisioning
        );
        assert_eq!(
            overall_phase(&[region("a", Phase::Failed), region("b", Phase::Provisioning)]),
            Phase::Failed
        );
        assert_eq!(overall_phase(&[]), Phase::Pending);
    }

    #[test]
    fn ready_status_and_stable_transition_times() {
        let now = Timestamp::from_second(1000).unwrap();
        let later = Timestamp::from_second(2000).unwrap();
        let first = from_regions(None, Some(1), vec![region("a", Phase::Provisioning)], now);
        assert!(!is_true(&first.conditions, READY));
        let mut busy = region("a", Phase::Provisioning);
        busy.in_progress = vec!["EKS cluster CREATING".into()];
        let second = from_regions(Some(&first), Some(1), vec![busy], later);
        let ready_time = |s: &EksClusterStatus| {
            s.conditions
                .iter()
                .find(|c| c.type_ == READY)
                .unwrap()
                .last_transition_time
                .clone()
        };
        assert_eq!(ready_time(&first), ready_time(&second), "Ready stayed False");
        assert!(is_true(&second.conditions, PROGRESSING));
        let third = from_regions(Some(&second), Some(1), vec![region("a", Phase::Ready)], later);
        assert!(is_true(&third.conditions, READY));
        assert_eq!(third.phase, Some(Phase::Ready));
        assert!(is_true(&third.regions[0].conditions, READY));
    }

    #[test]
    fn errors_make_the_object_degraded() {
        let mut failed = region("b", Phase::Failed);
        failed.last_error = Some("AccessDenied: not allowed".into());
        let status = from_regions(
            None,
            Some(3),
            vec![region("a", Phase::Ready), failed],
            Timestamp::UNIX_EPOCH,
        );
        assert!(is_true(&status.conditions, DEGRADED));
        let degraded = status.conditions.iter().find(|c| c.type_ == DEGRADED).unwrap();
        assert!(degraded.message.contains("b: AccessDenied"));
        assert_eq!(status.observed_generation, Some(3));
    }

    #[test]
    fn invalid_spec_names_the_field() {
        let error = ValidationError {
            errors: vec![eks_api::FieldError {
                field: "spec.network.vpcCidr".into(),
                message: "bad".into(),
            }],
        };
        let status = invalid(None, Some(2), &error, Timestamp::UNIX_EPOCH);
        let ready = status.conditions.iter().find(|c| c.type_ == READY).unwrap();
        assert_eq!(ready.reason, "InvalidSpec");
        assert!(ready.message.contains("spec.network.vpcCidr"));
        assert_eq!(status.phase, Some(Phase::Invalid));
    }
}
