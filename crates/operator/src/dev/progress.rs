//! What the local mode shows while the regions come up (or go away), and the summary at the end.
//!
//! [`Progress`] writes to any writer and is told whether that writer is a terminal, so that both ways of
//! showing progress are tested: on a terminal one live line per region, redrawn in place; otherwise plain
//! lines, printed only when a region's line changes (no escape sequences, fit for logs and pipes).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Stdout, Write};
use std::time::Duration;

use eks_api::{EksClusterStatus, Phase, RegionStatus};

/// One region's progress: who, in which phase, doing what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The region (prefixed with the object's name when several objects are shown).
    pub label: String,
    /// The region's phase.
    pub phase: Phase,
    /// What is being created or deleted, what blocks, or the last error.
    pub detail: String,
}

impl Line {
    /// The line without any decoration: `eu-west-1      Provisioning  waiting for EKS cluster ... CREATING`.
    pub fn plain(&self) -> String {
        format!("{:<14} {:<13} {}", self.label, self.phase.as_str(), self.detail)
            .trim_end()
            .to_owned()
    }
}

/// The lines of one object: one per region, labelled with `prefix` and the region.
pub fn region_lines(prefix: &str, status: &EksClusterStatus) -> Vec<Line> {
    status
        .regions
        .iter()
        .map(|r| Line {
            label: format!("{prefix}{}", r.region),
            phase: r.phase.unwrap_or(Phase::Pending),
            detail: detail(r),
        })
        .collect()
}

fn detail(r: &RegionStatus) -> String {
    if let Some(error) = &r.last_error {
        return format!("error: {error}");
    }
    if !r.in_progress.is_empty() {
        return format!("waiting for {}", r.in_progress.join(", "));
    }
    if !r.blocked_by.is_empty() {
        return format!("blocked by {}", r.blocked_by.join(", "));
    }
    if r.phase == Some(Phase::Ready) {
        return String::new();
    }
    let mut built = Vec::new();
    if r.vpc_id.is_some() {
        built.push("VPC".to_owned());
    }
    let subnets = r.public_subnet_ids.len() + r.private_subnet_ids.len();
    if subnets > 0 {
        built.push(format!("{subnets} subnets"));
    }
    if !r.nat_gateway_ids.is_empty() {
        built.push(format!("{} NAT gateway(s)", r.nat_gateway_ids.len()));
    }
    if r.worker_role_arn.is_some() {
        built.push("IAM roles".to_owned());
    }
    if r.cluster_arn.is_some() {
        built.push("EKS cluster".to_owned());
    }
    if !r.node_groups.is_empty() {
        built.push(format!("{} node group(s)", r.node_groups.len()));
    }
    if built.is_empty() {
        String::new()
    } else {
        format!("exists: {}", built.join(", "))
    }
}

/// Shows region progress on `out`: live lines on a terminal, plain lines on change otherwise.
pub struct Progress<W: Write> {
    out: W,
    terminal: bool,
    last: Vec<String>,
    lines_drawn: usize,
    ticks: usize,
}

impl Progress<Stdout> {
    /// Progress on standard output, live when standard output is a terminal.
    pub fn stdout() -> Self {
        let terminal = std::io::stdout().is_terminal();
        Self::new(std::io::stdout(), terminal)
    }
}

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

impl<W: Write> Progress<W> {
    /// Progress on `out`; `terminal` says whether it may redraw with cursor control.
    pub fn new(out: W, terminal: bool) -> Self {
        Self {
            out,
            terminal,
            last: Vec::new(),
            lines_drawn: 0,
            ticks: 0,
        }
    }

    /// Shows these lines. On a terminal the block is redrawn in place every time (with a spinner and the time
    /// so far); otherwise only the lines that differ from the last call are printed.
    pub fn show(&mut self, lines: &[Line], elapsed: Duration) {
        let plain: Vec<String> = lines.iter().map(Line::plain).collect();
        if self.terminal {
            self.redraw(lines, elapsed);
        } else {
            for line in &plain {
                if !self.last.contains(line) {
                    let _ = writeln!(self.out, "{line}");
                }
            }
        }
        let _ = self.out.flush();
        self.last = plain;
        self.ticks += 1;
    }

    fn redraw(&mut self, lines: &[Line], elapsed: Duration) {
        let out = &mut self.out;
        if self.lines_drawn > 0 {
            // Back to the first line of the previous block.
            let _ = write!(out, "\x1b[{}A", self.lines_drawn);
        }
        // No auto-wrap while drawing: a long line is cut at the margin instead of taking two rows, which would
        // break the count of rows to move up next time.
        let _ = write!(out, "\x1b[?7l");
        for line in lines {
            let mark = match line.phase {
                Phase::Ready => '✓',
                Phase::Failed | Phase::Invalid => '✗',
                _ => SPINNER[self.ticks % SPINNER.len()],
            };
            let _ = writeln!(out, "\r\x1b[2K  {mark} {} ({}s)", line.plain(), elapsed.as_secs());
        }
        // Clear what is left of a longer previous block, and wrap again.
        let _ = write!(out, "\x1b[J\x1b[?7h");
        self.lines_drawn = lines.len();
    }

