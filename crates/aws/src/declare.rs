//! What an AWS operation is, declared once: [`Op`] names the service and operation, whether it mutates, how
//! the IAM policy grants it ([`Grant`]: resource type and condition keys), which error codes mean "it is already
//! so" for it, and whether a lost response is ambiguous ([`Lost`]).
//!
//! The declarations themselves are in [`crate::api`]: one `operations!` invocation per service trait, one line
//! per operation, next to the trait method that makes the call. From them come the service traits, the
//! [`Layered`] client every provider hands out (metrics label, "already so" answers, test instrumentation), the
//! per-operation lists the IAM policy is built from ([`crate::iam_policy`]) and the table-driven tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{AwsError, AwsResult};

/// An AWS service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// EC2.
    Ec2,
    /// IAM.
    Iam,
    /// EKS.
    Eks,
    /// STS.
    Sts,
}

impl Service {
    /// Lower-case name, also the IAM action prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ec2 => "ec2",
            Self::Iam => "iam",
            Self::Eks => "eks",
            Self::Sts => "sts",
        }
    }
}

/// How the operator's IAM policy grants an operation: on which resource types and under which condition keys
/// (IAM Service Authorization Reference). [`crate::iam_policy`] turns these into statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A read without resource-level permission (EC2 `Describe*`, STS) or of a name the operator derives:
    /// granted on `*`.
    Observe,
    /// A read of one IAM role or OIDC provider: granted on the operator's roles and providers only.
    ObserveOwned,
    /// An EC2 create, conditioned on the ownership tag in the request (`aws:RequestTag`) on the type it
    /// `creates`; the `parents` it goes into must carry the tag (`aws:ResourceTag`). `statement` is the Sid of
    /// the statement that grants it.
    Ec2Create {
        /// The resource type it creates (`vpc`, `subnet`, ...).
        creates: &'static str,
        /// The resource types AWS also authorizes it on.
        parents: &'static [&'static str],
        /// The Sid of its statement.
        statement: &'static str,
    },
    /// A create with the ownership tag in the request: an EKS cluster (no resource-level permission), an IAM
    /// role or OIDC provider (under the plan's names).
    CreateTagged,
    /// An EKS node group: the request tag, and the cluster it goes into must carry the tag.
    CreateInOwnedCluster,
    /// Tagging: at creation with the request tag (IAM and EC2 authorize tags given at creation as this
    /// action), and later on what carries the tag.
    Tag,
    /// A change or delete of what carries the ownership tag (`aws:ResourceTag`).
    ChangeOwned,
    /// Like [`Grant::ChangeOwned`], and also without condition on `resource` in `statement`, because what it
    /// acts on there is not the operator's to tag (see `iam_policy::TAG_CONDITION_EXEMPT`).
    ChangeOwnedOrUnowned {
        /// The Sid of the unconditioned statement.
        statement: &'static str,
        /// The resource type of that statement.
        resource: &'static str,
    },
    /// Only without condition on `resource` in `statement`: it acts only on what the operator does not own.
    UnownedOnly {
        /// The Sid of the unconditioned statement.
        statement: &'static str,
        /// The resource type of that statement.
        resource: &'static str,
    },
    /// Attaching or detaching the AWS managed policies the plan names, on the operator's tagged roles.
    ManagedPolicies,
}

/// What a lost response means for an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lost {
    /// Sending it again is harmless (a read, a change to a wanted state, a create with a client token): the
    /// SDK's standard retries apply.
    Safe,
    /// A create without (a respected) client token: sent twice it creates twice. The SDK retries only what AWS
    /// refused before running it (throttling); a lost response is found again by tag on the next pass.
    Ambiguous,
}

/// One AWS operation, declared once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The service.
    pub service: Service,
    /// The API name (`CreateVpc`); the IAM action is `<service>:<name>`.
    pub name: &'static str,
    /// True for calls that change something.
    pub mutating: bool,
    /// How the IAM policy grants it.
    pub grant: Grant,
    /// Error codes that mean "it is already so": the call succeeded (only for calls that return nothing).
    pub done: &'static [&'static str],
    /// Error codes that mean "it already exists" but the caller needs what exists: they come back as
    /// [`AwsError::AlreadyExists`] and the engine re-observes.
    pub exists: &'static [&'static str],
    /// Whether someone decided what "already so" means for this call (mutations must).
    pub decided: bool,
    /// What a lost response means.
    pub lost: Lost,
}

/// A read (`Describe*`, `Get*`, `List*`): granted on `*`, safe to repeat.
pub const fn read(name: &'static str) -> Op {
    Op {
        service: Service::Sts,
        name,
        mutating: false,
        grant: Grant::Observe,
        done: &[],
        exists: &[],
        decided: true,
        lost: Lost::Safe,
    }
}

/// A mutation: granted on what carries the ownership tag until [`Op::grant`] says otherwise; its "already so"
/// answers must be decided with [`Op::done`], [`Op::exists`], [`Op::repeatable`] or [`Op::ambiguous`].
pub const fn change(name: &'static str) -> Op {
    Op {
        mutating: true,
        grant: Grant::ChangeOwned,
        decided: false,
        ..read(name)
    }
}

