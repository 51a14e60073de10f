"""`kubernetes.utils.create_from_yaml` (typed clients, whose models read every answer back) with a
multi-document manifest and a `List` manifest holding every built-in kind, then the same manifest with
server-side apply (`apply=True`), and again without it (every document AlreadyExists)."""
import os

import yaml
from kubernetes import utils
from kubernetes.dynamic import DynamicClient

from common import api_client, served_kinds
from minimal import minimal


def name_of(prefix, group, plural):
    # Both event APIs share one store, as in the real server: the names must differ.
    return f"{prefix}-{plural}-{group.split('.')[0]}" if group else f"{prefix}-{plural}"


api = api_client()
dyn = DynamicClient(api)
kinds = served_kinds(dyn)

docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "docs"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "listed"}}]
for group, version, kind, plural, namespaced in kinds:
    if plural == "namespaces":
        continue
    docs.append(minimal(group, version, kind, plural, name_of("doc", group, plural), "docs" if namespaced else None))
with open("every-kind.yaml", "w") as f:
    yaml.safe_dump_all(docs, f)
created = utils.create_from_yaml(api, "every-kind.yaml")
assert len(created) == len(docs), (len(created), len(docs))
for group, version, kind, plural, namespaced in kinds:
    if plural == "namespaces":
        continue
    name = minimal(group, version, kind, plural, name_of("doc", group, plural))["metadata"]["name"]
    resource = dyn.resources.get(api_version=f"{group}/{version}" if group else version, kind=kind)
    got = resource.get(name=name, namespace="docs" if namespaced else None)
    assert got.metadata.name == name, got
print(f"multi-document manifest: {len(docs)} objects of {len(kinds)} kinds created")

# A List of every namespaced kind.
items = [minimal(g, v, k, p, name_of("item", g, p), "listed") for g, v, k, p, namespaced in kinds if namespaced]
with open("list.yaml", "w") as f:
    yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
created = utils.create_from_yaml(api, "list.yaml")
assert len(created) == 1 and len(created[0]) == len(items), created
print(f"List manifest: {len(items)} items created")

# The same manifest again with server-side apply: every object is already so, nothing fails.
applied = utils.create_from_yaml(api, "every-kind.yaml", apply=True)
assert len(applied) == len(docs)

# And without apply: every document is refused as AlreadyExists.
try:
    utils.create_from_yaml(api, "every-kind.yaml")
    raise AssertionError("creating everything twice succeeded")
except utils.FailToCreateError as failure:
    reasons = {e.status for e in failure.api_exceptions}
    assert reasons == {409}, reasons
    assert len(failure.api_exceptions) == len(docs), (len(failure.api_exceptions), len(docs))
print("ok")
os.remove("every-kind.yaml")
