//! What the local mode shows while the regions come up, and the summary at the end.

use std::io::{IsTerminal, Write};

use eks_api::{EksClusterStatus, Phase};

/// Prints region progress: one live line per region on a terminal, plain lines otherwise (only on change).
pub struct Progress {
    terminal: bool,
    last: Vec<String>,
    lines_drawn: usize,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            terminal: std::io::stdout().is_terminal(),
            last: Vec::new(),
            lines_drawn: 0,
        }
    }
}

/// One line per region: phase and what is being worked on.
pub fn region_lines(status: &EksClusterStatus) -> Vec<String> {
    status
        .regions
        .iter()
        .map(|r| {
            let phase = r.phase.unwrap_or(Phase::Pending).as_str();
            let detail = if let Some(error) = &r.last_error {
                format!("error: {error}")
            } else if r.in_progress.is_empty() {
                String::new()
            } else {
                format!("waiting for {}", r.in_progress.join(", "))
            };
            format!("  {:<14} {:<13} {detail}", r.region, phase)
        })
        .collect()
}

impl Progress {
    /// Shows the status if it changed.
    pub fn show(&mut self, status: &EksClusterStatus) {
        let lines = region_lines(status);
        if lines == self.last {
            return;
        }
        let mut out = std::io::stdout().lock();
        if self.terminal {
            // Move up over the previous block and redraw it.
            if self.lines_drawn > 0 {
                let _ = write!(out, "\x1b[{}A", self.lines_drawn);
            }
            for line in &lines {
                let _ = writeln!(out, "\x1b[2K{line}");
            }
            self.lines_drawn = lines.len();
        } else {
            for (i, line) in lines.iter().enumerate() {
                if self.last.get(i) != Some(line) {
                    let _ = writeln!(out, "{}", line.trim_start());
                }
            }
        }
        let _ = out.flush();
        self.last = lines;
    }
}

/// The summary printed once every region is ready.
pub fn summary(
    name: &str,
    namespace: &str,
    status: &EksClusterStatus,
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
        text.push_str(&row("vpc", r.vpc_id.clone().unwrap_or_default()));
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
        text.push_str(&row(
            "aws-auth",
            r.aws_auth_config_map
                .clone()
                .map(|n| format!("ConfigMap {namespace}/{n}"))
                .unwrap_or_default(),
        ));
        text.push_str(&row(
            "kubeconfig",
            r.kubeconfig_secret
                .clone()
                .map(|n| format!("Secret {namespace}/{n}"))
                .unwrap_or_default(),
        ));
    }
    let path = kubeconfig.display();
    text.push_str(&format!(
        "\nInspect it with kubectl:\n  export KUBECONFIG={path}\n  kubectl get eksc\n  kubectl describe eksc {name}\n  kubectl get configmap {name}-{}-aws-auth -o yaml\n  kubectl get events\n",
        status.regions.first().map_or("REGION", |r| r.region.as_str())
    ));
    text
}
