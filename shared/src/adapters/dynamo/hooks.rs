//! Telephony hooks, the sender's ledger and the hooks' daily counters in the bridge's table.
//!
//! | item           | `pk`                 | `sk`           | other attributes |
//! |----------------|----------------------|----------------|------------------|
//! | hook           | `HOOKS`              | `HOOK#{name}`  | `data` (JSON), `version` |
//! | active hook    | `HOOKS`              | `ACTIVE`       | `active_hook`    |
//! | sender event   | `SENT#{key}`         | `SENT`         | `leased_until`, `delivered`, `expires_at` (a day) |
//! | day's counters | `HOOKSTATS#{name}`   | `{day:06}`     | `total`, `succeeded`, `failed`, `succeeded_ms` |
//!
//! Hooks and the active pointer share one partition (an operator has a handful of hooks), so the
//! sender reads the active hook and its fallback with one consistent `Query`.
//!
//! Exactly one hook is active because "active" is one item naming it: activating writes that
//! item (in a transaction that checks the hook exists), so concurrent activations end with the
//! last one active and never two. Every change is written with its lifecycle event in one
//! transaction (an operator's change also with its audit record), and every execution's counters (`ADD`s, no read) with its events in another: an
//! event is never missing or recorded for a change that did not happen. Hooks name their
//! secrets (Secrets Manager); the table never holds one.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::audit::audit_record_puts;
use crate::adapters::dynamo::outbox::event_put;
use crate::adapters::dynamo::{Item, Table, TxError, corrupt, data, key, n, number, s, version_condition};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::AuditedHooks;
use crate::common::store::StoreError;
use crate::events::IdentityEvent;
use crate::telephony::hook::{Execution, Hook};
use crate::telephony::ports::{HookDirectory, HookLog, SendLedger};

/// How long a sender event is remembered (Lambda retries an event within minutes, and drops it
/// after six hours at most).
const LEDGER_TTL: u64 = 24 * 3600;

pub struct DynamoHooks {
    table: Table,
}

pub use crate::telephony::ports::DayCount;

const PARTITION: &str = "HOOKS";

fn hook_key(name: &str) -> Item {
    key(PARTITION.into(), &format!("HOOK#{name}"))
}

fn active_key() -> Item {
    key(PARTITION.into(), "ACTIVE")
}

