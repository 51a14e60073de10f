//! `eks-operator dev`: the whole operator on one machine. The emulator from `kube-emulator` is the management
//! cluster (in memory, with the CRD installed), the local AWS endpoint ([`aws::LocalAws`]: `eks-emulator` in
//! front of `moto_server`) is AWS, and the controller runs against both.
//!
//! Every way out goes through the same shutdown: the signal handlers are installed before anything starts,
//! and what the local mode created (the kubeconfig file, moto, the emulator) is given back on errors,
//! timeouts and signals alike. With real AWS, leaving first deletes every EksCluster and waits for the
//! teardown (see [`teardown`]).

mod aws;
mod local;
mod progress;
mod settings;
mod teardown;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_config::SdkConfig;
use eks_api::EksClusterStatus;
use eks_aws::EngineOptions;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube_emulator::{Emulator, Options};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cli::{DevArgs, RunArgs};
use crate::commands::run as run_command;
use local::{KubeconfigFile, Signals};
use settings::Settings;

const EXAMPLE: &str = include_str!("../../../../deploy/examples/cloudlad-two-regions.yaml");
const EXAMPLE_PATH: &str = "deploy/examples/cloudlad-two-regions.yaml";

/// Runs the local mode until Ctrl-C (or right after the summary with `--exit-after-summary`).
pub fn run(args: &DevArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(dev(args))
}

async fn dev(args: &DevArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_args(args);
    // First of all: from here on a Ctrl-C is handled (no child can be left behind by the default action).
    let signals = Signals::install().context("installing the SIGINT and SIGTERM handlers")?;
    // Before anything starts: refuses an existing file. Dropped (so removed) on every way out.
    let mut kubeconfig = KubeconfigFile::reserve(args.kubeconfig.as_deref())?;
    print!("{}", settings::banner(args, &settings, EXAMPLE));

    let emulator = Emulator::start_with(Options { port: args.kube_port })
        .await
        .context("starting the Kubernetes API server")?;
    kubeconfig.write(&emulator.kubeconfig())?;
    let client = emulator.client();
    install_crd(&client).await?;

    let (local_aws, sdk): (Option<aws::LocalAws>, SdkConfig) = if args.real_aws {
        (None, eks_aws::context::load_sdk_config().await)
    } else {
        // moto is a child process, killed when `local_aws` is stopped or dropped (on every way out below).
        let local_aws = aws::LocalAws::start(args.aws_port).await?;
        let sdk = local_aws.sdk_config().await;
        (Some(local_aws), sdk)
    };
    if signals.stop_requested() {
        println!("Interrupted while starting; stopped.");
        emulator.shutdown().await;
        if let Some(local_aws) = local_aws {
            local_aws.stop().await;
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("Kubernetes API  {}", emulator.url());
    if let Some(local_aws) = &local_aws {
        println!("AWS endpoint    {}", local_aws.endpoint());
        println!("AWS (moto)      {}", local_aws.backend());
    }
    println!("kubeconfig      {}\n", kubeconfig.path().display());
    println!("  export KUBECONFIG={}\n", kubeconfig.path().display());

    let controller = Controller::spawn(client.clone(), sdk, &settings);
    let outcome = session(args, &settings, &client, kubeconfig.path(), &signals, &controller).await;
    let mut code = ExitCode::SUCCESS;
    if let Err(err) = &outcome {
        eprintln!("error: {err:#}");
        code = ExitCode::FAILURE;
    }
    if settings.tear_down_on_exit {
        let failed = || controller.failure();
        match teardown::tear_down_all(&client, settings.timeout, &signals, failed).await {
            Ok(teardown::Outcome::Nothing | teardown::Outcome::Done) => {}
            Ok(teardown::Outcome::Cut) => code = ExitCode::FAILURE,
            Err(err) => {
                eprintln!("error: deleting the EksCluster objects: {err:#}");
                code = ExitCode::FAILURE;
            }
        }
    }
    controller.stop().await;
    emulator.shutdown().await;
    if let Some(local_aws) = local_aws {
        local_aws.stop().await;
    }
    drop(kubeconfig);
    println!(
        "\nStopped: the controller, the Kubernetes API server and the local AWS endpoint (and moto) are down, \
         the kubeconfig is removed."
    );
    Ok(code)
}

/// Applies the example and follows it to the summary, then serves until a signal.
async fn session(
    args: &DevArgs,
    settings: &Settings,
    client: &kube::Client,
    kubeconfig: &std::path::Path,
    signals: &Signals,
    controller: &Controller,
) -> anyhow::Result<()> {
    if args.no_example {
        print!("{}", progress::nothing_applied(kubeconfig));
    } else {
        apply_example(client).await?;
        println!("Applied {EXAMPLE_PATH} (EksCluster default/cloudlad). Regions:");
        let Some((status, cidrs)) = follow(
            client,
            "default",
            "cloudlad",
            settings.timeout,
            signals,
            controller,
        )
        .await?
        else {
            return Ok(());
        };
        print!(
            "{}",
            progress::summary("cloudlad", "default", &status, &cidrs, kubeconfig)
        );
    }
    if args.exit_after_summary || signals.stop_requested() {
        return Ok(());
    }
    if settings.tear_down_on_exit {
        println!("\nServing until Ctrl-C (which first deletes every EksCluster and waits for the teardown).");
    } else {
        println!("\nServing until Ctrl-C.");
    }
    tokio::select! {
        () = signals.beyond(0) => Ok(()),
        failure = controller.failed() => bail!("the controller stopped: {failure}"),
    }
}

/// The controller as a task of this process.
struct Controller {
    stop: watch::Sender<bool>,
    failure: watch::Receiver<Option<String>>,
    task: JoinHandle<()>,
}

impl Controller {
    fn spawn(client: kube::Client, sdk: SdkConfig, settings: &Settings) -> Self {
        let run_args = RunArgs {
            namespace: None,
            selector: None,
            drift_period: Duration::from_secs(60),
            progress_period: settings.progress_period,
            max_concurrent_reconciles: 8,
            leader_election: false,
            lease_name: "eks-operator".into(),
            lease_namespace: None,
            http_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let options = EngineOptions::default();
        let (stop, stop_rx) = watch::channel(false);
        let (failure_tx, failure) = watch::channel(None);
        let task = tokio::spawn(async move {
            let result = run_command::start(client, sdk, options, &run_args, stop_rx, |_| {}).await;
            let _ = failure_tx.send(Some(match result {
                Ok(()) => "it ended".to_owned(),
                Err(err) => format!("{err:#}"),
            }));
        });
        Self { stop, failure, task }
    }

    /// Why the controller stopped, once it has (before [`Self::stop`] it never should).
    fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    /// Waits until the controller stops by itself.
    async fn failed(&self) -> String {
        let mut failure = self.failure.clone();
        match failure.wait_for(Option::is_some).await {
            Ok(failure) => failure.clone().unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }

    /// Lets in-flight reconciles finish, as on SIGTERM, for at most 30 s.
    async fn stop(self) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!("the controller did not stop within 30 s; stopping it");
                abort.abort();
            }
        }
        if let Some(failure) = self.failure.borrow().as_deref()
            && failure != "it ended"
        {
            eprintln!("controller: {failure}");
        }
    }
}

async fn install_crd(client: &kube::Client) -> anyhow::Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &eks_api::crd::crd())
        .await
        .context("installing the EksCluster CRD")?;
    Ok(())
}

