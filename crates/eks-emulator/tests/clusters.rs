//! Clusters, node groups and updates through the real AWS SDK against eks-emulator + moto.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_eks::types::{
    AccessConfigResponse, AuthenticationMode, ClusterStatus, LogSetup, LogType, Logging,
    NodegroupScalingConfig, NodegroupStatus, UpdateStatus, VpcConfigRequest,
};
use common::*;
use eks_emulator::timing::Timing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_is_created_checked_against_the_backend_and_deleted_with_its_network() {
    let stack = Stack::start(Timing::Fast).await;
    let sdk = stack.sdk("eu-west-2").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);

    // What EKS checks first: each refusal is InvalidParameterException.
    let one_zone = eks
        .create_cluster()
        .name("c1")
        .role_arn(&net.role_arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(net.single_zone_subnets.clone()))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&one_zone), "InvalidParameterException");
    assert!(format!("{:?}", one_zone.as_service_error()).contains("two different AZs"));
    let no_role = create_cluster(&eks, "c1", &net)
        .role_arn("arn:aws:iam::123456789012:role/missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_role), "InvalidParameterException");
    let no_subnet = eks
        .create_cluster()
        .name("c1")
        .role_arn(&net.role_arn)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids(&net.subnets[0])
                .subnet_ids("subnet-0000dead")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_subnet), "InvalidParameterException");
    let no_group = create_cluster(&eks, "c1", &net)
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(net.subnets.clone()))
                .security_group_ids("sg-0000dead")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&no_group), "InvalidParameterException");
    let bad_version = create_cluster(&eks, "c1", &net)
        .version("1.20")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_version), "InvalidParameterException");

    let created = create_cluster(&eks, "c1", &net)
        .client_request_token("tok-1")
        .send()
        .await
        .unwrap();
    let created = created.cluster.unwrap();
    assert_eq!(created.status(), Some(&ClusterStatus::Creating));
    assert!(created.endpoint().is_none());
    // A retry with the same token answers the same cluster; another create of the name is refused.
    let again = create_cluster(&eks, "c1", &net)
        .client_request_token("tok-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.cluster.unwrap().arn(), created.arn());
    let taken = create_cluster(&eks, "c1", &net).send().await.unwrap_err();
    assert_eq!(code(&taken), "ResourceInUseException");

    let cluster = active(&eks, "c1").await;
    assert!(cluster.endpoint().unwrap().starts_with("https://"));
    assert_eq!(cluster.version(), Some("1.32"));
    assert_eq!(
        cluster.access_config(),
        Some(
            &AccessConfigResponse::builder()
                .bootstrap_cluster_creator_admin_permissions(true)
                .authentication_mode(AuthenticationMode::ConfigMap)
                .build()
        )
    );
    let vpc = cluster.resources_vpc_config().unwrap();
    let cluster_sg = vpc.cluster_security_group_id().unwrap().to_owned();
    assert_eq!(vpc.vpc_id(), Some(net.vpc.as_str()));

    // The cluster security group and the control plane interfaces exist in the backend, tagged.
    let groups = ec2
        .describe_security_groups()
        .group_ids(&cluster_sg)
        .send()
        .await
        .unwrap();
    let tags = groups.security_groups()[0].tags();
    assert!(
        tags.iter()
            .any(|t| t.key() == Some("kubernetes.io/cluster/c1") && t.value() == Some("owned"))
    );
    let enis = ec2
        .describe_network_interfaces()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("description")
                .values("Amazon EKS c1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(enis.network_interfaces().len(), 2, "one interface per zone");

    // Deleting a subnet or security group the interfaces use: DependencyViolation, as AWS answers.
    let subnet = ec2
        .delete_subnet()
        .subnet_id(&net.subnets[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::code(&subnet),
        Some("DependencyViolation")
    );
    let sg = ec2
        .delete_security_group()
        .group_id(&net.security_group)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::code(&sg),
        Some("DependencyViolation")
    );

    // Two clusters never share an OIDC issuer.
    create_cluster(&eks, "c2", &net).send().await.unwrap();
    let other = active(&eks, "c2").await;
    assert_ne!(
        other.identity().unwrap().oidc().unwrap().issuer(),
        cluster.identity().unwrap().oidc().unwrap().issuer()
    );
    let listed = eks.list_clusters().max_results(1).send().await.unwrap();
    assert_eq!(listed.clusters(), ["c1"]);
    let rest = eks
        .list_clusters()
        .next_token(listed.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.clusters(), ["c2"]);

    let deleting = eks.delete_cluster().name("c1").send().await.unwrap();
    assert_eq!(deleting.cluster.unwrap().status(), Some(&ClusterStatus::Deleting));
    until(30, || async {
        let gone = eks.describe_cluster().name("c1").send().await;
        gone.err()
            .filter(|e| code(e) == "ResourceNotFoundException")
            .map(|_| ())
    })
    .await;
    until(30, || async {
        let groups = ec2.describe_security_groups().send().await.unwrap();
        (!groups
            .security_groups()
            .iter()
            .any(|g| g.group_id() == Some(cluster_sg.as_str())))
        .then_some(())
    })
    .await;
    let enis = ec2
        .describe_network_interfaces()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("description")
                .values("Amazon EKS c1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(enis.network_interfaces().is_empty());
    // In another region the same name is free.
    let other_region = aws_sdk_eks::Client::new(&stack.sdk("eu-west-1").await);
    assert!(
        other_region
            .list_clusters()
            .send()
            .await
            .unwrap()
            .clusters()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_move_through_in_progress_and_follow_the_version_rules() {
    let stack = Stack::start(Timing::Fast).await;
    let sdk = stack.sdk("us-east-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    create_cluster(&eks, "up", &net).send().await.unwrap();
    let early = eks
        .update_cluster_version()
        .name("up")
        .version("1.33")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&early), "ResourceInUseException", "not while CREATING");
    active(&eks, "up").await;

    let skip = eks
        .update_cluster_version()
        .name("up")
        .version("1.34")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&skip), "InvalidParameterException", "only the next minor");
    let update = eks
        .update_cluster_version()
        .name("up")
        .version("1.33")
        .client_request_token("v1")
        .send()
        .await
        .unwrap();
    let update = update.update.unwrap();
    assert_eq!(update.status(), Some(&UpdateStatus::InProgress));
    let retry = eks
        .update_cluster_version()
        .name("up")
        .version("1.33")
        .client_request_token("v1")
        .send()
        .await
        .unwrap();
    assert_eq!(retry.update.unwrap().id(), update.id());
    let second = eks
        .update_cluster_config()
        .name("up")
        .logging(
            Logging::builder()
                .cluster_logging(LogSetup::builder().types(LogType::Api).enabled(true).build())
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&second), "ResourceInUseException", "one update at a time");
    let cluster = eks
        .describe_cluster()
        .name("up")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.status(), Some(&ClusterStatus::Updating));
    assert_eq!(
        cluster.version(),
        Some("1.32"),
        "the version changes when the update succeeds"
    );

    let id = update.id().unwrap().to_owned();
    until(30, || async {
        let u = eks
            .describe_update()
            .name("up")
            .update_id(&id)
            .send()
            .await
            .unwrap()
            .update
            .unwrap();
        (u.status() == Some(&UpdateStatus::Successful)).then_some(())
    })
    .await;
    let cluster = active(&eks, "up").await;
    assert_eq!(cluster.version(), Some("1.33"));
    let ids = eks.list_updates().name("up").send().await.unwrap();
    assert_eq!(ids.update_ids(), std::slice::from_ref(&id));
    let missing = eks
        .describe_update()
        .name("up")
        .update_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");

    // Config updates: one kind per call, refused when nothing changes, mode only forward.
    let same = eks
        .update_cluster_config()
        .name("up")
        .resources_vpc_config(VpcConfigRequest::builder().endpoint_public_access(true).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&same), "InvalidParameterException");
    let access = eks
        .update_cluster_config()
        .name("up")
        .access_config(
            aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(
        access.r#type(),
        Some(&aws_sdk_eks::types::UpdateType::AccessConfigUpdate)
    );
    let access_id = access.id().unwrap().to_owned();
    until(30, || async {
        let u = eks
            .describe_update()
            .name("up")
            .update_id(&access_id)
            .send()
            .await
            .unwrap()
            .update
            .unwrap();
        (u.status() == Some(&UpdateStatus::Successful)).then_some(())
    })
    .await;
    active(&eks, "up").await;
    let back = eks
        .update_cluster_config()
        .name("up")
        .access_config(
            aws_sdk_eks::types::UpdateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ConfigMap)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&back),
        "InvalidParameterException",
        "authentication mode never moves back"
    );
    let endpoint = eks
        .update_cluster_config()
        .name("up")
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .endpoint_private_access(true)
                .public_access_cidrs("203.0.113.10/32")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    assert_eq!(
        endpoint.r#type(),
        Some(&aws_sdk_eks::types::UpdateType::EndpointAccessUpdate)
    );
    let cluster = until(30, || async {
        let c = eks
            .describe_cluster()
            .name("up")
            .send()
            .await
            .unwrap()
            .cluster
            .unwrap();
        (c.status() == Some(&ClusterStatus::Active)).then_some(c)
    })
    .await;
    let vpc = cluster.resources_vpc_config().unwrap();
    assert!(vpc.endpoint_private_access() && vpc.endpoint_public_access());
    assert_eq!(vpc.public_access_cidrs(), ["203.0.113.10/32"]);

    let encryption = || {
        eks.associate_encryption_config()
            .cluster_name("up")
            .encryption_config(
                aws_sdk_eks::types::EncryptionConfig::builder()
                    .resources("secrets")
                    .provider(
                        aws_sdk_eks::types::Provider::builder()
                            .key_arn("arn:aws:kms:us-east-1:123456789012:key/k")
                            .build(),
                    )
                    .build(),
            )
    };
    let update = encryption().send().await.unwrap().update.unwrap();
    assert_eq!(
        update.r#type(),
        Some(&aws_sdk_eks::types::UpdateType::AssociateEncryptionConfig)
    );
    let cluster = active(&eks, "up").await;
    assert_eq!(cluster.encryption_config().len(), 1);
    assert_eq!(
        code(&encryption().send().await.unwrap_err()),
        "InvalidRequestException",
        "only once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_groups_follow_the_control_plane_and_block_cluster_deletion() {
    let stack = Stack::start(Timing::Fast).await;
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let eks = aws_sdk_eks::Client::new(&sdk);
    let early = eks
        .create_nodegroup()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .node_role(&net.node_role_arn)
        .set_subnets(Some(net.subnets.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&early), "ResourceNotFoundException");
    create_cluster(&eks, "ng", &net).send().await.unwrap();
    active(&eks, "ng").await;

    let create = || {
        eks.create_nodegroup()
            .cluster_name("ng")
            .nodegroup_name("workers")
            .node_role(&net.node_role_arn)
            .set_subnets(Some(net.subnets.clone()))
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(1)
                    .max_size(3)
                    .desired_size(2)
                    .build(),
            )
            .labels("role", "general")
    };
    let newer = create().version("1.33").send().await.unwrap_err();
    assert_eq!(
        code(&newer),
        "InvalidParameterException",
        "not newer than the control plane"
    );
    let bad_size = create()
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(3)
                .max_size(2)
                .desired_size(2)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&bad_size), "InvalidParameterException");
    let group = create()
        .client_request_token("ng-1")
        .send()
        .await
        .unwrap()
        .nodegroup
        .unwrap();
    assert_eq!(group.status(), Some(&NodegroupStatus::Creating));
    assert_eq!(group.version(), Some("1.32"));
    let retry = create()
        .client_request_token("ng-1")
        .send()
        .await
        .unwrap()
        .nodegroup
        .unwrap();
    assert_eq!(retry.nodegroup_arn(), group.nodegroup_arn());
    assert_eq!(
        code(&create().send().await.unwrap_err()),
        "ResourceInUseException"
    );

    let busy = eks.delete_cluster().name("ng").send().await.unwrap_err();
    assert_eq!(code(&busy), "ResourceInUseException", "node groups first");

    until(30, || async {
        let g = eks
            .describe_nodegroup()
            .cluster_name("ng")
            .nodegroup_name("workers")
            .send()
            .await
            .unwrap();
        (g.nodegroup.unwrap().status() == Some(&NodegroupStatus::Active)).then_some(())
    })
    .await;
    let scale = eks
        .update_nodegroup_config()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .scaling_config(NodegroupScalingConfig::builder().desired_size(3).build())
        .send()
        .await
        .unwrap()
        .update
        .unwrap();
    let scale_id = scale.id().unwrap().to_owned();
    let listed = eks
        .list_updates()
        .name("ng")
        .nodegroup_name("workers")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.update_ids(), std::slice::from_ref(&scale_id));
    until(30, || async {
        let g = eks
            .describe_nodegroup()
            .cluster_name("ng")
            .nodegroup_name("workers")
            .send()
            .await
            .unwrap();
        let g = g.nodegroup.unwrap();
        (g.status() == Some(&NodegroupStatus::Active)
            && g.scaling_config().unwrap().desired_size() == Some(3))
        .then_some(())
    })
    .await;
    let u = eks
        .describe_update()
        .name("ng")
        .update_id(&scale_id)
        .nodegroup_name("workers")
        .send()
        .await
        .unwrap();
    assert_eq!(u.update.unwrap().status(), Some(&UpdateStatus::Successful));

    let past = eks
        .update_nodegroup_version()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .version("1.33")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&past),
        "InvalidParameterException",
        "a node group may not pass the control plane"
    );

    // Tags on clusters and node groups; tagging errors are NotFound/BadRequest.
    let arn = group.nodegroup_arn().unwrap();
    eks.tag_resource()
        .resource_arn(arn)
        .tags("team", "a")
        .send()
        .await
        .unwrap();
    let tags = eks
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().unwrap().get("team").map(String::as_str), Some("a"));
    eks.untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert!(
        eks.list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .unwrap()
            .tags()
            .unwrap()
            .is_empty()
    );
    let missing = eks
        .list_tags_for_resource()
        .resource_arn("arn:aws:eks:eu-west-1:123456789012:cluster/none")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "NotFoundException");

    eks.delete_nodegroup()
        .cluster_name("ng")
        .nodegroup_name("workers")
        .send()
        .await
        .unwrap();
    until(30, || async {
        let r = eks
            .describe_nodegroup()
            .cluster_name("ng")
            .nodegroup_name("workers")
            .send()
            .await;
        r.err()
            .filter(|e| code(e) == "ResourceNotFoundException")
            .map(|_| ())
    })
    .await;
    eks.delete_cluster().name("ng").send().await.unwrap();
}
