//! Errors of a reconcile, each with a stable short name used as event reason and metric label.

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the management cluster's API server failed.
    #[error("Kubernetes API call failed: {0}")]
    Kube(#[from] kube::Error),
    /// Adding or removing the finalizer failed.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// A region's pass failed; its status holds the details.
    #[error("region {region}: {message}")]
    Region {
        /// The region.
        region: String,
        /// The AWS layer's stable reason.
        reason: String,
        /// The message.
        message: String,
        /// When to try again, decided with the pass's progress (see [`crate::context::Backoff::after`]).
        retry_in: std::time::Duration,
    },
    /// Applying `kube-system/aws-auth` into a region's workload cluster failed (`spec.awsAuth.manage`). The
    /// AWS side may be fine; the region's `lastError` and the `Degraded` condition say what went wrong.
    #[error("region {region}: applying kube-system/aws-auth in {cluster}: {source}")]
    AwsAuthApply {
        /// The region.
        region: String,
        /// The EKS cluster.
        cluster: String,
        /// What failed.
        #[source]
        source: crate::workload::WorkloadError,
    },
    /// Teardown is still under way. Not a failure: kube's finalizer helper removes the finalizer when cleanup
    /// returns `Ok`, so an unfinished cleanup reports this and is looked at again after `after`.
    #[error("teardown in progress: {remaining}")]
    TeardownInProgress {
        /// What is left.
        remaining: String,
        /// When to look again.
        after: std::time::Duration,
    },
    /// The object lacks a field the API server always sets (name, namespace, uid).
    #[error("object has no {0}")]
    MissingField(&'static str),
    /// A generated object could not be rendered.
    #[error("rendering {what}: {message}")]
    Render {
        /// Which object.
        what: &'static str,
        /// Why.
        message: String,
    },
}

impl Error {
    /// Stable short name for events and metrics.
    pub fn reason(&self) -> String {
        match self {
            Self::Kube(_) => "KubeApiError".to_owned(),
            Self::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e)
                | kube::runtime::finalizer::Error::CleanupFailed(e) => e.reason(),
                _ => "FinalizerError".to_owned(),
            },
            Self::Region { reason, .. } => reason.clone(),
            Self::AwsAuthApply { .. } => "AwsAuthApplyFailed".to_owned(),
            Self::TeardownInProgress { .. } => "TeardownInProgress".to_owned(),
            Self::MissingField(_) => "MissingField".to_owned(),
            Self::Render { .. } => "RenderFailed".to_owned(),
        }
    }
}

/// Result of controller operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