impl Op {
    /// In `service` (the `operations!` header sets it).
    pub const fn on(self, service: Service) -> Self {
        Self { service, ..self }
    }

    /// Granted as `grant`.
    pub const fn grant(self, grant: Grant) -> Self {
        Self { grant, ..self }
    }

    /// These error codes mean the call's effect is already there: success.
    pub const fn done(self, codes: &'static [&'static str]) -> Self {
        Self {
            done: codes,
            decided: true,
            ..self
        }
    }

    /// These error codes mean what it creates or associates already exists: the caller re-observes.
    pub const fn exists(self, codes: &'static [&'static str]) -> Self {
        Self {
            exists: codes,
            decided: true,
            ..self
        }
    }

    /// Repeating it is harmless and AWS answers no "already so" error for it.
    pub const fn repeatable(self) -> Self {
        Self {
            decided: true,
            ..self
        }
    }

    /// A create without a respected client token (see [`Lost::Ambiguous`]).
    pub const fn ambiguous(self) -> Self {
        Self {
            lost: Lost::Ambiguous,
            decided: true,
            ..self
        }
    }

    /// The IAM action (`ec2:CreateVpc`).
    pub fn iam_action(&self) -> String {
        format!("{}:{}", self.service.as_str(), self.name)
    }

    /// `service:Operation`, the metrics label.
    pub fn label(&self) -> String {
        self.iam_action()
    }

    /// An error whose code is one of [`Op::exists`] becomes [`AwsError::AlreadyExists`].
    pub fn classify<T>(&self, result: AwsResult<T>) -> AwsResult<T> {
        match result {
            Err(error) if self.has_code(self.exists, &error) && !error.is_already_exists() => {
                match error.detail() {
                    Some(detail) => Err(AwsError::AlreadyExists(detail.clone())),
                    None => Err(error),
                }
            }
            other => other,
        }
    }

    /// For a call that returns nothing: an error whose code is one of [`Op::done`] is success.
    pub fn settle(&self, result: AwsResult<()>) -> AwsResult<()> {
        match result {
            Err(error) if self.has_code(self.done, &error) => {
                tracing::debug!(operation = self.name, code = error.code(), "already so");
                Ok(())
            }
            other => self.classify(other),
        }
    }

    fn has_code(&self, codes: &[&str], error: &AwsError) -> bool {
        error.code().is_some_and(|code| codes.contains(&code))
    }
}

/// A boxed call.
pub type Call<'a, T> = Pin<Box<dyn Future<Output = AwsResult<T>> + Send + 'a>>;

