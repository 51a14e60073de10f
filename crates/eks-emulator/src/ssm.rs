//! SSM: the public parameters of the EKS-optimized AMIs, which moto does not know (its SSM refuses the reserved
//! `/aws/service/` names it lacks). `GetParameter` and `GetParameters` (AWS JSON 1.1,
//! `X-Amz-Target: AmazonSSM.GetParameter`) answer them here; every other name, and every other operation, goes
//! to moto unchanged (a `GetParameters` naming both kinds asks moto for the others only and merges the answers).
//!
//! The names follow the EKS documentation:
//! `/aws/service/eks/optimized-ami/<version>/amazon-linux-2023/<x86_64|arm64>/<standard|nvidia>/recommended/image_id`
//! (<https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html>) and
//! `/aws/service/bottlerocket/aws-k8s-<version>/<x86_64|arm64>/latest/image_id`
//! (<https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id-bottlerocket.html>). The image ids exist
//! in moto's EC2 in every region (moto's default AMI catalogue): stable per Kubernetes version, and different
//! from one version to the next where moto has enough images of the architecture, so an upgrade changes the AMI.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::App;
use crate::eks::model::SUPPORTED_VERSIONS;
use crate::faults::{Protocol, error_response};
use crate::scope::SigningScope;

/// moto's x86_64 Linux images (`amis.json`), one per supported Kubernetes version in order.
const LINUX_X86: &[&str] = &[
    "ami-ekslinux",
    "ami-04681a1dbd79675a5",
    "ami-076f415166b04f5fe",
    "ami-0b301ce3ce347599c",
    "ami-760aaa0f",
    "ami-000c540e28953ace2",
];

/// moto's only arm64 image.
const LINUX_ARM: &[&str] = &["ami-0e9271c829888680e"];

/// moto's deep-learning (GPU) images, for the `nvidia` variant.
const GPU_X86: &[&str] = &["ami-f8e54081", "ami-999844e0"];

/// The image id a reserved EKS AMI parameter names, or `None` when `name` is not one (or names an unsupported
/// Kubernetes version or variant).
pub fn eks_ami_parameter(name: &str) -> Option<&'static str> {
    let parts: Vec<&str> = name.trim_start_matches('/').split('/').collect();
    let (version, pool, offset) = match parts.as_slice() {
        [
            "aws",
            "service",
            "eks",
            "optimized-ami",
            version,
            "amazon-linux-2023",
            arch,
            variant,
            "recommended",
            "image_id",
        ] => {
            let pool = match (*arch, *variant) {
                ("x86_64", "standard") => LINUX_X86,
                ("x86_64", "nvidia") => GPU_X86,
                ("arm64", "standard" | "nvidia") => LINUX_ARM,
                _ => return None,
            };
            (*version, pool, 0)
        }
        [
            "aws",
            "service",
            "bottlerocket",
            flavour,
            arch,
            "latest",
            "image_id",
        ] => {
            let version = flavour.strip_prefix("aws-k8s-")?;
            let pool = match *arch {
                "x86_64" => LINUX_X86,
                "arm64" => LINUX_ARM,
                _ => return None,
            };
            // Bottlerocket's image differs from AL2023's at the same version.
            (version, pool, 3)
        }
        _ => return None,
    };
    let index = SUPPORTED_VERSIONS.iter().position(|v| *v == version)?;
    pool.get((index + offset) % pool.len()).copied()
}

/// Whether `name` lies under the EKS public parameter paths this endpoint owns.
fn reserved(name: &str) -> bool {
    let name = name.trim_start_matches('/');
    name.starts_with("aws/service/eks/") || name.starts_with("aws/service/bottlerocket/")
}

fn parameter(name: &str, value: &str, region: &str) -> Value {
    json!({
        "Name": name,
        "Type": "String",
        "Value": value,
        "Version": 1,
        "LastModifiedDate": 1_764_547_200.0,
        "ARN": format!("arn:aws:ssm:{region}::parameter/{}", name.trim_start_matches('/')),
        "DataType": "aws:ec2:image",
    })
}

fn json_answer(value: Value) -> Response {
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        value.to_string(),
    )
        .into_response()
}

/// Serves one SSM request.
pub async fn handle(app: &Arc<App>, scope: &SigningScope, request: Request<Body>) -> Response {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    if let Some(rule) = app.faults().take(&operation) {
        return rule.response(Protocol::AwsJson);
    }
    if operation != "GetParameter" && operation != "GetParameters" {
        return app.forwarder().forward(request, Protocol::AwsJson).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return error_response(
            Protocol::AwsJson,
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "unreadable body",
        );
    };
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error_response(
            Protocol::AwsJson,
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "the body is not JSON",
        );
    };
    if operation == "GetParameter" {
        let name = input["Name"].as_str().unwrap_or_default();
        if !reserved(name) {
            return app
                .forwarder()
                .forward(Request::from_parts(parts, Body::from(body)), Protocol::AwsJson)
                .await;
        }
        return match eks_ami_parameter(name) {
            Some(image) => json_answer(json!({"Parameter": parameter(name, image, &scope.region)})),
            None => error_response(
                Protocol::AwsJson,
                StatusCode::BAD_REQUEST,
                "ParameterNotFound",
                &format!("Parameter {name} not found."),
            ),
        };
    }
    let names: Vec<String> = input["Names"]
        .as_array()
        .map(|n| n.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let (ours, others): (Vec<String>, Vec<String>) = names.into_iter().partition(|n| reserved(n));
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    for name in &ours {
        match eks_ami_parameter(name) {
            Some(image) => found.push(parameter(name, image, &scope.region)),
            None => invalid.push(json!(name)),
        }
    }
    if !others.is_empty() {
        let mut forwarded = input.clone();
        forwarded["Names"] = json!(others);
        let bytes = Bytes::from(forwarded.to_string());
        parts
            .headers
            .insert(http::header::CONTENT_LENGTH, bytes.len().into());
        let (answer, body) = match app
            .forwarder()
            .forward_buffered(parts, bytes, Protocol::AwsJson)
            .await
        {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        if !answer.status.is_success() {
            return Response::from_parts(answer, Body::from(body));
        }
        let theirs: Value = serde_json::from_slice(&body).unwrap_or_default();
        found.extend(theirs["Parameters"].as_array().cloned().unwrap_or_default());
        invalid.extend(
            theirs["InvalidParameters"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    json_answer(json!({"Parameters": found, "InvalidParameters": invalid}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_and_family_names_an_image_and_upgrades_change_it() {
        let al2023 = |v: &str| {
            eks_ami_parameter(&format!(
                "/aws/service/eks/optimized-ami/{v}/amazon-linux-2023/x86_64/standard/recommended/image_id"
            ))
        };
        let rocket = |v: &str| {
            eks_ami_parameter(&format!(
                "/aws/service/bottlerocket/aws-k8s-{v}/x86_64/latest/image_id"
            ))
        };
        for pair in SUPPORTED_VERSIONS.windows(2) {
            assert_ne!(al2023(pair[0]), al2023(pair[1]));
            assert_ne!(rocket(pair[0]), rocket(pair[1]));
            assert_ne!(al2023(pair[0]), rocket(pair[0]));
        }
        assert_eq!(al2023("1.20"), None);
        assert_eq!(
            eks_ami_parameter(
                "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/neuron/recommended/image_id"
            ),
            None
        );
        assert_eq!(
            eks_ami_parameter(
                "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/standard/recommended/image_id"
            ),
            Some("ami-0e9271c829888680e")
        );
        assert!(!reserved("/app/config"));
    }
}
