//! `eks-operator`: manages Amazon EKS clusters declared as `EksCluster` objects.
//!
//! This file only parses arguments, sets up logging and hands over to a subcommand.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cli;
mod commands;
mod dev;
mod logging;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let mut log = cli.log;
    // The local mode talks to the user on stdout; keep its log to warnings unless asked otherwise.
    if matches!(cli.command, cli::Command::Dev(_)) && log.log_level == "info" {
        log.log_level = "warn".to_owned();
    }
    let format = log.format_for(&cli.command);
    logging::init(&log, format);
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            // In JSON every line of the log is an object, the reason the process stops included.
            match format {
                cli::LogFormat::Json if tracing::enabled!(target: "eks_operator", tracing::Level::ERROR) => {
                    tracing::error!(target: "eks_operator", "{err:#}");
                }
                // Even when the log filter leaves errors out: the reason must be seen.
                cli::LogFormat::Json => eprintln!(
                    "{}",
                    serde_json::json!({"level": "ERROR", "target": "eks_operator", "message": format!("{err:#}")})
                ),
                cli::LogFormat::Text => eprintln!("error: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}
