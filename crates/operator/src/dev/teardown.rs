//! Leaving the local mode with real AWS: the EksCluster objects live only in this process's memory, so before
//! it ends every one of them is deleted and the controller tears its AWS resources down. The wait is bounded
//! (and a second Ctrl-C cuts it); when it is cut, what may remain in AWS is listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use eks_api::{EksClusterStatus, RegionStatus};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use super::local::Signals;
use super::progress::{self, Progress};
use super::settings::human;

/// An object being deleted, as last seen.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Its uid (the value of the ownership tag on its AWS resources).
    pub uid: String,
    /// Its status.
    pub status: EksClusterStatus,
}

/// How the teardown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// There was nothing to delete.
    Nothing,
    /// Every object is gone: the controller deleted its AWS resources.
    Done,
    /// The wait was cut (timeout, a second signal, or the controller stopped); resources may remain.
    Cut,
}

/// Deletes every EksCluster and waits until they are gone, at most `timeout` or until a signal beyond
/// `signals_seen` or until `controller_failed` says the controller stopped.
pub async fn tear_down_all(
    client: &kube::Client,
    timeout: Duration,
    signals: &Signals,
    controller_failed: impl Fn() -> Option<String>,
) -> anyhow::Result<Outcome> {
    let resource = kube::core::ApiResource::erase::<eks_api::EksCluster>(&());
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let objects = all.list(&ListParams::default()).await?.items;
    if objects.is_empty() {
        return Ok(Outcome::Nothing);
    }
    let signals_seen = signals.count();
    println!(
        "\nDeleting {} EksCluster object(s) so that the controller deletes their AWS resources (waiting up to \
         {}; Ctrl-C again stops waiting):",
        objects.len(),
        human(timeout)
    );
    for object in &objects {
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        let name = object.metadata.name.clone().unwrap_or_default();
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &namespace, &resource);
        match api.delete(&name, &DeleteParams::default()).await {
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(err) => return Err(err.into()),
            Ok(_) => {}
        }
    }
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut progress = Progress::stdout();
    let start = Instant::now();
    let why_cut = loop {
        let left = all.list(&ListParams::default()).await?.items;
        if left.is_empty() {
            println!("Every EksCluster is gone: the controller deleted their AWS resources.");
            return Ok(Outcome::Done);
        }
        seen.retain(|key, _| left.iter().any(|o| &key_of(o) == key));
        let mut lines = Vec::new();
        for object in &left {
            let status = status_of(object);
            let prefix = if left.len() > 1 {
                format!("{} ", key_of(object))
            } else {
                String::new()
            };
            lines.extend(progress::region_lines(&prefix, &status));
            let uid = object.metadata.uid.clone().unwrap_or_default();
            seen.insert(key_of(object), Seen { uid, status });
        }
        progress.show(&lines, start.elapsed());
        if let Some(failure) = controller_failed() {
            break format!("the controller stopped ({failure})");
        }
        if start.elapsed() >= timeout {
            break format!("the teardown took longer than {}", human(timeout));
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = signals.beyond(signals_seen) => break "interrupted".to_owned(),
        }
    };
    eprint!("{}", leftovers(&why_cut, &seen));
    Ok(Outcome::Cut)
}

fn key_of(object: &DynamicObject) -> String {
    format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default()
    )
}

fn status_of(object: &DynamicObject) -> EksClusterStatus {
    object
        .data
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default()
}

/// The warning printed when the wait is cut: per object and region, what its status last said exists.
pub fn leftovers(why: &str, seen: &BTreeMap<String, Seen>) -> String {
    let mut text = format!(
        "\nWARNING: stopped waiting for the teardown: {why}. These AWS resources may remain and cost money:\n"
    );
    for (key, object) in seen {
        let _ = writeln!(text, "  EksCluster {key} (uid {}):", object.uid);
        for region in &object.status.regions {
            let items = region_items(region);
            let what = if items.is_empty() {
                "nothing recorded (look for the tag below)".to_owned()
            } else {
                items.join(", ")
            };
            let _ = writeln!(text, "    {}: {what}", region.region);
        }
    }
    text.push_str(
        "Find them by the tag eksoperator.io/owner-uid=<uid> in each region (IAM roles and OIDC providers are \
         global; NAT gateways' elastic IPs carry the tag too) and delete them with the AWS console or CLI.\n",
    );
    text
}

fn region_items(r: &RegionStatus) -> Vec<String> {
    let mut items = Vec::new();
    let mut add = |label: &str, values: Vec<String>| {
        if !values.is_empty() {
            items.push(format!("{label} {}", values.join(" ")));
        }
    };
    if r.cluster_arn.is_some() || !r.node_groups.is_empty() {
        add("EKS cluster", r.cluster_id.clone().into_iter().collect());
    }
    add(
        "node groups",
        r.node_groups.iter().map(|g| g.name.clone()).collect(),
    );
    add("OIDC provider", r.oidc_provider_arn.clone().into_iter().collect());
    add(
        "IAM roles",
        [&r.control_plane_role_arn, &r.worker_role_arn]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
    );
    add("NAT gateways", r.nat_gateway_ids.clone());
    add("VPN gateway", r.vpn_gateway_id.clone().into_iter().collect());
    add(
        "internet gateway",
        r.internet_gateway_id.clone().into_iter().collect(),
    );
    add("security groups", r.security_group_ids.clone());
    add(
        "subnets",
        r.private_subnet_ids
            .iter()
            .chain(&r.public_subnet_ids)
            .cloned()
            .collect(),
    );
    add("VPC", r.vpc_id.clone().into_iter().collect());
    items
}

#[cfg(test)]
mod tests {
    use eks_api::{NodeGroupStatus, Phase};

    use super::*;

    #[test]
    fn the_warning_lists_what_each_region_still_records() {
        let status = EksClusterStatus {
            regions: vec![
                RegionStatus {
                    region: "eu-west-1".into(),
                    phase: Some(Phase::Deleting),
                    cluster_id: Some("eu-west-1-test-cloudlad".into()),
                    cluster_arn: Some("arn:aws:eks:eu-west-1:1:cluster/x".into()),
                    node_groups: vec![NodeGroupStatus {
                        name: "workers".into(),
                        ..NodeGroupStatus::default()
                    }],
                    worker_role_arn: Some("arn:aws:iam::1:role/w".into()),
                    nat_gateway_ids: vec!["nat-1".into()],
                    private_subnet_ids: vec!["subnet-1".into()],
                    public_subnet_ids: vec!["subnet-2".into()],
                    vpc_id: Some("vpc-1".into()),
                    ..RegionStatus::default()
                },
                RegionStatus {
                    region: "eu-west-2".into(),
                    phase: Some(Phase::Deleting),
                    ..RegionStatus::default()
                },
            ],
            ..EksClusterStatus::default()
        };
        let seen = BTreeMap::from([(
            "default/cloudlad".to_owned(),
            Seen {
                uid: "1234".into(),
                status,
            },
        )]);
        let text = leftovers("interrupted", &seen);
        assert!(
            text.contains("stopped waiting for the teardown: interrupted."),
            "{text}"
        );
        assert!(
            text.contains("  EksCluster default/cloudlad (uid 1234):\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "    eu-west-1: EKS cluster eu-west-1-test-cloudlad, node groups workers, IAM roles \
                 arn:aws:iam::1:role/w, NAT gateways nat-1, subnets subnet-1 subnet-2, VPC vpc-1\n"
            ),
            "{text}"
        );
        assert!(text.contains("    eu-west-2: nothing recorded"), "{text}");
        assert!(text.contains("eksoperator.io/owner-uid=<uid>"), "{text}");
    }
}
