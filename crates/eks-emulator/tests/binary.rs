//! The `eks-emulator` binary: the `--port 0` line, and `--state-dir` resuming an update (and keeping the
//! add-ons) after a kill.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_eks::types::{ClusterStatus, UpdateStatus};
use common::*;

struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(backend: &str, state_dir: &std::path::Path, extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eks-emulator"))
        .args(["--port", "0", "--backend", backend, "--state-dir"])
        .arg(state_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the first line names the URL")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    Running { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_emulator_resumes_its_clusters_and_updates_from_the_state_dir() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // Realistic timing scaled down: the version update takes 6 s, long enough to kill the process mid-update.
    let timing = ["--timing", "realistic", "--time-scale", "0.01"];
    let first = spawn(&moto.url(), dir.path(), &timing);
    let sdk = sdk_config(&first.url, "eu-west-1", "AKIDTESTING").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "keep", &net).send().await.unwrap();
    let cluster = until(60, || async {
        let c = eks
            .describe_cluster()
            .name("keep")
            .send()
            .await
            .unwrap()
            .cluster
            .unwrap();
        (c.status() == Some(&ClusterStatus::Active)).then_some(c)
    })
    .await;
    let addon = eks
        .create_addon()
        .cluster_name("keep")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    let update = eks
        .update_cluster_version()
        .name("keep")
        .version("1.33")
        .send()
        .await
        .unwrap();
    let id = update.update.unwrap().id().unwrap().to_owned();
    drop(first); // SIGKILL, mid-update

    let second = spawn(&moto.url(), dir.path(), &timing);
    let eks = aws_sdk_eks::Client::new(&sdk_config(&second.url, "eu-west-1", "AKIDTESTING").await);
    let resumed = eks
        .describe_cluster()
        .name("keep")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(resumed.arn(), cluster.arn());
    assert_eq!(resumed.status(), Some(&ClusterStatus::Updating));
    let kept = eks
        .describe_addon()
        .cluster_name("keep")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(kept.addon_arn(), addon.addon_arn(), "add-ons are persisted too");
    until(60, || async {
        let u = eks
            .describe_update()
            .name("keep")
            .update_id(&id)
            .send()
            .await
            .unwrap()
            .update
            .unwrap();
        (u.status() == Some(&UpdateStatus::Successful)).then_some(())
    })
    .await;
    let done = eks
        .describe_cluster()
        .name("keep")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(done.version(), Some("1.33"));
    assert_eq!(done.status(), Some(&ClusterStatus::Active));
}
