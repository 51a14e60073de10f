//! The harness of the operator end-to-end tests (`operator_*.rs`): the real `eks-operator run` binary as a
//! child process against the in-process Kubernetes API server emulator (management cluster) and the local AWS
//! endpoint ([`LocalAws`]: eks-emulator in this process, in front of moto),
//! with kubectl as the user's hands. Each test builds its own [`World`]: own emulator, own moto, own
//! temporary directory, free loopback ports only.
// Every test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use eks_api::RegionName;
use eks_aws::moto::MotoServer;
use eks_aws::types::Filter;
use eks_aws::{AwsContext, RegionClients};
use eks_e2e::{kubectl, kubectl_ok, repo_root, tool, workspace_binary};
use kube_emulator::Emulator;

/// The seed's two-region example.
pub const SEED: &str = "deploy/examples/cloudlad-two-regions.yaml";
/// The regions of [`SEED`], in the order of `spec.regions` (and of `status.regions`).
pub const REGIONS: [&str; 2] = ["eu-west-1", "eu-west-2"];
/// The tag every AWS resource the operator owns carries.
pub const OWNER_UID_TAG: &str = "eksoperator.io/owner-uid";

/// The tests' AWS, as `eks-operator dev` runs it: moto behind the local AWS endpoint (eks-emulator in this
/// process, `fast` timing), which serves EKS, a TLS API server per cluster and the EC2 calls moto lacks.
pub struct LocalAws {
    /// The local AWS endpoint.
    pub server: eks_emulator::Emulator,
    /// moto behind it.
    pub moto: MotoServer,
}

impl LocalAws {
    /// Starts moto, then the endpoint in front of it.
    pub async fn start() -> Self {
        let moto = MotoServer::start().expect("moto_server (scripts/install-test-tools.sh installs it)");
        let server = eks_emulator::Emulator::start(eks_emulator::Config::new(moto.endpoint()))
            .await
            .unwrap();
        Self { server, moto }
    }

    /// `http://127.0.0.1:PORT`: the value of `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        self.server.url()
    }

    /// A context on the endpoint with moto's test credentials and quick requeues.
    pub async fn context(&self) -> AwsContext {
        let sdk = eks_aws::moto::local_sdk_config(&self.endpoint()).await;
        AwsContext::new(std::sync::Arc::new(eks_aws::SdkProvider::new(sdk)))
            .with_options(MotoServer::engine_options())
    }
}

/// The operator as a child process, killed (SIGKILL) when dropped.
pub struct Operator(Child);

impl Operator {
    /// Starts `eks-operator run` against the local AWS endpoint with the test defaults.
    pub fn start(kubeconfig: &Path, aws: &LocalAws, log: &Path) -> Self {
        Self::start_with(kubeconfig, aws, log, &[], &[])
    }

    /// Starts `eks-operator run` against the local AWS endpoint with fast requeues (`--progress-period 1s`, `--drift-period 2s`,
    /// unless `args` sets them), plus extra flags and environment. Its log (stderr) goes to `log`, which is
    /// truncated.
    pub fn start_with(
        kubeconfig: &Path,
        aws: &LocalAws,
        log: &Path,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Self {
        let log = std::fs::File::create(log).unwrap();
        let mut defaults = vec!["--http-addr", "127.0.0.1:0"];
        for (flag, value) in [("--progress-period", "1s"), ("--drift-period", "2s")] {
            if !args.iter().any(|a| a.starts_with(flag)) {
                defaults.extend([flag, value]);
            }
        }
        let child = run_command(kubeconfig, aws)
            .args(defaults)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self(child)
    }

    /// Kills the process hard (SIGKILL: no signal handler runs, in-flight reconciles are cut off wherever they
    /// are) and reaps it. Dropping does the same.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 250 ms until it holds; panics naming `what` after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_every(what, timeout, Duration::from_millis(250), check).await;
}

/// Polls `check` every `period` until it holds; panics naming `what` after `timeout`.
pub async fn eventually_every<F, Fut>(what: &str, timeout: Duration, period: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(period).await;
    }
    panic!("timed out waiting for {what}");
}

/// The AWS clients of a region on the test's moto.
pub async fn clients(ctx: &AwsContext, region: &str) -> RegionClients {
    ctx.clients(&RegionName::parse(region).unwrap(), None)
        .await
        .unwrap()
}

