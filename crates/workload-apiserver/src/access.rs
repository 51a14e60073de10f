//! Who a caller is in the cluster and what EKS lets them do: the cluster creator, `kube-system/aws-auth`
//! and access entries with access policies, per authentication mode (EKS user guide, "Grant IAM users and
//! roles access to Kubernetes APIs", <https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html>,
//! "Set the cluster authentication mode", "Create access entries" and "Associate access policies").

use serde_json::Value;

use crate::policies::access_policy_rules;
use crate::rbac::{RequestAttributes, UserInfo};
use crate::sts::Caller;

/// A cluster's `accessConfig.authenticationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthenticationMode {
    /// Only `kube-system/aws-auth` (and the creator's implicit admin).
    #[default]
    ConfigMap,
    /// Access entries first, then aws-auth.
    ApiAndConfigMap,
    /// Only access entries.
    Api,
}

impl AuthenticationMode {
    fn reads_access_entries(self) -> bool {
        self != Self::ConfigMap
    }

    fn reads_aws_auth(self) -> bool {
        self != Self::Api
    }
}

/// An access entry's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessEntryKind {
    /// `STANDARD`: a user or role with its username, groups and policies.
    #[default]
    Standard,
    /// `EC2_LINUX`: a node role (username `system:node:{{EC2PrivateDNSName}}`, group `system:nodes`).
    Ec2Linux,
    /// `EC2_WINDOWS`: like `EC2_LINUX`, plus `eks:kube-proxy-windows`.
    Ec2Windows,
    /// `FARGATE_LINUX`: a Fargate pod execution role.
    FargateLinux,
    /// `HYBRID_LINUX`: hybrid nodes' role.
    HybridLinux,
}

impl AccessEntryKind {
    /// Whether this entry lets nodes (kubelets) join.
    pub fn is_node(self) -> bool {
        self != Self::Standard
    }
}

/// Where an associated access policy applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyScope {
    /// Every namespace and the cluster-scoped resources.
    Cluster,
    /// Only these namespaces (a trailing `*` matches a prefix, as EKS allows).
    Namespaces(Vec<String>),
}

/// An access policy associated with an access entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedPolicy {
    /// `arn:aws:eks::aws:cluster-access-policy/<name>`.
    pub policy_arn: String,
    /// Its scope.
    pub scope: PolicyScope,
}

/// An access entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessEntry {
    /// The IAM user or role ARN.
    pub principal_arn: String,
    /// Its type.
    pub kind: AccessEntryKind,
    /// Kubernetes username (None: EKS's default for the type).
    pub username: Option<String>,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Associated access policies.
    pub policies: Vec<AssociatedPolicy>,
}

/// Everything EKS knows about who may use a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterAccess {
    /// The authentication mode.
    pub authentication_mode: AuthenticationMode,
    /// The IAM principal that created the cluster (path-less role ARN for a role).
    pub creator_arn: String,
    /// `bootstrapClusterCreatorAdminPermissions`.
    pub bootstrap_creator_admin: bool,
    /// Access entries (read in the API modes).
    pub entries: Vec<AccessEntry>,
}

/// How a caller got in (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Kubernetes user and groups.
    pub user: UserInfo,
    /// Access policies from the caller's access entry.
    pub policies: Vec<AssociatedPolicy>,
}

/// The ARN with a role path removed (`role/a/b/name` → `role/name`): callers' ARNs from STS carry no path.
pub fn without_path(arn: &str) -> String {
    match arn.split_once(":role/") {
        Some((head, tail)) => format!("{head}:role/{}", tail.rsplit('/').next().unwrap_or(tail)),
        None => arn.to_owned(),
    }
}

const CLUSTER_ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/// Values for aws-iam-authenticator's username templates.
#[derive(Debug, Clone, Default)]
pub struct TemplateValues {
    /// `{{EC2PrivateDNSName}}` (known when the session name is an instance id this server knows).
    pub ec2_private_dns_name: Option<String>,
}

/// Expands `{{AccountID}}`, `{{SessionName}}` (with `@` as `-`), `{{SessionNameRaw}}`, `{{AccessKeyID}}` and
/// `{{EC2PrivateDNSName}}`; `None` when a template names a value that is not known (the caller is refused).
pub fn expand(template: &str, caller: &Caller, values: &TemplateValues) -> Option<String> {
    let session = caller.session_name.clone().unwrap_or_default();
    let mut out = template
        .replace("{{AccountID}}", &caller.account)
        .replace("{{SessionNameRaw}}", &session)
        .replace("{{SessionName}}", &session.replace('@', "-"))
        .replace("{{AccessKeyID}}", &caller.access_key_id);
    if out.contains("{{EC2PrivateDNSName}}") {
        out = out.replace("{{EC2PrivateDNSName}}", values.ec2_private_dns_name.as_deref()?);
    }
    (!out.contains("{{")).then_some(out)
}

/// A mapping of `mapRoles`/`mapUsers` in aws-auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAuthMapping {
    /// `rolearn` or `userarn`.
    pub arn: String,
    /// `username` (a template).
    pub username: String,
    /// `groups`.
    pub groups: Vec<String>,
}

