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
//! | bucket counter     | `SCIM#{org}#COUNT`            | `USER#{first two characters of the id}` (`GROUP#`) | (`resource_count`)          |
//!
//! A user's create, replace and delete record its identity event (`directory::scim::events`) in
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
//!   `Query` from it, and a new cursor (`PutItem`). Without a cursor (the first page, or a jump),
//!   the bucket counters (one `Query`, at most 256 items) give `totalResults` and the bucket the
//!   page starts in; a `Select=COUNT` query skips within that bucket only. Each create and
//!   delete adds to its bucket's counter in its own transaction, so a page's cost does not grow
//!   with its `startIndex`, and concurrent creates rarely touch one counter.
//! - uniqueness: the guard items, written with `attribute_not_exists(pk)` in the resource's
//!   transaction (409 under concurrency). Members are one item each, so one member change is a
//!   constant-size transaction whatever the group's size.

mod items;
mod reads;
mod writes;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::dynamo::{GSI1, GSI2, Item, Table, corrupt, n, s};
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::{Deletion, ScimEntry, ScimStore};
use crate::directory::scim::directory_user::Link;
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::patch::MemberChange;
use crate::directory::scim::resource::{Kind, MAX_EVALUATED_BYTES, Record};
use crate::events::IdentityEvent;
use items::{
    bucket, counted_key, counter_key, counters_part, cursor_key, entry_from, ext_value, failed, is_condition_failure, key, member_id, member_key, name_value,
    part, resource_item, resource_key, sk_of, tag, tombstone_key, unique_members, values,
};
use writes::{TX_LIMIT, Why};

pub use writes::{MAX_EMAILS, counters_complete};

/// How long a page cursor lives.
const CURSOR_SECONDS: u64 = 15 * 60;

/// Past [`MAX_EVALUATED_BYTES`] of resources read for one listing.
fn too_large() -> StoreError {
    StoreError::Limit(format!("more than {} MiB of resources", MAX_EVALUATED_BYTES >> 20))
}

/// The bytes of the resources `items` hold (their stored JSON).
fn out_bytes(items: &[Item]) -> usize {
    items.iter().map(|i| i.get("data").and_then(|v| v.as_s().ok()).map_or(0, String::len)).sum()
}

pub struct DynamoScim {
    table: Table,
}

impl DynamoScim {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    fn client(&self) -> &Client {
        &self.table.client
    }

    /// Builds the organisation's bucket counters from its users and groups, for an organisation
    /// created before the counters existed (until then its pages count every resource before
    /// them), then marks them complete; returns (users, groups). Safe beside SCIM writes: a
    /// bucket is written only if no change landed in it since its counter was read, and counted
    /// again otherwise.
    pub async fn recount(&self, org: &OrgId) -> Result<(usize, usize), StoreError> {
        let mut totals = [0usize; 2];
        for (kind, total) in [Kind::User, Kind::Group].into_iter().zip(totals.iter_mut()) {
            *total = self.recount_kind(org, kind).await?;
        }
        self.client().put_item().table_name(&self.table.name).set_item(Some(counted_key(org))).send().await.map_err(|e| failed(&e))?;
        Ok((totals[0], totals[1]))
    }

