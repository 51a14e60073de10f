//! The test instrument: counts calls (per service and operation, reads versus mutations), adds latency,
//! injects faults, and can "kill" the engine after the k-th mutation. Compiled only for tests and benchmarks
//! (`testing` feature); the fake is built on it and the moto tests wrap the SDK clients with it.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{LayeredProvider, layer_clients};
use crate::context::RegionClients;
use crate::declare::{Call, CallLayer, Op, Service};
use crate::error::{AwsError, AwsResult, ErrorDetail};

/// A fault to inject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer `Throttling` without calling through.
    Throttle,
    /// Answer a 500 `InternalError` without calling through.
    ServerError,
    /// Answer `DependencyViolation` without calling through.
    DependencyViolation,
    /// Answer EKS's "role cannot be assumed" without calling through.
    IamPropagation,
    /// Call through (the change is applied), then answer a 500 as if the response was lost.
    LostResponse,
}

impl Fault {
    fn error(&self, op: Op) -> AwsError {
        let d = |code: &str, message: &str| ErrorDetail::new(op.name, code, message);
        match self {
            Self::Throttle => AwsError::Throttled(d("Throttling", "Rate exceeded (injected)")),
            Self::ServerError => AwsError::Server(d("InternalError", "internal error (injected)")),
            Self::DependencyViolation => AwsError::DependencyViolation(d(
                "DependencyViolation",
                "the resource has a dependent object (injected)",
            )),
            Self::IamPropagation => AwsError::IamPropagation(d(
                "InvalidParameterException",
                "Role could not be assumed because it does not exist or the trusted entity is not right (injected)",
            )),
            Self::LostResponse => AwsError::Server(d(
                "InternalError",
                "the response was lost after the request was applied (injected)",
            )),
        }
    }
}

/// When and where a fault is injected.
#[derive(Clone, Debug)]
pub struct FaultRule {
    /// Only calls of this service (any when `None`).
    pub service: Option<Service>,
    /// Only this operation (any when `None`).
    pub operation: Option<&'static str>,
    /// Only mutating calls.
    pub mutating_only: bool,
    /// Fire on every `every`-th matching call (1 = each).
    pub every: u64,
    /// Fire at most this many times (`None` = forever).
    pub times: Option<u64>,
    /// The fault.
    pub fault: Fault,
    matched: u64,
    fired: u64,
}

impl FaultRule {
    /// A rule firing on each call of `operation` (any service), forever.
    pub fn on(operation: &'static str, fault: Fault) -> Self {
        Self {
            service: None,
            operation: Some(operation),
            mutating_only: false,
            every: 1,
            times: None,
            fault,
            matched: 0,
            fired: 0,
        }
    }

    /// A rule firing on every `every`-th call of any operation (mutations only when `mutating_only`).
    pub fn every(every: u64, mutating_only: bool, fault: Fault) -> Self {
        Self {
            service: None,
            operation: None,
            mutating_only,
            every: every.max(1),
            times: None,
            fault,
            matched: 0,
            fired: 0,
        }
    }

    /// Fires at most `times` times.
    pub fn times(mut self, times: u64) -> Self {
        self.times = Some(times);
        self
    }

    fn matches(&mut self, op: Op) -> bool {
        if self.service.is_some_and(|s| s != op.service)
            || self.operation.is_some_and(|o| o != op.name)
            || (self.mutating_only && !op.mutating)
            || self.times.is_some_and(|t| self.fired >= t)
        {
            return false;
        }
        self.matched += 1;
        if self.matched.is_multiple_of(self.every) {
            self.fired += 1;
            true
        } else {
            false
        }
    }
}

/// Counts of calls made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Read calls.
    pub reads: u64,
    /// Mutating calls.
    pub mutations: u64,
    /// Calls per `service:Operation`.
    pub by_operation: BTreeMap<String, u64>,
}

impl CallStats {
    /// Every call.
    pub fn total(&self) -> u64 {
        self.reads + self.mutations
    }

