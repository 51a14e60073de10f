//! Prometheus metrics of the controller, served on `/metrics`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use eks_aws::instrument::{CallObserver, Op};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a reconcile failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// The error's stable short name.
    pub reason: String,
}

/// Labels of an AWS call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AwsCallLabels {
    /// `ec2`, `iam`, `eks`, `sts`.
    pub service: String,
    /// The API operation (`CreateVpc`).
    pub operation: String,
    /// `Success` or the error's stable short name (`Throttled`, `AccessDenied`, ...).
    pub outcome: String,
}

/// Labels of the objects-by-phase gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// The phase.
    pub phase: String,
}

/// Every metric of the controller and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<FailureLabels, Counter>,
    duration: Histogram,
    aws_calls: Family<AwsCallLabels, Counter>,
    by_phase: Family<PhaseLabels, Gauge>,
    phases: Mutex<HashMap<String, String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("eks_operator");
        let reconciles = Counter::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let aws_calls = Family::<AwsCallLabels, Counter>::default();
        let by_phase = Family::<PhaseLabels, Gauge>::default();
        registry.register("reconciles", "Reconciles run", reconciles.clone());
        registry.register(
            "reconcile_failures",
            "Reconciles that failed, by reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconciles",
            duration.clone(),
        );
        registry.register(
            "aws_calls",
            "AWS API calls by service, operation and outcome",
            aws_calls.clone(),
        );
        registry.register("objects", "EksCluster objects by phase", by_phase.clone());
        Self {
            registry,
            reconciles,
            failures,
            duration,
            aws_calls,
            by_phase,
            phases: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Counts one reconcile and its duration.
    pub fn reconciled(&self, elapsed: Duration) {
        self.reconciles.inc();
        self.duration.observe(elapsed.as_secs_f64());
    }

    /// Counts a failed reconcile.
    pub fn failed(&self, reason: &str) {
        self.failures
            .get_or_create(&FailureLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts one AWS call.
    pub fn aws_call(&self, service: &str, operation: &str, outcome: &str) {
        let labels = AwsCallLabels {
            service: service.to_owned(),
            operation: operation.to_owned(),
            outcome: outcome.to_owned(),
        };
        self.aws_calls.get_or_create(&labels).inc();
    }

    /// Records the phase of an object (`None` when it is gone) and updates the per-phase gauge.
    pub fn set_phase(&self, uid: &str, phase: Option<&str>) {
        let Ok(mut phases) = self.phases.lock() else {
            return;
        };
        let previous = match phase {
            Some(phase) => phases.insert(uid.to_owned(), phase.to_owned()),
            None => phases.remove(uid),
        };
        if previous.as_deref() == phase {
            return;
        }
        if let Some(previous) = previous {
            self.by_phase
                .get_or_create(&PhaseLabels { phase: previous })
                .dec();
        }
        if let Some(phase) = phase {
            self.by_phase
                .get_or_create(&PhaseLabels {
                    phase: phase.to_owned(),
                })
                .inc();
        }
    }

    /// Forgets the phase of every object for which `keep` is false (objects no longer watched).
    pub fn retain_phases(&self, keep: impl Fn(&str) -> bool) {
        let Ok(mut phases) = self.phases.lock() else {
            return;
        };
        phases.retain(|uid, phase| {
            let kept = keep(uid);
            if !kept {
                self.by_phase
                    .get_or_create(&PhaseLabels { phase: phase.clone() })
                    .dec();
            }
            kept
        });
    }

    /// How many objects have a phase recorded.
    pub fn objects_tracked(&self) -> usize {
        self.phases.lock().map_or(0, |p| p.len())
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// The AWS layer reports each call here: `eks_operator_aws_calls_total{service,operation,outcome}`.
impl CallObserver for Metrics {
    fn observed(&self, op: Op, outcome: &str) {
        self.aws_call(op.service.as_str(), op.name, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_counters_and_phase_gauge() {
        let metrics = Metrics::default();
        metrics.reconciled(Duration::from_millis(20));
        metrics.failed("Throttled");
        metrics.aws_call("ec2", "CreateVpc", "Success");
        metrics.set_phase("a", Some("Provisioning"));
        metrics.set_phase("b", Some("Provisioning"));
        metrics.set_phase("a", Some("Ready"));
        metrics.set_phase("b", None);
        let text = metrics.encode();
        assert!(text.contains("eks_operator_reconciles_total 1"), "{text}");
        assert!(
            text.contains("eks_operator_reconcile_failures_total{reason=\"Throttled\"} 1"),
            "{text}"
        );
        assert!(text.contains(
            "eks_operator_aws_calls_total{service=\"ec2\",operation=\"CreateVpc\",outcome=\"Success\"} 1"
        ));
        assert!(text.contains("eks_operator_objects{phase=\"Ready\"} 1"), "{text}");
        assert!(
            text.contains("eks_operator_reconcile_duration_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("eks_operator_objects{phase=\"Provisioning\"} 0"),
            "{text}"
        );
    }

    #[test]
    fn objects_no_longer_watched_leave_the_phase_gauge_and_the_map() {
        let metrics = Metrics::default();
        for i in 0..1000 {
            metrics.set_phase(
                &format!("uid-{i}"),
                Some(if i % 2 == 0 { "Ready" } else { "Failed" }),
            );
        }
        assert_eq!(metrics.objects_tracked(), 1000);
        // Only the first ten are still watched.
        let live: Vec<String> = (0..10).map(|i| format!("uid-{i}")).collect();
        metrics.retain_phases(|uid| live.iter().any(|l| l == uid));
        assert_eq!(metrics.objects_tracked(), 10);
        let text = metrics.encode();
        assert!(
            text.contains("eks_operator_objects{phase=\"Ready\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("eks_operator_objects{phase=\"Failed\"} 5\n"),
            "{text}"
        );
        // The gauge has one series per phase, never one per object.
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("eks_operator_objects{"))
                .count(),
            2
        );
    }

    #[tokio::test]
    async fn aws_calls_made_through_an_observed_context_are_counted_by_outcome() {
        let fake = eks_aws::fake::FakeAws::new(eks_aws::fake::FakeConfig::default());
        fake.instrument().inject(
            eks_aws::instrument::FaultRule::on("DescribeVpcs", eks_aws::instrument::Fault::Throttle).times(1),
        );
        let metrics = std::sync::Arc::new(Metrics::default());
        let ctx = fake.context().with_observer(metrics.clone());
        let region = eks_api::RegionName::parse("eu-west-1").unwrap();
        let clients = ctx.clients(&region, None).await.unwrap();
        assert!(clients.ec2.describe_vpcs(&[]).await.is_err());
        clients.ec2.describe_vpcs(&[]).await.unwrap();
        clients.ec2.describe_vpcs(&[]).await.unwrap();
        let text = metrics.encode();
        let line = |outcome: &str| {
            format!(
                "eks_operator_aws_calls_total{{service=\"ec2\",operation=\"DescribeVpcs\",outcome=\"{outcome}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 2\n", line("Success"))), "{text}");
        assert!(text.contains(&format!("{} 1\n", line("Throttled"))), "{text}");
    }
}
