//! A fault-injecting HTTP proxy for the tests: it sits between the AWS SDK and moto (clients use
//! `AWS_ENDPOINT_URL=http://127.0.0.1:<proxy port>`) and makes AWS's ordinary weather happen on purpose:
//!
//! - **throttling**: every k-th request is answered with the service's own throttling error before moto sees
//!   it (EC2 `RequestLimitExceeded` XML with HTTP 503, IAM and STS `Throttling` XML with HTTP 400, EKS
//!   `ThrottlingException` JSON with HTTP 429 and `x-amzn-ErrorType`), so the SDK parses it as AWS's;
//! - **lost responses**: every m-th mutating request is forwarded (moto applies it), then the caller gets a
//!   500 in the service's format instead of moto's answer.
//!
//! The service is read from the SigV4 credential scope of the `Authorization` header, the operation from the
//! form body's `Action=` (EC2, IAM, STS), `X-Amz-Target`, or the REST path (EKS). Requests are counted per
//! operation, so tests can assert how many mutating calls reached AWS in a window. It listens on a free
//! 127.0.0.1 port and stops when dropped. Test machinery only: no product crate depends on it.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

mod operation;

pub use operation::{Call, classify};

/// Which faults to inject. `None` (or 0) switches a fault off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Throttle every k-th request (of any kind).
    pub throttle_every: Option<u64>,
    /// Lose the answer of every m-th mutating request that reaches moto.
    pub lose_every_mutation: Option<u64>,
}

impl Faults {
    /// No faults.
    pub const NONE: Self = Self {
        throttle_every: None,
        lose_every_mutation: None,
    };

    /// Throttle every `k`-th request and lose the answer of every `m`-th mutation.
    pub fn new(k: u64, m: u64) -> Self {
        Self {
            throttle_every: Some(k).filter(|k| *k > 0),
            lose_every_mutation: Some(m).filter(|m| *m > 0),
        }
    }
}

/// What happened to the requests of one operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationCount {
    /// Requests that reached moto (including those whose answer was lost).
    pub forwarded: u64,
    /// Requests answered with a throttling error (moto never saw them).
    pub throttled: u64,
    /// Requests moto applied whose answer was replaced by a 500.
    pub lost: u64,
}

/// Counts per `service:Operation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Per operation, in name order.
    pub by_operation: BTreeMap<String, OperationCount>,
    /// Which operations mutate.
    mutating: BTreeMap<String, bool>,
}

impl Counts {
    /// Mutating requests that reached moto.
    pub fn mutations(&self) -> u64 {
        self.sum(|op, c| self.is_mutating(op).then_some(c.forwarded))
    }

    /// Read requests that reached moto.
    pub fn reads(&self) -> u64 {
        self.sum(|op, c| (!self.is_mutating(op)).then_some(c.forwarded))
    }

    /// Requests throttled by the proxy.
    pub fn throttled(&self) -> u64 {
        self.sum(|_, c| Some(c.throttled))
    }

    /// Answers lost by the proxy.
    pub fn lost(&self) -> u64 {
        self.sum(|_, c| Some(c.lost))
    }

    /// The mutating operations that reached moto, `op=n` separated by spaces, for messages.
    pub fn mutation_summary(&self) -> String {
        self.by_operation
            .iter()
            .filter(|(op, c)| self.is_mutating(op) && c.forwarded > 0)
            .map(|(op, c)| format!("{op}={}", c.forwarded))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn is_mutating(&self, op: &str) -> bool {
        self.mutating.get(op).copied().unwrap_or(true)
    }

    fn sum(&self, f: impl Fn(&str, &OperationCount) -> Option<u64>) -> u64 {
        self.by_operation.iter().filter_map(|(op, c)| f(op, c)).sum()
    }
}

#[derive(Default)]
struct State {
    faults: Faults,
    requests: u64,
    mutations: u64,
    counts: Counts,
}

/// What the proxy does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Throttle,
    Forward { lose: bool },
}

