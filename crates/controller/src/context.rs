//! What every reconcile shares: clients, the AWS seam, the event recorder, metrics and settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::Client;
use kube::core::ApiResource;

use crate::infra::Infrastructure;
use crate::metrics::Metrics;
use crate::recorder::EventRecorder;
use crate::workload::WorkloadClusters;

/// The one field manager of every server-side apply the controller makes.
pub const FIELD_MANAGER: &str = "eks-operator";
/// The finalizer that keeps an EksCluster until its AWS resources are gone.
pub const FINALIZER: &str = "eksoperator.io/cleanup";

/// Timing settings of the controller.
#[derive(Clone, Debug)]
pub struct Timing {
    /// How often a ready object is checked for drift.
    pub drift_period: Duration,
    /// How soon a region that is still being created or deleted is looked at again.
    pub progress_period: Duration,
    /// First delay after a failure; doubles per consecutive failure.
    pub backoff_base: Duration,
    /// Longest delay after failures.
    pub backoff_cap: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            drift_period: Duration::from_secs(600),
            progress_period: Duration::from_secs(20),
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(300),
        }
    }
}

impl Timing {
    /// How soon to look again at an object that is still being created or deleted: when the AWS layer asked,
    /// but never later than the progress period and never sooner than a second (or the progress period, when
    /// that is shorter), so that an eager request cannot turn into a hot loop.
    pub fn progress_requeue(&self, requested: Option<Duration>) -> Duration {
        let floor = Duration::from_secs(1).min(self.progress_period);
        requested
            .unwrap_or(self.progress_period)
            .clamp(floor, self.progress_period.max(floor))
    }
}

/// Shared state of the reconciles.
pub struct Context {
    /// The management cluster.
    pub client: Client,
    /// The EksCluster resource as served.
    pub resource: ApiResource,
    /// The AWS side.
    pub infra: Arc<dyn Infrastructure>,
    /// Where aws-auth is applied when `spec.awsAuth.manage` is true.
    pub workload: Arc<dyn WorkloadClusters>,
    /// Publishes events on EksCluster objects.
    pub recorder: EventRecorder,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Requeue and backoff periods.
    pub timing: Timing,
    /// Consecutive failures per object uid, for exponential backoff.
    backoff: Backoff,
}

impl Context {
    /// A context with no failures recorded.
    pub fn new(
        client: Client,
        infra: Arc<dyn Infrastructure>,
        workload: Arc<dyn WorkloadClusters>,
        recorder: EventRecorder,
        metrics: Arc<Metrics>,
        timing: Timing,
    ) -> Self {
        Self {
            client,
            resource: ApiResource::erase::<eks_api::EksCluster>(&()),
            infra,
            workload,
            recorder,
            metrics,
            timing,
            backoff: Backoff::default(),
        }
    }

    /// Records a failure of the object and returns how long to wait (see [`Backoff::record_failure`]).
    pub fn next_backoff(&self, uid: &str) -> Duration {
        self.backoff
            .record_failure(uid, self.timing.backoff_base, self.timing.backoff_cap)
    }

    /// Records a failed pass of the object and returns how long to wait (see [`Backoff::after`]).
    pub fn backoff_after(&self, uid: &str, setback: Setback) -> Duration {
        self.backoff.after(uid, setback, &self.timing)
    }

    /// Forgets the failures of an object after a successful reconcile, or when it is released.
    pub fn reset_backoff(&self, uid: &str) {
        self.backoff.reset(uid);
    }
}

/// An entry not touched for this many backoff caps belongs to an object that is no longer reconciled (deleted
/// without passing through the release, or out of this shard): a failing object is retried at least once
/// per cap, so its entry is refreshed well before.
const STALE_AFTER_CAPS: u32 = 4;

#[derive(Debug, Default)]
struct Failures {
    per_uid: HashMap<String, (u32, Instant)>,
    last_sweep: Option<Instant>,
}

/// What a failed pass amounted to: the backoff grows only for passes that made no progress and were not
/// merely throttled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Setback {
    /// The pass changed something in AWS, or moved a resource forward, before it failed.
    pub progress: bool,
    /// AWS throttled the pass: the call was refused before it ran, nothing is wrong with the object.
    pub throttled: bool,
}

/// Consecutive failures per object uid, for exponential backoff.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: Mutex<Failures>,
}

impl Backoff {
    /// How long to wait after a failed pass:
    /// - a pass that made progress forgets the object's failures;
    /// - a throttled pass waits a short, random time between the base delay and twice it (never above the
    ///   cap), without counting as a failure, so that a fleet throttled together spreads out;
    /// - a pass that made progress (and was not throttled) comes back after the progress period;
    /// - any other pass is a failure: base × 2^(failures-1), capped ([`Self::record_failure`]).
    pub fn after(&self, uid: &str, setback: Setback, timing: &Timing) -> Duration {
        self.after_at(uid, setback, timing, Instant::now())
    }