    async fn recount_kind(&self, org: &OrgId, kind: Kind) -> Result<usize, StoreError> {
        for _ in 0..5 {
            // The changes each counter had before the count (every counter, marked or not).
            let mut seen: BTreeMap<String, Option<u64>> = BTreeMap::new();
            let prefix = format!("{}#", tag(kind));
            for item in reads::query_all(&self.table, None, "pk", &counters_part(org), Some(&prefix)).await? {
                if let Some(bucket) = sk_of(&item).and_then(|sk| sk.strip_prefix(&prefix).map(str::to_owned)) {
                    seen.insert(bucket, item.get("changes").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()));
                }
            }
            let mut counts: BTreeMap<String, usize> = seen.keys().map(|b| (b.clone(), 0)).collect();
            let mut start = None;
            loop {
                let out = reads::resources(&self.table, org, kind, "")
                    .projection_expression("sk")
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| failed(&e))?;
                for sk in out.items.unwrap_or_default().iter().filter_map(sk_of) {
                    *counts.entry(bucket(sk.strip_prefix(&prefix).unwrap_or_default())).or_default() += 1;
                }
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
            let mut raced = false;
            for (b, count) in &counts {
                let before = seen.get(b).copied().flatten();
                let mut item = counter_key(org, kind, b);
                item.insert("resource_count".into(), n(count));
                item.insert("changes".into(), n(before.unwrap_or(0)));
                let put = self.client().put_item().table_name(&self.table.name).set_item(Some(item));
                let put = match before {
                    Some(changes) => put.condition_expression("changes = :c").expression_attribute_values(":c", n(changes)),
                    None => put.condition_expression("attribute_not_exists(changes)"),
                };
                match put.send().await {
                    Ok(_) => {}
                    Err(e) if is_condition_failure(&e) => raced = true,
                    Err(e) => return Err(failed(&e)),
                }
            }
            if !raced {
                return Ok(counts.values().sum());
            }
        }
        Err(StoreError::Unavailable("resources kept changing while they were counted; try again".into()))
    }
}

#[async_trait]
impl ScimStore for DynamoScim {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError> {
        self.table.get_consistent(resource_key(org, kind, id)).await?.as_ref().map(entry_from).transpose()
    }

    async fn lookup(&self, org: &OrgId, kind: Kind, lookup: &Lookup, limit: usize) -> Result<Vec<ScimEntry>, StoreError> {
        let over = |found: usize| if found > limit { Err(StoreError::Limit(format!("more than {limit} resources"))) } else { Ok(()) };
        let items = match lookup {
            Lookup::UserName(v) | Lookup::DisplayName(v) => {
                reads::query_all(&self.table, Some(GSI1), "gsi1pk", &name_value(org, kind, &v.to_lowercase()), None).await?
            }
            Lookup::ExternalId(v) => reads::query_all(&self.table, Some(GSI2), "gsi2pk", &ext_value(org, kind, v), None).await?,
            Lookup::Email(v) => {
                // Many users may share an email: counted by their index items (keys only)
                // before any resource is read.
                let ids = reads::query_all(&self.table, None, "pk", &format!("SCIM#{org}#EMAIL#{}", v.to_lowercase()), None).await?;
                over(ids.len())?;
                let keys: Vec<Item> = ids.iter().filter_map(sk_of).map(|id| resource_key(org, Kind::User, &id)).collect();
                // Read a batch at a time, so the bytes are bounded while they are read.
                let (mut items, mut bytes) = (Vec::new(), 0);
                for batch in keys.chunks(100) {
                    let read = self.table.batch_get(batch.to_vec()).await?;
                    bytes += out_bytes(&read);
                    if bytes > MAX_EVALUATED_BYTES {
                        return Err(too_large());
                    }
                    items.extend(read);
                }
                items
            }
            Lookup::Id(id) => return Ok(self.get(org, kind, id).await?.into_iter().collect()),
        };
        // userName, displayName and externalId are unique: those lookups find one at most.
        over(items.len())?;
        items.iter().map(entry_from).collect()
    }

