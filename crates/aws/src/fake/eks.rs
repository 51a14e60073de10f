//! The fake EKS of one region: clusters and node groups with their lifecycles.

use async_trait::async_trait;

use super::Shared;
use super::store::{Lifecycle, RegionState, StoredCluster, aws_error, not_found, observe};
use crate::api::EksApi;
use crate::error::AwsResult;
use crate::types::*;

pub(crate) struct FakeEks(pub(crate) Shared);

impl FakeEks {
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut RegionState, u64) -> AwsResult<T>) -> AwsResult<T> {
        let mut state = self.0.lock();
        state.next_id += 1;
        let n = state.next_id;
        f(state.region(&self.0.region), n)
    }

    fn arn(&self, kind: &str, path: &str) -> String {
        format!(
            "arn:aws:eks:{}:{}:{kind}/{path}",
            self.0.region, self.0.config.account
        )
    }
}

pub(super) fn cluster_not_found(op: &'static str, name: &str) -> crate::error::AwsError {
    not_found(op, "ResourceNotFoundException", &format!("cluster {name}"))
}

fn active<'a>(r: &'a mut RegionState, op: &'static str, name: &str) -> AwsResult<&'a mut StoredCluster> {
    let c = r
        .clusters
        .get_mut(name)
        .ok_or_else(|| cluster_not_found(op, name))?;
    if c.life.status != "ACTIVE" {
        return Err(aws_error(
            op,
            "ResourceInUseException",
            format!("cluster {name} is {}", c.life.status),
        ));
    }
    Ok(c)
}

#[async_trait]
impl EksApi for FakeEks {
    async fn describe_cluster(&self, name: &str) -> AwsResult<Option<Cluster>> {
        let settle = self.0.config.settle_after;
        self.with(|r, _| {
            let Some(c) = r.clusters.get_mut(name) else {
                return Ok(None);
            };
            if observe(&mut c.life, settle) && c.life.status == "GONE" {
                r.clusters.remove(name);
                return Ok(None);
            }
            c.cluster.status = c.life.status.clone();
            Ok(Some(c.cluster.clone()))
        })
    }

    async fn create_cluster(&self, q: &CreateCluster) -> AwsResult<Cluster> {
        let arn = self.arn("cluster", &q.name);
        let region = self.0.region.clone();
        self.with(|r, n| {
            if let Some(c) = r.clusters.get(&q.name) {
                if c.token == q.client_request_token {
                    return Ok(c.cluster.clone());
                }
                return Err(aws_error(
                    "CreateCluster",
                    "ResourceInUseException",
                    format!("Cluster already exists with name: {}", q.name),
                ));
            }
            let tags = q.tags.clone();
            let cluster = Cluster {
                name: q.name.clone(),
                arn,
                status: "CREATING".into(),
                version: q.version.clone(),
                endpoint: Some(format!("https://{n:032X}.gr7.{region}.eks.amazonaws.com")),
                certificate_authority: Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t".into()),
                oidc_issuer: Some(format!("https://oidc.eks.{region}.amazonaws.com/id/{n:032X}")),
                role_arn: q.role_arn.clone(),
                vpc: q.vpc.clone(),
                enabled_log_types: q.log_types.clone(),
                tags,
                authentication_mode: Some(
                    q.authentication_mode
                        .clone()
                        .unwrap_or_else(|| "CONFIG_MAP".to_owned()),
                ),
            };
            r.clusters.insert(
                q.name.clone(),
                StoredCluster {
                    cluster: cluster.clone(),
                    life: Lifecycle::new("CREATING"),
                    nodegroups: Default::default(),
                    token: q.client_request_token.clone(),
                    access_entries: Default::default(),
                },
            );
            Ok(cluster)
        })
    }

    async fn update_cluster_config(&self, name: &str, update: &ClusterConfigUpdate) -> AwsResult<String> {
        self.with(|r, n| {
            let c = active(r, "UpdateClusterConfig", name)?;
            match update {
                ClusterConfigUpdate::EndpointAccess {
                    public,
                    private,
                    public_access_cidrs,
                } => {
                    c.cluster.vpc.endpoint_public_access = *public;
                    c.cluster.vpc.endpoint_private_access = *private;
                    c.cluster.vpc.public_access_cidrs = public_access_cidrs.clone();
                }
                ClusterConfigUpdate::Logging { enable, .. } => c.cluster.enabled_log_types = enable.clone(),
                ClusterConfigUpdate::AccessConfig { authentication_mode } => {
                    super::eks_access::change_mode(&mut c.cluster, authentication_mode)?;
                }
            }
            c.life = Lifecycle::new("UPDATING");
            Ok(format!("update-{n}"))
        })
    }

