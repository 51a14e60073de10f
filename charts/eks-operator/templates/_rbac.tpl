{{/*
The rules on namespaced resources the controller uses. They go into the ClusterRole when the operator watches
every namespace (and then cover the ConfigMaps and Secrets of every namespace), and into a Role in
watch.namespace when it watches one, so that it can then read Secrets nowhere else. The list and the reason of
each rule live in crates/controller/src/rbac.rs: tests/tests/chart_rbac.rs fails when the rendered rules differ
from it or when the comment above a rule is not that rule's reason.
*/}}
{{- define "eks-operator.namespacedRules" -}}
# Watches EksCluster objects (the controller's cache) and adds or removes its finalizer with a JSON patch.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters"]
  verbs: ["list", "watch", "patch"]
# Writes what it observed and did (phase, conditions, per-region ids) with a server-side apply patch.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters/status"]
  verbs: ["patch"]
# Sets owner references with blockOwnerDeletion on the ConfigMaps and Secrets it generates, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only to whoever may update the finalizers.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters/finalizers"]
  verbs: ["update"]
# Reads and server-side applies (create for the first apply) the generated <name>-<region>-aws-auth
# ConfigMaps and <name>-<region>-kubeconfig Secrets, watches them to restore them when edited or
# deleted, and deletes those of dropped regions.
- apiGroups: [""]
  resources: ["configmaps", "secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Records an Event on the EksCluster for every AWS resource created, changed or deleted, and for
# failures: kube-runtime's recorder creates events.k8s.io/v1 Events and patches them to count repeats.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
