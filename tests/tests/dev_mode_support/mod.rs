//! The harness of the `eks-operator dev` tests (`dev_mode.rs`): the real binary as a child process without a
//! terminal, its output read line by line, its process tree read from `/proc`, and the checks that it stopped
//! cleanly (exit 0, no child, port or kubeconfig left).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use eks_e2e::workspace_binary;

/// `eks-operator dev` as a child process: standard output read line by line, standard error kept in a file,
/// killed with its children if the test fails half-way.
pub struct Dev {
    child: Child,
    lines: Receiver<String>,
    /// Standard output read so far, line by line.
    pub output: Vec<String>,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dev {
    /// Starts `eks-operator dev` with these flags, standard input closed and no terminal.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// Like [`Self::start`], with these environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("dev.stderr");
        let mut child = Command::new(workspace_binary("eks-operator", "eks-operator"))
            .arg("dev")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            output: Vec::new(),
            stderr,
            _dir: dir,
        }
    }

    /// Standard output so far and standard error, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.output.join("\n"),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Reads standard output until a line contains `marker`; panics after `timeout` or at its end.
    pub fn wait_for(&mut self, marker: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(marker);
                    self.output.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {marker:?} within {timeout:?}\n{}", self.report())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("dev ended before {marker:?}\n{}", self.report())
                }
            }
        }
    }

    /// Waits (bounded) for the process to end, then reads the rest of its output.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "dev did not stop within {timeout:?}\n{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.output.push(line);
        }
        status
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Standard output so far, as one text.
    pub fn text(&self) -> String {
        self.output.join("\n")
    }

    /// Standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The value of a banner line (`Kubernetes API  http://...`).
    pub fn banner(&self, label: &str) -> String {
        self.output
            .iter()
            .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no {label:?} line\n{}", self.report()))
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            for (pid, _) in descendants(self.child.id()) {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `(parent pid, start time)` of a process, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = text[text.rfind(')')? + 1..].split_whitespace().collect();
    // fields[0] is field 3 (state): the parent pid is field 4, the start time field 22.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// Every process, as `(pid, parent pid, start time)`.
fn all_processes() -> Vec<(u32, u32, u64)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| stat(pid).map(|(parent, start)| (pid, parent, start)))
        .collect()
}

/// Every process below `root`, as `(pid, start time)` (the start time tells a reused pid apart).
fn descendants(root: u32) -> Vec<(u32, u64)> {
    let all = all_processes();
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for &(pid, _, start) in all.iter().filter(|(_, p, _)| *p == parent) {
            found.push((pid, start));
            parents.push(pid);
        }
    }
    found
}

fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// The port of `http://127.0.0.1:<port>`.
pub fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// After an interrupt: exit 0, and [`assert_stopped`].
pub fn assert_stopped_cleanly(dev: &mut Dev, children: &[(u32, u64)], ports: &[u16], kubeconfig: &Path) {
    let exit = dev.wait_exit(Duration::from_secs(60));
    assert!(exit.success(), "{exit}\n{}", dev.report());
    assert_stopped(dev, children, ports, kubeconfig);
}

/// Once dev has ended: it said so, every child found before is gone, no moto_server on any of `ports` is left
/// anywhere on the machine, the ports are closed and the kubeconfig is removed.
pub fn assert_stopped(dev: &Dev, children: &[(u32, u64)], ports: &[u16], kubeconfig: &Path) {
    assert!(dev.text().contains("Stopped: the controller"), "{}", dev.report());
    assert!(!dev.stderr().contains("did not stop"), "{}", dev.report());
    for (pid, start) in children {
        assert!(
            stat(*pid).is_none_or(|(_, s)| s != *start),
            "child {pid} ({}) is still there",
            command_line(*pid)
        );
    }
    let motos: Vec<String> = all_processes()
        .into_iter()
        .map(|(pid, _, _)| command_line(pid))
        .filter(|c| {
            c.contains("moto_server") && ports.iter().any(|p| c.trim_end().ends_with(&format!("-p {p}")))
        })
        .collect();
    assert!(motos.is_empty(), "moto_server left behind: {motos:?}");
    for port in ports {
        assert!(!listening(*port), "port {port} still accepts connections");
    }
    assert!(!kubeconfig.exists(), "{} was not removed", kubeconfig.display());
}

/// The children of a running dev: at least moto.
pub fn children_with_moto(dev: &Dev) -> Vec<(u32, u64)> {
    let children = descendants(dev.child.id());
    assert!(
        children
            .iter()
            .any(|(pid, _)| command_line(*pid).contains("moto_server")),
        "no moto_server child: {children:?}"
    );
    children
}

/// One region's block of the summary: label → value.
pub fn summary_block(output: &[String], region: &str) -> BTreeMap<String, String> {
    let header = format!("  region {region}");
    let start = output
        .iter()
        .position(|l| *l == header)
        .unwrap_or_else(|| panic!("no {header:?} in the summary"));
    output[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .map(|l| {
            let l = l.trim_start();
            // Labels are padded to 18 columns; values follow.
            let (label, value) = l.split_at(18.min(l.len()));
            (label.trim().to_owned(), value.trim().to_owned())
        })
        .collect()
}

/// The ids of a summary row (`a, b, c`).
pub fn ids(list: &str) -> BTreeSet<String> {
    list.split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// AWS clients against the moto of a running dev.
pub async fn moto_context(endpoint: &str) -> eks_aws::AwsContext {
    let sdk = eks_aws::context::configure(aws_config::defaults(aws_config::BehaviorVersion::latest()))
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    eks_aws::AwsContext::new(std::sync::Arc::new(eks_aws::SdkProvider::new(sdk)))
}
