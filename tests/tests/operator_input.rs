//! End to end, bad input: what the API server's schema refuses, what the operator's validation reports in
//! status, and that nothing is created in AWS for an invalid object.
#![allow(clippy::unwrap_used)]

mod operator_support;

use std::time::Duration;

use eks_e2e::{kubectl, kubectl_apply_text, kubectl_ok, repo_root};
use operator_support::{Operator, Owned, SEED, eventually, jsonpath, owned, world};

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_or_reported_and_nothing_is_created() {
    let w = world().await;
    let config = w.config.as_path();
    let _operator = Operator::start(config, &w.local_aws, &w.log);
    let seed = std::fs::read_to_string(repo_root().join(SEED)).unwrap();

    // Refused by the API server with the field named.
    let (ok, _, err) = kubectl_apply_text(config, &seed.replace("vpcCidr: 10.0.0.0/16", "vpcCidr: ten-zero"));
    assert!(!ok);
    assert!(err.contains("spec.network.vpcCidr"), "{err}");
    let (ok, _, err) = kubectl_apply_text(
        config,
        &seed.replace("  stage: test", "  stage: test\n  colour: blue"),
    );
    assert!(!ok);
    assert!(err.contains("unknown field \"spec.colour\""), "{err}");

    // Accepted by the schema, refused by the operator's validation: reported in status with the field.
    let bad = seed.replace("10.0.3.0/24", "10.9.3.0/24");
    let (ok, out, err) = kubectl_apply_text(config, &bad);
    assert!(ok, "{out}{err}");
    eventually("InvalidSpec in status", Duration::from_secs(30), || async {
        let reason = kubectl(
            config,
            &[
                "get",
                "eksc",
                "cloudlad",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}",
            ],
        )
        .1;
        reason == "InvalidSpec"
    })
    .await;
    let message = jsonpath(config, "{.status.conditions[?(@.type==\"Ready\")].message}");
    assert!(
        message.contains("spec.network.privateSubnetCidrs[2]"),
        "{message}"
    );
    // Nothing of any kind exists in AWS for the refused and the invalid documents: IAM roles (which come first
    // and are global), OIDC providers, the EKS cluster and node groups, and every EC2 resource of the network.
    // The operator has had the time to act: it wrote the InvalidSpec status above.
    for region in ["eu-west-1", "eu-west-2"] {
        assert_eq!(
            owned(&w.aws, region).await,
            Owned::default(),
            "nothing is created in {region} for an invalid object"
        );
    }
    // An object that never validated is released at once.
    kubectl_ok(config, &["delete", "eksc", "cloudlad", "--timeout=30s"]);
}
