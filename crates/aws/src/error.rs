//! Typed AWS errors with a stable short name per variant and a retry classification.
//!
//! Every SDK error is turned into an [`AwsError`] at the trait boundary, so the engine, the controller and the
//! fake speak one error language. Messages carry the operation, the AWS error code and AWS's message, never
//! credentials (the SDK does not put them into errors, and we add nothing but codes and messages).

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What went wrong in one AWS call: the operation, AWS's error code and AWS's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The API operation (`CreateVpc`, `DescribeCluster`, ...).
    pub operation: &'static str,
    /// AWS's error code (`DependencyViolation`, `Throttling`, ...) or a transport-level name.
    pub code: String,
    /// AWS's message.
    pub message: String,
}

impl ErrorDetail {
    /// A detail from its parts.
    pub fn new(operation: &'static str, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            operation,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}: {}", self.operation, self.code, self.message)
    }
}

/// Whether a failed call is worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, server errors, eventual consistency, work in progress: try again after a backoff.
    Backoff,
    /// Bad requests, limits, permissions, credentials: a person has to act.
    Terminal,
}

/// A failed AWS call, classified.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// AWS throttled the call (`Throttling`, `RequestLimitExceeded`, `TooManyRequestsException`).
    #[error("throttled: {0}")]
    Throttled(ErrorDetail),
    /// AWS answered with a server error (5xx, `InternalError`, `ServiceUnavailable`).
    #[error("AWS server error: {0}")]
    Server(ErrorDetail),
    /// No answer arrived (timeout, connection failure); the call may or may not have been applied.
    #[error("no response from AWS: {0}")]
    Transport(ErrorDetail),
    /// The resource still has dependants (`DependencyViolation`, `DeleteConflict`).
    #[error("dependency violation: {0}")]
    DependencyViolation(ErrorDetail),
    /// The resource does not exist (or not yet: EC2 and IAM are eventually consistent).
    #[error("not found: {0}")]
    NotFound(ErrorDetail),
    /// The resource already exists (`EntityAlreadyExists`, `InvalidPermission.Duplicate`, ...).
    #[error("already exists: {0}")]
    AlreadyExists(ErrorDetail),
    /// The resource is busy (`ResourceInUseException`, `IncorrectState`): another operation runs on it.
    #[error("resource busy: {0}")]
    Conflict(ErrorDetail),
    /// The caller may not make this call (`AccessDenied`, `UnauthorizedOperation`).
    #[error("access denied: {0}")]
    AccessDenied(ErrorDetail),
    /// An account or service quota is reached (`VpcLimitExceeded`, `LimitExceeded`, ...).
    #[error("limit exceeded: {0}")]
    LimitExceeded(ErrorDetail),
    /// The request is invalid (`InvalidParameterValue`, `InvalidParameterException`, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(ErrorDetail),
    /// IAM has not yet propagated a new role (EKS: "role ... cannot be assumed").
    #[error("IAM role not propagated yet: {0}")]
    IamPropagation(ErrorDetail),
    /// Credentials are missing, invalid or expired.
    #[error("AWS credentials: {0}")]
    Credentials(String),
}

