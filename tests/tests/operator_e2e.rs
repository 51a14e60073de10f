//! End to end: the real `eks-operator run` binary against the emulator (management cluster) and moto (AWS),
//! with kubectl as the user's hands. Everything is checked through kubectl and the AWS API.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eks_api::RegionName;
use eks_aws::testing::MotoServer;
use eks_aws::types::Filter;
use eks_aws::{AwsContext, RegionClients};
use eks_e2e::{kubectl, kubectl_ok, repo_root, workspace_binary};
use kube_emulator::Emulator;

const SEED: &str = "deploy/examples/cloudlad-two-regions.yaml";
const OWNER_UID_TAG: &str = "eksoperator.io/owner-uid";

/// The operator as a child process, killed when dropped.
struct Operator(Child);

impl Operator {
    fn start(kubeconfig: &Path, moto: &MotoServer, log: &Path) -> Self {
        Self::start_with(kubeconfig, moto, log, &[], &[])
    }

    /// Starts `eks-operator run` against moto with fast requeues, plus extra flags and environment.
    fn start_with(
        kubeconfig: &Path,
        moto: &MotoServer,
        log: &Path,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Self {
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new(workspace_binary("eks-operator", "eks-operator"))
            .args([
                "run",
                "--http-addr",
                "127.0.0.1:0",
                "--progress-period",
                "1s",
                "--drift-period",
                "2s",
            ])
            .arg("--no-vgw-route-propagation")
            .args(args)
            .envs(env.iter().copied())
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn clients(ctx: &AwsContext, region: &str) -> RegionClients {
    ctx.clients(&RegionName::parse(region).unwrap(), None)
        .await
        .unwrap()
}

async fn owned_vpcs(ctx: &AwsContext, region: &str) -> usize {
    let c = clients(ctx, region).await;
    c.ec2
        .describe_vpcs(&[Filter::tag_key(OWNER_UID_TAG)])
        .await
        .unwrap()
        .len()
}

async fn available_nats(ctx: &AwsContext, region: &str) -> Vec<String> {
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

fn jsonpath(config: &Path, path: &str) -> String {
    kubectl_ok(
        config,
        &["get", "eksc", "cloudlad", "-o", &format!("jsonpath={path}")],
    )
}

fn apply_text(config: &Path, text: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object.yaml");
    std::fs::write(&file, text).unwrap();
    kubectl(config, &["apply", "-f", file.to_str().unwrap()])
}

struct World {
    emulator: Emulator,
    _dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    moto: MotoServer,
    aws: AwsContext,
}

async fn world() -> World {
    let moto = MotoServer::start().expect("moto_server (scripts/install-test-tools.sh installs it)");
    let aws = moto.context().await;
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
        moto,
        aws,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_two_regions_full_lifecycle() {
    let w = world().await;
    let config = w.config.as_path();
    let mut operator = Some(Operator::start(config, &w.moto, &w.log));
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(
        ready,
        "not Ready: {out}{err}\n{}",
        std::fs::read_to_string(&w.log).unwrap_or_default()
    );

    // Status against what moto holds.
    for (i, region) in ["eu-west-1", "eu-west-2"].iter().enumerate() {
        let c = clients(&w.aws, region).await;
        let vpc_id = jsonpath(config, &format!("{{.status.regions[{i}].vpcId}}"));
        let vpcs = c
            .ec2
            .describe_vpcs(&[Filter::tag_key(OWNER_UID_TAG)])
            .await
            .unwrap();
        assert_eq!(vpcs.len(), 1, "{region}");
        assert_eq!(vpcs[0].id, vpc_id);
        assert_eq!(vpcs[0].cidr, if i == 0 { "10.0.0.0/16" } else { "10.1.0.0/16" });
        let role = c
            .iam
            .get_role(&format!("eks-worker-{region}-test-cloudlad"))
            .await
            .unwrap()
            .unwrap();
        let cm = kubectl_ok(
            config,
            &[
                "get",
                "configmap",
                &format!("cloudlad-{region}-aws-auth"),
                "-o",
                "jsonpath={.data.mapRoles}",
            ],
        );
        assert!(cm.contains(&format!("rolearn: {}", role.arn)), "{cm}");
        assert!(cm.contains("system:node:{{EC2PrivateDNSName}}"));
        let kubeconfig = kubectl_ok(
            config,
            &[
                "get",
                "secret",
                &format!("cloudlad-{region}-kubeconfig"),
                "-o",
                "jsonpath={.data.kubeconfig}",
            ],
        );
        assert!(!kubeconfig.is_empty());
        let cluster = c
            .eks
            .describe_cluster(&format!("{region}-test-cloudlad"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            jsonpath(config, &format!("{{.status.regions[{i}].clusterArn}}")),
            cluster.arn
        );
    }
    let events = kubectl_ok(config, &["get", "events", "-o", "jsonpath={.items[*].reason}"]);
    assert!(events.contains("Created") && events.contains("Ready"), "{events}");

    // Spec changes: scale the node group, add an allowed CIDR and an aws-auth role.
    let changed = std::fs::read_to_string(&seed)
        .unwrap()
        .replace("desiredSize: 2", "desiredSize: 3")
        .replace("[203.0.113.10/32]", "[203.0.113.10/32, 198.51.100.0/24]")
        .replace(
            "        groups: [system:masters]",
            "        groups: [system:masters]\n      - rolearn: \"arn:aws:iam::123456789012:role/auditor\"\n        username: auditor",
        );
    let (ok, out, err) = apply_text(config, &changed);
    assert!(ok, "{out}{err}");
    eventually(
        "AWS to follow the spec change",
        Duration::from_secs(60),
        || async {
            let c = clients(&w.aws, "eu-west-1").await;
            let group = c
                .eks
                .describe_nodegroup("eu-west-1-test-cloudlad", "workers")
                .await
                .ok()
                .flatten();
            let cluster = c
                .eks
                .describe_cluster("eu-west-1-test-cloudlad")
                .await
                .ok()
                .flatten();
            let cm = kubectl(
                config,
                &[
                    "get",
                    "configmap",
                    "cloudlad-eu-west-1-aws-auth",
                    "-o",
                    "jsonpath={.data.mapRoles}",
                ],
            )
            .1;
            group.is_some_and(|g| g.scaling.desired == 3)
                && cluster.is_some_and(|c| c.vpc.public_access_cidrs.iter().any(|x| x == "198.51.100.0/24"))
                && cm.contains("role/auditor")
        },
    )
    .await;

    // Drift: a NAT gateway deleted out of band comes back.
    let before = available_nats(&w.aws, "eu-west-1").await;
    assert_eq!(before.len(), 1);
    clients(&w.aws, "eu-west-1")
        .await
        .ec2
        .delete_nat_gateway(&before[0])
        .await
        .unwrap();
    eventually(
        "the NAT gateway to be recreated",
        Duration::from_secs(60),
        || async {
            let now = available_nats(&w.aws, "eu-west-1").await;
            now.len() == 1 && now[0] != before[0]
        },
    )
    .await;

    // A restart finds what exists and duplicates nothing.
    drop(operator.take());
    operator = Some(Operator::start(config, &w.moto, &w.log));
    tokio::time::sleep(Duration::from_secs(4)).await;
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(owned_vpcs(&w.aws, region).await, 1, "{region}");
        assert_eq!(available_nats(&w.aws, region).await.len(), 1, "{region}");
    }

    // A generated object deleted by hand is put back.
    kubectl_ok(config, &["delete", "configmap", "cloudlad-eu-west-2-aws-auth"]);
    eventually(
        "the aws-auth ConfigMap to come back",
        Duration::from_secs(30),
        || async { kubectl(config, &["get", "configmap", "cloudlad-eu-west-2-aws-auth"]).0 },
    )
    .await;

    // Deleting the object tears everything down before it goes.
    kubectl_ok(config, &["delete", "eksc", "cloudlad", "--timeout=120s"]);
    assert!(!kubectl(config, &["get", "eksc", "cloudlad"]).0);
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(owned_vpcs(&w.aws, region).await, 0, "{region}");
        let c = clients(&w.aws, region).await;
        assert!(
            c.iam
                .get_role(&format!("eks-worker-{region}-test-cloudlad"))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            c.eks
                .describe_cluster(&format!("{region}-test-cloudlad"))
                .await
                .unwrap()
                .is_none()
        );
    }
    eventually(
        "generated objects to be garbage collected",
        Duration::from_secs(10),
        || async {
            kubectl_ok(config, &["get", "configmaps,secrets", "-o", "name"])
                .trim()
                .is_empty()
        },
    )
    .await;
    drop(operator);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_or_reported_and_nothing_is_created() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.moto, &w.log);
    let seed = std::fs::read_to_string(repo_root().join(SEED)).unwrap();

    // Refused by the API server with the field named.
    let (ok, _, err) = apply_text(config, &seed.replace("vpcCidr: 10.0.0.0/16", "vpcCidr: ten-zero"));
    assert!(!ok);
    assert!(err.contains("spec.network.vpcCidr"), "{err}");
    let (ok, _, err) = apply_text(
        config,
        &seed.replace("  stage: test", "  stage: test\n  colour: blue"),
    );
    assert!(!ok);
    assert!(err.contains("unknown field \"spec.colour\""), "{err}");

    // Accepted by the schema, refused by the operator's validation: reported in status with the field.
    let bad = seed.replace("10.0.3.0/24", "10.9.3.0/24");
    let (ok, out, err) = apply_text(config, &bad);
    assert!(ok, "{out}{err}");
    eventually("InvalidSpec in status", Duration::from_secs(30), || async {
        let reason = kubectl(
            config,
            &[
                "get",
                "eksc",
                "cloudlad",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}",
            ],
        )
        .1;
        reason == "InvalidSpec"
    })
    .await;
    let message = jsonpath(config, "{.status.conditions[?(@.type==\"Ready\")].message}");
    assert!(
        message.contains("spec.network.privateSubnetCidrs[2]"),
        "{message}"
    );
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(
            owned_vpcs(&w.aws, region).await,
            0,
            "nothing is created for an invalid object"
        );
    }
    // An object that never validated is released at once.
    kubectl_ok(config, &["delete", "eksc", "cloudlad", "--timeout=30s"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_aws_auth_is_applied_into_the_workload_clusters() {
    let w = world().await;
    let config = w.config.as_path();
    // Each regional "workload cluster" is a second emulator; the operator reaches it through the override
    // that tests and the local mode use instead of the endpoints moto hands out.
    let workload = Emulator::start().await.unwrap();
    let workload_config = w.config.with_file_name("workload-kubeconfig");
    workload.write_kubeconfig(&workload_config).unwrap();
    let second = Emulator::start().await.unwrap();
    let second_config = w.config.with_file_name("second-kubeconfig");
    second.write_kubeconfig(&second_config).unwrap();
    // Someone else's entry already in the workload cluster must survive.
    let foreign = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::123456789012:role/break-glass\n      username: break-glass\n";
    let (ok, out, err) = apply_text(&workload_config, foreign);
    assert!(ok, "{out}{err}");

    let overrides = [
        format!(
            "--workload-endpoint-override=eu-west-1-test-cloudlad={}",
            workload.url()
        ),
        format!(
            "--workload-endpoint-override=eu-west-2-test-cloudlad={}",
            second.url()
        ),
    ];
    let operator = Operator::start_with(config, &w.moto, &w.log, &overrides, &[]);
    let seed = std::fs::read_to_string(repo_root().join(SEED))
        .unwrap()
        .replace("  awsAuth:\n", "  awsAuth:\n    manage: true\n");
    let (ok, out, err) = apply_text(config, &seed);
    assert!(ok, "{out}{err}");
    let map_roles = |c: &Path| {
        kubectl(
            c,
            &[
                "get",
                "configmap",
                "aws-auth",
                "-n",
                "kube-system",
                "-o",
                "jsonpath={.data.mapRoles}",
            ],
        )
        .1
    };
    eventually(
        "aws-auth in both workload clusters",
        Duration::from_secs(60),
        || async {
            map_roles(&workload_config).contains("eks-worker-eu-west-1-test-cloudlad")
                && map_roles(&second_config).contains("eks-worker-eu-west-2-test-cloudlad")
        },
    )
    .await;
    let roles = kubectl_ok(
        &workload_config,
        &[
            "get",
            "configmap",
            "aws-auth",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.data.mapRoles}",
        ],
    );
    assert!(roles.contains("system:node:{{EC2PrivateDNSName}}"), "{roles}");
    assert!(roles.contains("role/ops-admin"), "{roles}");
    assert!(
        roles.contains("role/break-glass"),
        "entries others added are kept: {roles}"
    );
    let tokens = workload.seen_bearer_tokens();
    assert!(
        tokens.iter().any(|t| t.starts_with("k8s-aws-v1.")),
        "aws-iam-authenticator tokens: {tokens:?}"
    );
    drop(operator);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_only_the_leader_reconciles_and_the_other_takes_over() {
    let w = world().await;
    let config = w.config.as_path();
    let start = |identity: &str| {
        let log = w.log.with_file_name(format!("{identity}.log"));
        let args = ["--leader-election", "--lease-namespace", "default"].map(String::from);
        Operator::start_with(config, &w.moto, &log, &args, &[("POD_NAME", identity)])
    };
    let holder = || {
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
    };
    let first = start("replica-a");
    eventually("replica-a to hold the lease", Duration::from_secs(30), || async {
        holder() == "replica-a"
    })
    .await;
    let second = start("replica-b");
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(ready, "{out}{err}");
    assert_eq!(holder(), "replica-a");
    let b_log = std::fs::read_to_string(w.log.with_file_name("replica-b.log")).unwrap_or_default();
    assert!(!b_log.contains("Created"), "the standby made AWS calls:\n{b_log}");

    drop(first);
    eventually(
        "replica-b to take over the lease",
        Duration::from_secs(60),
        || async { holder() == "replica-b" },
    )
    .await;
    // The new leader reconciles: a deleted generated object comes back.
    kubectl_ok(config, &["delete", "configmap", "cloudlad-eu-west-1-aws-auth"]);
    eventually(
        "replica-b to put the ConfigMap back",
        Duration::from_secs(30),
        || async { kubectl(config, &["get", "configmap", "cloudlad-eu-west-1-aws-auth"]).0 },
    )
    .await;
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_controller_survives_a_flaky_api_server() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.moto, &w.log);
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    // Failures and dropped watches while the regions are being built.
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.emulator.fail_next(15, 500);
    w.emulator.drop_watches();
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.emulator.fail_next(10, 429);
    let (ready, out, err) = kubectl(
        config,
        &["wait", "--for=condition=Ready", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(
        ready,
        "{out}{err}\n{}",
        std::fs::read_to_string(&w.log).unwrap_or_default()
    );
    // After watches are dropped again, changes are still seen.
    w.emulator.drop_watches();
    kubectl_ok(config, &["delete", "configmap", "cloudlad-eu-west-2-aws-auth"]);
    eventually(
        "the ConfigMap to come back after dropped watches",
        Duration::from_secs(60),
        || async { kubectl(config, &["get", "configmap", "cloudlad-eu-west-2-aws-auth"]).0 },
    )
    .await;
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(
            owned_vpcs(&w.aws, region).await,
            1,
            "{region}: nothing duplicated"
        );
    }
}
