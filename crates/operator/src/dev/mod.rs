//! `eks-operator dev`: the whole operator on one machine. The emulator from `kube-emulator` is the management
//! cluster (in memory, with the CRD installed), `moto_server` is AWS, and the controller runs against both.

mod progress;

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_config::SdkConfig;
use eks_api::EksClusterStatus;
use eks_aws::EngineOptions;
use eks_aws::testing::MotoServer;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube_emulator::{Emulator, Options};
use tokio::sync::watch;

use crate::cli::{DevArgs, RunArgs};
use crate::commands::run::{self, shutdown_on_signals};

const EXAMPLE: &str = include_str!("../../../../deploy/examples/cloudlad-two-regions.yaml");

/// Runs the local mode until Ctrl-C (or right after the summary with `--exit-after-summary`).
pub fn run(args: &DevArgs) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(dev(args))?;
    Ok(std::process::ExitCode::SUCCESS)
}

async fn dev(args: &DevArgs) -> anyhow::Result<()> {
    println!(
        "eks-operator local mode: an in-memory Kubernetes API server, {} and the controller.",
        if args.real_aws {
            "REAL AWS (as you asked)"
        } else {
            "moto as AWS"
        }
    );
    println!("State is in memory and is gone when this process ends.\n");

    let emulator = Emulator::start_with(Options { port: args.kube_port }).await?;
    let kubeconfig = match &args.kubeconfig {
        Some(path) => path.clone(),
        None => std::env::temp_dir().join(format!("eks-operator-dev-{}.kubeconfig", std::process::id())),
    };
    emulator
        .write_kubeconfig(&kubeconfig)
        .with_context(|| format!("writing {}", kubeconfig.display()))?;
    let kubeconfig = std::fs::canonicalize(&kubeconfig).unwrap_or(kubeconfig);
    let client = emulator.client();
    install_crd(&client).await?;

    let (moto, sdk): (Option<MotoServer>, SdkConfig) = if args.real_aws {
        (None, eks_aws::context::load_sdk_config().await)
    } else {
        let moto = tokio::task::spawn_blocking({
            let port = args.aws_port;
            move || MotoServer::start_on(port)
        })
        .await?
        .map_err(anyhow::Error::msg)?;
        let sdk = moto.sdk_config().await;
        (Some(moto), sdk)
    };
    println!("Kubernetes API  {}", emulator.url());
    if let Some(moto) = &moto {
        println!("AWS (moto)      {}", moto.endpoint());
    }
    println!("kubeconfig      {}\n", kubeconfig.display());
    println!("  export KUBECONFIG={}\n", kubeconfig.display());

    let shutdown = shutdown_on_signals();
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = std::sync::Arc::new(stop_tx);
    let mut forward = shutdown.clone();
    let forward_stop = stop_tx.clone();
    tokio::spawn(async move {
        let _ = forward.wait_for(|s| *s).await;
        let _ = forward_stop.send(true);
    });
    let run_args = RunArgs {
        namespace: None,
        selector: None,
        drift_period: Duration::from_secs(60),
        progress_period: Duration::from_secs(2),
        max_concurrent_reconciles: 8,
        leader_election: false,
        lease_name: "eks-operator".into(),
        lease_namespace: None,
        http_addr: "127.0.0.1:0".parse()?,
        workload_endpoint_overrides: Vec::new(),
        no_vgw_route_propagation: !args.real_aws,
    };
    let options = EngineOptions {
        vgw_route_propagation: args.real_aws,
        ..EngineOptions::default()
    };
    let controller_client = client.clone();
    let controller = tokio::spawn(async move {
        run::start(controller_client, sdk, options, &run_args, stop_rx, |addr| {
            println!("metrics         http://{addr}/metrics\n");
        })
        .await
    });

    if !args.no_example {
        apply_example(&client).await?;
        println!("Applied deploy/examples/cloudlad-two-regions.yaml (EksCluster default/cloudlad). Regions:");
        let status = follow(&client, "default", "cloudlad", args.timeout, shutdown.clone()).await?;
        if let Some(status) = status {
            print!(
                "{}",
                progress::summary("cloudlad", "default", &status, &kubeconfig)
            );
        }
    }

    if !args.exit_after_summary {
        println!("\nServing until Ctrl-C.");
        let mut waiting = shutdown.clone();
        let _ = waiting.wait_for(|s| *s).await;
    }
    // Let in-flight reconciles finish, as on SIGTERM.
    let _ = stop_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(30), controller).await {
        Ok(Ok(Err(err))) => eprintln!("controller: {err:#}"),
        Err(_) => eprintln!("controller did not stop within 30 s"),
        _ => {}
    }
    emulator.shutdown().await;
    if let Some(moto) = moto {
        drop(moto);
    }
    let _ = std::fs::remove_file(&kubeconfig);
    println!("Stopped.");
    Ok(())
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
    .await?;
    Ok(())
}

/// Shows progress until the object is Ready (returns its status), the timeout passes, or Ctrl-C.
async fn follow(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Option<EksClusterStatus>> {
    let resource = kube::core::ApiResource::erase::<eks_api::EksCluster>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let mut progress = progress::Progress::default();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if *shutdown.borrow() {
            return Ok(None);
        }
        if let Some(object) = api.get_opt(name).await?
            && let Some(status) = object
                .data
                .get("status")
                .and_then(|s| serde_json::from_value::<EksClusterStatus>(s.clone()).ok())
        {
            progress.show(&status);
            if status.phase == Some(eks_api::Phase::Ready) {
                return Ok(Some(status));
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("{namespace}/{name} was not Ready after {}s", timeout.as_secs())
}
