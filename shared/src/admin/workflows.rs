//! Workflows as operators manage them, the same for the admin API and `bridge-admin flow`:
//! flows (create, new versions, enable, disable, test against a sample event, the inactivity
//! report), their connections (each new secret goes to the vault as its own secret,
//! `{prefix}/workflows/{name}/{UUIDv7}`, before the change ([`super::secret_change`]); the table
//! keeps only the reference), and runs (each flow's history, the failed ones, replay).
//!
//! Flow and connection changes are written in one transaction with their audit record, guarded
//! by the version. A replay calls outside systems, so it cannot share a transaction: it claims
//! the failed run first (two operators replaying the same run open one ticket, not two), runs
//! the steps that had not succeeded **once each** (the operator is waiting; the flow's retries
//! and their waits are for the runner), and is recorded as `admin.run.replayed` when it is done.

use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::audit::{Actor, AuditRecord};
pub use super::ports::RunPage;
use super::ports::{AuditLog, AuditedWorkflows, Replayer, SecretVault};
use super::secret_change::{self, Written};
use super::{AdminError, Check};
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;
use crate::events::{EventType, IdentityEvent};
use crate::workflows::connection::{AuthSettings, Connection};
use crate::workflows::flow::Flow;
use crate::workflows::inactivity::inactive_event;
use crate::workflows::runner::{Preview, RunRecord, RunStatus, Runner};

/// Most runs one page returns.
pub const MAX_RUNS_PAGE: usize = 100;
/// Most people the inactivity report lists.
pub const MAX_REPORT: usize = 1000;
/// How long a claimed replay keeps others off the run (seconds): after that, a replay that
/// never finished (its function stopped) may be claimed again.
pub const REPLAY_CLAIM_SECONDS: u64 = 300;
/// How long a replay runs at most (seconds): it starts no step it could not finish by then, and
/// records what it did. Under the admin function's timeout (240 s), so it is never cut off
/// unrecorded, and under [`REPLAY_CLAIM_SECONDS`], so no second replay runs its steps again
/// meanwhile.
pub const REPLAY_SECONDS: u64 = 200;
const _: () = assert!(REPLAY_SECONDS < REPLAY_CLAIM_SECONDS);

/// What an operator sets on a connection (the admin API's body): everything but its name and
/// version. `secret` is write only; an update without it keeps the stored one (the same kind of
/// authentication only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    pub base_url: String,
    pub auth: AuthSettings,
    #[serde(default)]
    pub headers: Map<String, Value>,
    #[serde(default)]
    pub secret: Option<SecretString>,
}

impl Check for ConnectionSettings {
    fn check(&self, name: &str) -> Result<(), AdminError> {
        let auth = self.auth.clone().into_auth(SecretRef(String::new()));
        let connection = Connection { name: name.to_owned(), base_url: self.base_url.clone(), auth, headers: self.headers.clone(), version: 1 };
        connection.validate().map_err(invalid)?;
        if self.secret.is_some() && connection.auth.secret().is_none() {
            return Err(AdminError::Invalid("this connection has no secret (auth type none)".into()));
        }
        super::non_blank(self.secret.as_ref(), "the connection's secret")
    }
}

impl Check for Flow {
    fn check(&self, id: &str) -> Result<(), AdminError> {
        if self.id != id {
            return Err(AdminError::Invalid(format!("the flow's id is `{}`, the path names `{id}`", self.id)));
        }
        self.validate().map_err(invalid)
    }
}

/// A page of runs: newest first, from `cursor` (a previous page's `next_cursor`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    pub cursor: Option<String>,
    /// 1 to [`MAX_RUNS_PAGE`]; none: 50.
    pub limit: Option<usize>,
}

