//! Merging the operator's aws-auth entries into a live `kube-system/aws-auth` without taking others' entries:
//! the operator remembers, in an annotation, which entries it wrote; entries someone else added are kept,
//! entries removed from the spec are removed, and a `mapRoles` without the worker role is never produced: the
//! worker role ARN must be a resolved IAM role ARN and the merged `mapRoles` must list it exactly once (its node
//! entry), whatever the spec or a foreign entry says, or nothing is written.

use std::collections::{BTreeMap, BTreeSet};

use eks_plan::AwsAuthPlan;
use eks_plan::aws_auth::{RoleMapping, UserMapping};
use serde::{Deserialize, Serialize};

/// Annotation recording the entries the operator manages.
pub const MANAGED_ENTRIES_ANNOTATION: &str = "eksoperator.io/managed-entries";

/// Why aws-auth content was not produced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// A key of the live ConfigMap does not parse, so merging could drop entries: nothing is written.
    #[error("live {key} is not valid YAML: {message}")]
    LiveDataInvalid {
        /// `mapRoles`, `mapUsers` or `mapAccounts`.
        key: &'static str,
        /// The parser's message.
        message: String,
    },
    /// The worker role ARN is empty, a placeholder or not an IAM role ARN: the nodes could not join.
    #[error(
        "worker role ARN {arn:?} is not a resolved IAM role ARN: refusing to write a mapRoles without the worker role"
    )]
    WorkerRoleUnresolved {
        /// The ARN as given.
        arn: String,
    },
    /// The merged `mapRoles` does not list the worker role exactly once.
    #[error(
        "the merged mapRoles lists the worker role {arn} {count} times instead of once: refusing to write it"
    )]
    WorkerRoleNotOnce {
        /// The worker role ARN.
        arn: String,
        /// How often it is listed.
        count: usize,
    },
    /// Serialising a key failed.
    #[error("rendering {key}: {message}")]
    Render {
        /// The key.
        key: &'static str,
        /// The serialiser's message.
        message: String,
    },
}

impl MergeError {
    /// Stable short name.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::LiveDataInvalid { .. } => "LiveAwsAuthInvalid",
            Self::WorkerRoleUnresolved { .. } => "WorkerRoleUnresolved",
            Self::WorkerRoleNotOnce { .. } => "WorkerRoleNotOnce",
            Self::Render { .. } => "AwsAuthRenderFailed",
        }
    }
}

/// The keys of the entries the operator wrote last time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedEntries {
    /// Role ARNs.
    #[serde(default)]
    pub map_roles: BTreeSet<String>,
    /// User ARNs.
    #[serde(default)]
    pub map_users: BTreeSet<String>,
    /// Account ids.
    #[serde(default)]
    pub map_accounts: BTreeSet<String>,
}

/// The merged ConfigMap content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The new `data`.
    pub data: BTreeMap<String, String>,
    /// The new value of the managed-entries annotation.
    pub managed: ManagedEntries,
}

fn parse<T: for<'de> Deserialize<'de>>(
    data: &BTreeMap<String, String>,
    key: &'static str,
) -> Result<Vec<T>, MergeError> {
    match data.get(key) {
        None => Ok(Vec::new()),
        Some(text) if text.trim().is_empty() => Ok(Vec::new()),
        Some(text) => serde_saphyr::from_str(text).map_err(|e| MergeError::LiveDataInvalid {
            key,
            message: e.to_string(),
        }),
    }
}

/// Whether `arn` is a resolved IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<name>`, so neither
/// empty nor carrying the plan's `<AWS_ACCOUNT_ID>` placeholder.
pub fn is_resolved_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource
                    .strip_prefix("role/")
                    .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
        }
        _ => false,
    }
}

/// The last check before anything is written: the worker role is listed exactly once.
fn check_worker_once(roles: &[RoleMapping], worker_role_arn: &str) -> Result<(), MergeError> {
    match roles.iter().filter(|r| r.rolearn == worker_role_arn).count() {
        1 => Ok(()),
        count => Err(MergeError::WorkerRoleNotOnce {
            arn: worker_role_arn.to_owned(),
            count,
        }),
    }
}

