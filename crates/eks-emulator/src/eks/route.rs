//! Maps an EKS REST request (method and path) to its operation, as the EKS API model declares them
//! (`requestUri` of each operation in the service model; e.g.
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html> "Request Syntax").

use http::Method;

/// An EKS operation with its path parameters (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /clusters`.
    CreateCluster,
    /// `GET /clusters`.
    ListClusters,
    /// `GET /clusters/{name}`.
    DescribeCluster(String),
    /// `DELETE /clusters/{name}`.
    DeleteCluster(String),
    /// `POST /clusters/{name}/update-config`.
    UpdateClusterConfig(String),
    /// `POST /clusters/{name}/updates`.
    UpdateClusterVersion(String),
    /// `GET /clusters/{name}/updates`.
    ListUpdates(String),
    /// `GET /clusters/{name}/updates/{updateId}`.
    DescribeUpdate(String, String),
    /// `POST /clusters/{name}/node-groups`.
    CreateNodegroup(String),
    /// `GET /clusters/{name}/node-groups`.
    ListNodegroups(String),
    /// `GET /clusters/{name}/node-groups/{nodegroupName}`.
    DescribeNodegroup(String, String),
    /// `DELETE /clusters/{name}/node-groups/{nodegroupName}`.
    DeleteNodegroup(String, String),
    /// `POST /clusters/{name}/node-groups/{nodegroupName}/update-config`.
    UpdateNodegroupConfig(String, String),
    /// `POST /clusters/{name}/node-groups/{nodegroupName}/update-version`.
    UpdateNodegroupVersion(String, String),
    /// `POST /tags/{resourceArn}`.
    TagResource(String),
    /// `DELETE /tags/{resourceArn}`.
    UntagResource(String),
    /// `GET /tags/{resourceArn}`.
    ListTagsForResource(String),
    /// `POST /clusters/{name}/access-entries`.
    CreateAccessEntry(String),
    /// `GET /clusters/{name}/access-entries`.
    ListAccessEntries(String),
    /// `GET /clusters/{name}/access-entries/{principalArn}`.
    DescribeAccessEntry(String, String),
    /// `POST /clusters/{name}/access-entries/{principalArn}`.
    UpdateAccessEntry(String, String),
    /// `DELETE /clusters/{name}/access-entries/{principalArn}`.
    DeleteAccessEntry(String, String),
    /// `POST /clusters/{name}/access-entries/{principalArn}/access-policies`.
    AssociateAccessPolicy(String, String),
    /// `GET /clusters/{name}/access-entries/{principalArn}/access-policies`.
    ListAssociatedAccessPolicies(String, String),
    /// `DELETE /clusters/{name}/access-entries/{principalArn}/access-policies/{policyArn}`.
    DisassociateAccessPolicy(String, String, String),
    /// `GET /access-policies`.
    ListAccessPolicies,
    /// `POST /clusters/{name}/pod-identity-associations`.
    CreatePodIdentityAssociation(String),
    /// `GET /clusters/{name}/pod-identity-associations`.
    ListPodIdentityAssociations(String),
    /// `GET /clusters/{name}/pod-identity-associations/{associationId}`.
    DescribePodIdentityAssociation(String, String),
    /// `POST /clusters/{name}/pod-identity-associations/{associationId}`.
    UpdatePodIdentityAssociation(String, String),
    /// `DELETE /clusters/{name}/pod-identity-associations/{associationId}`.
    DeletePodIdentityAssociation(String, String),
    /// `POST /clusters/{name}/encryption-config/associate`.
    AssociateEncryptionConfig(String),
    /// `POST /clusters/{name}/insights`.
    ListInsights(String),
    /// `POST /clusters/{name}/addons`.
    CreateAddon(String),
    /// `GET /clusters/{name}/addons`.
    ListAddons(String),
    /// `GET /clusters/{name}/addons/{addonName}`.
    DescribeAddon(String, String),
    /// `POST /clusters/{name}/addons/{addonName}/update`.
    UpdateAddon(String, String),
    /// `DELETE /clusters/{name}/addons/{addonName}`.
    DeleteAddon(String, String),
    /// `GET /addons/supported-versions`.
    DescribeAddonVersions,
    /// `GET /addons/configuration-schemas`.
    DescribeAddonConfiguration,
    /// `GET /clusters/{name}/insights/{id}`.
    DescribeInsight(String, String),
}

