//! An `OrgDirectory` that keeps organisations (by id, and which one owns a domain) for a TTL in
//! front of an `OrgStore`, so that warm invocations read no DynamoDB. Changes are seen within
//! the TTL; unknown domains are not cached (a newly added domain works at once).

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::common::store::StoreError;
use crate::directory::org::{EmailDomain, OrgId, Organisation};
use crate::directory::ports::{OrgDirectory, OrgStore};

/// How long organisations are kept where no setting says otherwise (the login function's
/// `ORGS_TTL_SECONDS` defaults to the same): account linking in the triggers and workflows.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// Generic over the store so that a function that names its store (the login function's
/// `DynamoOrgs`) carries only the two reads it makes, not the store's writes.
pub struct CachedOrgs<S: ?Sized = dyn OrgStore> {
    inner: Arc<S>,
    cache: TtlCache<OrgId, Organisation>,
    owners: TtlCache<EmailDomain, OrgId>,
}

impl<S: OrgStore + ?Sized> CachedOrgs<S> {
    pub fn new(inner: Arc<S>, ttl: Duration) -> Self {
        Self { inner, cache: TtlCache::new(ttl), owners: TtlCache::new(ttl) }
    }
}

#[async_trait]
impl<S: OrgStore + ?Sized> OrgDirectory for CachedOrgs<S> {
    async fn org(&self, id: &OrgId) -> Result<Option<Arc<Organisation>>, StoreError> {
        self.cache.get_or_load(id, || self.inner.get(id)).await
    }

    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<Arc<Organisation>>, StoreError> {
        let Some(id) = self.owners.get_or_load(domain, || self.inner.owner_of(domain)).await? else { return Ok(None) };
        self.org(&id).await
    }

    /// Dropping the sealed copy also forgets the organisation held here, so this instance's next
    /// callback does not open the copy again. (Keeping one needs no such thing: the instance
    /// holds the value it sealed.)
    async fn set_sealed_secret(&self, org: &OrgId, version: u64, sealed: Option<&str>) -> Result<(), StoreError> {
        let written = self.inner.set_sealed_secret(org, version, sealed).await;
        if sealed.is_none() {
            self.cache.invalidate(org);
        }
        written
    }
}
