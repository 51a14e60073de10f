//! The EC2 requests the emulator answers or changes itself; the rest go to the backend unchanged.
//!
//! - `EnableVgwRoutePropagation` / `DisableVgwRoutePropagation`: moto 5.2 lacks them; the propagating gateways are
//!   kept here and added to each route table of a `DescribeRouteTables` answer as `propagatingVgwSet`
//!   (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html>).
//! - `DeleteSubnet` / `DeleteSecurityGroup`: AWS refuses with `DependencyViolation` while a network interface uses
//!   the subnet or group (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html>); moto
//!   ignores interfaces there, so the control planes' interfaces are checked here.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Request, StatusCode};

use crate::App;
use crate::backend::BackendError;
use crate::faults::{Protocol, error_response};
use crate::scope::SigningScope;

/// The `Action` of a form-encoded query request.
pub fn form_action(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
}

fn params(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn fail(status: StatusCode, code: &str, message: &str) -> Response {
    error_response(Protocol::Ec2Query, status, code, message)
}

fn backend_fail(err: BackendError) -> Response {
    match err {
        BackendError::Service { code, message } => fail(StatusCode::BAD_REQUEST, &code, &message),
        BackendError::Unavailable(message) => {
            fail(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &message)
        }
    }
}

fn ok(action: &str, inner: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>{}</requestId>{inner}</{action}Response>",
        crate::eks::model::uuid()
    );
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// Serves one EC2 request.
pub async fn handle(app: &Arc<App>, scope: &SigningScope, request: Request<Body>) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(body) => body,
        Err(err) => return fail(StatusCode::BAD_REQUEST, "InvalidRequest", &err.to_string()),
    };
    let mut query = params(&body);
    if let Some(q) = parts.uri.query() {
        query.extend(params(q.as_bytes()));
    }
    let action = query.get("Action").cloned().unwrap_or_default();
    if let Some(rule) = app.faults().take(&action) {
        return rule.response(Protocol::Ec2Query);
    }
    match action.as_str() {
        "EnableVgwRoutePropagation" => propagation(app, scope, &query, true).await,
        "DisableVgwRoutePropagation" => propagation(app, scope, &query, false).await,
        "DescribeRouteTables" => describe_route_tables(app, scope, parts, body).await,
        "DeleteSubnet" | "DeleteSecurityGroup" => {
            let key = if action == "DeleteSubnet" {
                "SubnetId"
            } else {
                "GroupId"
            };
            let id = query.get(key).cloned().unwrap_or_default();
            if let Some(cluster) = user_of(app, &scope.region, &id) {
                let message = if action == "DeleteSubnet" {
                    format!(
                        "The subnet '{id}' has dependencies and cannot be deleted. (network interfaces of EKS cluster {cluster})"
                    )
                } else {
                    format!(
                        "resource {id} has a dependent object (network interfaces of EKS cluster {cluster})"
                    )
                };
                return fail(StatusCode::BAD_REQUEST, "DependencyViolation", &message);
            }
            app.forwarder()
                .forward(Request::from_parts(parts, Body::from(body)), Protocol::Ec2Query)
                .await
        }
        _ => {
            app.forwarder()
                .forward(Request::from_parts(parts, Body::from(body)), Protocol::Ec2Query)
                .await
        }
    }
}

/// The cluster whose control plane interfaces use subnet or security group `id`, if any.
fn user_of(app: &App, region: &str, id: &str) -> Option<String> {
    let state = app.state();
    let clusters = &state.regions.get(region)?.clusters;
    clusters
        .values()
        .find(|c| {
            c.network.interface_subnet_ids.iter().any(|s| s == id)
                || c.network.interface_security_group_ids.iter().any(|g| g == id)
        })
        .map(|c| c.cluster.name.clone())
}

async fn propagation(
    app: &Arc<App>,
    scope: &SigningScope,
    query: &BTreeMap<String, String>,
    on: bool,
) -> Response {
    let (Some(table), Some(gateway)) = (query.get("RouteTableId"), query.get("GatewayId")) else {
        return fail(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "RouteTableId and GatewayId are required",
        );
    };
    let backend = app.backend(scope);
    let vpc = match backend.route_table_vpc(table).await {
        Ok(vpc) => vpc,
        Err(err) => return backend_fail(err),
    };
    let attached = match backend.vpn_gateway_vpcs(gateway).await {
        Ok(vpcs) => vpcs,
        Err(err) => return backend_fail(err),
    };
    if on && !attached.contains(&vpc) {
        return fail(
            StatusCode::BAD_REQUEST,
            "Gateway.NotAttached",
            &format!("resource {gateway} is not attached to network {vpc}"),
        );
    }
    {
        let mut state = app.state();
        let tables = &mut state.region(&scope.region).route_propagation;
        if on {
            tables.entry(table.clone()).or_default().insert(gateway.clone());
        } else if let Some(gateways) = tables.get_mut(table) {
            gateways.remove(gateway);
            if gateways.is_empty() {
                tables.remove(table);
            }
        }
    }
    app.save();
    let action = if on {
        "EnableVgwRoutePropagation"
    } else {
        "DisableVgwRoutePropagation"
    };
    ok(action, "<return>true</return>")
}