    async fn page(&self, org: &OrgId, kind: Kind, start: usize, count: usize, now: u64) -> Result<(Vec<ScimEntry>, usize), StoreError> {
        let cursor = if start > 1 { self.table.get_consistent(cursor_key(org, kind, start)).await? } else { None };
        let cursor = cursor.and_then(|c| {
            let after = c.get("after")?.as_s().ok()?.clone();
            let total = c.get("total")?.as_n().ok()?.parse().ok()?;
            Some((key(part(org), after), total))
        });
        // Where the page starts: after the cursor's key, or found through the bucket counters
        // (a bucket, then after a skip within it). Either way its cost does not depend on `start`.
        let (total, bucket, mut next) = match cursor {
            Some((after, total)) => (total, String::new(), Some(after)),
            None => {
                let skip = start.saturating_sub(1);
                let (total, located) = match reads::buckets(&self.table, org, kind).await? {
                    Some(buckets) => {
                        let total = buckets.iter().fold(0usize, |sum, (_, n)| sum.saturating_add(*n));
                        (total, reads::locate(&buckets, skip).map(|(bucket, skip)| (bucket.to_owned(), skip)))
                    }
                    // Counters not complete (an organisation older than them): count and skip
                    // every resource before the page.
                    None => (reads::count(&self.table, org, kind).await?, Some((String::new(), skip))),
                };
                // No page asked for, or one past the end: nothing more to read.
                let Some((bucket, skip)) = located.filter(|_| count > 0) else { return Ok((Vec::new(), total)) };
                let after = match skip {
                    0 => None,
                    _ => match reads::skip_in(&self.table, org, kind, &bucket, skip).await? {
                        Some(after) => Some(after),
                        None => return Ok((Vec::new(), total)),
                    },
                };
                (total, bucket, after)
            }
        };
        if count == 0 {
            return Ok((Vec::new(), total));
        }
        let mut items = Vec::new();
        loop {
            let out = reads::resources(&self.table, org, kind, &bucket)
                .limit((count - items.len()) as i32)
                .set_exclusive_start_key(next)
                .send()
                .await
                .map_err(|e| failed(&e))?;
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
            // A lost cursor only costs the next page a look at the counters: not worth failing this one.
            if let Err(e) = self.client().put_item().table_name(&self.table.name).set_item(Some(cursor)).send().await {
                tracing::warn!(error = %failed(&e), "could not store the page cursor");
            }
        }
        Ok((items.iter().map(entry_from).collect::<Result<_, _>>()?, total))
    }

