//! The SDK retry classifier of calls whose lost response is ambiguous ([`Lost::Ambiguous`]: creates without a
//! respected client token).
//!
//! Such a call may have taken effect when no answer came (a timeout, a reset connection, a 5xx), so the SDK
//! must not send it again: the next pass finds what it made by tag. A call AWS refused before running it
//! (throttling and the like) made nothing and is always safe to send again, so those are retried with the
//! SDK's standard backoff and attempt budget, like every other call.
//!
//! [`Lost::Ambiguous`]: crate::declare::Lost::Ambiguous

use std::fmt;
use std::marker::PhantomData;

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes with which AWS refuses a request before running it (throttling, a previous request still in
/// progress): sending it again is safe.
pub const REFUSED_CODES: [&str; 11] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "BandwidthLimitExceeded",
];

/// Retries what AWS refused (see [`REFUSED_CODES`], and HTTP 429), forbids every other retry. It runs after
/// the SDK's own classifiers and overrides them, so 5xx answers, timeouts and connection failures are not
/// retried.
pub struct RefusedOnly<E> {
    _error: PhantomData<fn() -> E>,
}

impl<E> RefusedOnly<E> {
    /// The classifier for an operation whose error type is `E`.
    pub fn new() -> Self {
        Self { _error: PhantomData }
    }
}

impl<E> Default for RefusedOnly<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for RefusedOnly<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefusedOnly")
    }
}

impl<E> ClassifyRetry for RefusedOnly<E>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let error = match ctx.output_or_error() {
            Some(Err(error)) => error,
            Some(Ok(_)) | None => return RetryAction::NoActionIndicated,
        };
        let code = OrchestratorError::as_operation_error(error)
            .and_then(|e| e.downcast_ref::<E>())
            .and_then(|e| e.code());
        let status = ctx.response().map(|r| r.status().as_u16());
        if code.is_some_and(|c| REFUSED_CODES.contains(&c)) || status == Some(429) {
            RetryAction::throttling_error()
        } else {
            RetryAction::RetryForbidden
        }
    }

    fn name(&self) -> &'static str {
        "retry only what AWS refused"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
