//! Merging the operator's aws-auth entries into a live `kube-system/aws-auth` without taking others' entries:
//! the operator remembers, in an annotation, which entries it wrote; entries someone else added are kept,
//! entries removed from the spec are removed, and a `mapRoles` without the worker role is never produced.

use std::collections::{BTreeMap, BTreeSet};

use eks_plan::AwsAuthPlan;
use eks_plan::aws_auth::{RoleMapping, UserMapping};
use serde::{Deserialize, Serialize};

/// Annotation recording the entries the operator manages.
pub const MANAGED_ENTRIES_ANNOTATION: &str = "eksoperator.io/managed-entries";

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

fn parse<T: for<'de> Deserialize<'de>>(data: &BTreeMap<String, String>, key: &str) -> Result<Vec<T>, String> {
    match data.get(key) {
        None => Ok(Vec::new()),
        Some(text) if text.trim().is_empty() => Ok(Vec::new()),
        Some(text) => serde_saphyr::from_str(text).map_err(|e| format!("live {key} is not valid YAML: {e}")),
    }
}

/// Merges the plan's entries (worker role first) into the live data.
pub fn merge(
    live: &BTreeMap<String, String>,
    previously_managed: &ManagedEntries,
    plan: &AwsAuthPlan,
    worker_role_arn: &str,
) -> Result<Merged, String> {
    let ours_roles = plan.role_mappings(worker_role_arn);
    let ours_role_keys: BTreeSet<String> = ours_roles.iter().map(|r| r.rolearn.clone()).collect();
    let live_roles: Vec<RoleMapping> = parse(live, "mapRoles")?;
    let mut roles = ours_roles.clone();
    roles.extend(live_roles.into_iter().filter(|r| {
        !ours_role_keys.contains(&r.rolearn) && !previously_managed.map_roles.contains(&r.rolearn)
    }));
    if !roles.iter().any(|r| r.rolearn == worker_role_arn) {
        return Err("refusing to write a mapRoles without the worker role".to_owned());
    }

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
    data.insert("mapRoles".to_owned(), to_yaml(&roles)?);
    if !users.is_empty() {
        data.insert("mapUsers".to_owned(), to_yaml(&users)?);
    }
    if !accounts.is_empty() {
        data.insert("mapAccounts".to_owned(), to_yaml(&accounts)?);
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

fn to_yaml<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_api::{AwsAuthSpec, MapRole};

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

    fn roles(data: &BTreeMap<String, String>) -> Vec<String> {
        let parsed: Vec<RoleMapping> = serde_saphyr::from_str(&data["mapRoles"]).unwrap();
        parsed.into_iter().map(|r| r.rolearn).collect()
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
        let mut live = first.data.clone();
        let mut entries: Vec<RoleMapping> = serde_saphyr::from_str(&live["mapRoles"]).unwrap();
        entries.push(RoleMapping {
            rolearn: "arn:aws:iam::1:role/manual".into(),
            username: "m".into(),
            groups: vec![],
        });
        live.insert("mapRoles".into(), serde_saphyr::to_string(&entries).unwrap());

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
        assert!(merge(&live, &ManagedEntries::default(), &plan(&[]), WORKER).is_err());
    }
}
