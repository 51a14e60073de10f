//! Fault injection for tests: end every open watch, fail the next requests with 500 or 429, answer the next
//! resumed watches with `410 Gone`, add latency to every request. A [`Faults`] handle is cheap to clone and
//! can be moved into the test code that decides when the API server misbehaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

#[derive(Debug)]
struct Inner {
    fail_next: AtomicU32,
    fail_code: AtomicU16,
    expire_watches: AtomicU32,
    latency_ms: AtomicU64,
    watch_epoch: watch::Sender<u64>,
}

/// The fault-injection handle of an emulator (see [`crate::Emulator::faults`]).
#[derive(Clone, Debug)]
pub struct Faults(Arc<Inner>);

impl Default for Faults {
    fn default() -> Self {
        Self(Arc::new(Inner {
            fail_next: AtomicU32::new(0),
            fail_code: AtomicU16::new(500),
            expire_watches: AtomicU32::new(0),
            latency_ms: AtomicU64::new(0),
            watch_epoch: watch::channel(0).0,
        }))
    }
}

impl Faults {
    /// Ends every open watch at once, as an API server restart or a load balancer timeout would; clients
    /// must watch again (from their last resource version).
    pub fn drop_watches(&self) {
        self.0.watch_epoch.send_modify(|e| *e += 1);
    }

    /// Makes the next `count` requests fail with `code`: 429 (`TooManyRequests`, with `Retry-After: 1`) or
    /// any other code (500 `InternalError` for anything that is not 429, 500, 503 or 504).
    pub fn fail_next(&self, count: u32, code: u16) {
        let code = if matches!(code, 429 | 500 | 503 | 504) {
            code
        } else {
            500
        };
        self.0.fail_code.store(code, Ordering::SeqCst);
        self.0.fail_next.store(count, Ordering::SeqCst);
    }

    /// Answers the next `count` watches that resume from a resource version with `410 Gone` (`Expired`), as
    /// after an etcd compaction, so clients must list again. Open watches are not ended; combine with
    /// [`Self::drop_watches`].
    pub fn expire_next_watches(&self, count: u32) {
        self.0.expire_watches.store(count, Ordering::SeqCst);
    }

    /// Adds `latency` before every request is answered (zero: none).
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.0.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// Removes every pending fault (open watches stay open).
    pub fn clear(&self) {
        self.0.fail_next.store(0, Ordering::SeqCst);
        self.0.expire_watches.store(0, Ordering::SeqCst);
        self.0.latency_ms.store(0, Ordering::SeqCst);
    }

    /// Consumes one injected failure, if any is pending: its HTTP code.
    pub(crate) fn take_failure(&self) -> Option<u16> {
        self.0
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| self.0.fail_code.load(Ordering::SeqCst))
    }

    /// Consumes one injected watch expiry, if any is pending.
    pub(crate) fn take_watch_expiry(&self) -> bool {
        self.0
            .expire_watches
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The injected latency.
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.0.latency_ms.load(Ordering::SeqCst))
    }

    /// A receiver that changes when watches are to end.
    pub(crate) fn watch_epoch(&self) -> watch::Receiver<u64> {
        self.0.watch_epoch.subscribe()
    }
}
