//! Fencing the leader: count this replica as leader only while a read of the Lease confirms it.
//!
//! kube-lease-manager keeps reporting "leader" while it cannot reach the API server (it logs the failed
//! renewal and retries), even after the Lease expired and another replica took it. The fence reads the Lease
//! itself every few seconds and says "leader" only while the manager does AND the last successful read showed
//! this replica holding a Lease that has not expired (less a safety margin). A failed read keeps the last
//! confirmation, which runs out on its own at its deadline.

use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{Api, Client};
use tokio::sync::watch;

/// How the fence reads the Lease.
#[derive(Clone, Copy, Debug)]
pub(super) struct FenceTiming {
    /// Time between two reads of the Lease (also the longest a read may take).
    pub period: Duration,
    /// How long before the Lease expires the fence stops counting it as held: covers the time to stop the
    /// controller and clock differences between replicas.
    pub margin: Duration,
}

/// What one read of the Lease told: its spec (`None`: no Lease, or one without a spec), or why it failed.
pub(super) type Reading = Result<Option<LeaseSpec>, String>;

/// Until when `spec` (as just read) confirms that `identity` holds the lease: its `renewTime` plus
/// `leaseDurationSeconds`, less `margin`. `None` when another replica or nobody holds it, or a field is
/// missing.
pub(super) fn confirmed_until(
    spec: Option<&LeaseSpec>,
    identity: &str,
    margin: Duration,
) -> Option<Timestamp> {
    let spec = spec?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time.as_ref()?.0;
    let duration = SignedDuration::from_secs(spec.lease_duration_seconds?.into());
    let margin = SignedDuration::try_from(margin).ok()?;
    renewed.checked_add(duration).ok()?.checked_sub(margin).ok()
}

/// The confirmation deadline after a read: a successful read replaces the last deadline (with none when the
/// Lease is held by another replica, or gone), a failed read keeps it.
pub(super) fn next_deadline(
    reading: &Reading,
    last: Option<Timestamp>,
    identity: &str,
    margin: Duration,
) -> Option<Timestamp> {
    match reading {
        Ok(spec) => confirmed_until(spec.as_ref(), identity, margin),
        Err(_) => last,
    }
}

/// Whether a confirmation `deadline` still holds at `now`.
pub(super) fn confirmed(deadline: Option<Timestamp>, now: Timestamp) -> bool {
    deadline.is_some_and(|deadline| now < deadline)
}

/// Reads the Lease `name` in `namespace` with `client`.
pub(super) fn lease_reader(
    client: Client,
    namespace: &str,
    name: &str,
) -> impl FnMut() -> BoxFuture<'static, Reading> + Send + 'static {
    let api: Api<Lease> = Api::namespaced(client, namespace);
    let name = name.to_owned();
    move || {
        let (api, name) = (api.clone(), name.clone());
        Box::pin(async move {
            api.get_opt(&name)
                .await
                .map(|lease| lease.and_then(|lease| lease.spec))
                .map_err(|err| err.to_string())
        })
    }
}

