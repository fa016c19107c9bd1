//! Consent documents and people's decisions in the bridge's table:
//!
//! | item     | `pk`                  | `sk`                          | `gsi1pk` / `gsi1sk`                                  | other    |
//! |----------|-----------------------|-------------------------------|------------------------------------------------------|----------|
//! | document | `CONSENT_DOC`         | `{document}#{version:010}`    |                                                      | `data`   |
//! | decision | `CONSENT#{username}`  | `{at:020}#{document}#{uuid}`  | `CONSENTS#{document}#{version}` / `{at:020}#{username}` | `data`   |
//! | step spent | `CONSENT_FLOW#{id}` | `FLOW`                        |                                                      | `expires_at` |
//!
//! Every version of every document is one `Query` of one partition (a few dozen items at most);
//! a person's decisions are their partition, a version's are one `gsi1` partition. Decisions are
//! written with their `user.consent_given` events in one transaction and never expire (they are
//! the operator's proof).

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;

use crate::adapters::dynamo::audit::audit_puts;
use crate::adapters::dynamo::outbox::event_put;
use crate::adapters::dynamo::{GSI1, Item, Table, corrupt, data, key, n, query_all, query_gsi1, query_page, s};
use crate::admin::audit::AuditRecord;
use crate::admin::ports::{AuditedConsents, RecordCursor, RecordPage};
use crate::common::store::StoreError;
use crate::consent::document::{ConsentDocument, DocumentId};
use crate::consent::ports::{ConsentRecord, ConsentStore};
use crate::events::IdentityEvent;

const DOCUMENTS: &str = "CONSENT_DOC";

pub struct DynamoConsents {
    table: Table,
}

impl DynamoConsents {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    async fn partition(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        query_all(&self.table.client, &self.table.name, None, pk).await
    }
}

fn with_data(mut item: Item, value: &impl serde::Serialize) -> Result<Item, StoreError> {
    item.insert("data".into(), s(serde_json::to_string(value).map_err(corrupt)?));
    Ok(item)
}

#[async_trait]
impl ConsentStore for DynamoConsents {
    async fn documents(&self) -> Result<Vec<ConsentDocument>, StoreError> {
        self.partition(DOCUMENTS).await?.iter().map(|item| data(item, "consent document")).collect()
    }

    async fn record(&self, records: &[ConsentRecord], events: &[IdentityEvent]) -> Result<(), StoreError> {
        if records.is_empty() && events.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(records.len() + events.len());
        for record in records {
            let sk = format!("{:020}#{}#{}", record.at, record.document, uuid::Uuid::now_v7());
            let mut item = with_data(key(format!("CONSENT#{}", record.username), &sk), record)?;
            item.insert("gsi1pk".into(), s(format!("CONSENTS#{}#{}", record.document, record.version)));
            item.insert("gsi1sk".into(), s(format!("{:020}#{}", record.at, record.username)));
            items.push(self.table.put_plain(item)?);
        }
        for event in events {
            items.push(event_put(&self.table, event)?);
        }
        self.table.transact(items).await.map_err(|e| e.or_conflict())
    }

    async fn spend(&self, id: &str, until: u64) -> Result<bool, StoreError> {
        let mut item = key(format!("CONSENT_FLOW#{id}"), "FLOW");
        item.insert("expires_at".into(), n(until));
        match self.table.put_item(item, Some("attribute_not_exists(pk)"), None).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn of_person(&self, username: &str) -> Result<Vec<ConsentRecord>, StoreError> {
        self.partition(&format!("CONSENT#{username}")).await?.iter().map(|item| data(item, "consent record")).collect()
    }

    async fn of_version(&self, document: &DocumentId, version: u32) -> Result<Vec<ConsentRecord>, StoreError> {
        let items = query_gsi1(&self.table.client, &self.table.name, &format!("CONSENTS#{document}#{version}")).await?;
        items.iter().map(|item| data(item, "consent record")).collect()
    }
}

#[async_trait]
impl AuditedConsents for DynamoConsents {
    async fn publish(&self, doc: &ConsentDocument, audit: &AuditRecord) -> Result<(), StoreError> {
        let item = with_data(key(DOCUMENTS.into(), &format!("{}#{:010}", doc.id, doc.version)), doc)?;
        let mut items = vec![self.table.put(item, "attribute_not_exists(pk)", None)?];
        items.extend(audit_puts(&self.table, audit, None)?);
        self.table.transact(items).await.map_err(|e| e.or_conflict())
    }

    async fn version_page(&self, document: &DocumentId, version: u32, after: Option<&RecordCursor>, limit: usize) -> Result<RecordPage, StoreError> {
        let partition = format!("CONSENTS#{document}#{version}");
        // The record `after` names, as the index's start key: its table key and its index key.
        let start = after.map(|c| {
            let mut start = key(format!("CONSENT#{}", c.username), &format!("{:020}#{document}#{}", c.at, c.id.hyphenated()));
            start.extend([("gsi1pk".to_owned(), s(partition.clone())), ("gsi1sk".to_owned(), s(format!("{:020}#{}", c.at, c.username)))]);
            start
        });
        let out = query_page(&self.table, GSI1, &partition, limit, start, true).await?;
        let records = out.items().iter().map(|item| data(item, "consent record")).collect::<Result<Vec<ConsentRecord>, _>>()?;
        // A next page whose start cannot be told is an error, never an export that looks whole.
        let next_cursor = match &out.last_evaluated_key {
            None => None,
            Some(last) => Some(cursor_of(last).ok_or_else(|| corrupt("a consent record's keys"))?.to_string()),
        };
        Ok(RecordPage { records, next_cursor })
    }
}

/// The cursor of the record whose keys are `item`'s (`pk` `CONSENT#{username}`, `sk`
/// `{at:020}#{document}#{id}`).
fn cursor_of(item: &Item) -> Option<RecordCursor> {
    let username = item.get("pk")?.as_s().ok()?.strip_prefix("CONSENT#")?.to_owned();
    let sk = item.get("sk")?.as_s().ok()?;
    let (at, rest) = sk.split_once('#')?;
    let id = rest.rsplit_once('#')?.1;
    let cursor = RecordCursor { at: at.parse().ok()?, id: uuid::Uuid::try_parse(id).ok()?, username };
    // Handed out only if it reads back (a user name a cursor cannot carry stops the export here).
    RecordCursor::parse(&cursor.to_string()).is_some().then_some(cursor)
}
