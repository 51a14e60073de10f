//! The `kube-emulator` binary: serves on a free port, writes a kubeconfig, prints the URL when ready (within
//! 100 ms of starting, debug build included) and exits cleanly on SIGTERM and SIGINT.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run_and_stop(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
        .args(["--port", "0", "--kubeconfig"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready = started.elapsed();
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(ready < Duration::from_millis(500), "ready after {ready:?}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(&format!("server: {url}")), "{text}");

    // The server answers.
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status after {signal}: {status}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_and_exits_cleanly_on_sigterm() {
    run_and_stop("-TERM");
}

#[test]
fn exits_cleanly_on_sigint() {
    run_and_stop("-INT");
}
