"""Server-side apply, conflicts, dry run, deletion options and Status bodies, through the typed and dynamic
clients of the Python package."""
import json

from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from common import api_client, expect_api_error, namespace

api = api_client()
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
dyn = DynamicClient(api)
ns = namespace(api, "writes")
deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")


def deployment(name, replicas=1, image="registry.k8s.io/pause:3.10"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


# Status bodies byte for byte as the real server writes them (field order, no group for the core group,
# the trailing newline).
apps.create_namespaced_deployment(ns, deployment("web"))
error = expect_api_error(409, "AlreadyExists", apps.create_namespaced_deployment, ns, deployment("web"))
assert error.body == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                      '"deployments.apps \\"web\\" already exists","reason":"AlreadyExists","details":'
                      '{"name":"web","group":"apps","kind":"deployments"},"code":409}\n'), repr(error.body)
error = expect_api_error(404, "NotFound", core.read_namespaced_pod, "x", ns)
assert error.body == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                      '"pods \\"x\\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},'
                      '"code":404}\n'), repr(error.body)

# Server-side apply: created, then owned; another manager's different value conflicts; force takes over.
applied = deployments.server_side_apply(body=deployment("api", replicas=2), namespace=ns, field_manager="team-a")
assert applied.spec.replicas == 2
managers = {m.manager: m.operation for m in applied.metadata.managedFields}
assert managers == {"team-a": "Apply"}, managers
try:
    deployments.server_side_apply(body=deployment("api", replicas=3), namespace=ns, field_manager="team-b")
    raise AssertionError("a conflicting apply succeeded")
except ApiException as conflict:
    body = json.loads(conflict.body)
    assert conflict.status == 409 and body["reason"] == "Conflict", conflict.body
    assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict", body
    assert body["details"]["causes"][0]["field"] == ".spec.replicas", body
# The client sends force=True (capitalised): a boolean the server reads as true.
forced = deployments.server_side_apply(body=deployment("api", replicas=3), namespace=ns, field_manager="team-b",
                                       force_conflicts=True)
assert forced.spec.replicas == 3
# Same value from two managers is shared ownership, not a conflict.
deployments.server_side_apply(body=deployment("api", replicas=3), namespace=ns, field_manager="team-c")
# Through the typed client with the apply content type.
typed = apps.patch_namespaced_deployment("api", ns, deployment("api", replicas=3), field_manager="team-b",
                                         _content_type="application/apply-patch+yaml")
assert typed.spec.replicas == 3
# Scale subresource through the typed client.
scale = apps.read_namespaced_deployment_scale("api", ns)
assert scale.spec.replicas == 3 and scale.status.selector == "app=api", scale
scaled = apps.patch_namespaced_deployment_scale("api", ns, {"spec": {"replicas": 5}})
assert scaled.spec.replicas == 5
assert apps.read_namespaced_deployment("api", ns).spec.replicas == 5

# Optimistic concurrency: a replace with a stale resourceVersion is a 409 Conflict.
current = core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
core.patch_namespaced_config_map("cm", ns, {"data": {"a": "2"}})
current.data = {"a": "3"}
error = expect_api_error(409, "Conflict", core.replace_namespaced_config_map, "cm", ns, current)
assert json.loads(error.body)["message"] == ('Operation cannot be fulfilled on configmaps "cm": the object has '
                                            'been modified; please apply your changes to the latest version '
                                            'and try again'), error.body

# Dry run: answered as if written, nothing stored; an unsupported value is refused with the server's words.
dry = core.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}}, dry_run="All")
assert dry.metadata.name == "dry"
expect_api_error(404, "NotFound", core.read_namespaced_config_map, "dry", ns)
error = expect_api_error(422, "Invalid", core.create_namespaced_config_map, ns, {"metadata": {"name": "dry"}},
                         dry_run="all")
assert json.loads(error.body)["message"] == ('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                                            '[]string{"all"}: supported values: "All"'), error.body
core.patch_namespaced_config_map("cm", ns, {"data": {"a": "dry"}}, dry_run="All")
assert core.read_namespaced_config_map("cm", ns).data == {"a": "2"}
core.delete_namespaced_config_map("cm", ns, dry_run="All")
assert core.read_namespaced_config_map("cm", ns).data == {"a": "2"}
error = expect_api_error(422, "Invalid", core.create_namespaced_config_map, ns, {"metadata": {"name": "fv"}},
                         field_validation="strict")
assert "fieldValidation: Unsupported value: \"strict\"" in json.loads(error.body)["message"], error.body

# Deletion options: preconditions, propagation policies, grace period; a bad policy is refused.
uid = core.read_namespaced_config_map("cm", ns).metadata.uid
expect_api_error(409, "Conflict", core.delete_namespaced_config_map, "cm", ns,
                 body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-" + uid)))
error = expect_api_error(422, "Invalid", core.delete_namespaced_config_map, "cm", ns,
                         body=client.V1DeleteOptions(propagation_policy="Later"))
assert "propagationPolicy: Unsupported value: \"Later\"" in json.loads(error.body)["message"], error.body
status = core.delete_namespaced_config_map("cm", ns, grace_period_seconds=0, propagation_policy="Foreground",
                                           body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid)))
status = api.sanitize_for_serialization(status)  # a V1Status or, in some client versions, a dict
assert status["status"] == "Success" and status["details"]["name"] == "cm", status
expect_api_error(404, "NotFound", core.read_namespaced_config_map, "cm", ns)
# A finalizer holds the object: DELETE answers it with a deletionTimestamp until the finalizer goes.
core.create_namespaced_config_map(ns, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
# (The typed client reads the held object's answer as a V1Status, as against a real server; read it back.)
core.delete_namespaced_config_map("held", ns, propagation_policy="Background")
assert core.read_namespaced_config_map("held", ns).metadata.deletion_timestamp is not None
core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
expect_api_error(404, "NotFound", core.read_namespaced_config_map, "held", ns)
# deletecollection with a label selector.
for i in range(3):
    core.create_namespaced_config_map(ns, {"metadata": {"name": f"bulk-{i}", "labels": {"bulk": "yes"}}})
core.delete_collection_namespaced_config_map(ns, label_selector="bulk=yes")
assert core.list_namespaced_config_map(ns, label_selector="bulk=yes").items == []

# Defaults the client reads back.
svc = core.create_namespaced_service(ns, {"metadata": {"name": "svc"},
                                          "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
assert svc.spec.type == "ClusterIP" and svc.spec.session_affinity == "None", svc.spec
assert svc.spec.cluster_ip and svc.spec.cluster_ips == [svc.spec.cluster_ip], svc.spec
assert svc.spec.ip_families == ["IPv4"] and svc.spec.ip_family_policy == "SingleStack", svc.spec
assert svc.spec.internal_traffic_policy == "Cluster", svc.spec
assert svc.status.load_balancer is not None, svc.status
assert svc.spec.ports[0].target_port == 80 and svc.spec.ports[0].protocol == "TCP", svc.spec.ports
other = core.create_namespaced_service(ns, {"metadata": {"name": "svc2"}, "spec": {"ports": [{"port": 81}]}})
assert other.spec.cluster_ip != svc.spec.cluster_ip
pod = core.create_namespaced_pod(ns, {"metadata": {"name": "pod"},
                                      "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
assert pod.status.phase == "Pending" and pod.status.qos_class == "BestEffort", pod.status
created_ns = core.read_namespace(ns)
assert created_ns.metadata.labels["kubernetes.io/metadata.name"] == ns
assert created_ns.status.phase == "Active"
print("ok")
