//! The EKS API: request parsing and dispatch to the operations of each resource family.

pub mod access;
pub mod addon_versions;
pub mod addons;
pub mod catalogue;
pub mod clusters;
pub mod control;
pub mod error;
pub mod lifecycle;
pub mod model;
pub mod nodegroups;
pub mod pod_identity;
pub mod route;
pub mod tags;
pub mod updates;

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::Request;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::App;
use crate::eks::error::{EksError, EksResult, ErrorCode};
use crate::eks::route::Route;
use crate::faults::Protocol;
use crate::scope::SigningScope;

/// One EKS request, parsed.
pub struct Ctx<'a> {
    /// The emulator.
    pub app: &'a Arc<App>,
    /// The caller and region.
    pub scope: &'a SigningScope,
    query: Vec<(String, String)>,
    body: Bytes,
}

impl Ctx<'_> {
    /// The first value of query parameter `key`.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of query parameter `key`.
    pub fn query_all(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The JSON body as `T` (an empty body reads as `{}`).
    pub fn body<T: DeserializeOwned>(&self) -> EksResult<T> {
        let bytes: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(bytes).map_err(|err| EksError::invalid(format!("invalid request body: {err}")))
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.scope.region
    }
}

/// A page of `items` from `nextToken` (an index) with at most `maxResults` (default 100).
pub fn page(ctx: &Ctx<'_>, items: Vec<String>) -> EksResult<(Vec<String>, Option<String>)> {
    let start = match ctx.query("nextToken") {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| EksError::invalid("The nextToken is invalid."))?,
        None => 0,
    };
    let max = match ctx.query("maxResults") {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or_else(|| EksError::invalid("maxResults must be between 1 and 100"))?,
        None => 100,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((
        items.get(start..end).map(<[String]>::to_vec).unwrap_or_default(),
        next,
    ))
}

/// Serves one EKS request.
pub async fn handle(app: &Arc<App>, scope: &SigningScope, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let Some(route) = Route::of(&parts.method, parts.uri.path()) else {
        return EksError::new(
            ErrorCode::UnknownOperation,
            format!(
                "The operation {} {} is not supported by eks-emulator.",
                parts.method,
                parts.uri.path()
            ),
        )
        .into_response();
    };
    if let Some(rule) = app.faults().take(route.name()) {
        return rule.response(Protocol::RestJson);
    }
    let body = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(body) => body,
        Err(err) => return EksError::invalid(err.to_string()).into_response(),
    };
    let query = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    lifecycle::advance(app).await;
    let ctx = Ctx {
        app,
        scope,
        query,
        body,
    };
    let result = run(&ctx, route).await;
    if parts.method != http::Method::GET {
        lifecycle::advance(app).await;
        app.save();
    }
    match result {
        Ok(value) => axum::Json(value).into_response(),
        Err(err) => {
            tracing::debug!(code = err.code(), "eks error");
            err.into_response()
        }
    }
}

async fn run(ctx: &Ctx<'_>, route: Route) -> EksResult<Value> {
    match route {
        Route::CreateCluster => clusters::create(ctx).await,
        Route::ListClusters => clusters::list(ctx),
        Route::DescribeCluster(name) => clusters::describe(ctx, &name),
        Route::DeleteCluster(name) => clusters::delete(ctx, &name),
        Route::UpdateClusterConfig(name) => updates::update_cluster_config(ctx, &name),
        Route::UpdateClusterVersion(name) => updates::update_cluster_version(ctx, &name),
        Route::ListUpdates(name) => updates::list(ctx, &name),
        Route::DescribeUpdate(name, id) => updates::describe(ctx, &name, &id),
        Route::CreateNodegroup(name) => nodegroups::create(ctx, &name).await,
        Route::ListNodegroups(name) => nodegroups::list(ctx, &name),
        Route::DescribeNodegroup(name, group) => nodegroups::describe(ctx, &name, &group),
        Route::DeleteNodegroup(name, group) => nodegroups::delete(ctx, &name, &group),
        Route::UpdateNodegroupConfig(name, group) => nodegroups::update_config(ctx, &name, &group),
        Route::UpdateNodegroupVersion(name, group) => nodegroups::update_version(ctx, &name, &group),
        Route::TagResource(arn) => tags::tag(ctx, &arn),
        Route::UntagResource(arn) => tags::untag(ctx, &arn),
        Route::ListTagsForResource(arn) => tags::list(ctx, &arn),
        Route::CreateAccessEntry(name) => access::create(ctx, &name),
        Route::ListAccessEntries(name) => access::list(ctx, &name),
        Route::DescribeAccessEntry(name, principal) => access::describe(ctx, &name, &principal),
        Route::UpdateAccessEntry(name, principal) => access::update(ctx, &name, &principal),
        Route::DeleteAccessEntry(name, principal) => access::delete(ctx, &name, &principal),
        Route::AssociateAccessPolicy(name, principal) => access::associate(ctx, &name, &principal),
        Route::ListAssociatedAccessPolicies(name, principal) => {
            access::list_associated(ctx, &name, &principal)
        }
        Route::DisassociateAccessPolicy(name, principal, policy) => {
            access::disassociate(ctx, &name, &principal, &policy)
        }
        Route::ListAccessPolicies => access::list_policies(ctx),
        Route::CreatePodIdentityAssociation(name) => pod_identity::create(ctx, &name),
        Route::ListPodIdentityAssociations(name) => pod_identity::list(ctx, &name),
        Route::DescribePodIdentityAssociation(name, id) => pod_identity::describe(ctx, &name, &id),
        Route::UpdatePodIdentityAssociation(name, id) => pod_identity::update(ctx, &name, &id),
        Route::DeletePodIdentityAssociation(name, id) => pod_identity::delete(ctx, &name, &id),
        Route::AssociateEncryptionConfig(name) => updates::associate_encryption_config(ctx, &name),
        Route::ListInsights(name) => updates::list_insights(ctx, &name),
        Route::DescribeInsight(name, id) => updates::describe_insight(ctx, &name, &id),
        Route::CreateAddon(name) => addons::create(ctx, &name),
        Route::ListAddons(name) => addons::list(ctx, &name),
        Route::DescribeAddon(name, addon) => addons::describe(ctx, &name, &addon),
        Route::UpdateAddon(name, addon) => addons::update(ctx, &name, &addon),
        Route::DeleteAddon(name, addon) => addons::delete(ctx, &name, &addon),
        Route::DescribeAddonVersions => addon_versions::describe_versions(ctx),
        Route::DescribeAddonConfiguration => addon_versions::describe_configuration(ctx),
    }
}
