//! The shared state of a running emulator: store, served resources, fault injection, seen tokens.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::faults::Faults;
use crate::resources::{ResourceDef, builtins};
use crate::store::Store;

/// Everything the handlers share.
pub struct State {
    /// Objects.
    pub store: Mutex<Store>,
    /// Served resources.
    pub defs: Mutex<Vec<ResourceDef>>,
    /// Fault injection.
    pub faults: Faults,
    /// Bearer tokens seen, in order.
    pub tokens: Mutex<Vec<String>>,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    counter: AtomicU64,
}

impl State {
    /// A fresh state with the built-in resources and namespaces; watches can resume from the last
    /// `history` changes.
    pub fn new(history: usize) -> Self {
        let state = Self {
            store: Mutex::new(Store::new(history)),
            defs: Mutex::new(builtins()),
            faults: Faults::default(),
            tokens: Mutex::default(),
            bookmark_interval: Duration::from_secs(10),
            counter: AtomicU64::new(0),
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let object = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": state.uid(), "creationTimestamp": now(),
                    "labels": {"kubernetes.io/metadata.name": ns}},
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
}
