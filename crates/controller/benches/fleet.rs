//! Fleet benchmark: the controller against the emulator and the in-memory AWS fake (2 ms per call), with 1, 100,
//! 1,000 and 10,000 EksCluster objects of two regions each. Reports the time until all are Ready, AWS calls per object
//! for the first build and per no-change drift pass, peak resident memory and reconciles per second.
//!
//! `cargo bench -p eks-controller --bench fleet` (sizes: `FLEET_SIZES=1,100,1000,10000`). Each size runs in a
//! fresh child process with the API server emulator in a second one, so the peak resident memory reported is
//! that of the controller and the in-memory AWS fake (which holds every fake resource) and of nothing else.
//! It prints the README's table (header and one row per size) on standard output, and the machine (cores, load
//! average before and after) on standard error.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eks_aws::fake::{FakeAws, FakeConfig};
use eks_controller::context::Timing;
use futures::StreamExt;
use kube::api::{DynamicObject, ListParams, PostParams};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Child role: the API server emulator on a free port; prints its URL and serves until killed.
async fn serve_emulator() {
    let emulator = kube_emulator::Emulator::start().await.unwrap();
    println!("{}", emulator.url());
    std::future::pending::<()>().await;
}

/// Child role: the controller and a fleet of `n` objects against the emulator at `url`.
async fn run(n: usize, url: &str) {
    let mut kube_config = kube::Config::new(url.parse().unwrap());
    kube_config.default_namespace = "default".into();
    let client = kube::Client::try_from(kube_config).unwrap();
    let fake = FakeAws::new(FakeConfig::default());
    fake.instrument().set_latency(Duration::from_millis(2));
    let drift = Duration::from_secs(15);
    let timing = Timing {
        drift_period: drift,
        progress_period: Duration::from_millis(500),
        ..Timing::default()
    };
    let controller = support::Controller::start(&client, &fake, timing, 32).await;

    let api = support::eks_clusters(&client, "default");
    let started = Instant::now();
    for i in 0..n {
        let object: DynamicObject =
            serde_json::from_value(support::two_region_cluster(&format!("c{i}"))).unwrap();
        api.create(&PostParams::default(), &object).await.unwrap();
    }
    // Readiness is read from the controller's own objects-by-phase gauge: listing a large fleet from this
    // process every few hundred milliseconds would add its own allocations to the memory figure.
    // Generous: a limit, not a target (a thousand objects take about a minute on two cores).
    let limit = Duration::from_secs(900) + Duration::from_millis(300) * n as u32;
    while controller.objects_in_phase("Ready") < n as f64 {
        assert!(
            started.elapsed() < limit,
            "not all {n} objects Ready after {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let to_ready = started.elapsed();
    let first_build = fake.instrument().stats().total() as f64 / n as f64;
    let reconciles_at_ready = controller.reconciles();

    // One drift period of no-change passes.
    fake.instrument().reset_stats();
    let before = controller.reconciles();
    tokio::time::sleep(drift + Duration::from_secs(5)).await;
    let passes = controller.reconciles() - before;
    let per_pass = if passes > 0.0 {
        fake.instrument().stats().total() as f64 / passes
    } else {
        0.0
    };
    let reads_only = fake.instrument().stats().mutations == 0;

    let peak = peak_rss_mib();
    let fake_alone: f64 = std::env::var("FLEET_FAKE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // One Markdown table row, as the README quotes it.
    println!(
        "| {n} | {:.1} s | {first_build:.0} | {per_pass:.1} ({}) | {:.0} | {peak:.0} MiB | {fake_alone:.0} MiB | {:.0} MiB |",
        to_ready.as_secs_f64(),
        if reads_only { "reads only" } else { "with writes" },
        reconciles_at_ready / to_ready.as_secs_f64(),
        peak - fake_alone,
    );
    // Checked after the memory figure: the list of the whole fleet is this process's, not the controller's.
    let listed = api.list(&ListParams::default()).await.unwrap();
    assert!(listed.items.iter().all(|o| o.data["status"]["phase"] == "Ready"));
    controller.stop().await;
}

/// Child role: the AWS fake alone, filled with what a fleet of `n` holds (the engine driven directly, no
/// controller), so that its share of the fleet process's memory can be told apart.
async fn fill_fake(n: usize) {
    let fake = FakeAws::new(FakeConfig::default());
    let context = fake.context();
    let regions = futures::stream::iter(0..n)
        .flat_map(|i| {
            let mut object: eks_api::EksCluster =
                serde_json::from_value(support::two_region_cluster(&format!("c{i}"))).unwrap();
            object.metadata.uid = Some(format!("00000000-0000-0000-0000-{i:012}"));
            let cluster = Arc::new(eks_api::validate::validate(&object).unwrap());
            let regions: Vec<_> = cluster
                .regions()
                .iter()
                .map(|r| (cluster.clone(), r.region.clone()))
                .collect();
            futures::stream::iter(regions)
        })
        .map(|(cluster, region)| {
            let context = &context;
            async move {
                let mut recorded = eks_aws::RecordedRegion::default();
                loop {
                    let report = eks_aws::ensure_region(context, &cluster, &region, &recorded).await;
                    assert!(report.error.is_none(), "{:?}", report.error);
                    if report.phase == eks_aws::RegionPhase::Ready {
                        break;
                    }
                    recorded = eks_aws::RecordedRegion::from_status(&report.to_status(), false);
                }
            }
        })
        .buffer_unordered(32);
    regions.for_each(|()| async {}).await;
    println!("{:.0}", peak_rss_mib());
}

/// The machine the figures come from: cores and load average (1, 5 and 15 minutes).
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cores} cores, load average {}", load.join(" "))
}

/// Driver: one emulator process and one fleet process per size.
fn drive(sizes: &str) {
    let me = std::env::current_exe().unwrap();
    eprintln!("fleet benchmark on {} (before)", machine());
    println!(
        "| objects | all Ready after | AWS calls per object, first build | AWS calls per object, no-change pass | reconciles/s | peak RSS, controller + AWS fake | AWS fake alone | controller (difference) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for size in sizes.split(',').filter_map(|s| s.trim().parse::<usize>().ok()) {
        let mut emulator = Command::new(&me)
            .env("FLEET_ROLE", "emulator")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(emulator.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let fake_alone = Command::new(&me)
            .env("FLEET_ROLE", "fake")
            .env("FLEET_SIZE", size.to_string())
            .output()
            .unwrap();
        assert!(fake_alone.status.success(), "filling the fake for {size} failed");
        let fake_mib = String::from_utf8_lossy(&fake_alone.stdout).trim().to_owned();
        let status = Command::new(&me)
            .env("FLEET_ROLE", "fleet")
            .env("FLEET_FAKE_MIB", &fake_mib)
            .env("FLEET_SIZE", size.to_string())
            .env("FLEET_API_SERVER", url.trim())
            .status()
            .unwrap();
        let _ = emulator.kill();
        let _ = emulator.wait();
        assert!(status.success(), "the fleet of {size} failed");
    }
    eprintln!("fleet benchmark on {} (after)", machine());
}

fn main() {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    match std::env::var("FLEET_ROLE").as_deref() {
        Ok("emulator") => runtime().block_on(serve_emulator()),
        Ok("fake") => {
            let size = std::env::var("FLEET_SIZE").unwrap().parse().unwrap();
            runtime().block_on(fill_fake(size));
        }
        Ok("fleet") => {
            let size = std::env::var("FLEET_SIZE").unwrap().parse().unwrap();
            let url = std::env::var("FLEET_API_SERVER").unwrap();
            runtime().block_on(run(size, &url));
        }
        _ => drive(&std::env::var("FLEET_SIZES").unwrap_or_else(|_| "1,100,1000,10000".into())),
    }
}
