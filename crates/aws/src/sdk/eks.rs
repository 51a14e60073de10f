//! [`EksApi`] on the EKS SDK client.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_eks::types as sdk;

use super::sdk_err;
use crate::api::EksApi;
use crate::error::{AwsResult, optional};
use crate::types::*;

/// The EKS client of one region.
#[derive(Clone, Debug)]
pub struct SdkEks {
    pub(super) client: aws_sdk_eks::Client,
}

impl SdkEks {
    /// Wraps an SDK client.
    pub fn new(client: aws_sdk_eks::Client) -> Self {
        Self { client }
    }
}

pub(super) fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

pub(super) fn hash_tags(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn cluster(c: &sdk::Cluster) -> Cluster {
    let vpc = c.resources_vpc_config();
    Cluster {
        name: c.name().unwrap_or_default().to_owned(),
        arn: c.arn().unwrap_or_default().to_owned(),
        status: c.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        version: c.version().unwrap_or_default().to_owned(),
        endpoint: c.endpoint().map(str::to_owned),
        certificate_authority: c
            .certificate_authority()
            .and_then(|a| a.data())
            .map(str::to_owned),
        oidc_issuer: c
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer())
            .map(str::to_owned),
        role_arn: c.role_arn().unwrap_or_default().to_owned(),
        vpc: ClusterVpcConfig {
            subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
            security_group_ids: vpc.map(|v| v.security_group_ids().to_vec()).unwrap_or_default(),
            endpoint_public_access: vpc.is_some_and(|v| v.endpoint_public_access()),
            endpoint_private_access: vpc.is_some_and(|v| v.endpoint_private_access()),
            public_access_cidrs: vpc.map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default(),
        },
        enabled_log_types: {
            let mut types: Vec<String> = c
                .logging()
                .map(|l| l.cluster_logging())
                .unwrap_or_default()
                .iter()
                .filter(|setup| setup.enabled().unwrap_or(false))
                .flat_map(|setup| setup.types().iter().map(|t| t.as_str().to_owned()))
                .collect();
            types.sort();
            types.dedup();
            types
        },
        tags: tags_of(c.tags()),
        authentication_mode: c
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().to_owned()),
    }
}

fn access_config(request: &CreateCluster) -> Option<sdk::CreateAccessConfigRequest> {
    if request.authentication_mode.is_none() && request.bootstrap_cluster_creator_admin_permissions.is_none()
    {
        return None;
    }
    Some(
        sdk::CreateAccessConfigRequest::builder()
            .set_authentication_mode(
                request
                    .authentication_mode
                    .as_deref()
                    .map(sdk::AuthenticationMode::from),
            )
            .set_bootstrap_cluster_creator_admin_permissions(
                request.bootstrap_cluster_creator_admin_permissions,
            )
            .build(),
    )
}

fn taint(t: &Taint) -> sdk::Taint {
    sdk::Taint::builder()
        .key(&t.key)
        .value(&t.value)
        .effect(sdk::TaintEffect::from(t.effect.as_str()))
        .build()
}

fn nodegroup(n: &sdk::Nodegroup) -> Nodegroup {
    let scaling = n.scaling_config();
    Nodegroup {
        name: n.nodegroup_name().unwrap_or_default().to_owned(),
        arn: n.nodegroup_arn().unwrap_or_default().to_owned(),
        status: n.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        version: n.version().unwrap_or_default().to_owned(),
        scaling: Scaling {
            min: scaling.and_then(|s| s.min_size()).unwrap_or_default(),
            max: scaling.and_then(|s| s.max_size()).unwrap_or_default(),
            desired: scaling.and_then(|s| s.desired_size()).unwrap_or_default(),
        },
        instance_types: n.instance_types().to_vec(),
        subnet_ids: n.subnets().to_vec(),
        labels: n
            .labels()
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        taints: n
            .taints()
            .iter()
            .map(|t| Taint {
                key: t.key().unwrap_or_default().to_owned(),
                value: t.value().unwrap_or_default().to_owned(),
                effect: t.effect().map(|e| e.as_str().to_owned()).unwrap_or_default(),
            })
            .collect(),
        tags: tags_of(n.tags()),
        health_issues: n
            .health()
            .map(|h| h.issues())
            .unwrap_or_default()
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i.code().map(|c| c.as_str()).unwrap_or("Unknown"),
                    i.message().unwrap_or_default()
                )
            })
            .collect(),
    }
}

#[async_trait]
impl EksApi for SdkEks {
    async fn describe_cluster(&self, name: &str) -> AwsResult<Option<Cluster>> {
        let out = optional(
            self.client
                .describe_cluster()
                .name(name)
                .send()
                .await
                .map_err(sdk_err("DescribeCluster")),
        )?;
        Ok(out.and_then(|o| o.cluster().map(cluster)))
    }

