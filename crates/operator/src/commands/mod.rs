//! One module per subcommand.

mod crd;
mod plan;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs a subcommand.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Crd => crd::run(),
        Command::Reference => crd::reference(),
        Command::Plan(args) => plan::run(&args),
        Command::Run(_) => anyhow::bail!("run: the AWS layer is not wired into this build yet"),
    }
}
