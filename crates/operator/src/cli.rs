//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manages Amazon EKS clusters declared as EksCluster objects, one identical cluster per region.
#[derive(Debug, Parser)]
#[command(name = "eks-operator", version, about)]
pub struct Cli {
    /// Logging options.
    #[command(flatten)]
    pub log: LogArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Logging options shared by every subcommand.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filter in `RUST_LOG` syntax (e.g. `info`, `eks_operator=debug`).
    #[arg(long, env = "EKS_OPERATOR_LOG", default_value = "info", global = true)]
    pub log_level: String,
    /// Log line format: `json` (one object per line) or `text`.
    #[arg(long, env = "EKS_OPERATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the EksCluster CustomResourceDefinition as YAML.
    Crd,
    /// Print the field reference of EksCluster (Markdown), generated from the CRD.
    Reference,
    /// Validate EksCluster documents and print what the operator would build in every region, offline.
    Plan(PlanArgs),
}

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// File with one or more EksCluster documents; `-` reads standard input.
    #[arg(short = 'f', long = "filename")]
    pub file: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,
    /// AWS account id used in role ARNs instead of the `<AWS_ACCOUNT_ID>` placeholder.
    #[arg(long)]
    pub account_id: Option<String>,
}

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// YAML.
    Yaml,
    /// JSON (stable; documented in the README).
    Json,
}
