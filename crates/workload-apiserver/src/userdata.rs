//! The node labels and taints a self-managed worker's user data gives its kubelet: nodeadm's `NodeConfig`
//! (`spec.kubelet.flags`, <https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api/>), the AL2
//! `bootstrap.sh --kubelet-extra-args`, and Bottlerocket's TOML settings
//! (`[settings.kubernetes.node-labels]`, `[settings.kubernetes.node-taints]`,
//! <https://bottlerocket.dev/en/os/latest/api/settings/kubernetes/>). MIME multi-part user data is read part by
//! part (nodeadm's own format).

use std::collections::BTreeMap;

use crate::nodes::Taint;

/// Labels and taints from user data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeletSettings {
    /// `--node-labels`.
    pub labels: BTreeMap<String, String>,
    /// `--register-with-taints`.
    pub taints: Vec<Taint>,
}

/// Reads the kubelet flags out of a user data text (already base64-decoded).
pub fn kubelet_settings(user_data: &str) -> KubeletSettings {
    let mut settings = KubeletSettings::default();
    for flag in user_data
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '[' || c == ']')
        .filter(|s| !s.is_empty())
    {
        if let Some(value) = flag.strip_prefix("--node-labels=") {
            for pair in value.split(',') {
                if let Some((k, v)) = pair.split_once('=') {
                    settings.labels.insert(k.to_owned(), v.to_owned());
                }
            }
        } else if let Some(value) = flag.strip_prefix("--register-with-taints=") {
            settings.taints.extend(value.split(',').filter_map(parse_taint));
        }
    }
    bottlerocket(user_data, &mut settings);
    settings
}

/// `key=value:Effect` or `key:Effect`.
fn parse_taint(text: &str) -> Option<Taint> {
    let (key_value, effect) = text.rsplit_once(':')?;
    let (key, value) = key_value.split_once('=').unwrap_or((key_value, ""));
    (!key.is_empty()).then(|| Taint {
        key: key.to_owned(),
        value: value.to_owned(),
        effect: effect.to_owned(),
    })
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').trim_matches('\'').to_owned()
}

fn bottlerocket(text: &str, settings: &mut KubeletSettings) {
    let mut section = "";
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']');
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (unquote(key), value.trim());
        match section {
            "settings.kubernetes.node-labels" => {
                settings.labels.insert(key, unquote(value));
            }
            "settings.kubernetes.node-taints" => {
                // `key = "value:Effect"` or `key = ["value:Effect", ...]`.
                for item in value.trim_matches(|c| c == '[' || c == ']').split(',') {
                    if let Some(taint) = parse_taint(&format!("{key}={}", unquote(item))) {
                        settings.taints.push(taint);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodeadm_flags_give_labels_and_taints() {
        let text = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: demo\n  kubelet:\n    flags:\n      - --node-labels=team=data,tier=batch\n      - --register-with-taints=dedicated=data:NoSchedule,spot:PreferNoSchedule\n--B--\n";
        let settings = kubelet_settings(text);
        assert_eq!(settings.labels.get("team").map(String::as_str), Some("data"));
        assert_eq!(settings.labels.get("tier").map(String::as_str), Some("batch"));
        assert_eq!(settings.taints.len(), 2);
        assert_eq!(
            settings.taints[0],
            Taint {
                key: "dedicated".into(),
                value: "data".into(),
                effect: "NoSchedule".into()
            }
        );
        assert_eq!(settings.taints[1].key, "spot");
    }

    #[test]
    fn bootstrap_sh_and_bottlerocket_settings() {
        let al2 = "#!/bin/bash\n/etc/eks/bootstrap.sh demo --kubelet-extra-args '--node-labels=a=b --register-with-taints=x=y:NoExecute'\n";
        let settings = kubelet_settings(al2);
        assert_eq!(settings.labels.get("a").map(String::as_str), Some("b"));
        assert_eq!(settings.taints[0].effect, "NoExecute");
        let toml = "[settings.kubernetes]\ncluster-name = \"demo\"\n[settings.kubernetes.node-labels]\n\"team\" = \"web\"\n[settings.kubernetes.node-taints]\n\"dedicated\" = [\"web:NoSchedule\"]\n";
        let settings = kubelet_settings(toml);
        assert_eq!(settings.labels.get("team").map(String::as_str), Some("web"));
        assert_eq!(
            settings.taints[0],
            Taint {
                key: "dedicated".into(),
                value: "web".into(),
                effect: "NoSchedule".into()
            }
        );
    }
}
