//! The AWS side of the local mode: one local AWS endpoint (`eks-emulator`, in this process) serving EKS with
//! its state machines, a TLS Kubernetes API server per cluster and the EC2 calls moto lacks, in front of a
//! `moto_server` child process for everything else. The operator (and the user's `aws` CLI, with
//! `AWS_ENDPOINT_URL`) talk only to the endpoint.

use anyhow::Context as _;
use aws_config::SdkConfig;
use eks_aws::moto::MotoServer;
use eks_emulator::timing::Timing;

/// moto behind the local AWS endpoint; both stop when this is dropped or [`Self::stop`]ped.
pub struct LocalAws {
    endpoint: eks_emulator::Emulator,
    moto: MotoServer,
}

impl LocalAws {
    /// Starts moto on a free port, then the endpoint on `port` (0: a free one) with `fast` timing.
    pub async fn start(port: u16) -> anyhow::Result<Self> {
        let moto = tokio::task::spawn_blocking(MotoServer::start).await??;
        let mut config = eks_emulator::Config::new(moto.endpoint());
        config.port = port;
        config.timing = Timing::Fast;
        let endpoint = eks_emulator::Emulator::start(config)
            .await
            .context("starting the local AWS endpoint (eks-emulator)")?;
        Ok(Self { endpoint, moto })
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        self.endpoint.url()
    }

    /// moto's own URL (behind the endpoint).
    pub fn backend(&self) -> String {
        self.moto.endpoint()
    }

    /// An SDK configuration on the endpoint with moto's dummy static credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        eks_aws::moto::local_sdk_config(&self.endpoint()).await
    }

    /// Stops the endpoint (and the clusters' API servers), then moto.
    pub async fn stop(self) {
        self.endpoint.shutdown().await;
        drop(self.moto);
    }
}
