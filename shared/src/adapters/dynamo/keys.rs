//! Our signing key set (`tokens::signing_keys`) in the bridge's table: one item, so the
//! sign-in path reads it with one `GetItem` and keeps it for a short TTL.
//!
//! | item    | `pk`   | `sk`   | other attributes                 |
//! |---------|--------|--------|----------------------------------|
//! | key set | `KEYS` | `KEYS` | `version` (N), `data` (JSON)     |
//!
//! The private keys are not here: each `PublishedKey` names its Secrets Manager secret.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::dynamo::{Item, Table, corrupt, data, s, version};
use crate::cache::TtlCache;
use crate::common::store::StoreError;
use crate::tokens::signing_keys::KeySet;
use crate::tokens::signing_keys::{KeyAdmin, KeyStore};

pub struct DynamoKeys {
    table: Table,
    cache: TtlCache<(), KeySet>,
}

impl DynamoKeys {
    /// `cache`: how long a read key set is kept (zero for the admin tool).
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, cache: Duration) -> Self {
        Self { table: Table::new(client, table), cache: TtlCache::new(cache) }
    }
}

fn key() -> Item {
    HashMap::from([("pk".into(), s("KEYS")), ("sk".into(), s("KEYS"))])
}

#[async_trait]
impl KeyStore for DynamoKeys {
    async fn key_set(&self) -> Result<Arc<KeySet>, StoreError> {
        // No key set yet is not cached: the first key is seen as soon as it is created.
        let load = || async {
            let Some(item) = self.table.get_item(key()).await? else { return Ok(None) };
            let set: KeySet = data(&item, "key set")?;
            Ok(Some(KeySet { version: version(&item).unwrap_or(set.version), ..set }))
        };
        Ok(self.cache.get_or_load(&(), load).await?.unwrap_or_default())
    }
}

#[async_trait]
impl KeyAdmin for DynamoKeys {
    async fn save(&self, set: &KeySet) -> Result<(), StoreError> {
        let mut item = key();
        item.insert("data".into(), s(serde_json::to_string(set).map_err(corrupt)?));
        self.table.put_versioned(item, set.version).await?;
        self.cache.invalidate(&());
        Ok(())
    }
}
