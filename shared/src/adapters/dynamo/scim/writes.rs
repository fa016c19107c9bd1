//! The SCIM store's writes: transaction items for guards, email index entries, members and
//! events, running them (chunked; removals with or before the change they belong to; a lost race
//! retried) and sync outcomes. What a write means for a resource is `mod.rs`'s `ScimStore` impl;
//! reads are `reads`.

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

use super::items::{
    bucket, counted_key, counter_key, email_key, ext_guard, failed, is_condition_failure, member_id, member_key, name_attr, name_guard, resource_key,
    tombstone_key, values,
};
use crate::adapters::dynamo::outbox::event_put;
use crate::adapters::dynamo::{Item, Table, TxError, n, s};
use crate::common::random;
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::ScimEntry;
use crate::directory::scim::resource::{Kind, Record};
use crate::events::IdentityEvent;

/// DynamoDB's limit on items per transaction.
pub(super) const TX_LIMIT: usize = 100;
/// Most emails one user may have (each is an index item in the user's transactions).
pub const MAX_EMAILS: usize = 20;

/// What a failed condition in a transaction means.
#[derive(Clone)]
pub(super) enum Why {
    Version,
    Taken(&'static str),
    Missing(String),
}

pub(super) type TxItems = Vec<(TransactWriteItem, Why)>;

/// Records a failed sync attempt of `entry`'s version with `update` (`:e` the error, `:v`
/// the version, `:one`); nothing when a newer version was written meanwhile (its writer
/// syncs it).
pub(super) async fn sync_outcome(table: &Table, org: &OrgId, entry: &ScimEntry, error: &str, update: &str) -> Result<(), StoreError> {
    let id = &entry.record.id;
    let key = if entry.deleted.is_some() { tombstone_key(org, id) } else { resource_key(org, Kind::User, id) };
    let result = table
        .client
        .update_item()
        .table_name(&table.name)
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

/// The change's event, recorded in its transaction. Its id names the version written, so
/// it exists already only if that version does (a lost race).
pub(super) fn event(table: &Table, event: Option<&IdentityEvent>) -> Result<TxItems, StoreError> {
    event.map(|e| Ok((event_put(table, e)?, Why::Version))).into_iter().collect()
}

/// Adds `delta` (1 on create, -1 on delete) to the counter of the resource's bucket, in the
/// resource's transaction, so the counters always agree with the resources; `changes` counts
/// every change, so `recount` can tell that one landed while it counted. Two transactions on
/// one bucket at once lose a race (`TransactionConflict`) and `run` retries it.
pub(super) fn counted(table: &Table, org: &OrgId, kind: Kind, id: &str, delta: i64) -> Result<TxItems, StoreError> {
    let update = table.update(
        counter_key(org, kind, &bucket(id)),
        "ADD resource_count :d, changes :one",
        "attribute_exists(pk) OR attribute_not_exists(pk)",
        values(&[(":d", n(delta)), (":one", n(1))]),
    )?;
    Ok(vec![(update, Why::Version)])
}

/// The item that marks a new organisation's counters as complete, for its creation's
/// transaction (it has no resources yet).
pub fn counters_complete(table: &Table, org: &OrgId) -> Result<TransactWriteItem, StoreError> {
    table.put_plain(counted_key(org))
}

pub(super) fn delete_plain(table: &Table, key: Item) -> Result<TransactWriteItem, StoreError> {
    table.delete(key, "attribute_exists(pk) OR attribute_not_exists(pk)", None)
}

/// Runs one transaction; a lost race between transactions (`TransactionConflict`: two on one
/// name, or one bucket counter) or a throttled one is retried 4 times, jittered, so that
/// concurrent creates of one name end in exactly one success and `Taken` for the rest. Any
/// other cancellation is not retried.
pub(super) async fn run(table: &Table, items: TxItems) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let (tx, whys): (Vec<_>, Vec<_>) = items.into_iter().unzip();
    let mut attempt = 0;
    loop {
        match table.transact(tx.clone()).await {
            Ok(()) => return Ok(()),
            Err(TxError::Condition(i)) => {
                return Err(match whys.get(i) {
                    Some(Why::Version) => StoreError::Conflict,
                    Some(Why::Taken(what)) => StoreError::Taken((*what).to_owned()),
                    Some(Why::Missing(id)) => StoreError::Missing(id.clone()),
                    None => StoreError::Corrupt("a transaction condition failed".into()),
                });
            }
            Err(TxError::Store(StoreError::Throttled)) if attempt < 4 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt + random::below(50 * attempt))).await;
            }
            Err(e) if e.conflicted() && attempt < 4 => {
                attempt += 1;
                // Jittered, so two losers do not meet again.
                tokio::time::sleep(Duration::from_millis(10 * attempt + random::below(20 * attempt))).await;
            }
            Err(TxError::Store(e)) => return Err(e),
        }
    }
}

