"""A minimal valid object of every built-in kind kube-emulator serves, keyed by (group, plural).

Each is what a real Kubernetes 1.33 API server accepts (required fields only), so the Python client's models
can also read the answers back. `minimal(group, version, kind, plural, name, namespace)` fills in apiVersion,
kind and metadata.
"""

POD_SPEC = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}
LABELS = {"app": "walk"}
TEMPLATE = {"metadata": {"labels": LABELS}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": LABELS}
WEBHOOK_CLIENT = {"url": "https://example.com/hook"}
RULE = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}

SPECS = {
    ("", "configmaps"): {"data": {"key": "value"}},
    ("", "endpoints"): {"subsets": []},
    ("", "events"): {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "NS"},
        "reason": "Walked", "message": "walked", "type": "Normal",
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z", "count": 1,
        "source": {"component": "walk"},
    },
    ("", "limitranges"): {"spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}},
    ("", "namespaces"): {},
    ("", "nodes"): {"spec": {}},
    ("", "persistentvolumeclaims"): {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    },
    ("", "persistentvolumes"): {
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/pv"}},
    },
    ("", "pods"): {"spec": POD_SPEC},
    ("", "podtemplates"): {"template": TEMPLATE},
    ("", "replicationcontrollers"): {"spec": {"replicas": 1, "selector": LABELS, "template": TEMPLATE}},
    ("", "resourcequotas"): {"spec": {"hard": {"pods": "10"}}},
    ("", "secrets"): {"type": "Opaque", "stringData": {"key": "value"}},
    ("", "serviceaccounts"): {},
    ("", "services"): {"spec": {"selector": LABELS, "ports": [{"port": 80}]}},
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): {
        "webhooks": [{"name": "walk.example.com", "clientConfig": WEBHOOK_CLIENT, "rules": [RULE],
                      "sideEffects": "None", "admissionReviewVersions": ["v1"]}],
    },
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): {
        "webhooks": [{"name": "walk.example.com", "clientConfig": WEBHOOK_CLIENT, "rules": [RULE],
                      "sideEffects": "None", "admissionReviewVersions": ["v1"]}],
    },
    ("admissionregistration.k8s.io", "validatingadmissionpolicies"): {
        "spec": {"matchConstraints": {"resourceRules": [RULE]}, "validations": [{"expression": "true"}]},
    },
    ("admissionregistration.k8s.io", "validatingadmissionpolicybindings"): {
        "spec": {"policyName": "walk", "validationActions": ["Deny"]},
    },
    ("apiextensions.k8s.io", "customresourcedefinitions"): None,  # built by crd() below: its name is fixed
    ("apiregistration.k8s.io", "apiservices"): None,  # built by apiservice() below: its name is fixed
    ("apps", "controllerrevisions"): {"revision": 1, "data": {}},
    ("apps", "daemonsets"): {"spec": {"selector": SELECTOR, "template": TEMPLATE}},
    ("apps", "deployments"): {"spec": {"replicas": 1, "selector": SELECTOR, "template": TEMPLATE}},
    ("apps", "replicasets"): {"spec": {"replicas": 1, "selector": SELECTOR, "template": TEMPLATE}},
    ("apps", "statefulsets"): {"spec": {"serviceName": "walk", "selector": SELECTOR, "template": TEMPLATE}},
    ("autoscaling", "horizontalpodautoscalers"): None,  # per version below
    ("batch", "cronjobs"): {
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {
            "spec": dict(POD_SPEC, restartPolicy="OnFailure")}}}},
    },
    ("batch", "jobs"): {"spec": {"template": {"spec": dict(POD_SPEC, restartPolicy="Never")}}},
    ("certificates.k8s.io", "certificatesigningrequests"): {
        "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                 "signerName": "example.com/walk", "usages": ["client auth"]},
    },
    ("coordination.k8s.io", "leases"): {"spec": {"holderIdentity": "walk", "leaseDurationSeconds": 15}},
    ("discovery.k8s.io", "endpointslices"): {"addressType": "IPv4", "endpoints": []},
    ("events.k8s.io", "events"): {
        "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "example.com/walk",
        "reportingInstance": "walk-1", "action": "Walk", "reason": "Walked", "type": "Normal",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "NS"}, "note": "walked",
    },
    ("flowcontrol.apiserver.k8s.io", "flowschemas"): {
        "spec": {"priorityLevelConfiguration": {"name": "global-default"}},
    },
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"): {
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5,
                 "limitResponse": {"type": "Reject"}}},
    },
    ("networking.k8s.io", "ingressclasses"): {"spec": {"controller": "example.com/ingress"}},
    ("networking.k8s.io", "ingresses"): {
        "spec": {"defaultBackend": {"service": {"name": "walk", "port": {"number": 80}}}},
    },
    ("networking.k8s.io", "ipaddresses"): None,  # its name is an IP address
    ("networking.k8s.io", "networkpolicies"): {"spec": {"podSelector": {}}},
    ("networking.k8s.io", "servicecidrs"): {"spec": {"cidrs": ["10.200.0.0/24"]}},
    ("node.k8s.io", "runtimeclasses"): {"handler": "runc"},
    ("policy", "poddisruptionbudgets"): {"spec": {"minAvailable": 1, "selector": SELECTOR}},
    ("rbac.authorization.k8s.io", "clusterroles"): {
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    },
    ("rbac.authorization.k8s.io", "roles"): {
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    },
    ("rbac.authorization.k8s.io", "clusterrolebindings"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    },
    ("rbac.authorization.k8s.io", "rolebindings"): {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "walk"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "NS"}],
    },
    ("scheduling.k8s.io", "priorityclasses"): {"value": 1000},
    ("storage.k8s.io", "csidrivers"): {"spec": {}},
    ("storage.k8s.io", "csinodes"): {"spec": {"drivers": []}},
    ("storage.k8s.io", "csistoragecapacities"): {"storageClassName": "standard"},
    ("storage.k8s.io", "storageclasses"): {"provisioner": "example.com/walk"},
    ("storage.k8s.io", "volumeattachments"): {
        "spec": {"attacher": "example.com/walk", "nodeName": "node-1",
                 "source": {"persistentVolumeName": "pv-1"}},
    },
}

