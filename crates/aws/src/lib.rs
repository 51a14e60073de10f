//! The AWS layer of eks-operator.
//!
//! * [`api`]: one narrow trait per AWS service ([`Ec2Api`], [`IamApi`], [`EksApi`], [`StsApi`]) with only the
//!   calls the operator makes, taking and returning the domain types of [`types`].
//! * [`sdk`]: those traits on the AWS SDK clients; [`context`]: clients per region from one shared
//!   `SdkConfig`, assumed roles per EksCluster, the caller's identity.
//! * [`declare`]: what each AWS operation is ([`declare::Op`]), declared once next to its trait method; the
//!   [`declare::Layered`] client every provider hands out applies each call's "already so" answers.
//! * [`instrument`]: the per-call observer the controller's metrics use; with the `testing` feature also the
//!   instrument that counts calls and injects faults.
//! * [`iam_policy`]: the operator's IAM policy, built from the declarations.
//! * [`engine`]: builds, repairs and tears down one region's stack from an `eks_plan::RegionPlan`.
//! * [`moto`]: starts a local `moto_server` (the local mode `eks-operator dev` and the tests use it).
//! * `fake` (`testing` feature only): an in-memory implementation with state machines, latency, fault
//!   injection and call counting, for tests and benchmarks.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod context;
pub mod declare;
pub mod engine;
pub mod error;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod iam_policy;
pub mod instrument;
pub mod moto;
pub mod sdk;
pub mod types;

pub use api::{Ec2Api, EksApi, IamApi, StsApi};
pub use context::{AwsContext, ClientProvider, EngineOptions, RegionClients, SdkProvider};
pub use engine::{
    RecordedRegion, RegionPhase, RegionReport, TeardownReport, TeardownRequest, ensure_region,
    ensure_regions, teardown_region, teardown_regions,
};
pub use error::{AwsError, AwsResult, ErrorDetail, Retry};
