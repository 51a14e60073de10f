//! `eks-emulator --port PORT --backend URL [--timing instant|fast|realistic] [--time-scale F] [--state-dir DIR]`:
//! serves one local AWS endpoint on 127.0.0.1 until SIGTERM or SIGINT.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::Parser;
use eks_emulator::timing::Timing;
use tokio::signal::unix::{SignalKind, signal};

/// One local AWS endpoint: EKS with real state machines, the EC2 calls moto lacks, the rest forwarded to moto.
#[derive(Parser)]
#[command(name = "eks-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0: a free port, printed on the first line of stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The backend (moto) base URL, e.g. http://127.0.0.1:5000.
    #[arg(long)]
    backend: String,
    /// Pace of state transitions.
    #[arg(long, value_enum, default_value_t = Timing::Fast)]
    timing: Timing,
    /// Multiplier of every transition's duration.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Persist state here (JSON) and resume it on start.
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("error: installing signal handlers: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let config = eks_emulator::Config {
        port: args.port,
        backend: args.backend,
        timing: args.timing,
        time_scale: args.time_scale,
        state_dir: args.state_dir,
    };
    let emulator = match eks_emulator::Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(err) => {
            eprintln!("error: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("listening on {}", emulator.url());
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}
