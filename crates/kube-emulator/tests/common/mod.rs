//! Helpers shared by the integration tests: raw HTTP requests (status, headers and body as the server sends
//! them) and the widget CRD fixture.
#![allow(clippy::unwrap_used, dead_code)]

pub mod kubectl;

use kube_emulator::Emulator;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The widget CRD fixture.
pub const WIDGET_CRD: &str = include_str!("../fixtures/widget-crd.yaml");

/// A raw response.
pub struct Raw {
    /// HTTP status code.
    pub code: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (Null when it is not JSON).
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl Raw {
    /// Values of one header.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Sends one HTTP/1.1 request and reads the whole answer (`Connection: close`).
pub async fn raw(
    emulator: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(emulator.addr()).await.unwrap();
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, rest) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let code = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let text = if chunked { dechunk(rest) } else { rest.to_owned() };
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Raw {
        code,
        headers,
        body,
        text,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Sends a JSON body.
pub async fn send(emulator: &Emulator, method: &str, path: &str, body: &Value) -> Raw {
    raw(emulator, method, path, &[], Some(&body.to_string())).await
}

/// GETs a path.
pub async fn get(emulator: &Emulator, path: &str) -> Raw {
    raw(emulator, "GET", path, &[], None).await
}

/// Starts an emulator with the widget CRD applied.
pub async fn with_widgets() -> Emulator {
    let emulator = Emulator::start().await.unwrap();
    emulator.apply_yaml(WIDGET_CRD).unwrap();
    emulator
}
