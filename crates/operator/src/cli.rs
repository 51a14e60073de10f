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
    /// Log line format: `json` (one object per line; the default of `run`) or `text` (the default of the
    /// other subcommands).
    #[arg(long, env = "EKS_OPERATOR_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

impl LogArgs {
    /// The format asked for, else the default of `command`: JSON for the controller (`run`), whose log is read
    /// by machines, text for the commands a person runs.
    pub fn format_for(&self, command: &Command) -> LogFormat {
        self.log_format.unwrap_or(match command {
            Command::Run(_) => LogFormat::Json,
            _ => LogFormat::Text,
        })
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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
    /// Print one of the two documents of the operator's least-privilege IAM policy (JSON), derived from the
    /// AWS calls the code makes: `network` (EC2) or `clusters` (EKS, IAM, STS).
    IamPolicy {
        /// Which document.
        #[arg(value_parser = ["network", "clusters"])]
        document: String,
        /// The AWS partition of the ARNs (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`).
        #[arg(long, default_value = "aws", value_parser = eks_aws::iam_policy::PARTITIONS)]
        partition: String,
    },
    /// Validate EksCluster documents and print what the operator would build in every region, offline.
    Plan(PlanArgs),
    /// Run the controller against the management cluster (KUBECONFIG, ~/.kube/config or in-cluster) and AWS
    /// (the standard AWS environment and credential chain).
    Run(RunArgs),
    /// Local mode: an in-memory Kubernetes API server with the CRD, a local AWS endpoint (EKS with an API server
    /// per cluster, in front of moto) and the controller, with the
    /// seed's two-region example applied. Serves until Ctrl-C.
    Dev(DevArgs),
}

/// Arguments of `dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Port of the Kubernetes API server on 127.0.0.1 (0: a free port).
    #[arg(long, default_value_t = 0)]
    pub kube_port: u16,
    /// Port of the local AWS endpoint on 127.0.0.1 (0: a free port); moto behind it takes a free port.
    #[arg(long, default_value_t = 0)]
    pub aws_port: u16,
    /// Where to write the kubeconfig; the file must not exist yet (default: a new file in the temporary
    /// directory). It is removed on exit.
    #[arg(long)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Do not apply the seed's two-region example.
    #[arg(long)]
    pub no_example: bool,
    /// Exit right after the summary instead of serving until Ctrl-C (for scripts).
    #[arg(long)]
    pub exit_after_summary: bool,
    /// Use the real AWS account of the standard AWS environment instead of moto. Creates real, billed
    /// resources; on exit every EksCluster is deleted and dev waits for its AWS resources to go.
    #[arg(long)]
    pub real_aws: bool,
    /// How long to wait for the example to become Ready, and with --real-aws how long to wait on exit for the
    /// AWS resources to be deleted (default: 5m with moto, 40m with --real-aws).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Delete every EksCluster on exit and wait for the controller to tear its AWS resources down, as
    /// --real-aws does. For tests of that path against moto.
    #[arg(long, hide = true)]
    pub tear_down_on_exit: bool,
}

/// Arguments of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "EKS_OPERATOR_NAMESPACE")]
    pub namespace: Option<String>,
    /// Watch only EksCluster objects matching this label selector, to split a fleet across deployments.
    #[arg(long, env = "EKS_OPERATOR_SELECTOR")]
    pub selector: Option<String>,
    /// How often a ready object is checked for drift, such as `20s`, `10m` or `1h`.
    #[arg(long, env = "EKS_OPERATOR_DRIFT_PERIOD", default_value = "10m", value_parser = parse_period)]
    pub drift_period: std::time::Duration,
    /// How soon a region that is still being created or deleted is looked at again.
    #[arg(long, env = "EKS_OPERATOR_PROGRESS_PERIOD", default_value = "20s", value_parser = parse_period)]
    pub progress_period: std::time::Duration,
    /// How many objects are reconciled at once (at least 1).
    #[arg(long, env = "EKS_OPERATOR_MAX_CONCURRENT_RECONCILES", default_value_t = 8, value_parser = parse_concurrency)]
    pub max_concurrent_reconciles: u16,
    /// Elect a leader through a coordination.k8s.io Lease, so that only one replica reconciles.
    #[arg(long, env = "EKS_OPERATOR_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    /// Name of the leader Lease.
    #[arg(long, env = "EKS_OPERATOR_LEASE_NAME", default_value = "eks-operator")]
    pub lease_name: String,
    /// Namespace of the leader Lease (default: the pod's namespace, else `default`).
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Address of the `/metrics`, `/healthz` and `/readyz` endpoints.
    #[arg(long, env = "EKS_OPERATOR_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: std::net::SocketAddr,
}

/// Parses `20s`, `10m`, `1h`, `500ms` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 20s, 10m or 1h"))?;
    let seconds = match unit {
        "ms" => return Ok(std::time::Duration::from_millis(value)),
        "" | "s" => Some(value),
        "m" => value.checked_mul(60),
        "h" => value.checked_mul(3600),
        _ => {
            return Err(format!(
                "{text:?} has an unknown unit {unit:?}: use ms, s, m or h"
            ));
        }
    };
    seconds
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long a duration"))
}

/// Parses a period like [`parse_duration`] and refuses zero, which would requeue without pause.
pub fn parse_period(text: &str) -> Result<std::time::Duration, String> {
    let period = parse_duration(text)?;
    if period.is_zero() {
        return Err(format!("{text:?} is zero: a period must be longer than that"));
    }
    Ok(period)
}

/// Parses a number of concurrent reconciles and refuses zero, which kube-runtime takes as "no limit".
pub fn parse_concurrency(text: &str) -> Result<u16, String> {
    let value: u16 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number from 1 to {}", u16::MAX))?;
    if value == 0 {
        return Err(format!(
            "{text:?} is zero, which would mean no limit at all: give at least 1"
        ));
    }
    Ok(value)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{Cli, Command, LogFormat, parse_concurrency, parse_duration, parse_period};
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("10 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration("9999999999999999999h").is_err());
    }

    #[test]
    fn periods_refuse_zero() {
        assert_eq!(parse_period("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_period("0s").is_err_and(|e| e.contains("zero")));
        assert!(parse_period("0ms").is_err());
    }

    #[test]
    fn concurrency_refuses_zero() {
        assert_eq!(parse_concurrency("1"), Ok(1));
        assert_eq!(parse_concurrency("32"), Ok(32));
        assert!(parse_concurrency("0").is_err_and(|e| e.contains("zero") && e.contains("at least 1")));
        assert!(parse_concurrency("-1").is_err());
        assert!(parse_concurrency("70000").is_err());
        let refused = Cli::try_parse_from(["eks-operator", "run", "--max-concurrent-reconciles", "0"]);
        assert!(refused.is_err_and(|e| e.to_string().contains("at least 1")));
    }

    #[test]
    fn run_logs_json_by_default_and_the_other_commands_text() {
        let format = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            cli.log.format_for(&cli.command)
        };
        assert_eq!(format(&["eks-operator", "run"]), LogFormat::Json);
        assert_eq!(
            format(&["eks-operator", "run", "--log-format", "text"]),
            LogFormat::Text
        );
        assert_eq!(format(&["eks-operator", "plan", "-f", "x.yaml"]), LogFormat::Text);
        assert_eq!(format(&["eks-operator", "dev"]), LogFormat::Text);
        assert_eq!(
            format(&["eks-operator", "--log-format", "json", "dev"]),
            LogFormat::Json
        );
        let cli = Cli::try_parse_from(["eks-operator", "crd"]).unwrap();
        assert!(matches!(cli.command, Command::Crd));
    }
}