# Kinds whose name is not free: a CRD is named <plural>.<group>, an APIService <version>.<group>, an
# IPAddress by its address.
FIXED_NAMES = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): "walks.walk.example.com",
    ("apiregistration.k8s.io", "apiservices"): "v1.walk.example.com",
    ("networking.k8s.io", "ipaddresses"): "10.200.0.7",
}


def _replace_ns(value, namespace):
    if isinstance(value, dict):
        return {k: _replace_ns(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_ns(v, namespace) for v in value]
    return namespace if value == "NS" else value


def spec_of(group, version, plural, namespace):
    if (group, plural) == ("apiextensions.k8s.io", "customresourcedefinitions"):
        return {"spec": {"group": "walk.example.com", "scope": "Namespaced",
                         "names": {"plural": "walks", "singular": "walk", "kind": "Walk", "listKind": "WalkList"},
                         "versions": [{"name": "v1", "served": True, "storage": True,
                                       "schema": {"openAPIV3Schema": {"type": "object",
                                                  "x-kubernetes-preserve-unknown-fields": True}}}]}}
    if (group, plural) == ("apiregistration.k8s.io", "apiservices"):
        return {"spec": {"group": "walk.example.com", "version": "v1", "groupPriorityMinimum": 1000,
                         "versionPriority": 15, "service": {"name": "walk", "namespace": "default"}}}
    if (group, plural) == ("networking.k8s.io", "ipaddresses"):
        return {"spec": {"parentRef": {"group": "", "resource": "services", "name": "walk",
                                       "namespace": "default"}}}
    if (group, plural) == ("autoscaling", "horizontalpodautoscalers"):
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "walk"}
        if version == "v1":
            return {"spec": {"scaleTargetRef": target, "maxReplicas": 3}}
        return {"spec": {"scaleTargetRef": target, "maxReplicas": 3, "metrics": [
            {"type": "Resource", "resource": {"name": "cpu",
                                              "target": {"type": "Utilization", "averageUtilization": 80}}}]}}
    if (group, plural) not in SPECS:
        raise KeyError(f"no minimal object for {plural}.{group}: add one to tests/python/minimal.py")
    return _replace_ns(SPECS[(group, plural)], namespace)


def minimal(group, version, kind, plural, name, namespace=None):
    """A minimal valid object; `namespace` None for a cluster-scoped kind."""
    body = dict(spec_of(group, version, plural, namespace or "default"))
    name = FIXED_NAMES.get((group, plural), name)
    metadata = {"name": name, "labels": {"walk": "yes"}}
    if namespace:
        metadata["namespace"] = namespace
    body.update({"apiVersion": f"{group}/{version}" if group else version, "kind": kind, "metadata": metadata})
    return body
