//! Access entries and the creator's bootstrap entry through the real SDK.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_eks::types::{AccessScope, AccessScopeType, AuthenticationMode, CreateAccessConfigRequest};
use common::*;
use eks_emulator::timing::Timing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_entries_need_an_api_mode_and_the_creator_gets_cluster_admin() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let admin = "arn:aws:iam::123456789012:role/ops-admin";

    create_cluster(&eks, "cm", &net).send().await.unwrap();
    active(&eks, "cm").await;
    let refused = eks
        .create_access_entry()
        .cluster_name("cm")
        .principal_arn(admin)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&refused),
        "InvalidRequestException",
        "CONFIG_MAP mode has no access entries"
    );

    create_cluster(&eks, "api", &net)
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .bootstrap_cluster_creator_admin_permissions(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    active(&eks, "api").await;
    // moto's STS names the caller; a user ARN stays as it is.
    let caller = aws_sdk_sts::Client::new(&sdk)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let creator = caller.arn().unwrap().to_owned();
    let entries = eks
        .list_access_entries()
        .cluster_name("api")
        .send()
        .await
        .unwrap();
    assert_eq!(entries.access_entries(), std::slice::from_ref(&creator));
    let policies = eks
        .list_associated_access_policies()
        .cluster_name("api")
        .principal_arn(&creator)
        .send()
        .await
        .unwrap();
    assert_eq!(
        policies.associated_access_policies()[0].policy_arn(),
        Some("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
    );

    let entry = eks
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(admin)
        .kubernetes_groups("platform-admins")
        .send()
        .await
        .unwrap()
        .access_entry
        .unwrap();
    assert_eq!(
        entry.username(),
        Some("arn:aws:sts::123456789012:assumed-role/ops-admin/{{SessionName}}")
    );
    assert_eq!(entry.r#type(), Some("STANDARD"));
    let twice = eks
        .create_access_entry()
        .cluster_name("api")
        .principal_arn(admin)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&twice), "ResourceInUseException");
    let system = eks
        .create_access_entry()
        .cluster_name("api")
        .principal_arn("arn:aws:iam::123456789012:role/x")
        .kubernetes_groups("system:masters")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&system), "InvalidParameterException");

    let view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
    eks.associate_access_policy()
        .cluster_name("api")
        .principal_arn(admin)
        .policy_arn(view)
        .access_scope(
            AccessScope::builder()
                .r#type(AccessScopeType::Namespace)
                .namespaces("team-a")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let bad_scope = eks
        .associate_access_policy()
        .cluster_name("api")
        .principal_arn(admin)
        .policy_arn(view)
        .access_scope(AccessScope::builder().r#type(AccessScopeType::Namespace).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_scope), "InvalidParameterException");
    let with_view = eks
        .list_access_entries()
        .cluster_name("api")
        .associated_policy_arn(view)
        .send()
        .await
        .unwrap();
    assert_eq!(with_view.access_entries(), [admin]);
    let updated = eks
        .update_access_entry()
        .cluster_name("api")
        .principal_arn(admin)
        .username("ops")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.access_entry.unwrap().username(), Some("ops"));
    eks.disassociate_access_policy()
        .cluster_name("api")
        .principal_arn(admin)
        .policy_arn(view)
        .send()
        .await
        .unwrap();
    eks.delete_access_entry()
        .cluster_name("api")
        .principal_arn(admin)
        .send()
        .await
        .unwrap();
    let gone = eks
        .describe_access_entry()
        .cluster_name("api")
        .principal_arn(admin)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let policies = eks.list_access_policies().send().await.unwrap();
    assert!(
        policies
            .access_policies()
            .iter()
            .any(|p| p.name() == Some("AmazonEKSClusterAdminPolicy"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_identity_associations_are_one_per_service_account() {
    let stack = Stack::start(Timing::Instant).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "pi", &net).send().await.unwrap();
    active(&eks, "pi").await;
    let role = "arn:aws:iam::123456789012:role/payments-api";
    let create = || {
        eks.create_pod_identity_association()
            .cluster_name("pi")
            .namespace("payments")
            .service_account("api")
            .role_arn(role)
    };
    let created = create().send().await.unwrap().association.unwrap();
    assert!(created.association_id().unwrap().starts_with("a-"));
    assert_eq!(
        code(&create().send().await.unwrap_err()),
        "ResourceInUseException"
    );
    let id = created.association_id().unwrap();
    let listed = eks
        .list_pod_identity_associations()
        .cluster_name("pi")
        .namespace("payments")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.associations().len(), 1);
    let other = "arn:aws:iam::123456789012:role/other";
    let updated = eks
        .update_pod_identity_association()
        .cluster_name("pi")
        .association_id(id)
        .role_arn(other)
        .send()
        .await;
    assert_eq!(updated.unwrap().association.unwrap().role_arn(), Some(other));
    eks.delete_pod_identity_association()
        .cluster_name("pi")
        .association_id(id)
        .send()
        .await
        .unwrap();
    let gone = eks
        .describe_pod_identity_association()
        .cluster_name("pi")
        .association_id(id)
        .send()
        .await;
    assert_eq!(code(&gone.unwrap_err()), "ResourceNotFoundException");
}
