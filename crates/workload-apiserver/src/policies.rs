//! EKS access policies and the default cluster roles, as rule tables.
//!
//! The access policies follow the EKS user guide, "Review access policy permissions"
//! (<https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html>): `AmazonEKSClusterAdminPolicy`
//! is `cluster-admin`, `AmazonEKSAdminPolicy` the `admin` role, `AmazonEKSEditPolicy` `edit`,
//! `AmazonEKSViewPolicy` `view` (the page lists the same rules as the user-facing roles of
//! <https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles>). The same tables seed the
//! `cluster-admin`, `admin`, `edit` and `view` ClusterRoles and the discovery roles every cluster has
//! (<https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings>).

use serde_json::{Value, json};

use crate::rbac::Rule;

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

/// (API groups, resources) readable by `view`.
const VIEW: &[(&[&str], &[&str])] = &[
    (
        &[""],
        &[
            "bindings",
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "namespaces/status",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "pods/log",
            "pods/status",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
            "serviceaccounts",
            "services",
            "services/status",
        ],
    ),
    (
        &["apps"],
        &[
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
    ),
    (
        &["autoscaling"],
        &["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
    ),
    (
        &["batch"],
        &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
    ),
    (
        &["policy"],
        &["poddisruptionbudgets", "poddisruptionbudgets/status"],
    ),
    (
        &["networking.k8s.io"],
        &["ingresses", "ingresses/status", "networkpolicies"],
    ),
    (&["discovery.k8s.io"], &["endpointslices"]),
    (&["events.k8s.io"], &["events"]),
];

/// (API groups, resources) writable by `edit`.
const EDIT: &[(&[&str], &[&str])] = &[
    (
        &[""],
        &[
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
    ),
    (
        &["apps"],
        &[
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
    ),
    (&["autoscaling"], &["horizontalpodautoscalers"]),
    (&["batch"], &["cronjobs", "jobs"]),
    (&["policy"], &["poddisruptionbudgets"]),
    (&["networking.k8s.io"], &["ingresses", "networkpolicies"]),
    (&["coordination.k8s.io"], &["leases"]),
];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
    let owned = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect();
    Rule {
        verbs: owned(verbs),
        api_groups: owned(groups),
        resources: owned(resources),
        ..Rule::default()
    }
}

fn view() -> Vec<Rule> {
    VIEW.iter().map(|(g, r)| rule(g, r, READ)).collect()
}

fn edit() -> Vec<Rule> {
    let mut rules = view();
    rules.extend(EDIT.iter().map(|(g, r)| rule(g, r, WRITE)));
    rules.extend(EDIT.iter().map(|(g, r)| rule(g, r, READ)));
    rules.push(rule(&[""], &["serviceaccounts/token"], &["create"]));
    rules.push(rule(&[""], &["pods/eviction"], &["create"]));
    rules
}

fn admin() -> Vec<Rule> {
    let mut rules = edit();
    rules.push(rule(
        &["rbac.authorization.k8s.io"],
        &["roles", "rolebindings"],
        &["*"],
    ));
    rules.push(rule(
        &["authorization.k8s.io"],
        &["localsubjectaccessreviews"],
        &["create"],
    ));
    rules
}

fn cluster_admin() -> Vec<Rule> {
    vec![
        rule(&["*"], &["*"], &["*"]),
        Rule {
            verbs: vec!["*".into()],
            non_resource_urls: vec!["*".into()],
            ..Rule::default()
        },
    ]
}

/// The rules of an EKS access policy, by ARN (`arn:aws:eks::aws:cluster-access-policy/<name>`); `None` for a
/// policy this server does not know (it then grants nothing).
pub fn access_policy_rules(policy_arn: &str) -> Option<Vec<Rule>> {
    match policy_arn.rsplit('/').next()? {
        "AmazonEKSClusterAdminPolicy" => Some(cluster_admin()),
        "AmazonEKSAdminPolicy" => Some(admin()),
        "AmazonEKSEditPolicy" => Some(edit()),
        "AmazonEKSViewPolicy" => Some(view()),
        _ => None,
    }
}

fn to_json(rules: &[Rule]) -> Value {
    Value::Array(
        rules
            .iter()
            .map(|r| {
                if r.non_resource_urls.is_empty() {
                    json!({"apiGroups": r.api_groups, "resources": r.resources, "verbs": r.verbs})
                } else {
                    json!({"nonResourceURLs": r.non_resource_urls, "verbs": r.verbs})
                }
            })
            .collect(),
    )
}

fn cluster_role(name: &str, rules: &[Rule]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
        "rules": to_json(rules)})
}

fn binding(name: &str, role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
        .collect();
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects})
}

/// The default ClusterRoles and ClusterRoleBindings of a new cluster.
pub fn bootstrap_objects() -> Vec<Value> {
    let discovery = vec![Rule {
        verbs: vec!["get".into()],
        non_resource_urls: [
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/healthz",
            "/livez",
            "/openapi",
            "/openapi/*",
            "/readyz",
            "/version",
            "/version/",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        ..Rule::default()
    }];
    let basic_user = vec![
        rule(
            &["authorization.k8s.io"],
            &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            &["create"],
        ),
        rule(&["authentication.k8s.io"], &["selfsubjectreviews"], &["create"]),
    ];
    let public_info = vec![Rule {
        verbs: vec!["get".into()],
        non_resource_urls: ["/healthz", "/livez", "/readyz", "/version", "/version/"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        ..Rule::default()
    }];
    vec![
        cluster_role("cluster-admin", &cluster_admin()),
        cluster_role("admin", &admin()),
        cluster_role("edit", &edit()),
        cluster_role("view", &view()),
        cluster_role("system:discovery", &discovery),
        cluster_role("system:basic-user", &basic_user),
        cluster_role("system:public-info-viewer", &public_info),
        binding("cluster-admin", "cluster-admin", &["system:masters"]),
        binding("system:discovery", "system:discovery", &["system:authenticated"]),
        binding(
            "system:basic-user",
            "system:basic-user",
            &["system:authenticated"],
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::RequestAttributes;
    use http::Method;

    #[test]
    fn access_policies_grant_their_documented_verbs() {
        let list_pods = RequestAttributes::from_request(&Method::GET, "/api/v1/namespaces/a/pods", None);
        let create_pod = RequestAttributes::from_request(&Method::POST, "/api/v1/namespaces/a/pods", None);
        let get_secret =
            RequestAttributes::from_request(&Method::GET, "/api/v1/namespaces/a/secrets/s", None);
        let create_role = RequestAttributes::from_request(
            &Method::POST,
            "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles",
            None,
        );
        let allowed = |policy: &str, r: &RequestAttributes| {
            access_policy_rules(&format!("arn:aws:eks::aws:cluster-access-policy/{policy}"))
                .unwrap()
                .iter()
                .any(|rule| rule.allows(r))
        };
        assert!(allowed("AmazonEKSViewPolicy", &list_pods));
        assert!(!allowed("AmazonEKSViewPolicy", &create_pod));
        assert!(!allowed("AmazonEKSViewPolicy", &get_secret));
        assert!(allowed("AmazonEKSEditPolicy", &create_pod));
        assert!(allowed("AmazonEKSEditPolicy", &get_secret));
        assert!(!allowed("AmazonEKSEditPolicy", &create_role));
        assert!(allowed("AmazonEKSAdminPolicy", &create_role));
        assert!(allowed("AmazonEKSClusterAdminPolicy", &create_role));
        assert!(access_policy_rules("arn:aws:eks::aws:cluster-access-policy/Unknown").is_none());
    }
}