/// The mappings of an aws-auth ConfigMap (`mapRoles` then `mapUsers`); unparsable sections count as empty, as
/// a broken aws-auth locks its users out on EKS.
pub fn aws_auth_mappings(config_map: Option<&Value>) -> Vec<AwsAuthMapping> {
    let Some(data) = config_map.map(|c| &c["data"]) else {
        return Vec::new();
    };
    let mut mappings = Vec::new();
    for (section, key) in [("mapRoles", "rolearn"), ("mapUsers", "userarn")] {
        let Some(text) = data[section].as_str() else {
            continue;
        };
        let entries: Vec<Value> = serde_saphyr::from_str(text).unwrap_or_default();
        for entry in entries {
            let Some(arn) = entry[key].as_str() else {
                continue;
            };
            mappings.push(AwsAuthMapping {
                arn: arn.to_owned(),
                username: entry["username"].as_str().unwrap_or_default().to_owned(),
                groups: entry["groups"]
                    .as_array()
                    .map(|g| g.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            });
        }
    }
    mappings
}

impl ClusterAccess {
    /// The access entries in effect, with the creator's bootstrap entry added when the API modes gave it one
    /// and it is not listed.
    pub fn effective_entries(&self) -> Vec<AccessEntry> {
        let mut entries = self.entries.clone();
        if self.authentication_mode.reads_access_entries()
            && self.bootstrap_creator_admin
            && !self.creator_arn.is_empty()
            && !entries
                .iter()
                .any(|e| without_path(&e.principal_arn) == without_path(&self.creator_arn))
        {
            entries.push(AccessEntry {
                principal_arn: self.creator_arn.clone(),
                policies: vec![AssociatedPolicy {
                    policy_arn: CLUSTER_ADMIN.into(),
                    scope: PolicyScope::Cluster,
                }],
                ..AccessEntry::default()
            });
        }
        entries
    }

    /// Maps a caller to a Kubernetes identity, or `None` (401) when nothing names it.
    pub fn identify(
        &self,
        caller: &Caller,
        aws_auth: Option<&Value>,
        values: &TemplateValues,
    ) -> Option<Identity> {
        let principal = without_path(&caller.principal_arn);
        let mode = self.authentication_mode;
        if mode.reads_access_entries()
            && let Some(entry) = self
                .effective_entries()
                .into_iter()
                .find(|e| without_path(&e.principal_arn) == principal)
        {
            let (default_name, mut groups) = match entry.kind {
                AccessEntryKind::Standard => (caller.arn.clone(), entry.groups.clone()),
                AccessEntryKind::FargateLinux => (
                    "system:node:{{SessionName}}".to_owned(),
                    vec!["system:nodes".into(), "system:node-proxier".into()],
                ),
                _ => (
                    "system:node:{{EC2PrivateDNSName}}".to_owned(),
                    vec!["system:nodes".into()],
                ),
            };
            let name = expand(entry.username.as_deref().unwrap_or(&default_name), caller, values)?;
            groups.push("system:authenticated".into());
            return Some(Identity {
                user: UserInfo { name, groups },
                policies: entry.policies,
            });
        }
        if !mode.reads_aws_auth() {
            return None;
        }
        if mode == AuthenticationMode::ConfigMap
            && self.bootstrap_creator_admin
            && without_path(&self.creator_arn) == principal
        {
            // The creator's implicit administrator mapping, not visible in aws-auth.
            return Some(Identity {
                user: UserInfo {
                    name: "kubernetes-admin".into(),
                    groups: vec!["system:masters".into(), "system:authenticated".into()],
                },
                policies: Vec::new(),
            });
        }
        // aws-iam-authenticator matches the caller's canonical ARN exactly: a mapped role ARN with a path
        // never matches (a well-known EKS pitfall), so no path is stripped here.
        let mapping = aws_auth_mappings(aws_auth)
            .into_iter()
            .find(|m| m.arn == caller.principal_arn)?;
        let template = if mapping.username.is_empty() {
            caller.arn.clone()
        } else {
            mapping.username
        };
        let name = expand(&template, caller, values)?;
        let mut groups = mapping.groups;
        groups.push("system:authenticated".into());
        Some(Identity {
            user: UserInfo { name, groups },
            policies: Vec::new(),
        })
    }

    /// Whether the node role `role_arn` is authorized for kubelets: an `EC2_LINUX`-like access entry (API
    /// modes), or an aws-auth mapping with group `system:nodes` (ConfigMap modes).
    pub fn node_role_authorized(&self, role_arn: &str, aws_auth: Option<&Value>) -> bool {
        let role = without_path(role_arn);
        let mode = self.authentication_mode;
        if mode.reads_access_entries()
            && let Some(entry) = self
                .entries
                .iter()
                .find(|e| without_path(&e.principal_arn) == role)
        {
            return entry.kind.is_node() || entry.groups.iter().any(|g| g == "system:nodes");
        }
        mode.reads_aws_auth()
            && aws_auth_mappings(aws_auth)
                .iter()
                .any(|m| m.arn == role && m.groups.iter().any(|g| g == "system:nodes"))
    }
}

fn namespace_matches(pattern: &str, namespace: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => namespace.starts_with(prefix),
        None => pattern == namespace,
    }
}

