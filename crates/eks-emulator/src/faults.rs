//! Injected faults: fail the next N calls of an operation with a given error code (`POST /emulator/v1/faults`).

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::eks::error::EksError;

/// One rule: the next `count` calls of `operation` fail with `error_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// The operation name (`CreateCluster`, `DescribeRouteTables`, `GetRole`, ...).
    pub operation: String,
    /// The AWS error code to answer (`ThrottlingException`, `ServerException`, `RequestLimitExceeded`, ...).
    pub error_code: String,
    /// How many calls fail (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// The HTTP status (default: 500 for server codes, 503 for unavailable, else 400).
    #[serde(default)]
    pub status: Option<u16>,
    /// The error message (default: "injected fault").
    #[serde(default)]
    pub message: Option<String>,
}

fn one() -> u32 {
    1
}

/// The wire protocol a fault answer must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// REST-JSON with `x-amzn-ErrorType` (EKS).
    RestJson,
    /// EC2's query protocol (`<Response><Errors>`).
    Ec2Query,
    /// The AWS query protocol (`<ErrorResponse>`: IAM, STS, Auto Scaling).
    AwsQuery,
    /// AWS JSON 1.1 (`__type`: SSM, KMS).
    AwsJson,
}

/// The pending fault rules.
#[derive(Debug, Default)]
pub struct Faults(Vec<FaultRule>);

impl Faults {
    /// Adds a rule.
    pub fn add(&mut self, rule: FaultRule) {
        if rule.count > 0 {
            self.0.push(rule);
        }
    }

    /// Consumes one call of the first rule for `operation`, if any.
    pub fn take(&mut self, operation: &str) -> Option<FaultRule> {
        let index = self.0.iter().position(|r| r.operation == operation)?;
        let rule = self.0[index].clone();
        self.0[index].count -= 1;
        if self.0[index].count == 0 {
            self.0.remove(index);
        }
        Some(rule)
    }
}

impl FaultRule {
    fn status(&self) -> StatusCode {
        let default = match self.error_code.as_str() {
            "ServerException" | "InternalError" | "InternalFailure" | "ServiceFailure" => 500,
            "ServiceUnavailable" | "ServiceUnavailableException" | "Unavailable" => 503,
            _ => 400,
        };
        StatusCode::from_u16(self.status.unwrap_or(default)).unwrap_or(StatusCode::BAD_REQUEST)
    }

    /// The error answer in `protocol`.
    pub fn response(&self, protocol: Protocol) -> Response {
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| "injected fault".to_owned());
        error_response(protocol, self.status(), &self.error_code, &message)
    }
}

/// An error answer with `code` and `message` in the shape of `protocol`.
pub fn error_response(protocol: Protocol, status: StatusCode, code: &str, message: &str) -> Response {
    let xml = |body: String| (status, [(http::header::CONTENT_TYPE, "text/xml")], body).into_response();
    let message = xml_escape(message);
    match protocol {
        Protocol::RestJson => EksError::raw(code, status, message).into_response(),
        Protocol::Ec2Query => xml(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
            crate::eks::model::uuid()
        )),
        Protocol::AwsQuery => {
            let kind = if status.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            };
            xml(format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                crate::eks::model::uuid()
            ))
        }
        Protocol::AwsJson => (
            status,
            [(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")],
            serde_json::json!({"__type": code, "message": message}).to_string(),
        )
            .into_response(),
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_fails_exactly_count_calls() {
        let mut faults = Faults::default();
        faults.add(FaultRule {
            operation: "CreateCluster".into(),
            error_code: "ThrottlingException".into(),
            count: 2,
            status: None,
            message: None,
        });
        assert!(faults.take("DescribeCluster").is_none());
        assert!(faults.take("CreateCluster").is_some());
        assert!(faults.take("CreateCluster").is_some());
        assert!(faults.take("CreateCluster").is_none());
    }
}
