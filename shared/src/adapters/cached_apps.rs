//! An `AppDirectory` that keeps apps for a TTL in front of another one, so that warm
//! invocations read no DynamoDB. Updates are seen within the TTL.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::common::store::StoreError;
use crate::tokens::app::{App, AppId};
use crate::tokens::ports::AppDirectory;

pub struct CachedApps {
    inner: Arc<dyn AppDirectory>,
    cache: TtlCache<AppId, App>,
}

impl CachedApps {
    pub fn new(inner: Arc<dyn AppDirectory>, ttl: Duration) -> Self {
        Self { inner, cache: TtlCache::new(ttl) }
    }
}

#[async_trait]
impl AppDirectory for CachedApps {
    async fn app(&self, id: &AppId) -> Result<Option<Arc<App>>, StoreError> {
        let load = || async { Ok(self.inner.app(id).await?.map(Arc::unwrap_or_clone)) };
        self.cache.get_or_load(id, load).await
    }

    /// Read through: a list is rare (the account page) and must show apps added meanwhile.
    async fn list(&self) -> Result<Vec<App>, StoreError> {
        self.inner.list().await
    }
}