/// How many VPCs carry the ownership tag in a region.
pub async fn owned_vpcs(ctx: &AwsContext, region: &str) -> usize {
    let c = clients(ctx, region).await;
    c.ec2
        .describe_vpcs(&[Filter::tag_key(OWNER_UID_TAG)])
        .await
        .unwrap()
        .len()
}

/// The ids of the owned NAT gateways that are pending or available in a region.
pub async fn available_nats(ctx: &AwsContext, region: &str) -> Vec<String> {
    let c = clients(ctx, region).await;
    c.ec2
        .describe_nat_gateways(&[Filter::tag_key(OWNER_UID_TAG)])
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.state == "available" || n.state == "pending")
        .map(|n| n.id)
        .collect()
}

/// Whether the seed's EKS cluster of a region exists.
pub async fn cluster_exists(ctx: &AwsContext, region: &str) -> bool {
    clients(ctx, region)
        .await
        .eks
        .describe_cluster(&format!("{region}-test-cloudlad"))
        .await
        .unwrap()
        .is_some()
}

/// What of the seed's object exists in one region of moto, counted by kind: by the ownership tag for EC2, by
/// the names the operator gives for IAM roles and the EKS cluster, by the region's issuer for OIDC providers.
/// Resources in a final state (`deleted` NAT and VPN gateways, which moto keeps listing) do not count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owned {
    /// VPCs.
    pub vpcs: usize,
    /// Subnets.
    pub subnets: usize,
    /// Internet gateways.
    pub internet_gateways: usize,
    /// VPN gateways not deleted.
    pub vpn_gateways: usize,
    /// NAT gateways not deleted.
    pub nat_gateways: usize,
    /// Elastic IPs.
    pub elastic_ips: usize,
    /// Route tables (the VPC's untagged main table is not counted).
    pub route_tables: usize,
    /// Security groups (the VPC's untagged default group is not counted).
    pub security_groups: usize,
    /// Every network interface of the region, owned or not (a fresh moto has none): the NAT gateway's and the
    /// EKS control plane's.
    pub network_interfaces: usize,
    /// The control plane and worker IAM roles.
    pub roles: usize,
    /// IAM OIDC providers of the region's EKS issuer.
    pub oidc_providers: usize,
    /// EKS clusters.
    pub clusters: usize,
    /// Node groups of the EKS cluster.
    pub node_groups: usize,
}

impl Owned {
    /// What the seed's example is in every region once Ready: six subnets (three private, three public), one
    /// NAT gateway (`natGateways: Single`) with its elastic IP and network interface, the EKS control plane's
    /// network interfaces (one per zone of the cluster's three private subnets, as EKS makes them), a public
    /// and a private route table, the cluster and node security groups, two roles, one node group.
    pub fn seed_ready() -> Self {
        Self {
            vpcs: 1,
            subnets: 6,
            internet_gateways: 1,
            vpn_gateways: 1,
            nat_gateways: 1,
            elastic_ips: 1,
            route_tables: 2,
            security_groups: 2,
            network_interfaces: 4,
            roles: 2,
            oidc_providers: 1,
            clusters: 1,
            node_groups: 1,
        }
    }
}

/// Counts what exists of the seed's object in a region (see [`Owned`]).
pub async fn owned(ctx: &AwsContext, region: &str) -> Owned {
    let c = clients(ctx, region).await;
    let tagged = [Filter::tag_key(OWNER_UID_TAG)];
    let ec2 = &c.ec2;
    let cluster_name = format!("{region}-test-cloudlad");
    let mut roles = 0;
    for role in [
        format!("eks-cluster-{cluster_name}"),
        format!("eks-worker-{cluster_name}"),
    ] {
        roles += usize::from(c.iam.get_role(&role).await.unwrap().is_some());
    }
    let issuer = format!("oidc.eks.{region}.amazonaws.com/");
    let oidc_providers = c
        .iam
        .list_oidc_providers()
        .await
        .unwrap()
        .iter()
        .filter(|arn| arn.contains(&issuer))
        .count();
    let cluster = c.eks.describe_cluster(&cluster_name).await.unwrap();
    let node_groups = match &cluster {
        Some(_) => c.eks.list_nodegroups(&cluster_name).await.unwrap().len(),
        None => 0,
    };
    Owned {
        vpcs: ec2.describe_vpcs(&tagged).await.unwrap().len(),
        subnets: ec2.describe_subnets(&tagged).await.unwrap().len(),
        internet_gateways: ec2.describe_internet_gateways(&tagged).await.unwrap().len(),
        vpn_gateways: ec2
            .describe_vpn_gateways(&tagged)
            .await
            .unwrap()
            .iter()
            .filter(|g| g.state != "deleted")
            .count(),
        nat_gateways: ec2
            .describe_nat_gateways(&tagged)
            .await
            .unwrap()
            .iter()
            .filter(|n| n.state != "deleted")
            .count(),
        elastic_ips: ec2.describe_addresses(&tagged).await.unwrap().len(),
        route_tables: ec2.describe_route_tables(&tagged).await.unwrap().len(),
        security_groups: ec2.describe_security_groups(&tagged).await.unwrap().len(),
        network_interfaces: ec2.describe_network_interfaces(&[]).await.unwrap().len(),
        roles,
        oidc_providers,
        clusters: usize::from(cluster.is_some()),
        node_groups,
    }
}

