//! Each person's last sign-in, kept in the bridge's table for the inactive-user schedule.
//!
//! | item         | `pk`                   | `sk`       | `gsi1pk`   | `gsi1sk`                     | other attributes                |
//! |--------------|------------------------|------------|------------|------------------------------|---------------------------------|
//! | last sign-in | `ACTIVITY#{username}`  | `ACTIVITY` | `ACTIVITY` | `{last sign-in:012}#{username}` | `username`, `sub`, `last_sign_in` |
//!
//! The item is written in the transaction that opens a session (`adapters::dynamo_sessions`),
//! so it is exactly as current as the sign-in events, and by the PostAuthentication trigger for
//! sign-ins that do not pass through the bridge. People who signed in before a moment are
//! one `gsi1` query with `gsi1sk < :cutoff`, oldest first. One index partition holds every
//! person: its write rate is the sign-in rate (Cognito allows 120 sign-ins/s per account and
//! region; a partition takes 1,000 writes/s).

use aws_sdk_dynamodb::types::TransactWriteItem;
use std::collections::HashMap;

use super::aws::{Failure, store_error};
use super::dynamo::{GSI1, Item, Table, n, s};
use crate::ports::{SignInActivity, StoreError};

const PARTITION: &str = "ACTIVITY";

/// A person's last sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSignIn {
    pub username: String,
    pub sub: String,
    pub at: u64,
}

fn activity_item(username: &str, sub: &str, at: u64) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("ACTIVITY#{username}"))),
        ("sk".to_owned(), s("ACTIVITY")),
        ("gsi1pk".to_owned(), s(PARTITION)),
        ("gsi1sk".to_owned(), s(format!("{at:012}#{username}"))),
        ("username".to_owned(), s(username)),
        ("sub".to_owned(), s(sub)),
        ("last_sign_in".to_owned(), n(at)),
    ])
}

/// Recording a sign-in at `at`, as part of the session's transaction. Unconditional: a sign-in
/// never fails over this item (two at once: the later write wins).
pub fn activity_put(table: &Table, username: &str, sub: &str, at: u64) -> Result<TransactWriteItem, StoreError> {
    table.put_plain(activity_item(username, sub, at))
}

/// Sign-ins Cognito reports (the PostAuthentication trigger), one `PutItem` each: people who
/// sign in to Cognito without the bridge (its hosted pages, other app clients) are not inactive.
pub struct DynamoActivity {
    table: Table,
}

impl DynamoActivity {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }
}

#[async_trait::async_trait]
impl SignInActivity for DynamoActivity {
    async fn signed_in(&self, username: &str, sub: &str, at: u64) -> Result<(), StoreError> {
        self.table.put_item(activity_item(username, sub, at), None, None).await
    }
}

/// People whose last sign-in is before `cutoff`, oldest first, at most `limit`.
pub async fn signed_in_before(table: &Table, cutoff: u64, limit: usize) -> Result<Vec<LastSignIn>, StoreError> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let out = table
            .client
            .query()
            .table_name(&table.name)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p AND gsi1sk < :c")
            .expression_attribute_values(":p", s(PARTITION))
            .expression_attribute_values(":c", s(format!("{cutoff:012}")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        for item in out.items.unwrap_or_default() {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let at = item.get("last_sign_in").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or_default();
            found.push(LastSignIn { username: text("username"), sub: text("sub"), at });
            if found.len() >= limit {
                return Ok(found);
            }
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(found);
        }
    }
}