async fn apply_example(client: &kube::Client) -> anyhow::Result<()> {
    let value: serde_json::Value = serde_saphyr::from_str(EXAMPLE)?;
    let resource = kube::core::ApiResource::erase::<eks_api::EksCluster>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
    api.patch(
        "cloudlad",
        &PatchParams::apply("eks-operator-dev"),
        &Patch::Apply(&value),
    )
    .await
    .context("applying the example")?;
    Ok(())
}

/// Shows progress until the object is Ready (returns its status and each region's VPC CIDR), the timeout
/// passes (an error), the controller stops (an error) or a signal arrives (`None`).
async fn follow(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
    signals: &Signals,
    controller: &Controller,
) -> anyhow::Result<Option<(EksClusterStatus, BTreeMap<String, String>)>> {
    let resource = kube::core::ApiResource::erase::<eks_api::EksCluster>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let mut progress = progress::Progress::stdout();
    let start = Instant::now();
    loop {
        if signals.stop_requested() {
            return Ok(None);
        }
        if let Some(failure) = controller.failure() {
            bail!("the controller stopped: {failure}");
        }
        if let Some(object) = api.get_opt(name).await?
            && let Some(status) = object
                .data
                .get("status")
                .and_then(|s| serde_json::from_value::<EksClusterStatus>(s.clone()).ok())
        {
            progress.show(&progress::region_lines("", &status), start.elapsed());
            if status.phase == Some(eks_api::Phase::Ready) {
                return Ok(Some((status, vpc_cidrs(&object))));
            }
        }
        if start.elapsed() >= timeout {
            bail!(
                "{namespace}/{name} was not Ready after {} (see `kubectl describe eksc {name}`; --timeout waits \
                 longer)",
                settings::human(timeout)
            );
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            () = signals.beyond(0) => {}
        }
    }
}

/// Each region's VPC CIDR, from the object's spec with the region's overrides.
fn vpc_cidrs(object: &DynamicObject) -> BTreeMap<String, String> {
    serde_json::to_value(object)
        .ok()
        .and_then(|value| serde_json::from_value::<eks_api::EksCluster>(value).ok())
        .and_then(|cluster| eks_api::validate(&cluster).ok())
        .map(|cluster| {
            cluster
                .regions()
                .iter()
                .map(|r| (r.region.to_string(), r.network.vpc_cidr.to_string()))
                .collect()
        })
        .unwrap_or_default()
}
