//! Authentication and authorization like EKS, through the real AWS CLI, the SDK's signer and kubectl.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use workload_apiserver::{
    AccessEntry, AssociatedPolicy, AuthenticationMode, ClusterAccess, PolicyScope, WorkloadApiServer,
    WorkloadConfig,
};

const CLUSTER: &str = "demo";

async fn start(moto: &Moto, creator: &str, configure: impl FnOnce(&mut WorkloadConfig)) -> WorkloadApiServer {
    let mut config = WorkloadConfig::new(CLUSTER, REGION, &moto.endpoint(), creator);
    configure(&mut config);
    WorkloadApiServer::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_creator_uses_kubectl_with_aws_eks_get_token() {
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let server = start(&moto, &creator, |_| {}).await;
    assert!(server.endpoint().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(
        dir.path(),
        "creator",
        &server.endpoint(),
        &server.certificate_authority(),
        &moto,
        CLUSTER,
        &creds,
    );
    let (ok, out, err) = kubectl(&kubeconfig, &["get", "namespaces", "-o", "name"]);
    assert!(ok, "{err}");
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(out.contains(&format!("namespace/{ns}")), "{out}");
    }
    let (ok, _, err) = kubectl(&kubeconfig, &["create", "namespace", "team-a"]);
    assert!(ok, "{err}");
    let (ok, out, err) = kubectl(&kubeconfig, &["get", "namespace", "team-a", "-o", "name"]);
    assert!(ok && out.trim() == "namespace/team-a", "{out}{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tokens_and_unmapped_callers_get_401() {
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let (_, stranger) = assume_role(&moto, "stranger");
    let host = format!("127.0.0.1:{}", moto.port);
    let server = start(&moto, &creator, |c| {
        c.known_credentials
            .insert(creds.key.clone(), creds.secret.clone());
    })
    .await;
    let (endpoint, ca) = (server.endpoint(), server.certificate_authority());
    let get = |token: Option<String>| {
        let (endpoint, ca) = (endpoint.clone(), ca.clone());
        async move { request(&endpoint, &ca, "GET", "/api/v1/namespaces", token.as_deref(), "").await }
    };
    // The creator, with a token from the SDK's signer and one from the AWS CLI.
    let good = sdk_token(&creds, CLUSTER, &host, SystemTime::now());
    let (status, body) = get(Some(good.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "NamespaceList");
    let (status, body) = get(Some(cli_token(&moto, &creds, CLUSTER))).await;
    assert_eq!(status, 200, "{body}");
    // Real STS hosts are accepted as well.
    let (status, _) = get(Some(sdk_token(
        &creds,
        CLUSTER,
        "sts.eu-west-1.amazonaws.com",
        SystemTime::now(),
    )))
    .await;
    assert_eq!(status, 200);

    let unauthorized = |status: u16, body: &serde_json::Value, what: &str| {
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["kind"], "Status", "{what}");
        assert_eq!(body["reason"], "Unauthorized", "{what}");
        assert_eq!(body["code"], 401, "{what}");
    };
    let cases = vec![
        ("no token", None),
        (
            "unmapped role",
            Some(sdk_token(&stranger, CLUSTER, &host, SystemTime::now())),
        ),
        ("unmapped role (CLI)", Some(cli_token(&moto, &stranger, CLUSTER))),
        (
            "expired",
            Some(sdk_token(
                &creds,
                CLUSTER,
                &host,
                SystemTime::now() - Duration::from_secs(16 * 60),
            )),
        ),
        (
            "other cluster",
            Some(sdk_token(&creds, "other", &host, SystemTime::now())),
        ),
        ("other cluster (CLI)", Some(cli_token(&moto, &creds, "other"))),
        ("malformed", Some("k8s-aws-v1.%%%".to_owned())),
        ("not a token", Some("hello".to_owned())),
        (
            "unsigned",
            Some(edit_token(&good, |u| {
                u.split("&X-Amz-Signature").next().unwrap().to_owned()
            })),
        ),
        (
            "cluster header not signed",
            Some(edit_token(&good, |u| u.replace("host%3Bx-k8s-aws-id", "host"))),
        ),
        (
            "not STS",
            Some(edit_token(&good, |u| {
                u.replace("GetCallerIdentity", "GetSessionToken")
            })),
        ),
        (
            "foreign host",
            Some(edit_token(&good, |u| u.replace(&host, "evil.example.com"))),
        ),
        (
            "tampered signature",
            Some(edit_token(&good, |u| {
                let (head, _) = u.split_once("X-Amz-Signature=").unwrap();
                format!("{head}X-Amz-Signature={}", "0".repeat(64))
            })),
        ),
    ];
    for (what, token) in cases {
        let (status, body) = get(token).await;
        unauthorized(status, &body, what);
    }
    // The server still serves after all that.
    let (status, _) = get(Some(good)).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_auth_mapped_view_only_user_gets_403_with_the_real_message() {
    let moto = Moto::start();
    let (creator, admin) = assume_role(&moto, "creator");
    let (viewer_role, viewer) = assume_role(&moto, "viewer");
    let server = start(&moto, &creator, |_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, ca) = (server.endpoint(), server.certificate_authority());
    let admin_kc = write_kubeconfig(dir.path(), "admin", &endpoint, &ca, &moto, CLUSTER, &admin);
    let viewer_kc = write_kubeconfig(dir.path(), "viewer", &endpoint, &ca, &moto, CLUSTER, &viewer);
    // Before any mapping the viewer is unknown: 401, which kubectl reports as not logged in.
    let (ok, _, err) = kubectl(&viewer_kc, &["get", "pods"]);
    assert!(!ok);
    assert!(err.contains("You must be logged in to the server"), "{err}");
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: aws-auth, namespace: kube-system}}\ndata:\n  mapRoles: |\n    - rolearn: {viewer_role}\n      username: viewer:{{{{SessionName}}}}\n      groups: [viewers]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: viewers}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\nsubjects:\n- {{apiGroup: rbac.authorization.k8s.io, kind: Group, name: viewers}}\n"
    );
    let (ok, _, err) = kubectl_stdin(&admin_kc, &["apply", "-f", "-"], Some(&manifest));
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(&viewer_kc, &["get", "pods", "-n", "kube-system"]);
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(&viewer_kc, &["create", "configmap", "x", "-n", "default"]);
    assert!(!ok);
    assert!(
        // (`kubectl create configmap` prefixes "error: failed to create configmap: ", as against EKS.)
        err.contains("configmaps is forbidden: User \"viewer:tester\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\""),
        "{err}"
    );
    let (ok, _, err) = kubectl(&viewer_kc, &["get", "secrets", "-n", "default"]);
    assert!(!ok);
    assert!(err.contains("cannot list resource \"secrets\""), "{err}");
    // `kubectl auth can-i` and `kubectl auth whoami` answer from the same rules.
    let (ok, out, err) = kubectl(
        &viewer_kc,
        &["auth", "can-i", "create", "configmaps", "-n", "default"],
    );
    assert!(!ok && out.trim() == "no", "{out}{err}");
    let (ok, out, err) = kubectl(&viewer_kc, &["auth", "can-i", "list", "pods", "-n", "default"]);
    assert!(ok && out.trim() == "yes", "{out}{err}");
    let (ok, out, err) = kubectl(
        &viewer_kc,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username} {.status.userInfo.extra.canonicalArn[0]}",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("viewer:tester {viewer_role}"));
    // Impersonation needs the impersonate verb: the admin has it, the viewer does not.
    let (ok, _, err) = kubectl(
        &admin_kc,
        &[
            "create",
            "configmap",
            "y",
            "-n",
            "default",
            "--as",
            "viewer:tester",
            "--as-group",
            "viewers",
        ],
    );
    assert!(
        !ok && err.contains("configmaps is forbidden: User \"viewer:tester\""),
        "{err}"
    );
    let (ok, _, err) = kubectl(
        &viewer_kc,
        &["get", "secrets", "-n", "default", "--as", "kubernetes-admin"],
    );
    assert!(!ok);
    assert!(
        err.contains("users \"kubernetes-admin\" is forbidden: User \"viewer:tester\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"),
        "{err}"
    );
    // A RoleBinding to edit in one namespace lets the viewer write there only.
    let binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: viewers-edit, namespace: default}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects:\n- {apiGroup: rbac.authorization.k8s.io, kind: User, name: \"viewer:tester\"}\n";
    let (ok, _, err) = kubectl_stdin(&admin_kc, &["apply", "-f", "-"], Some(binding));
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(&viewer_kc, &["create", "configmap", "x", "-n", "default"]);
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(&viewer_kc, &["create", "configmap", "x", "-n", "kube-system"]);
    assert!(!ok && err.contains("configmaps is forbidden"), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn access_entries_and_policies_rule_in_api_mode() {
    let moto = Moto::start();
    let (creator, admin) = assume_role(&moto, "creator");
    let (viewer_role, viewer) = assume_role(&moto, "viewer");
    let (mapped_role, mapped) = assume_role(&moto, "mapped");
    let host = format!("127.0.0.1:{}", moto.port);
    let server = start(&moto, &creator, |_| {}).await;
    let (endpoint, ca) = (server.endpoint(), server.certificate_authority());
    let call = |creds: &Creds, method: &'static str, path: &'static str, body: &'static str| {
        let token = sdk_token(creds, CLUSTER, &host, SystemTime::now());
        let (endpoint, ca) = (endpoint.clone(), ca.clone());
        async move { request(&endpoint, &ca, method, path, Some(&token), body).await }
    };
    // ConfigMap mode: aws-auth maps `mapped` as a cluster admin.
    let aws_auth = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"aws-auth","namespace":"kube-system"}},"data":{{"mapRoles":"- rolearn: {mapped_role}\n  username: mapped\n  groups: [system:masters]\n"}}}}"#
    );
    let (status, body) = request(
        &endpoint,
        &ca,
        "POST",
        "/api/v1/namespaces/kube-system/configmaps",
        Some(&sdk_token(&admin, CLUSTER, &host, SystemTime::now())),
        &aws_auth,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(call(&mapped, "GET", "/api/v1/nodes", "").await.0, 200);

    server.set_access(ClusterAccess {
        authentication_mode: AuthenticationMode::Api,
        creator_arn: creator.clone(),
        bootstrap_creator_admin: true,
        entries: vec![AccessEntry {
            principal_arn: viewer_role.clone(),
            policies: vec![AssociatedPolicy {
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                scope: PolicyScope::Namespaces(vec!["kube-*".into()]),
            }],
            ..AccessEntry::default()
        }],
    });
    // API mode: aws-auth is not read any more; the creator keeps its bootstrap admin entry.
    assert_eq!(call(&mapped, "GET", "/api/v1/nodes", "").await.0, 401);
    assert_eq!(call(&admin, "GET", "/api/v1/nodes", "").await.0, 200);
    assert_eq!(
        call(&viewer, "GET", "/api/v1/namespaces/kube-system/pods", "")
            .await
            .0,
        200
    );
    let (status, body) = call(&viewer, "GET", "/api/v1/namespaces/default/pods", "").await;
    assert_eq!(status, 403);
    assert_eq!(body["reason"], "Forbidden");
    let user = "arn:aws:sts::123456789012:assumed-role/viewer/tester";
    assert_eq!(
        body["message"],
        format!(
            "pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        )
    );
    let (status, _) = call(
        &viewer,
        "POST",
        "/api/v1/namespaces/kube-system/configmaps",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#,
    )
    .await;
    assert_eq!(status, 403);
    // Without bootstrap the creator has no entry and is refused.
    server.set_access(ClusterAccess {
        authentication_mode: AuthenticationMode::Api,
        creator_arn: creator,
        bootstrap_creator_admin: false,
        entries: Vec::new(),
    });
    assert_eq!(call(&admin, "GET", "/api/v1/nodes", "").await.0, 401);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watches_stream_through_the_tls_front() {
    use http_body_util::BodyExt;
    let moto = Moto::start();
    let (creator, creds) = assume_role(&moto, "creator");
    let server = start(&moto, &creator, |_| {}).await;
    let (endpoint, ca) = (server.endpoint(), server.certificate_authority());
    let token = sdk_token(
        &creds,
        CLUSTER,
        &format!("127.0.0.1:{}", moto.port),
        SystemTime::now(),
    );
    let (status, mut body) = open_stream(
        &endpoint,
        &ca,
        "/api/v1/namespaces/default/configmaps?watch=true",
        &token,
    )
    .await;
    assert_eq!(status, 200);
    // The watch is open (headers arrived) before the object exists; its event must arrive on the stream.
    let (status, created) = request(
        &endpoint,
        &ca,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some(&token),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"}}"#,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let mut seen = String::new();
    let read = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
                if seen.contains("\"ADDED\"") && seen.contains("watched") {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the ADDED event streamed through");
    // An unauthenticated watch is refused before it reaches the store.
    let (status, _) = open_stream(
        &endpoint,
        &ca,
        "/api/v1/namespaces/default/configmaps?watch=true",
        "nope",
    )
    .await;
    assert_eq!(status, 401);
    server.shutdown().await;
}
