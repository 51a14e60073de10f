//! The shared state of a running emulator: store, served resources, fault injection, seen tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::resources::{ResourceDef, builtins};
use crate::store::Store;

/// Faults injected into request handling.
#[derive(Default)]
pub struct Faults {
    /// Requests still to fail.
    pub fail_next: AtomicU32,
    /// The HTTP code of the failures (500 or 429).
    pub fail_code: AtomicU32,
    /// Latency added to every request, in milliseconds.
    pub latency_ms: AtomicU64,
}

/// Everything the handlers share.
pub struct State {
    /// Objects.
    pub store: Mutex<Store>,
    /// Served resources.
    pub defs: Mutex<Vec<ResourceDef>>,
    /// Last applied configuration per (bucket, namespace, name, field manager), for server-side apply.
    pub applied: Mutex<HashMap<(String, String, String, String), Value>>,
    /// Fault injection.
    pub faults: Faults,
    /// Bearer tokens seen, in order.
    pub tokens: Mutex<Vec<String>>,
    /// Bumped to end every open watch.
    pub watch_epoch: watch::Sender<u64>,
    counter: AtomicU64,
}

impl Default for State {
    fn default() -> Self {
        let state = Self {
            store: Mutex::default(),
            defs: Mutex::new(builtins()),
            applied: Mutex::default(),
            faults: Faults::default(),
            tokens: Mutex::default(),
            watch_epoch: watch::channel(0).0,
            counter: AtomicU64::new(0),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let object = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": state.uid(), "creationTimestamp": now()},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            if let Ok(mut store) = state.store.lock() {
                store.put("/namespaces", "", ns, object, true);
            }
        }
        state
    }
}

/// The current time as Kubernetes writes it.
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl State {
    /// A fresh uid.
    pub fn uid(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let a = nanos ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            (a & 0xfff) as u16,
            (n & 0xfff) as u16,
            (a ^ (n << 20)) & 0xffff_ffff_ffff
        )
    }

    /// Five random-looking characters for `generateName`.
    pub fn suffix(&self) -> String {
        let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
        let mut n = self.counter.fetch_add(7919, Ordering::Relaxed) ^ 0x5DEECE66D;
        (0..5)
            .map(|_| {
                let c = alphabet[(n % alphabet.len() as u64) as usize] as char;
                n = n / alphabet.len() as u64 + 104_729;
                c
            })
            .collect()
    }

    /// The resource served at this group/version/plural.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceDef> {
        let defs = self.defs.lock().ok()?;
        defs.iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
            .cloned()
    }

    /// Every served resource.
    pub fn all_defs(&self) -> Vec<ResourceDef> {
        self.defs.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Consumes one injected failure, if any is pending: its HTTP code.
    pub fn take_failure(&self) -> Option<u16> {
        let pending = self.faults.fail_next.load(Ordering::Relaxed);
        if pending == 0 {
            return None;
        }
        self.faults.fail_next.fetch_sub(1, Ordering::Relaxed);
        Some(self.faults.fail_code.load(Ordering::Relaxed) as u16)
    }

    /// The injected latency.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.faults.latency_ms.load(Ordering::Relaxed))
    }
}
