"""What every script shares: a client for the emulator whose kubeconfig is argv[1], and checks that fail."""
import sys

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def api_client():
    return config.new_client_from_config(config_file=sys.argv[1])


def expect_api_error(status, reason, call, *args, **kwargs):
    """Runs `call`, which must fail with an ApiException of this HTTP status and Status reason; returns it."""
    try:
        call(*args, **kwargs)
    except ApiException as error:
        import json
        body = json.loads(error.body)
        assert error.status == status, (error.status, error.body)
        assert body["reason"] == reason, body
        return error
    raise AssertionError(f"{call.__name__} did not fail with {status} {reason}")


def namespace(api, name):
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def served_kinds(dyn):
    """(group, version, kind, plural, namespaced) of every creatable resource of the preferred version of
    each group, from discovery."""
    import json
    get = lambda path: json.loads(dyn.request("GET", path, serialize=False).data)  # noqa: E731
    versions = [("", "v1", "/api/v1")]
    for g in get("/apis")["groups"]:
        preferred = g["preferredVersion"]["version"]
        versions.append((g["name"], preferred, f"/apis/{g['name']}/{preferred}"))
    kinds = []
    for group, version, path in versions:
        for r in get(path)["resources"]:
            if "/" not in r["name"] and "create" in r["verbs"]:
                kinds.append((group, version, r["kind"], r["name"], r["namespaced"]))
    return kinds
