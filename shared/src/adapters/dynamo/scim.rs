//! SCIM users and groups in the bridge's table. Every key starts with `SCIM#{org}`, so one
//! organisation's requests can only ever read its own items.
//!
//! | item               | `pk`                          | `sk`                 | index keys                                                   |
//! |--------------------|-------------------------------|----------------------|--------------------------------------------------------------|
//! | user / group       | `SCIM#{org}`                  | `USER#{id}` / `GROUP#{id}` | gsi1 `SCIM#{org}#USERNAME#{lower}` (`GROUPNAME#`), gsi2 `SCIM#{org}#USEREXT#{externalId}` (`GROUPEXT#`); `gsi*sk` = id |
//! | deleted user       | `SCIM#{org}`                  | `DELETED#USER#{id}`  |                                                              |
//! | unique name / externalId | `SCIM#{org}#UNIQUE`     | `USERNAME#{lower}`, `USEREXT#{externalId}`, `GROUPNAME#...` | (`id`)              |
//! | email index        | `SCIM#{org}#EMAIL#{lower}`    | `{user id}`          |                                                              |
//! | group member       | `SCIM#{org}#MEMBERS#{group}`  | `{member id}`        | gsi1 `SCIM#{org}#MEMBEROF#{member}` / `{group}`; (`display`, `member_type`) |
//! | page cursor        | `SCIM#{org}#CURSOR`           | `USER#{startIndex}`  | (`after`, `total`, `expires_at`)                             |
//!
//! A user's create, replace and delete record its identity event (`domain::scim::events`) in
//! the same transaction (the outbox the workflow runner reads through the stream).
//!
//! Resources carry `version` (the ETag, checked on every write), `data` (the record as JSON),
//! `link` (the Cognito user as last applied) and, while a Cognito sync is outstanding, `sync`
//! (the version to sync) and `sync_error`; a version Cognito refused for good has no `sync` but
//! `sync_refused` (that version) and `sync_error` (why), until the next write. A member is a
//! user, or a group when the client sent `type: "Group"` (it must exist either way). Access
//! patterns:
//! - by id: `GetItem` (consistent); `userName eq` / `displayName eq`: one `gsi1` query;
//!   `externalId eq`: one `gsi2` query; `emails.value eq`: the email index, then `BatchGetItem`.
//! - a page of `count` in id order: the cursor left by the previous page (`GetItem`), one
//!   `Query` from it, and a new cursor (`PutItem`); without a cursor, `Select=COUNT` queries skip.
//! - uniqueness: the guard items, written with `attribute_not_exists(pk)` in the resource's
//!   transaction (409 under concurrency). Members are one item each, so one member change is a
//!   constant-size transaction whatever the group's size.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, Select, TransactWriteItem, WriteRequest};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::workflows::event_put;
use crate::adapters::dynamo::{GSI1, GSI2, Item, Table, TxError, corrupt, data, n, s, version};
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::{Deletion, ScimEntry, ScimStore};
use crate::directory::scim::directory_user::Link;
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::patch::MemberChange;
use crate::directory::scim::resource::{Kind, Record};
use crate::events::IdentityEvent;

/// DynamoDB's limit on items per transaction.
const TX_LIMIT: usize = 100;
/// Most emails one user may have (each is an index item in the user's transactions).
pub const MAX_EMAILS: usize = 20;
/// How long a page cursor lives.
const CURSOR_SECONDS: u64 = 15 * 60;

pub struct DynamoScim {
    table: Table,
}

/// What a failed condition in a transaction means.
#[derive(Clone)]
enum Why {
    Version,
    Taken(&'static str),
    Missing(String),
}

type TxItems = Vec<(TransactWriteItem, Why)>;

fn tag(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "USER",
        Kind::Group => "GROUP",
    }
}

fn name_attr(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "userName",
        Kind::Group => "displayName",
    }
}

fn part(org: &OrgId) -> String {
    format!("SCIM#{org}")
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([("pk".into(), s(pk)), ("sk".into(), s(sk))])
}

fn resource_key(org: &OrgId, kind: Kind, id: &str) -> Item {
    key(part(org), format!("{}#{id}", tag(kind)))
}

