//! What the DynamoDB stores share: the index name, attribute value shorthands, decoding the
//! JSON `data` attribute and the `version` beside it, and reading a whole `gsi1` partition page
//! by page. Each store over DynamoDB is a submodule.

pub mod activity;
pub mod apps;
pub mod audit;
pub mod consents;
pub mod corporate_links;
pub mod daily;
pub mod email_templates;
pub mod hooks;
pub mod keys;
pub mod orgs;
pub mod outbox;
pub mod refresh_tokens;
pub mod scim;
mod session_moves;
pub mod sessions;
pub mod sign_ups;
pub mod workflows;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, TransactWriteItem, Update};
use std::collections::HashMap;

use crate::adapters::aws::{Failure, store_error};
use crate::common::store::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// The table's generic indexes (`gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`), both projecting all
/// attributes so a lookup is one query.
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// What a write refused because a transaction was writing its item (or a transaction refused
/// because another write was) is reported as: `StoreError::Unavailable` of this.
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// Whether `e` is a write (or transaction) that met a transaction on its item: worth a retry.
pub fn transaction_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(code) if code == TRANSACTION_CONFLICT)
}

/// A failed write as the stores report it: `Conflict` when the write's condition did not hold.
pub fn write_error(failure: Failure) -> StoreError {
    match failure {
        Failure::Service { code } if code == "ConditionalCheckFailedException" => StoreError::Conflict,
        // A transaction was writing the item just then (the SDK does not retry it).
        Failure::Service { code } if code == "TransactionConflictException" => StoreError::Unavailable(TRANSACTION_CONFLICT.into()),
        other => store_error(other),
    }
}

/// A serde enum's name (`"sign_in.high_risk"`, `"failed"`), as items store it.
pub fn name_of(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The record stored as JSON in an item's `data` attribute (`what` names it in errors).
pub fn data<T: serde::de::DeserializeOwned>(item: &Item, what: &str) -> Result<T, StoreError> {
    let raw = item.get("data").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt(format!("{what} item without data")))?;
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what} item: {e}")))
}

/// The item's `version` attribute, which is authoritative over any copy inside `data`.
pub fn version(item: &Item) -> Option<u64> {
    number(item, "version")
}

/// The item's number attribute `name`, if it has one that fits a `u64`.
pub fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// A conditional write's outcome: `false` for `Conflict` (its condition did not hold).
fn conditional(written: Result<(), StoreError>) -> Result<bool, StoreError> {
    match written {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A key of the table: partition `pk`, sort `sk`.
/// The condition that writes version `version` of an item: a new item for version 1, else over
/// version `version - 1` (its values, if any); `Conflict` for version 0.
pub fn version_condition(version: u64) -> Result<(&'static str, Option<Item>), StoreError> {
    match version.checked_sub(1).ok_or(StoreError::Conflict)? {
        0 => Ok(("attribute_not_exists(pk)", None)),
        previous => Ok(("version = :previous", Some(HashMap::from([(":previous".to_owned(), n(previous))])))),
    }
}

pub fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".into(), s(pk)), ("sk".into(), s(sk))])
}

/// One page of `index`'s partition `partition` (`{index}pk`): up to `limit` items from just
/// after `start` (the last item's keys, table and index), in sort-key order or, when not
/// `forward`, reversed. The answer's `last_evaluated_key` is where the next page starts.
pub async fn query_page(
    table: &Table,
    index: &str,
    partition: &str,
    limit: usize,
    start: Option<Item>,
    forward: bool,
) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
    table
        .client
        .query()
        .table_name(&table.name)
        .index_name(index)
        .key_condition_expression(format!("{index}pk = :p"))
        .expression_attribute_values(":p", s(partition))
        .scan_index_forward(forward)
        .limit(i32::try_from(limit).unwrap_or(i32::MAX))
        .set_exclusive_start_key(start)
        .send()
        .await
        .map_err(|e| store_error(Failure::of(&e)))
}

/// Every item whose `gsi1pk` is `partition`, in `gsi1sk` order.
pub async fn query_gsi1(client: &Client, table: &str, partition: &str) -> Result<Vec<Item>, StoreError> {
    query_all(client, table, Some(GSI1), partition).await
}

