//! What every reconcile shares: clients, the AWS seam, the event recorder, metrics and settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::Client;
use kube::core::ApiResource;
use kube::runtime::events::Recorder;

use crate::infra::Infrastructure;
use crate::metrics::Metrics;
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
    pub recorder: Recorder,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Requeue and backoff periods.
    pub timing: Timing,
    /// Consecutive failures per object uid, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context with no failures recorded.
    pub fn new(
        client: Client,
        infra: Arc<dyn Infrastructure>,
        workload: Arc<dyn WorkloadClusters>,
        recorder: Recorder,
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
            failures: Mutex::default(),
        }
    }

    /// Records a failure of the object and returns how long to wait: base × 2^(failures-1), capped, with up
    /// to 10% jitter derived from the uid so that a fleet does not retry in lockstep.
    pub fn next_backoff(&self, uid: &str) -> Duration {
        let count = self.failures.lock().map_or(1, |mut map| {
            let count = map.entry(uid.to_owned()).or_insert(0);
            *count = count.saturating_add(1);
            *count
        });
        let exponent = count.saturating_sub(1).min(16);
        let delay = self
            .timing
            .backoff_base
            .saturating_mul(1u32 << exponent)
            .min(self.timing.backoff_cap);
        let jitter = uid
            .bytes()
            .fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 100;
        delay + delay.mul_f64(f64::from(jitter) / 1000.0)
    }

    /// Forgets the failures of an object after a successful reconcile.
    pub fn reset_backoff(&self, uid: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Timing;
    use std::time::Duration;

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
}