    async fn all(&self, org: &OrgId, kind: Kind, limit: usize) -> Result<Vec<ScimEntry>, StoreError> {
        let (mut items, mut start) = (Vec::new(), None);
        let mut bytes = 0;
        loop {
            let out = reads::resources(&self.table, org, kind, "").set_exclusive_start_key(start).send().await.map_err(|e| failed(&e))?;
            let page = out.items.unwrap_or_default();
            // Resources are up to 64 KiB each: the bytes read are bounded too, or a few thousand
            // large ones would fill the function's memory before the count is reached.
            bytes += out_bytes(&page);
            items.extend(page);
            if items.len() > limit {
                return Err(StoreError::Limit(format!("more than {limit} resources")));
            }
            if bytes > MAX_EVALUATED_BYTES {
                return Err(too_large());
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
        base.extend(writes::counted(&self.table, org, record.kind, &record.id, 1)?);
        base.extend(writes::key_changes(&self.table, org, None, Some(record))?);
        base.extend(writes::event(&self.table, event)?);
        let ops = unique_members(members).iter().map(|m| writes::member_add(&self.table, org, &record.id, m)).collect::<Result<Vec<_>, _>>()?;
        let written = self.table.check(resource_key(org, record.kind, &record.id), "version = :v", Some(values(&[(":v", n(record.version))])))?;
        writes::run_chunked(&self.table, base, ops, (written, Why::Version)).await
    }

    async fn replace(&self, org: &OrgId, current: &ScimEntry, next: &Record, event: Option<&IdentityEvent>) -> Result<(), StoreError> {
        let item = resource_item(org, next, &current.link, next.kind == Kind::User, None)?;
        let condition = values(&[(":v", n(current.record.version))]);
        let mut items = vec![(self.table.put(item, "version = :v", Some(condition))?, Why::Version)];
        items.extend(writes::key_changes(&self.table, org, Some(&current.record), Some(next))?);
        items.extend(writes::event(&self.table, event)?);
        if items.len() > TX_LIMIT {
            return Err(StoreError::Limit("too many changes at once".into()));
        }
        writes::run(&self.table, items).await
    }

    async fn delete(&self, org: &OrgId, current: &ScimEntry, how: Deletion, event: Option<&IdentityEvent>) -> Result<(), StoreError> {
        let record = &current.record;
        // Every membership the resource is in, and a group's own: (group, member), each once.
        let mut memberships: BTreeSet<(String, String)> = self.groups_of(org, &record.id).await?.into_iter().map(|g| (g, record.id.clone())).collect();
        if record.kind == Kind::Group {
            memberships.extend(reads::member_ids(&self.table, org, &record.id).await?.into_iter().map(|u| (record.id.clone(), u)));
        }
        let removals = memberships
            .iter()
            .map(|(g, m)| Ok((writes::delete_plain(&self.table, member_key(org, g, m))?, Why::Version)))
            .collect::<Result<_, StoreError>>()?;
        let version = values(&[(":v", n(record.version))]);
        let key = resource_key(org, record.kind, &record.id);
        let mut items = vec![(self.table.delete(key.clone(), "version = :v", Some(version.clone()))?, Why::Version)];
        items.extend(writes::counted(&self.table, org, record.kind, &record.id, -1)?);
        items.extend(writes::key_changes(&self.table, org, Some(record), None)?);
        if record.kind == Kind::User {
            let tombstone = Record { version: record.version + 1, ..record.clone() };
            items.push((self.table.put_plain(resource_item(org, &tombstone, &current.link, true, Some(how))?)?, Why::Version));
        }
        items.extend(writes::event(&self.table, event)?);
        let unchanged = (self.table.check(key, "version = :v", Some(version))?, Why::Version);
        writes::run_removals_first(&self.table, removals, items, unchanged).await
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
        writes::sync_outcome(&self.table, org, entry, error, "SET sync_error = :e ADD sync_attempts :one").await
    }

    async fn sync_refused(&self, org: &OrgId, entry: &ScimEntry, error: &str) -> Result<(), StoreError> {
        writes::sync_outcome(&self.table, org, entry, error, "SET sync_error = :e, sync_refused = :v REMOVE sync ADD sync_attempts :one").await
    }

    async fn pending(&self, org: &OrgId) -> Result<Vec<ScimEntry>, StoreError> {
        let (mut items, mut start) = (Vec::new(), None);
        loop {
            let out = reads::query(&self.table)
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
                // An item that does not read as an entry is logged and passed over: the others are
                // still retried.
                return Ok(items
                    .iter()
                    .filter_map(|item| {
                        entry_from(item).map_err(|e| tracing::error!(org = %org, error = %e, "a pending SCIM entry does not read; passed over")).ok()
                    })
                    .collect());
            }
        }
    }

    async fn members(&self, org: &OrgId, group: &str) -> Result<Vec<Value>, StoreError> {
        let items = reads::query_all(&self.table, None, "pk", &format!("SCIM#{org}#MEMBERS#{group}"), None).await?;
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
        let items = reads::query_all(&self.table, Some(GSI1), "gsi1pk", &format!("SCIM#{org}#MEMBEROF#{user}"), None).await?;
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
                        existing = Some(reads::member_ids(&self.table, org, gid).await?);
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
        base.extend(writes::key_changes(&self.table, org, Some(&current.record), Some(next))?);
        let mut ops = Vec::with_capacity(net.len());
        for (id, member) in &net {
            ops.push(match member {
                Some(m) => writes::member_add(&self.table, org, gid, m)?,
                None => vec![(writes::delete_plain(&self.table, member_key(org, gid, id))?, Why::Version)],
            });
        }
        let written = self.table.check(resource_key(org, Kind::Group, gid), "version = :v", Some(values(&[(":v", n(next.version))])))?;
        writes::run_chunked(&self.table, base, ops, (written, Why::Version)).await
    }
}