impl DynamoHooks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// Stores `hook` as version `hook.version` (1 for a new hook; `Conflict` when the stored
    /// version is not the one before), with its `hook.created` or `hook.updated` event and
    /// audit record; a fallback must name a stored hook (`Missing` otherwise).
    async fn save_hook(&self, hook: &Hook, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        let t = &self.table;
        let mut item = hook_key(&hook.name);
        item.insert("data".into(), s(serde_json::to_string(hook).map_err(corrupt)?));
        item.insert("version".into(), n(hook.version));
        let (condition, values) = version_condition(hook.version)?;
        let mut items = vec![t.put(item, condition, values)?, event_put(t, event)?];
        if let Some(fallback) = &hook.fallback {
            items.push(t.check(hook_key(fallback), "attribute_exists(pk)", None)?);
        }
        items.extend(audit_record_puts(t, audit)?);
        t.transact(items).await.map_err(|e| match e {
            TxError::Condition(0) => StoreError::Conflict,
            TxError::Condition(_) => StoreError::Missing(format!("fallback hook {}", hook.fallback.as_deref().unwrap_or_default())),
            TxError::Store(e) => e,
        })
    }

    pub async fn hook(&self, name: &str) -> Result<Option<Hook>, StoreError> {
        self.table.get_consistent(hook_key(name)).await?.as_ref().map(|i| data(i, "hook")).transpose()
    }

    /// The active hook's name, if one is active.
    pub async fn active_name(&self) -> Result<Option<String>, StoreError> {
        Ok(self.all().await?.1)
    }

    /// Every hook and the active one's name: one consistent `Query` of the partition.
    pub async fn all(&self) -> Result<(Vec<Hook>, Option<String>), StoreError> {
        let t = &self.table;
        let (mut hooks, mut active) = (Vec::new(), None);
        let mut start = None;
        loop {
            let out = t
                .client
                .query()
                .table_name(&t.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(PARTITION))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| store_error(Failure::of(&e)))?;
            for item in out.items() {
                match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                    Some("ACTIVE") => active = item.get("active_hook").and_then(|v| v.as_s().ok()).cloned(),
                    _ => hooks.push(data(item, "hook")?),
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok((hooks, active));
            }
        }
    }

    /// Makes `name` the active hook (whatever was active before is not any more), with its
    /// `hook.activated` event; `Missing` if there is no such hook.
    async fn activate_hook(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        let mut pointer = active_key();
        pointer.insert("active_hook".into(), s(name));
        let t = &self.table;
        let mut items = vec![t.check(hook_key(name), "attribute_exists(pk)", None)?, t.put_plain(pointer)?, event_put(t, event)?];
        items.extend(audit_record_puts(t, audit)?);
        t.transact(items).await.map_err(|e| match e {
            TxError::Condition(_) => StoreError::Missing(format!("hook {name}")),
            TxError::Store(e) => e,
        })
    }

    /// No hook is active any more, with the `hook.deactivated` event, if `name` was the active
    /// one; `Conflict` otherwise.
    async fn deactivate_hook(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        let t = &self.table;
        let values = HashMap::from([(":name".to_owned(), s(name))]);
        let mut items = vec![t.delete(active_key(), "active_hook = :name", Some(values))?, event_put(t, event)?];
        items.extend(audit_record_puts(t, audit)?);
        t.transact(items).await.map_err(TxError::or_conflict)
    }

    /// Removes `hook` with its `hook.deleted` event while it and `others` are at the versions
    /// read (`Conflict` otherwise); `Taken` while it is the active hook.
    async fn remove_hook(&self, hook: &Hook, others: &[Hook], event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        let t = &self.table;
        let at = |version: u64| Some(HashMap::from([(":v".to_owned(), n(version))]));
        let values = HashMap::from([(":name".to_owned(), s(&hook.name))]);
        let mut items = vec![
            t.check(active_key(), "attribute_not_exists(pk) OR active_hook <> :name", Some(values))?,
            t.delete(hook_key(&hook.name), "version = :v", at(hook.version))?,
            event_put(t, event)?,
        ];
        for other in others {
            items.push(t.check(hook_key(&other.name), "version = :v", at(other.version))?);
        }
        items.extend(audit_record_puts(t, audit)?);
        t.transact(items).await.map_err(|e| match e {
            TxError::Condition(0) => StoreError::Taken("the active hook".into()),
            TxError::Condition(_) => StoreError::Conflict,
            TxError::Store(e) => e,
        })
    }

    /// The hook's counters for the days `from..=to`, oldest first (days without calls omitted).
    pub async fn counts(&self, name: &str, from: u64, to: u64) -> Result<Vec<DayCount>, StoreError> {
        let items = self.table.sort_key_range(&format!("HOOKSTATS#{name}"), &format!("{from:06}"), &format!("{to:06}")).await?;
        Ok(items
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
impl AuditedHooks for DynamoHooks {
    async fn hook(&self, name: &str) -> Result<Option<Hook>, StoreError> {
        DynamoHooks::hook(self, name).await
    }

    async fn all(&self) -> Result<(Vec<Hook>, Option<String>), StoreError> {
        DynamoHooks::all(self).await
    }

    async fn counts(&self, name: &str, from: u64, to: u64) -> Result<Vec<DayCount>, StoreError> {
        DynamoHooks::counts(self, name, from, to).await
    }

    async fn save(&self, hook: &Hook, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        self.save_hook(hook, event, audit).await
    }

    async fn activate(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        self.activate_hook(name, event, audit).await
    }

    async fn deactivate(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        self.deactivate_hook(name, event, audit).await
    }

    async fn remove(&self, hook: &Hook, others: &[Hook], event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError> {
        self.remove_hook(hook, others, event, audit).await
    }
}

#[async_trait]
impl HookDirectory for DynamoHooks {
    async fn active(&self) -> Result<Option<(Hook, Option<Hook>)>, StoreError> {
        let (mut hooks, active) = self.all().await?;
        let Some(index) = active.and_then(|name| hooks.iter().position(|h| h.name == name)) else { return Ok(None) };
        let hook = hooks.swap_remove(index);
        let fallback = hook.fallback.as_deref().and_then(|f| hooks.into_iter().find(|h| h.name == f));
        Ok(Some((hook, fallback)))
    }
}

#[async_trait]
impl SendLedger for DynamoHooks {
    async fn claim(&self, key_digest: &str, now: u64, until: u64) -> Result<bool, StoreError> {
        let mut item = key(format!("SENT#{key_digest}"), "SENT");
        item.insert("leased_until".into(), n(until));
        item.insert("expires_at".into(), n(now + LEDGER_TTL));
        let free = "attribute_not_exists(pk) OR (attribute_not_exists(delivered) AND leased_until < :now)";
        match self.table.put_item(item, Some(free), Some(HashMap::from([(":now".to_owned(), n(now))]))).await {
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
impl HookLog for DynamoHooks {
    async fn executed(&self, execution: &Execution) -> Result<(), StoreError> {
        let t = &self.table;
        let (ok, failed, ms) = if execution.delivered { (1, 0, execution.millis) } else { (0, 1, 0) };
        let counters = Update::builder()
            .table_name(&t.name)
            .set_key(Some(key(format!("HOOKSTATS#{}", execution.hook), &format!("{:06}", execution.day))))
            .update_expression("ADD #total :one, succeeded :ok, #failed :failed, succeeded_ms :ms")
            .expression_attribute_names("#total", "total")
            .expression_attribute_names("#failed", "failed")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ok", n(ok))
            .expression_attribute_values(":failed", n(failed))
            .expression_attribute_values(":ms", n(ms))
            .build()
            .map_err(corrupt)?;
        let mut items = vec![TransactWriteItem::builder().update(counters).build()];
        if let Some(key_digest) = &execution.settles {
            // The delivered event's claim stays until `expires_at`: no retry sends it again.
            let settled = Update::builder()
                .table_name(&t.name)
                .set_key(Some(key(format!("SENT#{key_digest}"), "SENT")))
                .update_expression("SET delivered = :yes, expires_at = :expires")
                .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                .expression_attribute_values(":expires", n(execution.at + LEDGER_TTL))
                .build()
                .map_err(corrupt)?;
            items.push(TransactWriteItem::builder().update(settled).build());
        }
        for event in &execution.events {
            items.push(event_put(t, event)?);
        }
        t.transact(items).await.map_err(TxError::or_conflict)
    }
}
