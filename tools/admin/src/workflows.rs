//! The `flow` commands' calls: `shared::admin::workflows` (the same rules, audit records and
//! secret handling as the admin API), as `Actor::cli()`, with errors as `anyhow` messages.

use anyhow::Result;
use secrecy::SecretString;
use shared::adapters::dynamo::audit::DynamoAudit;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::secrets_manager::SecretsManager;
use shared::adapters::workflow_runner::{DeployedReplayer, StepServices, connection_secrets};
use shared::admin::audit::Actor;
use shared::admin::workflows::{ConnectionSettings, RunQuery, WorkflowsAdmin};
use shared::events::IdentityEvent;
use shared::workflows::connection::Connection;
use shared::workflows::flow::Flow;
use shared::workflows::runner::{Preview, RunRecord};
use std::sync::Arc;
use std::time::Duration;

pub struct Workflows {
    /// The table's workflows without the operators' rules (the inactivity scan, tests).
    pub store: Arc<DynamoWorkflows>,
    pub admin: WorkflowsAdmin,
    actor: Actor,
}

impl Workflows {
    /// The workflows in `table`, connection secrets named `{prefix}/workflows/{name}`; replays
    /// act through `services` (a step whose service is missing fails).
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: impl Into<String>, services: StepServices) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let secrets = aws_sdk_secretsmanager::Client::new(sdk);
        let store = Arc::new(DynamoWorkflows::new(dynamo.clone(), table));
        let replayer = Arc::new(DeployedReplayer { store: store.clone(), secrets: connection_secrets(secrets.clone(), Duration::from_secs(60)), services });
        let admin = WorkflowsAdmin {
            store: store.clone(),
            vault: Arc::new(SecretsManager::new(secrets)),
            replayer,
            audit: Arc::new(DynamoAudit::new(dynamo, table)),
            prefix: prefix.into(),
        };
        Self { store, admin, actor: Actor::cli() }
    }

    pub async fn flow(&self, id: &str) -> Result<Flow> {
        Ok(self.admin.flow(id).await?)
    }

    /// Imports `flow` as a new flow or over the current version of the same id.
    pub async fn import(&self, flow: Flow, now: u64) -> Result<Flow> {
        Ok(self.admin.import(&self.actor, flow, now).await?)
    }

    pub async fn set_enabled(&self, id: &str, enabled: bool, now: u64) -> Result<Flow> {
        Ok(self.admin.set_enabled(&self.actor, id, enabled, None, now).await?)
    }

    /// What `id` would do for `event`, without calling anything or recording anything.
    pub async fn test(&self, id: &str, event: &IdentityEvent) -> Result<Preview> {
        Ok(self.admin.test(id, event).await?)
    }

    /// Stores `connection` (new, or over the one stored now) with `secret`, if given, as its
    /// secret; a file's `auth.secret` is ignored (secrets come from stdin).
    pub async fn import_connection(&self, connection: Connection, secret: Option<&SecretString>, now: u64) -> Result<Connection> {
        let current = self.admin.store.connection(&connection.name).await?.map(|c| c.version);
        let settings =
            ConnectionSettings { base_url: connection.base_url, auth: connection.auth.settings(), headers: connection.headers, secret: secret.cloned() };
        Ok(self.admin.save_connection(&self.actor, &connection.name, settings, current, now).await?)
    }

    /// The newest failed runs (up to 100).
    pub async fn failed(&self) -> Result<Vec<RunRecord>> {
        Ok(self.admin.failed(&RunQuery { cursor: None, limit: Some(100) }).await?.runs)
    }

    /// The dry run of a `user.inactive` flow, audited (see `WorkflowsAdmin::report`).
    pub async fn report(&self, id: &str, now: u64, limit: usize) -> Result<Vec<serde_json::Value>> {
        Ok(self.admin.report(&self.actor, id, now, limit).await?)
    }

    /// Runs a failed run again from its failed step, with the flow as it is now.
    pub async fn replay(&self, run_id: &str, now: u64) -> Result<RunRecord> {
        Ok(self.admin.replay(&self.actor, run_id, now).await?)
    }
}
