//! Calls the emulator itself makes to the backend (moto) through the AWS SDK: the checks EKS makes before it
//! creates a cluster or node group, and the control plane's security group and network interfaces.

use std::collections::{BTreeMap, BTreeSet};

use aws_credential_types::Credentials;
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use thiserror::Error;

use crate::scope::SigningScope;

/// Why a backend call failed.
#[derive(Debug, Error)]
pub enum BackendError {
    /// The backend answered with an error code (e.g. `NoSuchEntity`, `InvalidSubnetID.NotFound`).
    #[error("{code}: {message}")]
    Service {
        /// The AWS error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The backend could not be reached or answered nonsense.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
}

impl BackendError {
    fn from_sdk<E, R>(err: aws_sdk_ec2::error::SdkError<E, R>) -> Self
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match err.as_service_error() {
            Some(service) => BackendError::Service {
                code: service.code().unwrap_or("Unknown").to_owned(),
                message: service.message().unwrap_or_default().to_owned(),
            },
            None => BackendError::Unavailable(format!("{err:?}")),
        }
    }

    /// The AWS error code, when the backend answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            BackendError::Service { code, .. } => Some(code),
            BackendError::Unavailable(_) => None,
        }
    }
}

/// SDK clients on the backend for one caller and region.
#[derive(Clone)]
pub struct Backend {
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
}

/// A subnet as the checks need it.
#[derive(Debug, Clone)]
pub struct SubnetInfo {
    /// Id.
    pub id: String,
    /// VPC.
    pub vpc_id: String,
    /// Availability zone.
    pub zone: String,
}

impl Backend {
    /// Clients on `endpoint` signing as the caller of `scope` (moto keys identities on the access key id).
    pub fn new(endpoint: &str, scope: &SigningScope) -> Self {
        let key = if scope.access_key.is_empty() {
            "testing"
        } else {
            &scope.access_key
        };
        let credentials = Credentials::new(key, "eks-emulator", None, None, "eks-emulator");
        let region = aws_sdk_ec2::config::Region::new(scope.region.clone());
        let behavior = aws_sdk_ec2::config::BehaviorVersion::latest();
        let ec2 = aws_sdk_ec2::Config::builder()
            .behavior_version(behavior)
            .endpoint_url(endpoint)
            .region(region.clone())
            .credentials_provider(credentials.clone())
            .build();
        let iam = aws_sdk_iam::Config::builder()
            .behavior_version(behavior)
            .endpoint_url(endpoint)
            .region(region.clone())
            .credentials_provider(credentials.clone())
            .build();
        let sts = aws_sdk_sts::Config::builder()
            .behavior_version(behavior)
            .endpoint_url(endpoint)
            .region(region)
            .credentials_provider(credentials)
            .build();
        Self {
            ec2: aws_sdk_ec2::Client::from_conf(ec2),
            iam: aws_sdk_iam::Client::from_conf(iam),
            sts: aws_sdk_sts::Client::from_conf(sts),
        }
    }