impl State {
    fn decide(&mut self, call: &Call) -> Verdict {
        self.requests += 1;
        let key = call.key();
        self.counts.mutating.insert(key.clone(), call.mutating);
        let count = self.counts.by_operation.entry(key).or_default();
        if self
            .faults
            .throttle_every
            .is_some_and(|k| self.requests.is_multiple_of(k))
        {
            count.throttled += 1;
            return Verdict::Throttle;
        }
        count.forwarded += 1;
        let mut lose = false;
        if call.mutating {
            self.mutations += 1;
            lose = self
                .faults
                .lose_every_mutation
                .is_some_and(|m| self.mutations.is_multiple_of(m));
        }
        if lose {
            count.lost += 1;
        }
        Verdict::Forward { lose }
    }
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on a free 127.0.0.1 port in front of `upstream` (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str, faults: Faults) -> std::io::Result<Self> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .map_err(|e| std::io::Error::other(format!("upstream {upstream}: {e}")))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            faults,
            ..State::default()
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(request, upstream, &state).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state, task })
    }

    /// `http://127.0.0.1:<port>`: the endpoint to give the SDK.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults (the request counters that pace them go on).
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut state) = self.state.lock() {
            state.faults = faults;
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.state.lock().map(|s| s.counts.clone()).unwrap_or_default()
    }

    /// Forgets the counts (the counters that pace the faults go on).
    pub fn reset_counts(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.counts = Counts::default();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Answer = Response<Full<Bytes>>;

async fn handle(request: Request<Incoming>, upstream: SocketAddr, state: &Mutex<State>) -> Answer {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("reading the request: {e}")),
    };
    let call = classify(&parts.method, &parts.uri, &parts.headers, &body);
    let verdict = match &call {
        // Not an AWS call (moto's own API, such as a reset): passed through, not counted.
        None => Verdict::Forward { lose: false },
        Some(call) => match state.lock() {
            Ok(mut state) => state.decide(call),
            Err(_) => Verdict::Forward { lose: false },
        },
    };
    let service = call.as_ref().map_or("", |c| c.service.as_str());
    if verdict == Verdict::Throttle {
        return operation::throttling(service);
    }
    let answer = forward(Request::from_parts(parts, Full::new(body)), upstream).await;
    match verdict {
        Verdict::Forward { lose: true } => operation::lost(service),
        _ => answer,
    }
}

async fn forward(request: Request<Full<Bytes>>, upstream: SocketAddr) -> Answer {
    let stream = match TcpStream::connect(upstream).await {
        Ok(stream) => stream,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("connecting to {upstream}: {e}")),
    };
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
        Ok(pair) => pair,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("handshake with {upstream}: {e}")),
    };
    tokio::spawn(connection);
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("forwarding to {upstream}: {e}")),
    };
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => Response::from_parts(parts, Full::new(collected.to_bytes())),
        Err(e) => plain(
            StatusCode::BAD_GATEWAY,
            format!("reading {upstream}'s answer: {e}"),
        ),
    }
}

fn plain(status: StatusCode, message: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(message)));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(mutating: bool) -> Call {
        Call {
            service: "ec2".into(),
            operation: if mutating { "CreateVpc" } else { "DescribeVpcs" }.into(),
            mutating,
        }
    }

    #[test]
    fn every_kth_request_is_throttled_and_every_mth_forwarded_mutation_lost() {
        let mut state = State {
            faults: Faults::new(3, 2),
            ..State::default()
        };
        let verdicts: Vec<Verdict> = (0..9).map(|_| state.decide(&call(true))).collect();
        use Verdict::*;
        assert_eq!(
            verdicts,
            [
                Forward { lose: false },
                Forward { lose: true },
                Throttle,
                Forward { lose: false },
                Forward { lose: true },
                Throttle,
                Forward { lose: false },
                Forward { lose: true },
                Throttle,
            ]
        );
        // Reads are throttled but never lost.
        let mut state = State {
            faults: Faults::new(0, 1),
            ..State::default()
        };
        assert_eq!(state.decide(&call(false)), Forward { lose: false });
        assert_eq!(state.decide(&call(true)), Forward { lose: true });
        let counts = &state.counts;
        assert_eq!((counts.reads(), counts.mutations(), counts.lost()), (1, 1, 1));
        assert_eq!(counts.mutation_summary(), "ec2:CreateVpc=1");
    }
}
