//! `eks-operator run`: the controller, wired to the management cluster and to AWS from their standard
//! configuration.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use aws_config::SdkConfig;
use eks_api::RegionName;
use eks_aws::{AwsContext, EngineOptions, SdkProvider};
use eks_controller::aws_infra::AwsInfrastructure;
use eks_controller::context::Timing;
use eks_controller::metrics::Metrics;
use eks_controller::runner::{self, LeaderElection, Parts, RunConfig};
use eks_controller::workload::KubeWorkloadClusters;
use eks_controller::workload::token::StsTokenSource;
use tokio::sync::watch;

use crate::cli::RunArgs;

/// Runs the controller until SIGTERM or SIGINT; in-flight reconciles finish first.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = kube::Client::try_default().await.context(
            "connecting to the management cluster (in-cluster service account, KUBECONFIG or ~/.kube/config)",
        )?;
        let sdk = eks_aws::context::load_sdk_config().await;
        let shutdown = shutdown_on_signals();
        start(client, sdk, EngineOptions::default(), args, shutdown, |_| {}).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Flips to true on SIGTERM or SIGINT.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: letting in-flight reconciles finish");
        let _ = tx.send(true);
    });
    rx
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Checks AWS credentials, then runs the controller until `shutdown`. Shared by `run` and the local mode.
pub async fn start(
    client: kube::Client,
    sdk: SdkConfig,
    options: EngineOptions,
    args: &RunArgs,
    shutdown: watch::Receiver<bool>,
    on_http: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    let home_region = sdk
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    let home_region = RegionName::parse(&home_region).map_err(anyhow::Error::msg)?;
    let credentials = sdk.credentials_provider();
    let base_sdk = sdk.clone();
    // One Metrics for the HTTP endpoint and the AWS layer, which reports every call it makes to it.
    let metrics = Arc::new(Metrics::default());
    let context = AwsContext::new(Arc::new(SdkProvider::new(sdk)))
        .with_options(options)
        .with_observer(metrics.clone());
    let identity = context
        .check_credentials(&home_region)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(account = %identity.account, arn = %identity.arn, "AWS credentials checked");

    let tokens = StsTokenSource::assuming_roles(
        credentials.context("no AWS credentials provider is configured")?,
        base_sdk,
    );
    let parts = Parts {
        client,
        infra: Arc::new(AwsInfrastructure::new(Arc::new(context))),
        workload: Arc::new(KubeWorkloadClusters::new(tokens)),
        metrics,
    };
    let leader_election = args.leader_election.then(|| LeaderElection {
        lease_name: args.lease_name.clone(),
        lease_namespace: args
            .lease_namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        identity: std::env::var("POD_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| format!("eks-operator-{}", std::process::id())),
    });
    let config = RunConfig {
        namespace: args.namespace.clone(),
        selector: args.selector.clone(),
        timing: Timing {
            drift_period: args.drift_period,
            progress_period: args.progress_period,
            ..Timing::default()
        },
        max_concurrent_reconciles: args.max_concurrent_reconciles,
        leader_election,
        http_addr: args.http_addr,
        instance: std::env::var("POD_NAME").ok(),
    };
    runner::run(parts, config, shutdown, on_http).await?;
    Ok(())
}