    async fn update_cluster_version(&self, name: &str, version: &str) -> AwsResult<String> {
        self.with(|r, n| {
            let c = active(r, "UpdateClusterVersion", name)?;
            let next = |v: &str| {
                v.split_once('.')
                    .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            };
            match (next(&c.cluster.version), next(version)) {
                (Some((a, b)), Some((x, y))) if a == x && y == b + 1 => {}
                _ => {
                    return Err(aws_error(
                        "UpdateClusterVersion",
                        "InvalidParameterException",
                        format!(
                            "unsupported Kubernetes version update from {} to {version}",
                            c.cluster.version
                        ),
                    ));
                }
            }
            if c.nodegroups
                .values()
                .any(|(ng, _)| ng.version != c.cluster.version)
            {
                return Err(aws_error(
                    "UpdateClusterVersion",
                    "InvalidRequestException",
                    "node groups must run the cluster's version first",
                ));
            }
            c.cluster.version = version.to_owned();
            c.life = Lifecycle::new("UPDATING");
            Ok(format!("update-{n}"))
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> AwsResult<()> {
        self.with(|r, _| {
            for c in r.clusters.values_mut() {
                if c.cluster.arn == arn {
                    c.cluster.tags.extend(tags.clone());
                    return Ok(());
                }
                for (ng, _) in c.nodegroups.values_mut() {
                    if ng.arn == arn {
                        ng.tags.extend(tags.clone());
                        return Ok(());
                    }
                }
            }
            Err(not_found("TagResource", "ResourceNotFoundException", arn))
        })
    }

    async fn delete_cluster(&self, name: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let c = r
                .clusters
                .get_mut(name)
                .ok_or_else(|| cluster_not_found("DeleteCluster", name))?;
            if !c.nodegroups.is_empty() {
                return Err(aws_error(
                    "DeleteCluster",
                    "ResourceInUseException",
                    "Cluster has nodegroups attached",
                ));
            }
            c.life = Lifecycle::new("DELETING");
            c.cluster.status = "DELETING".into();
            Ok(())
        })
    }

    async fn list_nodegroups(&self, cluster: &str) -> AwsResult<Vec<String>> {
        self.with(|r, _| {
            let c = r
                .clusters
                .get(cluster)
                .ok_or_else(|| cluster_not_found("ListNodegroups", cluster))?;
            Ok(c.nodegroups.keys().cloned().collect())
        })
    }

    async fn describe_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<Option<Nodegroup>> {
        let settle = self.0.config.settle_after;
        self.with(|r, _| {
            let Some(c) = r.clusters.get_mut(cluster) else {
                return Ok(None);
            };
            let Some((ng, life)) = c.nodegroups.get_mut(name) else {
                return Ok(None);
            };
            if observe(life, settle) && life.status == "GONE" {
                c.nodegroups.remove(name);
                return Ok(None);
            }
            ng.status = life.status.clone();
            Ok(Some(ng.clone()))
        })
    }

    async fn create_nodegroup(&self, q: &CreateNodegroup) -> AwsResult<Nodegroup> {
        let arn = self.arn("nodegroup", &format!("{}/{}", q.cluster, q.name));
        self.with(|r, _| {
            let c = active(r, "CreateNodegroup", &q.cluster)?;
            if let Some((ng, _)) = c.nodegroups.get(&q.name) {
                return Err(aws_error(
                    "CreateNodegroup",
                    "ResourceInUseException",
                    format!("NodeGroup already exists with name {}", ng.name),
                ));
            }
            let ng = Nodegroup {
                name: q.name.clone(),
                arn,
                status: "CREATING".into(),
                version: q.version.clone(),
                scaling: q.scaling,
                instance_types: q.instance_types.clone(),
                subnet_ids: q.subnet_ids.clone(),
                labels: q.labels.clone(),
                taints: q.taints.clone(),
                tags: q.tags.clone(),
                health_issues: Vec::new(),
            };
            c.nodegroups
                .insert(q.name.clone(), (ng.clone(), Lifecycle::new("CREATING")));
            Ok(ng)
        })
    }

    async fn update_nodegroup_config(
        &self,
        cluster: &str,
        name: &str,
        u: &NodegroupConfigUpdate,
    ) -> AwsResult<String> {
        self.with(|r, n| {
            let c = r
                .clusters
                .get_mut(cluster)
                .ok_or_else(|| cluster_not_found("UpdateNodegroupConfig", cluster))?;
            let (ng, life) = c
                .nodegroups
                .get_mut(name)
                .ok_or_else(|| not_found("UpdateNodegroupConfig", "ResourceNotFoundException", name))?;
            if life.status != "ACTIVE" {
                return Err(aws_error(
                    "UpdateNodegroupConfig",
                    "ResourceInUseException",
                    format!("node group {name} is {}", life.status),
                ));
            }
            if let Some(s) = u.scaling {
                if s.min > s.desired || s.desired > s.max {
                    return Err(aws_error(
                        "UpdateNodegroupConfig",
                        "InvalidParameterException",
                        "desired size must be within min and max",
                    ));
                }
                ng.scaling = s;
            }
            ng.labels.extend(u.add_labels.clone());
            for k in &u.remove_labels {
                ng.labels.remove(k);
            }
            ng.taints.retain(|t| !u.remove_taints.contains(t));
            ng.taints.extend(u.add_taints.iter().cloned());
            ng.taints.sort();
            *life = Lifecycle::new("UPDATING");
            Ok(format!("update-{n}"))
        })
    }

    async fn update_nodegroup_version(&self, cluster: &str, name: &str, version: &str) -> AwsResult<String> {
        self.with(|r, n| {
            let c = r
                .clusters
                .get_mut(cluster)
                .ok_or_else(|| cluster_not_found("UpdateNodegroupVersion", cluster))?;
            if version != c.cluster.version {
                return Err(aws_error(
                    "UpdateNodegroupVersion",
                    "InvalidParameterException",
                    "node groups follow the cluster's version",
                ));
            }
            let (ng, life) = c
                .nodegroups
                .get_mut(name)
                .ok_or_else(|| not_found("UpdateNodegroupVersion", "ResourceNotFoundException", name))?;
            ng.version = version.to_owned();
            *life = Lifecycle::new("UPDATING");
            Ok(format!("update-{n}"))
        })
    }

    async fn delete_nodegroup(&self, cluster: &str, name: &str) -> AwsResult<()> {
        self.with(|r, _| {
            let c = r
                .clusters
                .get_mut(cluster)
                .ok_or_else(|| cluster_not_found("DeleteNodegroup", cluster))?;
            let (ng, life) = c
                .nodegroups
                .get_mut(name)
                .ok_or_else(|| not_found("DeleteNodegroup", "ResourceNotFoundException", name))?;
            ng.status = "DELETING".into();
            *life = Lifecycle::new("DELETING");
            Ok(())
        })
    }

    async fn list_access_entries(&self, cluster: &str) -> AwsResult<Vec<String>> {
        self.access_entries(cluster)
    }

    async fn describe_access_entry(&self, cluster: &str, principal: &str) -> AwsResult<Option<AccessEntry>> {
        self.describe_entry(cluster, principal)
    }

    async fn create_access_entry(
        &self,
        cluster: &str,
        request: &CreateAccessEntry,
    ) -> AwsResult<AccessEntry> {
        self.create_entry(cluster, request)
    }

    async fn update_access_entry(
        &self,
        cluster: &str,
        principal: &str,
        update: &AccessEntryUpdate,
    ) -> AwsResult<()> {
        self.update_entry(cluster, principal, update)
    }

    async fn delete_access_entry(&self, cluster: &str, principal: &str) -> AwsResult<()> {
        self.delete_entry(cluster, principal)
    }

    async fn list_associated_access_policies(
        &self,
        cluster: &str,
        principal: &str,
    ) -> AwsResult<Vec<AssociatedPolicy>> {
        self.associated_policies(cluster, principal)
    }

    async fn associate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy: &AssociatedPolicy,
    ) -> AwsResult<()> {
        self.associate(cluster, principal, policy)
    }

    async fn disassociate_access_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> AwsResult<()> {
        self.disassociate(cluster, principal, policy_arn)
    }
}
