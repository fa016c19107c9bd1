//! Our signing key set (`tokens::signing_keys`) in the bridge's table: one item, so the
//! sign-in path reads it with one `GetItem` and keeps it for a short TTL.
//!
//! | item    | `pk`   | `sk`   | other attributes                 |
//! |---------|--------|--------|----------------------------------|
//! | key set | `KEYS` | `KEYS` | `version` (N), `data` (JSON)     |
//!
//! The private keys are not here: each `PublishedKey` names its Secrets Manager secret. An
//! operator's change writes the set with its audit record in one transaction (`AuditedKeys`).

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::{Item, Table, corrupt, data, n, s, version, version_condition};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedKeys;
use crate::cache::TtlCache;
use crate::common::store::StoreError;
use crate::tokens::signing_keys::KeySet;
use crate::tokens::signing_keys::KeyStore;

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

impl DynamoKeys {
    /// The stored key set, if there is one.
    async fn read(&self) -> Result<Option<KeySet>, StoreError> {
        let Some(item) = self.table.get_item(key()).await? else { return Ok(None) };
        let set: KeySet = data(&item, "key set")?;
        Ok(Some(KeySet { version: version(&item).unwrap_or(set.version), ..set }))
    }
}

fn item(set: &KeySet) -> Result<Item, StoreError> {
    let mut item = key();
    item.insert("data".into(), s(serde_json::to_string(set).map_err(corrupt)?));
    item.insert("version".into(), n(set.version));
    Ok(item)
}

#[async_trait]
impl KeyStore for DynamoKeys {
    async fn key_set(&self) -> Result<Arc<KeySet>, StoreError> {
        // No key set yet is not cached: the first key is seen as soon as it is created.
        Ok(self.cache.get_or_load(&(), || self.read()).await?.unwrap_or_default())
    }
}

#[async_trait]
impl AuditedKeys for DynamoKeys {
    async fn key_set(&self) -> Result<KeySet, StoreError> {
        Ok(self.read().await?.unwrap_or_default())
    }

    async fn save(&self, set: &KeySet, audit: &AuditRecord) -> Result<(), StoreError> {
        let (condition, values) = version_condition(set.version)?;
        let mut items = vec![self.table.put(item(set)?, condition, values)?];
        items.extend(audit_puts(&self.table, audit, None)?);
        self.table.transact(items).await.map_err(|e| e.or_conflict())?;
        self.cache.invalidate(&());
        Ok(())
    }
}