/// Merges the plan's entries (worker role first) into the live data. A spec entry for the worker role itself
/// is dropped: the worker role's entry is always the node entry the workers need to join.
pub fn merge(
    live: &BTreeMap<String, String>,
    previously_managed: &ManagedEntries,
    plan: &AwsAuthPlan,
    worker_role_arn: &str,
) -> Result<Merged, MergeError> {
    if !is_resolved_role_arn(worker_role_arn) {
        return Err(MergeError::WorkerRoleUnresolved {
            arn: worker_role_arn.to_owned(),
        });
    }
    let mut ours_roles = plan.role_mappings(worker_role_arn);
    let mut seen_worker = false;
    ours_roles.retain(|r| {
        let keep = r.rolearn != worker_role_arn || !seen_worker;
        seen_worker |= r.rolearn == worker_role_arn;
        keep
    });
    let ours_role_keys: BTreeSet<String> = ours_roles.iter().map(|r| r.rolearn.clone()).collect();
    let live_roles: Vec<RoleMapping> = parse(live, "mapRoles")?;
    let mut roles = ours_roles;
    roles.extend(live_roles.into_iter().filter(|r| {
        !ours_role_keys.contains(&r.rolearn) && !previously_managed.map_roles.contains(&r.rolearn)
    }));
    check_worker_once(&roles, worker_role_arn)?;

    let ours_user_keys: BTreeSet<String> = plan.map_users.iter().map(|u| u.userarn.clone()).collect();
    let mut users: Vec<UserMapping> = plan.map_users.clone();
    users.extend(parse::<UserMapping>(live, "mapUsers")?.into_iter().filter(|u| {
        !ours_user_keys.contains(&u.userarn) && !previously_managed.map_users.contains(&u.userarn)
    }));
    let ours_accounts: BTreeSet<String> = plan.map_accounts.iter().cloned().collect();
    let mut accounts: Vec<String> = plan.map_accounts.clone();
    accounts.extend(
        parse::<String>(live, "mapAccounts")?
            .into_iter()
            .filter(|a| !ours_accounts.contains(a) && !previously_managed.map_accounts.contains(a)),
    );

    let mut data: BTreeMap<String, String> = live
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "mapRoles" | "mapUsers" | "mapAccounts"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    data.insert("mapRoles".to_owned(), to_yaml("mapRoles", &roles)?);
    if !users.is_empty() {
        data.insert("mapUsers".to_owned(), to_yaml("mapUsers", &users)?);
    }
    if !accounts.is_empty() {
        data.insert("mapAccounts".to_owned(), to_yaml("mapAccounts", &accounts)?);
    }
    Ok(Merged {
        data,
        managed: ManagedEntries {
            map_roles: ours_role_keys,
            map_users: ours_user_keys,
            map_accounts: ours_accounts,
        },
    })
}

/// The `data` of an aws-auth ConfigMap holding only the plan's entries (the generated ConfigMap in the
/// object's namespace), under the same rules as [`merge`].
pub fn desired(plan: &AwsAuthPlan, worker_role_arn: &str) -> Result<BTreeMap<String, String>, MergeError> {
    merge(
        &BTreeMap::new(),
        &ManagedEntries::default(),
        plan,
        worker_role_arn,
    )
    .map(|merged| merged.data)
}

