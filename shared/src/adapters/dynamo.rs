//! What the DynamoDB stores share: the index name, attribute value shorthands, and reading a
//! whole `gsi1` partition page by page.

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
