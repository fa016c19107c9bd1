//! Telephony hooks, the sender's ledger and the hooks' daily counters in the bridge's table.
//!
//! | item           | `pk`                 | `sk`        | `gsi1pk` | `gsi1sk` | other attributes |
//! |----------------|----------------------|-------------|----------|----------|------------------|
//! | hook           | `HOOK#{name}`        | `HOOK`      | `HOOK`   | `{name}` | `data` (JSON), `version` |
//! | active hook    | `HOOKS`              | `ACTIVE`    |          |          | `name`           |
//! | handled event  | `SENT#{key}`         | `SENT`      |          |          | `expires_at` (a day) |
//! | day's counters | `HOOKSTATS#{name}`   | `{day:06}`  |          |          | `total`, `succeeded`, `failed`, `succeeded_ms` |
//!
//! Exactly one hook is active because "active" is one item naming it: activating writes that
//! item (in a transaction that checks the hook exists), so concurrent activations end with the
//! last one active and never two. Counters are `ADD`s (no read). Hooks name their secrets
//! (Secrets Manager); the table never holds one.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

use super::aws::{Failure, store_error};
use super::dynamo::{Item, Table, TxError, data, key, n, number, query_gsi1, s};
use crate::domain::sms_sender::Hook;
use crate::ports::{HookDirectory, HookMetrics, SendLedger, StoreError};

/// How long a handled sender event is remembered (Cognito's retries come within minutes).
const LEDGER_TTL: u64 = 24 * 3600;

pub struct DynamoHooks {
    table: Table,
}

/// One hook's counters for one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    pub day: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub succeeded_ms: u64,
}

fn hook_key(name: &str) -> Item {
    key(format!("HOOK#{name}"), "HOOK")
}

fn active_key() -> Item {
    key("HOOKS".into(), "ACTIVE")
}

impl DynamoHooks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// Stores `hook` as version `hook.version` (1 for a new hook; `Conflict` when the stored
    /// version is not the one before).
    pub async fn save(&self, hook: &Hook) -> Result<(), StoreError> {
        let mut item = hook_key(&hook.name);
        item.insert("gsi1pk".into(), s("HOOK"));
        item.insert("gsi1sk".into(), s(&hook.name));
        item.insert("data".into(), s(serde_json::to_string(hook).map_err(super::dynamo::corrupt)?));
        self.table.put_versioned(item, hook.version).await
    }

    pub async fn hook(&self, name: &str) -> Result<Option<Hook>, StoreError> {
        self.table.get_item(hook_key(name)).await?.as_ref().map(|i| data(i, "hook")).transpose()
    }

    pub async fn list(&self) -> Result<Vec<Hook>, StoreError> {
        query_gsi1(&self.table.client, &self.table.name, "HOOK").await?.iter().map(|i| data(i, "hook")).collect()
    }

    /// The active hook's name, if one is active.
    pub async fn active_name(&self) -> Result<Option<String>, StoreError> {
        Ok(self.table.get_consistent(active_key()).await?.and_then(|i| i.get("name").and_then(|v| v.as_s().ok()).cloned()))
    }

    /// Makes `name` the active hook (whatever was active before is not any more); `Missing`
    /// if there is no such hook.
    pub async fn activate(&self, name: &str) -> Result<(), StoreError> {
        let mut pointer = active_key();
        pointer.insert("name".into(), s(name));
        let t = &self.table;
        let items = vec![t.check(hook_key(name), "attribute_exists(pk)")?, t.put_plain(pointer)?];
        t.transact(items).await.map_err(|e| match e {
            TxError::Condition(_) => StoreError::Missing(format!("hook {name}")),
            TxError::Store(e) => e,
        })
    }

    /// No hook is active any more, if `name` was the active one; `Conflict` otherwise.
    pub async fn deactivate(&self, name: &str) -> Result<(), StoreError> {
        let t = &self.table;
        let values = HashMap::from([(":name".to_owned(), s(name))]);
        let result = t
            .client
            .delete_item()
            .table_name(&t.name)
            .set_key(Some(active_key()))
            .condition_expression("#n = :name")
            .expression_attribute_names("#n", "name")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        result.map(|_| ()).map_err(|e| super::dynamo::write_error(Failure::of(&e)))
    }

    /// The hook's counters for the days `from..=to`, oldest first (days without calls omitted).
    pub async fn counts(&self, name: &str, from: u64, to: u64) -> Result<Vec<DayCount>, StoreError> {
        let t = &self.table;
        let out = t
            .client
            .query()
            .table_name(&t.name)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(format!("HOOKSTATS#{name}")))
            .expression_attribute_values(":from", s(format!("{from:06}")))
            .expression_attribute_values(":to", s(format!("{to:06}")))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .map(|i| DayCount {
                day: i.get("sk").and_then(|v| v.as_s().ok()).and_then(|v| v.parse().ok()).unwrap_or(0),
                total: number(i, "total").unwrap_or(0),
                succeeded: number(i, "succeeded").unwrap_or(0),
                failed: number(i, "failed").unwrap_or(0),
                succeeded_ms: number(i, "succeeded_ms").unwrap_or(0),
            })
            .collect())
    }
}

#[async_trait]
impl HookDirectory for DynamoHooks {
    async fn active(&self) -> Result<Option<(Hook, Option<Hook>)>, StoreError> {
        let Some(name) = self.active_name().await? else { return Ok(None) };
        let Some(hook) = self.hook(&name).await? else { return Ok(None) };
        let fallback = match hook.fallback.as_deref().filter(|f| *f != hook.name) {
            Some(f) => self.hook(f).await?,
            None => None,
        };
        Ok(Some((hook, fallback)))
    }
}

#[async_trait]
impl SendLedger for DynamoHooks {
    async fn claim(&self, key_digest: &str, now: u64) -> Result<bool, StoreError> {
        let mut item = key(format!("SENT#{key_digest}"), "SENT");
        item.insert("expires_at".into(), n(now + LEDGER_TTL));
        match self.table.put_item(item, Some("attribute_not_exists(pk)"), None).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release(&self, key_digest: &str) -> Result<(), StoreError> {
        let t = &self.table;
        t.client
            .delete_item()
            .table_name(&t.name)
            .set_key(Some(key(format!("SENT#{key_digest}"), "SENT")))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(())
    }
}

#[async_trait]
impl HookMetrics for DynamoHooks {
    async fn count(&self, hook: &str, day: u64, succeeded: bool, millis: u64) -> Result<(), StoreError> {
        let t = &self.table;
        let (ok, failed, ms) = if succeeded { (1, 0, millis) } else { (0, 1, 0) };
        t.client
            .update_item()
            .table_name(&t.name)
            .set_key(Some(key(format!("HOOKSTATS#{hook}"), &format!("{day:06}"))))
            .update_expression("ADD #total :one, succeeded :ok, #failed :failed, succeeded_ms :ms")
            .expression_attribute_names("#total", "total")
            .expression_attribute_names("#failed", "failed")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ok", n(ok))
            .expression_attribute_values(":failed", n(failed))
            .expression_attribute_values(":ms", n(ms))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(())
    }
}
