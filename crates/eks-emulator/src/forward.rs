//! Forwards a request to the backend unchanged (method, path, query, headers, body) and streams the answer back.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::faults::{Protocol, error_response};

/// An HTTP client on the backend.
#[derive(Clone)]
pub struct Forwarder {
    client: Client<HttpConnector, Body>,
    backend: String,
}

impl Forwarder {
    /// A forwarder to `backend` (`http://127.0.0.1:PORT`).
    pub fn new(backend: &str) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            backend: backend.trim_end_matches('/').to_owned(),
        }
    }

    /// The backend base URL.
    pub fn backend(&self) -> &str {
        &self.backend
    }

    /// Sends `request` to the backend and streams the answer back. A backend that cannot be reached answers
    /// `503 ServiceUnavailable` in the request's protocol, which SDKs retry as a transient error.
    pub async fn forward(&self, request: Request<Body>, protocol: Protocol) -> Response {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        parts.uri = match format!("{}{path}", self.backend).parse() {
            Ok(uri) => uri,
            Err(err) => {
                return error_response(
                    protocol,
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    &err.to_string(),
                );
            }
        };
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(answer) => answer.map(Body::new).into_response(),
            Err(err) => {
                tracing::warn!(error = %err, "backend unavailable");
                error_response(
                    protocol,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    &format!("the backend at {} cannot be reached: {err}", self.backend),
                )
            }
        }
    }

    /// Like [`Self::forward`] with a buffered body, returning the buffered answer (for answers the emulator
    /// augments).
    pub async fn forward_buffered(
        &self,
        parts: http::request::Parts,
        body: Bytes,
        protocol: Protocol,
    ) -> Result<(http::response::Parts, Bytes), Response> {
        let response = self
            .forward(Request::from_parts(parts, Body::from(body)), protocol)
            .await;
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => Ok((parts, bytes)),
            Err(err) => Err(error_response(
                protocol,
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                &format!("reading the backend's answer: {err}"),
            )),
        }
    }
}
