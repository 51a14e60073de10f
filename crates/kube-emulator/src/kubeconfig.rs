//! The kubeconfig an emulator writes for kubectl, Helm and kube-rs.

/// A kubeconfig for `url` with one cluster, user and context (all named `kube-emulator`), the `default`
/// namespace and a bearer token (the emulator records tokens and never checks them).
pub fn render(url: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-emulator
  cluster:
    server: {url}
contexts:
- name: kube-emulator
  context:
    cluster: kube-emulator
    user: kube-emulator
    namespace: default
current-context: kube-emulator
preferences: {{}}
users:
- name: kube-emulator
  user:
    token: {token}
"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn kube_rs_reads_it() {
        let text = super::render("http://127.0.0.1:1234", "t");
        let config: kube::config::Kubeconfig = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("kube-emulator"));
        assert_eq!(
            config.clusters[0].cluster.as_ref().unwrap().server.as_deref(),
            Some("http://127.0.0.1:1234")
        );
    }
}
