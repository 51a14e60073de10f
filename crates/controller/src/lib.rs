//! The controller of eks-operator.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aws_infra;
pub mod conditions;
pub mod context;
pub mod error;
pub mod generated;
pub mod http;
pub mod infra;
pub mod metrics;
pub mod rbac;
pub mod reconcile;
pub mod recorder;
pub mod runner;
pub mod status;
pub mod workload;