fn tombstone_key(org: &OrgId, id: &str) -> Item {
    key(part(org), format!("DELETED#USER#{id}"))
}

fn name_value(org: &OrgId, kind: Kind, lower: &str) -> String {
    format!("SCIM#{org}#{}NAME#{lower}", tag(kind))
}

fn ext_value(org: &OrgId, kind: Kind, ext: &str) -> String {
    format!("SCIM#{org}#{}EXT#{ext}", tag(kind))
}

fn guard_key(org: &OrgId, sk: String) -> Item {
    key(format!("SCIM#{org}#UNIQUE"), sk)
}

fn name_guard(org: &OrgId, kind: Kind, lower: &str) -> Item {
    guard_key(org, format!("{}NAME#{lower}", tag(kind)))
}

fn ext_guard(org: &OrgId, kind: Kind, ext: &str) -> Item {
    guard_key(org, format!("{}EXT#{ext}", tag(kind)))
}

fn email_key(org: &OrgId, email: &str, id: &str) -> Item {
    key(format!("SCIM#{org}#EMAIL#{email}"), id.to_owned())
}

fn member_key(org: &OrgId, group: &str, user: &str) -> Item {
    key(format!("SCIM#{org}#MEMBERS#{group}"), user.to_owned())
}

fn cursor_key(org: &OrgId, kind: Kind, start: usize) -> Item {
    key(format!("SCIM#{org}#CURSOR"), format!("{}#{start}", tag(kind)))
}