    /// The writer (for tests).
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The summary printed once every region is ready. `vpc_cidrs` maps a region to its VPC's CIDR.
pub fn summary(
    name: &str,
    namespace: &str,
    status: &EksClusterStatus,
    vpc_cidrs: &BTreeMap<String, String>,
    kubeconfig: &std::path::Path,
) -> String {
    let mut text = format!(
        "\nEksCluster {namespace}/{name} is {}\n",
        status.phase.map_or("Pending", Phase::as_str)
    );
    for r in &status.regions {
        text.push_str(&format!("\n  region {}\n", r.region));
        let row = |label: &str, value: String| format!("    {label:<18} {value}\n");
        text.push_str(&row("cluster id", r.cluster_id.clone().unwrap_or_default()));
        let vpc = r.vpc_id.clone().unwrap_or_default();
        text.push_str(&row(
            "vpc",
            match vpc_cidrs.get(&r.region) {
                Some(cidr) => format!("{vpc} ({cidr})"),
                None => vpc,
            },
        ));
        text.push_str(&row("private subnets", r.private_subnet_ids.join(", ")));
        text.push_str(&row("public subnets", r.public_subnet_ids.join(", ")));
        text.push_str(&row("zones", r.availability_zones.join(", ")));
        text.push_str(&row("endpoint", r.endpoint.clone().unwrap_or_default()));
        let groups: Vec<String> = r
            .node_groups
            .iter()
            .map(|g| {
                format!(
                    "{} ({}, {} nodes)",
                    g.name,
                    g.status.clone().unwrap_or_default(),
                    g.desired_size.unwrap_or(0)
                )
            })
            .collect();
        text.push_str(&row("node groups", groups.join(", ")));
        text.push_str(&row("worker role", r.worker_role_arn.clone().unwrap_or_default()));
        text.push_str(&row(
            "aws-auth",
            r.aws_auth_config_map
                .clone()
                .map(|n| format!("ConfigMap {namespace}/{n}"))
                .unwrap_or_default(),
        ));
        text.push_str(&row(
            "kubeconfig secret",
            r.kubeconfig_secret
                .clone()
                .map(|n| format!("Secret {namespace}/{n}"))
                .unwrap_or_default(),
        ));
    }
    text.push_str(&format!(
        "\nInspect it with kubectl:\n  export KUBECONFIG={}\n  kubectl get eksc\n  kubectl describe eksc {name}\n",
        kubeconfig.display()
    ));
    for config_map in status
        .regions
        .iter()
        .filter_map(|r| r.aws_auth_config_map.as_ref())
    {
        text.push_str(&format!("  kubectl get configmap {config_map} -o yaml\n"));
    }
    text.push_str("  kubectl get events\n");
    text
}

/// What the local mode prints instead of a summary with `--no-example`.
pub fn nothing_applied(kubeconfig: &std::path::Path) -> String {
    format!(
        "No example applied (--no-example): no EksCluster exists yet. The CRD is installed and the controller is \
         watching; apply your own:\n  KUBECONFIG={} kubectl apply -f deploy/examples/cloudlad-two-regions.yaml\n",
        kubeconfig.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(phases: &[(&str, Phase, &[&str])]) -> EksClusterStatus {
        EksClusterStatus {
            regions: phases
                .iter()
                .map(|(region, phase, waiting)| RegionStatus {
                    region: (*region).to_owned(),
                    phase: Some(*phase),
                    in_progress: waiting.iter().map(|w| (*w).to_owned()).collect(),
                    ..RegionStatus::default()
                })
                .collect(),
            ..EksClusterStatus::default()
        }
    }

    fn text(progress: Progress<Vec<u8>>) -> String {
        String::from_utf8(progress.into_inner()).unwrap()
    }

    #[test]
    fn off_a_terminal_plain_lines_are_printed_only_on_change() {
        let mut progress = Progress::new(Vec::new(), false);
        let first = status(&[
            ("eu-west-1", Phase::Provisioning, &["EKS cluster a CREATING"]),
            ("eu-west-2", Phase::Pending, &[]),
        ]);
        progress.show(&region_lines("", &first), Duration::from_secs(1));
        progress.show(&region_lines("", &first), Duration::from_secs(2));
        let second = status(&[
            ("eu-west-1", Phase::Provisioning, &["EKS cluster a CREATING"]),
            ("eu-west-2", Phase::Ready, &[]),
        ]);
        progress.show(&region_lines("", &second), Duration::from_secs(3));
        let out = text(progress);
        assert!(!out.contains('\x1b'), "{out:?}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "eu-west-1      Provisioning  waiting for EKS cluster a CREATING",
                "eu-west-2      Pending",
                "eu-west-2      Ready",
            ]
        );
    }

    #[test]
    fn on_a_terminal_the_region_lines_are_redrawn_in_place() {
        let mut progress = Progress::new(Vec::new(), true);
        let first = status(&[
            ("eu-west-1", Phase::Provisioning, &["node group workers CREATING"]),
            ("eu-west-2", Phase::Provisioning, &[]),
        ]);
        progress.show(&region_lines("", &first), Duration::from_secs(1));
        progress.show(&region_lines("", &first), Duration::from_secs(2));
        let done = status(&[("eu-west-1", Phase::Ready, &[]), ("eu-west-2", Phase::Ready, &[])]);
        progress.show(&region_lines("", &done), Duration::from_secs(3));
        let out = text(progress);
        // The first block is drawn without moving up; each later one moves up over the two region lines and
        // clears each line before writing it.
        let blocks: Vec<&str> = out.split("\x1b[2A").collect();
        assert_eq!(blocks.len(), 3, "{out:?}");
        for block in &blocks {
            assert_eq!(block.matches("\r\x1b[2K").count(), 2, "{block:?}");
            assert!(
                block.contains("\x1b[?7l") && block.ends_with("\x1b[J\x1b[?7h"),
                "{block:?}"
            );
        }
        assert!(
            blocks[0].contains("| eu-west-1      Provisioning  waiting for node group workers CREATING (1s)")
        );
        // The same status is drawn again (the spinner and the time move on).
        assert!(
            blocks[1].contains("/ eu-west-1      Provisioning  waiting for node group workers CREATING (2s)")
        );
        assert!(
            blocks[2].contains("✓ eu-west-1      Ready (3s)") && blocks[2].contains("✓ eu-west-2      Ready")
        );
    }

    #[test]
    fn on_a_terminal_a_shorter_block_clears_the_rest() {
        let mut progress = Progress::new(Vec::new(), true);
        let two = status(&[
            ("eu-west-1", Phase::Deleting, &[]),
            ("eu-west-2", Phase::Deleting, &[]),
        ]);
        progress.show(&region_lines("", &two), Duration::ZERO);
        progress.show(&[], Duration::ZERO);
        let out = text(progress);
        assert!(out.ends_with("\x1b[2A\x1b[?7l\x1b[J\x1b[?7h"), "{out:?}");
    }

    #[test]
    fn a_region_without_work_in_progress_says_what_exists() {
        let mut region = RegionStatus {
            region: "eu-west-1".into(),
            phase: Some(Phase::Provisioning),
            vpc_id: Some("vpc-1".into()),
            private_subnet_ids: vec!["subnet-1".into(), "subnet-2".into()],
            ..RegionStatus::default()
        };
        assert_eq!(detail(&region), "exists: VPC, 2 subnets");
        region.last_error = Some("AccessDenied: no".into());
        assert_eq!(detail(&region), "error: AccessDenied: no");
    }

    #[test]
    fn the_summary_names_each_regions_resources_and_kubectl_commands() {
        let mut status = status(&[("eu-west-1", Phase::Ready, &[]), ("eu-west-2", Phase::Ready, &[])]);
        status.phase = Some(Phase::Ready);
        for r in &mut status.regions {
            r.vpc_id = Some(format!("vpc-{}", r.region));
            r.aws_auth_config_map = Some(format!("cloudlad-{}-aws-auth", r.region));
            r.worker_role_arn = Some(format!("arn:aws:iam::1:role/w-{}", r.region));
        }
        let cidrs = BTreeMap::from([("eu-west-1".to_owned(), "10.0.0.0/16".to_owned())]);
        let text = summary(
            "cloudlad",
            "default",
            &status,
            &cidrs,
            std::path::Path::new("/tmp/k"),
        );
        assert!(text.contains("EksCluster default/cloudlad is Ready"));
        assert!(text.contains("    vpc                vpc-eu-west-1 (10.0.0.0/16)\n"));
        assert!(text.contains("    vpc                vpc-eu-west-2\n"));
        assert!(text.contains("    worker role        arn:aws:iam::1:role/w-eu-west-2\n"));
        assert!(text.contains("    aws-auth           ConfigMap default/cloudlad-eu-west-1-aws-auth\n"));
        assert!(text.contains("  export KUBECONFIG=/tmp/k\n"));
        assert!(text.contains("  kubectl get configmap cloudlad-eu-west-2-aws-auth -o yaml\n"));
    }
}
