//! Sign-up's ledger in the bridge's table (`signin::ports::SignUpLedger`):
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | sign-ups of an address | `SIGNUPS#{digest(email)}` | `SIGNUPS` | `w{window}` (N): sign-ups in that window; `noted`, `noted_until` (an existing account's sign-up proof); `tries` (N): code tries since the last code; `c{window}` (N): codes sent that window; `expires_at` |
//! | sign-ups of a network | `SIGNUPS#net#{network}` | `SIGNUPS` | `w{window}` (N), `expires_at` |
//!
//! Each count is one conditional `UpdateItem` (refused: over the limit); the proof is one
//! `UpdateItem` and one `GetItem`. Items expire a day after their last use.

use async_trait::async_trait;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::{Item, Table, key, n, s, write_error};
use crate::common::store::StoreError;
use crate::signin::oidc::digest;
use crate::signin::ports::SignUpLedger;
use crate::signin::sign_up::{CODE_TRIES, CODES_PER_EMAIL, SIGN_UP_WINDOW, SIGN_UPS_PER_EMAIL, SIGN_UPS_PER_NETWORK};

/// How long the items are kept after their last use (seconds).
const KEPT: u64 = 24 * 3600;

pub struct DynamoSignUps {
    table: Table,
}

impl DynamoSignUps {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// Runs `update` on `item` if `condition` holds; `false` when it does not.
    async fn update(
        &self,
        item: Item,
        update: &str,
        condition: Option<&str>,
        names: &[(&str, String)],
        values: &[(&str, u64)],
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(item))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_owned));
        for (name, value) in names {
            request = request.expression_attribute_names(*name, value.clone());
        }
        for (name, value) in values {
            request = request.expression_attribute_values(*name, n(value));
        }
        match request.expression_attribute_values(":exp", n(now + KEPT)).send().await.map_err(|e| write_error(Failure::of(&e))) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds one to the item's count for the current window unless it reached `limit`.
    async fn count(&self, item: Item, prefix: &str, limit: u64, now: u64) -> Result<bool, StoreError> {
        let window = [("#w", format!("{prefix}{}", now / SIGN_UP_WINDOW))];
        self.update(item, "ADD #w :one SET expires_at = :exp", Some("attribute_not_exists(#w) OR #w < :limit"), &window, &[(":one", 1), (":limit", limit)], now)
            .await
    }
}

fn address(email: &str) -> Item {
    key(format!("SIGNUPS#{}", digest(&email.to_lowercase())), "SIGNUPS")
}

#[async_trait]
impl SignUpLedger for DynamoSignUps {
    async fn sign_up_attempt(&self, email: &str, network: Option<&str>, now: u64) -> Result<bool, StoreError> {
        let by_network = async {
            match network {
                Some(network) => self.count(key(format!("SIGNUPS#net#{network}"), "SIGNUPS"), "w", SIGN_UPS_PER_NETWORK, now).await,
                None => Ok(true),
            }
        };
        let (email, network) = tokio::join!(self.count(address(email), "w", SIGN_UPS_PER_EMAIL, now), by_network);
        Ok(email? && network?)
    }

    async fn note_existing(&self, email: &str, proof: &str, now: u64) -> Result<(), StoreError> {
        let request = self.table.client.update_item().table_name(&self.table.name).set_key(Some(address(email)));
        let request = request.update_expression("SET noted = :proof, noted_until = :until, expires_at = :exp");
        let sent = request
            .expression_attribute_values(":proof", s(proof))
            .expression_attribute_values(":until", n(now + KEPT))
            .expression_attribute_values(":exp", n(now + KEPT))
            .send()
            .await;
        sent.map(drop).map_err(|e| store_error(Failure::of(&e)))
    }

    async fn noted(&self, email: &str, now: u64) -> Result<Option<String>, StoreError> {
        let item = self.table.get_item(address(email)).await?;
        let until = item.as_ref().and_then(|i| crate::adapters::dynamo::number(i, "noted_until")).unwrap_or(0);
        Ok(item.filter(|_| until > now).and_then(|i| i.get("noted").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn code_try(&self, email: &str, now: u64) -> Result<bool, StoreError> {
        let values = [(":one", 1), (":limit", CODE_TRIES)];
        self.update(address(email), "ADD tries :one SET expires_at = :exp", Some("attribute_not_exists(tries) OR tries < :limit"), &[], &values, now).await
    }

    async fn code_sent(&self, email: &str, now: u64) -> Result<bool, StoreError> {
        let window = [("#c", format!("c{}", now / SIGN_UP_WINDOW))];
        let values = [(":one", 1), (":limit", CODES_PER_EMAIL), (":zero", 0)];
        let condition = "attribute_not_exists(#c) OR #c < :limit";
        self.update(address(email), "ADD #c :one SET tries = :zero, expires_at = :exp", Some(condition), &window, &values, now).await
    }
}