fn values(pairs: &[(&str, aws_sdk_dynamodb::types::AttributeValue)]) -> Item {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// The stored item for a resource (or, with `deleted`, its tombstone).
fn resource_item(org: &OrgId, record: &Record, link: &Link, pending: bool, deleted: Option<Deletion>) -> Result<Item, StoreError> {
    let mut item = match deleted {
        Some(_) => tombstone_key(org, &record.id),
        None => resource_key(org, record.kind, &record.id),
    };
    item.insert("version".into(), n(record.version));
    item.insert("data".into(), s(serde_json::to_string(record).map_err(corrupt)?));
    item.insert("link".into(), s(serde_json::to_string(link).map_err(corrupt)?));
    if pending {
        item.insert("sync".into(), n(record.version));
    }
    match deleted {
        Some(how) => {
            item.insert("deleted".into(), s(serde_json::to_value(how).map_err(corrupt)?.as_str().unwrap_or("purge")));
        }
        None => {
            if let Some(name) = record.unique_name() {
                item.insert("gsi1pk".into(), s(name_value(org, record.kind, &name)));
                item.insert("gsi1sk".into(), s(&record.id));
            }
            if let Some(ext) = record.external_id() {
                item.insert("gsi2pk".into(), s(ext_value(org, record.kind, ext)));
                item.insert("gsi2sk".into(), s(&record.id));
            }
        }
    }
    Ok(item)
}

fn entry_from(item: &Item) -> Result<ScimEntry, StoreError> {
    let record: Record = data(item, "SCIM resource")?;
    let record = Record { version: version(item).unwrap_or(record.version), ..record };
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let link = match text("link") {
        Some(raw) => serde_json::from_str(&raw).map_err(corrupt)?,
        None => Link::default(),
    };
    let deleted = match text("deleted").as_deref() {
        None => None,
        Some("deactivate") => Some(Deletion::Deactivate),
        Some(_) => Some(Deletion::Purge),
    };
    Ok(ScimEntry { record, link, pending: item.contains_key("sync"), sync_error: text("sync_error"), deleted })
}

fn sk_of(item: &Item) -> Option<String> {
    item.get("sk").and_then(|v| v.as_s().ok()).cloned()
}

fn failed<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> StoreError {
    store_error(Failure::of(e))
}

fn is_condition_failure<E: aws_smithy_types::error::metadata::ProvideErrorMetadata, R>(e: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool {
    matches!(Failure::of(e), Failure::Service { code } if code == "ConditionalCheckFailedException")
}

impl DynamoScim {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    fn client(&self) -> &Client {
        &self.table.client
    }

    /// Records a failed sync attempt of `entry`'s version with `update` (`:e` the error, `:v`
    /// the version, `:one`); nothing when a newer version was written meanwhile (its writer
    /// syncs it).
    async fn sync_outcome(&self, org: &OrgId, entry: &ScimEntry, error: &str, update: &str) -> Result<(), StoreError> {
        let id = &entry.record.id;
        let key = if entry.deleted.is_some() { tombstone_key(org, id) } else { resource_key(org, Kind::User, id) };
        let result = self
            .client()
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression("version = :v")
            .set_expression_attribute_values(Some(values(&[(":v", n(entry.record.version)), (":e", s(error)), (":one", n(1))])))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()),
            Err(e) => Err(failed(&e)),
        }
    }

    fn query(&self) -> QueryFluentBuilder {
        self.client().query().table_name(&self.table.name)
    }

    /// The change's event, recorded in its transaction. Its id names the version written, so
    /// it exists already only if that version does (a lost race).
    fn event(&self, event: Option<&IdentityEvent>) -> Result<TxItems, StoreError> {
        event.map(|e| Ok((event_put(&self.table, e)?, Why::Version))).into_iter().collect()
    }

    fn delete_plain(&self, key: Item) -> Result<TransactWriteItem, StoreError> {
        self.table.delete(key, "attribute_exists(pk) OR attribute_not_exists(pk)", None)
    }

    /// Runs one transaction; a lost race between transactions is retried a few times, so that
    /// concurrent creates of one name end in exactly one success and `Taken` for the rest.
    async fn run(&self, items: TxItems) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let (tx, whys): (Vec<_>, Vec<_>) = items.into_iter().unzip();
        let mut attempt = 0;
        loop {
            match self.table.transact(tx.clone()).await {
                Ok(()) => return Ok(()),
                Err(TxError::Condition(i)) => {
                    return Err(match whys.get(i) {
                        Some(Why::Version) => StoreError::Conflict,
                        Some(Why::Taken(what)) => StoreError::Taken((*what).to_owned()),
                        Some(Why::Missing(id)) => StoreError::Missing(id.clone()),
                        None => StoreError::Corrupt("a transaction condition failed".into()),
                    });
                }
                Err(TxError::Store(StoreError::Unavailable(code))) if code == "TransactionCanceledException" && attempt < 4 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
                }
                Err(TxError::Store(e)) => return Err(e),
            }
        }
    }

    /// Runs `base` with as many of `ops` (each a group of items that belong together) as fit,
    /// then the remaining ops in further transactions.
    async fn run_chunked(&self, base: TxItems, ops: Vec<TxItems>) -> Result<(), StoreError> {
        let mut current = base;
        for op in ops {
            if current.len() + op.len() > TX_LIMIT {
                self.run(std::mem::take(&mut current)).await?;
            }
            current.extend(op);
        }
        self.run(current).await
    }

    fn member_add(&self, org: &OrgId, group: &str, member: &Value) -> Result<TxItems, StoreError> {
        let id = member_id(member);
        let member_type = member.get("type").and_then(Value::as_str);
        let kind = if member_type == Some("Group") { Kind::Group } else { Kind::User };
        let mut item = member_key(org, group, id);
        item.insert("gsi1pk".into(), s(format!("SCIM#{org}#MEMBEROF#{id}")));
        item.insert("gsi1sk".into(), s(group));
        if let Some(display) = member.get("display").and_then(Value::as_str) {
            item.insert("display".into(), s(display));
        }
        if let Some(member_type) = member_type {
            item.insert("member_type".into(), s(member_type));
        }
        Ok(vec![
            (self.table.put_plain(item)?, Why::Version),
            (self.table.check(resource_key(org, kind, id), "attribute_exists(pk)", None)?, Why::Missing(id.to_owned())),
        ])
    }

    /// Guard and index changes between two versions of a record (`None`: created or deleted).
    fn key_changes(&self, org: &OrgId, before: Option<&Record>, after: Option<&Record>) -> Result<TxItems, StoreError> {
        let mut items = Vec::new();
        let kind = before.or(after).map_or(Kind::User, |r| r.kind);
        let id = before.or(after).map(|r| r.id.clone()).unwrap_or_default();
        let id_is = || values(&[(":id", s(&id))]);
        let guards = [
            (before.and_then(Record::unique_name), after.and_then(Record::unique_name), name_attr(kind), true),
            (before.and_then(|r| r.external_id().map(str::to_owned)), after.and_then(|r| r.external_id().map(str::to_owned)), "externalId", false),
        ];
        for (old, new, what, is_name) in guards {
            if old == new {
                continue;
            }
            let guard = |v: &str| if is_name { name_guard(org, kind, v) } else { ext_guard(org, kind, v) };
            if let Some(old) = old {
                items.push((self.table.delete(guard(&old), "id = :id", Some(id_is()))?, Why::Version));
            }
            if let Some(new) = new {
                let mut item = guard(&new);
                item.insert("id".into(), s(&id));
                items.push((self.table.put(item, "attribute_not_exists(pk)", None)?, Why::Taken(what)));
            }
        }
        if kind == Kind::User {
            let old: BTreeSet<String> = before.map(Record::emails).unwrap_or_default().into_iter().collect();
            let new: BTreeSet<String> = after.map(Record::emails).unwrap_or_default().into_iter().collect();
            if new.len() > MAX_EMAILS {
                return Err(StoreError::Limit(format!("a user has at most {MAX_EMAILS} emails")));
            }
            for gone in old.difference(&new) {
                items.push((self.delete_plain(email_key(org, gone, &id))?, Why::Version));
            }
            for added in new.difference(&old) {
                items.push((self.table.put_plain(email_key(org, added, &id))?, Why::Version));
            }
        }
        Ok(items)
    }

    /// Every item of a partition (or index partition), page by page.
    async fn query_all(&self, index: Option<&str>, pk_name: &str, pk: &str, sk_prefix: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let condition = match sk_prefix {
                Some(_) => format!("{pk_name} = :p AND begins_with(sk, :s)"),
                None => format!("{pk_name} = :p"),
            };
            let mut q = self.query().set_index_name(index.map(str::to_owned)).key_condition_expression(condition).expression_attribute_values(":p", s(pk));
            if let Some(prefix) = sk_prefix {
                q = q.expression_attribute_values(":s", s(prefix));
            }
            let out = q.set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Resources of `kind`: the query for one partition in id order.
    fn resources(&self, org: &OrgId, kind: Kind) -> QueryFluentBuilder {
        self.query()
            .key_condition_expression("pk = :p AND begins_with(sk, :s)")
            .expression_attribute_values(":p", s(part(org)))
            .expression_attribute_values(":s", s(format!("{}#", tag(kind))))
    }

    async fn count(&self, org: &OrgId, kind: Kind) -> Result<usize, StoreError> {
        let (mut total, mut start) = (0usize, None);
        loop {
            let out = self.resources(org, kind).select(Select::Count).set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
            total += out.count.max(0) as usize;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(total);
            }
        }
    }

    /// The key just before the `skip + 1`th resource (`None` at the start), or `Err(())` if
    /// there are not that many: reads keys only (`Select=COUNT`).
    async fn skip(&self, org: &OrgId, kind: Kind, skip: usize) -> Result<Result<Option<Item>, ()>, StoreError> {
        let (mut left, mut start) = (skip, None);
        while left > 0 {
            let out = self
                .resources(org, kind)
                .select(Select::Count)
                .limit(left.min(10_000) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed(&e))?;
            left -= (out.count.max(0) as usize).min(left);
            start = out.last_evaluated_key;
            if start.is_none() {
                // At most `skip` resources: the page after them is empty.
                return Ok(Err(()));
            }
        }
        Ok(Ok(start))
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).consistent_read(true).build().map_err(corrupt)?);
            for _ in 0..5 {
                let Some(request) = pending.take() else { break };
                let out = self.client().batch_get_item().request_items(&self.table.name, request).send().await.map_err(|e| failed(&e))?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table.name)).unwrap_or_default());
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table.name)).filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Throttled);
            }
        }
        Ok(found)
    }

    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|k| DeleteRequest::builder().set_key(Some(k.clone())).build().map(|d| WriteRequest::builder().delete_request(d).build()))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?;
            for attempt in 0..5u64 {
                if requests.is_empty() {
                    break;
                }
                let out = self.client().batch_write_item().request_items(&self.table.name, requests).send().await.map_err(|e| failed(&e))?;
                requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table.name)).unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
                }
            }
            if !requests.is_empty() {
                return Err(StoreError::Throttled);
            }
        }
        Ok(())
    }

    async fn member_ids(&self, org: &OrgId, group: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.query_all(None, "pk", &format!("SCIM#{org}#MEMBERS#{group}"), None).await?.iter().filter_map(sk_of).collect())
    }
}

