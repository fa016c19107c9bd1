//! A small async TTL cache for configuration and secrets that are read on every request but
//! change rarely. It keeps warm invocations free of DynamoDB and Secrets Manager calls.
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
}

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
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
        let Some(value) = load().await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.lock().insert(key.clone(), (Instant::now(), value.clone()));
        Ok(Some(value))
    }

    /// Forgets `key`, so the next read loads it again.
    pub fn invalidate(&self, key: &K) {
        self.lock().remove(key);
    }

    fn fresh(&self, key: &K) -> Option<Arc<V>> {
        let entries = self.lock();
        let (loaded, value) = entries.get(key)?;
        (loaded.elapsed() < self.ttl).then(|| value.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, Arc<V>)>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts), so a
        // poisoned lock is still safe to use.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
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
    async fn misses_are_not_cached_and_expired_entries_reload() {
        let cache: TtlCache<&str, i32> = TtlCache::new(Duration::ZERO);
        assert_eq!(cache.get_or_load(&"k", || async { Ok::<_, ()>(None) }).await, Ok(None));
        let _ = cache.get_or_load(&"k", || async { Ok::<_, ()>(Some(1)) }).await;
        assert_eq!(cache.get_or_load(&"k", || async { Ok::<_, ()>(Some(2)) }).await, Ok(Some(Arc::new(2))));
    }
}
