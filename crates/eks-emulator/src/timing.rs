//! How long each EKS state transition takes under `--timing`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The pace of state transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum Timing {
    /// Every transition completes at once (the next read sees the final state).
    Instant,
    /// Seconds: for tests and the local mode.
    Fast,
    /// AWS's order of magnitude (cluster create ~10 min, node group ~3 min, version update ~10 min).
    Realistic,
}

/// A kind of transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `CREATING` → `ACTIVE` of a cluster.
    ClusterCreate,
    /// `DELETING` → gone of a cluster.
    ClusterDelete,
    /// A cluster configuration update (endpoint access, logging, access config, ...).
    ClusterConfig,
    /// A Kubernetes version update of the control plane.
    ClusterVersion,
    /// `CREATING` → `ACTIVE` of a node group.
    NodegroupCreate,
    /// `DELETING` → gone of a node group.
    NodegroupDelete,
    /// A node group configuration or version update.
    NodegroupUpdate,
    /// Creation, update or deletion of an add-on.
    Addon,
    /// An Auto Scaling instance refresh, start to end.
    InstanceRefresh,
}

impl Timing {
    /// The duration of `phase`, multiplied by `scale`.
    pub fn duration(self, phase: Phase, scale: f64) -> Duration {
        let seconds = match self {
            Timing::Instant => return Duration::ZERO,
            Timing::Fast => match phase {
                Phase::ClusterCreate => 2.0,
                Phase::ClusterDelete | Phase::NodegroupDelete | Phase::Addon => 1.0,
                Phase::ClusterConfig | Phase::NodegroupCreate | Phase::NodegroupUpdate => 1.5,
                Phase::ClusterVersion | Phase::InstanceRefresh => 2.0,
            },
            Timing::Realistic => match phase {
                Phase::ClusterCreate | Phase::ClusterVersion => 600.0,
                Phase::ClusterDelete => 300.0,
                Phase::ClusterConfig => 120.0,
                Phase::NodegroupCreate | Phase::NodegroupDelete => 180.0,
                Phase::NodegroupUpdate | Phase::InstanceRefresh => 600.0,
                Phase::Addon => 60.0,
            },
        };
        Duration::from_secs_f64((seconds * scale).max(0.0))
    }
}

/// Milliseconds since the Unix epoch (wall clock, so persisted deadlines survive a restart).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_is_zero_and_scale_multiplies() {
        assert_eq!(
            Timing::Instant.duration(Phase::ClusterCreate, 1.0),
            Duration::ZERO
        );
        assert_eq!(
            Timing::Realistic.duration(Phase::ClusterCreate, 0.01),
            Duration::from_secs(6)
        );
        assert!(Timing::Fast.duration(Phase::ClusterCreate, 1.0) < Duration::from_secs(10));
    }
}