/// Whether the caller's access policies allow the request (namespace-scoped policies only inside their
/// namespaces).
pub fn policies_allow(policies: &[AssociatedPolicy], request: &RequestAttributes) -> bool {
    policies.iter().any(|policy| {
        let in_scope = match &policy.scope {
            PolicyScope::Cluster => true,
            PolicyScope::Namespaces(names) => {
                !request.namespace.is_empty()
                    && names.iter().any(|n| namespace_matches(n, &request.namespace))
            }
        };
        in_scope
            && access_policy_rules(&policy.policy_arn)
                .is_some_and(|rules| rules.iter().any(|r| r.allows(request)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(arn: &str) -> Caller {
        let (principal_arn, session_name) = crate::sts::canonical_principal(arn);
        Caller {
            arn: arn.into(),
            principal_arn,
            account: "123456789012".into(),
            session_name,
            access_key_id: "AKID".into(),
        }
    }

    fn aws_auth() -> Value {
        json!({"data": {"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/dev\n  username: dev:{{SessionName}}\n  groups: [devs]\n- rolearn: arn:aws:iam::123456789012:role/nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n",
            "mapUsers": "- userarn: arn:aws:iam::123456789012:user/bob\n  username: bob\n  groups: []\n"}})
    }

    #[test]
    fn config_map_mode_maps_creator_and_aws_auth() {
        let access = ClusterAccess {
            creator_arn: "arn:aws:iam::123456789012:role/admin".into(),
            bootstrap_creator_admin: true,
            ..ClusterAccess::default()
        };
        let cm = aws_auth();
        let v = TemplateValues::default();
        let admin = access
            .identify(
                &caller("arn:aws:sts::123456789012:assumed-role/admin/s"),
                Some(&cm),
                &v,
            )
            .unwrap();
        assert!(admin.user.groups.contains(&"system:masters".to_owned()));
        let dev = access
            .identify(
                &caller("arn:aws:sts::123456789012:assumed-role/dev/alice@x"),
                Some(&cm),
                &v,
            )
            .unwrap();
        assert_eq!(dev.user.name, "dev:alice-x");
        let bob = access
            .identify(&caller("arn:aws:iam::123456789012:user/bob"), Some(&cm), &v)
            .unwrap();
        assert_eq!(bob.user.name, "bob");
        assert!(
            access
                .identify(&caller("arn:aws:iam::123456789012:user/eve"), Some(&cm), &v)
                .is_none()
        );
        // A node role template needs the instance's DNS name.
        assert!(
            access
                .identify(
                    &caller("arn:aws:sts::123456789012:assumed-role/nodes/i-1"),
                    Some(&cm),
                    &v
                )
                .is_none()
        );
        assert!(access.node_role_authorized("arn:aws:iam::123456789012:role/nodes", Some(&cm)));
        assert!(!access.node_role_authorized("arn:aws:iam::123456789012:role/dev", Some(&cm)));
    }

    #[test]
    fn api_mode_reads_only_access_entries() {
        let access = ClusterAccess {
            authentication_mode: AuthenticationMode::Api,
            creator_arn: "arn:aws:iam::123456789012:role/admin".into(),
            bootstrap_creator_admin: true,
            entries: vec![AccessEntry {
                principal_arn: "arn:aws:iam::123456789012:role/viewer".into(),
                policies: vec![AssociatedPolicy {
                    policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                    scope: PolicyScope::Namespaces(vec!["team-*".into()]),
                }],
                ..AccessEntry::default()
            }],
        };
        let cm = aws_auth();
        let v = TemplateValues::default();
        assert!(
            access
                .identify(
                    &caller("arn:aws:sts::123456789012:assumed-role/dev/a"),
                    Some(&cm),
                    &v
                )
                .is_none()
        );
        let admin = access
            .identify(
                &caller("arn:aws:sts::123456789012:assumed-role/admin/a"),
                Some(&cm),
                &v,
            )
            .unwrap();
        assert_eq!(admin.user.name, "arn:aws:sts::123456789012:assumed-role/admin/a");
        let viewer = access
            .identify(
                &caller("arn:aws:sts::123456789012:assumed-role/viewer/a"),
                None,
                &v,
            )
            .unwrap();
        let list = |ns: &str| {
            RequestAttributes::from_request(
                &http::Method::GET,
                &format!("/api/v1/namespaces/{ns}/pods"),
                None,
            )
        };
        assert!(policies_allow(&viewer.policies, &list("team-a")));
        assert!(!policies_allow(&viewer.policies, &list("default")));
        assert!(policies_allow(&admin.policies, &list("default")));
        assert!(!access.node_role_authorized("arn:aws:iam::123456789012:role/nodes", Some(&cm)));
    }
}