impl AwsError {
    /// Stable short name, used as event reason and metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Throttled(_) => "Throttled",
            Self::Server(_) => "AwsServerError",
            Self::Transport(_) => "AwsUnreachable",
            Self::DependencyViolation(_) => "DependencyViolation",
            Self::NotFound(_) => "NotFound",
            Self::AlreadyExists(_) => "AlreadyExists",
            Self::Conflict(_) => "ResourceBusy",
            Self::AccessDenied(_) => "AccessDenied",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::IamPropagation(_) => "IamPropagation",
            Self::Credentials(_) => "Credentials",
        }
    }

    /// How to react to the error.
    pub fn retry(&self) -> Retry {
        match self {
            Self::Throttled(_)
            | Self::Server(_)
            | Self::Transport(_)
            | Self::DependencyViolation(_)
            | Self::NotFound(_)
            | Self::AlreadyExists(_)
            | Self::Conflict(_)
            | Self::IamPropagation(_) => Retry::Backoff,
            Self::AccessDenied(_)
            | Self::LimitExceeded(_)
            | Self::InvalidRequest(_)
            | Self::Credentials(_) => Retry::Terminal,
        }
    }

    /// True when retrying after a backoff may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retry() == Retry::Backoff
    }

    /// The detail of the failed call, when there is one.
    pub fn detail(&self) -> Option<&ErrorDetail> {
        match self {
            Self::Throttled(d)
            | Self::Server(d)
            | Self::Transport(d)
            | Self::DependencyViolation(d)
            | Self::NotFound(d)
            | Self::AlreadyExists(d)
            | Self::Conflict(d)
            | Self::AccessDenied(d)
            | Self::LimitExceeded(d)
            | Self::InvalidRequest(d)
            | Self::IamPropagation(d) => Some(d),
            Self::Credentials(_) => None,
        }
    }

    /// AWS's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        self.detail().map(|d| d.code.as_str())
    }

    /// True for [`AwsError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    /// True for [`AwsError::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Self::AlreadyExists(_))
    }

    /// Classifies an AWS error code and message (the HTTP status helps for codes we do not know).
    pub fn from_code(operation: &'static str, code: &str, message: &str, status: Option<u16>) -> Self {
        let detail = ErrorDetail::new(operation, code, message);
        let lower = message.to_ascii_lowercase();
        match code {
            "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException" => Self::Throttled(detail),
            "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServerException"
            | "ServiceFailure"
            | "Unavailable" => Self::Server(detail),
            "DependencyViolation" | "DeleteConflict" => Self::DependencyViolation(detail),
            "EntityAlreadyExists"
            | "InvalidPermission.Duplicate"
            | "RouteAlreadyExists"
            | "InvalidGroup.Duplicate"
            | "Resource.AlreadyAssociated"
            | "ResourceAlreadyExistsException" => Self::AlreadyExists(detail),
            "ResourceInUseException"
            | "IncorrectState"
            | "IncorrectInstanceState"
            | "InvalidStateTransition"
            | "ConcurrentModification"
            | "ConcurrentModificationException" => Self::Conflict(detail),
            "UnauthorizedOperation"
            | "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedException"
            | "OptInRequired" => Self::AccessDenied(detail),
            "AuthFailure"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "UnrecognizedClientException"
            | "InvalidAccessKeyId" => Self::Credentials(format!("{detail}")),
            "InvalidParameterException" | "InvalidRequestException"
                if lower.contains("role") && (lower.contains("assume") || lower.contains("trust")) =>
            {
                Self::IamPropagation(detail)
            }
            c if c.contains("NotFound") || c == "NoSuchEntity" => Self::NotFound(detail),
            c if c.contains("LimitExceeded") || c == "ServiceQuotaExceededException" => {
                Self::LimitExceeded(detail)
            }
            _ if status.is_some_and(|s| s >= 500) => Self::Server(detail),
            _ if status == Some(429) => Self::Throttled(detail),
            _ if status == Some(403) => Self::AccessDenied(detail),
            _ if status == Some(404) && code.is_empty() => Self::InvalidRequest(ErrorDetail::new(
                operation,
                "NotImplemented",
                "the endpoint does not implement this operation",
            )),
            _ => Self::InvalidRequest(detail),
        }
    }

    /// Classifies an SDK error of `operation`.
    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let err = service.err();
                let code = err.code().unwrap_or_default();
                let message = err.message().unwrap_or_default();
                if code.is_empty() && message.is_empty() {
                    let code = format!("Http{status}");
                    return Self::from_code(
                        operation,
                        &code,
                        "no error details in the response",
                        Some(status),
                    );
                }
                Self::from_code(operation, code, message, Some(status))
            }
            SdkError::TimeoutError(_) => Self::Transport(ErrorDetail::new(
                operation,
                "Timeout",
                "the call timed out; it may have been applied",
            )),
            SdkError::ResponseError(_) => {
                let status = match &error {
                    SdkError::ResponseError(r) => Some(r.raw().status().as_u16()),
                    _ => None,
                };
                let message = DisplayErrorContext(&error).to_string();
                match status {
                    Some(s) if s >= 500 => {
                        Self::Server(ErrorDetail::new(operation, format!("Http{s}"), message))
                    }
                    Some(404) => Self::InvalidRequest(ErrorDetail::new(
                        operation,
                        "NotImplemented",
                        "the endpoint answered 404: it does not implement this operation",
                    )),
                    _ => Self::Transport(ErrorDetail::new(operation, "ResponseError", message)),
                }
            }
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
                let message = DisplayErrorContext(&error).to_string();
                if message.to_ascii_lowercase().contains("credential") {
                    Self::Credentials(format!("{operation}: {message}"))
                } else {
                    Self::Transport(ErrorDetail::new(operation, "DispatchFailure", message))
                }
            }
            _ => Self::Transport(ErrorDetail::new(
                operation,
                "Unknown",
                DisplayErrorContext(&error).to_string(),
            )),
        }
    }
}

