//! What runs around every AWS call: the [`CallObserver`] that the controller's metrics hang on (product), and,
//! for tests and benchmarks only (`testing` feature), the [`Instrument`] that counts calls and injects faults.

mod observer;

#[cfg(any(test, feature = "testing"))]
mod faults;

pub use crate::declare::{Op, Service};
#[cfg(any(test, feature = "testing"))]
pub use faults::{CallStats, Fault, FaultRule, Instrument, InstrumentedProvider, instrument_clients};
pub use observer::{CallObserver, LayeredProvider, Observed, SUCCESS, layer_clients};
