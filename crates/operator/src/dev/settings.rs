//! What the local mode decides from its flags before it starts anything: how long to wait, whether leaving
//! must first tear the AWS resources down, and what the banner says.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cli::DevArgs;

/// How long to wait for the example with the local AWS endpoint (its `fast` timing: seconds per step).
pub const MOTO_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long to wait with real AWS: an EKS control plane takes 10 to 20 minutes, its node groups some more,
/// and the teardown about as long.
pub const REAL_AWS_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// The local mode's decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long to wait for the example to become Ready, and (when tearing down) for the teardown.
    pub timeout: Duration,
    /// Whether every EksCluster is deleted on exit and its teardown awaited. With real AWS the objects live
    /// only in this process's memory: leaving without a teardown would leave billed resources nobody owns.
    pub tear_down_on_exit: bool,
    /// How soon the controller looks again at a region that is being created or deleted.
    pub progress_period: Duration,
}

impl Settings {
    /// Decides from the flags.
    pub fn from_args(args: &DevArgs) -> Self {
        let default_timeout = if args.real_aws {
            REAL_AWS_TIMEOUT
        } else {
            MOTO_TIMEOUT
        };
        Self {
            timeout: args.timeout.unwrap_or(default_timeout),
            tear_down_on_exit: args.real_aws || args.tear_down_on_exit,
            // Real AWS changes slowly and limits the request rate; moto answers at once.
            progress_period: Duration::from_secs(if args.real_aws { 15 } else { 2 }),
        }
    }
}

/// `40m`, `5m`, `90s`.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else if seconds > 0 || duration.is_zero() {
        format!("{seconds}s")
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The node groups of `example` that name an EC2 key pair, as `(node group, key name, regions)`.
fn ssh_keys(example: &str) -> Vec<(String, String, Vec<String>)> {
    let Ok(objects) = eks_api::parse::parse_documents(example) else {
        return Vec::new();
    };
    objects
        .iter()
        .flat_map(|o| {
            o.spec.node_groups.iter().filter_map(|g| {
                g.ssh_key_name
                    .clone()
                    .map(|key| (g.name.clone(), key, o.spec.regions.clone()))
            })
        })
        .collect()
}

/// The banner: what runs, that state is in memory, and with real AWS the warnings.
pub fn banner(args: &DevArgs, settings: &Settings, example: &str) -> String {
    let mut text = String::new();
    if args.real_aws {
        text.push_str(
            "eks-operator local mode: an in-memory Kubernetes API server with the EksCluster CRD, REAL AWS (--real-aws: \
             the account of the standard AWS environment) and the controller.\n\
             State is in memory: the Kubernetes objects are gone when this process ends; AWS resources are not.\n",
        );
        let _ = writeln!(
            text,
            "WARNING: this creates real AWS resources that cost money. On exit (Ctrl-C, --exit-after-summary, an \
             error) every EksCluster is deleted and dev waits up to {} for the controller to delete their AWS \
             resources; a second Ctrl-C stops waiting and lists what may remain.",
            human(settings.timeout)
        );
        if !args.no_example {
            for (group, key, regions) in ssh_keys(example) {
                let _ = writeln!(
                    text,
                    "WARNING: the example's node group {group:?} uses sshKeyName {key:?}: without an EC2 key pair \
                     named {key} in {} its node groups fail. Create it first, or run with --no-example and apply \
                     your own EksCluster.",
                    regions.join(" and ")
                );
            }
        }
    } else {
        text.push_str(
            "eks-operator local mode: an in-memory Kubernetes API server with the EksCluster CRD, a local AWS \
             endpoint (EKS with a Kubernetes API server per cluster, in front of moto as AWS) and the controller.\n\
             State is in memory: the Kubernetes objects and the local AWS resources are gone when this process \
             ends.\n",
        );
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn dev_args(flags: &[&str]) -> DevArgs {
        let cli = Cli::try_parse_from(["eks-operator", "dev"].iter().chain(flags)).unwrap();
        match cli.command {
            Command::Dev(args) => args,
            other => panic!("not dev: {other:?}"),
        }
    }

    const EXAMPLE: &str = include_str!("../../../../deploy/examples/cloudlad-two-regions.yaml");

    #[test]
    fn moto_waits_five_minutes_and_leaves_without_a_teardown() {
        let settings = Settings::from_args(&dev_args(&[]));
        assert_eq!(settings.timeout, Duration::from_secs(300));
        assert!(!settings.tear_down_on_exit);
    }

    #[test]
    fn real_aws_waits_forty_minutes_and_tears_down_on_exit() {
        let settings = Settings::from_args(&dev_args(&["--real-aws"]));
        assert_eq!(settings.timeout, Duration::from_secs(40 * 60));
        assert!(settings.tear_down_on_exit);
        // Also when the script asks to exit right after the summary, and whatever the timeout.
        let settings = Settings::from_args(&dev_args(&[
            "--real-aws",
            "--exit-after-summary",
            "--timeout",
            "1h",
        ]));
        assert_eq!(settings.timeout, Duration::from_secs(3600));
        assert!(settings.tear_down_on_exit);
    }

    #[test]
    fn an_explicit_timeout_wins_and_the_test_flag_tears_down_with_moto() {
        let settings = Settings::from_args(&dev_args(&["--timeout", "90s", "--tear-down-on-exit"]));
        assert_eq!(settings.timeout, Duration::from_secs(90));
        assert!(settings.tear_down_on_exit);
    }

    #[test]
    fn the_banner_says_state_is_in_memory_and_warns_only_with_real_aws() {
        let args = dev_args(&[]);
        let moto = banner(&args, &Settings::from_args(&args), EXAMPLE);
        assert!(
            moto.contains("moto as AWS") && moto.contains("State is in memory"),
            "{moto}"
        );
        assert!(!moto.contains("WARNING"), "{moto}");

        let args = dev_args(&["--real-aws"]);
        let real = banner(&args, &Settings::from_args(&args), EXAMPLE);
        assert!(
            real.contains("State is in memory") && real.contains("REAL AWS"),
            "{real}"
        );
        assert!(real.contains("waits up to 40m"), "{real}");
        assert!(
            real.contains(
                "node group \"workers\" uses sshKeyName \"testbed\": without an EC2 key pair named testbed in \
                 eu-west-1 and eu-west-2"
            ),
            "{real}"
        );

        let args = dev_args(&["--real-aws", "--no-example"]);
        let own = banner(&args, &Settings::from_args(&args), EXAMPLE);
        assert!(
            own.contains("WARNING: this creates real AWS resources") && !own.contains("sshKeyName"),
            "{own}"
        );
    }

    #[test]
    fn durations_read_as_typed() {
        assert_eq!(human(Duration::from_secs(2400)), "40m");
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_millis(500)), "500ms");
    }
}
