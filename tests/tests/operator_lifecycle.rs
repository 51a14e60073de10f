//! End to end, the seed's whole lifecycle: the real `eks-operator run` binary against the emulator (management
//! cluster) and moto (AWS), with kubectl as the user's hands. Create both regions, follow spec changes, repair
//! drift, restart, put generated objects back, delete everything. Checked through kubectl and the AWS API.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::time::Duration;

use eks_aws::types::Filter;
use eks_e2e::{kubectl, kubectl_apply_text, kubectl_ok, repo_root};
use operator_support::{
    OWNER_UID_TAG, Operator, SEED, available_nats, clients, eventually, jsonpath, owned_vpcs, world,
};

#[tokio::test(flavor = "multi_thread")]
async fn seed_two_regions_full_lifecycle() {
    let w = world().await;
    let config = w.config.as_path();
    let mut operator = Some(Operator::start(config, &w.local_aws, &w.log));
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
        // The kubeconfig Secret, decoded and read back by kubectl itself: the cluster's endpoint and the
        // `aws eks get-token` exec plugin for this cluster and region.
        let kubeconfig = kubectl_ok(
            config,
            &[
                "get",
                "secret",
                &format!("cloudlad-{region}-kubeconfig"),
                "-o",
                "go-template={{.data.kubeconfig | base64decode}}",
            ],
        );
        let regional = w.log.parent().unwrap().join(format!("{region}.kubeconfig"));
        std::fs::write(&regional, &kubeconfig).unwrap();
        let view = |path: &str| kubectl_ok(&regional, &["config", "view", "-o", &format!("jsonpath={path}")]);
        assert_eq!(
            view("{.clusters[0].cluster.server}").trim_end_matches('/'),
            cluster
                .endpoint
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/'),
            "{kubeconfig}"
        );
        assert_eq!(view("{.users[0].user.exec.command}"), "aws", "{kubeconfig}");
        assert_eq!(
            view("{.users[0].user.exec.args}"),
            format!(
                r#"["--region","{region}","eks","get-token","--cluster-name","{region}-test-cloudlad","--output","json"]"#
            ),
            "{kubeconfig}"
        );
        assert_eq!(view("{.current-context}"), cluster.arn, "{kubeconfig}");
    }
    let events: serde_json::Value = serde_json::from_str(&kubectl_ok(
        config,
        &["get", "events.events.k8s.io", "-o", "json"],
    ))
    .unwrap();
    let notes: Vec<(String, String)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("reason"), text("note"))
        })
        .collect();
    // One Created event per AWS resource: each region's VPC and both IAM roles are named in events of their
    // own (the recorder would fold events with equal reason and action into one series naming only the first).
    for region in ["eu-west-1", "eu-west-2"] {
        for resource in [
            "VPC vpc-".to_owned(),
            format!("IAM role eks-cluster-{region}-test-cloudlad"),
            format!("IAM role eks-worker-{region}-test-cloudlad"),
        ] {
            let prefix = format!("{region}: {resource}");
            assert!(
                notes
                    .iter()
                    .any(|(r, n)| r == "Created" && n.starts_with(&prefix)),
                "no Created event for {prefix}: {notes:?}"
            );
        }
    }
    assert!(notes.iter().any(|(r, _)| r == "Ready"), "{notes:?}");

    // Spec changes: scale the node group, add an allowed CIDR and an aws-auth role.
    let changed = std::fs::read_to_string(&seed)
        .unwrap()
        .replace("desiredSize: 2", "desiredSize: 3")
        .replace("[203.0.113.10/32]", "[203.0.113.10/32, 198.51.100.0/24]")
        .replace(
            "        groups: [system:masters]",
            "        groups: [system:masters]\n      - rolearn: \"arn:aws:iam::123456789012:role/auditor\"\n        username: auditor",
        );
    let (ok, out, err) = kubectl_apply_text(config, &changed);
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
    operator = Some(Operator::start(config, &w.local_aws, &w.log));
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
