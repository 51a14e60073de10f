//! Auto Scaling instance refresh through the AWS CLI (Query protocol): `Pending` → `InProgress` → `Successful`,
//! the group's instances replaced in moto from the current launch template version, one refresh at a time,
//! cancellation, and refused input.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_ec2::types::{RequestLaunchTemplateData, ResourceType, Tag, TagSpecification};
use common::*;
use eks_emulator::timing::Timing;
use serde_json::Value;

const FIRST_AMI: &str = "ami-ekslinux";
const SECOND_AMI: &str = "ami-04681a1dbd79675a5";

async fn group_instances(url: &str, group: &str) -> Vec<String> {
    let groups = aws_json(
        url,
        &[
            "autoscaling",
            "describe-auto-scaling-groups",
            "--auto-scaling-group-names",
            group,
        ],
    )
    .await
    .unwrap();
    let mut ids: Vec<String> = groups["AutoScalingGroups"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn refreshes(url: &str, group: &str) -> Vec<Value> {
    let answer = aws_json(
        url,
        &[
            "autoscaling",
            "describe-instance-refreshes",
            "--auto-scaling-group-name",
            group,
        ],
    )
    .await
    .unwrap();
    answer["InstanceRefreshes"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_refresh_replaces_every_instance_from_the_new_launch_template_version() {
    // `fast` stretched fivefold: InProgress lasts seconds, long enough to be seen through the CLI.
    let moto = Moto::start();
    let mut config = eks_emulator::Config::new(moto.url());
    config.timing = Timing::Fast;
    config.time_scale = 5.0;
    let stack = Stack {
        emulator: eks_emulator::Emulator::start(config).await.unwrap(),
        moto,
    };
    let url = stack.emulator.url();
    let sdk = stack.sdk("eu-west-1").await;
    let net = network(&sdk).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let template = ec2
        .create_launch_template()
        .launch_template_name("workers")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(FIRST_AMI)
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Medium)
                .build(),
        )
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::LaunchTemplate)
                .tags(Tag::builder().key("k").value("v").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let template_id = template
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    aws_json(
        &url,
        &[
            "autoscaling",
            "create-auto-scaling-group",
            "--auto-scaling-group-name",
            "workers",
            "--launch-template",
            &format!("LaunchTemplateId={template_id},Version=$Latest"),
            "--min-size",
            "2",
            "--max-size",
            "4",
            "--desired-capacity",
            "2",
            "--vpc-zone-identifier",
            &net.subnets.join(","),
        ],
    )
    .await
    .unwrap();
    let before = group_instances(&url, "workers").await;
    assert_eq!(before.len(), 2);

    ec2.create_launch_template_version()
        .launch_template_id(&template_id)
        .source_version("1")
        .launch_template_data(RequestLaunchTemplateData::builder().image_id(SECOND_AMI).build())
        .send()
        .await
        .unwrap();
    let started = aws_json(
        &url,
        &[
            "autoscaling",
            "start-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
            "--preferences",
            "MinHealthyPercentage=50,InstanceWarmup=30",
        ],
    )
    .await
    .unwrap();
    let id = started["InstanceRefreshId"].as_str().unwrap().to_owned();
    let first = refreshes(&url, "workers").await;
    assert_eq!(first[0]["InstanceRefreshId"], id.as_str());
    assert!(
        first[0]["Status"] == "Pending" || first[0]["Status"] == "InProgress",
        "{first:?}"
    );
    assert_eq!(first[0]["Preferences"]["MinHealthyPercentage"], 50);

    let second = aws_json(
        &url,
        &[
            "autoscaling",
            "start-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
        ],
    )
    .await
    .unwrap_err();
    assert!(second.contains("InstanceRefreshInProgress"), "{second}");

    let seen = std::sync::Mutex::new(Vec::<String>::new());
    let done = until(30, || async {
        let latest = refreshes(&url, "workers").await.remove(0);
        let status = latest["Status"].as_str().unwrap().to_owned();
        let mut statuses = seen.lock().unwrap();
        if statuses.last() != Some(&status) {
            statuses.push(status.clone());
        }
        drop(statuses);
        (status == "Successful").then_some(latest)
    })
    .await;
    let seen = seen.into_inner().unwrap();
    let order = ["Pending", "InProgress", "Successful"];
    let positions: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen.contains(&"InProgress".to_owned()), "{seen:?}");
    assert_eq!(done["PercentageComplete"], 100);
    assert!(done["EndTime"].is_string());

    let after = group_instances(&url, "workers").await;
    assert_eq!(after.len(), 2, "the desired capacity is kept");
    assert!(
        after.iter().all(|i| !before.contains(i)),
        "{before:?} → {after:?}"
    );
    let described = ec2
        .describe_instances()
        .set_instance_ids(Some(after))
        .send()
        .await
        .unwrap();
    for instance in described.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(instance.image_id(), Some(SECOND_AMI));
    }

    // A new refresh can start now; cancelling it ends it, and a second cancel finds nothing to cancel.
    aws_json(
        &url,
        &[
            "autoscaling",
            "start-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
        ],
    )
    .await
    .unwrap();
    aws_json(
        &url,
        &[
            "autoscaling",
            "cancel-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
        ],
    )
    .await
    .unwrap();
    until(10, || async {
        let latest = refreshes(&url, "workers").await.remove(0);
        (latest["Status"] == "Cancelled").then_some(())
    })
    .await;
    let none = aws_json(
        &url,
        &[
            "autoscaling",
            "cancel-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
        ],
    )
    .await
    .unwrap_err();
    assert!(none.contains("ActiveInstanceRefreshNotFound"), "{none}");
    assert_eq!(refreshes(&url, "workers").await.len(), 2);

    let missing = aws_json(
        &url,
        &[
            "autoscaling",
            "start-instance-refresh",
            "--auto-scaling-group-name",
            "absent",
        ],
    )
    .await
    .unwrap_err();
    assert!(missing.contains("ValidationError"), "{missing}");
    let bad = aws_json(
        &url,
        &[
            "autoscaling",
            "start-instance-refresh",
            "--auto-scaling-group-name",
            "workers",
            "--preferences",
            "MinHealthyPercentage=150",
        ],
    )
    .await
    .unwrap_err();
    assert!(bad.contains("MinHealthyPercentage"), "{bad}");
    assert_eq!(
        refreshes(&url, "workers").await.len(),
        2,
        "refused starts record nothing"
    );
}