/// Runs `base` with as many of `ops` (each a group of items that belong together) as fit,
/// then the remaining ops in further transactions, each with `written` (a condition that what
/// `base` wrote is still there, at its version): none lands once the resource has been deleted
/// or changed again.
pub(super) async fn run_chunked(table: &Table, base: TxItems, ops: Vec<TxItems>, written: (TransactWriteItem, Why)) -> Result<(), StoreError> {
    let mut current = base;
    for op in ops {
        if current.len() + op.len() > TX_LIMIT {
            run(table, std::mem::replace(&mut current, vec![written.clone()])).await?;
        }
        current.extend(op);
    }
    run(table, current).await
}

/// Runs `last` with `removals` (deletes of items that belong to what `last` changes) in one
/// transaction when they fit, so a refused or failed change removes nothing. Removals that do not
/// fit (more than about 95 memberships) run first, in transactions of their own that each carry
/// `unchanged` (a condition that what `last` changes is still the version read): none runs once
/// that has changed, and a failure between them leaves what remains for the change's retry.
pub(super) async fn run_removals_first(table: &Table, mut removals: TxItems, last: TxItems, unchanged: (TransactWriteItem, Why)) -> Result<(), StoreError> {
    let fit = TX_LIMIT.saturating_sub(last.len());
    let with_last = removals.split_off(removals.len().saturating_sub(fit));
    for chunk in removals.chunks(TX_LIMIT - 1) {
        let mut items = vec![unchanged.clone()];
        items.extend_from_slice(chunk);
        run(table, items).await?;
    }
    let mut items = last;
    items.extend(with_last);
    run(table, items).await
}

pub(super) fn member_add(table: &Table, org: &OrgId, group: &str, member: &Value) -> Result<TxItems, StoreError> {
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
    Ok(vec![(table.put_plain(item)?, Why::Version), (table.check(resource_key(org, kind, id), "attribute_exists(pk)", None)?, Why::Missing(id.to_owned()))])
}

/// Guard and index changes between two versions of a record (`None`: created or deleted).
pub(super) fn key_changes(table: &Table, org: &OrgId, before: Option<&Record>, after: Option<&Record>) -> Result<TxItems, StoreError> {
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
            items.push((table.delete(guard(&old), "id = :id", Some(id_is()))?, Why::Version));
        }
        if let Some(new) = new {
            let mut item = guard(&new);
            item.insert("id".into(), s(&id));
            items.push((table.put(item, "attribute_not_exists(pk)", None)?, Why::Taken(what)));
        }
    }
    if kind == Kind::User {
        let old: BTreeSet<String> = before.map(Record::emails).unwrap_or_default().into_iter().collect();
        let new: BTreeSet<String> = after.map(Record::emails).unwrap_or_default().into_iter().collect();
        if new.len() > MAX_EMAILS {
            return Err(StoreError::Limit(format!("a user has at most {MAX_EMAILS} emails")));
        }
        for gone in old.difference(&new) {
            items.push((delete_plain(table, email_key(org, gone, &id))?, Why::Version));
        }
        for added in new.difference(&old) {
            items.push((table.put_plain(email_key(org, added, &id))?, Why::Version));
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::{Why, run};
    use crate::adapters::dynamo::{Table, key};
    use crate::common::store::StoreError;
    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn cancelled(reason: &'static str) -> TransactWriteItemsError {
        let meta = aws_smithy_types::error::ErrorMetadata::builder().code("TransactionCanceledException").build();
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder().cancellation_reasons(CancellationReason::builder().code(reason).build()).meta(meta).build(),
        )
    }

    async fn outcome(first: &'static str, times: usize) -> (Result<(), StoreError>, usize) {
        let rule = mock!(Client::transact_write_items)
            .sequence()
            .error(move || cancelled(first))
            .times(times)
            .output(|| TransactWriteItemsOutput::builder().build())
            .build();
        let table = Table::new(mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]), "t");
        let item = table.put_plain(key("p".into(), "s")).unwrap();
        let result = run(&table, vec![(item, Why::Version)]).await;
        (result, rule.num_calls())
    }

    #[tokio::test]
    async fn a_lost_race_or_throttling_is_retried_and_nothing_else_is() {
        assert_eq!(outcome("TransactionConflict", 2).await, (Ok(()), 3), "a conflict (two writers on one counter) is retried");
        assert_eq!(outcome("ThrottlingError", 1).await, (Ok(()), 2));
        assert_eq!(outcome("TransactionConflict", 5).await.1, 5, "four retries at most");
        let (result, calls) = outcome("ValidationError", 1).await;
        assert_eq!((result.is_err(), calls), (true, 1), "a request that cannot succeed is not repeated");
    }
}
