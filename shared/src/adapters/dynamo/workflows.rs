//! Workflows in the bridge's table: flows and connections (written by the admin tool), identity
//! events (the outbox the table's stream delivers to the runner), and run records.
//!
//! | item       | `pk`                 | `sk`         | `gsi1pk`      | `gsi1sk`       | other attributes                        |
//! |------------|----------------------|--------------|---------------|----------------|-----------------------------------------|
//! | flow       | `FLOW#{id}`          | `FLOW`       | `FLOW`        | `{id}`         | `version` (N), `data` (JSON)            |
//! | connection | `CONNECTION#{name}`  | `CONNECTION` | `CONNECTION`  | `{name}`       | `version` (N), `data` (JSON)            |
//! | event      | `EVENT#{id}`         | `EVENT`      |               |                | `type`, `data` (JSON), `expires_at`     |
//! | run        | `RUN#{run id}`       | `RUN`        | `RUNS#failed` (failed runs only) | `{finished:020}#{run id}` | `status`, `data`, `expires_at`, `replay_until` |
//!
//! Every run is also in `gsi2` under `RUNS#flow#{flow id}`, sorted by `{started:020}#{run id}`:
//! a flow's run history, newest first, a page per `Query`. Pages of runs take a cursor
//! `{sort key}` with `_` for `#`, from which the start key is rebuilt (so a made-up cursor
//! cannot leave the partition).
//! | inactivity scan | `SCAN#inactive#{days}` | `SCAN` |            |                | `until`: the last sign-in cutoff scanned |
//!
//! Events are written once (`attribute_not_exists`): recording the same event twice is one
//! stream record. A run begins with a conditional put, so a redelivered event finds its run and
//! does nothing. Failed runs are listed through `gsi1` (the dead-letter list an operator replays
//! from). Events live 7 days and runs 30 days (`expires_at`, the table's TTL attribute).
//!
//! The daily inactivity scan (`record_inactive`) reads, per threshold of the enabled
//! `user.inactive` flows, only the people whose last sign-in (`adapters::activity`) crossed the
//! threshold since the previous scan, from that scan's cutoff; the first scan of a threshold
//! reads everyone before it (so enabling a flow reaches the people inactive already).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::adapters::aws::Failure;
use crate::adapters::dynamo::activity::signed_in_between;
use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::outbox::event_item;
use crate::adapters::dynamo::{GSI1, GSI2, Item, Table, corrupt, data, key, n, name_of, number, query_gsi1, query_page, s, version_condition};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedWorkflows;
use crate::admin::workflows::{REPLAY_CLAIM_SECONDS, RunPage};
use crate::common::store::StoreError;
use crate::events::EventLog;
use crate::events::IdentityEvent;
use crate::workflows::connection::Connection;
use crate::workflows::flow::Flow;
use crate::workflows::inactivity::{LastSignIn, cutoff, inactive_event, thresholds};
use crate::workflows::runner::{DeadLetters, RunStore};
use crate::workflows::runner::{RunRecord, RunStatus};

const RUN_TTL: u64 = 30 * 24 * 3600;
const FAILED_RUNS: &str = "RUNS#failed";
/// Most people one scan records per threshold.
pub const SCAN_LIMIT: usize = 5_000;
const NEW: Option<&str> = Some("attribute_not_exists(pk)");

pub struct DynamoWorkflows {
    table: Table,
}

/// A flow item, its version from the item's `version` attribute (authoritative over `data`).
fn flow_of(item: &Item) -> Result<Flow, StoreError> {
    Ok(Flow { version: crate::adapters::dynamo::version(item).unwrap_or(0), ..data(item, "flow")? })
}

/// A connection item, its version likewise (0 for one stored before connections had versions).
fn connection_of(item: &Item) -> Result<Connection, StoreError> {
    Ok(Connection { version: crate::adapters::dynamo::version(item).unwrap_or(0), ..data(item, "connection")? })
}

