//! `eks-operator dev` run as a user would, as a child process without a terminal: wait for the summary, use
//! kubectl with the printed kubeconfig, compare the summary with moto for both regions, interrupt it, and
//! check that it exits 0 and leaves no process, port or file behind. Also: an existing kubeconfig is refused
//! and left as it was, `--no-example`, `--exit-after-summary`, and the teardown on exit that `--real-aws`
//! does (through its hidden test flag, against moto).
#![allow(clippy::unwrap_used)]

mod dev_mode_support;
mod operator_support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use dev_mode_support::{
    Dev, assert_stopped, assert_stopped_cleanly, children_with_moto, ids, moto_context, port_of,
    summary_block,
};
use eks_aws::types::Filter;
use eks_e2e::{kubectl, kubectl_ok, tool};
use operator_support::{REGIONS, clients};

#[test]
fn dev_mode_runs_the_seed_example_and_stops_cleanly() {
    let mut dev = Dev::start(&["--timeout", "120s"]);
    dev.wait_for("Serving until Ctrl-C", Duration::from_secs(180));
    let text = dev.text();
    assert!(text.contains("State is in memory"), "{text}");
    assert!(text.contains("EksCluster default/cloudlad is Ready"), "{text}");
    // Not a terminal: no escape sequences, and the progress as plain lines, each printed once when it changed.
    assert!(!text.contains('\x1b'), "{text:?}");
    for region in REGIONS {
        let phases: Vec<&str> = dev
            .output
            .iter()
            .filter_map(|l| l.strip_prefix(region)?.split_whitespace().next())
            .collect();
        assert!(
            phases.first() == Some(&"Provisioning") && phases.last() == Some(&"Ready"),
            "progress lines of {region}: {phases:?}\n{text}"
        );
    }
    let kubeconfig = PathBuf::from(dev.banner("kubeconfig "));
    assert!(kubeconfig.is_absolute() && kubeconfig.is_file(), "{text}");
    let kube_port = port_of(&dev.banner("Kubernetes API"));
    let moto = dev.banner("AWS (moto)");
    let aws_endpoint = dev.banner("AWS endpoint");

    // `KUBECONFIG=<path> kubectl get eksc` works.
    let listed = Command::new(tool("kubectl", "KUBECTL"))
        .args(["get", "eksc"])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.lines().any(|l| l.starts_with("cloudlad ")), "{listed}");
    let status: serde_json::Value = serde_json::from_str(&kubectl_ok(
        &kubeconfig,
        &["get", "eksc", "cloudlad", "-o", "jsonpath={.status}"],
    ))
    .unwrap();
    assert_eq!(status["phase"], "Ready");

    // Both regions: the summary agrees with the object's status and with moto.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let aws = runtime.block_on(moto_context(&aws_endpoint));
    for (index, (region, cidr)) in REGIONS.iter().zip(["10.0.0.0/16", "10.1.0.0/16"]).enumerate() {
        let block = summary_block(&dev.output, region);
        let recorded = &status["regions"][index];
        assert_eq!(recorded["region"], *region);
        let cluster_id = format!("{region}-test-cloudlad");
        assert_eq!(block["cluster id"], cluster_id, "{block:?}");
        let (vpc_id, vpc_cidr) = block["vpc"].split_once(' ').unwrap();
        assert_eq!(vpc_id, recorded["vpcId"]);
        assert_eq!(vpc_cidr, format!("({cidr})"));
        let private = ids(&block["private subnets"]);
        let public = ids(&block["public subnets"]);
        assert_eq!((private.len(), public.len()), (3, 3), "{block:?}");
        assert_eq!(block["node groups"], "workers (ACTIVE, 2 nodes)");
        let config_map = format!("cloudlad-{region}-aws-auth");
        assert_eq!(block["aws-auth"], format!("ConfigMap default/{config_map}"));

        let (vpcs, subnets, cluster, groups, group, worker) = runtime.block_on(async {
            let c = clients(&aws, region).await;
            let vpcs = c.ec2.describe_vpcs(&[Filter::vpc(vpc_id)]).await.unwrap();
            let subnets = c.ec2.describe_subnets(&[Filter::vpc(vpc_id)]).await.unwrap();
            let cluster = c.eks.describe_cluster(&cluster_id).await.unwrap();
            let groups = c.eks.list_nodegroups(&cluster_id).await.unwrap();
            let group = c.eks.describe_nodegroup(&cluster_id, "workers").await.unwrap();
            let worker = c.iam.get_role(&format!("eks-worker-{cluster_id}")).await.unwrap();
            (vpcs, subnets, cluster, groups, group, worker)
        });
        assert_eq!(
            vpcs.len(),
            1,
            "the summary's VPC {vpc_id} exists in moto ({region})"
        );
        assert_eq!(vpcs[0].cidr, cidr);
        let in_moto: BTreeSet<String> = subnets.iter().map(|s| s.id.clone()).collect();
        assert_eq!(
            in_moto,
            &private | &public,
            "{region}: the VPC's subnets are the summary's"
        );
        let cluster = cluster.unwrap_or_else(|| panic!("no EKS cluster {cluster_id} in moto"));
        assert_eq!(block["endpoint"], cluster.endpoint.unwrap_or_default());
        assert!(
            !cluster.vpc.subnet_ids.is_empty() && cluster.vpc.subnet_ids.iter().all(|s| in_moto.contains(s)),
            "{region}: the control plane's subnets {:?} are the summary's",
            cluster.vpc.subnet_ids
        );
        assert_eq!(groups, ["workers"]);
        let group = group.unwrap();
        assert_eq!((group.status.as_str(), group.scaling.desired), ("ACTIVE", 2));
        let worker = worker.unwrap_or_else(|| panic!("no worker role of {cluster_id} in IAM"));
        assert_eq!(block["worker role"], worker.arn);

        // The generated aws-auth ConfigMap maps that role for the nodes.
        let map_roles = kubectl_ok(
            &kubeconfig,
            &["get", "configmap", &config_map, "-o", "jsonpath={.data.mapRoles}"],
        );
        let map_roles: Vec<serde_json::Value> = serde_saphyr::from_str(&map_roles).unwrap();
        let node = map_roles
            .iter()
            .find(|r| r["username"] == "system:node:{{EC2PrivateDNSName}}")
            .unwrap_or_else(|| panic!("no node entry in {config_map}: {map_roles:?}"));
        assert_eq!(node["rolearn"], worker.arn.as_str(), "{config_map}");
    }

    // Ctrl-C: exit 0, nothing left behind.
    let children = children_with_moto(&dev);
    dev.interrupt();
    assert_stopped_cleanly(
        &mut dev,
        &children,
        &[kube_port, port_of(&moto), port_of(&aws_endpoint)],
        &kubeconfig,
    );
}