    async fn create_cluster(&self, request: &CreateCluster) -> AwsResult<Cluster> {
        let vpc = sdk::VpcConfigRequest::builder()
            .set_subnet_ids(Some(request.vpc.subnet_ids.clone()))
            .set_security_group_ids(Some(request.vpc.security_group_ids.clone()))
            .endpoint_public_access(request.vpc.endpoint_public_access)
            .endpoint_private_access(request.vpc.endpoint_private_access)
            .set_public_access_cidrs(
                (request.vpc.endpoint_public_access).then(|| request.vpc.public_access_cidrs.clone()),
            )
            .build();
        let logging = sdk::Logging::builder()
            .cluster_logging(
                sdk::LogSetup::builder()
                    .set_types(Some(
                        request
                            .log_types
                            .iter()
                            .map(|t| sdk::LogType::from(t.as_str()))
                            .collect(),
                    ))
                    .enabled(true)
                    .build(),
            )
            .build();
        let out = self
            .client
            .create_cluster()
            .name(&request.name)
            .version(&request.version)
            .role_arn(&request.role_arn)
            .resources_vpc_config(vpc)
            .logging(logging)
            .set_tags(Some(hash_tags(&request.tags)))
            .client_request_token(&request.client_request_token)
            .set_access_config(access_config(request))
            .send()
            .await
            .map_err(sdk_err("CreateCluster"))?;
        Ok(out.cluster().map(cluster).unwrap_or_else(|| Cluster {
            name: request.name.clone(),
            arn: String::new(),
            status: "CREATING".to_owned(),
            version: request.version.clone(),
            endpoint: None,
            certificate_authority: None,
            oidc_issuer: None,
            role_arn: request.role_arn.clone(),
            vpc: request.vpc.clone(),
            enabled_log_types: request.log_types.clone(),
            tags: request.tags.clone(),
            authentication_mode: request.authentication_mode.clone(),
        }))
    }

    async fn update_cluster_config(&self, name: &str, update: &ClusterConfigUpdate) -> AwsResult<String> {
        let request = self.client.update_cluster_config().name(name);
        let request = match update {
            ClusterConfigUpdate::EndpointAccess {
                public,
                private,
                public_access_cidrs,
            } => request.resources_vpc_config(
                sdk::VpcConfigRequest::builder()
                    .endpoint_public_access(*public)
                    .endpoint_private_access(*private)
                    .set_public_access_cidrs(public.then(|| public_access_cidrs.clone()))
                    .build(),
            ),
            ClusterConfigUpdate::Logging { enable, disable } => {
                let setup = |types: &Vec<String>, enabled: bool| {
                    sdk::LogSetup::builder()
                        .set_types(Some(
                            types.iter().map(|t| sdk::LogType::from(t.as_str())).collect(),
                        ))
                        .enabled(enabled)
                        .build()
                };
                let mut logging = sdk::Logging::builder();
                if !enable.is_empty() {
                    logging = logging.cluster_logging(setup(enable, true));
                }
                if !disable.is_empty() {
                    logging = logging.cluster_logging(setup(disable, false));
                }
                request.logging(logging.build())
            }
            ClusterConfigUpdate::AccessConfig { authentication_mode } => request.access_config(
                sdk::UpdateAccessConfigRequest::builder()
                    .authentication_mode(sdk::AuthenticationMode::from(authentication_mode.as_str()))
                    .build(),
            ),
        };
        let out = request.send().await.map_err(sdk_err("UpdateClusterConfig"))?;
        Ok(out.update().and_then(|u| u.id()).unwrap_or_default().to_owned())
    }

