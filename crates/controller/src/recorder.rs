//! Publishes Kubernetes events (`events.k8s.io/v1`) and counts repeats in `series`, with a cache that is
//! bounded per object and forgets an object with it.
//!
//! kube-runtime's `Recorder` keeps a full copy of every distinct event it published for six minutes, in one
//! map for the whole process, and walks the whole map under a write lock on every publish: with a fleet of
//! 1,000 objects it held some 40,000 events, and every publish waited on a scan of all of them (see
//! `crates/controller/README.md`). This recorder keeps, per object, at most [`SERIES_PER_OBJECT`] series of
//! a few words each (the key, the event's name, its count and when it was last seen), evicts the least
//! recently seen one when an object has more, drops series older than [`SERIES_TTL`] in a sweep that runs
//! at most once per [`SWEEP_EVERY`], and drops an object's series at once when the controller lets the object
//! go ([`EventRecorder::forget`]).
//!
//! An evicted or expired series only means that the next repeat of that event is published as a new event
//! instead of raising the count of the old one, which is what kube-runtime does after its six minutes too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};

/// Most series kept per object. A first build of two regions publishes some 40 distinct events per object; only
/// the most recent ones can repeat soon (a failure retried with backoff, a repair), so a small number is enough.
pub const SERIES_PER_OBJECT: usize = 16;
/// How long a published event can still be counted as repeated (kube-runtime's and client-go's six minutes).
pub const SERIES_TTL: Duration = Duration::from_secs(6 * 60);
/// Series older than [`SERIES_TTL`] are dropped in one walk over the cache at most this often, not on every
/// publish.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What makes two events "the same event happening again": as kube-runtime's key, less the reporter (one per
/// recorder) and the regarding object (the map is per object already).
#[derive(Clone, Debug, PartialEq, Eq)]
struct SeriesKey {
    type_: EventType,
    reason: String,
    action: String,
    related: Option<String>,
}

impl SeriesKey {
    fn of(event: &Event) -> Self {
        Self {
            type_: event.type_,
            reason: event.reason.clone(),
            action: event.action.clone(),
            related: event.secondary.as_ref().map(reference_key),
        }
    }
}

/// One published event that a repeat would count.
#[derive(Debug)]
struct Series {
    key: SeriesKey,
    /// The Event object's name.
    name: String,
    count: i32,
    last_seen: Instant,
}

#[derive(Debug, Default)]
struct Cache {
    per_object: HashMap<String, Vec<Series>>,
    last_sweep: Option<Instant>,
}

impl Cache {
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|last| now.saturating_duration_since(last) < SWEEP_EVERY)
        {
            return;
        }
        self.per_object.retain(|_, series| {
            series.retain(|s| now.saturating_duration_since(s.last_seen) < SERIES_TTL);
            !series.is_empty()
        });
        self.last_sweep = Some(now);
    }

    /// The name and next count of a live series for this key, if there is one.
    fn repeat_of(&self, object: &str, key: &SeriesKey, now: Instant) -> Option<(String, i32)> {
        self.per_object
            .get(object)?
            .iter()
            .find(|s| &s.key == key && now.saturating_duration_since(s.last_seen) < SERIES_TTL)
            .map(|s| (s.name.clone(), s.count.saturating_add(1)))
    }

    fn record(&mut self, object: String, key: SeriesKey, name: String, count: i32, now: Instant) {
        let series = self.per_object.entry(object).or_default();
        if let Some(found) = series.iter_mut().find(|s| s.key == key) {
            found.name = name;
            found.count = count;
            found.last_seen = now;
            return;
        }
        if series.len() >= SERIES_PER_OBJECT
            && let Some(oldest) = series
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(i, _)| i)
        {
            series.swap_remove(oldest);
        }
        series.push(Series {
            key,
            name,
            count,
            last_seen: now,
        });
    }
}

/// Publishes events about objects; cheap to share (one per controller).
pub struct EventRecorder {
    client: Client,
    reporter: Reporter,
    cache: Mutex<Cache>,
}

impl EventRecorder {
    /// A recorder that publishes as `reporter` (its instance defaults to its controller name).
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self {
            client,
            reporter,
            cache: Mutex::default(),
        }
    }

    /// Publishes `event` about `regarding`: a new Event, or, when the same event (type, reason, action and
    /// related object) was published about the same object within [`SERIES_TTL`] and is still cached, a
    /// higher `series.count` on that Event (whose note stays the first one's).
    ///
    /// # Errors
    /// The API server's refusal of the create or patch.
    pub async fn publish(&self, event: &Event, regarding: &ObjectReference) -> Result<(), kube::Error> {
        let object = reference_key(regarding);
        let key = SeriesKey::of(event);
        let now = Instant::now();
        let repeat = self.cache.lock().ok().and_then(|mut cache| {
            cache.sweep(now);
            cache.repeat_of(&object, &key, now)
        });
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let (name, count) = match repeat {
            Some((name, count)) => match self.count_repeat(&events, &name, count).await {
                Ok(()) => (name, count),
                // The API server dropped the Event already (its own TTL, or someone deleted it): a new one.
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    (self.create(&events, event, regarding).await?, 1)
                }
                Err(error) => return Err(error),
            },
            None => (self.create(&events, event, regarding).await?, 1),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.record(object, key, name, count, now);
        }
        Ok(())
    }

    /// Forgets the series of the object with this uid: it is gone, or no longer this controller's.
    pub fn forget(&self, uid: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.per_object.remove(uid);
        }
    }

    /// Forgets the series of every object whose uid `keep` refuses (objects no longer watched).
    pub fn retain_objects(&self, keep: impl Fn(&str) -> bool) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.per_object.retain(|object, _| keep(object));
        }
    }

    /// How many series are cached, over all objects.
    pub fn cached_series(&self) -> usize {
        self.cache
            .lock()
            .map_or(0, |c| c.per_object.values().map(Vec::len).sum())
    }

    /// How many series are cached for the object with this uid.
    pub fn cached_series_of(&self, uid: &str) -> usize {
        self.cache
            .lock()
            .map_or(0, |c| c.per_object.get(uid).map_or(0, Vec::len))
    }

    async fn count_repeat(&self, events: &Api<K8sEvent>, name: &str, count: i32) -> Result<(), kube::Error> {
        let series = serde_json::json!({
            "series": EventSeries {
                count,
                last_observed_time: MicroTime(Timestamp::now()),
            }
        });
        events
            .patch(name, &PatchParams::default(), &Patch::Merge(&series))
            .await
            .map(drop)
    }

    async fn create(
        &self,
        events: &Api<K8sEvent>,
        event: &Event,
        regarding: &ObjectReference,
    ) -> Result<String, kube::Error> {
        let now = Timestamp::now();
        let controller = self.reporter.controller.clone();
        let name = format!(
            "{}.{:x}",
            regarding.name.as_deref().unwrap_or(&controller),
            now.as_nanosecond()
        );
        let body = K8sEvent {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: regarding.namespace.clone(),
                ..ObjectMeta::default()
            },
            action: Some(event.action.clone()),
            reason: Some(event.reason.clone()),
            note: event.note.clone(),
            type_: Some(
                match event.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            related: event.secondary.clone(),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            reporting_controller: Some(controller),
            ..K8sEvent::default()
        };
        events.create(&PostParams::default(), &body).await?;
        Ok(name)
    }
}

