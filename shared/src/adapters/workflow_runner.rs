//! The workflow runner as deployed, built the same way by the runner Lambda and the admin
//! tool's replay: connections read from the table and called over HTTPS, run records in the
//! table, real waits between retries, connection secrets from Secrets Manager.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use super::dynamo_workflows::DynamoWorkflows;
use super::http_connectors::HttpConnectors;
use super::secrets_manager::SecretsManager;
use crate::domain::workflow::runner::Runner;
use crate::ports::{Pause, StoreError};
use crate::secrets::{CachedSecrets, SecretRef};

/// Waiting between retries: really waiting.
pub struct Sleep;

#[async_trait]
impl Pause for Sleep {
    async fn pause(&self, seconds: u64) {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

/// Connection secrets, each kept for `ttl`. (The runner never reads the bridge's own secret.)
pub fn connection_secrets(client: aws_sdk_secretsmanager::Client, ttl: Duration) -> Arc<CachedSecrets> {
    Arc::new(CachedSecrets::new(Arc::new(SecretsManager::new(client)), SecretRef(String::new()), ttl))
}

/// A runner over the connections the table holds now.
pub async fn runner(store: Arc<DynamoWorkflows>, secrets: Arc<CachedSecrets>, pause: Arc<dyn Pause>) -> Result<Runner, StoreError> {
    let connectors = HttpConnectors::new(store.connections().await?, secrets).map_err(|e| StoreError::Unavailable(format!("HTTPS client: {e}")))?;
    Ok(Runner { connectors: Arc::new(connectors), runs: store.clone(), dead_letters: store, pause })
}
