//! What a caller may ask about itself: `SelfSubjectAccessReview` (`kubectl auth can-i`,
//! <https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access>) and
//! `SelfSubjectReview` (`kubectl auth whoami`, with the `arn`, `canonicalArn`, `sessionName` and `accessKeyId`
//! extras EKS adds, <https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html>), and impersonation
//! (`Impersonate-User`/`Impersonate-Group`, allowed by the `impersonate` verb on `users`/`groups`,
//! <https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation>).

use serde_json::{Value, json};

use crate::access::Identity;
use crate::rbac::{RequestAttributes, UserInfo};
use crate::sts::Caller;

/// The review a request asks for, if it is one.
pub enum Review {
    /// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
    Access,
    /// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (or v1beta1).
    Subject,
}

/// Recognizes a self review request.
pub fn review_kind(method: &http::Method, path: &str) -> Option<Review> {
    if method != http::Method::POST {
        return None;
    }
    match path.trim_end_matches('/') {
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" => Some(Review::Access),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews"
        | "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews" => Some(Review::Subject),
        _ => None,
    }
}

/// The attributes a `SelfSubjectAccessReview` asks about.
pub fn review_attributes(review: &Value) -> RequestAttributes {
    let spec = &review["spec"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if let Some(resource) = spec["resourceAttributes"].as_object() {
        let get = |k: &str| resource.get(k).map(text).unwrap_or_default();
        RequestAttributes {
            verb: get("verb"),
            resource_request: true,
            api_group: get("group"),
            resource: get("resource"),
            subresource: get("subresource"),
            name: get("name"),
            namespace: get("namespace"),
            path: String::new(),
        }
    } else {
        RequestAttributes {
            verb: text(&spec["nonResourceAttributes"]["verb"]),
            path: text(&spec["nonResourceAttributes"]["path"]),
            ..RequestAttributes::default()
        }
    }
}

/// The answered `SelfSubjectAccessReview`.
pub fn access_review_answer(mut review: Value, allowed: bool) -> Value {
    review["status"] = json!({"allowed": allowed});
    review["apiVersion"] = "authorization.k8s.io/v1".into();
    review["kind"] = "SelfSubjectAccessReview".into();
    review
}

/// The answered `SelfSubjectReview`.
pub fn subject_review_answer(api_version: &str, user: &UserInfo, caller: &Caller) -> Value {
    json!({"apiVersion": api_version, "kind": "SelfSubjectReview", "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "uid": format!("aws-iam-authenticator:{}:{}", caller.account, caller.access_key_id),
            "groups": user.groups,
            "extra": {"arn": [caller.arn], "canonicalArn": [caller.principal_arn],
                "sessionName": [caller.session_name.clone().unwrap_or_default()], "accessKeyId": [caller.access_key_id]}}}})
}

/// The impersonation a request asks for: (user, groups), or None.
pub fn impersonation(headers: &http::HeaderMap) -> Option<(String, Vec<String>)> {
    let user = headers.get("impersonate-user")?.to_str().ok()?.to_owned();
    let groups = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    Some((user, groups))
}

/// The `impersonate` checks of an impersonation, in order: the user, then each group.
pub fn impersonation_checks(user: &str, groups: &[String]) -> Vec<RequestAttributes> {
    let check = |resource: &str, name: &str| RequestAttributes {
        verb: "impersonate".into(),
        resource_request: true,
        resource: resource.into(),
        name: name.into(),
        ..RequestAttributes::default()
    };
    std::iter::once(check("users", user))
        .chain(groups.iter().map(|g| check("groups", g)))
        .collect()
}

/// The identity an allowed impersonation gives (no access policies: only RBAC and `system:masters`).
pub fn impersonated(user: String, mut groups: Vec<String>) -> Identity {
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    Identity {
        user: UserInfo { name: user, groups },
        policies: Vec::new(),
    }
}

/// Length-delimited and varint fields of a protobuf message: (field number, bytes) for length-delimited ones.
fn fields(mut bytes: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        match key & 7 {
            0 => {
                varint(&mut bytes)?;
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).ok()?;
                let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
                out.push((key >> 3, value));
                bytes = rest;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A `SelfSubjectAccessReview` sent as protobuf (what kubectl sends: the `k8s\0` envelope of
/// <https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding> around the message of
/// `k8s.io/api/authorization/v1/generated.proto`), as the JSON shape [`review_attributes`] reads.
pub fn decode_protobuf_access_review(bytes: &[u8]) -> Option<Value> {
    let unknown = bytes.strip_prefix(b"k8s\0")?;
    let raw = fields(unknown)?.into_iter().find(|(n, _)| *n == 2)?.1;
    let spec = fields(raw)?.into_iter().find(|(n, _)| *n == 2)?.1;
    let text = |b: &[u8]| Value::String(String::from_utf8_lossy(b).into_owned());
    let mut out =
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}});
    for (number, value) in fields(spec)? {
        let names: &[&str] = match number {
            1 => &[
                "namespace",
                "verb",
                "group",
                "version",
                "resource",
                "subresource",
                "name",
            ],
            2 => &["path", "verb"],
            _ => continue,
        };
        let key = if number == 1 {
            "resourceAttributes"
        } else {
            "nonResourceAttributes"
        };
        let mut attributes = serde_json::Map::new();
        for (field, content) in fields(value)? {
            if let Some(name) = usize::try_from(field)
                .ok()
                .and_then(|f| names.get(f.checked_sub(1)?))
            {
                attributes.insert((*name).to_owned(), text(content));
            }
        }
        out["spec"][key] = Value::Object(attributes);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protobuf_access_review_decodes() {
        // spec.resourceAttributes {namespace: "default", verb: "create", resource: "configmaps"}.
        let attributes = [
            &[0x0a, 7][..],
            b"default",
            &[0x12, 6],
            b"create",
            &[0x2a, 10],
            b"configmaps",
        ]
        .concat();
        let spec = [&[0x0a, attributes.len() as u8][..], &attributes].concat();
        let raw = [&[0x12, spec.len() as u8][..], &spec].concat();
        let unknown = [&b"k8s\0"[..], &[0x12, raw.len() as u8], &raw].concat();
        let review = decode_protobuf_access_review(&unknown).unwrap();
        let attributes = review_attributes(&review);
        assert_eq!(
            (
                attributes.verb.as_str(),
                attributes.resource.as_str(),
                attributes.namespace.as_str()
            ),
            ("create", "configmaps", "default")
        );
        assert!(decode_protobuf_access_review(b"{}").is_none());
    }
}