impl DynamoWorkflows {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// Records `event` (once: a second write of the same id is a no-op).
    pub async fn record(&self, event: &IdentityEvent) -> Result<(), StoreError> {
        match self.table.put_item(event_item(event)?, NEW, None).await {
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }

    /// Records `user.inactive` for the people who crossed an inactivity threshold of an enabled
    /// flow since the previous scan; returns how many per threshold. At most `SCAN_LIMIT` people
    /// per threshold and run: the rest follow on the next run (the cutoff only advances as far
    /// as the people recorded).
    pub async fn record_inactive(&self, now: u64) -> Result<Vec<(u32, usize)>, StoreError> {
        let flows = self.flows().await?;
        let mut report = Vec::new();
        for days in thresholds(&flows) {
            let cursor = key(format!("SCAN#inactive#{days}"), "SCAN");
            let from = self.table.get_item(cursor.clone()).await?.and_then(|i| number(&i, "until")).unwrap_or(0);
            let to = cutoff(days, now);
            if from >= to {
                continue;
            }
            let people = signed_in_between(&self.table, from, to, SCAN_LIMIT).await?;
            for person in &people {
                self.record(&inactive_event(person, days, now)).await?;
            }
            // A full page may have left people with the last one's time: start there next.
            let until = if people.len() == SCAN_LIMIT { people.last().map_or(to, |p| p.at) } else { to };
            let mut item = cursor;
            item.insert("until".into(), n(until));
            self.table.put_item(item, None, None).await?;
            report.push((days, people.len()));
        }
        Ok(report)
    }

    /// Everyone whose last sign-in is before `days` days ago (the dry run's list).
    pub async fn inactive_now(&self, days: u32, now: u64, limit: usize) -> Result<Vec<LastSignIn>, StoreError> {
        signed_in_between(&self.table, 0, cutoff(days, now), limit).await
    }

    /// Every flow, in id order.
    pub async fn flows(&self) -> Result<Vec<Flow>, StoreError> {
        let items = query_gsi1(&self.table.client, &self.table.name, "FLOW").await?;
        items.iter().map(flow_of).collect()
    }

    fn flow_item(flow: &Flow) -> Result<Item, StoreError> {
        let mut item = key(format!("FLOW#{}", flow.id), "FLOW");
        item.insert("gsi1pk".into(), s("FLOW"));
        item.insert("gsi1sk".into(), s(flow.id.as_str()));
        item.insert("data".into(), s(serde_json::to_string(flow).map_err(corrupt)?));
        item.insert("version".into(), n(flow.version));
        Ok(item)
    }

    /// Every connection, in name order; a connection stored before connections had versions
    /// reads as version 0.
    pub async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        let items = query_gsi1(&self.table.client, &self.table.name, "CONNECTION").await?;
        items.iter().map(connection_of).collect()
    }

    fn connection_item(connection: &Connection) -> Result<Item, StoreError> {
        let mut item = key(format!("CONNECTION#{}", connection.name), "CONNECTION");
        item.insert("gsi1pk".into(), s("CONNECTION"));
        item.insert("gsi1sk".into(), s(connection.name.as_str()));
        item.insert("data".into(), s(serde_json::to_string(connection).map_err(corrupt)?));
        item.insert("version".into(), n(connection.version));
        Ok(item)
    }

    /// Writes `flow` over the version before it, unaudited: for seeding a stack (the local demo,
    /// tests, benchmarks). Operators' changes go through `admin::workflows`.
    pub async fn seed_flow(&self, flow: &Flow) -> Result<(), StoreError> {
        self.table.put_versioned(Self::flow_item(flow)?, flow.version).await
    }

    /// Writes `connection` as version 1 over whatever is there, unaudited: for seeding a stack.
    pub async fn seed_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.table.put_item(Self::connection_item(&Connection { version: 1, ..connection.clone() })?, None, None).await
    }

    /// Writes `items` with `audit`'s items in one transaction; any failed condition is `Conflict`.
    async fn audited(&self, mut items: Vec<TransactWriteItem>, audit: &AuditRecord) -> Result<(), StoreError> {
        items.extend(audit_puts(&self.table, audit, None)?);
        self.table.transact(items).await.map_err(|e| e.or_conflict())
    }

    /// A page of runs from `index` partition `partition`, newest first, after `cursor`.
    async fn run_page(&self, index: &str, partition: &str, cursor: Option<&str>, size: usize) -> Result<RunPage, StoreError> {
        let (pk_name, sk_name) = if index == GSI1 { ("gsi1pk", "gsi1sk") } else { ("gsi2pk", "gsi2sk") };
        let start = cursor.map(|cursor| {
            // `RunQuery::check` has made sure it is `{at:020}_{run id}`.
            let sort_key = cursor.replacen('_', "#", 1);
            let run_id = sort_key.split_once('#').map_or("", |(_, id)| id).to_owned();
            let mut start = key(format!("RUN#{run_id}"), "RUN");
            start.extend([(pk_name.to_owned(), s(partition)), (sk_name.to_owned(), s(sort_key))]);
            start
        });
        let out = query_page(&self.table, index, partition, size, start, false).await?;
        let runs = out.items().iter().map(|item| data(item, "run")).collect::<Result<Vec<RunRecord>, _>>()?;
        let next_cursor = out.last_evaluated_key.and_then(|k| k.get(sk_name).and_then(|v| v.as_s().ok()).map(|v| v.replacen('#', "_", 1)));
        Ok(RunPage { runs, next_cursor })
    }

    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.table.get_consistent(key(format!("RUN#{run_id}"), "RUN")).await?.as_ref().map(|i| data(i, "run")).transpose()
    }

    pub async fn event(&self, id: &str) -> Result<Option<IdentityEvent>, StoreError> {
        self.table.get_item(key(format!("EVENT#{id}"), "EVENT")).await?.as_ref().map(|i| data(i, "event")).transpose()
    }

    fn run_item(run: &RunRecord) -> Result<Item, StoreError> {
        let mut item = key(format!("RUN#{}", run.run_id), "RUN");
        item.insert("status".into(), s(name_of(run.status)));
        item.insert("data".into(), s(serde_json::to_string(run).map_err(corrupt)?));
        item.insert("expires_at".into(), n(run.started_at + RUN_TTL));
        item.insert("gsi2pk".into(), s(format!("RUNS#flow#{}", run.flow_id)));
        item.insert("gsi2sk".into(), s(format!("{:020}#{}", run.started_at, run.run_id)));
        if run.status == RunStatus::Failed {
            item.insert("gsi1pk".into(), s(FAILED_RUNS));
            item.insert("gsi1sk".into(), s(format!("{:020}#{}", run.finished_at.unwrap_or(run.started_at), run.run_id)));
        }
        Ok(item)
    }
}

