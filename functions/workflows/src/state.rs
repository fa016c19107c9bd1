//! What the runner needs, built at cold start: the table (flows, connections, runs) and the
//! secrets cache; and what telling clients of ended sessions needs (apps, signing keys). Flows and connections are read once per stream batch, so a change is seen by
//! the next batch.

use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::dynamo::daily::DynamoDailyCounts;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::http::backchannel::HttpLogoutChannel;
use shared::adapters::workflow_runner::{StepServices, connection_secrets, runner};
use shared::common::secrets::CachedSecrets;
use shared::common::store::StoreError;
use shared::config::{Source, required};
use shared::events::daily::DailyCounts;
use shared::signin::openid_provider::backchannel::BackchannelLogout;
use shared::tokens::signing_keys::{KEY_SET_CACHE, Signers};
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
    /// Tells OpenID Connect clients of the bridge sessions that ended (`PUBLIC_API_URL`, the
    /// issuer; unset: no one is told).
    pub logouts: BackchannelLogout,
}

impl Workflows {
    pub fn new(env: &impl Source, sdk: &aws_config::SdkConfig, pause: Arc<dyn Pause>) -> Result<Self, shared::config::ConfigError> {
        let table = required(env, "TABLE_NAME")?;
        let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let daily = Arc::new(DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(sdk), &table));
        let secrets = connection_secrets(aws_sdk_secretsmanager::Client::new(sdk), Duration::from_secs(300));
        let services = StepServices::from_env(env, sdk, &table)?;
        let issuer = shared::config::issuer(shared::config::public_api_url(env)?.as_ref());
        let logouts =
            logouts(sdk, &table, secrets.clone(), issuer).map_err(|problem| shared::config::ConfigError { variable: "(HTTPS client)".into(), problem })?;
        Ok(Self { store, daily, secrets, pause, services, logouts })
    }

    /// The enabled flows and a runner over the current connections.
    pub async fn load(&self) -> Result<(Vec<Flow>, Runner), StoreError> {
        let flows: Vec<Flow> = self.store.flows().await?.into_iter().filter(|f| f.enabled).collect();
        Ok((flows, runner(self.store.clone(), self.secrets.clone(), self.pause.clone(), self.services.clone()).await?))
    }
}

/// Telling clients of ended sessions as `issuer` (empty: no one is told): apps and the key set
/// from `table`, the signing keys through `secrets`, each post within 10 seconds.
pub fn logouts(sdk: &aws_config::SdkConfig, table: &str, secrets: Arc<CachedSecrets>, issuer: String) -> Result<BackchannelLogout, String> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let http = shared::adapters::http::client(Duration::from_secs(2), Duration::from_secs(10)).map_err(|e| e.to_string())?;
    Ok(BackchannelLogout {
        apps: Arc::new(DynamoApps::new(dynamo.clone(), table)),
        signers: Arc::new(Signers::new(Arc::new(DynamoKeys::new(dynamo, table, Duration::from_secs(KEY_SET_CACHE))), secrets)),
        channel: Arc::new(HttpLogoutChannel::new(http)),
        issuer,
    })
}