    /// The mutating operations that were called, for messages.
    pub fn summary(&self) -> String {
        self.by_operation
            .iter()
            .map(|(op, n)| format!("{op}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The shared counters and fault plan of a set of instrumented clients.
#[derive(Default)]
pub struct Instrument {
    stats: Mutex<CallStats>,
    faults: Mutex<Vec<FaultRule>>,
    latency_micros: AtomicU64,
    mutations_attempted: AtomicU64,
    stop_after: AtomicU64,
}

impl std::fmt::Debug for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrument")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Instrument {
    /// A new instrument with no faults and no latency.
    pub fn new() -> Arc<Self> {
        let instrument = Self::default();
        instrument.stop_after.store(u64::MAX, Ordering::SeqCst);
        Arc::new(instrument)
    }

    /// The counts so far.
    pub fn stats(&self) -> CallStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sets the counts back to zero.
    pub fn reset_stats(&self) {
        if let Ok(mut s) = self.stats.lock() {
            *s = CallStats::default();
        }
    }

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        if let Ok(mut f) = self.faults.lock() {
            f.push(rule);
        }
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        if let Ok(mut f) = self.faults.lock() {
            f.clear();
        }
    }

    /// Adds this latency to every call.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_micros.store(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// After the `k`-th mutating call, every further call fails (as if the process had died).
    pub fn stop_after_mutations(&self, k: u64) {
        self.mutations_attempted.store(0, Ordering::SeqCst);
        self.stop_after.store(k, Ordering::SeqCst);
    }

    /// Lets calls through again after [`Self::stop_after_mutations`].
    pub fn resume(&self) {
        self.stop_after.store(u64::MAX, Ordering::SeqCst);
    }

    /// True once the mutation budget of [`Self::stop_after_mutations`] is spent.
    pub fn stopped(&self) -> bool {
        self.mutations_attempted.load(Ordering::SeqCst) >= self.stop_after.load(Ordering::SeqCst)
    }

    /// Runs one call through the instrument: latency, the stop after k mutations, counting, faults.
    pub async fn run<T, F>(&self, op: Op, call: F) -> AwsResult<T>
    where
        F: Future<Output = AwsResult<T>>,
    {
        let latency = self.latency_micros.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_micros(latency)).await;
        }
        if self.stopped() {
            return Err(AwsError::Transport(ErrorDetail::new(
                op.name,
                "Stopped",
                "the engine was stopped (test)",
            )));
        }
        if let Ok(mut s) = self.stats.lock() {
            if op.mutating {
                s.mutations += 1;
            } else {
                s.reads += 1;
            }
            *s.by_operation
                .entry(format!("{}:{}", op.service.as_str(), op.name))
                .or_insert(0) += 1;
        }
        if op.mutating {
            self.mutations_attempted.fetch_add(1, Ordering::SeqCst);
        }
        let fault = self.faults.lock().ok().and_then(|mut rules| {
            rules
                .iter_mut()
                .find_map(|r| r.matches(op).then(|| r.fault.clone()))
        });
        match fault {
            Some(Fault::LostResponse) if op.mutating => {
                let _applied = call.await;
                Err(Fault::LostResponse.error(op))
            }
            Some(Fault::LostResponse) | None => call.await,
            Some(other) => Err(other.error(op)),
        }
    }
}

impl CallLayer for Arc<Instrument> {
    fn call<'a, T: Send + 'a>(&'a self, op: &'static Op, call: Call<'a, T>) -> Call<'a, T> {
        Box::pin(self.run(*op, call))
    }
}

/// A [`ClientProvider`] whose clients all go through one [`Instrument`].
pub type InstrumentedProvider = LayeredProvider<Arc<Instrument>>;

/// Wraps each client of `clients` with `instrument`.
pub fn instrument_clients(clients: RegionClients, instrument: &Arc<Instrument>) -> RegionClients {
    layer_clients(clients, instrument.clone())
}