#[async_trait]
impl RunStore for DynamoWorkflows {
    async fn begin(&self, run: &RunRecord) -> Result<bool, StoreError> {
        match self.table.put_item(Self::run_item(run)?, NEW, None).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn finish(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.table.put_item(Self::run_item(run)?, None, None).await
    }
}

#[async_trait]
impl DeadLetters for DynamoWorkflows {
    /// A failed run is already listed under `RUNS#failed` by [`RunStore::finish`]; this only
    /// says so in the log, where alarms watch for it.
    async fn send(&self, run: &RunRecord) -> Result<(), StoreError> {
        tracing::error!(run = %run.run_id, flow = %run.flow_id, "workflow run failed after its retries");
        Ok(())
    }
}

#[async_trait]
impl EventLog for DynamoWorkflows {
    async fn record(&self, event: &IdentityEvent) -> Result<(), StoreError> {
        DynamoWorkflows::record(self, event).await
    }
}

#[async_trait]
impl AuditedWorkflows for DynamoWorkflows {
    async fn flows(&self) -> Result<Vec<Flow>, StoreError> {
        DynamoWorkflows::flows(self).await
    }

    async fn flow(&self, id: &str) -> Result<Option<Flow>, StoreError> {
        let item = self.table.get_consistent(key(format!("FLOW#{id}"), "FLOW")).await?;
        item.as_ref().map(flow_of).transpose()
    }

    async fn save_flow(&self, flow: &Flow, audit: &AuditRecord) -> Result<(), StoreError> {
        let (condition, values) = version_condition(flow.version)?;
        self.audited(vec![self.table.put(Self::flow_item(flow)?, condition, values)?], audit).await
    }

    async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        DynamoWorkflows::connections(self).await
    }

    async fn connection(&self, name: &str) -> Result<Option<Connection>, StoreError> {
        let item = self.table.get_consistent(key(format!("CONNECTION#{name}"), "CONNECTION")).await?;
        item.as_ref().map(connection_of).transpose()
    }

    /// Version 1 is written where no versioned connection is (new, or one stored before
    /// connections had versions).
    async fn save_connection(&self, connection: &Connection, audit: &AuditRecord) -> Result<(), StoreError> {
        let (condition, values) = match version_condition(connection.version)? {
            ("attribute_not_exists(pk)", values) => ("attribute_not_exists(version)", values),
            other => other,
        };
        self.audited(vec![self.table.put(Self::connection_item(connection)?, condition, values)?], audit).await
    }

    async fn runs(&self, flow: &str, cursor: Option<&str>, size: usize) -> Result<RunPage, StoreError> {
        self.run_page(GSI2, &format!("RUNS#flow#{flow}"), cursor, size).await
    }

    async fn failed_runs(&self, cursor: Option<&str>, size: usize) -> Result<RunPage, StoreError> {
        self.run_page(GSI1, FAILED_RUNS, cursor, size).await
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        DynamoWorkflows::run(self, run_id).await
    }

    async fn event(&self, id: &str) -> Result<Option<IdentityEvent>, StoreError> {
        DynamoWorkflows::event(self, id).await
    }

    async fn claim_replay(&self, run: &RunRecord, now: u64) -> Result<bool, StoreError> {
        let values = std::collections::HashMap::from([
            (":failed".to_owned(), s(name_of(RunStatus::Failed))),
            (":now".to_owned(), n(now)),
            (":until".to_owned(), n(now + REPLAY_CLAIM_SECONDS)),
        ]);
        let claimed = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(format!("RUN#{}", run.run_id), "RUN")))
            .update_expression("SET replay_until = :until")
            .condition_expression("#status = :failed AND (attribute_not_exists(replay_until) OR replay_until < :now)")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match claimed.map_err(|e| crate::adapters::dynamo::write_error(Failure::of(&e))) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn inactive_now(&self, days: u32, now: u64, limit: usize) -> Result<Vec<LastSignIn>, StoreError> {
        DynamoWorkflows::inactive_now(self, days, now, limit).await
    }
}