#[async_trait]
impl ScimStore for DynamoScim {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError> {
        self.table.get_consistent(resource_key(org, kind, id)).await?.as_ref().map(entry_from).transpose()
    }

    async fn lookup(&self, org: &OrgId, kind: Kind, lookup: &Lookup) -> Result<Vec<ScimEntry>, StoreError> {
        let items = match lookup {
            Lookup::UserName(v) | Lookup::DisplayName(v) => self.query_all(Some(GSI1), "gsi1pk", &name_value(org, kind, &v.to_lowercase()), None).await?,
            Lookup::ExternalId(v) => self.query_all(Some(GSI2), "gsi2pk", &ext_value(org, kind, v), None).await?,
            Lookup::Email(v) => {
                let ids = self.query_all(None, "pk", &format!("SCIM#{org}#EMAIL#{}", v.to_lowercase()), None).await?;
                let keys: Vec<Item> = ids.iter().filter_map(sk_of).map(|id| resource_key(org, Kind::User, &id)).collect();
                self.batch_get(keys).await?
            }
            Lookup::Id(id) => return Ok(self.get(org, kind, id).await?.into_iter().collect()),
        };
        items.iter().map(entry_from).collect()
    }

    async fn page(&self, org: &OrgId, kind: Kind, start: usize, count: usize, now: u64) -> Result<(Vec<ScimEntry>, usize), StoreError> {
        let cursor = if start > 1 { self.table.get_consistent(cursor_key(org, kind, start)).await? } else { None };
        let cursor_total = cursor.as_ref().and_then(|c| c.get("total")).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok());
        let after = match cursor.as_ref().and_then(|c| c.get("after")).and_then(|v| v.as_s().ok()) {
            Some(sk) => Some(key(part(org), sk.clone())),
            None if start > 1 => match self.skip(org, kind, start - 1).await? {
                Ok(after) => after,
                Err(()) => return Ok((Vec::new(), self.count(org, kind).await?)),
            },
            None => None,
        };
        let total = match cursor_total {
            Some(total) => total,
            None => self.count(org, kind).await?,
        };
        if count == 0 {
            return Ok((Vec::new(), total));
        }
        let (mut items, mut next) = (Vec::new(), after);
        loop {
            let out = self.resources(org, kind).limit((count - items.len()) as i32).set_exclusive_start_key(next).send().await.map_err(|e| failed(&e))?;
            items.extend(out.items.unwrap_or_default());
            next = out.last_evaluated_key;
            if items.len() >= count || next.is_none() {
                break;
            }
        }
        if let (Some(last), true) = (items.last().and_then(sk_of), next.is_some()) {
            let mut cursor = cursor_key(org, kind, start + count);
            cursor.insert("after".into(), s(last));
            cursor.insert("total".into(), n(total));
            cursor.insert("expires_at".into(), n(now + CURSOR_SECONDS));
            // A lost cursor only costs the next page a skip: not worth failing this one.
            if let Err(e) = self.client().put_item().table_name(&self.table.name).set_item(Some(cursor)).send().await {
                tracing::warn!(error = %failed(&e), "could not store the page cursor");
            }
        }
        Ok((items.iter().map(entry_from).collect::<Result<_, _>>()?, total))
    }

    async fn all(&self, org: &OrgId, kind: Kind, limit: usize) -> Result<Vec<ScimEntry>, StoreError> {
        let (mut items, mut start) = (Vec::new(), None);
        loop {
            let out = self.resources(org, kind).set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
            items.extend(out.items.unwrap_or_default());
            if items.len() > limit {
                return Err(StoreError::Limit(format!("more than {limit} resources")));
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return items.iter().map(entry_from).collect();
            }
        }
    }

    async fn create(&self, org: &OrgId, record: &Record, members: &[Value], event: Option<&IdentityEvent>) -> Result<(), StoreError> {
        let item = resource_item(org, record, &Link::default(), record.kind == Kind::User, None)?;
        let mut base = vec![(self.table.put(item, "attribute_not_exists(pk)", None)?, Why::Taken("id"))];
        base.extend(self.key_changes(org, None, Some(record))?);
        base.extend(self.event(event)?);
        let ops = unique_members(members).iter().map(|m| self.member_add(org, &record.id, m)).collect::<Result<Vec<_>, _>>()?;
        self.run_chunked(base, ops).await
    }

    async fn replace(&self, org: &OrgId, current: &ScimEntry, next: &Record, event: Option<&IdentityEvent>) -> Result<(), StoreError> {
        let item = resource_item(org, next, &current.link, next.kind == Kind::User, None)?;
        let condition = values(&[(":v", n(current.record.version))]);
        let mut items = vec![(self.table.put(item, "version = :v", Some(condition))?, Why::Version)];
        items.extend(self.key_changes(org, Some(&current.record), Some(next))?);
        items.extend(self.event(event)?);
        if items.len() > TX_LIMIT {
            return Err(StoreError::Limit("too many changes at once".into()));
        }
        self.run(items).await
    }

    async fn delete(&self, org: &OrgId, current: &ScimEntry, how: Deletion, event: Option<&IdentityEvent>) -> Result<(), StoreError> {
        let record = &current.record;
        let mut memberships: Vec<Item> = self.groups_of(org, &record.id).await?.iter().map(|g| member_key(org, g, &record.id)).collect();
        if record.kind == Kind::Group {
            memberships.extend(self.member_ids(org, &record.id).await?.iter().map(|u| member_key(org, &record.id, u)));
        }
        self.batch_delete(memberships).await?;
        let condition = values(&[(":v", n(record.version))]);
        let mut items = vec![(self.table.delete(resource_key(org, record.kind, &record.id), "version = :v", Some(condition))?, Why::Version)];
        items.extend(self.key_changes(org, Some(record), None)?);
        if record.kind == Kind::User {
            let tombstone = Record { version: record.version + 1, ..record.clone() };
            items.push((self.table.put_plain(resource_item(org, &tombstone, &current.link, true, Some(how))?)?, Why::Version));
        }
        items.extend(self.event(event)?);
        self.run(items).await
    }

    async fn synced(&self, org: &OrgId, entry: &ScimEntry, link: &Link) -> Result<bool, StoreError> {
        let id = &entry.record.id;
        let key = if entry.deleted.is_some() { tombstone_key(org, id) } else { resource_key(org, Kind::User, id) };
        let version = values(&[(":v", n(entry.record.version))]);
        let result = if entry.deleted == Some(Deletion::Purge) {
            self.client()
                .delete_item()
                .table_name(&self.table.name)
                .set_key(Some(key))
                .condition_expression("version = :v")
                .set_expression_attribute_values(Some(version))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (!is_condition_failure(&e)).then(|| failed(&e)))
        } else {
            let mut v = version;
            v.insert(":l".into(), s(serde_json::to_string(link).map_err(corrupt)?));
            self.client()
                .update_item()
                .table_name(&self.table.name)
                .set_key(Some(key))
                .update_expression("SET link = :l REMOVE sync, sync_error, sync_attempts, sync_refused")
                .condition_expression("version = :v")
                .set_expression_attribute_values(Some(v))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (!is_condition_failure(&e)).then(|| failed(&e)))
        };
        match result {
            Ok(()) => Ok(true),
            Err(None) => Ok(false),
            Err(Some(e)) => Err(e),
        }
    }

    async fn sync_failed(&self, org: &OrgId, entry: &ScimEntry, error: &str) -> Result<(), StoreError> {
        self.sync_outcome(org, entry, error, "SET sync_error = :e ADD sync_attempts :one").await
    }

    async fn sync_refused(&self, org: &OrgId, entry: &ScimEntry, error: &str) -> Result<(), StoreError> {
        self.sync_outcome(org, entry, error, "SET sync_error = :e, sync_refused = :v REMOVE sync ADD sync_attempts :one").await
    }

    async fn pending(&self, org: &OrgId) -> Result<Vec<ScimEntry>, StoreError> {
        let (mut items, mut start) = (Vec::new(), None);
        loop {
            let out = self
                .query()
                .key_condition_expression("pk = :p")
                .filter_expression("attribute_exists(sync) OR attribute_exists(sync_refused)")
                .expression_attribute_values(":p", s(part(org)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| failed(&e))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items.iter().map(entry_from).collect();
            }
        }
    }

    async fn members(&self, org: &OrgId, group: &str) -> Result<Vec<Value>, StoreError> {
        let items = self.query_all(None, "pk", &format!("SCIM#{org}#MEMBERS#{group}"), None).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), Value::from(sk_of(i)?));
                if let Some(d) = i.get("display").and_then(|v| v.as_s().ok()) {
                    m.insert("display".into(), Value::from(d.clone()));
                }
                if let Some(t) = i.get("member_type").and_then(|v| v.as_s().ok()) {
                    m.insert("type".into(), Value::from(t.clone()));
                }
                Some(Value::Object(m))
            })
            .collect())
    }

    async fn groups_of(&self, org: &OrgId, user: &str) -> Result<Vec<String>, StoreError> {
        let items = self.query_all(Some(GSI1), "gsi1pk", &format!("SCIM#{org}#MEMBEROF#{user}"), None).await?;
        Ok(items.iter().filter_map(|i| i.get("gsi1sk").and_then(|v| v.as_s().ok()).cloned()).collect())
    }

    async fn update_group(&self, org: &OrgId, current: &ScimEntry, next: &Record, changes: &[MemberChange]) -> Result<(), StoreError> {
        let gid = &next.id;
        // The net effect of the changes, in order: user id -> Some(member) to add, None to remove.
        let mut net: BTreeMap<String, Option<Value>> = BTreeMap::new();
        let mut existing: Option<Vec<String>> = None;
        for change in changes {
            match change {
                MemberChange::Add(members) => {
                    for m in unique_members(members) {
                        net.insert(member_id(m).to_owned(), Some(m.clone()));
                    }
                }
                MemberChange::Remove(ids) => ids.iter().for_each(|id| {
                    net.insert(id.clone(), None);
                }),
                MemberChange::RemoveAll | MemberChange::Replace(_) => {
                    if existing.is_none() {
                        existing = Some(self.member_ids(org, gid).await?);
                    }
                    net.clear();
                    for id in existing.iter().flatten() {
                        net.insert(id.clone(), None);
                    }
                    if let MemberChange::Replace(members) = change {
                        for m in unique_members(members) {
                            net.insert(member_id(m).to_owned(), Some(m.clone()));
                        }
                    }
                }
            }
        }
        let item = resource_item(org, next, &current.link, false, None)?;
        let mut base = vec![(self.table.put(item, "version = :v", Some(values(&[(":v", n(current.record.version))])))?, Why::Version)];
        base.extend(self.key_changes(org, Some(&current.record), Some(next))?);
        let mut ops = Vec::with_capacity(net.len());
        for (id, member) in &net {
            ops.push(match member {
                Some(m) => self.member_add(org, gid, m)?,
                None => vec![(self.delete_plain(member_key(org, gid, id))?, Why::Version)],
            });
        }
        self.run_chunked(base, ops).await
    }
}

fn member_id(member: &Value) -> &str {
    member.get("value").and_then(Value::as_str).unwrap_or_default()
}

/// Members without repeats (a transaction may touch an item once).
fn unique_members(members: &[Value]) -> Vec<&Value> {
    let mut seen = BTreeSet::new();
    members.iter().filter(|m| seen.insert(member_id(m).to_owned())).collect()
}