impl Route {
    /// The route of `method` and `path`, or `None` for an operation the emulator does not serve.
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        let segments: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let m = method.as_str();
        let own = |v: &str| v.to_owned();
        Some(match (m, s.as_slice()) {
            ("POST", ["clusters"]) => Route::CreateCluster,
            ("GET", ["clusters"]) => Route::ListClusters,
            ("GET", ["clusters", n]) => Route::DescribeCluster(own(n)),
            ("DELETE", ["clusters", n]) => Route::DeleteCluster(own(n)),
            ("POST", ["clusters", n, "update-config"]) => Route::UpdateClusterConfig(own(n)),
            ("POST", ["clusters", n, "updates"]) => Route::UpdateClusterVersion(own(n)),
            ("GET", ["clusters", n, "updates"]) => Route::ListUpdates(own(n)),
            ("GET", ["clusters", n, "updates", id]) => Route::DescribeUpdate(own(n), own(id)),
            ("POST", ["clusters", n, "node-groups"]) => Route::CreateNodegroup(own(n)),
            ("GET", ["clusters", n, "node-groups"]) => Route::ListNodegroups(own(n)),
            ("GET", ["clusters", n, "node-groups", g]) => Route::DescribeNodegroup(own(n), own(g)),
            ("DELETE", ["clusters", n, "node-groups", g]) => Route::DeleteNodegroup(own(n), own(g)),
            ("POST", ["clusters", n, "node-groups", g, "update-config"]) => {
                Route::UpdateNodegroupConfig(own(n), own(g))
            }
            ("POST", ["clusters", n, "node-groups", g, "update-version"]) => {
                Route::UpdateNodegroupVersion(own(n), own(g))
            }
            ("POST", ["tags", arn @ ..]) if !arn.is_empty() => Route::TagResource(arn.join("/")),
            ("DELETE", ["tags", arn @ ..]) if !arn.is_empty() => Route::UntagResource(arn.join("/")),
            ("GET", ["tags", arn @ ..]) if !arn.is_empty() => Route::ListTagsForResource(arn.join("/")),
            ("POST", ["clusters", n, "access-entries"]) => Route::CreateAccessEntry(own(n)),
            ("GET", ["clusters", n, "access-entries"]) => Route::ListAccessEntries(own(n)),
            ("GET", ["clusters", n, "access-entries", p]) => Route::DescribeAccessEntry(own(n), own(p)),
            ("POST", ["clusters", n, "access-entries", p]) => Route::UpdateAccessEntry(own(n), own(p)),
            ("DELETE", ["clusters", n, "access-entries", p]) => Route::DeleteAccessEntry(own(n), own(p)),
            ("POST", ["clusters", n, "access-entries", p, "access-policies"]) => {
                Route::AssociateAccessPolicy(own(n), own(p))
            }
            ("GET", ["clusters", n, "access-entries", p, "access-policies"]) => {
                Route::ListAssociatedAccessPolicies(own(n), own(p))
            }
            ("DELETE", ["clusters", n, "access-entries", p, "access-policies", a]) => {
                Route::DisassociateAccessPolicy(own(n), own(p), own(a))
            }
            ("GET", ["access-policies"]) => Route::ListAccessPolicies,
            ("POST", ["clusters", n, "pod-identity-associations"]) => {
                Route::CreatePodIdentityAssociation(own(n))
            }
            ("GET", ["clusters", n, "pod-identity-associations"]) => {
                Route::ListPodIdentityAssociations(own(n))
            }
            ("GET", ["clusters", n, "pod-identity-associations", id]) => {
                Route::DescribePodIdentityAssociation(own(n), own(id))
            }
            ("POST", ["clusters", n, "pod-identity-associations", id]) => {
                Route::UpdatePodIdentityAssociation(own(n), own(id))
            }
            ("DELETE", ["clusters", n, "pod-identity-associations", id]) => {
                Route::DeletePodIdentityAssociation(own(n), own(id))
            }
            ("POST", ["clusters", n, "encryption-config", "associate"]) => {
                Route::AssociateEncryptionConfig(own(n))
            }
            ("POST", ["clusters", n, "insights"]) => Route::ListInsights(own(n)),
            ("GET", ["clusters", n, "insights", id]) => Route::DescribeInsight(own(n), own(id)),
            ("POST", ["clusters", n, "addons"]) => Route::CreateAddon(own(n)),
            ("GET", ["clusters", n, "addons"]) => Route::ListAddons(own(n)),
            ("GET", ["clusters", n, "addons", a]) => Route::DescribeAddon(own(n), own(a)),
            ("POST", ["clusters", n, "addons", a, "update"]) => Route::UpdateAddon(own(n), own(a)),
            ("DELETE", ["clusters", n, "addons", a]) => Route::DeleteAddon(own(n), own(a)),
            ("GET", ["addons", "supported-versions"]) => Route::DescribeAddonVersions,
            ("GET", ["addons", "configuration-schemas"]) => Route::DescribeAddonConfiguration,
            _ => return None,
        })
    }

    /// The operation name (as in fault rules, logs and the API reference).
    pub fn name(&self) -> &'static str {
        match self {
            Route::CreateCluster => "CreateCluster",
            Route::ListClusters => "ListClusters",
            Route::DescribeCluster(..) => "DescribeCluster",
            Route::DeleteCluster(..) => "DeleteCluster",
            Route::UpdateClusterConfig(..) => "UpdateClusterConfig",
            Route::UpdateClusterVersion(..) => "UpdateClusterVersion",
            Route::ListUpdates(..) => "ListUpdates",
            Route::DescribeUpdate(..) => "DescribeUpdate",
            Route::CreateNodegroup(..) => "CreateNodegroup",
            Route::ListNodegroups(..) => "ListNodegroups",
            Route::DescribeNodegroup(..) => "DescribeNodegroup",
            Route::DeleteNodegroup(..) => "DeleteNodegroup",
            Route::UpdateNodegroupConfig(..) => "UpdateNodegroupConfig",
            Route::UpdateNodegroupVersion(..) => "UpdateNodegroupVersion",
            Route::TagResource(..) => "TagResource",
            Route::UntagResource(..) => "UntagResource",
            Route::ListTagsForResource(..) => "ListTagsForResource",
            Route::CreateAccessEntry(..) => "CreateAccessEntry",
            Route::ListAccessEntries(..) => "ListAccessEntries",
            Route::DescribeAccessEntry(..) => "DescribeAccessEntry",
            Route::UpdateAccessEntry(..) => "UpdateAccessEntry",
            Route::DeleteAccessEntry(..) => "DeleteAccessEntry",
            Route::AssociateAccessPolicy(..) => "AssociateAccessPolicy",
            Route::ListAssociatedAccessPolicies(..) => "ListAssociatedAccessPolicies",
            Route::DisassociateAccessPolicy(..) => "DisassociateAccessPolicy",
            Route::ListAccessPolicies => "ListAccessPolicies",
            Route::CreatePodIdentityAssociation(..) => "CreatePodIdentityAssociation",
            Route::ListPodIdentityAssociations(..) => "ListPodIdentityAssociations",
            Route::DescribePodIdentityAssociation(..) => "DescribePodIdentityAssociation",
            Route::UpdatePodIdentityAssociation(..) => "UpdatePodIdentityAssociation",
            Route::DeletePodIdentityAssociation(..) => "DeletePodIdentityAssociation",
            Route::AssociateEncryptionConfig(..) => "AssociateEncryptionConfig",
            Route::ListInsights(..) => "ListInsights",
            Route::DescribeInsight(..) => "DescribeInsight",
            Route::CreateAddon(..) => "CreateAddon",
            Route::ListAddons(..) => "ListAddons",
            Route::DescribeAddon(..) => "DescribeAddon",
            Route::UpdateAddon(..) => "UpdateAddon",
            Route::DeleteAddon(..) => "DeleteAddon",
            Route::DescribeAddonVersions => "DescribeAddonVersions",
            Route::DescribeAddonConfiguration => "DescribeAddonConfiguration",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_path_parameters() {
        let arn = "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fadmin";
        assert_eq!(
            Route::of(&Method::GET, &format!("/clusters/c1/access-entries/{arn}")),
            Some(Route::DescribeAccessEntry(
                "c1".into(),
                "arn:aws:iam::123456789012:role/admin".into()
            ))
        );
        assert_eq!(
            Route::of(
                &Method::GET,
                "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fc1"
            ),
            Some(Route::ListTagsForResource(
                "arn:aws:eks:us-east-1:1:cluster/c1".into()
            ))
        );
        assert_eq!(Route::of(&Method::PUT, "/clusters"), None);
        assert_eq!(Route::of(&Method::GET, "/capabilities/x"), None);
    }
}
