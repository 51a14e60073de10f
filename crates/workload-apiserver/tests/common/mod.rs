//! Test support: a moto server on a free port, the AWS CLI against it, tokens, an HTTPS client that trusts
//! the cluster CA, and kubectl with an `aws eks get-token` exec kubeconfig. Only 127.0.0.1 is contacted.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

pub const REGION: &str = "eu-west-1";

/// `moto_server` on a free port, killed on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server on PATH (scripts/install-test-tools.sh installs it)");
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Static credentials (moto accepts any).
#[derive(Clone, Debug)]
pub struct Creds {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

pub fn base_creds() -> Creds {
    Creds {
        key: "AKIDTESTING".into(),
        secret: "testing-secret".into(),
        token: None,
    }
}

fn aws_command(moto: &Moto, creds: &Creds) -> Command {
    let mut command = Command::new("aws");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", &creds.key)
        .env("AWS_SECRET_ACCESS_KEY", &creds.secret)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    if let Some(token) = &creds.token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command
}

/// Runs the AWS CLI against moto; panics on failure; returns stdout parsed as JSON (or Null).
pub fn aws(moto: &Moto, creds: &Creds, args: &[&str]) -> serde_json::Value {
    let output = aws_command(moto, creds)
        .args(args)
        .output()
        .expect("the AWS CLI (`aws`) on PATH");
    assert!(
        output.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null)
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// Creates a role (if new) and assumes it: (role ARN, session credentials).
pub fn assume_role(moto: &Moto, role: &str) -> (String, Creds) {
    let created = aws_command(moto, &base_creds())
        .args([
            "iam",
            "create-role",
            "--role-name",
            role,
            "--assume-role-policy-document",
            TRUST,
        ])
        .output()
        .unwrap();
    let arn = if created.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
        v["Role"]["Arn"].as_str().unwrap().to_owned()
    } else {
        aws(moto, &base_creds(), &["iam", "get-role", "--role-name", role])["Role"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let assumed = aws(
        moto,
        &base_creds(),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &arn,
            "--role-session-name",
            "tester",
        ],
    );
    let c = &assumed["Credentials"];
    (
        arn,
        Creds {
            key: c["AccessKeyId"].as_str().unwrap().into(),
            secret: c["SecretAccessKey"].as_str().unwrap().into(),
            token: c["SessionToken"].as_str().map(str::to_owned),
        },
    )
}

/// A token from the real AWS CLI (`aws eks get-token`).
pub fn cli_token(moto: &Moto, creds: &Creds, cluster: &str) -> String {
    let v = aws(moto, creds, &["eks", "get-token", "--cluster-name", cluster]);
    v["status"]["token"].as_str().unwrap().to_owned()
}

/// A token presigned with the AWS SDK's SigV4 signer (as the operator makes them), for `host` at `time`.
pub fn sdk_token(creds: &Creds, cluster: &str, host: &str, time: SystemTime) -> String {
    let identity: Identity =
        Credentials::new(&creds.key, &creds.secret, creds.token.clone(), None, "test").into();
    let scheme = if host.starts_with("127.0.0.1") {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers = [("host", host), ("x-k8s-aws-id", cluster)];
    let signable =
        SignableRequest::new("GET", url.clone(), headers.into_iter(), SignableBody::Bytes(&[])).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::get(url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(request.uri().to_string())
    )
}

/// Decodes a token's URL, lets `edit` change it, and encodes it again.
pub fn edit_token(token: &str, edit: impl Fn(String) -> String) -> String {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_start_matches("k8s-aws-v1."))
        .unwrap();
    let url = edit(String::from_utf8(url).unwrap());
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

fn ca_der(ca_data: &str) -> rustls::pki_types::CertificateDer<'static> {
    let pem = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(ca_data).unwrap()).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
        .into()
}

/// Opens a streaming GET (a watch) over HTTPS; returns the status and the body to read frames from.
pub async fn open_stream(
    endpoint: &str,
    ca_data: &str,
    path: &str,
    token: &str,
) -> (u16, hyper::body::Incoming) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der(ca_data)).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let authority = endpoint.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(server_name, tcp).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(path)
        .header("host", authority)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    (response.status().as_u16(), response.into_body())
}

/// One HTTPS request to the server, verifying its certificate against the cluster CA: (status, body).
pub async fn request(
    endpoint: &str,
    ca_data: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der(ca_data)).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let authority = endpoint.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let server_name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(server_name, tcp).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", authority)
        .header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let response = sender
        .send_request(
            builder
                .body(Full::new(bytes::Bytes::from(body.to_owned())))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// A kubeconfig for the cluster that gets tokens from `aws eks get-token` with these credentials.
pub fn write_kubeconfig(
    dir: &Path,
    name: &str,
    endpoint: &str,
    ca_data: &str,
    moto: &Moto,
    cluster: &str,
    creds: &Creds,
) -> PathBuf {
    let mut env = format!(
        "      - {{name: AWS_ACCESS_KEY_ID, value: {}}}\n      - {{name: AWS_SECRET_ACCESS_KEY, value: {}}}\n      - {{name: AWS_ENDPOINT_URL, value: \"{}\"}}\n      - {{name: AWS_CONFIG_FILE, value: /dev/null}}\n      - {{name: AWS_SHARED_CREDENTIALS_FILE, value: /dev/null}}\n",
        creds.key,
        creds.secret,
        moto.endpoint()
    );
    if let Some(token) = &creds.token {
        env.push_str(&format!(
            "      - {{name: AWS_SESSION_TOKEN, value: \"{token}\"}}\n"
        ));
    }
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca_data}\ncontexts:\n- name: {cluster}\n  context: {{cluster: {cluster}, user: {name}}}\ncurrent-context: {cluster}\nusers:\n- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token, --cluster-name, {cluster}, --region, {REGION}]\n      interactiveMode: Never\n      env:\n{env}"
    );
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs kubectl with a kubeconfig (own discovery cache): (success, stdout, stderr).
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    kubectl_stdin(kubeconfig, args, None)
}

pub fn kubectl_stdin(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let cache = kubeconfig.with_extension("cache");
    let mut child = Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into()))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(&cache)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl on PATH");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Polls `check` (every 100 ms) until it returns Some, or panics after `limit` with `what`.
pub async fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