fn to_yaml<T: Serialize>(key: &'static str, value: &T) -> Result<String, MergeError> {
    serde_saphyr::to_string(value).map_err(|e| MergeError::Render {
        key,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_api::{AwsAuthSpec, MapRole};
    use eks_plan::aws_auth::{NODE_GROUPS, NODE_USERNAME};

    const WORKER: &str = "arn:aws:iam::123456789012:role/eks-worker-x";

    fn plan(extra: &[&str]) -> AwsAuthPlan {
        let spec = AwsAuthSpec {
            map_roles: extra
                .iter()
                .map(|arn| MapRole {
                    rolearn: (*arn).into(),
                    username: "admin".into(),
                    groups: vec!["system:masters".into()],
                })
                .collect(),
            ..AwsAuthSpec::default()
        };
        AwsAuthPlan::new(WORKER.into(), &spec)
    }

    fn entries(data: &BTreeMap<String, String>) -> Vec<RoleMapping> {
        serde_saphyr::from_str(&data["mapRoles"]).unwrap()
    }

    fn roles(data: &BTreeMap<String, String>) -> Vec<String> {
        entries(data).into_iter().map(|r| r.rolearn).collect()
    }

    fn with_foreign(data: &BTreeMap<String, String>, foreign: RoleMapping) -> BTreeMap<String, String> {
        let mut live = data.clone();
        let mut list = entries(&live);
        list.push(foreign);
        live.insert("mapRoles".into(), serde_saphyr::to_string(&list).unwrap());
        live
    }

    #[test]
    fn keeps_foreign_entries_and_drops_removed_ones() {
        let first = merge(
            &BTreeMap::new(),
            &ManagedEntries::default(),
            &plan(&["arn:aws:iam::1:role/a"]),
            WORKER,
        )
        .unwrap();
        assert_eq!(roles(&first.data), [WORKER, "arn:aws:iam::1:role/a"]);

        // Someone adds an entry by hand.
        let live = with_foreign(
            &first.data,
            RoleMapping {
                rolearn: "arn:aws:iam::1:role/manual".into(),
                username: "m".into(),
                groups: vec![],
            },
        );

        // The spec drops role a and adds role b.
        let second = merge(&live, &first.managed, &plan(&["arn:aws:iam::1:role/b"]), WORKER).unwrap();
        assert_eq!(
            roles(&second.data),
            [WORKER, "arn:aws:iam::1:role/b", "arn:aws:iam::1:role/manual"]
        );
    }

    #[test]
    fn unparsable_live_data_is_an_error_not_an_overwrite() {
        let live = BTreeMap::from([("mapRoles".to_owned(), "- [not: valid".to_owned())]);
        let error = merge(&live, &ManagedEntries::default(), &plan(&[]), WORKER).unwrap_err();
        assert_eq!(error.reason(), "LiveAwsAuthInvalid");
    }

    #[test]
    fn the_worker_role_is_listed_once_even_when_the_spec_lists_it_too() {
        let merged = merge(
            &BTreeMap::new(),
            &ManagedEntries::default(),
            &plan(&[WORKER, "arn:aws:iam::1:role/a"]),
            WORKER,
        )
        .unwrap();
        let list = entries(&merged.data);
        assert_eq!(roles(&merged.data), [WORKER, "arn:aws:iam::1:role/a"]);
        assert_eq!(list[0].username, NODE_USERNAME, "the worker keeps its node entry");
        assert_eq!(list[0].groups, NODE_GROUPS);
        assert_eq!(
            desired(&plan(&[WORKER]), WORKER).unwrap()["mapRoles"],
            desired(&plan(&[]), WORKER).unwrap()["mapRoles"]
        );
    }

    #[test]
    fn a_foreign_entry_for_the_worker_role_is_replaced_by_the_node_entry() {
        let first = merge(&BTreeMap::new(), &ManagedEntries::default(), &plan(&[]), WORKER).unwrap();
        let live = with_foreign(
            &first.data,
            RoleMapping {
                rolearn: WORKER.into(),
                username: "someone-else".into(),
                groups: vec!["system:masters".into()],
            },
        );
        // Neither the annotation (lost) nor the spec claims it: it is still not listed twice.
        let merged = merge(&live, &ManagedEntries::default(), &plan(&[]), WORKER).unwrap();
        let list = entries(&merged.data);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].username, NODE_USERNAME);
    }

    #[test]
    fn a_maproles_without_the_worker_role_or_with_it_twice_is_refused() {
        let worker = |username: &str| RoleMapping {
            rolearn: WORKER.into(),
            username: username.into(),
            groups: vec![],
        };
        let other = RoleMapping {
            rolearn: "arn:aws:iam::1:role/a".into(),
            ..worker("a")
        };
        for (list, count) in [
            (vec![], 0),
            (vec![other.clone()], 0),
            (vec![worker("n"), other.clone(), worker("m")], 2),
        ] {
            let error = check_worker_once(&list, WORKER).unwrap_err();
            assert_eq!(error.reason(), "WorkerRoleNotOnce");
            assert_eq!(
                error,
                MergeError::WorkerRoleNotOnce {
                    arn: WORKER.into(),
                    count
                }
            );
        }
        assert!(check_worker_once(&[other, worker("n")], WORKER).is_ok());
    }

    #[test]
    fn an_unresolved_worker_role_is_refused() {
        for arn in [
            "",
            "arn:aws:iam::<AWS_ACCOUNT_ID>:role/eks-worker-x",
            "arn:aws:iam::123456789012:user/eks-worker-x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:eks:eu-west-1:123456789012:cluster/x",
            "eks-worker-x",
        ] {
            let error = merge(&BTreeMap::new(), &ManagedEntries::default(), &plan(&[]), arn).unwrap_err();
            assert_eq!(
                error,
                MergeError::WorkerRoleUnresolved { arn: arn.into() },
                "{arn:?}"
            );
            assert_eq!(error.reason(), "WorkerRoleUnresolved");
            assert!(desired(&plan(&[]), arn).is_err(), "{arn:?}");
        }
        assert!(is_resolved_role_arn(WORKER));
        assert!(is_resolved_role_arn(
            "arn:aws-cn:iam::123456789012:role/path/eks-worker-x"
        ));
    }

    #[test]
    fn desired_data_matches_what_the_plan_renders() {
        let plan = plan(&["arn:aws:iam::1:role/a"]);
        assert_eq!(desired(&plan, WORKER).unwrap(), plan.render_data(WORKER).unwrap());
    }
}
