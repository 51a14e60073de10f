//! The region engine: one pass of `ensure` or `teardown` over one region, never blocking on AWS.
//!
//! A pass observes with a few batched Describe calls filtered by the owner-uid tag, compares with the
//! [`eks_plan::RegionPlan`], creates or repairs only what differs, and returns a [`RegionReport`] naming what
//! is still in progress; the caller records it in status and requeues. One module per resource family:
//! [`network`], [`security_groups`], [`iam`], [`cluster`], [`nodegroups`], [`oidc`], each with `ensure` and
//! `teardown` (observation is part of each); `access` (authentication mode and access entries) only ensures:
//! the entries go with the cluster.

mod access;
pub mod cluster;
mod errors;
pub mod iam;
pub mod network;
pub mod nodegroups;
pub mod oidc;
mod pass;
mod region;
mod report;
pub mod security_groups;
mod teardown;

pub use errors::EngineError;
pub use pass::{Action, Verb};
pub use region::{ensure_region, ensure_regions, select_zones};
pub use report::{NodegroupState, Progress, RecordedRegion, RegionIds, RegionPhase, RegionReport};
pub use teardown::{TeardownReport, TeardownRequest, teardown_region, teardown_regions};
