//! Request attributes and RBAC evaluation, as the Kubernetes docs define them: "Authorization overview"
//! (<https://kubernetes.io/docs/reference/access-authn-authz/authorization/#review-your-request-attributes>,
//! `RequestInfoFactory` in k8s.io/apiserver) and "Using RBAC Authorization"
//! (<https://kubernetes.io/docs/reference/access-authn-authz/rbac/>). Roles and bindings are read from the
//! cluster's own store, so what `kubectl apply` writes takes effect on the next request.

use serde_json::Value;

/// What a request asks to do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestAttributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; for non-resource
    /// requests the lower-case HTTP method.
    pub verb: String,
    /// Whether this is a resource request (`/api/...` or `/apis/...` naming a resource).
    pub resource_request: bool,
    /// API group (`""` for core).
    pub api_group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource (`status`, `log`, ...).
    pub subresource: String,
    /// Object name.
    pub name: String,
    /// Namespace (for `namespaces/<name>` requests, the name, as the real server sets it).
    pub namespace: String,
    /// The URL path.
    pub path: String,
}

impl RequestAttributes {
    /// Derives the attributes of an HTTP request.
    pub fn from_request(method: &http::Method, path: &str, query: Option<&str>) -> Self {
        let non_resource = || Self {
            verb: method.as_str().to_ascii_lowercase(),
            path: path.to_owned(),
            ..Self::default()
        };
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let (api_group, rest) = match segments.as_slice() {
            ["api", _version, rest @ ..] => (String::new(), rest),
            ["apis", group, _version, rest @ ..] => ((*group).to_owned(), rest),
            _ => return non_resource(),
        };
        if rest.is_empty() {
            return non_resource();
        }
        let mut verb = match *method {
            http::Method::POST => "create",
            http::Method::PUT => "update",
            http::Method::PATCH => "patch",
            http::Method::DELETE => "delete",
            _ => "get",
        }
        .to_owned();
        let mut parts: &[&str] = rest;
        if parts[0] == "watch" {
            verb = "watch".into();
            parts = &parts[1..];
        }
        let mut namespace = String::new();
        if parts.first() == Some(&"namespaces") && parts.len() > 1 {
            namespace = parts[1].to_owned();
            if parts.len() > 2 {
                parts = &parts[2..];
            }
        }
        let get = |i: usize| parts.get(i).map(|s| (*s).to_owned()).unwrap_or_default();
        let (resource, name, subresource) = (get(0), get(1), get(2));
        if name.is_empty() {
            let watch_param = query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .any(|p| p == "watch=true" || p == "watch=1");
            verb = match verb.as_str() {
                "get" if watch_param => "watch".into(),
                "get" => "list".into(),
                "delete" => "deletecollection".into(),
                _ => verb,
            };
        }
        Self {
            verb,
            resource_request: true,
            api_group,
            resource,
            subresource,
            name,
            namespace,
            path: path.to_owned(),
        }
    }

    /// The "... is forbidden: User ..." message of the real API server.
    pub fn forbidden_message(&self, user: &str) -> String {
        if !self.resource_request {
            return format!(
                "forbidden: User \"{user}\" cannot {} path \"{}\"",
                self.verb, self.path
            );
        }
        let resource = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        let subject = if self.name.is_empty() {
            resource.clone()
        } else {
            format!("{resource} \"{}\"", self.name)
        };
        let scope = if self.namespace.is_empty() {
            "at the cluster scope".to_owned()
        } else {
            format!("in the namespace \"{}\"", self.namespace)
        };
        format!(
            "{subject} is forbidden: User \"{user}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            self.verb, self.api_group
        )
    }
}