#[test]
fn dev_mode_refuses_an_existing_kubeconfig_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let mine = "apiVersion: v1\nkind: Config\n# the user's own\n";
    std::fs::write(&config, mine).unwrap();
    let mut dev = Dev::start(&["--kubeconfig", config.to_str().unwrap()]);
    let exit = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(exit.code(), Some(1), "{}", dev.report());
    let stderr = dev.stderr();
    assert!(
        stderr.contains(&format!(
            "--kubeconfig {}: the file already exists",
            config.display()
        )) && stderr.contains("never overwrites"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), mine);
    // Nothing started: not even the banner.
    assert!(dev.output.is_empty(), "{}", dev.report());
}

#[test]
fn dev_mode_without_the_example_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dev.kubeconfig");
    let mut dev = Dev::start(&["--no-example", "--kubeconfig", config.to_str().unwrap()]);
    dev.wait_for("Serving until Ctrl-C", Duration::from_secs(60));
    assert_eq!(
        PathBuf::from(dev.banner("kubeconfig ")),
        config.canonicalize().unwrap()
    );
    let text = dev.text();
    assert!(text.contains("No example applied (--no-example)"), "{text}");
    assert!(!text.contains("Applied ") && !text.contains("is Ready"), "{text}");
    assert_eq!(kubectl_ok(&config, &["get", "eksc", "-A", "-o", "name"]), "");
    let (established, out, err) = kubectl(
        &config,
        &[
            "get",
            "crd",
            "eksclusters.eksoperator.io",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
        ],
    );
    assert!(established && out == "True", "{out}{err}");
    let ports = [
        port_of(&dev.banner("Kubernetes API")),
        port_of(&dev.banner("AWS (moto)")),
        port_of(&dev.banner("AWS endpoint")),
    ];
    let children = children_with_moto(&dev);
    dev.interrupt();
    assert_stopped_cleanly(&mut dev, &children, &ports, &config);
}