/// An object's identity in the cache: its uid, or (for a reference without one) kind, namespace and name.
fn reference_key(reference: &ObjectReference) -> String {
    match &reference.uid {
        Some(uid) => uid.clone(),
        None => format!(
            "{}/{}/{}",
            reference.kind.as_deref().unwrap_or_default(),
            reference.namespace.as_deref().unwrap_or_default(),
            reference.name.as_deref().unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(action: &str) -> SeriesKey {
        SeriesKey {
            type_: EventType::Normal,
            reason: "Created".into(),
            action: action.into(),
            related: None,
        }
    }

    #[test]
    fn an_object_keeps_at_most_its_most_recent_series() {
        let mut cache = Cache::default();
        let start = Instant::now();
        for i in 0..100u64 {
            let now = start + Duration::from_millis(i);
            cache.record("uid".into(), key(&format!("r{i}")), format!("e{i}"), 1, now);
        }
        let series = &cache.per_object["uid"];
        assert_eq!(series.len(), SERIES_PER_OBJECT);
        let now = start + Duration::from_millis(100);
        // The newest are kept (they can still repeat), the oldest went first.
        assert_eq!(cache.repeat_of("uid", &key("r99"), now), Some(("e99".into(), 2)));
        let first_kept = 100 - SERIES_PER_OBJECT;
        assert!(
            cache
                .repeat_of("uid", &key(&format!("r{first_kept}")), now)
                .is_some()
        );
        assert_eq!(
            cache.repeat_of("uid", &key(&format!("r{}", first_kept - 1)), now),
            None
        );
        // A repeat raises the count of its series instead of adding one.
        cache.record("uid".into(), key("r99"), "e99".into(), 2, now);
        assert_eq!(cache.per_object["uid"].len(), SERIES_PER_OBJECT);
        assert_eq!(cache.repeat_of("uid", &key("r99"), now), Some(("e99".into(), 3)));
    }

    #[test]
    fn series_expire_after_the_ttl_and_the_sweep_drops_idle_objects() {
        let mut cache = Cache::default();
        let start = Instant::now();
        cache.sweep(start);
        cache.record("idle".into(), key("a"), "e1".into(), 1, start);
        let later = start + SERIES_TTL;
        cache.record("busy".into(), key("a"), "e2".into(), 1, later);
        assert_eq!(cache.repeat_of("idle", &key("a"), later), None, "expired");
        assert!(cache.repeat_of("busy", &key("a"), later).is_some());
        cache.sweep(later);
        assert!(!cache.per_object.contains_key("idle"));
        assert!(cache.per_object.contains_key("busy"));
    }

    #[test]
    fn the_sweep_walks_the_cache_at_most_once_per_period() {
        let mut cache = Cache::default();
        let start = Instant::now();
        cache.record("a".into(), key("a"), "e1".into(), 1, start);
        let almost_expired = start + SERIES_TTL - Duration::from_millis(1);
        cache.sweep(almost_expired);
        assert!(cache.per_object.contains_key("a"), "still live");
        // Expired now, but the last walk was a moment ago: left for the next one.
        cache.sweep(almost_expired + Duration::from_millis(2));
        assert!(cache.per_object.contains_key("a"));
        cache.sweep(almost_expired + SWEEP_EVERY);
        assert!(!cache.per_object.contains_key("a"));
    }

    #[test]
    fn related_objects_and_types_keep_series_apart() {
        let related = ObjectReference {
            kind: Some("ConfigMap".into()),
            namespace: Some("default".into()),
            name: Some("a".into()),
            ..ObjectReference::default()
        };
        let event = |type_, secondary: Option<ObjectReference>| Event {
            type_,
            reason: "Created".into(),
            note: None,
            action: "Reconcile".into(),
            secondary,
        };
        let plain = SeriesKey::of(&event(EventType::Normal, None));
        assert_ne!(plain, SeriesKey::of(&event(EventType::Warning, None)));
        assert_ne!(plain, SeriesKey::of(&event(EventType::Normal, Some(related))));
    }
}
