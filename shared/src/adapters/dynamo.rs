//! What the DynamoDB stores share: the index name, attribute value shorthands, decoding the
//! JSON `data` attribute and the `version` beside it, and reading a whole `gsi1` partition page
//! by page.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use super::aws::{Failure, store_error};
use crate::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// The table's one generic index (`gsi1pk`/`gsi1sk`).
pub const GSI1: &str = "gsi1";

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
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
    item.get("version").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// Every item whose `gsi1pk` is `partition`, in `gsi1sk` order.
pub async fn query_gsi1(client: &Client, table: &str, partition: &str) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .query()
            .table_name(table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p")
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