/// The result of an AWS call.
pub type AwsResult<T> = Result<T, AwsError>;

/// Turns `NotFound` into `Ok(None)`.
pub fn optional<T>(result: AwsResult<T>) -> AwsResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns `NotFound` into success: deleting what is gone is done.
pub fn gone_is_done(result: AwsResult<()>) -> AwsResult<()> {
    optional(result).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        let c = |code, msg| AwsError::from_code("Op", code, msg, Some(400));
        assert_eq!(c("Throttling", "x").reason(), "Throttled");
        assert_eq!(c("RequestLimitExceeded", "x").reason(), "Throttled");
        assert_eq!(c("DependencyViolation", "x").reason(), "DependencyViolation");
        assert_eq!(c("InvalidVpcID.NotFound", "x").reason(), "NotFound");
        assert_eq!(c("NoSuchEntity", "x").reason(), "NotFound");
        assert_eq!(c("ResourceNotFoundException", "x").reason(), "NotFound");
        assert_eq!(c("VpcLimitExceeded", "x").reason(), "LimitExceeded");
        assert_eq!(c("UnauthorizedOperation", "x").reason(), "AccessDenied");
        assert_eq!(c("AuthFailure", "x").reason(), "Credentials");
        assert_eq!(c("InvalidParameterValue", "x").reason(), "InvalidRequest");
        let iam = c(
            "InvalidParameterException",
            "Role with arn: arn:aws:iam::1:role/r, could not be assumed because it does not exist",
        );
        assert_eq!(iam.reason(), "IamPropagation");
        assert!(iam.is_retryable());
        assert_eq!(
            AwsError::from_code("Op", "Whatever", "x", Some(503)).reason(),
            "AwsServerError"
        );
    }

    #[test]
    fn retry_classification() {
        let c = |code| AwsError::from_code("Op", code, "m", Some(400)).retry();
        assert_eq!(c("Throttling"), Retry::Backoff);
        assert_eq!(c("InternalError"), Retry::Backoff);
        assert_eq!(c("InvalidParameterValue"), Retry::Terminal);
        assert_eq!(c("AddressLimitExceeded"), Retry::Terminal);
        assert_eq!(c("AccessDenied"), Retry::Terminal);
    }

    #[test]
    fn messages_name_operation_and_code() {
        let e = AwsError::from_code(
            "CreateVpc",
            "VpcLimitExceeded",
            "The maximum number of VPCs has been reached.",
            None,
        );
        assert_eq!(
            e.to_string(),
            "limit exceeded: CreateVpc failed: VpcLimitExceeded: The maximum number of VPCs has been reached."
        );
    }
}
