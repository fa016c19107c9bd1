//! What the runner needs, built at cold start: the table (flows, connections, runs) and the
//! secrets cache. Flows and connections are read once per stream batch, so a change is seen by
//! the next batch.

use shared::adapters::dynamo::daily::DynamoDailyCounts;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::workflow_runner::{connection_secrets, runner, user_actions};
use shared::common::secrets::CachedSecrets;
use shared::common::store::StoreError;
use shared::config::{Source, optional, required};
use shared::events::daily::DailyCounts;
use shared::workflows::flow::Flow;
use shared::workflows::runner::Pause;
use shared::workflows::runner::Runner;
use shared::workflows::user_actions::UserActions;
use std::sync::Arc;
use std::time::Duration;

pub struct Workflows {
    pub store: Arc<DynamoWorkflows>,
    /// The overview's daily counters, added to once per batch.
    pub daily: Arc<dyn DailyCounts>,
    pub secrets: Arc<CachedSecrets>,
    pub pause: Arc<dyn Pause>,
    /// Cognito steps' connector (`USER_POOL_ID`); without it Cognito steps fail.
    pub users: Option<Arc<UserActions>>,
}

impl Workflows {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig, pause: Arc<dyn Pause>) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let daily = Arc::new(DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(300));
        let users = optional(env, "USER_POOL_ID")?.filter(|p| !p.is_empty()).map(|pool| user_actions(sdk, &pool, &table));
        Ok(Self { store, daily, secrets, pause, users })
    }

    /// The enabled flows and a runner over the current connections.
    pub async fn load(&self) -> Result<(Vec<Flow>, Runner), StoreError> {
        let flows: Vec<Flow> = self.store.flows().await?.into_iter().filter(|f| f.enabled).collect();
        Ok((flows, runner(self.store.clone(), self.secrets.clone(), self.pause.clone(), self.users.clone()).await?))
    }
}
