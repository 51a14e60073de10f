{{/*
The rules on namespaced resources the controller uses. They go into the ClusterRole when the operator watches
every namespace, and into a Role in watch.namespace when it watches one, so that it can then read Secrets
nowhere else. Every rule says what the controller does with it; `tests/tests/chart.rs` fails on a rule
without a comment and on any rule not in its list.
*/}}
{{- define "eks-operator.namespacedRules" -}}
# Watches EksCluster objects (the controller's cache) and adds/removes its finalizer on them.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters"]
  verbs: ["get", "list", "watch", "patch", "update"]
# Writes what it observed and did (phase, conditions, per-region ids) with server-side apply.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters/status"]
  verbs: ["patch", "update"]
# Sets owner references with blockOwnerDeletion on the ConfigMaps and Secrets it generates, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only to whoever may update the finalizers.
- apiGroups: ["eksoperator.io"]
  resources: ["eksclusters/finalizers"]
  verbs: ["update"]
# Writes the generated `<name>-<region>-aws-auth` ConfigMaps and `<name>-<region>-kubeconfig` Secrets next to
# each EksCluster, watches them to restore them when edited or deleted, and removes those of dropped regions.
- apiGroups: [""]
  resources: ["configmaps", "secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Records an Event on the EksCluster for every AWS resource created, changed or deleted, and for failures;
# kube-runtime's recorder writes events.k8s.io/v1 Events and patches them to count repeats.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# The same Events through the core API group, which clusters and tools still on core/v1 Events go through.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