/// One RBAC `PolicyRule`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// Verbs (`*` for all).
    pub verbs: Vec<String>,
    /// API groups (`*` for all).
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource`, `*`, `*/subresource`.
    pub resources: Vec<String>,
    /// Names (empty: all).
    pub resource_names: Vec<String>,
    /// Non-resource URLs (`/healthz`, `/api/*`, `*`).
    pub non_resource_urls: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

impl Rule {
    /// A rule from a Role's or ClusterRole's `rules[]` entry.
    pub fn from_json(rule: &Value) -> Self {
        Self {
            verbs: strings(&rule["verbs"]),
            api_groups: strings(&rule["apiGroups"]),
            resources: strings(&rule["resources"]),
            resource_names: strings(&rule["resourceNames"]),
            non_resource_urls: strings(&rule["nonResourceURLs"]),
        }
    }

    /// Whether this rule allows the request (the matching of the RBAC docs' "Referring to resources").
    pub fn allows(&self, request: &RequestAttributes) -> bool {
        let verb_ok = self.verbs.iter().any(|v| v == "*" || *v == request.verb);
        if !verb_ok {
            return false;
        }
        if !request.resource_request {
            return self.non_resource_urls.iter().any(|u| {
                u == "*"
                    || *u == request.path
                    || u.strip_suffix('*').is_some_and(|p| request.path.starts_with(p))
            });
        }
        let group_ok = self
            .api_groups
            .iter()
            .any(|g| g == "*" || *g == request.api_group);
        let combined = if request.subresource.is_empty() {
            request.resource.clone()
        } else {
            format!("{}/{}", request.resource, request.subresource)
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!request.subresource.is_empty() && *r == format!("*/{}", request.subresource))
                || (!request.subresource.is_empty() && *r == format!("{}/*", request.resource))
        });
        let name_ok = self.resource_names.is_empty() || self.resource_names.contains(&request.name);
        group_ok && resource_ok && name_ok
    }
}

/// The user a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Kubernetes username.
    pub name: String,
    /// Groups (always including `system:authenticated`).
    pub groups: Vec<String>,
}

fn subject_matches(subject: &Value, user: &UserInfo) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("User") => name == user.name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let namespace = subject["namespace"].as_str().unwrap_or_default();
            user.name == format!("system:serviceaccount:{namespace}:{name}")
        }
        _ => false,
    }
}

fn role_rules(store: &kube_emulator::store::Store, kind: &str, namespace: &str, name: &str) -> Vec<Rule> {
    let role = match kind {
        "ClusterRole" => store.get("rbac.authorization.k8s.io/clusterroles", "", name),
        "Role" => store.get("rbac.authorization.k8s.io/roles", namespace, name),
        _ => None,
    };
    role.and_then(|r| r["rules"].as_array())
        .map(|rules| rules.iter().map(Rule::from_json).collect())
        .unwrap_or_default()
}

/// Whether RBAC objects in `store` allow `user` the request: any ClusterRoleBinding naming the user or one of
/// its groups, or any RoleBinding in the request's namespace, whose role has a rule allowing it.
pub fn allows(store: &kube_emulator::store::Store, user: &UserInfo, request: &RequestAttributes) -> bool {
    let bound = |binding: &Value| {
        binding["subjects"]
            .as_array()
            .is_some_and(|subjects| subjects.iter().any(|s| subject_matches(s, user)))
    };
    for binding in store.list("rbac.authorization.k8s.io/clusterrolebindings", None) {
        if bound(&binding)
            && role_rules(
                store,
                "ClusterRole",
                "",
                binding["roleRef"]["name"].as_str().unwrap_or_default(),
            )
            .iter()
            .any(|r| r.allows(request))
        {
            return true;
        }
    }
    if request.namespace.is_empty() {
        return false;
    }
    for binding in store.list("rbac.authorization.k8s.io/rolebindings", Some(&request.namespace)) {
        let kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
        let name = binding["roleRef"]["name"].as_str().unwrap_or_default();
        // A RoleBinding grants only inside its namespace, also when it refers to a ClusterRole.
        if bound(&binding)
            && role_rules(store, kind, &request.namespace, name)
                .iter()
                .any(|r| r.resource_request_only_allows(request))
        {
            return true;
        }
    }
    false
}

