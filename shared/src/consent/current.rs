//! The current version of each document, as the sign-in functions hold it: read once per
//! cache period per instance (one `Query`), so that a warm sign-in checks consent without a
//! call. A failed read serves the documents held, if any.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::common::store::StoreError;
use crate::consent::document::{ConsentDocument, current};
use crate::consent::ports::ConsentStore;

pub struct CurrentDocuments {
    /// Where documents and decisions are kept.
    pub store: Arc<dyn ConsentStore>,
    cache: TtlCache<(), Vec<ConsentDocument>>,
}

impl CurrentDocuments {
    /// `ttl`: how long a read is used (a newly published version reaches sign-ins within it).
    pub fn new(store: Arc<dyn ConsentStore>, ttl: Duration) -> Self {
        Self { store, cache: TtlCache::new(ttl) }
    }

    /// The current version of each document, in name order (none published: empty).
    pub async fn get(&self) -> Result<Arc<Vec<ConsentDocument>>, StoreError> {
        let loaded = self.cache.get_or_load(&(), || async { self.store.documents().await.map(|all| Some(current(&all))) }).await;
        match (loaded, self.cache.held(&())) {
            (Ok(Some(documents)), _) => Ok(documents),
            (Err(e), Some(held)) => {
                tracing::warn!(error = %e, "could not read the consent documents; using those held");
                Ok(held)
            }
            (Err(e), None) => Err(e),
            (Ok(None), _) => Ok(Arc::default()),
        }
    }
}
