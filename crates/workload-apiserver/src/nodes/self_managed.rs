//! Self-managed workers: running instances of the backend's EC2 tagged `kubernetes.io/cluster/<name>=owned`,
//! their instance profile's role (IAM `GetInstanceProfile`) and the kubelet settings of their user data.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::{DesiredNode, private_dns_name};
use crate::front::Shared;

/// The backend's EC2 and IAM, for self-managed workers.
pub(super) struct Backend {
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    user_data: std::sync::Mutex<BTreeMap<String, crate::userdata::KubeletSettings>>,
}

impl Backend {
    pub(super) async fn new(shared: &Shared) -> Self {
        let (key, secret) = shared.config.backend_credentials.clone();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(shared.config.region.clone()))
            .endpoint_url(&shared.config.backend_endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                key,
                secret,
                None,
                None,
                "workload-apiserver",
            ))
            .load()
            .await;
        Self {
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            user_data: std::sync::Mutex::default(),
        }
    }

    /// Running instances tagged `kubernetes.io/cluster/<name>=owned`, as nodes, with their role ARN.
    pub(super) async fn self_managed(&self, cluster: &str) -> Result<Vec<(DesiredNode, String)>, String> {
        use aws_sdk_ec2::types::Filter;
        let reservations = self
            .ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name(format!("tag:kubernetes.io/cluster/{cluster}"))
                    .values("owned")
                    .build(),
            )
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .values("running")
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_ec2::error::DisplayErrorContext(e)))?;
        let mut nodes = Vec::new();
        for instance in reservations.reservations().iter().flat_map(|r| r.instances()) {
            let (Some(id), Some(ip), Some(profile)) = (
                instance.instance_id(),
                instance.private_ip_address(),
                instance.iam_instance_profile().and_then(|p| p.arn()),
            ) else {
                continue;
            };
            let profile_name = profile.rsplit('/').next().unwrap_or_default();
            let Ok(profile) = self
                .iam
                .get_instance_profile()
                .instance_profile_name(profile_name)
                .send()
                .await
            else {
                continue;
            };
            let Some(role) = profile
                .instance_profile()
                .and_then(|p| p.roles().first())
                .map(|r| r.arn().to_owned())
            else {
                continue;
            };
            let settings = self.settings(id).await;
            let region_zone = instance
                .placement()
                .and_then(|p| p.availability_zone())
                .unwrap_or_default()
                .to_owned();
            let name = instance
                .private_dns_name()
                .filter(|n| !n.is_empty())
                .map_or_else(|| private_dns_name(ip, ""), str::to_owned);
            nodes.push((
                DesiredNode {
                    name,
                    ip: ip.to_owned(),
                    instance_id: id.to_owned(),
                    zone: region_zone,
                    instance_type: instance
                        .instance_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    version: "1.33".into(),
                    labels: settings.labels,
                    taints: settings.taints,
                    self_managed: true,
                },
                role,
            ));
        }
        Ok(nodes)
    }

    async fn settings(&self, instance_id: &str) -> crate::userdata::KubeletSettings {
        if let Some(known) = self
            .user_data
            .lock()
            .ok()
            .and_then(|c| c.get(instance_id).cloned())
        {
            return known;
        }
        let attribute = self
            .ec2
            .describe_instance_attribute()
            .instance_id(instance_id)
            .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
            .send()
            .await;
        let Ok(attribute) = attribute else {
            return crate::userdata::KubeletSettings::default();
        };
        let text = attribute
            .user_data()
            .and_then(|u| u.value())
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let settings = crate::userdata::kubelet_settings(&text);
        if let Ok(mut cache) = self.user_data.lock() {
            cache.insert(instance_id.to_owned(), settings.clone());
        }
        settings
    }
}