async fn describe_route_tables(
    app: &Arc<App>,
    scope: &SigningScope,
    parts: http::request::Parts,
    body: Bytes,
) -> Response {
    let (mut answer, bytes) = match app
        .forwarder()
        .forward_buffered(parts, body, Protocol::Ec2Query)
        .await
    {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    let propagation = app.state().region(&scope.region).route_propagation.clone();
    if !answer.status.is_success() || propagation.is_empty() {
        return Response::from_parts(answer, Body::from(bytes));
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(answer, Body::from(bytes));
    };
    let augmented = add_propagating_gateways(text, &propagation);
    answer.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(answer, Body::from(augmented))
}

/// Inserts `<propagatingVgwSet>` into each route table item of a `DescribeRouteTables` answer whose id has
/// propagating gateways, replacing any (empty) set the backend sent.
pub fn add_propagating_gateways(
    xml: &str,
    propagation: &BTreeMap<String, std::collections::BTreeSet<String>>,
) -> String {
    use xmlparser::Token;
    let mut stack: Vec<String> = Vec::new();
    // (byte offset, insertion) and (start, end) ranges of existing sets to drop.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut drops: Vec<(usize, usize)> = Vec::new();
    let mut set_start: Option<usize> = None;
    let mut current_id: Option<String> = None;
    let at_table = |stack: &[String]| {
        stack.len() >= 2 && stack[stack.len() - 1] == "item" && stack[stack.len() - 2] == "routeTableSet"
    };
    for token in xmlparser::Tokenizer::from(xml) {
        let Ok(token) = token else { return xml.to_owned() };
        match token {
            Token::ElementStart { local, span, .. } => {
                if local.as_str() == "propagatingVgwSet" && at_table(&stack) {
                    set_start = Some(span.start());
                }
                stack.push(local.as_str().to_owned());
            }
            Token::ElementEnd { end, span } => match end {
                xmlparser::ElementEnd::Open => {}
                xmlparser::ElementEnd::Close(_, _) | xmlparser::ElementEnd::Empty => {
                    let name = stack.pop().unwrap_or_default();
                    if name == "propagatingVgwSet" && at_table(&stack) {
                        if let Some(start) = set_start.take() {
                            drops.push((start, span.end()));
                        }
                    } else if name == "item"
                        && stack.last().is_some_and(|n| n == "routeTableSet")
                        && let Some(gateways) = current_id.take().and_then(|id| propagation.get(&id))
                    {
                        let items: String = gateways
                            .iter()
                            .map(|g| format!("<item><gatewayId>{g}</gatewayId></item>"))
                            .collect();
                        inserts.push((
                            span.start(),
                            format!("<propagatingVgwSet>{items}</propagatingVgwSet>"),
                        ));
                    }
                }
            },
            Token::Text { text }
                if stack.last().is_some_and(|n| n == "routeTableId")
                    && at_table(&stack[..stack.len() - 1]) =>
            {
                current_id = Some(text.as_str().trim().to_owned());
            }
            _ => {}
        }
    }
    let mut edits: Vec<(usize, usize, String)> =
        drops.into_iter().map(|(s, e)| (s, e, String::new())).collect();
    edits.extend(inserts.into_iter().map(|(at, text)| (at, at, text)));
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut out = xml.to_owned();
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn adds_gateways_to_the_right_table_only() {
        let xml = "<DescribeRouteTablesResponse><routeTableSet>\
            <item><associationSet><item><routeTableId>rtb-1</routeTableId></item></associationSet>\
            <propagatingVgwSet/><routeTableId>rtb-1</routeTableId></item>\
            <item><routeTableId>rtb-2</routeTableId></item>\
            </routeTableSet></DescribeRouteTablesResponse>";
        let mut propagation = BTreeMap::new();
        propagation.insert("rtb-1".to_owned(), ["vgw-9".to_owned()].into_iter().collect());
        let out = add_propagating_gateways(xml, &propagation);
        assert_eq!(out.matches("<gatewayId>vgw-9</gatewayId>").count(), 1);
        assert_eq!(out.matches("propagatingVgwSet").count(), 2, "{out}");
        let table_two = out.split("rtb-2").nth(1).unwrap();
        assert!(!table_two.contains("vgw-9"));
        let table_one = out.split("<item><routeTableId>rtb-2").next().unwrap();
        assert!(table_one.contains(
            "<propagatingVgwSet><item><gatewayId>vgw-9</gatewayId></item></propagatingVgwSet></item>"
        ));
    }
}
