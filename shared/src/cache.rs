//! A small async TTL cache for configuration and secrets that are read on every request but
//! change rarely. It keeps warm invocations free of DynamoDB and Secrets Manager calls.
//!
//! Loads are single-flight per key: a read that finds a load of its key under way waits for it
//! instead of starting another (so a load begun during a function's init serves its first
//! request).
//!
//! It is not a general-purpose cache: no size bound (the key space is the set of configured apps),
//! no negative caching (a miss is not stored, so a newly created app is seen at once).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values of type `V` keyed by `K`, each kept for `ttl` after it was loaded.
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, Arc<V>)>>,
    /// One gate per key being loaded, held while it loads (and removed after).
    gates: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()), gates: Mutex::new(HashMap::new()) }
    }

    /// The cached value for `key`, or the one `load` returns (cached only when it is `Some`).
    pub async fn get_or_load<E, F, Fut>(&self, key: &K, load: F) -> Result<Option<Arc<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(hit) = self.fresh(key) {
            return Ok(Some(hit));
        }
        let gate = lock(&self.gates).entry(key.clone()).or_default().clone();
        let _turn = gate.lock().await;
        // Loaded while this read waited for the gate.
        if let Some(hit) = self.fresh(key) {
            return Ok(Some(hit));
        }
        // The gate goes with the load, even one dropped part-way: keys that are never found (any
        // name a caller makes up) leave nothing behind. A read still waiting on it finds the
        // value, or loads itself.
        let ungate = Ungate { gates: &self.gates, key };
        let loaded = load().await;
        drop(ungate);
        let Some(value) = loaded? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        lock(&self.entries).insert(key.clone(), (Instant::now(), value.clone()));
        Ok(Some(value))
    }

    /// The value last loaded for `key`, fresh or not.
    pub fn held(&self, key: &K) -> Option<Arc<V>> {
        lock(&self.entries).get(key).map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `key`, loaded now (by a caller that had to read it anew, whatever a load
    /// under way would give).
    pub fn put(&self, key: &K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        lock(&self.entries).insert(key.clone(), (Instant::now(), value.clone()));
        value
    }

    /// Forgets `key`, so the next read loads it again.
    pub fn invalidate(&self, key: &K) {
        lock(&self.entries).remove(key);
    }

    /// The value loaded for `key` within the TTL, without loading it.
    pub fn fresh(&self, key: &K) -> Option<Arc<V>> {
        let entries = lock(&self.entries);
        let (loaded, value) = entries.get(key)?;
        (loaded.elapsed() < self.ttl).then(|| value.clone())
    }
}

/// Removes a key's gate when dropped: after its load, or when the load is dropped unfinished.
struct Ungate<'a, K: Eq + Hash> {
    gates: &'a Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
    key: &'a K,
}

impl<K: Eq + Hash> Drop for Ungate<'_, K> {
    fn drop(&mut self) {
        lock(self.gates).remove(self.key);
    }
}

/// A panic while holding one of these locks cannot leave its map inconsistent (single inserts
/// and removals), so a poisoned lock is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_once_within_ttl_and_again_after_invalidate() {
        let cache = TtlCache::new(Duration::from_secs(60));
        let mut loads = 0;
        for _ in 0..3 {
            let v = cache
                .get_or_load(&"k", || {
                    loads += 1;
                    async { Ok::<_, ()>(Some(7)) }
                })
                .await;
            assert_eq!(v, Ok(Some(Arc::new(7))));
        }
        assert_eq!(loads, 1);
        cache.invalidate(&"k");
        let _ = cache.get_or_load(&"k", || async { Ok::<_, ()>(Some(8)) }).await;
        assert_eq!(cache.get_or_load(&"k", || async { Ok::<_, ()>(None) }).await, Ok(Some(Arc::new(8))));
    }

    #[tokio::test]
    async fn a_read_during_a_load_of_its_key_waits_for_that_load() {
        let cache: TtlCache<&str, i32> = TtlCache::new(Duration::from_secs(60));
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, ()>(Some(1))
        };
        let (a, b) = tokio::join!(cache.get_or_load(&"k", load), cache.get_or_load(&"k", load));
        assert_eq!((a, b), (Ok(Some(Arc::new(1))), Ok(Some(Arc::new(1)))));
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn keys_never_found_leave_nothing_behind() {
        let cache: TtlCache<String, i32> = TtlCache::new(Duration::from_secs(60));
        for i in 0..100 {
            assert_eq!(cache.get_or_load(&format!("made-up-{i}"), || async { Ok::<_, ()>(None) }).await, Ok(None));
        }
        let _ = cache.get_or_load(&"found".to_owned(), || async { Ok::<_, ()>(Some(1)) }).await;
        assert!(lock(&cache.gates).is_empty());
        assert_eq!(lock(&cache.entries).len(), 1);
    }

    #[tokio::test]
    async fn a_load_dropped_part_way_leaves_nothing_behind() {
        let cache: TtlCache<String, i32> = TtlCache::new(Duration::from_secs(60));
        for i in 0..10 {
            let key = format!("made-up-{i}");
            let slow = cache.get_or_load(&key, std::future::pending::<Result<Option<i32>, ()>>);
            assert!(tokio::time::timeout(Duration::from_millis(1), slow).await.is_err());
        }
        assert!(lock(&cache.gates).is_empty(), "no gate left by a dropped load");
        assert_eq!(cache.get_or_load(&"made-up-0".to_owned(), || async { Ok::<_, ()>(Some(3)) }).await, Ok(Some(Arc::new(3))));
    }

    #[tokio::test]
    async fn misses_are_not_cached_and_expired_entries_reload() {
        let cache: TtlCache<&str, i32> = TtlCache::new(Duration::ZERO);
        assert_eq!(cache.get_or_load(&"k", || async { Ok::<_, ()>(None) }).await, Ok(None));
        let _ = cache.get_or_load(&"k", || async { Ok::<_, ()>(Some(1)) }).await;
        assert_eq!(cache.get_or_load(&"k", || async { Ok::<_, ()>(Some(2)) }).await, Ok(Some(Arc::new(2))));
    }
}