    fn after_at(&self, uid: &str, setback: Setback, timing: &Timing, now: Instant) -> Duration {
        if setback.progress {
            self.reset(uid);
        }
        if setback.throttled {
            return throttle_delay(timing.backoff_base, timing.backoff_cap);
        }
        if setback.progress {
            return timing.progress_period;
        }
        self.record_failure_at(uid, timing.backoff_base, timing.backoff_cap, now)
    }

    /// Records a failure of the object and returns how long to wait: base × 2^(failures-1), capped, less up to
    /// 10% of jitter derived from the uid so that a fleet does not retry in lockstep (and never above the cap).
    pub fn record_failure(&self, uid: &str, base: Duration, cap: Duration) -> Duration {
        self.record_failure_at(uid, base, cap, Instant::now())
    }

    fn record_failure_at(&self, uid: &str, base: Duration, cap: Duration, now: Instant) -> Duration {
        let count = self.failures.lock().map_or(1, |mut failures| {
            let stale = cap.saturating_mul(STALE_AFTER_CAPS);
            if failures
                .last_sweep
                .is_none_or(|last| now.saturating_duration_since(last) > cap)
            {
                failures
                    .per_uid
                    .retain(|_, (_, last)| now.saturating_duration_since(*last) <= stale);
                failures.last_sweep = Some(now);
            }
            let entry = failures.per_uid.entry(uid.to_owned()).or_insert((0, now));
            entry.0 = entry.0.saturating_add(1);
            entry.1 = now;
            entry.0
        });
        let exponent = count.saturating_sub(1).min(16);
        let delay = base.saturating_mul(1u32 << exponent).min(cap);
        let jitter = uid
            .bytes()
            .fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 100;
        delay.saturating_sub(delay.mul_f64(f64::from(jitter) / 1000.0))
    }

    /// Forgets the failures of an object.
    pub fn reset(&self, uid: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.per_uid.remove(uid);
        }
    }

    /// How many objects have failures recorded.
    pub fn tracked(&self) -> usize {
        self.failures.lock().map_or(0, |f| f.per_uid.len())
    }
}

/// A random delay in `[base, 2 × base)`, at most `cap`.
fn throttle_delay(base: Duration, cap: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // A fresh `RandomState` is randomly keyed: enough randomness for jitter without a dependency.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    let fraction = (hasher.finish() % 1_000) as f64 / 1_000.0;
    base.mul_f64(1.0 + fraction).min(cap)
}

#[cfg(test)]
mod tests {
    use super::{Backoff, STALE_AFTER_CAPS, Setback, Timing, throttle_delay};
    use std::time::{Duration, Instant};

    const BASE: Duration = Duration::from_millis(200);
    const CAP: Duration = Duration::from_secs(5);

