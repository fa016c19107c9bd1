//! The workflow runner as deployed, built the same way by the runner Lambda and the operators'
//! replay ([`DeployedReplayer`], for the admin API and `bridge-admin`): connections read from the table and called over HTTPS, Cognito steps on the
//! bridge's pool (when one is configured), run records in the table, real waits between
//! retries, connection secrets from Secrets Manager.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::cached_orgs::CachedOrgs;
use crate::adapters::cognito::directory::CognitoDirectory;
use crate::adapters::dynamo::orgs::DynamoOrgs;
use crate::adapters::dynamo::sessions::DynamoSessions;
use crate::adapters::dynamo::workflows::DynamoWorkflows;
use crate::adapters::http::connectors::HttpConnectors;
use crate::adapters::secrets_manager::SecretsManager;
use crate::common::secrets::{CachedSecrets, SecretRef};
use crate::common::store::StoreError;
use crate::workflows::flow::Action;
use crate::workflows::runner::{Connectors, Pause};
use crate::workflows::runner::{Runner, StepOutcome};
use crate::workflows::user_actions::UserActions;

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

/// The Cognito connector over the pool `pool_id` and the bridge's sessions in `table`.
pub fn user_actions(sdk: &aws_config::SdkConfig, pool_id: &str, table: &str) -> Arc<UserActions> {
    let directory = Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), pool_id));
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sessions = Arc::new(DynamoSessions::new(dynamo.clone(), table));
    let orgs = Arc::new(CachedOrgs::new(Arc::new(DynamoOrgs::new(dynamo, table)), crate::adapters::cached_orgs::DEFAULT_TTL));
    Arc::new(UserActions { directory: directory.clone(), pool: directory.clone(), linker: directory, sessions, orgs })
}

/// A step's connector: HTTP ones, and Cognito when a pool is configured.
struct StepConnectors {
    http: HttpConnectors,
    users: Option<Arc<UserActions>>,
}

#[async_trait]
impl Connectors for StepConnectors {
    async fn call(&self, action: &Action) -> StepOutcome {
        match (action, &self.users) {
            (Action::Cognito { .. }, Some(users)) => UserActions::call(users, action).await,
            (Action::Cognito { .. }, None) => StepOutcome::Failed("no user pool is configured for Cognito steps (USER_POOL_ID)".into()),
            _ => self.http.call(action).await,
        }
    }
}

/// A runner over the connections the table holds now.
pub async fn runner(
    store: Arc<DynamoWorkflows>,
    secrets: Arc<CachedSecrets>,
    pause: Arc<dyn Pause>,
    users: Option<Arc<UserActions>>,
) -> Result<Runner, StoreError> {
    let http = HttpConnectors::new(store.connections().await?, secrets).map_err(|e| StoreError::Unavailable(format!("HTTPS client: {e}")))?;
    Ok(Runner { connectors: Arc::new(StepConnectors { http, users }), runs: store.clone(), dead_letters: store, pause, deadline: None })
}

/// Replays over the connections the table holds at the time of each replay.
pub struct DeployedReplayer {
    pub store: Arc<DynamoWorkflows>,
    pub secrets: Arc<CachedSecrets>,
    /// The Cognito connector, when a pool is configured.
    pub users: Option<Arc<UserActions>>,
}

#[async_trait]
impl crate::admin::ports::Replayer for DeployedReplayer {
    async fn replay(
        &self,
        flow: &crate::workflows::flow::Flow,
        event: &crate::events::IdentityEvent,
        run: crate::workflows::runner::RunRecord,
        now: u64,
    ) -> Result<crate::workflows::runner::RunRecord, StoreError> {
        let runner = runner(self.store.clone(), self.secrets.clone(), Arc::new(Sleep), self.users.clone()).await?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(crate::admin::workflows::REPLAY_SECONDS);
        Runner { deadline: Some(deadline), ..runner }.replay(flow, event, run, now).await
    }
}
