//! EKS errors as the service sends them: an `x-amzn-ErrorType` header naming the code and a JSON body with
//! `message` (and the resource names the error shapes carry). Codes and statuses are those of the EKS API model
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/CommonErrors.html> and each operation's Errors section).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};

/// The error codes the emulator answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 404: the named cluster, node group, add-on, update or entry does not exist.
    ResourceNotFound,
    /// 409: the resource exists, or is busy (being created, updated or deleted, or has dependants).
    ResourceInUse,
    /// 400: a parameter is invalid.
    InvalidParameter,
    /// 400: the request is invalid in the resource's current state.
    InvalidRequest,
    /// 400: a service quota would be exceeded.
    ResourceLimitExceeded,
    /// 400: the caller is not authorized.
    AccessDenied,
    /// 500: the emulator or its backend failed.
    Server,
    /// 404: no operation is served at this method and path.
    UnknownOperation,
    /// 404: the tagged resource does not exist (tagging operations).
    NotFound,
    /// 400: a malformed tagging request.
    BadRequest,
}

impl ErrorCode {
    /// The code as the `x-amzn-ErrorType` header names it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ResourceInUse => "ResourceInUseException",
            ErrorCode::InvalidParameter => "InvalidParameterException",
            ErrorCode::InvalidRequest => "InvalidRequestException",
            ErrorCode::ResourceLimitExceeded => "ResourceLimitExceededException",
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::Server => "ServerException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::NotFound => "NotFoundException",
            ErrorCode::BadRequest => "BadRequestException",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorCode::ResourceNotFound | ErrorCode::UnknownOperation | ErrorCode::NotFound => {
                StatusCode::NOT_FOUND
            }
            ErrorCode::ResourceInUse => StatusCode::CONFLICT,
            ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
            ErrorCode::Server => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// One EKS error answer.
#[derive(Debug, Clone)]
pub struct EksError {
    code: String,
    status: StatusCode,
    message: String,
    fields: Map<String, Value>,
}

impl EksError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code: code.name().to_owned(),
            status: code.status(),
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// An error with any code and status (used by injected faults).
    pub fn raw(code: &str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            status,
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// Adds `clusterName` to the body.
    pub fn cluster(self, name: &str) -> Self {
        self.field("clusterName", name)
    }

    /// Adds `nodegroupName` to the body.
    pub fn nodegroup(self, name: &str) -> Self {
        self.field("nodegroupName", name)
    }

    /// Adds `addonName` to the body.
    pub fn addon(self, name: &str) -> Self {
        self.field("addonName", name)
    }

    fn field(mut self, key: &str, value: &str) -> Self {
        self.fields.insert(key.to_owned(), json!(value));
        self
    }

    /// The error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `ResourceNotFoundException` for a cluster.
    pub fn no_cluster(name: &str) -> Self {
        Self::new(
            ErrorCode::ResourceNotFound,
            format!("No cluster found for name: {name}."),
        )
        .cluster(name)
    }

    /// `InvalidParameterException` with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, message)
    }
}

impl IntoResponse for EksError {
    fn into_response(self) -> Response {
        let mut body = self.fields;
        body.insert("message".to_owned(), json!(self.message));
        let mut response = (self.status, axum::Json(Value::Object(body))).into_response();
        if let Ok(value) = self.code.parse() {
            response.headers_mut().insert("x-amzn-errortype", value);
        }
        response
    }
}

/// The result of an EKS operation.
pub type EksResult<T> = Result<T, EksError>;