    fn close(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) <= Duration::from_micros(1)
    }

    #[test]
    fn backoff_doubles_per_failure_up_to_the_cap() {
        let backoff = Backoff::default();
        let delays: Vec<Duration> = (0..10)
            .map(|_| backoff.record_failure("uid-a", BASE, CAP))
            .collect();
        let first = delays[0];
        assert!(first <= BASE && first >= BASE.mul_f64(0.9), "{first:?}");
        for pair in delays.windows(2) {
            let doubled = pair[0] * 2;
            if doubled < CAP.mul_f64(0.9) {
                assert!(close(pair[1], doubled), "{delays:?}");
            } else {
                assert!(pair[1] <= CAP && pair[1] >= CAP.mul_f64(0.9), "{delays:?}");
            }
        }
        // 200 ms × 2^5 = 6.4 s: the cap from the sixth failure on, then constant.
        assert!(delays[4] < CAP, "{delays:?}");
        assert!(delays[5..].iter().all(|d| *d == delays[5]), "{delays:?}");
        // A thousand failures neither overflow nor pass the cap.
        for _ in 0..1000 {
            assert!(backoff.record_failure("uid-a", BASE, CAP) <= CAP);
        }
    }

    #[test]
    fn backoff_is_per_object_and_reset_starts_again() {
        let backoff = Backoff::default();
        let first_a = backoff.record_failure("uid-a", BASE, CAP);
        for _ in 0..4 {
            backoff.record_failure("uid-a", BASE, CAP);
        }
        let first_b = backoff.record_failure("uid-b", BASE, CAP);
        assert!(
            first_b <= BASE,
            "another object's failures do not raise it: {first_b:?}"
        );
        assert!(close(backoff.record_failure("uid-b", BASE, CAP), first_b * 2));
        assert_eq!(backoff.tracked(), 2);
        backoff.reset("uid-a");
        assert_eq!(backoff.tracked(), 1);
        assert_eq!(backoff.record_failure("uid-a", BASE, CAP), first_a);
        // Jitter spreads objects that fail together.
        let firsts: std::collections::BTreeSet<Duration> = (0..20)
            .map(|i| backoff.record_failure(&format!("fleet-{i}"), BASE, CAP))
            .collect();
        assert!(firsts.len() > 10, "{firsts:?}");
    }

    #[test]
    fn entries_of_objects_no_longer_reconciled_are_dropped() {
        let backoff = Backoff::default();
        let start = Instant::now();
        backoff.record_failure_at("gone", BASE, CAP, start);
        backoff.record_failure_at("failing", BASE, CAP, start);
        // "failing" is retried every cap; "gone" never comes back.
        let mut now = start;
        for _ in 0..=STALE_AFTER_CAPS {
            now += CAP;
            backoff.record_failure_at("failing", BASE, CAP, now);
        }
        backoff.record_failure_at("failing", BASE, CAP, now + CAP + Duration::from_millis(1));
        assert_eq!(backoff.tracked(), 1);
        let delay = backoff.record_failure_at("failing", BASE, CAP, now + CAP * 2);
        assert!(
            delay >= CAP.mul_f64(0.9),
            "the failing object keeps its count: {delay:?}"
        );
    }

    fn timing(progress_period: Duration) -> Timing {
        Timing {
            progress_period,
            ..Timing::default()
        }
    }

    #[test]
    fn progress_requeue_stays_within_a_second_and_the_period() {
        let timing = timing(Duration::from_secs(20));
        assert_eq!(timing.progress_requeue(None), Duration::from_secs(20));
        assert_eq!(
            timing.progress_requeue(Some(Duration::from_millis(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            timing.progress_requeue(Some(Duration::from_secs(60))),
            Duration::from_secs(20)
        );
        assert_eq!(
            timing.progress_requeue(Some(Duration::from_secs(5))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn a_progress_period_under_a_second_is_honoured_instead_of_panicking() {
        let timing = timing(Duration::from_millis(500));
        assert_eq!(timing.progress_requeue(None), Duration::from_millis(500));
        assert_eq!(
            timing.progress_requeue(Some(Duration::ZERO)),
            Duration::from_millis(500)
        );
        assert_eq!(
            timing.progress_requeue(Some(Duration::from_secs(3))),
            Duration::from_millis(500)
        );
    }

    fn quick() -> Timing {
        Timing {
            drift_period: Duration::from_secs(600),
            progress_period: Duration::from_secs(1),
            backoff_base: BASE,
            backoff_cap: CAP,
        }
    }

    const STUCK: Setback = Setback {
        progress: false,
        throttled: false,
    };
    const PROGRESSED: Setback = Setback {
        progress: true,
        throttled: false,
    };
    const THROTTLED: Setback = Setback {
        progress: false,
        throttled: true,
    };

    #[test]
    fn stuck_passes_grow_the_delay_to_the_cap_and_stay_there() {
        let backoff = Backoff::default();
        let timing = quick();
        let delays: Vec<Duration> = (0..12).map(|_| backoff.after("stuck", STUCK, &timing)).collect();
        for pair in delays.windows(2) {
            assert!(pair[1] >= pair[0], "never shorter: {delays:?}");
        }
        assert!(delays[0] <= BASE, "{delays:?}");
        assert!(delays[11] >= CAP.mul_f64(0.9) && delays[11] <= CAP, "{delays:?}");
        assert_eq!(delays[10], delays[11], "capped: {delays:?}");
    }

    #[test]
    fn a_pass_that_made_progress_resets_the_delay_even_when_it_failed() {
        let backoff = Backoff::default();
        let timing = quick();
        for _ in 0..8 {
            backoff.after("obj", STUCK, &timing);
        }
        assert_eq!(backoff.tracked(), 1);
        // Progress on every pass (each one failing after creating something): the progress period each
        // time, never a growing delay.
        for _ in 0..10 {
            assert_eq!(backoff.after("obj", PROGRESSED, &timing), timing.progress_period);
        }
        assert_eq!(backoff.tracked(), 0, "progress forgets the failures");
        // The ladder starts again from the base.
        let first = backoff.after("obj", STUCK, &timing);
        assert!(first <= BASE && first >= BASE.mul_f64(0.9), "{first:?}");
    }

    #[test]
    fn throttled_passes_stay_short_jittered_and_do_not_climb_the_ladder() {
        let backoff = Backoff::default();
        let timing = quick();
        let delays: Vec<Duration> = (0..200)
            .map(|_| backoff.after("obj", THROTTLED, &timing))
            .collect();
        assert!(
            delays.iter().all(|d| *d >= BASE && *d < BASE * 2),
            "between the base and twice it: {delays:?}"
        );
        let distinct: std::collections::BTreeSet<Duration> = delays.iter().copied().collect();
        assert!(distinct.len() > 20, "jittered: {distinct:?}");
        assert_eq!(backoff.tracked(), 0, "throttling is not a failure");
        // Throttling in the middle of a stuck streak neither resets nor grows it.
        let a = backoff.after("s", STUCK, &timing);
        backoff.after("s", THROTTLED, &timing);
        let b = backoff.after("s", STUCK, &timing);
        assert!(close(b, a * 2), "{a:?} {b:?}");
        // Throttled and progressed: short, and the failures are forgotten.
        let both = Setback {
            progress: true,
            throttled: true,
        };
        assert!(backoff.after("s", both, &timing) < BASE * 2);
        assert_eq!(backoff.tracked(), 0);
        // A base above the cap is held at the cap.
        assert_eq!(throttle_delay(CAP * 2, CAP), CAP);
    }
}
