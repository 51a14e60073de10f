//! A per-call hook for whoever counts AWS calls (the controller's Prometheus metrics): the AWS layer reports
//! each call once, with its outcome, and knows nothing of the metrics library behind the hook.

use std::sync::Arc;

use async_trait::async_trait;
use eks_api::{CredentialsSpec, RegionName};

use super::Op;
use crate::context::{ClientProvider, RegionClients};
use crate::declare::{Call, CallLayer, Layered};
use crate::error::{AwsError, AwsResult};

/// The outcome of a call that succeeded; failed calls report their error's [`AwsError::reason`].
pub const SUCCESS: &str = "Success";

/// Sees every AWS call made through an [`AwsContext`] with an observer, once per call (SDK retries inside one
/// call are not separate calls), after it finished.
///
/// [`AwsContext`]: crate::context::AwsContext
pub trait CallObserver: Send + Sync {
    /// `op` finished with `outcome`: [`SUCCESS`] or the error's stable short name (`Throttled`, ...).
    fn observed(&self, op: Op, outcome: &str);
}

/// The layer that reports each call's outcome to an observer.
#[derive(Clone)]
pub struct Observed(pub Arc<dyn CallObserver>);

impl CallLayer for Observed {
    fn call<'a, T: Send + 'a>(&'a self, op: &'static Op, call: Call<'a, T>) -> Call<'a, T> {
        Box::pin(async move {
            let result = call.await;
            self.0
                .observed(*op, result.as_ref().map_or_else(AwsError::reason, |_| SUCCESS));
            result
        })
    }
}

/// Wraps each client of `clients` in a [`Layered`] client with `layer`.
pub fn layer_clients<L: CallLayer + Clone + 'static>(clients: RegionClients, layer: L) -> RegionClients {
    RegionClients {
        region: clients.region,
        ec2: Arc::new(Layered::new(layer.clone(), clients.ec2)),
        iam: Arc::new(Layered::new(layer.clone(), clients.iam)),
        eks: Arc::new(Layered::new(layer.clone(), clients.eks)),
        sts: Arc::new(Layered::new(layer, clients.sts)),
    }
}

/// A [`ClientProvider`] whose clients all go through one [`CallLayer`] (an observer, or in tests the
/// instrument).
pub struct LayeredProvider<L> {
    inner: Arc<dyn ClientProvider>,
    layer: L,
}

impl<L> LayeredProvider<L> {
    /// Wraps `inner`'s clients with `layer`.
    pub fn new(inner: Arc<dyn ClientProvider>, layer: L) -> Self {
        Self { inner, layer }
    }

    /// The layer.
    pub fn layer(&self) -> &L {
        &self.layer
    }
}

#[async_trait]
impl<L: CallLayer + Clone + 'static> ClientProvider for LayeredProvider<L> {
    async fn region_clients(
        &self,
        region: &RegionName,
        credentials: Option<&CredentialsSpec>,
    ) -> AwsResult<RegionClients> {
        let clients = self.inner.region_clients(region, credentials).await?;
        Ok(layer_clients(clients, self.layer.clone()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use eks_api::RegionName;

    use super::*;
    use crate::engine::RecordedRegion;
    use crate::fake::{FakeAws, FakeConfig};
    use crate::instrument::{Fault, FaultRule};
    use crate::types::{Filter, VpcAttribute};

    /// Records what it sees as `service:Operation outcome`.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl CallObserver for Recorder {
        fn observed(&self, op: Op, outcome: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{}:{} {outcome}", op.service.as_str(), op.name));
        }
    }

    impl Recorder {
        fn seen(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    fn region() -> RegionName {
        RegionName::parse("eu-west-1").unwrap()
    }

    #[tokio::test]
    async fn every_call_is_observed_once_with_its_outcome_including_an_injected_throttle() {
        let fake = FakeAws::new(FakeConfig::default());
        fake.instrument()
            .inject(FaultRule::on("CreateVpc", Fault::Throttle).times(1));
        let recorder = Arc::new(Recorder::default());
        let ctx = fake.context().with_observer(recorder.clone());
        let clients = ctx.clients(&region(), None).await.unwrap();

        let throttled = clients.ec2.create_vpc("10.0.0.0/16", &Default::default()).await;
        assert_eq!(throttled.unwrap_err().reason(), "Throttled");
        clients
            .ec2
            .create_vpc("10.0.0.0/16", &Default::default())
            .await
            .unwrap();
        let missing = clients.eks.describe_cluster("nope").await.unwrap();
        assert!(missing.is_none());
        // (DeleteVpc of a missing VPC is success: "already so"; a change of one is not.)
        clients
            .ec2
            .modify_vpc_attribute("vpc-does-not-exist", VpcAttribute::DnsSupport, true)
            .await
            .unwrap_err();
        ctx.check_credentials(&region()).await.unwrap();

        assert_eq!(
            recorder.seen(),
            [
                "ec2:CreateVpc Throttled",
                "ec2:CreateVpc Success",
                "eks:DescribeCluster Success",
                "ec2:ModifyVpcAttribute NotFound",
                "sts:GetCallerIdentity Success",
            ]
        );
    }

    #[tokio::test]
    async fn a_context_without_an_observer_reports_nothing_and_one_with_it_sees_what_the_fake_served() {
        let fake = FakeAws::new(FakeConfig::default());
        let recorder = Arc::new(Recorder::default());
        let observed = fake.context().with_observer(recorder.clone());
        let unobserved = fake.context();
        let clients = unobserved.clients(&region(), None).await.unwrap();
        clients.ec2.describe_vpcs(&[Filter::tag_key("x")]).await.unwrap();
        assert!(recorder.seen().is_empty());

        // A whole first pass of the engine over the seed's region: each call the fake served is seen once.
        fake.instrument().reset_stats();
        let seed = include_str!("../../../../deploy/examples/cloudlad-two-regions.yaml");
        let mut object = eks_api::parse::parse_documents(seed).unwrap().remove(0);
        object.metadata.uid = Some("0b5c7f3e-0000-4000-8000-000000000001".to_owned());
        let cluster = eks_api::validate(&object).unwrap();
        let _report = crate::ensure_region(&observed, &cluster, &region(), &RecordedRegion::default()).await;
        let served = fake.instrument().stats().by_operation;
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for line in recorder.seen() {
            let (op, outcome) = line.split_once(' ').unwrap();
            assert_eq!(outcome, SUCCESS, "{line}");
            *seen.entry(op.to_owned()).or_insert(0) += 1;
        }
        assert!(seen.contains_key("ec2:CreateVpc"), "{seen:?}");
        assert_eq!(seen, served);
    }
}
