//! What the runner needs, built at cold start: the table (flows, connections, runs) and the
//! secrets cache. Flows and connections are read once per stream batch, so a change is seen by
//! the next batch.

use shared::adapters::dynamo::daily::DynamoDailyCounts;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::workflow_runner::{StepServices, connection_secrets, runner};
use shared::common::secrets::CachedSecrets;
use shared::common::store::StoreError;
use shared::config::{Source, required};
use shared::events::daily::DailyCounts;
use shared::workflows::flow::Flow;
use shared::workflows::runner::Pause;
use shared::workflows::runner::Runner;
use std::sync::Arc;
use std::time::Duration;

pub struct Workflows {
    pub store: Arc<DynamoWorkflows>,
    /// The overview's daily counters, added to once per batch.
    pub daily: Arc<dyn DailyCounts>,
    pub secrets: Arc<CachedSecrets>,
    pub pause: Arc<dyn Pause>,
    /// Cognito steps' connector (`USER_POOL_ID`) and email steps' (`EMAIL_FROM`,
    /// `EMAIL_IDENTITY_ARN`); a step whose connector is not configured fails.
    pub services: StepServices,
}

impl Workflows {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig, pause: Arc<dyn Pause>) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let daily = Arc::new(DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(300));
        let services = StepServices::from_env(env, sdk, &table)?;
        Ok(Self { store, daily, secrets, pause, services })
    }

    /// The enabled flows and a runner over the current connections.
    pub async fn load(&self) -> Result<(Vec<Flow>, Runner), StoreError> {
        let flows: Vec<Flow> = self.store.flows().await?.into_iter().filter(|f| f.enabled).collect();
        Ok((flows, runner(self.store.clone(), self.secrets.clone(), self.pause.clone(), self.services.clone()).await?))
    }
}
