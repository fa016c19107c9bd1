//! What the runner needs, built at cold start: the table (flows, connections, runs) and the
//! secrets cache. Flows and connections are read once per stream batch, so a change is seen by
//! the next batch.

use async_trait::async_trait;
use shared::adapters::dynamo_workflows::DynamoWorkflows;
use shared::adapters::http_connectors::HttpConnectors;
use shared::adapters::secrets_manager::SecretsManager;
use shared::config::{Source, required};
use shared::domain::workflow::flow::Flow;
use shared::domain::workflow::runner::Runner;
use shared::ports::{Pause, StoreError};
use shared::secrets::{CachedSecrets, SecretRef};
use std::sync::Arc;
use std::time::Duration;

pub struct Workflows {
    pub store: Arc<DynamoWorkflows>,
    pub secrets: Arc<CachedSecrets>,
    pub pause: Arc<dyn Pause>,
}

/// Waiting between retries: really waiting.
pub struct Sleep;

#[async_trait]
impl Pause for Sleep {
    async fn pause(&self, seconds: u64) {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }
}

impl Workflows {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig, pause: Arc<dyn Pause>) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(sdk), table));
        let secrets_client = aws_sdk_secretsmanager::Client::new(sdk);
        // The runner reads connection secrets only; the bridge secret is not needed here.
        let secrets = Arc::new(CachedSecrets::new(Arc::new(SecretsManager::new(secrets_client)), SecretRef(String::new()), Duration::from_secs(300)));
        Ok(Self { store, secrets, pause })
    }

    /// The enabled flows and a runner over the current connections.
    pub async fn load(&self) -> Result<(Vec<Flow>, Runner), StoreError> {
        let flows: Vec<Flow> = self.store.flows().await?.into_iter().filter(|f| f.enabled).collect();
        let connections = self.store.connections().await?;
        let connectors = HttpConnectors::new(connections, self.secrets.clone()).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let runner = Runner { connectors: Arc::new(connectors), runs: self.store.clone(), dead_letters: self.store.clone(), pause: self.pause.clone() };
        Ok((flows, runner))
    }
}
