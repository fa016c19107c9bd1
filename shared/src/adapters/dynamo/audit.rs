//! The audit trail in the bridge's table (`admin::audit`).
//!
//! | item   | `pk`          | `sk`     | `gsi1pk`                  | `gsi1sk`         | `gsi2pk`              | `gsi2sk`         |
//! |--------|---------------|----------|---------------------------|------------------|-----------------------|------------------|
//! | record | `AUDIT#{id}`  | `AUDIT`  | `AUDIT`                   | `{at:010}#{id}`  | `AUDIT#actor#{actor}` | `{at:010}#{id}`  |
//! | by target | `AUDIT#{id}` | `TARGET` | `AUDIT#target#{target}` | `{at:010}#{id}`  |                       |                  |
//!
//! Both items carry `type`, `data` (the record as JSON) and `expires_at` (`audit::RETENTION`).
//! A change writes both, and its identity event (`adapters::dynamo::outbox::event_put`), in
//! its own transaction ([`audit_puts`]).
//!
//! Reading (newest first, one `Query`, a time range in the sort key, `type` as a filter): by
//! actor on `gsi2`, by target on `gsi1`'s target partition, else `gsi1`'s `AUDIT` partition. A
//! page reads at most 4 × its size; with a `type` filter a page may come back short, with a cursor.
//! The cursor is the last record's sort key (`_` for `#`), checked, from which the start key is
//! rebuilt: a made-up cursor cannot leave the queried partition.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::outbox::event_put;
use crate::adapters::dynamo::{GSI1, GSI2, Item, Table, corrupt, data, key, n, name_of, s};
use crate::admin::audit::{AuditPage, AuditQuery, AuditRecord, RETENTION};
use crate::admin::ports::AuditLog;
use crate::common::store::StoreError;
use crate::events::EventUser;

const ALL: &str = "AUDIT";
/// How many times a page's size one read may evaluate (a `type` filter drops some).
const READ_FACTOR: usize = 4;

fn sort_key(record: &AuditRecord) -> String {
    format!("{:010}#{}", record.at, record.id)
}

/// The items that record `record` (and its identity event, about `person` or else the operator)
/// as part of a change's transaction.
pub fn audit_puts(table: &Table, record: &AuditRecord, person: Option<EventUser>) -> Result<Vec<TransactWriteItem>, StoreError> {
    let mut items = audit_record_puts(table, record)?;
    items.push(event_put(table, &record.event(person))?);
    Ok(items)
}

/// The record's two items without its identity event, for a change that writes its own event
/// (a telephony hook's lifecycle event, which carries the record's details).
pub fn audit_record_puts(table: &Table, record: &AuditRecord) -> Result<Vec<TransactWriteItem>, StoreError> {
    let body = serde_json::to_string(record).map_err(corrupt)?;
    let kind = name_of(record.kind);
    let item = |sk: &str, index: [(&str, String); 2]| {
        let mut item = key(format!("AUDIT#{}", record.id), sk);
        item.extend([("type".into(), s(&kind)), ("data".into(), s(&body)), ("expires_at".into(), n(record.at + RETENTION))]);
        item.extend(index.into_iter().map(|(k, v)| (k.to_owned(), s(v))));
        item
    };
    let mut main = item("AUDIT", [("gsi1pk", ALL.into()), ("gsi1sk", sort_key(record))]);
    main.extend([("gsi2pk".into(), s(format!("AUDIT#actor#{}", record.actor.id))), ("gsi2sk".into(), s(sort_key(record)))]);
    let by_target = item("TARGET", [("gsi1pk", format!("AUDIT#target#{}", record.target)), ("gsi1sk", sort_key(record))]);
    Ok(vec![table.put_plain(main)?, table.put_plain(by_target)?])
}

pub struct DynamoAudit {
    table: Table,
}

impl DynamoAudit {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }
}

#[async_trait]
impl AuditLog for DynamoAudit {
    async fn record(&self, record: &AuditRecord, person: Option<EventUser>) -> Result<(), StoreError> {
        self.table.transact(audit_puts(&self.table, record, person)?).await.map_err(|e| e.or_conflict())
    }

    async fn page(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let size = query.page_size().map_err(|e| StoreError::Limit(e.to_string()))?;
        let (index, pk_name, sk_name, partition, item_sk) = match (&query.actor, &query.target) {
            (Some(actor), _) => (GSI2, "gsi2pk", "gsi2sk", format!("AUDIT#actor#{actor}"), "AUDIT"),
            (None, Some(target)) => (GSI1, "gsi1pk", "gsi1sk", format!("AUDIT#target#{target}"), "TARGET"),
            (None, None) => (GSI1, "gsi1pk", "gsi1sk", ALL.to_owned(), "AUDIT"),
        };
        let from = format!("{:010}", query.since.unwrap_or(0));
        let to = format!("{:010}~", query.until.map_or(9_999_999_999, |u| u.saturating_sub(1)));
        let mut start: Option<Item> = match &query.cursor {
            None => None,
            Some(cursor) => {
                // `AuditQuery::check` has made sure it is `{at:010}_{uuid}`.
                let (at, id) = cursor.split_once('_').ok_or_else(|| StoreError::Limit("not a cursor".into()))?;
                let mut start = key(format!("AUDIT#{id}"), item_sk);
                start.extend([(pk_name.to_owned(), s(&partition)), (sk_name.to_owned(), s(format!("{at}#{id}")))]);
                Some(start)
            }
        };
        let mut records = Vec::new();
        let mut evaluated = 0;
        loop {
            let mut request = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .index_name(index)
                .key_condition_expression(format!("{pk_name} = :p AND {sk_name} BETWEEN :from AND :to"))
                .expression_attribute_values(":p", s(&partition))
                .expression_attribute_values(":from", s(&from))
                .expression_attribute_values(":to", s(&to))
                .scan_index_forward(false)
                .limit(i32::try_from(size - records.len()).unwrap_or(1))
                .set_exclusive_start_key(start.take());
            if let Some(kind) = query.kind {
                request = request
                    .filter_expression("#type = :type")
                    .expression_attribute_names("#type", "type")
                    .expression_attribute_values(":type", s(name_of(kind)));
            }
            let out = request.send().await.map_err(|e| store_error(Failure::of(&e)))?;
            evaluated += usize::try_from(out.scanned_count()).unwrap_or(0);
            for item in out.items() {
                records.push(data::<AuditRecord>(item, "audit record")?);
            }
            start = out.last_evaluated_key;
            if start.is_none() || records.len() >= size || evaluated >= size * READ_FACTOR {
                break;
            }
        }
        let next_cursor = match (&start, records.last()) {
            (None, _) => None,
            (Some(_), Some(last)) if records.len() >= size => Some(sort_key(last)),
            (Some(last_key), _) => last_key.get(sk_name).and_then(|v| v.as_s().ok()).cloned(),
        };
        let next_cursor = next_cursor.map(|c| c.replacen('#', "_", 1));
        Ok(AuditPage { records, next_cursor })
    }
}
