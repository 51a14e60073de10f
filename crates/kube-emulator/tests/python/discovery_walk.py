"""Walks the whole discovery document and, for every served resource, creates, gets, lists, watches,
patches and deletes one minimal object, through the Python client's DynamicClient. No served kind may
answer 404 (or anything but success) on the way; every status and scale subresource is read too."""
import json

from kubernetes import watch
from kubernetes.dynamic import DynamicClient

from common import api_client, namespace
from minimal import minimal

api = api_client()
dyn = DynamicClient(api)
ns = namespace(api, "walk")


def get_json(path):
    return json.loads(dyn.request("GET", path, serialize=False).data)


group_versions = ["v1"] + [v["groupVersion"] for g in get_json("/apis")["groups"] for v in g["versions"]]
walked = []
expected = 0
for gv in group_versions:
    path = "/api/v1" if gv == "v1" else f"/apis/{gv}"
    resources = get_json(path)["resources"]
    group, version = gv.rsplit("/", 1) if "/" in gv else ("", gv)
    subresources = {r["name"] for r in resources if "/" in r["name"]}
    for r in resources:
        if "/" in r["name"]:
            continue
        if "create" not in r["verbs"]:
            # Read-only kinds (componentstatuses) are at least listed.
            assert "list" in r["verbs"], r
            dyn.resources.get(api_version=gv, kind=r["kind"]).get()
            continue
        expected += 1
        plural, kind = r["name"], r["kind"]
        namespaced = r["namespaced"]
        name = f"walk-{plural}"
        body = minimal(group, version, kind, plural, name, ns if namespaced else None)
        name = body["metadata"]["name"]
        resource = dyn.resources.get(api_version=gv, kind=kind)
        target_ns = ns if namespaced else None
        created = resource.create(body=body, namespace=target_ns)
        assert created.metadata.name == name, created
        assert created.metadata.uid and created.metadata.resourceVersion, created
        got = resource.get(name=name, namespace=target_ns)
        assert got.metadata.uid == created.metadata.uid
        listed = resource.get(namespace=target_ns, label_selector="walk=yes")
        assert name in [i.metadata.name for i in listed.items], (gv, plural, listed)
        seen = None
        for event in resource.watch(namespace=target_ns, label_selector="walk=yes", timeout=5):
            if event["object"].metadata.name == name:
                seen = event["type"]
                break
        assert seen == "ADDED", (gv, plural, seen)
        patched = resource.patch(name=name, namespace=target_ns, body={"metadata": {"labels": {"patched": "yes"}}},
                                 content_type="application/merge-patch+json")
        assert patched.metadata.labels["patched"] == "yes", patched
        if f"{plural}/status" in subresources:
            status = resource.status.get(name=name, namespace=target_ns)
            assert status.metadata.name == name
        if f"{plural}/scale" in subresources:
            scale = get_json(f"{path}/namespaces/{ns}/{plural}/{name}/scale")
            assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1, scale
        resource.delete(name=name, namespace=target_ns)
        try:
            resource.get(name=name, namespace=target_ns)
            raise AssertionError(f"{plural} {name} still there after delete")
        except Exception as error:  # noqa: BLE001 - the dynamic client raises NotFoundError
            assert getattr(error, "status", None) == 404, error
        walked.append(f"{plural}.{gv}" if group else plural)

print(f"walked {len(walked)} resources: {' '.join(walked)}")
assert len(walked) == expected, (expected, walked)
# Kubernetes 1.33 serves 53 creatable resources in its GA group versions by default.
assert len(walked) >= 53, walked