#[test]
fn dev_mode_exits_after_the_summary_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dev.kubeconfig");
    let mut dev = Dev::start(&[
        "--no-example",
        "--exit-after-summary",
        "--kubeconfig",
        config.to_str().unwrap(),
    ]);
    let exit = dev.wait_exit(Duration::from_secs(60));
    assert!(exit.success(), "{exit}\n{}", dev.report());
    let text = dev.text();
    assert!(
        text.contains("No example applied") && !text.contains("Serving until"),
        "{text}"
    );
    let ports = [
        port_of(&dev.banner("Kubernetes API")),
        port_of(&dev.banner("AWS (moto)")),
        port_of(&dev.banner("AWS endpoint")),
    ];
    assert_stopped_cleanly(&mut dev, &[], &ports, &config);
}

#[test]
fn dev_mode_without_moto_says_how_to_install_it_and_removes_its_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dev.kubeconfig");
    let empty = tempfile::tempdir().unwrap();
    // moto_server is looked up on PATH: an empty directory has none.
    let mut dev = Dev::start_with_env(
        &["--kubeconfig", config.to_str().unwrap()],
        &[("PATH", empty.path().as_os_str())],
    );
    let exit = dev.wait_exit(Duration::from_secs(60));
    assert_eq!(exit.code(), Some(1), "{}", dev.report());
    let stderr = dev.stderr();
    assert!(
        stderr.contains("moto_server is not on PATH: install it with `pip install 'moto[server]'`"),
        "{stderr}"
    );
    // The emulator was up and the kubeconfig written before moto was looked for: the error path removes it.
    assert!(!config.exists(), "{} was left behind", config.display());
}

#[test]
fn dev_mode_that_times_out_stops_moto_and_removes_its_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dev.kubeconfig");
    // The example needs several reconciles two seconds apart: it cannot be Ready within half a second.
    let mut dev = Dev::start(&["--timeout", "500ms", "--kubeconfig", config.to_str().unwrap()]);
    dev.wait_for("AWS (moto)", Duration::from_secs(60));
    let ports = [
        port_of(&dev.banner("Kubernetes API")),
        port_of(&dev.banner("AWS (moto)")),
        port_of(&dev.banner("AWS endpoint")),
    ];
    // It may end any moment now: its children are not listed (a moto left behind is found by its port).
    let exit = dev.wait_exit(Duration::from_secs(60));
    assert_eq!(exit.code(), Some(1), "{}", dev.report());
    assert!(
        dev.stderr()
            .contains("error: default/cloudlad was not Ready after 500ms"),
        "{}",
        dev.report()
    );
    assert!(!dev.text().contains("is Ready"), "{}", dev.report());
    assert_stopped(&dev, &[], &ports, &config);
}

/// What `--real-aws` does on exit, against moto: every EksCluster is deleted and the teardown awaited.
#[test]
fn dev_mode_tears_down_on_exit_when_asked() {
    let mut dev = Dev::start(&["--tear-down-on-exit", "--timeout", "120s"]);
    dev.wait_for(
        "Serving until Ctrl-C (which first deletes every EksCluster",
        Duration::from_secs(180),
    );
    let kubeconfig = PathBuf::from(dev.banner("kubeconfig "));
    let ports = [
        port_of(&dev.banner("Kubernetes API")),
        port_of(&dev.banner("AWS (moto)")),
        port_of(&dev.banner("AWS endpoint")),
    ];
    let children = children_with_moto(&dev);
    let served = dev.output.len();
    dev.interrupt();
    dev.wait_for("Every EksCluster is gone", Duration::from_secs(120));
    let after: Vec<&String> = dev.output[served..].iter().collect();
    assert!(
        after
            .iter()
            .any(|l| l.starts_with("Deleting 1 EksCluster object(s)")),
        "{after:?}"
    );
    for region in REGIONS {
        assert!(
            after.iter().any(|l| l
                .strip_prefix(region)
                .is_some_and(|r| r.trim_start().starts_with("Deleting"))),
            "no Deleting line for {region}: {after:?}"
        );
    }
    assert_stopped_cleanly(&mut dev, &children, &ports, &kubeconfig);
    assert!(!dev.stderr().contains("WARNING"), "{}", dev.report());
}