impl Rule {
    /// Rules bound by a RoleBinding never grant non-resource URLs.
    fn resource_request_only_allows(&self, request: &RequestAttributes) -> bool {
        request.resource_request && self.allows(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn attrs(method: Method, path: &str, query: Option<&str>) -> RequestAttributes {
        RequestAttributes::from_request(&method, path, query)
    }

    #[test]
    fn request_attributes_follow_the_request_info_rules() {
        let a = attrs(Method::GET, "/api/v1/namespaces/dev/pods", None);
        assert_eq!(
            (a.verb.as_str(), a.namespace.as_str(), a.resource.as_str()),
            ("list", "dev", "pods")
        );
        let a = attrs(
            Method::GET,
            "/api/v1/namespaces/dev/pods",
            Some("watch=true&resourceVersion=1"),
        );
        assert_eq!(a.verb, "watch");
        let a = attrs(Method::GET, "/api/v1/namespaces/dev/pods/web/log", None);
        assert_eq!(
            (a.verb.as_str(), a.name.as_str(), a.subresource.as_str()),
            ("get", "web", "log")
        );
        let a = attrs(Method::DELETE, "/apis/apps/v1/namespaces/dev/deployments", None);
        assert_eq!(
            (a.verb.as_str(), a.api_group.as_str()),
            ("deletecollection", "apps")
        );
        let a = attrs(Method::GET, "/api/v1/namespaces/dev", None);
        assert_eq!(
            (a.resource.as_str(), a.name.as_str(), a.namespace.as_str()),
            ("namespaces", "dev", "dev")
        );
        let a = attrs(Method::GET, "/api/v1/nodes", None);
        assert_eq!((a.verb.as_str(), a.namespace.as_str()), ("list", ""));
        let a = attrs(Method::GET, "/apis/apps/v1", None);
        assert!(!a.resource_request);
        let a = attrs(Method::GET, "/api/v1/watch/namespaces/dev/pods", None);
        assert_eq!(a.verb, "watch");
    }

    #[test]
    fn forbidden_messages_read_like_the_real_server() {
        let a = attrs(Method::POST, "/api/v1/namespaces/y/pods", None);
        assert_eq!(
            a.forbidden_message("x"),
            "pods is forbidden: User \"x\" cannot create resource \"pods\" in API group \"\" in the namespace \"y\""
        );
        let a = attrs(Method::GET, "/api/v1/nodes/n1", None);
        assert_eq!(
            a.forbidden_message("x"),
            "nodes \"n1\" is forbidden: User \"x\" cannot get resource \"nodes\" in API group \"\" at the cluster scope"
        );
        let a = attrs(Method::GET, "/healthz", None);
        assert_eq!(
            a.forbidden_message("x"),
            "forbidden: User \"x\" cannot get path \"/healthz\""
        );
    }

    #[test]
    fn rules_match_verbs_groups_resources_names_and_urls() {
        let rule = Rule::from_json(&serde_json::json!({
            "verbs": ["get"], "apiGroups": [""], "resources": ["pods", "pods/log"], "resourceNames": ["web"]}));
        assert!(rule.allows(&attrs(Method::GET, "/api/v1/namespaces/d/pods/web", None)));
        assert!(rule.allows(&attrs(Method::GET, "/api/v1/namespaces/d/pods/web/log", None)));
        assert!(!rule.allows(&attrs(Method::GET, "/api/v1/namespaces/d/pods/db", None)));
        assert!(!rule.allows(&attrs(Method::DELETE, "/api/v1/namespaces/d/pods/web", None)));
        assert!(!rule.allows(&attrs(Method::GET, "/apis/apps/v1/namespaces/d/pods/web", None)));
        let urls = Rule::from_json(
            &serde_json::json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]}),
        );
        assert!(urls.allows(&attrs(Method::GET, "/apis/apps/v1", None)));
        assert!(urls.allows(&attrs(Method::GET, "/version", None)));
        assert!(!urls.allows(&attrs(Method::GET, "/healthz", None)));
    }
}
