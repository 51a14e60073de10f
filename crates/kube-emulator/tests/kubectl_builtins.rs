//! kubectl with the built-in kinds beyond the ones the operator uses: an ordinary multi-kind manifest,
//! `get all`, `kubectl scale`.
#![allow(clippy::unwrap_used)]

mod common;

use common::kubectl::{ok, started};

/// Kinds beyond the ones the operator uses, in one multi-document manifest, as a user would apply it.
const WORKLOADS: &str = "apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: app, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec: {containers: [{name: app, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: '*/5 * * * *'
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: OnFailure, containers: [{name: app, image: registry.k8s.io/pause:3.10}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
";

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_an_ordinary_manifest_with_kubectl() {
    let (_emulator, _dir, config) = started().await;
    let config = config.as_path();
    tokio::task::block_in_place(|| {
        let applied = ok(config, &["apply", "-f", "-"], Some(WORKLOADS));
        for line in [
            "replicationcontroller/rc created",
            "daemonset.apps/ds created",
            "cronjob.batch/cj created",
            "ingress.networking.k8s.io/ing created",
            "storageclass.storage.k8s.io/fast created",
            "priorityclass.scheduling.k8s.io/high created",
        ] {
            assert!(applied.contains(line), "{applied}");
        }
        // Applying again is a no-op for every kind (server defaults do not read as changes).
        let again = ok(config, &["apply", "-f", "-"], Some(WORKLOADS));
        assert_eq!(again.matches("unchanged").count(), 7, "{again}");
        let all = ok(config, &["get", "all", "-o", "name"], None);
        for name in [
            "replicationcontroller/rc",
            "daemonset.apps/ds",
            "deployment.apps/web",
            "cronjob.batch/cj",
        ] {
            assert!(all.contains(name), "{all}");
        }
        assert!(
            ok(config, &["get", "rc,ds,sc,pc", "-o", "name"], None)
                .contains("storageclass.storage.k8s.io/fast")
        );
        assert!(ok(config, &["scale", "deployment/web", "--replicas=3"], None).contains("scaled"));
        let replicas = ok(
            config,
            &["get", "deploy/web", "-o", "jsonpath={.spec.replicas}"],
            None,
        );
        assert_eq!(replicas, "3");
        ok(config, &["scale", "rc/rc", "--replicas=2"], None);
        assert_eq!(
            ok(config, &["get", "rc/rc", "-o", "jsonpath={.spec.replicas}"], None),
            "2"
        );
        let strategy = ok(
            config,
            &["get", "deploy/web", "-o", "jsonpath={.spec.strategy.type}"],
            None,
        );
        assert_eq!(strategy, "RollingUpdate");
        assert!(
            ok(config, &["delete", "-f", "-"], Some(WORKLOADS)).contains("daemonset.apps \"ds\" deleted")
        );
    });
}
