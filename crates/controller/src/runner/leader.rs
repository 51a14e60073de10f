//! Leader election: run the controller only while this replica holds the Lease.

use tokio::sync::watch;

use super::RunError;

/// Why a term as leader ended.
enum TermEnd {
    /// Another replica holds the lease now: stop and wait for it again.
    LostLease,
    /// The lease task ended: nothing keeps the lease any more.
    LeaseEnded,
    /// The process is shutting down.
    Shutdown,
}

/// Runs a controller (`start`, which stops when its receiver turns true) only while `leading` says this
/// replica holds the lease: losing the lease stops it (in-flight reconciles finish) and waits for the lease
/// again. Returns `Ok` on `shutdown` (after the lease task released the lease), and
/// [`RunError::LeaseEnded`] with the reason when the lease task ends on its own, which stops the controller.
pub(super) async fn lead<T, E, F, Fut>(
    identity: &str,
    mut leading: watch::Receiver<bool>,
    lease_task: tokio::task::JoinHandle<Result<T, E>>,
    mut shutdown: watch::Receiver<bool>,
    mut start: F,
) -> Result<(), RunError>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = Result<(), RunError>> + Send + 'static,
{
    let end = loop {
        tracing::info!(identity, "waiting for the leader lease");
        let lease_ended = tokio::select! {
            result = leading.wait_for(|leader| *leader) => result.is_err(),
            _ = shutdown.wait_for(|stop| *stop) => break TermEnd::Shutdown,
        };
        if lease_ended {
            break TermEnd::LeaseEnded;
        }
        tracing::info!(identity, "leading: starting the controller");
        let (stop_tx, stop_rx) = watch::channel(false);
        let controller = tokio::spawn(start(stop_rx));
        let end = tokio::select! {
            result = leading.wait_for(|leader| !*leader) => if result.is_ok() {
                tracing::warn!(identity, "lost the leader lease: stopping the controller");
                TermEnd::LostLease
            } else {
                TermEnd::LeaseEnded
            },
            _ = shutdown.wait_for(|stop| *stop) => TermEnd::Shutdown,
        };
        let _ = stop_tx.send(true);
        match controller.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(err) => tracing::error!(identity, "the controller task failed: {err}"),
        }
        if !matches!(end, TermEnd::LostLease) {
            break end;
        }
    };
    if matches!(end, TermEnd::Shutdown) {
        // Dropping the receiver tells the lease task to release the lease and end.
        drop(leading);
        match lease_task.await {
            Ok(Ok(_)) => tracing::info!(identity, "released the leader lease"),
            Ok(Err(err)) => tracing::warn!(identity, "releasing the leader lease failed: {err}"),
            Err(err) => tracing::warn!(identity, "the lease task failed: {err}"),
        }
        return Ok(());
    }
    let reason = match lease_task.await {
        Ok(Ok(_)) => "the lease task ended without an error".to_owned(),
        Ok(Err(err)) => err.to_string(),
        Err(err) => format!("the lease task failed: {err}"),
    };
    tracing::error!(identity, "leader election stopped: {reason}");
    Err(RunError::LeaseEnded(reason))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// A controller for [`lead`] that counts its starts and how many runs stopped when told to.
    #[derive(Clone, Default)]
    struct Probe {
        started: Arc<AtomicU32>,
        stopped: Arc<AtomicU32>,
    }

    impl Probe {
        fn start(
            &self,
        ) -> impl FnMut(watch::Receiver<bool>) -> futures::future::BoxFuture<'static, Result<(), RunError>> + use<>
        {
            let probe = self.clone();
            move |mut stop| {
                probe.started.fetch_add(1, Ordering::SeqCst);
                let stopped = probe.stopped.clone();
                Box::pin(async move {
                    let _ = stop.wait_for(|s| *s).await;
                    stopped.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
            }
        }

        async fn until(&self, what: &str, check: impl Fn(&Self) -> bool) {
            for _ in 0..500 {
                if check(self) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("timed out waiting for {what}");
        }

        fn counts(&self) -> (u32, u32) {
            (
                self.started.load(Ordering::SeqCst),
                self.stopped.load(Ordering::SeqCst),
            )
        }
    }

    #[tokio::test]
    async fn a_lease_task_that_ends_stops_the_controller_and_is_an_error_naming_the_reason() {
        let (lease_tx, leading) = watch::channel(true);
        let (end_tx, end_rx) = tokio::sync::oneshot::channel::<()>();
        let lease_task = tokio::spawn(async move {
            let _ = end_rx.await;
            drop(lease_tx);
            Err::<(), String>("renewing the lease failed: connection refused".to_owned())
        });
        let (_shutdown_tx, shutdown) = watch::channel(false);
        let probe = Probe::default();
        let running = tokio::spawn(lead("a", leading, lease_task, shutdown, probe.start()));
        probe
            .until("the controller to start", |p| p.counts() == (1, 0))
            .await;
        end_tx.send(()).unwrap();
        let result = running.await.unwrap();
        assert!(
            matches!(&result, Err(RunError::LeaseEnded(reason)) if reason.contains("connection refused")),
            "{result:?}"
        );
        assert_eq!(probe.counts(), (1, 1), "the controller was not stopped");
        let message = result.unwrap_err().to_string();
        assert!(message.contains("stopped reconciling"), "{message}");
    }

    #[tokio::test]
    async fn a_lease_task_that_ends_before_the_lease_is_won_is_an_error_too() {
        let (lease_tx, leading) = watch::channel(false);
        let lease_task = tokio::spawn(async move {
            drop(lease_tx);
            Ok::<(), String>(())
        });
        let (_shutdown_tx, shutdown) = watch::channel(false);
        let probe = Probe::default();
        let result = lead("a", leading, lease_task, shutdown, probe.start()).await;
        assert!(matches!(result, Err(RunError::LeaseEnded(_))), "{result:?}");
        assert_eq!(probe.counts(), (0, 0));
    }

    #[tokio::test]
    async fn losing_the_lease_stops_the_controller_until_it_is_won_again_and_shutdown_is_ok() {
        let (lease_tx, leading) = watch::channel(true);
        let (released_tx, released_rx) = tokio::sync::oneshot::channel::<()>();
        let lease_task = tokio::spawn({
            let lease_tx = lease_tx.clone();
            async move {
                // As the lease manager does: the receiver going away makes it release the lease and end.
                lease_tx.closed().await;
                let _ = released_tx.send(());
                Ok::<(), String>(())
            }
        });
        let (shutdown_tx, shutdown) = watch::channel(false);
        let probe = Probe::default();
        let running = tokio::spawn(lead("a", leading, lease_task, shutdown, probe.start()));
        probe
            .until("the controller to start", |p| p.counts() == (1, 0))
            .await;
        lease_tx.send(false).unwrap();
        probe
            .until("the controller to stop", |p| p.counts() == (1, 1))
            .await;
        lease_tx.send(true).unwrap();
        probe
            .until("the controller to start again", |p| p.counts() == (2, 1))
            .await;
        shutdown_tx.send(true).unwrap();
        assert!(running.await.unwrap().is_ok());
        assert_eq!(probe.counts(), (2, 2));
        released_rx
            .await
            .expect("the lease task was told to release the lease");
    }

    #[tokio::test]
    async fn a_lease_the_fence_cannot_confirm_stops_the_controller_until_a_read_confirms_it_again() {
        use super::super::fence::{FenceTiming, Reading, fence};
        use k8s_openapi::api::coordination::v1::LeaseSpec;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
        use std::sync::Mutex;

        let held = |seconds| -> Reading {
            Ok(Some(LeaseSpec {
                holder_identity: Some("a".into()),
                renew_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
                lease_duration_seconds: Some(seconds),
                ..LeaseSpec::default()
            }))
        };
        let reading = Arc::new(Mutex::new(held(1)));
        let read = {
            let reading = reading.clone();
            move || futures::future::ready(reading.lock().unwrap().clone())
        };
        // The manager keeps saying "leader" throughout, as kube-lease-manager does while it cannot renew.
        let (manager_tx, manager) = watch::channel(true);
        let timing = FenceTiming {
            period: Duration::from_millis(50),
            margin: Duration::ZERO,
        };
        let leading = fence("a".into(), manager, read, timing);
        let lease_task = tokio::spawn(async move {
            manager_tx.closed().await;
            Ok::<(), String>(())
        });
        let (shutdown_tx, shutdown) = watch::channel(false);
        let probe = Probe::default();
        let running = tokio::spawn(lead("a", leading, lease_task, shutdown, probe.start()));
        probe
            .until("the controller to start", |p| p.counts() == (1, 0))
            .await;
        *reading.lock().unwrap() = Err("connection refused".into());
        probe
            .until("the controller to stop once the lease runs out", |p| {
                p.counts() == (1, 1)
            })
            .await;
        *reading.lock().unwrap() = held(60);
        probe
            .until("the controller to start again", |p| p.counts() == (2, 1))
            .await;
        shutdown_tx.send(true).unwrap();
        assert!(running.await.unwrap().is_ok());
        assert_eq!(probe.counts(), (2, 2));
    }
}
