"""Watches and an informer (list, then watch from the list's resourceVersion, with periodic resyncs) with
label selectors, as users of the Python client write them. The client sends `watch=True` (capitalised)."""
import threading
import time

from kubernetes import client, watch

from common import api_client, namespace

api = api_client()
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
ns = namespace(api, "watched")


def config_map(name, team, data="1"):
    return {"metadata": {"name": name, "labels": {"team": team}}, "data": {"v": data}}


# A watch with a label selector sees only the selected objects, in order, and an object that leaves the
# selection as DELETED.
events = []
ready = threading.Event()


def watcher():
    w = watch.Watch()
    ready.set()
    stream = w.stream(
        core.list_namespaced_config_map, ns, label_selector="team=blue", resource_version=start, timeout_seconds=20
    )
    for event in stream:
        events.append((event["type"], event["object"].metadata.name, event["object"].data))
        if event["type"] == "DELETED" and event["object"].metadata.name == "b2":
            w.stop()


# The watch starts from the list's resourceVersion, so it sees every write below whenever it connects.
start = core.list_namespaced_config_map(ns, label_selector="team=blue").metadata.resource_version
thread = threading.Thread(target=watcher)
thread.start()
ready.wait()
core.create_namespaced_config_map(ns, config_map("b1", "blue"))
core.create_namespaced_config_map(ns, config_map("r1", "red"))
core.create_namespaced_config_map(ns, config_map("b2", "blue"))
core.patch_namespaced_config_map("b1", ns, {"data": {"v": "2"}})
core.patch_namespaced_config_map("r1", ns, {"data": {"v": "2"}})
core.patch_namespaced_config_map("b1", ns, {"metadata": {"labels": {"team": "red"}}})  # leaves the selection
core.delete_namespaced_config_map("b2", ns)
thread.join(30)
assert not thread.is_alive(), "the watch never ended"
assert events == [
    ("ADDED", "b1", {"v": "1"}),
    ("ADDED", "b2", {"v": "1"}),
    ("MODIFIED", "b1", {"v": "2"}),
    ("DELETED", "b1", {"v": "2"}),
    ("DELETED", "b2", {"v": "1"}),
], events
print("label-selected watch:", events)


class Informer:
    """The list-watch-resync loop client-go's informers run, in its simplest form."""

    def __init__(self, list_call, selector, resync_seconds):
        self.list_call, self.selector, self.resync = list_call, selector, resync_seconds
        self.cache, self.resyncs, self.stopped = {}, 0, False
        self.lock = threading.Lock()

    def run(self):
        while not self.stopped:
            listed = self.list_call(ns, label_selector=self.selector)
            with self.lock:
                self.cache = {o.metadata.name: o for o in listed.items}
                self.resyncs += 1
            w = watch.Watch()
            for event in w.stream(self.list_call, ns, label_selector=self.selector,
                                  resource_version=listed.metadata.resource_version,
                                  allow_watch_bookmarks=True, timeout_seconds=self.resync):
                with self.lock:
                    if event["type"] == "DELETED":
                        self.cache.pop(event["object"].metadata.name, None)
                    elif event["type"] in ("ADDED", "MODIFIED"):
                        self.cache[event["object"].metadata.name] = event["object"]
                if self.stopped:
                    w.stop()

    def names(self):
        with self.lock:
            return sorted(self.cache)


def wait_for(condition, what, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


informer = Informer(apps.list_namespaced_deployment, "tier=web", resync_seconds=1)
thread = threading.Thread(target=informer.run, daemon=True)
thread.start()
wait_for(lambda: informer.resyncs >= 1, "the first list")
template = {"metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}}
for name, tier in [("web-1", "web"), ("web-2", "web"), ("db-1", "db")]:
    apps.create_namespaced_deployment(ns, {"metadata": {"name": name, "labels": {"tier": tier}},
                                           "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}})
wait_for(lambda: informer.names() == ["web-1", "web-2"], "both web deployments in the cache")
apps.delete_namespaced_deployment("web-1", ns)
wait_for(lambda: informer.names() == ["web-2"], "web-1 to leave the cache")
# Resync: the watch times out every second and the informer relists; the cache stays right across resyncs.
before = informer.resyncs
wait_for(lambda: informer.resyncs >= before + 2, "two resyncs")
assert informer.names() == ["web-2"], informer.names()
deployment = informer.cache["web-2"]
assert deployment.spec.strategy.type == "RollingUpdate", deployment.spec.strategy
assert deployment.spec.revision_history_limit == 10 and deployment.spec.progress_deadline_seconds == 600
informer.stopped = True
print("informer cache after", informer.resyncs, "lists:", informer.names())

print("ok")