/// Combines the lease manager's receiver (`manager`) with reads of the Lease (`read`) into one receiver that
/// is true only while both say this replica leads. It is re-evaluated on every change of `manager`, every
/// `timing.period`, and at the confirmation deadline. Its sender goes away when `manager`'s does; dropping
/// it drops `manager` (which tells the lease manager to release the lease).
pub(super) fn fence<R, Fut>(
    identity: String,
    mut manager: watch::Receiver<bool>,
    mut read: R,
    timing: FenceTiming,
) -> watch::Receiver<bool>
where
    R: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Reading> + Send,
{
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut deadline = None;
        loop {
            let managed = *manager.borrow_and_update();
            if managed {
                let reading = tokio::select! {
                    reading = tokio::time::timeout(timing.period, read()) => reading
                        .unwrap_or_else(|_| Err(format!("no answer within {:?}", timing.period))),
                    () = tx.closed() => break,
                };
                if let Err(err) = &reading {
                    tracing::warn!(identity, "reading the leader Lease failed: {err}");
                }
                deadline = next_deadline(&reading, deadline, &identity, timing.margin);
            } else {
                deadline = None;
            }
            let now = Timestamp::now();
            let leader = managed && confirmed(deadline, now);
            let fell = tx.send_if_modified(|value| {
                let changed = *value != leader;
                *value = leader;
                changed
            }) && !leader;
            if fell && managed {
                tracing::warn!(
                    identity,
                    "the leader Lease could not be confirmed before it expires: this replica no longer counts as leader"
                );
            }
            let mut wait = timing.period;
            if let Some(deadline) = deadline.filter(|_| leader) {
                // Wake just after the deadline, so the fence falls at it when no read confirms the lease again.
                let left = Duration::try_from(deadline.duration_since(now)).unwrap_or_default();
                wait = wait.min(left + Duration::from_millis(1));
            }
            tokio::select! {
                changed = manager.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(wait) => {}
                () = tx.closed() => break,
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    fn spec(holder: &str, renewed: Timestamp, seconds: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            renew_time: Some(MicroTime(renewed)),
            lease_duration_seconds: Some(seconds),
            ..LeaseSpec::default()
        }
    }

    const MARGIN: Duration = Duration::from_secs(2);

    #[test]
    fn a_fresh_lease_held_by_us_is_confirmed_until_its_expiry_less_the_margin() {
        let deadline = confirmed_until(Some(&spec("a", at(0), 15)), "a", MARGIN);
        assert_eq!(deadline, Some(at(13)));
        assert!(confirmed(deadline, at(0)));
        assert!(confirmed(deadline, at(12)));
        assert!(!confirmed(deadline, at(13)), "the margin is not kept");
    }

    #[test]
    fn an_expired_lease_is_not_confirmed() {
        let deadline = confirmed_until(Some(&spec("a", at(0), 15)), "a", MARGIN);
        assert!(!confirmed(deadline, at(15)));
        assert!(!confirmed(deadline, at(100)));
    }

    #[test]
    fn a_lease_held_by_another_replica_or_by_nobody_or_absent_is_not_confirmed() {
        assert_eq!(confirmed_until(Some(&spec("b", at(0), 15)), "a", MARGIN), None);
        let released = LeaseSpec {
            holder_identity: None,
            ..spec("a", at(0), 15)
        };
        assert_eq!(confirmed_until(Some(&released), "a", MARGIN), None);
        let unrenewed = LeaseSpec {
            renew_time: None,
            ..spec("a", at(0), 15)
        };
        assert_eq!(confirmed_until(Some(&unrenewed), "a", MARGIN), None);
        assert_eq!(confirmed_until(None, "a", MARGIN), None);
    }

    #[test]
    fn a_failed_read_keeps_the_last_confirmation_until_its_deadline_and_a_successful_one_replaces_it() {
        let ours = next_deadline(&Ok(Some(spec("a", at(0), 15))), None, "a", MARGIN);
        let failed = next_deadline(&Err("connection refused".into()), ours, "a", MARGIN);
        assert_eq!(failed, Some(at(13)));
        assert!(confirmed(failed, at(12)), "still leader before the deadline");
        assert!(!confirmed(failed, at(13)), "not leader from the deadline on");
        assert_eq!(
            next_deadline(&Err("refused".into()), None, "a", MARGIN),
            None,
            "a failed read confirms nothing by itself"
        );
        let taken = next_deadline(&Ok(Some(spec("b", at(14), 15))), failed, "a", MARGIN);
        assert_eq!(taken, None, "another holder ends the confirmation at once");
        let gone = next_deadline(&Ok(None), failed, "a", MARGIN);
        assert_eq!(gone, None);
        let renewed = next_deadline(&Ok(Some(spec("a", at(10), 15))), failed, "a", MARGIN);
        assert_eq!(renewed, Some(at(23)));
    }

    /// A Lease read whose answer the test sets, counting the reads.
    #[derive(Clone)]
    struct FakeLease(Arc<Mutex<(Reading, u32)>>);

    impl FakeLease {
        fn new(reading: Reading) -> Self {
            Self(Arc::new(Mutex::new((reading, 0))))
        }

        fn set(&self, reading: Reading) {
            self.0.lock().unwrap().0 = reading;
        }

        fn reads(&self) -> u32 {
            self.0.lock().unwrap().1
        }

        fn reader(&self) -> impl FnMut() -> futures::future::Ready<Reading> + Send + 'static {
            let lease = self.clone();
            move || {
                let mut state = lease.0.lock().unwrap();
                state.1 += 1;
                futures::future::ready(state.0.clone())
            }
        }
    }

    fn held_by(holder: &str, seconds: i32) -> Reading {
        Ok(Some(spec(holder, Timestamp::now(), seconds)))
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..500 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    const FAST: FenceTiming = FenceTiming {
        period: Duration::from_millis(50),
        margin: Duration::ZERO,
    };

    #[tokio::test]
    async fn the_fence_leads_only_while_the_manager_says_so_and_a_read_confirms_the_lease() {
        let (manager_tx, manager) = watch::channel(false);
        let lease = FakeLease::new(held_by("a", 60));
        let leading = fence("a".into(), manager, lease.reader(), FAST);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(!*leading.borrow(), "leading without the manager");
        assert_eq!(lease.reads(), 0, "read the Lease while not the manager's leader");

        manager_tx.send(true).unwrap();
        until("the fence to confirm the lease", || *leading.borrow()).await;

        // The API server stops answering: the last confirmation (1 s) holds, then runs out.
        lease.set(held_by("a", 1));
        let reads = lease.reads();
        until("a read of the short lease", || lease.reads() > reads).await;
        lease.set(Err("connection refused".into()));
        assert!(
            *leading.borrow(),
            "a failed read ended the confirmation before its deadline"
        );
        until("the fence to fall at the deadline", || !*leading.borrow()).await;
        let reads = lease.reads();
        until("more reads while fenced", || lease.reads() > reads + 2).await;
        assert!(
            !*leading.borrow(),
            "a failed read after the deadline confirmed the lease"
        );

        // The API server answers again and the manager renewed the lease: leading again.
        lease.set(held_by("a", 60));
        until("the fence to confirm the lease again", || *leading.borrow()).await;

        // Another replica holds the lease: not leading, even though the manager still says so.
        lease.set(held_by("b", 60));
        until("the fence to see the other holder", || !*leading.borrow()).await;
        lease.set(held_by("a", 60));
        until("the lease held again", || *leading.borrow()).await;

        manager_tx.send(false).unwrap();
        until("the fence to follow the manager", || !*leading.borrow()).await;
    }

    #[tokio::test]
    async fn the_fence_ends_with_the_manager_and_dropping_it_lets_the_manager_release_the_lease() {
        let (manager_tx, manager) = watch::channel(true);
        let lease = FakeLease::new(held_by("a", 60));
        let mut leading = fence("a".into(), manager, lease.reader(), FAST);
        leading.wait_for(|leader| *leader).await.unwrap();
        drop(manager_tx);
        assert!(
            leading.wait_for(|leader| !*leader).await.is_err(),
            "the fence outlived the manager"
        );

        let (manager_tx, manager) = watch::channel(true);
        let leading = fence("a".into(), manager, lease.reader(), FAST);
        drop(leading);
        tokio::time::timeout(Duration::from_secs(5), manager_tx.closed())
            .await
            .expect("the fence kept the manager's receiver after its own was dropped");
    }

    #[tokio::test]
    async fn against_the_emulator_the_fence_falls_while_every_request_fails_and_recovers_after() {
        let emulator = kube_emulator::Emulator::start().await.unwrap();
        let lease = |seconds| {
            let lease = Lease {
                metadata: kube::api::ObjectMeta {
                    name: Some("eks-operator".into()),
                    namespace: Some("default".into()),
                    ..Default::default()
                },
                spec: Some(spec("a", Timestamp::now(), seconds)),
            };
            serde_json::to_value(lease).unwrap()
        };
        emulator.apply_json(&lease(2)).unwrap();
        let (_manager_tx, manager) = watch::channel(true);
        let reader = lease_reader(emulator.client(), "default", "eks-operator");
        let mut leading = fence("a".into(), manager, reader, FAST);
        let wait = Duration::from_secs(10);
        tokio::time::timeout(wait, leading.wait_for(|leader| *leader))
            .await
            .expect("the Lease was never confirmed")
            .unwrap();

        // The API server fails every request for longer than the Lease lasts: the fence falls.
        emulator.fail_next(u32::MAX, 500);
        tokio::time::timeout(wait, leading.wait_for(|leader| !*leader))
            .await
            .expect("still leading after the Lease expired without a confirming read")
            .unwrap();

        // It answers again, and the Lease was renewed: leading again.
        emulator.faults().clear();
        emulator.apply_json(&lease(60)).unwrap();
        tokio::time::timeout(wait, leading.wait_for(|leader| *leader))
            .await
            .expect("not leading again after the API server recovered")
            .unwrap();
    }
}
