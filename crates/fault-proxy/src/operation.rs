//! Which AWS call a request is, and the service's own error answers.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode, Uri};

/// One AWS call as the proxy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The SigV4 signing name (`ec2`, `iam`, `eks`, `sts`).
    pub service: String,
    /// The API operation (`CreateVpc`, `DescribeCluster`).
    pub operation: String,
    /// False for `Describe*`, `Get*` and `List*` operations.
    pub mutating: bool,
}

impl Call {
    /// `service:Operation`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// The call a request makes, or `None` when it is not a signed AWS call (moto's own API).
pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Option<Call> {
    let service = signing_service(headers)?;
    let operation = form_action(body)
        .or_else(|| target(headers))
        .or_else(|| rest_operation(&service, method, uri.path()))
        .unwrap_or_else(|| format!("{method} {}", uri.path()));
    let mutating = !["Describe", "Get", "List"]
        .iter()
        .any(|read| operation.starts_with(read));
    Some(Call {
        service,
        operation,
        mutating,
    })
}

/// The service of `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
fn signing_service(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let scope = value.split("Credential=").nth(1)?.split(',').next()?;
    scope.split('/').nth(3).map(str::to_owned)
}

/// `Action=` of a form-encoded body (EC2, IAM and STS query protocols).
fn form_action(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

/// `X-Amz-Target: Service_Version.Operation` (JSON protocols).
fn target(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amz-target")?.to_str().ok()?;
    value.rsplit('.').next().map(str::to_owned)
}

/// The EKS operations of the REST paths the operator uses.
fn rest_operation(service: &str, method: &Method, path: &str) -> Option<String> {
    if service != "eks" {
        return None;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match (method.as_str(), segments.as_slice()) {
        ("GET", ["clusters"]) => "ListClusters",
        ("POST", ["clusters"]) => "CreateCluster",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("DELETE", ["clusters", _]) => "DeleteCluster",
        ("POST", ["clusters", _, "update-config"]) => "UpdateClusterConfig",
        ("POST", ["clusters", _, "updates"]) => "UpdateClusterVersion",
        ("GET", ["clusters", _, "updates", ..]) => "DescribeUpdate",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("DELETE", ["clusters", _, "node-groups", _]) => "DeleteNodegroup",
        ("POST", ["clusters", _, "node-groups", _, "update-config"]) => "UpdateNodegroupConfig",
        ("POST", ["clusters", _, "node-groups", _, "update-version"]) => "UpdateNodegroupVersion",
        ("GET", ["tags", ..]) => "ListTagsForResource",
        ("POST", ["tags", ..]) => "TagResource",
        ("DELETE", ["tags", ..]) => "UntagResource",
        _ => return None,
    };
    Some(name.to_owned())
}

fn answer(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const REQUEST_ID: &str = "00000000-0000-4000-8000-fa0170000000";

fn ec2_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    answer(
        status,
        "text/xml;charset=UTF-8",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>\
             <Message>{message}</Message></Error></Errors><RequestID>{REQUEST_ID}</RequestID></Response>"
        ),
    )
}

fn query_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response<Full<Bytes>> {
    answer(
        status,
        "text/xml",
        format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>\
             </Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
        ),
    )
}

fn json_error(status: StatusCode, code: &'static str, message: &str) -> Response<Full<Bytes>> {
    let mut response = answer(
        status,
        "application/json",
        format!("{{\"message\":\"{message}\"}}"),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(code));
    response
}

/// The service's throttling answer: EC2 `RequestLimitExceeded` (503), IAM/STS `Throttling` (400), EKS
/// `ThrottlingException` (429).
pub(crate) fn throttling(service: &str) -> Response<Full<Bytes>> {
    match service {
        "ec2" => ec2_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestLimitExceeded",
            "Request limit exceeded. (injected by the test proxy)",
        ),
        "eks" => json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Rate exceeded (injected by the test proxy)",
        ),
        _ => query_error(
            StatusCode::BAD_REQUEST,
            "Sender",
            "Throttling",
            "Rate exceeded (injected by the test proxy)",
        ),
    }
}

/// A 500 in the service's format, standing for an answer lost after the request was applied.
pub(crate) fn lost(service: &str) -> Response<Full<Bytes>> {
    const MESSAGE: &str = "An internal error has occurred (the test proxy lost the answer)";
    match service {
        "ec2" => ec2_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", MESSAGE),
        "eks" => json_error(StatusCode::INTERNAL_SERVER_ERROR, "ServerException", MESSAGE),
        _ => query_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Receiver",
            "ServiceFailure",
            MESSAGE,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(service: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20261206/eu-west-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc"
        );
        headers.insert(hyper::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn calls_are_named_from_the_scope_and_the_body_or_path() {
        let uri: Uri = "/".parse().unwrap();
        let ec2 = classify(
            &Method::POST,
            &uri,
            &headers("ec2"),
            b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
        )
        .unwrap();
        assert_eq!((ec2.key(), ec2.mutating), ("ec2:CreateVpc".to_owned(), true));
        let iam = classify(
            &Method::POST,
            &uri,
            &headers("iam"),
            b"Version=2010-05-08&Action=GetRole&RoleName=r",
        )
        .unwrap();
        assert_eq!((iam.key(), iam.mutating), ("iam:GetRole".to_owned(), false));
        let path: Uri = "/clusters/c1/node-groups/workers".parse().unwrap();
        let eks = classify(&Method::DELETE, &path, &headers("eks"), b"").unwrap();
        assert_eq!(
            (eks.key(), eks.mutating),
            ("eks:DeleteNodegroup".to_owned(), true)
        );
        let list: Uri = "/clusters/c1/node-groups?maxResults=100".parse().unwrap();
        assert_eq!(
            classify(&Method::GET, &list, &headers("eks"), b"")
                .unwrap()
                .operation,
            "ListNodegroups"
        );
        assert_eq!(classify(&Method::POST, &uri, &HeaderMap::new(), b""), None);
    }

    #[test]
    fn throttling_answers_have_each_service_s_shape() {
        let ec2 = throttling("ec2");
        assert_eq!(ec2.status(), StatusCode::SERVICE_UNAVAILABLE);
        let eks = throttling("eks");
        assert_eq!(eks.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(eks.headers()["x-amzn-errortype"], "ThrottlingException");
        assert_eq!(throttling("iam").status(), StatusCode::BAD_REQUEST);
        assert_eq!(lost("sts").status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
