//! Managed add-ons through the real SDK: the catalogue, configuration schemas, the add-on state machine, updates
//! and their failures, Pod Identity associations owned by add-ons, and every refused input.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_eks::types::{
    AddonPodIdentityAssociations, AddonStatus, ResolveConflicts, UpdateStatus, UpdateType,
};
use common::*;
use eks_emulator::timing::Timing;

async fn cluster(stack: &Stack, name: &str) -> aws_sdk_eks::Client {
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, name, &net).send().await.unwrap();
    active(&eks, name).await;
    eks
}

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
async fn addon_versions_are_paged_filtered_and_carry_one_default_per_kubernetes_version() {
    let stack = Stack::start(Timing::Instant).await;
    let eks = aws_sdk_eks::Client::new(&stack.sdk("eu-west-1").await);

    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = eks
            .describe_addon_versions()
            .kubernetes_version("1.32")
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for addon in page.addons() {
            names.push(addon.addon_name().unwrap().to_owned());
            let defaults: Vec<_> = addon
                .addon_versions()
                .iter()
                .filter(|v| v.compatibilities().iter().any(|c| c.default_version()))
                .collect();
            assert_eq!(defaults.len(), 1, "{:?}", addon.addon_name());
            for v in addon.addon_versions() {
                assert!(v.addon_version().unwrap().contains("-eksbuild."));
                assert_eq!(v.compatibilities().len(), 1);
                assert_eq!(v.compatibilities()[0].cluster_version(), Some("1.32"));
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "aws-ebs-csi-driver",
            "coredns",
            "eks-pod-identity-agent",
            "kube-proxy",
            "vpc-cni"
        ]
    );

    // kube-proxy has one line per Kubernetes minor: none of its 1.32 versions runs on 1.33.
    let proxy = eks
        .describe_addon_versions()
        .addon_name("kube-proxy")
        .kubernetes_version("1.33")
        .send()
        .await
        .unwrap();
    let versions: Vec<_> = proxy.addons()[0]
        .addon_versions()
        .iter()
        .map(|v| v.addon_version().unwrap().to_owned())
        .collect();
    assert!(versions.iter().all(|v| v.starts_with("v1.33.")), "{versions:?}");
    let all = eks
        .describe_addon_versions()
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    assert!(all.addons()[0].addon_versions().len() > versions.len());

    let config = eks
        .describe_addon_configuration()
        .addon_name("coredns")
        .addon_version("v1.12.1-eksbuild.2")
        .send()
        .await
        .unwrap();
    let schema: serde_json::Value = serde_json::from_str(config.configuration_schema().unwrap()).unwrap();
    assert_eq!(schema["properties"]["replicaCount"]["type"], "integer");
    let cni = eks
        .describe_addon_configuration()
        .addon_name("vpc-cni")
        .addon_version("v1.19.2-eksbuild.1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cni.pod_identity_configuration()[0].service_account(),
        Some("aws-node")
    );

    let missing = eks
        .describe_addon_configuration()
        .addon_name("coredns")
        .addon_version("v0.0.1-eksbuild.1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
    let bad_version = eks
        .describe_addon_versions()
        .kubernetes_version("1.20")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_version), "InvalidParameterException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_addon_moves_through_create_update_and_delete_with_its_pod_identity_association() {
    let stack = Stack::start(Timing::Fast).await;
    let eks = cluster(&stack, "addons").await;
    let role = "arn:aws:iam::123456789012:role/vpc-cni";

    let created = eks
        .create_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .addon_version("v1.19.2-eksbuild.1")
        .configuration_values(r#"{"env":{"ENABLE_PREFIX_DELEGATION":"true"}}"#)
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .pod_identity_associations(
            AddonPodIdentityAssociations::builder()
                .service_account("aws-node")
                .role_arn(role)
                .build()
                .unwrap(),
        )
        .client_request_token("create-1")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(created.status(), Some(&AddonStatus::Creating));
    assert_eq!(created.pod_identity_associations().len(), 1);
    // A retry with the same token answers the same add-on; without it the name is taken.
    let again = eks
        .create_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .client_request_token("create-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.addon().unwrap().addon_arn(), created.addon_arn());
    let taken = eks
        .create_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&taken), "ResourceInUseException");

    // EKS creates the association, in kube-system, owned by the add-on.
    let associations = eks
        .list_pod_identity_associations()
        .cluster_name("addons")
        .send()
        .await
        .unwrap();
    let summary = &associations.associations()[0];
    assert_eq!(summary.namespace(), Some("kube-system"));
    assert_eq!(summary.service_account(), Some("aws-node"));
    assert_eq!(
        Some(summary.association_arn().unwrap()),
        created.pod_identity_associations().first().map(String::as_str)
    );

    until(10, || async {
        (addon_status(&eks, "addons", "vpc-cni").await == AddonStatus::Active).then_some(())
    })
    .await;

    // The default version of the cluster's Kubernetes version when none is named.
    let coredns = eks
        .create_addon()
        .cluster_name("addons")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(coredns.addon_version(), Some("v1.12.1-eksbuild.2"));
    let page = eks
        .list_addons()
        .cluster_name("addons")
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.addons(), ["coredns"]);
    let rest = eks
        .list_addons()
        .cluster_name("addons")
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.addons(), ["vpc-cni"]);
    assert!(rest.next_token().is_none());

    let update = eks
        .update_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .addon_version("v1.19.5-eksbuild.3")
        .configuration_values(r#"{"env":{"WARM_IP_TARGET":"2"}}"#)
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(update.r#type(), Some(&UpdateType::AddonUpdate));
    assert_eq!(update.status(), Some(&UpdateStatus::InProgress));
    assert_eq!(
        addon_status(&eks, "addons", "vpc-cni").await,
        AddonStatus::Updating
    );
    let busy = eks
        .update_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .addon_version("v1.20.4-eksbuild.1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&busy), "ResourceInUseException");
    let id = update.id().unwrap().to_owned();
    until(10, || async {
        let u = eks
            .describe_update()
            .name("addons")
            .addon_name("vpc-cni")
            .update_id(&id)
            .send()
            .await
            .unwrap()
            .update
            .unwrap();
        (u.status() == Some(&UpdateStatus::Successful)).then_some(())
    })
    .await;
    let ids = eks
        .list_updates()
        .name("addons")
        .addon_name("vpc-cni")
        .send()
        .await
        .unwrap();
    assert_eq!(ids.update_ids(), std::slice::from_ref(&id));
    let cluster_updates = eks.list_updates().name("addons").send().await.unwrap();
    assert!(cluster_updates.update_ids().is_empty());
    let addon = eks
        .describe_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .send()
        .await
        .unwrap()
        .addon
        .unwrap();
    assert_eq!(addon.status(), Some(&AddonStatus::Active));
    assert_eq!(addon.addon_version(), Some("v1.19.5-eksbuild.3"));
    assert_eq!(
        addon.configuration_values(),
        Some(r#"{"env":{"WARM_IP_TARGET":"2"}}"#)
    );

    // Deleting with `preserve` keeps the association; without it, it goes with the add-on.
    let deleting = eks
        .delete_addon()
        .cluster_name("addons")
        .addon_name("vpc-cni")
        .preserve(true)
        .send()
        .await
        .unwrap();
    assert_eq!(deleting.addon().unwrap().status(), Some(&AddonStatus::Deleting));
    until(10, || async {
        let err = eks
            .describe_addon()
            .cluster_name("addons")
            .addon_name("vpc-cni")
            .send()
            .await
            .err()?;
        (code(&err) == "ResourceNotFoundException").then_some(())
    })
    .await;
    let kept = eks
        .list_pod_identity_associations()
        .cluster_name("addons")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.associations().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_addon_deleted_without_preserve_takes_its_association_and_a_deleted_cluster_its_addons() {
    let stack = Stack::start(Timing::Instant).await;
    let eks = cluster(&stack, "gone").await;
    eks.create_addon()
        .cluster_name("gone")
        .addon_name("aws-ebs-csi-driver")
        .pod_identity_associations(
            AddonPodIdentityAssociations::builder()
                .service_account("ebs-csi-controller-sa")
                .role_arn("arn:aws:iam::123456789012:role/ebs")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    eks.create_addon()
        .cluster_name("gone")
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    eks.delete_addon()
        .cluster_name("gone")
        .addon_name("aws-ebs-csi-driver")
        .send()
        .await
        .unwrap();
    let left = eks
        .list_pod_identity_associations()
        .cluster_name("gone")
        .send()
        .await
        .unwrap();
    assert!(left.associations().is_empty());

    let state = stack.emulator.state_json();
    let addons = &state["regions"]["eu-west-1"]["clusters"]["gone"]["addons"];
    assert_eq!(addons["kube-proxy"]["status"], "ACTIVE", "{addons}");
    eks.delete_cluster().name("gone").send().await.unwrap();
    until(10, || async {
        let state = stack.emulator.state_json();
        state["regions"]["eu-west-1"]["clusters"]["gone"]
            .is_null()
            .then_some(())
    })
    .await;
    let err = eks.list_addons().cluster_name("gone").send().await.unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addon_requests_are_refused_naming_the_field_and_create_nothing() {
    let stack = Stack::start(Timing::Instant).await;
    let eks = cluster(&stack, "bad").await;
    let create = || eks.create_addon().cluster_name("bad");
    let cases = [
        (create().addon_name("not-an-addon"), "not-an-addon"),
        (
            create()
                .addon_name("kube-proxy")
                .addon_version("v1.33.0-eksbuild.2"),
            "not compatible with cluster version 1.32",
        ),
        (
            create().addon_name("coredns").addon_version("v9.9.9-eksbuild.1"),
            "v9.9.9-eksbuild.1",
        ),
        (
            create()
                .addon_name("coredns")
                .configuration_values(r#"{"replicaCount":"two"}"#),
            "/replicaCount",
        ),
        (
            create()
                .addon_name("vpc-cni")
                .configuration_values(r#"{"env":{"WARM_IP_TARGET":2}}"#),
            "/env/WARM_IP_TARGET",
        ),
        (
            create()
                .addon_name("coredns")
                .configuration_values(r#"{"replicas":2}"#),
            "replicas",
        ),
        (
            create()
                .addon_name("coredns")
                .configuration_values("replicaCount: [2"),
            "configurationValues",
        ),
        (
            create()
                .addon_name("vpc-cni")
                .service_account_role_arn("arn:aws:iam::123456789012:user/x"),
            "serviceAccountRoleArn",
        ),
        (
            create()
                .addon_name("vpc-cni")
                .resolve_conflicts(ResolveConflicts::from("SOMETIMES")),
            "resolveConflicts",
        ),
        (
            create().addon_name("vpc-cni").pod_identity_associations(
                AddonPodIdentityAssociations::builder()
                    .service_account("default")
                    .role_arn("arn:aws:iam::123456789012:role/x")
                    .build()
                    .unwrap(),
            ),
            "service account default",
        ),
    ];
    for (request, named) in cases {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), "InvalidParameterException", "{named}");
        let message = aws_sdk_eks::error::ProvideErrorMetadata::message(&err)
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(named), "{message} should name {named}");
    }
    let none = eks.list_addons().cluster_name("bad").send().await.unwrap();
    assert!(none.addons().is_empty());
    assert!(
        eks.list_pod_identity_associations()
            .cluster_name("bad")
            .send()
            .await
            .unwrap()
            .associations()
            .is_empty()
    );

    let missing = eks
        .create_addon()
        .cluster_name("nope")
        .addon_name("coredns")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");

    // UpdateAddon checks the same way and changes nothing.
    eks.create_addon()
        .cluster_name("bad")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    let update = || eks.update_addon().cluster_name("bad").addon_name("coredns");
    for (request, named) in [
        (update().addon_version("v1.12.4-eksbuild.1"), "1.32"),
        (
            update().configuration_values(r#"{"replicaCount":0}"#),
            "/replicaCount",
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), "InvalidParameterException", "{named}");
        assert!(format!("{err:?}").contains(named), "{err:?} should name {named}");
    }
    let missing = eks
        .update_addon()
        .cluster_name("bad")
        .addon_name("vpc-cni")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
    let updates = eks
        .list_updates()
        .name("bad")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    assert!(updates.update_ids().is_empty());
    let missing = eks
        .list_updates()
        .name("bad")
        .addon_name("vpc-cni")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
}
