//! `kube-emulator --port PORT --kubeconfig PATH`: serves the emulator on 127.0.0.1 until SIGTERM or SIGINT.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::Parser;

/// An in-memory Kubernetes API server for tests and local development.
#[derive(Parser)]
#[command(name = "kube-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0: a free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write a kubeconfig for kubectl and kube-rs.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let emulator = match kube_emulator::Emulator::start_with(kube_emulator::Options { port: args.port }).await
    {
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
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            eprintln!("error: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}