impl RunQuery {
    /// The page size, if the query is valid: the cursor is `{started, 20 digits}_{run id, 32 lowercase hex}`.
    pub fn check(&self) -> Result<usize, AdminError> {
        if let Some(cursor) = &self.cursor {
            let valid = cursor.split_once('_').is_some_and(|(at, id)| {
                at.len() == 20 && at.bytes().all(|b| b.is_ascii_digit()) && id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            if !valid {
                return Err(AdminError::Invalid("cursor is not one this API gave".into()));
            }
        }
        match self.limit {
            None => Ok(50),
            Some(limit) if (1..=MAX_RUNS_PAGE).contains(&limit) => Ok(limit),
            Some(_) => Err(AdminError::Invalid(format!("limit is 1 to {MAX_RUNS_PAGE}"))),
        }
    }
}

/// A connection as operators see it: its secret's reference replaced by `has_secret`.
pub fn connection_view(connection: &Connection) -> Value {
    super::secret_as_flag(serde_json::to_value(connection).unwrap_or_default())
}

pub struct WorkflowsAdmin {
    pub store: Arc<dyn AuditedWorkflows>,
    pub vault: Arc<dyn SecretVault>,
    pub replayer: Arc<dyn Replayer>,
    pub audit: Arc<dyn AuditLog>,
    /// Secret names start with this (the stack name).
    pub prefix: String,
}

fn invalid(e: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(e.to_string())
}

fn flow_view(flow: &Flow) -> Value {
    serde_json::to_value(flow).unwrap_or_default()
}

impl WorkflowsAdmin {
    /// Every flow, in id order (one `gsi1` partition).
    pub async fn flows(&self) -> Result<Vec<Flow>, AdminError> {
        Ok(self.store.flows().await?)
    }

    pub async fn flow(&self, id: &str) -> Result<Flow, AdminError> {
        self.store.flow(id).await?.ok_or_else(|| AdminError::NotFound(format!("flow `{id}`")))
    }

    /// Stores `flow` as a new flow (version 1); `Exists` if its id is taken.
    pub async fn create_flow(&self, actor: &Actor, mut flow: Flow, now: u64) -> Result<Flow, AdminError> {
        flow.validate().map_err(invalid)?;
        self.check_connections(&flow).await?;
        flow.version = 1;
        let audit = AuditRecord::new(EventType::AdminFlowCreated, actor, format!("flow:{}", flow.id), None, Some(flow_view(&flow)), now);
        match self.store.save_flow(&flow, &audit).await {
            Err(StoreError::Conflict) => Err(AdminError::Exists(format!("flow `{}` exists already", flow.id))),
            other => other.map(|()| flow).map_err(AdminError::from),
        }
    }

    /// Replaces flow `id` (at `version`) with `flow`, whose id must be `id`.
    pub async fn update_flow(&self, actor: &Actor, id: &str, mut flow: Flow, version: u64, now: u64) -> Result<Flow, AdminError> {
        flow.check(id)?;
        self.check_connections(&flow).await?;
        let current = self.fresh(id, Some(version)).await?;
        flow.version = current.version + 1;
        self.save(EventType::AdminFlowUpdated, actor, &current, &flow, now).await?;
        Ok(flow)
    }

    /// `bridge-admin flow import`: a new flow, or a new version over the one stored now.
    pub async fn import(&self, actor: &Actor, flow: Flow, now: u64) -> Result<Flow, AdminError> {
        match self.store.flow(&flow.id).await? {
            None => self.create_flow(actor, flow, now).await,
            Some(current) => self.update_flow(actor, &current.id.clone(), flow, current.version, now).await,
        }
    }

    /// Enables or disables flow `id` (at `version`, or as stored now).
    pub async fn set_enabled(&self, actor: &Actor, id: &str, enabled: bool, version: Option<u64>, now: u64) -> Result<Flow, AdminError> {
        let current = self.fresh(id, version).await?;
        let flow = Flow { enabled, version: current.version + 1, ..current.clone() };
        let kind = if enabled { EventType::AdminFlowEnabled } else { EventType::AdminFlowDisabled };
        self.save(kind, actor, &current, &flow, now).await?;
        Ok(flow)
    }

    /// What flow `id` would do for `event`: nothing is called and nothing is recorded.
    pub async fn test(&self, id: &str, event: &IdentityEvent) -> Result<Preview, AdminError> {
        Ok(Runner::preview(&self.flow(id).await?, event))
    }

    /// The dry run of a `user.inactive` flow: each person it would act on now (inactive for its
    /// days, matching its condition, at most `limit`) and the steps as they would be sent. A
    /// list of people and their emails: each read is recorded (`admin.flow.reported`, target
    /// `flow:{id}`) before it is answered.
    ///
    /// Errors: [`AdminError::NotFound`] for no such flow; [`AdminError::Invalid`] for a flow
    /// that is not a `user.inactive` one.
    pub async fn report(&self, actor: &Actor, id: &str, now: u64, limit: usize) -> Result<Vec<Value>, AdminError> {
        let flow = self.flow(id).await?;
        let days = flow.inactive_days.ok_or_else(|| AdminError::Invalid(format!("flow `{id}` is not a user.inactive flow")))?;
        let people = self.store.inactive_now(days, now, limit.min(MAX_REPORT)).await?;
        let enabled = Flow { enabled: true, ..flow };
        let lines = people.iter().filter_map(|person| {
            let preview = Runner::preview(&enabled, &inactive_event(person, days, now));
            preview.applies.then(|| json!({"username": person.username, "email": person.email, "last_sign_in": person.at, "steps": preview.steps}))
        });
        let lines: Vec<Value> = lines.collect();
        let read = json!({"people": lines.len(), "limit": limit});
        self.audit.record(&AuditRecord::new(EventType::AdminFlowReported, actor, format!("flow:{id}"), None, Some(read), now), None).await?;
        Ok(lines)
    }

    /// Every connection, in name order (one `gsi1` partition).
    pub async fn connections(&self) -> Result<Vec<Connection>, AdminError> {
        Ok(self.store.connections().await?)
    }

    pub async fn connection(&self, name: &str) -> Result<Connection, AdminError> {
        self.store.connection(name).await?.ok_or_else(|| AdminError::NotFound(format!("connection `{name}`")))
    }

    /// Creates connection `name` (`version` none) or replaces it at `version`, with `secret` (if
    /// given) as its new secret. A new connection that authenticates needs its secret.
    pub async fn save_connection(
        &self,
        actor: &Actor,
        name: &str,
        settings: ConnectionSettings,
        version: Option<u64>,
        now: u64,
    ) -> Result<Connection, AdminError> {
        settings.check(name)?;
        let current = match version {
            None => None,
            Some(version) => {
                let current = self.connection(name).await?;
                if current.version != version {
                    return Err(AdminError::Stale { current: current.version });
                }
                Some(current)
            }
        };
        let kept = current.as_ref().and_then(|c| c.auth.secret().cloned()).unwrap_or(SecretRef(String::new()));
        let auth = settings.auth.into_auth(kept);
        let same_kind = current.as_ref().is_some_and(|c| std::mem::discriminant(&c.auth) == std::mem::discriminant(&auth));
        let mut connection = Connection {
            name: name.to_owned(),
            base_url: settings.base_url,
            auth,
            headers: settings.headers,
            version: current.as_ref().map_or(1, |c| c.version + 1),
        };
        if settings.secret.is_none() && connection.auth.secret().is_some() && !same_kind {
            return Err(AdminError::Invalid("a new connection, or a new kind of authentication, needs its secret".into()));
        }
        let moved = current.as_ref().is_some_and(|c| c.auth.sent_to(&c.base_url) != connection.auth.sent_to(&connection.base_url));
        if settings.secret.is_none() && moved {
            return Err(AdminError::Invalid("a connection's secret does not follow it to another host: enter it again".into()));
        }
        if current.is_none() && self.store.connection(name).await?.is_some() {
            return Err(AdminError::Exists(format!("connection `{name}` exists already")));
        }
        let created = match &settings.secret {
            Some(secret) => {
                let path = format!("{}/workflows/{name}", self.prefix);
                Some(secret_change::write(&*self.vault, &path, &format!("Secret of workflow connection {name}"), secret).await?)
            }
            None => None,
        };
        if let Some(created) = &created {
            connection.auth.set_secret(created.clone());
        }
        let kind = EventType::AdminConnectionSaved;
        let audit = AuditRecord::new(kind, actor, format!("connection:{name}"), current.as_ref().map(connection_view), Some(connection_view(&connection)), now);
        let written = self.store.save_connection(&connection, &audit).await;
        let before = current.as_ref().and_then(|c| c.auth.secret());
        secret_change::settle(&*self.vault, Written::of_store(&written), created.as_ref(), before, connection.auth.secret()).await;
        match written {
            Err(StoreError::Conflict) if current.is_none() => Err(AdminError::Exists(format!("connection `{name}` exists already"))),
            Err(StoreError::Conflict) => Err(AdminError::Stale { current: self.connection(name).await?.version }),
            other => other.map(|()| connection).map_err(AdminError::from),
        }
    }

    /// A page of flow `id`'s runs, newest first (`gsi2`, one partition per flow), read beside the
    /// flow (which must exist).
    pub async fn runs(&self, id: &str, query: &RunQuery) -> Result<RunPage, AdminError> {
        let size = query.check()?;
        let (flow, page) = tokio::join!(self.flow(id), self.store.runs(id, query.cursor.as_deref(), size));
        flow?;
        Ok(page?)
    }

    /// A page of the failed runs, newest first (`gsi1` `RUNS#failed`: the dead-letter list).
    pub async fn failed(&self, query: &RunQuery) -> Result<RunPage, AdminError> {
        let size = query.check()?;
        Ok(self.store.failed_runs(query.cursor.as_deref(), size).await?)
    }

    pub async fn run(&self, run_id: &str) -> Result<RunRecord, AdminError> {
        self.store.run(run_id).await?.ok_or_else(|| AdminError::NotFound(format!("run `{run_id}`")))
    }

    /// Runs failed run `run_id` again from its failed step, with the flow as it is now, one
    /// attempt per step; records `admin.run.replayed` with the outcome.
    pub async fn replay(&self, actor: &Actor, run_id: &str, now: u64) -> Result<RunRecord, AdminError> {
        let run = self.run(run_id).await?;
        if run.status != RunStatus::Failed {
            return Err(AdminError::Exists(format!("run `{run_id}` has not failed (it is {:?}); only failed runs are replayed", run.status).to_lowercase()));
        }
        let (event, flow) = tokio::join!(self.store.event(&run.event_id), self.flow(&run.flow_id));
        let event = event?.ok_or_else(|| AdminError::Invalid("the run's event has expired (events are kept 7 days); it cannot be replayed".into()))?;
        let mut flow = flow?;
        if let Some(why) = Runner::replay_refusal(&flow, &event, &run) {
            return Err(AdminError::Invalid(why));
        }
        for step in &mut flow.steps {
            step.retry.max_attempts = 1;
        }
        if !self.store.claim_replay(&run, now).await? {
            return Err(AdminError::Exists(format!("run `{run_id}` is being replayed already")));
        }
        let before = summary(&run);
        let replayed = self.replayer.replay(&flow, &event, RunRecord { flow_version: flow.version, ..run }, now).await?;
        let audit = AuditRecord::new(EventType::AdminRunReplayed, actor, format!("run:{run_id}"), Some(before), Some(summary(&replayed)), now);
        self.audit.record(&audit, None).await?;
        Ok(replayed)
    }

    /// Flow `id` as stored now, which must be at `version` (if one is named).
    async fn fresh(&self, id: &str, version: Option<u64>) -> Result<Flow, AdminError> {
        let current = self.flow(id).await?;
        match version {
            Some(version) if version != current.version => Err(AdminError::Stale { current: current.version }),
            _ => Ok(current),
        }
    }

    /// Every connection `flow`'s HTTP steps name exists.
    async fn check_connections(&self, flow: &Flow) -> Result<(), AdminError> {
        let connections = self.store.connections().await?;
        for step in &flow.steps {
            let Some(connection) = step.action.http_call().map(|call| call.connection) else { continue };
            if !connections.iter().any(|c| c.name == connection) {
                return Err(AdminError::Invalid(format!("step `{}` names connection `{connection}`, which does not exist (create it first)", step.id)));
            }
        }
        Ok(())
    }

    async fn save(&self, kind: EventType, actor: &Actor, current: &Flow, next: &Flow, now: u64) -> Result<(), AdminError> {
        let audit = AuditRecord::new(kind, actor, format!("flow:{}", next.id), Some(flow_view(current)), Some(flow_view(next)), now);
        match self.store.save_flow(next, &audit).await {
            Err(StoreError::Conflict) => Err(AdminError::Stale { current: self.flow(&next.id).await?.version }),
            other => Ok(other?),
        }
    }
}

/// A run as its audit record shows it: status and each step's outcome (already redacted).
fn summary(run: &RunRecord) -> Value {
    let steps: Vec<Value> = run.steps.iter().map(|s| json!({"id": s.id, "succeeded": s.succeeded, "attempts": s.attempts, "error": s.error})).collect();
    json!({"status": run.status, "flow": run.flow_id, "steps": steps})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_cursor_is_only_one_this_api_gives() {
        let ok = RunQuery { cursor: Some(format!("{:020}_{}", 1_700_000_000, "a".repeat(32))), limit: Some(10) };
        assert_eq!(ok.check().unwrap(), 10);
        for bad in ["", "x", "1700000000_abc", &format!("{:020}_{}", 1, "g".repeat(32)), &format!("{:020}#{}", 1, "a".repeat(32))] {
            assert!(RunQuery { cursor: Some(bad.into()), limit: None }.check().is_err(), "{bad}");
        }
        assert!(RunQuery { cursor: None, limit: Some(0) }.check().is_err());
        assert!(RunQuery { cursor: None, limit: Some(MAX_RUNS_PAGE + 1) }.check().is_err());
        assert_eq!(RunQuery::default().check().unwrap(), 50);
    }
}
