//! Table-driven tests over every declaration: an operation added without a decision, or whose "already so"
//! answers do not come out as declared, fails here.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::*;
use crate::api::{Ec2Api, EksApi, IamApi, StsApi, all_operations};
use crate::instrument::Instrument;

/// Every call of every trait made once (both samples of an argument that picks the operation), on a
/// [`Refusing`] implementation answering `code`, through the instrument as the fake's clients are.
async fn exercise(code: &'static str, instrument: &Arc<Instrument>) -> Vec<(&'static Op, AwsResult<()>)> {
    let refusing = Arc::new(Refusing { code });
    let ec2: Arc<dyn Ec2Api> = Arc::new(Layered::new(instrument.clone(), refusing.clone()));
    let iam: Arc<dyn IamApi> = Arc::new(Layered::new(instrument.clone(), refusing.clone()));
    let eks: Arc<dyn EksApi> = Arc::new(Layered::new(instrument.clone(), refusing.clone()));
    let sts: Arc<dyn StsApi> = Arc::new(Layered::new(instrument.clone(), refusing));
    let mut seen = Vec::new();
    for round in 0..2 {
        seen.extend(ec2.exercise(round).await);
        seen.extend(iam.exercise(round).await);
        seen.extend(eks.exercise(round).await);
        seen.extend(sts.exercise(round).await);
    }
    seen
}

#[test]
fn every_mutation_has_a_decision_and_names_are_unique() {
    let mut names = BTreeSet::new();
    for op in all_operations() {
        assert!(
            names.insert(op.iam_action()),
            "{} declared twice",
            op.iam_action()
        );
        assert!(
            !op.mutating || op.decided,
            "{}: decide what 'already so' means (done, exists, repeatable or ambiguous)",
            op.name
        );
        assert!(
            op.mutating || (op.done.is_empty() && op.exists.is_empty() && op.lost == Lost::Safe),
            "{}: a read has no 'already so' answers and is safe to repeat",
            op.name
        );
        if op.lost == Lost::Ambiguous {
            assert!(
                op.name.starts_with("Create") || op.name.starts_with("Allocate"),
                "{}: only creates are ambiguous",
                op.name
            );
        }
        for code in op.done {
            assert!(
                !op.exists.contains(code),
                "{}: {code} is both done and exists",
                op.name
            );
        }
    }
    assert_eq!(names.len(), 81, "the operations the operator calls");
}

#[tokio::test]
async fn every_declared_operation_is_reached_by_its_trait_method() {
    let instrument = Instrument::new();
    let reached: BTreeSet<String> = exercise("InvalidParameterValue", &instrument)
        .await
        .iter()
        .map(|(op, _)| op.iam_action())
        .collect();
    let declared: BTreeSet<String> = all_operations().map(Op::iam_action).collect();
    assert_eq!(reached, declared);
    // Each call went through the instrument once per round, counted under its declaration.
    let stats = instrument.stats();
    assert_eq!(stats.by_operation.len(), declared.len());
    assert_eq!(
        stats.by_operation.get("ec2:AuthorizeSecurityGroupEgress"),
        Some(&1)
    );
    assert_eq!(stats.by_operation.get("ec2:DescribeVpcs"), Some(&2));
}

#[tokio::test]
async fn each_already_done_code_is_success_for_its_operation_and_only_there() {
    let codes: BTreeSet<&'static str> = all_operations().flat_map(|op| op.done.iter().copied()).collect();
    assert!(codes.contains("Gateway.NotAttached"));
    for code in codes {
        for (op, result) in exercise(code, &Instrument::new()).await {
            if op.done.contains(&code) {
                assert!(result.is_ok(), "{}: {code} means done: {result:?}", op.name);
            } else {
                assert!(result.is_err(), "{}: {code} is not 'already so' for it", op.name);
            }
        }
    }
}

#[tokio::test]
async fn exists_codes_come_back_as_already_exists_for_the_engine_to_re_observe() {
    let codes: BTreeSet<&'static str> = all_operations()
        .flat_map(|op| op.exists.iter().copied())
        .collect();
    assert!(codes.contains("EntityAlreadyExists") && codes.contains("RouteAlreadyExists"));
    for code in codes {
        for (op, result) in exercise(code, &Instrument::new()).await {
            if op.exists.contains(&code) {
                assert!(
                    matches!(result, Err(AwsError::AlreadyExists(_))),
                    "{}: {code}: {result:?}",
                    op.name
                );
            }
        }
    }
}

#[tokio::test]
async fn other_errors_stay_errors_and_injected_faults_are_not_taken_for_done() {
    for (op, result) in exercise("InvalidParameterValue", &Instrument::new()).await {
        assert_eq!(
            result.map_err(|e| e.reason()),
            Err("InvalidRequest"),
            "{}",
            op.name
        );
    }
    // A lost response (the call applied, the answer lost) is a server error, never "already so".
    let instrument = Instrument::new();
    instrument.inject(crate::instrument::FaultRule::every(
        1,
        true,
        crate::instrument::Fault::LostResponse,
    ));
    for (op, result) in exercise("Gateway.NotAttached", &instrument).await {
        if op.mutating {
            assert_eq!(
                result.map_err(|e| e.reason()),
                Err("AwsServerError"),
                "{}",
                op.name
            );
        }
    }
}

#[test]
fn operation_error_codes_name_the_operation() {
    let error = Refusing { code: "NoSuchEntity" }.error(&crate::api::iam::DELETE_ROLE);
    assert_eq!(error.detail().map(|d| d.operation), Some("DeleteRole"));
    assert_eq!(crate::api::iam::DELETE_ROLE.settle(Err(error)), Ok(()));
}