/// `eks-operator run` (the workspace's binary) against this kubeconfig and the local AWS endpoint, with no
/// flag, test credentials, and none of the caller's AWS profile or operator log settings; standard input is
/// closed.
pub fn run_command(kubeconfig: &Path, aws: &LocalAws) -> Command {
    let mut command = Command::new(workspace_binary("eks-operator", "eks-operator"));
    command
        .arg("run")
        .env("KUBECONFIG", kubeconfig)
        .env("AWS_ENDPOINT_URL", aws.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("EKS_OPERATOR_LOG_FORMAT")
        .env_remove("EKS_OPERATOR_LOG")
        .stdin(Stdio::null());
    command
}

/// The identity holding the operator's leader Lease (`default/eks-operator`), empty when none does.
pub fn lease_holder(config: &Path) -> String {
    kubectl(
        config,
        &[
            "get",
            "lease",
            "eks-operator",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
    )
    .1
}

/// A JSONPath of the seed's object through kubectl.
pub fn jsonpath(config: &Path, path: &str) -> String {
    kubectl_ok(
        config,
        &["get", "eksc", "cloudlad", "-o", &format!("jsonpath={path}")],
    )
}

/// Waits (kubectl wait, 120 s) for the seed's object to be Ready; panics with the operator log if it is not.
pub fn wait_ready(config: &Path, log: &Path) {
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(
        ready,
        "not Ready: {out}{err}\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// One test's world: a management cluster (emulator) with the CRD established, a moto, and a temporary
/// directory holding the kubeconfig and the operator log. Dropping it stops both servers.
pub struct World {
    /// The management cluster.
    pub emulator: Emulator,
    _dir: tempfile::TempDir,
    /// kubeconfig of the management cluster.
    pub config: PathBuf,
    /// Where the operator's log goes (other logs go next to it).
    pub log: PathBuf,
    /// AWS: the local endpoint and moto behind it.
    pub local_aws: LocalAws,
    /// Clients on the local AWS endpoint for the test's own checks.
    pub aws: AwsContext,
}

/// Starts a [`World`].
pub async fn world() -> World {
    let local_aws = LocalAws::start().await;
    let aws = local_aws.context().await;
    let emulator = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    emulator.write_kubeconfig(&config).unwrap();
    let crd = repo_root().join("deploy/crds/eksclusters.eksoperator.io.yaml");
    kubectl_ok(&config, &["apply", "-f", crd.to_str().unwrap()]);
    kubectl_ok(
        &config,
        &[
            "wait",
            "--for=condition=Established",
            "crd/eksclusters.eksoperator.io",
            "--timeout=10s",
        ],
    );
    let log = dir.path().join("operator.log");
    World {
        emulator,
        _dir: dir,
        config,
        log,
        local_aws,
        aws,
    }
}

/// Writes the region's generated kubeconfig (Secret `cloudlad-<region>-kubeconfig`) to a file.
pub fn generated_kubeconfig(w: &World, region: &str) -> PathBuf {
    let data = kubectl_ok(
        &w.config,
        &[
            "get",
            "secret",
            &format!("cloudlad-{region}-kubeconfig"),
            "-o",
            "jsonpath={.data.kubeconfig}",
        ],
    );
    let text = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .unwrap();
    let path = w.config.with_file_name(format!("{region}-generated.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

/// kubectl with a workload kubeconfig and the environment its `aws eks get-token` plugin reads: the local
/// AWS endpoint and the operator's test credentials.
pub fn workload_kubectl(aws: &LocalAws, kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(tool("kubectl", "KUBECTL"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(kubeconfig.with_extension("cache"))
        .args(args)
        .env("AWS_ENDPOINT_URL", aws.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
