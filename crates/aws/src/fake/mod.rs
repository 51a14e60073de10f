//! An in-memory AWS for tests and benchmarks, always compiled (the controller's tests and fleet benchmark
//! use it too).
//!
//! It implements the same traits as the SDK with realistic state machines: EKS clusters and node groups go
//! `CREATING` → `ACTIVE` after [`FakeConfig::settle_after`] observations, `UPDATING` → `ACTIVE`,
//! `DELETING` → gone; NAT gateways `pending` → `available`, `deleting` → `deleted`. Deleting what still has
//! dependants answers `DependencyViolation`. Every client goes through one [`Instrument`], which counts calls
//! per service and operation, adds latency and injects faults (throttling, 500s, `DependencyViolation`, IAM
//! propagation errors, lost responses). Resources are indexed by their owner-uid tag, so Describe calls
//! filtered on it stay cheap with thousands of objects.

mod ec2;
mod eks;
mod eks_access;
mod iam;
mod store;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use eks_api::{CredentialsSpec, RegionName};

use crate::api::StsApi;
use crate::context::{AwsContext, ClientProvider, EngineOptions, RegionClients};
use crate::error::AwsResult;
use crate::instrument::{Instrument, instrument_clients};
use crate::types::CallerIdentity;

pub use store::FakeState;

/// Settings of the fake.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Observations (Describe calls) before a CREATING/UPDATING/DELETING or pending/deleting resource settles.
    pub settle_after: u32,
    /// The account id.
    pub account: String,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            settle_after: 2,
            account: "123456789012".into(),
        }
    }
}

/// The fake AWS: shared state, one instrument, clients per region.
#[derive(Clone)]
pub struct FakeAws {
    state: Arc<Mutex<FakeState>>,
    instrument: Arc<Instrument>,
    config: FakeConfig,
}

impl FakeAws {
    /// An empty fake.
    pub fn new(config: FakeConfig) -> Self {
        Self {
            state: Arc::new(Mutex::new(FakeState::default())),
            instrument: Instrument::new(),
            config,
        }
    }

    /// The instrument every client goes through (counts, latency, faults).
    pub fn instrument(&self) -> &Arc<Instrument> {
        &self.instrument
    }

    /// A context on this fake with default engine options and no requeue delay.
    pub fn context(&self) -> AwsContext {
        AwsContext::new(Arc::new(self.clone())).with_options(EngineOptions {
            progress_requeue: std::time::Duration::from_millis(1),
        })
    }

    /// Clients of a region that bypass the instrument (for tests that look or change things out of band).
    pub fn raw_clients(&self, region: &RegionName) -> RegionClients {
        let shared = Shared {
            state: self.state.clone(),
            config: self.config.clone(),
            region: region.to_string(),
        };
        RegionClients {
            region: region.clone(),
            ec2: Arc::new(ec2::FakeEc2(shared.clone())),
            iam: Arc::new(iam::FakeIam(shared.clone())),
            eks: Arc::new(eks::FakeEks(shared.clone())),
            sts: Arc::new(FakeSts(shared)),
        }
    }

    /// Runs `f` on the state (to look at it or change it out of band).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

#[async_trait]
impl ClientProvider for FakeAws {
    async fn region_clients(
        &self,
        region: &RegionName,
        _credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients> {
        Ok(instrument_clients(self.raw_clients(region), &self.instrument))
    }
}

/// What every fake client holds.
#[derive(Clone)]
pub(crate) struct Shared {
    state: Arc<Mutex<FakeState>>,
    config: FakeConfig,
    region: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct FakeSts(Shared);

#[async_trait]
impl StsApi for FakeSts {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        Ok(CallerIdentity {
            account: self.0.config.account.clone(),
            arn: format!("arn:aws:iam::{}:user/fake", self.0.config.account),
        })
    }
}
