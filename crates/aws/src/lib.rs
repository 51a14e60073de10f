//! The AWS layer of eks-operator.
//!
//! * [`api`]: one narrow trait per AWS service ([`Ec2Api`], [`IamApi`], [`EksApi`], [`StsApi`]) with only the
//!   calls the operator makes, taking and returning the domain types of [`types`].
//! * [`sdk`]: those traits on the AWS SDK clients; [`context`]: clients per region from one shared
//!   `SdkConfig`, assumed roles per EksCluster, the caller's identity.
//! * [`fake`]: an in-memory implementation with state machines, latency, fault injection and call counting
//!   (always compiled: the controller's tests and fleet benchmark use it too).
//! * [`instrument`]: a wrapper over any implementation that counts calls and injects faults.
//! * [`engine`]: builds, repairs and tears down one region's stack from an `eks_plan::RegionPlan`.
//! * [`testing`]: a moto server harness for integration tests.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod context;
pub mod engine;
pub mod error;
pub mod fake;
pub mod iam_policy;
pub mod instrument;
pub mod sdk;
pub mod testing;
pub mod types;

pub use api::{Ec2Api, EksApi, IamApi, StsApi};
pub use context::{AwsContext, ClientProvider, EngineOptions, RegionClients, SdkProvider};
pub use engine::{
    RecordedRegion, RegionPhase, RegionReport, TeardownReport, TeardownRequest, ensure_region,
    ensure_regions, teardown_region, teardown_regions,
};
pub use error::{AwsError, AwsResult, ErrorDetail, Retry};