    /// The caller's account and ARN (an assumed-role session as STS names it).
    pub async fn caller(&self) -> Result<(String, String), BackendError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        Ok((
            out.account().unwrap_or_default().to_owned(),
            out.arn().unwrap_or_default().to_owned(),
        ))
    }

    /// Whether the role of `role_arn` exists (IAM `GetRole` on the name after the last `/`).
    pub async fn role_exists(&self, role_arn: &str) -> Result<bool, BackendError> {
        let Some(name) = role_arn
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.rsplit('/').next())
        else {
            return Ok(false);
        };
        match self.iam.get_role().role_name(name).send().await {
            Ok(_) => Ok(true),
            Err(err) => match BackendError::from_sdk(err) {
                e if e.code() == Some("NoSuchEntity") => Ok(false),
                e => Err(e),
            },
        }
    }

    /// The subnets of `ids`; an id that does not exist is an error with code `InvalidSubnetID.NotFound`.
    pub async fn subnets(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, BackendError> {
        let out = self
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        Ok(out
            .subnets()
            .iter()
            .map(|s| SubnetInfo {
                id: s.subnet_id().unwrap_or_default().to_owned(),
                vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                zone: s.availability_zone().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The VPC of each security group of `ids`; an unknown id is an error with code `InvalidGroup.NotFound`.
    pub async fn security_groups(&self, ids: &[String]) -> Result<BTreeMap<String, String>, BackendError> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let out = self
            .ec2
            .describe_security_groups()
            .set_group_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        Ok(out
            .security_groups()
            .iter()
            .map(|g| {
                (
                    g.group_id().unwrap_or_default().to_owned(),
                    g.vpc_id().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Creates the cluster security group and one network interface per zone of `subnets` (at most four), tagged
    /// as EKS tags them. `aws:` tag keys are reserved to AWS, so the emulator uses `eks:cluster-name` where EKS
    /// writes `aws:eks:cluster-name`, plus `kubernetes.io/cluster/<name>=owned` as EKS does
    /// (<https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html>).
    pub async fn create_control_plane_network(
        &self,
        cluster: &str,
        vpc_id: &str,
        subnets: &[SubnetInfo],
        extra_groups: &[String],
    ) -> Result<crate::eks::model::ControlPlaneNetwork, BackendError> {
        let suffix = format!("{:010x}", fastrand::u64(..) & 0xff_ffff_ffff);
        let tags = |kind: ResourceType| {
            TagSpecification::builder()
                .resource_type(kind)
                .tags(Tag::builder().key("eks:cluster-name").value(cluster).build())
                .tags(
                    Tag::builder()
                        .key(format!("kubernetes.io/cluster/{cluster}"))
                        .value("owned")
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("Name")
                        .value(format!("eks-cluster-sg-{cluster}-{suffix}"))
                        .build(),
                )
                .build()
        };
        let group = self
            .ec2
            .create_security_group()
            .group_name(format!("eks-cluster-sg-{cluster}-{suffix}"))
            .description(
                "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.",
            )
            .vpc_id(vpc_id)
            .tag_specifications(tags(ResourceType::SecurityGroup))
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        let group_id = group.group_id().unwrap_or_default().to_owned();
        let mut groups = vec![group_id.clone()];
        groups.extend(extra_groups.iter().cloned());
        let mut network = crate::eks::model::ControlPlaneNetwork {
            cluster_security_group_id: group_id,
            interface_security_group_ids: groups.clone(),
            ..Default::default()
        };
        let mut zones = BTreeSet::new();
        for subnet in subnets.iter().filter(|s| zones.insert(s.zone.clone())).take(4) {
            let eni = self
                .ec2
                .create_network_interface()
                .subnet_id(&subnet.id)
                .description(format!("Amazon EKS {cluster}"))
                .set_groups(Some(groups.clone()))
                .tag_specifications(tags(ResourceType::NetworkInterface))
                .send()
                .await
                .map_err(BackendError::from_sdk)?;
            if let Some(id) = eni.network_interface().and_then(|n| n.network_interface_id()) {
                network.interface_ids.push(id.to_owned());
                network.interface_subnet_ids.push(subnet.id.clone());
            }
        }
        Ok(network)
    }

    /// Deletes what [`Self::create_control_plane_network`] created; what is already gone counts as deleted.
    pub async fn delete_control_plane_network(
        &self,
        network: &crate::eks::model::ControlPlaneNetwork,
    ) -> Result<(), BackendError> {
        for id in &network.interface_ids {
            match self
                .ec2
                .delete_network_interface()
                .network_interface_id(id)
                .send()
                .await
            {
                Ok(_) => {}
                Err(err) => match BackendError::from_sdk(err) {
                    e if e.code().is_some_and(|c| c.contains("NotFound")) => {}
                    e => return Err(e),
                },
            }
        }
        if network.cluster_security_group_id.is_empty() {
            return Ok(());
        }
        match self
            .ec2
            .delete_security_group()
            .group_id(&network.cluster_security_group_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match BackendError::from_sdk(err) {
                e if e.code().is_some_and(|c| c.contains("NotFound")) => Ok(()),
                e => Err(e),
            },
        }
    }
}

impl Backend {
    /// The VPC of a route table; an unknown id is an error with code `InvalidRouteTableID.NotFound`.
    pub async fn route_table_vpc(&self, id: &str) -> Result<String, BackendError> {
        let out = self
            .ec2
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        Ok(out
            .route_tables()
            .first()
            .and_then(|t| t.vpc_id())
            .unwrap_or_default()
            .to_owned())
    }

    /// The VPCs a virtual private gateway is attached to; an unknown id is an error with code
    /// `InvalidVpnGatewayID.NotFound`.
    pub async fn vpn_gateway_vpcs(&self, id: &str) -> Result<Vec<String>, BackendError> {
        let out = self
            .ec2
            .describe_vpn_gateways()
            .vpn_gateway_ids(id)
            .send()
            .await
            .map_err(BackendError::from_sdk)?;
        let gateway = out.vpn_gateways().first().ok_or_else(|| BackendError::Service {
            code: "InvalidVpnGatewayID.NotFound".to_owned(),
            message: format!("The virtual private gateway ID '{id}' does not exist"),
        })?;
        Ok(gateway
            .vpc_attachments()
            .iter()
            .filter(|a| a.state().is_some_and(|s| s.as_str() == "attached"))
            .filter_map(|a| a.vpc_id().map(str::to_owned))
            .collect())
    }
}