    async fn update_cluster_version(&self, name: &str, version: &str) -> AwsResult<String> {
        let out = self
            .client
            .update_cluster_version()
            .name(name)
            .version(version)
            .send()
            .await
            .map_err(sdk_err("UpdateClusterVersion"))?;
        Ok(out.update().and_then(|u| u.id()).unwrap_or_default().to_owned())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> AwsResult<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(hash_tags(tags)))
            .send()
            .await
            .map_err(sdk_err("TagResource"))?;
        Ok(())
    }

    async fn delete_cluster(&self, name: &str) -> AwsResult<()> {
        self.client
            .delete_cluster()
            .name(name)
            .send()
            .await
            .map_err(sdk_err("DeleteCluster"))?;
        Ok(())
    }

    async fn list_nodegroups(&self, cluster: &str) -> AwsResult<Vec<String>> {
        self.client
            .list_nodegroups()
            .cluster_name(cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(sdk_err("ListNodegroups"))
    }

    async fn describe_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<Option<Nodegroup>> {
        let out = optional(
            self.client
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .map_err(sdk_err("DescribeNodegroup")),
        )?;
        Ok(out.and_then(|o| o.nodegroup().map(nodegroup)))
    }

    async fn create_nodegroup(&self, request: &CreateNodegroup) -> AwsResult<Nodegroup> {
        let scaling = sdk::NodegroupScalingConfig::builder()
            .min_size(request.scaling.min)
            .max_size(request.scaling.max)
            .desired_size(request.scaling.desired)
            .build();
        let remote = request
            .ssh_key_name
            .as_ref()
            .map(|key| sdk::RemoteAccessConfig::builder().ec2_ssh_key(key).build());
        let out = self
            .client
            .create_nodegroup()
            .cluster_name(&request.cluster)
            .nodegroup_name(&request.name)
            .version(&request.version)
            .node_role(&request.node_role_arn)
            .set_subnets(Some(request.subnet_ids.clone()))
            .set_instance_types(Some(request.instance_types.clone()))
            .scaling_config(scaling)
            .disk_size(request.disk_size_gib)
            .set_remote_access(remote)
            .set_labels((!request.labels.is_empty()).then(|| {
                request
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }))
            .set_taints((!request.taints.is_empty()).then(|| request.taints.iter().map(taint).collect()))
            .capacity_type(sdk::CapacityTypes::from(request.capacity_type.as_str()))
            .set_tags(Some(hash_tags(&request.tags)))
            .client_request_token(&request.client_request_token)
            .send()
            .await
            .map_err(sdk_err("CreateNodegroup"))?;
        Ok(out.nodegroup().map(nodegroup).unwrap_or_else(|| Nodegroup {
            name: request.name.clone(),
            arn: String::new(),
            status: "CREATING".to_owned(),
            version: request.version.clone(),
            scaling: request.scaling,
            instance_types: request.instance_types.clone(),
            subnet_ids: request.subnet_ids.clone(),
            labels: request.labels.clone(),
            taints: request.taints.clone(),
            tags: request.tags.clone(),
            health_issues: Vec::new(),
        }))
    }

    async fn update_nodegroup_config(
        &self,
        cluster: &str,
        name: &str,
        update: &NodegroupConfigUpdate,
    ) -> AwsResult<String> {
        let mut request = self
            .client
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(name);
        if let Some(s) = update.scaling {
            request = request.scaling_config(
                sdk::NodegroupScalingConfig::builder()
                    .min_size(s.min)
                    .max_size(s.max)
                    .desired_size(s.desired)
                    .build(),
            );
        }
        if !update.add_labels.is_empty() || !update.remove_labels.is_empty() {
            request = request.labels(
                sdk::UpdateLabelsPayload::builder()
                    .set_add_or_update_labels((!update.add_labels.is_empty()).then(|| {
                        update
                            .add_labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    }))
                    .set_remove_labels(
                        (!update.remove_labels.is_empty()).then(|| update.remove_labels.clone()),
                    )
                    .build(),
            );
        }
        if !update.add_taints.is_empty() || !update.remove_taints.is_empty() {
            request = request.taints(
                sdk::UpdateTaintsPayload::builder()
                    .set_add_or_update_taints(
                        (!update.add_taints.is_empty())
                            .then(|| update.add_taints.iter().map(taint).collect()),
                    )
                    .set_remove_taints(
                        (!update.remove_taints.is_empty())
                            .then(|| update.remove_taints.iter().map(taint).collect()),
                    )
                    .build(),
            );
        }
        let out = request.send().await.map_err(sdk_err("UpdateNodegroupConfig"))?;
        Ok(out.update().and_then(|u| u.id()).unwrap_or_default().to_owned())
    }

    async fn update_nodegroup_version(&self, cluster: &str, name: &str, version: &str) -> AwsResult<String> {
        let out = self
            .client
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .version(version)
            .send()
            .await
            .map_err(sdk_err("UpdateNodegroupVersion"))?;
        Ok(out.update().and_then(|u| u.id()).unwrap_or_default().to_owned())
    }

    async fn delete_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<()> {
        self.client
            .delete_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(sdk_err("DeleteNodegroup"))?;
        Ok(())
    }

    async fn list_access_entries(&self, cluster: &str) -> AwsResult<Vec<String>> {
        self.access_entries(cluster).await
    }

    async fn describe_access_entry(&self, cluster: &str, principal: &str) -> AwsResult<Option<AccessEntry>> {
        self.describe_entry(cluster, principal).await
    }

    async fn create_access_entry(
        &self,
        cluster: &str,
        request: &CreateAccessEntry,
    ) -> AwsResult<AccessEntry> {
        self.create_entry(cluster, request).await
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        update: &AccessEntryUpdate,
    ) -> AwsResult<()> {
        self.update_entry(cluster, principal, update).await
    }

    async fn delete_access_entry(&self, cluster: &str, principal: &str) -> AwsResult<()> {
        self.delete_entry(cluster, principal).await
    }

    async fn list_associated_access_policies(
        &self,
        cluster: &str,
        principal: &str,
    ) -> AwsResult<Vec<AssociatedPolicy>> {
        self.associated_policies(cluster, principal).await
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy: &AssociatedPolicy,
    ) -> AwsResult<()> {
        self.associate(cluster, principal, policy).await
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> AwsResult<()> {
        self.disassociate(cluster, principal, policy_arn).await
    }
}
