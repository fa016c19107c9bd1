//! An `OrgDirectory` that keeps organisations for a TTL in front of an `OrgStore`, so that warm
//! invocations read no DynamoDB. Policy changes are seen within the TTL.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::domain::org::{OrgId, Organisation};
use crate::ports::{OrgDirectory, OrgStore, StoreError};

pub struct CachedOrgs {
    inner: Arc<dyn OrgStore>,
    cache: TtlCache<OrgId, Organisation>,
}

impl CachedOrgs {
    pub fn new(inner: Arc<dyn OrgStore>, ttl: Duration) -> Self {
        Self { inner, cache: TtlCache::new(ttl) }
    }
}

#[async_trait]
impl OrgDirectory for CachedOrgs {
    async fn org(&self, id: &OrgId) -> Result<Option<Arc<Organisation>>, StoreError> {
        self.cache.get_or_load(id, || self.inner.get(id)).await
    }
}
