//! End to end, the operator killed hard (SIGKILL) in the middle of provisioning and in the middle of deletion,
//! then started again: nothing is duplicated and nothing is orphaned. The restart of an operator whose object is
//! already Ready is part of `operator_lifecycle.rs`.
//!
//! The kill points are found by watching moto (every 20 ms) rather than by timing, and each test proves after
//! the kill that it really happened mid-way, so that a kill that came too late fails instead of passing
//! vacuously.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use eks_aws::types::Filter;
use eks_e2e::{kubectl, kubectl_ok, repo_root};
use operator_support::{
    OWNER_UID_TAG, Operator, Owned, REGIONS, SEED, World, available_nats, clients, cluster_exists,
    eventually, eventually_every, jsonpath, owned, owned_vpcs, wait_ready, world,
};

/// How often moto is looked at while waiting for a kill point.
const WATCH: Duration = Duration::from_millis(20);

fn ready_condition(config: &Path) -> String {
    kubectl(
        config,
        &[
            "get",
            "eksc",
            "cloudlad",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
    )
    .1
}

async fn owned_vpc_ids(w: &World, region: &str) -> Vec<String> {
    clients(&w.aws, region)
        .await
        .ec2
        .describe_vpcs(&[Filter::tag_key(OWNER_UID_TAG)])
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect()
}

/// Watches moto every 20 ms until `point` holds in some region, then kills the operator hard and returns
/// what is left in each region.
async fn kill_when<F, Fut>(w: &World, operator: &mut Operator, what: &str, point: F) -> Vec<Owned>
where
    F: Fn(&'static str) -> Fut,
    Fut: Future<Output = bool>,
{
    eventually_every(what, Duration::from_secs(120), WATCH, || async {
        for region in REGIONS {
            if point(region).await {
                return true;
            }
        }
        false
    })
    .await;
    operator.kill();
    let mut left = Vec::new();
    for region in REGIONS {
        left.push(owned(&w.aws, region).await);
    }
    eprintln!("left at the kill ({what}): {left:?}");
    left
}

/// The ids of the owned VPCs and NAT gateways of each region.
async fn network_ids(w: &World) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for region in REGIONS {
        let mut ids = owned_vpc_ids(w, region).await;
        ids.extend(available_nats(&w.aws, region).await);
        all.push(ids);
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_in_the_middle_of_provisioning_duplicates_nothing() {
    let w = world().await;
    let config = w.config.as_path();
    let aws = &w.aws;
    let log = |n: usize| w.log.with_file_name(format!("operator-{n}.log"));
    let mut first = Operator::start(config, &w.local_aws, &log(1));
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);

    // One ensure pass creates, per region and in this order, the IAM roles, the VPC, subnets, gateways,
    // elastic IP, NAT gateway, route tables, security groups and only then the EKS cluster (the OIDC provider
    // and the node group come in later passes, once the cluster is ACTIVE). From the VPC to the EKS cluster
    // are some thirty AWS calls made one after the other (about 0.7 s against moto on the test machines; from
    // the NAT gateway, about 0.5 s), so a watch every 20 ms kills the operator inside that pass. Each kill is
    // proven to have come before the EKS clusters.
    //
    // Kill 1: as soon as the first owned VPC exists, with next to nothing else of the network built.
    let at_kill = kill_when(&w, &mut first, "the first owned VPC", |region| async move {
        owned_vpcs(aws, region).await > 0
    })
    .await;
    assert!(
        at_kill.iter().any(|o| o.clusters == 0),
        "the first kill came too late: every region had its EKS cluster: {at_kill:#?}\n{}",
        std::fs::read_to_string(log(1)).unwrap_or_default()
    );
    assert_ne!(ready_condition(config), "True", "Ready before the first kill");
    let before_second = network_ids(&w).await;

    // Kill 2: the operator that takes over, as soon as a NAT gateway exists (subnets, gateways and the elastic
    // IP made, route tables and security groups not yet).
    let mut second = Operator::start(config, &w.local_aws, &log(2));
    let at_kill = kill_when(&w, &mut second, "an owned NAT gateway", |region| async move {
        !available_nats(aws, region).await.is_empty()
    })
    .await;
    assert!(
        at_kill.iter().any(|o| o.clusters == 0),
        "the second kill came too late: every region had its EKS cluster: {at_kill:#?}\n{}",
        std::fs::read_to_string(log(2)).unwrap_or_default()
    );
    assert_ne!(ready_condition(config), "True", "Ready before the second kill");
    let before_third = network_ids(&w).await;

    // A third operator finds what the others left, by its tags and names, and finishes the job.
    let _third = Operator::start(config, &w.local_aws, &log(3));
    wait_ready(config, &log(3));
    let after = network_ids(&w).await;
    for (i, region) in REGIONS.iter().enumerate() {
        assert_eq!(
            owned(&w.aws, region).await,
            Owned::seed_ready(),
            "{region}: exactly one of everything after the restarts (at the second kill: {:?})\n{}",
            at_kill[i],
            std::fs::read_to_string(log(3)).unwrap_or_default()
        );
        assert_eq!(
            owned_vpc_ids(&w, region).await,
            [jsonpath(config, &format!("{{.status.regions[{i}].vpcId}}"))],
            "{region}"
        );
        for id in before_second[i].iter().chain(&before_third[i]) {
            assert!(
                after[i].contains(id),
                "{region}: {id}, made before a kill, was replaced: {:?}",
                after[i]
            );
        }
        for generated in [
            format!("configmap/cloudlad-{region}-aws-auth"),
            format!("secret/cloudlad-{region}-kubeconfig"),
        ] {
            kubectl_ok(config, &["get", &generated]);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_in_the_middle_of_deletion_orphans_nothing() {
    let w = world().await;
    let config = w.config.as_path();
    let aws = &w.aws;
    // Kill point: an EKS cluster deleted while its VPC is still there. The teardown goes one dependency step
    // per pass and looks again only after the progress period: node groups, then the cluster, then the OIDC
    // provider and NAT gateways, then everything else. With a progress period of 3 s (instead of the
    // harness's 1 s) the operator sits idle for 3 s with the clusters gone and the whole network left, a
    // window that watching moto every 20 ms cannot miss.
    let args = ["--progress-period", "3s"].map(String::from);
    let mut first = Operator::start_with(config, &w.local_aws, &w.log, &args, &[]);
    let seed = repo_root().join(SEED);
    kubectl_ok(config, &["apply", "-f", seed.to_str().unwrap()]);
    wait_ready(config, &w.log);
    for region in REGIONS {
        assert_eq!(owned(&w.aws, region).await, Owned::seed_ready(), "{region}");
    }

    kubectl_ok(config, &["delete", "eksc", "cloudlad", "--wait=false"]);
    let at_kill = kill_when(
        &w,
        &mut first,
        "an EKS cluster deleted while its VPC is left",
        |region| async move { !cluster_exists(aws, region).await && owned_vpcs(aws, region).await > 0 },
    )
    .await;
    assert!(
        at_kill.iter().any(|o| o.clusters == 0 && o.vpcs == 1),
        "not mid-way at the kill: {at_kill:#?}"
    );
    assert_eq!(jsonpath(config, "{.status.phase}"), "Deleting");

    // A new operator picks the teardown up from the status and the tags and lets the object go at the end.
    let second_log = w.log.with_file_name("operator-restarted.log");
    let _second = Operator::start(config, &w.local_aws, &second_log);
    let (gone, out, err) = kubectl(
        config,
        &["wait", "--for=delete", "eksc/cloudlad", "--timeout=120s"],
    );
    assert!(
        gone,
        "not deleted: {out}{err}\n{}",
        std::fs::read_to_string(&second_log).unwrap_or_default()
    );
    for (i, region) in REGIONS.iter().enumerate() {
        assert_eq!(
            owned(&w.aws, region).await,
            Owned::default(),
            "{region}: left behind (at the kill: {:?})",
            at_kill[i]
        );
    }
    eventually(
        "generated objects to be garbage collected",
        Duration::from_secs(30),
        || async {
            kubectl_ok(config, &["get", "configmaps,secrets", "-o", "name"])
                .trim()
                .is_empty()
        },
    )
    .await;
}
