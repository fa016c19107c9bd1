//! The `key` commands' calls: `shared::admin::keys` (the same rotation, audit records and
//! secret handling as the admin API), as `Actor::cli()`, with errors as `anyhow` messages.

use anyhow::Result;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::secrets_manager::SecretsManager;
use shared::admin::audit::Actor;
use shared::admin::keys::KeysAdmin;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::{KeySet, PublishedKey};
use std::sync::Arc;

pub struct Keys {
    admin: KeysAdmin,
    actor: Actor,
}

impl Keys {
    /// The key set in `table`, private keys named `{prefix}/signing-keys/{kid}`.
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: impl Into<String>) -> Self {
        let store = Arc::new(DynamoKeys::new(aws_sdk_dynamodb::Client::new(sdk), table, std::time::Duration::ZERO));
        let vault = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk)));
        Self { admin: KeysAdmin { store, vault, prefix: prefix.into() }, actor: Actor::cli() }
    }

    pub async fn list(&self) -> Result<KeySet> {
        Ok(self.admin.list().await?)
    }

    /// A new `alg` key (see `KeysAdmin::rotate`).
    pub async fn rotate(&self, alg: Algorithm, lead: u64, now: u64) -> Result<PublishedKey> {
        Ok(self.admin.rotate(&self.actor, alg, lead, now).await?)
    }

    /// Removes keys that are no longer published, then their secrets. Returns their ids.
    pub async fn prune(&self, now: u64) -> Result<Vec<String>> {
        Ok(self.admin.prune(&self.actor, now).await?)
    }
}
