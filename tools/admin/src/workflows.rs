//! Flows and connections for the operator: import (checked whole, optimistic on the version),
//! export, enable and disable, test against a sample event without side effects, list failed
//! runs and replay them. A connection's secret goes to Secrets Manager as
//! `{prefix}/workflows/{name}`; the table keeps only its ARN.

use anyhow::{Context, Result, bail};
use secrecy::SecretString;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::adapters::workflow_runner::{Sleep, connection_secrets, runner};
use shared::common::store::StoreError;
use shared::events::IdentityEvent;
use shared::workflows::connection::Connection;
use shared::workflows::flow::Flow;
use shared::workflows::inactivity::inactive_event;
use shared::workflows::runner::{Preview, RunRecord, Runner};
use shared::workflows::user_actions::UserActions;
use std::sync::Arc;
use std::time::Duration;

pub struct Workflows {
    pub store: Arc<DynamoWorkflows>,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub prefix: String,
    /// Cognito steps' connector for replays (the pool from `USER_POOL_ID`).
    pub users: Option<Arc<UserActions>>,
}

impl Workflows {
    pub async fn flow(&self, id: &str) -> Result<Flow> {
        self.store.flows().await?.into_iter().find(|f| f.id == id).with_context(|| format!("no flow `{id}`"))
    }

    /// Imports `flow` as a new flow or over the current version of the same id.
    pub async fn import(&self, mut flow: Flow) -> Result<Flow> {
        flow.validate()?;
        let connections = self.store.connections().await?;
        for step in &flow.steps {
            let Some(connection) = step.action.http_call().map(|call| call.connection) else { continue };
            if !connections.iter().any(|c| c.name == connection) {
                bail!("step `{}` names connection `{connection}`, which does not exist (import it first)", step.id);
            }
        }
        let current = self.store.flows().await?.into_iter().find(|f| f.id == flow.id).map_or(0, |f| f.version);
        flow.version = current + 1;
        match self.store.save_flow(&flow).await {
            Ok(()) => Ok(flow),
            Err(StoreError::Conflict) => bail!("flow `{}` changed meanwhile; import again", flow.id),
            Err(e) => Err(e).context("writing the flow"),
        }
    }

    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result<Flow> {
        let mut flow = self.flow(id).await?;
        flow.enabled = enabled;
        flow.version += 1;
        self.store.save_flow(&flow).await.context("writing the flow (it may have changed meanwhile)")?;
        Ok(flow)
    }

    /// What `id` would do for `event`, without calling anything or recording anything.
    pub async fn test(&self, id: &str, event: &IdentityEvent) -> Result<Preview> {
        Ok(Runner::preview(&self.flow(id).await?, event))
    }

    /// Stores the connection, with `secret` (if given) as its auth secret.
    pub async fn import_connection(&self, mut connection: Connection, secret: Option<&SecretString>) -> Result<Connection> {
        if let Some(secret) = secret {
            let name = format!("{}/workflows/{}", self.prefix, connection.name);
            let secret_ref = crate::put_secret(&self.secrets, &name, &format!("Secret of workflow connection {}", connection.name), secret).await?;
            if !connection.auth.set_secret(secret_ref) {
                bail!("this connection has no secret (auth type none)");
            }
        }
        connection.validate()?;
        self.store.save_connection(&connection).await.context("writing the connection")?;
        Ok(connection)
    }

    pub async fn failed(&self) -> Result<Vec<RunRecord>> {
        Ok(self.store.failed_runs().await?)
    }

    /// The dry run of a `user.inactive` flow: each person it would act on now (inactive for its
    /// days, matching its condition) and the steps as they would be sent.
    pub async fn report(&self, id: &str, now: u64, limit: usize) -> Result<Vec<serde_json::Value>> {
        let flow = self.flow(id).await?;
        let days = flow.inactive_days.with_context(|| format!("flow `{id}` is not a user.inactive flow"))?;
        let people = self.store.inactive_now(days, now, limit).await?;
        let lines = people.iter().filter_map(|person| {
            let event = inactive_event(person, days, now);
            let preview = Runner::preview(&Flow { enabled: true, ..flow.clone() }, &event);
            preview.applies.then(|| serde_json::json!({"username": person.username, "email": person.email, "last_sign_in": person.at, "steps": preview.steps}))
        });
        Ok(lines.collect())
    }

    /// Runs a failed run again from its failed step, with the flow as it is now.
    pub async fn replay(&self, run_id: &str, now: u64) -> Result<RunRecord> {
        let run = self.store.run(run_id).await?.with_context(|| format!("no run `{run_id}`"))?;
        let event = self.store.event(&run.event_id).await?.context("the run's event has expired (events are kept 7 days)")?;
        let flow = self.flow(&run.flow_id).await?;
        let runner = runner(self.store.clone(), connection_secrets(self.secrets.clone(), Duration::from_secs(60)), Arc::new(Sleep), self.users.clone()).await?;
        Ok(runner.replay(&flow, &event, run, now).await?)
    }
}
