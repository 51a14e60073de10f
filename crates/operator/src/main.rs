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
    // The AWS SDK and kube both link rustls with different crypto back ends; pick one for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut log = cli.log;
    // The local mode talks to the user on stdout; keep its log to warnings unless asked otherwise.
    if matches!(cli.command, cli::Command::Dev(_)) && log.log_level == "info" {
        log.log_level = "warn".to_owned();
    }
    logging::init(&log);
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
