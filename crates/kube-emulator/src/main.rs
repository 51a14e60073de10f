//! `kube-emulator --port PORT --kubeconfig PATH`: serves the emulator on 127.0.0.1 until SIGTERM or SIGINT.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};

/// An in-memory Kubernetes API server for tests and local development.
#[derive(Parser)]
#[command(name = "kube-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0: a free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write a kubeconfig for kubectl, Helm and kube-rs.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    // Handlers first: a signal that comes as soon as the URL is printed must still end the server cleanly.
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("error: installing signal handlers: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let emulator = match kube_emulator::Emulator::builder().port(args.port).start().await {
        Ok(emulator) => emulator,
        Err(err) => {
            eprintln!("error: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.kubeconfig
        && let Err(err) = emulator.write_kubeconfig(path)
    {
        eprintln!("error: writing {}: {err}", path.display());
        return std::process::ExitCode::FAILURE;
    }
    println!("{}", emulator.url());
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}
