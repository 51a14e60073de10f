//! The `EksCluster` custom resource (`eksoperator.io/v1alpha1`): types, defaults and validation.
//!
//! This crate does no I/O. It is the first layer of the operator: the plan crate turns a
//! [`ValidatedCluster`] into the desired AWS resources of each region.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod crd;
pub mod names;
pub mod network;
pub mod parse;
pub mod patterns;
pub mod reference;
mod schema;
pub mod spec;
pub mod status;
pub mod validate;
pub mod validate_access;
pub mod validate_network;

pub use access::{
    AccessEntrySpec, AccessEntryType, AccessPolicySpec, AccessScope, AccessScopeType, AccessSpec,
    AuthenticationMode, RegionAccessOverride,
};
pub use names::{ClusterId, RegionName};
pub use network::{NatGateways, NetworkOverride, NetworkSpec, SubnetLayout, Topology, ZoneSelection};
pub use spec::{
    AwsAuthSpec, CapacityType, CredentialsSpec, DeletionPolicy, EksCluster, EksClusterSpec, EndpointSpec,
    LogType, MapRole, MapUser, NodeGroupSpec, RegionOverride, SubnetTier, Taint, TaintEffect,
};
pub use status::{
    AccessEntryStatus, AssociatedPolicyStatus, EksClusterStatus, NodeGroupStatus, Phase, RegionStatus,
};
pub use validate::{FieldError, RegionConfig, ValidatedCluster, ValidationError, validate};
pub use validate_access::validate_mode_transition;
pub use validate_network::ResolvedNetwork;
