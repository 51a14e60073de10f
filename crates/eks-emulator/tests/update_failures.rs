//! The control endpoint's update failures (cluster, node group and add-on updates that end `Failed`) and add-on
//! health, through the real SDK.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_eks::types::{AddonStatus, NodegroupScalingConfig, NodegroupStatus, UpdateStatus};
use common::*;
use eks_emulator::timing::Timing;

async fn addon_status(eks: &aws_sdk_eks::Client, cluster: &str, addon: &str) -> AddonStatus {
    eks.describe_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        .send()
        .await
        .unwrap()
        .addon
        .unwrap()
        .status
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_endpoint_fails_updates_and_degrades_addons() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "ctl", &net).send().await.unwrap();
    active(&eks, "ctl").await;
    eks.create_addon()
        .cluster_name("ctl")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();

    let rule = r#"{"addonName": "coredns", "errorCode": "ConfigurationConflict", "errorMessage": "conflicts on replicas"}"#;
    let (status, _) = control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/ctl/update-failures",
        rule,
    )
    .await;
    assert_eq!(status, 201);
    let update = eks
        .update_addon()
        .cluster_name("ctl")
        .addon_name("coredns")
        .addon_version("v1.11.4-eksbuild.14")
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    let failed = eks
        .describe_update()
        .name("ctl")
        .addon_name("coredns")
        .update_id(update.id().unwrap())
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(failed.status(), Some(&UpdateStatus::Failed));
    assert_eq!(failed.errors()[0].error_message(), Some("conflicts on replicas"));
    let addon = eks
        .describe_addon()
        .cluster_name("ctl")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(addon.status(), Some(&AddonStatus::UpdateFailed));
    assert_eq!(
        addon.addon_version(),
        Some("v1.12.1-eksbuild.2"),
        "a failed update changes nothing"
    );

    // The rule was used up: the next update succeeds.
    eks.update_addon()
        .cluster_name("ctl")
        .addon_name("coredns")
        .addon_version("v1.11.4-eksbuild.14")
        .send()
        .await
        .unwrap();
    assert_eq!(addon_status(&eks, "ctl", "coredns").await, AddonStatus::Active);

    // A cluster version update made to fail leaves the version where it was.
    control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/ctl/update-failures",
        "{}",
    )
    .await;
    let version = eks
        .update_cluster_version()
        .name("ctl")
        .version("1.33")
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    let failed = eks
        .describe_update()
        .name("ctl")
        .update_id(version.id().unwrap())
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(failed.status(), Some(&UpdateStatus::Failed));
    assert_eq!(active(&eks, "ctl").await.version(), Some("1.32"));

    let degraded = r#"{"status": "DEGRADED", "issues": [{"code": "InsufficientNumberOfReplicas", "message": "1 of 2 replicas ready"}]}"#;
    let (status, _) = control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/ctl/addons/coredns/status",
        degraded,
    )
    .await;
    assert_eq!(status, 201);
    let addon = eks
        .describe_addon()
        .cluster_name("ctl")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(addon.status(), Some(&AddonStatus::Degraded));
    assert_eq!(
        addon.health().unwrap().issues()[0].message(),
        Some("1 of 2 replicas ready")
    );

    for (path, body) in [
        (
            "/emulator/v1/clusters/ctl/update-failures",
            r#"{"errorCode": "Oops"}"#,
        ),
        (
            "/emulator/v1/clusters/ctl/update-failures",
            r#"{"addonName": "vpc-cni"}"#,
        ),
        ("/emulator/v1/clusters/ctl/update-failures", r#"{"count": 0}"#),
        (
            "/emulator/v1/clusters/ctl/update-failures",
            r#"{"nodegroup": "x"}"#,
        ),
        ("/emulator/v1/clusters/none/update-failures", "{}"),
        (
            "/emulator/v1/clusters/ctl/addons/coredns/status",
            r#"{"status": "FINE"}"#,
        ),
        (
            "/emulator/v1/clusters/ctl/addons/vpc-cni/status",
            r#"{"status": "DEGRADED"}"#,
        ),
        (
            "/emulator/v1/clusters/ctl/addons/coredns/status",
            r#"{"status": "DEGRADED", "issues": [{"code": "Bad", "message": "x"}]}"#,
        ),
    ] {
        let (status, _) = control(&stack.emulator, "POST", path, body).await;
        assert!(status == 400 || status == 404, "{path} {body}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_group_update_made_to_fail_changes_nothing() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "ng", &net).send().await.unwrap();
    active(&eks, "ng").await;
    eks.create_nodegroup()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .node_role(&net.node_role_arn)
        .set_subnets(Some(net.subnets.clone()))
        .send()
        .await
        .unwrap();
    let rule = r#"{"nodegroupName": "workers", "errorCode": "NodeCreationFailure", "count": 1}"#;
    let (status, _) = control(
        &stack.emulator,
        "POST",
        "/emulator/v1/clusters/ng/update-failures",
        rule,
    )
    .await;
    assert_eq!(status, 201);
    let scale = |desired| {
        eks.update_nodegroup_config()
            .cluster_name("ng")
            .nodegroup_name("workers")
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(1)
                    .max_size(3)
                    .desired_size(desired)
                    .build(),
            )
    };
    let update = scale(3).send().await.unwrap().update.unwrap();
    let failed = eks
        .describe_update()
        .name("ng")
        .nodegroup_name("workers")
        .update_id(update.id().unwrap())
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(failed.status(), Some(&UpdateStatus::Failed));
    assert_eq!(
        failed.errors()[0].error_code().map(|c| c.as_str().to_owned()),
        Some("NodeCreationFailure".to_owned())
    );
    let group = eks
        .describe_nodegroup()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .send()
        .await
        .unwrap()
        .nodegroup
        .unwrap();
    assert_eq!(group.status(), Some(&NodegroupStatus::Active));
    assert_eq!(
        group.scaling_config().unwrap().desired_size(),
        Some(2),
        "a failed update changes nothing"
    );
    // The rule is used up: the next update succeeds.
    let next = scale(3).send().await.unwrap().update.unwrap();
    let done = eks
        .describe_update()
        .name("ng")
        .nodegroup_name("workers")
        .update_id(next.id().unwrap())
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(done.status(), Some(&UpdateStatus::Successful));
}