/// What runs around every call of a [`Layered`] client: the metrics observer in production, the counting and
/// fault-injecting instrument in tests.
pub trait CallLayer: Send + Sync {
    /// Runs `call`, an invocation of `op`.
    fn call<'a, T: Send + 'a>(&'a self, op: &'static Op, call: Call<'a, T>) -> Call<'a, T>;
}

/// No layer: the call as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plain;

impl CallLayer for Plain {
    fn call<'a, T: Send + 'a>(&'a self, _op: &'static Op, call: Call<'a, T>) -> Call<'a, T> {
        call
    }
}

/// Any implementation of a service trait, with each call's "already so" answers applied as its [`Op`]
/// declares them and run through a [`CallLayer`].
pub struct Layered<T: ?Sized, L> {
    pub(crate) layer: L,
    pub(crate) inner: Arc<T>,
}

impl<T: ?Sized, L> Layered<T, L> {
    /// Wraps `inner`.
    pub fn new(layer: L, inner: Arc<T>) -> Self {
        Self { layer, inner }
    }
}

/// Declares the operations of one service trait: the trait with one method per call, each with the [`Op`]
/// (or the ops, and which one a call is) it makes; the trait on [`Layered`]; `ALL`, the service's ops; and,
/// for tests, the trait on [`Refusing`] and an `exercise` that makes every call once.
macro_rules! operations {
    (
        $(#[$trait_doc:meta])*
        pub trait $Trait:ident in $module:ident: $service:ident {
            $(
                $(#[$doc:meta])*
                async fn $method:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)?
                    { $($CONST:ident = $decl:expr),+ $(,)? } $(by $select:expr)?;
            )*
        }
    ) => {
        $(#[$trait_doc])*
        #[async_trait::async_trait]
        pub trait $Trait: Send + Sync {
            $(
                $(#[$doc])*
                async fn $method(&self $(, $arg: $ty)*) -> $crate::error::AwsResult<operations!(@ret $($ret)?)>;
            )*
        }

        #[doc = concat!("The declarations of the `", stringify!($Trait), "` operations.")]
        pub mod $module {
            use super::*;
            $($(
                #[doc = concat!("The `", stringify!($CONST), "` operation.")]
                pub const $CONST: $crate::declare::Op = ($decl).on($crate::declare::Service::$service);
            )+)*
            /// Every operation of the service.
            pub const ALL: &[&$crate::declare::Op] = &[$($(&$CONST),+),*];
        }

        #[async_trait::async_trait]
        impl<T: $Trait + ?Sized, L: $crate::declare::CallLayer> $Trait for $crate::declare::Layered<T, L> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $crate::error::AwsResult<operations!(@ret $($ret)?)> {
                    let op: &'static $crate::declare::Op = operations!(@op $module [$($CONST)+] [$($select)?]);
                    let inner = &self.inner;
                    self.layer
                        .call(op, Box::pin(async move {
                            operations!(@settle op, inner.$method($($arg),*).await, $($ret)?)
                        }))
                        .await
                }
            )*
        }

        #[cfg(any(test, feature = "testing"))]
        #[async_trait::async_trait]
        impl $Trait for $crate::declare::Refusing {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> $crate::error::AwsResult<operations!(@ret $($ret)?)> {
                    $(let _ = &$arg;)*
                    let op: &'static $crate::declare::Op = operations!(@op $module [$($CONST)+] [$($select)?]);
                    Err(self.error(op))
                }
            )*
        }

        #[cfg(any(test, feature = "testing"))]
        impl dyn $Trait {
            /// Makes every call of the trait once with sample arguments (`round` picks among the samples of an
            /// argument that selects the operation), and returns each operation with its outcome.
            pub async fn exercise(&self, round: usize) -> Vec<(&'static $crate::declare::Op, $crate::error::AwsResult<()>)> {
                let _ = round;
                let mut seen = Vec::new();
                $(
                    {
                        $(let $arg = <$ty as $crate::declare::Sample>::sample(round);)*
                        let op: &'static $crate::declare::Op = operations!(@op $module [$($CONST)+] [$($select)?]);
                        seen.push((op, self.$method($($arg),*).await.map(|_| ())));
                    }
                )*
                seen
            }
        }
    };
    (@ret) => { () };
    (@ret $ret:ty) => { $ret };
    (@op $module:ident [$only:ident] []) => { &$module::$only };
    (@op $module:ident [$($many:ident)+] [$select:expr]) => { $select };
    (@settle $op:ident, $result:expr,) => { $op.settle($result) };
    (@settle $op:ident, $result:expr, $ret:ty) => { $op.classify($result) };
}
pub(crate) use operations;

/// A service implementation that refuses every call with one error code (for the table-driven tests of the
/// declarations).
#[cfg(any(test, feature = "testing"))]
#[derive(Clone, Debug)]
pub struct Refusing {
    /// The error code of every answer.
    pub code: &'static str,
}

#[cfg(any(test, feature = "testing"))]
impl Refusing {
    pub(crate) fn error(&self, op: &'static Op) -> AwsError {
        AwsError::from_code(op.name, self.code, "refused (test)", Some(400))
    }
}

/// Sample arguments for [`Refusing`]'s exercise of every call.
#[cfg(any(test, feature = "testing"))]
pub trait Sample {
    /// The sample of round `round`.
    fn sample(round: usize) -> Self;
}

#[cfg(any(test, feature = "testing"))]
mod samples {
    use super::Sample;
    use crate::types::*;

    impl Sample for &str {
        fn sample(_: usize) -> Self {
            "sample"
        }
    }
    impl<T> Sample for &[T] {
        fn sample(_: usize) -> Self {
            &[]
        }
    }
    impl Sample for bool {
        fn sample(round: usize) -> Self {
            round.is_multiple_of(2)
        }
    }
    impl Sample for Direction {
        fn sample(round: usize) -> Self {
            if round.is_multiple_of(2) {
                Direction::Ingress
            } else {
                Direction::Egress
            }
        }
    }
    impl Sample for VpcAttribute {
        fn sample(round: usize) -> Self {
            if round.is_multiple_of(2) {
                VpcAttribute::DnsSupport
            } else {
                VpcAttribute::DnsHostnames
            }
        }
    }
    impl Sample for &RouteTargetId {
        fn sample(_: usize) -> Self {
            Box::leak(Box::new(RouteTargetId::Gateway("igw-sample".into())))
        }
    }
    impl Sample for &ClusterConfigUpdate {
        fn sample(_: usize) -> Self {
            Box::leak(Box::new(ClusterConfigUpdate::Logging {
                enable: Vec::new(),
                disable: Vec::new(),
            }))
        }
    }
    macro_rules! by_default {
        ($($t:ty),*) => {$(
            impl Sample for &$t {
                fn sample(_: usize) -> Self {
                    Box::leak(Box::default())
                }
            }
        )*};
    }
    by_default!(
        Tags,
        serde_json::Value,
        CreateSubnet,
        CreateNatGateway,
        CreateSecurityGroup,
        CreateOidcProvider,
        CreateCluster,
        CreateNodegroup,
        NodegroupConfigUpdate,
        CreateAccessEntry,
        AccessEntryUpdate,
        AssociatedPolicy
    );
}

#[cfg(test)]
mod tests;
