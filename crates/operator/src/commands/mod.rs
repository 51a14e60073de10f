//! One module per subcommand.

mod crd;
mod plan;
pub mod run;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs a subcommand.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Crd => crd::run(),
        Command::Reference => crd::reference(),
        Command::IamPolicy { document, partition } => {
            print!("{}", eks_aws::iam_policy::document_json(&partition, &document));
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => plan::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Dev(args) => crate::dev::run(&args),
    }
}