/// Every item of one partition, in sort-key order, page after page: of the table (`index`
/// `None`: `pk`) or of `gsi1`/`gsi2` (`gsi1pk`, `gsi2pk`).
pub async fn query_all(client: &Client, table: &str, index: Option<&str>, partition: &str) -> Result<Vec<Item>, StoreError> {
    let key = index.map_or_else(|| "pk".to_owned(), |index| format!("{index}pk"));
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(format!("{key} = :p"))
            .expression_attribute_values(":p", s(partition))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// The bridge's table and the building blocks of its transactions.
pub struct Table {
    pub client: Client,
    pub name: String,
}

/// Why a transaction did not happen.
pub enum TxError {
    /// The condition of the item at this index failed.
    Condition(usize),
    Store(StoreError),
}

impl TxError {
    /// Any failed condition read as a conflict (where no item's failure means more than that).
    pub fn or_conflict(self) -> StoreError {
        match self {
            TxError::Condition(_) => StoreError::Conflict,
            TxError::Store(e) => e,
        }
    }

    /// Whether another transaction was writing one of the items at that moment: worth a retry.
    pub fn conflicted(&self) -> bool {
        matches!(self, TxError::Store(e) if transaction_conflict(e))
    }
}

impl Table {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into() }
    }

    /// The items of `keys` that exist (strongly consistent reads), in `BatchGetItem`s of at most
    /// 100 keys. Keys DynamoDB leaves unprocessed (throttling, a partition busy) are asked for
    /// again after 25, 50, 100 and 200 ms (as DynamoDB asks: with exponential backoff), up to 5
    /// times in all; still unprocessed after that is `Throttled`, never "absent": a counter or
    /// profile read as missing would read as new.
    pub async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).consistent_read(true).build().map_err(corrupt)?);
            for attempt in 0..5 {
                let Some(request) = pending.take() else { break };
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << (attempt - 1))).await;
                }
                let out = self.client.batch_get_item().request_items(&self.name, request).send().await.map_err(|e| store_error(Failure::of(&e)))?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.name)).unwrap_or_default());
                pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.name)).filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Throttled);
            }
        }
        Ok(found)
    }

    /// Runs `items` as one transaction; a cancelled one reports the index of the first item
    /// whose condition failed.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxError> {
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let Err(e) = result else { return Ok(()) };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = e.as_service_error() {
            let failed = cancelled.cancellation_reasons().iter().position(|r| r.code() == Some("ConditionalCheckFailed"));
            if let Some(index) = failed {
                return Err(TxError::Condition(index));
            }
            // Another transaction was writing one of these items at that moment, or the table
            // was busy: worth a retry (`run` in the SCIM store does).
            let reasons: Vec<&str> = cancelled.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
            if reasons.contains(&"TransactionConflict") {
                return Err(TxError::Store(StoreError::Unavailable(TRANSACTION_CONFLICT.into())));
            }
            if reasons.iter().any(|r| matches!(*r, "ThrottlingError" | "ProvisionedThroughputExceeded")) {
                return Err(TxError::Store(StoreError::Throttled));
            }
        }
        Err(TxError::Store(store_error(Failure::of(&e))))
    }

    pub fn put(&self, item: Item, condition: &str, values: Option<Item>) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A `Put` without a condition (idempotent items: indexes, members, last sign-ins).
    pub fn put_plain(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder().table_name(&self.name).set_item(Some(item)).build().map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub fn delete(&self, key: Item, condition: &str, values: Option<Item>) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.name)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    pub fn update(&self, key: Item, expression: &str, condition: &str, values: Item) -> Result<TransactWriteItem, StoreError> {
        // `data` is a reserved word in expressions.
        let names = expression.contains("#data").then(|| HashMap::from([("#data".to_owned(), "data".to_owned())]));
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key))
            .update_expression(expression)
            .set_expression_attribute_names(names)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Puts `item` if `condition` (with `values`) holds; `Conflict` if it does not.
    pub async fn put_item(&self, item: Item, condition: Option<&str>, values: Option<Item>) -> Result<(), StoreError> {
        let put = self.client.put_item().table_name(&self.name).set_item(Some(item)).set_condition_expression(condition.map(str::to_owned));
        put.set_expression_attribute_values(values).send().await.map_err(|e| write_error(Failure::of(&e)))?;
        Ok(())
    }

    /// Puts `item` as version `version` (its `version` attribute): a new item for version 1, else
    /// over version `version - 1`; `Conflict` when the stored version is another.
    pub async fn put_versioned(&self, mut item: Item, version: u64) -> Result<(), StoreError> {
        let (condition, values) = version_condition(version)?;
        item.insert("version".into(), n(version));
        self.put_item(item, Some(condition), values).await
    }

    /// The items of partition `pk` whose sort key is in `from..=to`, in order: one `Query`, one
    /// page (for small ranges, such as a month of daily counters).
    pub async fn sort_key_range(&self, pk: &str, from: &str, to: &str) -> Result<Vec<Item>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(out.items.unwrap_or_default())
    }

    pub async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self.client.get_item().table_name(&self.name).set_key(Some(key)).send().await.map_err(|e| store_error(Failure::of(&e)))?;
        Ok(out.item)
    }

    /// A condition on an item the transaction does not change.
    pub fn check(&self, key: Item, condition: &str, values: Option<Item>) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.name)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// One conditional `UpdateItem` of `key`; `false` when `condition` did not hold.
    pub async fn update_if(&self, key: Item, update: &str, condition: &str, values: Option<Item>) -> Result<bool, StoreError> {
        let call = self.client.update_item().table_name(&self.name).set_key(Some(key)).update_expression(update).condition_expression(condition);
        conditional(call.set_expression_attribute_values(values).send().await.map(drop).map_err(|e| write_error(Failure::of(&e))))
    }

    /// One conditional `DeleteItem` of `key`; `false` when `condition` did not hold (nothing
    /// deleted).
    pub async fn delete_if(&self, key: Item, condition: &str, values: Option<Item>) -> Result<bool, StoreError> {
        let call = self.client.delete_item().table_name(&self.name).set_key(Some(key)).condition_expression(condition);
        conditional(call.set_expression_attribute_values(values).send().await.map(drop).map_err(|e| write_error(Failure::of(&e))))
    }

    /// A strongly consistent read (read-after-write, as SCIM clients expect).
    pub async fn get_consistent(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out =
            self.client.get_item().table_name(&self.name).set_key(Some(key)).consistent_read(true).send().await.map_err(|e| store_error(Failure::of(&e)))?;
        Ok(out.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    /// `BatchGetItem` answers: `keys` unprocessed each time for `busy` answers, then found.
    async fn read(busy: usize) -> (Result<Vec<Item>, StoreError>, usize) {
        let left = || HashMap::from([("t".to_owned(), KeysAndAttributes::builder().keys(key("p".into(), "b")).build().unwrap_or_else(|e| panic!("{e}")))]);
        let found = |sk: &str| HashMap::from([("t".to_owned(), vec![key("p".into(), sk)])]);
        let (found_a, found_b) = (found("a"), found("b"));
        let rule = mock!(Client::batch_get_item)
            .sequence()
            .output(move || BatchGetItemOutput::builder().set_responses(Some(found_a.clone())).set_unprocessed_keys(Some(left())).build())
            .output(move || BatchGetItemOutput::builder().set_unprocessed_keys(Some(left())).build())
            .times(busy.saturating_sub(1).max(1))
            .output(move || BatchGetItemOutput::builder().set_responses(Some(found_b.clone())).build())
            .build();
        let table = Table::new(mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]), "t");
        let result = table.batch_get(vec![key("p".into(), "a"), key("p".into(), "b")]).await;
        (result, rule.num_calls())
    }

    /// DynamoDB answers a write to an item a transaction is writing with
    /// `TransactionConflictException`, which the SDK does not retry: a conflict worth a retry,
    /// not a refused condition. (moto serialises writes and never answers it.)
    #[tokio::test]
    async fn a_write_meeting_a_transaction_is_a_conflict_worth_a_retry() {
        use aws_sdk_dynamodb::error::ErrorMetadata;
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::error::TransactionConflictException;
        let conflict = || {
            let meta = ErrorMetadata::builder().code("TransactionConflictException").message("a transaction is writing the item").build();
            UpdateItemError::TransactionConflictException(TransactionConflictException::builder().meta(meta).build())
        };
        let rule = mock!(Client::update_item).then_error(conflict);
        let table = Table::new(mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]), "t");
        let result = table.update_if(key("p".into(), "s"), "SET a = :a", "attribute_exists(pk)", None).await;
        assert!(result.as_ref().is_err_and(transaction_conflict), "{result:?}");
        assert!(TxError::Store(result.err().unwrap_or(StoreError::Conflict)).conflicted());
    }

    #[tokio::test]
    async fn unprocessed_keys_are_asked_again_and_never_read_as_absent() {
        let (found, calls) = read(2).await;
        let sks: Vec<String> = found.unwrap_or_else(|e| panic!("{e}")).iter().filter_map(|i| i.get("sk")?.as_s().ok().cloned()).collect();
        assert_eq!((sks, calls), (vec!["a".to_owned(), "b".to_owned()], 3));
        let (found, calls) = read(6).await;
        assert!(matches!(found, Err(StoreError::Throttled)), "{found:?}");
        assert_eq!(calls, 5, "five requests at most");
    }
}
