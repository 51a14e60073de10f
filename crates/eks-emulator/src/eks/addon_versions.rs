//! `DescribeAddonVersions` and `DescribeAddonConfiguration` over the [`catalogue`]
//! (<https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html>,
//! <https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html>).

use serde_json::{Value, json};

use super::Ctx;
use super::catalogue;
use super::error::{EksError, EksResult, ErrorCode};
use super::model::SUPPORTED_VERSIONS;

/// `DescribeAddonVersions`: the add-ons (paged, one item per add-on) with their versions newest first, filtered
/// by `addonName`, `kubernetesVersion` (then only the compatible versions, each with that one compatibility),
/// `types`, `publishers` and `owners`.
pub fn describe_versions(ctx: &Ctx<'_>) -> EksResult<Value> {
    let kubernetes = ctx.query("kubernetesVersion");
    if let Some(k) = kubernetes
        && !SUPPORTED_VERSIONS.contains(&k)
    {
        return Err(EksError::invalid(format!(
            "Kubernetes version {k} is not supported"
        )));
    }
    let name = ctx.query("addonName");
    let types = ctx.query_all("types");
    let publishers = ctx.query_all("publishers");
    let owners = ctx.query_all("owners");
    let names: Vec<String> = catalogue::ADDONS
        .iter()
        .filter(|a| name.is_none_or(|n| n == a.name))
        .filter(|a| types.is_empty() || types.iter().any(|t| t == a.kind))
        .filter(|_| publishers.is_empty() || publishers.iter().any(|p| p == "eks"))
        .filter(|_| owners.is_empty() || owners.iter().any(|o| o == "aws"))
        .filter(|a| !catalogue::versions(a.name, kubernetes).is_empty())
        .map(|a| a.name.to_owned())
        .collect();
    let (names, next) = super::page(ctx, names)?;
    let addons: Vec<Value> = names
        .iter()
        .filter_map(|n| catalogue::addon(n))
        .map(|a| {
            let versions: Vec<Value> = catalogue::versions(a.name, kubernetes)
                .iter()
                .map(|v| v.info(kubernetes))
                .collect();
            json!({
                "addonName": a.name,
                "type": a.kind,
                "addonVersions": versions,
                "publisher": "eks",
                "owner": "aws",
            })
        })
        .collect();
    Ok(json!({"addons": addons, "nextToken": next}))
}

/// `DescribeAddonConfiguration`: the JSON schema of the version's configuration values (as a string, as EKS
/// sends it) and the service accounts that may get a Pod Identity association.
pub fn describe_configuration(ctx: &Ctx<'_>) -> EksResult<Value> {
    let (Some(name), Some(version)) = (ctx.query("addonName"), ctx.query("addonVersion")) else {
        return Err(EksError::invalid("addonName and addonVersion are required"));
    };
    let kind = catalogue::addon(name).ok_or_else(|| {
        EksError::new(
            ErrorCode::ResourceNotFound,
            format!("Addon {name} specified is not supported"),
        )
        .addon(name)
    })?;
    let found = catalogue::version(name, version).ok_or_else(|| {
        EksError::new(
            ErrorCode::ResourceNotFound,
            format!("Addon version {version} of {name} is not supported"),
        )
        .addon(name)
    })?;
    let pod_identity: Vec<Value> = kind
        .service_accounts
        .iter()
        .map(|(sa, policy)| json!({"serviceAccount": sa, "recommendedManagedPolicies": [policy]}))
        .collect();
    Ok(json!({
        "addonName": name,
        "addonVersion": version,
        "configurationSchema": found.schema().to_string(),
        "podIdentityConfiguration": pod_identity,
    }))
}
