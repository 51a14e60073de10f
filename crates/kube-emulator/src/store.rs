//! The object store: every object as JSON, one resource version counter for the whole store (as etcd's),
//! a bounded history of changes for watches that resume from a version, and a broadcast of live changes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

/// How many changes are kept for watches that resume from a resource version.
pub const HISTORY: usize = 20_000;

/// A change to one object.
#[derive(Clone, Debug)]
pub struct Change {
    /// The resource version of the change.
    pub rv: u64,
    /// Bucket of the object.
    pub bucket: String,
    /// `ADDED`, `MODIFIED`, `DELETED`.
    pub kind: &'static str,
    /// The object after the change (before, for deletions), shared with the store and every watch.
    pub object: Arc<Value>,
    /// The object before a modification (watches with selectors turn a change that makes an object leave
    /// or enter the selection into DELETED or ADDED, as the real server does).
    pub previous: Option<Arc<Value>>,
}

/// Key of an object inside a bucket.
pub type Key = (String, String);

/// The objects of every resource.
pub struct Store {
    objects: BTreeMap<String, BTreeMap<Key, Arc<Value>>>,
    rv: u64,
    history: VecDeque<Change>,
    capacity: usize,
    live: broadcast::Sender<Change>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new(HISTORY)
    }
}

impl Store {
    /// An empty store keeping the last `history` changes for watches that resume.
    pub fn new(history: usize) -> Self {
        let (live, _) = broadcast::channel(65_536);
        Self {
            objects: BTreeMap::new(),
            rv: 1,
            history: VecDeque::new(),
            capacity: history.max(1),
            live,
        }
    }

    /// The current resource version.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The oldest version a watch can resume from.
    pub fn oldest(&self) -> u64 {
        self.history.front().map_or(self.rv, |c| c.rv.saturating_sub(1))
    }

    /// How many objects are stored.
    pub fn len(&self) -> usize {
        self.objects.values().map(BTreeMap::len).sum()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One object.
    pub fn get(&self, bucket: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(bucket)?
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(AsRef::as_ref)
    }

    /// The objects of a bucket, in a namespace or all, in (namespace, name) order (cheap: shared).
    pub fn list(&self, bucket: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(objects) = self.objects.get(bucket) else {
            return Vec::new();
        };
        match namespace {
            None => objects.values().cloned().collect(),
            Some(ns) => objects
                .range((ns.to_owned(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// Every bucket name with its objects (for garbage collection).
    pub fn all(&self) -> impl Iterator<Item = (&String, &BTreeMap<Key, Arc<Value>>)> {
        self.objects.iter()
    }

    /// Stores an object under a new resource version and records the change. Returns the stored object.
    pub fn put(
        &mut self,
        bucket: &str,
        namespace: &str,
        name: &str,
        mut object: Value,
        added: bool,
    ) -> Value {
        self.rv += 1;
        object["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let shared = Arc::new(object);
        let previous = self
            .objects
            .entry(bucket.to_owned())
            .or_default()
            .insert((namespace.to_owned(), name.to_owned()), shared.clone());
        let kind = if added { "ADDED" } else { "MODIFIED" };
        self.record(bucket, kind, shared.clone(), previous);
        Arc::unwrap_or_clone(shared)
    }

    /// Removes an object and records the deletion.
    pub fn remove(&mut self, bucket: &str, namespace: &str, name: &str) -> Option<Value> {
        let removed = self
            .objects
            .get_mut(bucket)?
            .remove(&(namespace.to_owned(), name.to_owned()))?;
        let mut object = Arc::unwrap_or_clone(removed);
        self.rv += 1;
        object["metadata"]["resourceVersion"] = Value::String(self.rv.to_string());
        let shared = Arc::new(object);
        self.record(bucket, "DELETED", shared.clone(), None);
        Some(Arc::unwrap_or_clone(shared))
    }

    fn record(&mut self, bucket: &str, kind: &'static str, object: Arc<Value>, previous: Option<Arc<Value>>) {
        let change = Change {
            rv: self.rv,
            previous,
            bucket: bucket.to_owned(),
            kind,
            object,
        };
        self.history.push_back(change.clone());
        while self.history.len() > self.capacity {
            self.history.pop_front();
        }
        let _ = self.live.send(change);
    }

    /// Changes after `rv` still in the history, and a receiver for later ones.
    pub fn since(&self, rv: u64) -> (Vec<Change>, broadcast::Receiver<Change>) {
        let start = self.history.partition_point(|c| c.rv <= rv);
        let past = self.history.range(start..).cloned().collect();
        (past, self.live.subscribe())
    }

    /// A receiver of live changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.live.subscribe()
    }

    /// Drops every bucket matching `bucket` (a CRD was deleted).
    pub fn drop_bucket(&mut self, bucket: &str) {
        let names: Vec<Key> = self
            .objects
            .get(bucket)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (ns, name) in names {
            self.remove(bucket, &ns, &name);
        }
    }
}
