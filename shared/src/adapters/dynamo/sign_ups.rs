//! Sign-up's ledger in the bridge's table (`signin::ports::SignUpLedger`):
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | sign-ups of an address | `SIGNUPS#{digest(email)}` | `SIGNUPS` | `w{window}` (N): sign-ups in that window; `noted`, `noted_until` (an existing account's sign-up proof); `tries` (N): tries of the sign-up code since the last one; `reset_tries` (N): tries of the reset code since the last one; `c{window}` (N): codes anyone could ask for sent that window, `p{window}` (N): those only the password opens; `expires_at` |
//! | sign-ups of a network | `SIGNUPS#net#{network}` | `SIGNUPS` | `w{window}` (N), `expires_at` |
//! | a sign-in step's code | `CODESTEP#{step}` | `CODESTEP` | `tries` (N), `expires_at` |
//!
//! Each count is one conditional `UpdateItem` (refused: over the limit; a sign-up counts itself
//! and its code in one); the proof is one conditional `UpdateItem` (the first one stays) and one
//! consistent `GetItem`. Items expire a day after their last use, or with their note (30 days).

use async_trait::async_trait;

use crate::adapters::aws::Failure;
use crate::adapters::dynamo::{Item, Table, key, n, s, write_error};
use crate::common::hashing::digest;
use crate::common::store::StoreError;
use crate::signin::ports::{CodeAsker, SignUpLedger};
use crate::signin::sign_up::{CODES_PER_EMAIL, DECISIONS_PER_EMAIL, SIGN_UP_WINDOW, SIGN_UPS_PER_EMAIL, SIGN_UPS_PER_NETWORK};

/// How long the items are kept after their last use (seconds).
const KEPT: u64 = 24 * 3600;
/// How long a sign-up's proof is kept (seconds): an unconfirmed account lasts in Cognito until
/// it is deleted, so the note must outlast most of them (the item lives as long as its note).
const NOTE_KEPT: u64 = 30 * 24 * 3600;
/// Every count's `SET`: the item lives a day after its last use, or as long as its note.
const EXPIRES: &str = "expires_at = if_not_exists(noted_until, :exp)";

pub struct DynamoSignUps {
    table: Table,
}

impl DynamoSignUps {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }

    /// Counts a code sent to `email` this window in `asker`'s count, and starts the tries of
    /// the code's kind again (`restart`: `tries` for a sign-up's, `reset_tries` for a reset's);
    /// `false` over [`CODES_PER_EMAIL`].
    async fn count_code(&self, email: &str, restart: Option<&str>, asker: CodeAsker, now: u64) -> Result<bool, StoreError> {
        let prefix = match asker {
            CodeAsker::Anyone => "c",
            CodeAsker::PasswordHolder => "p",
        };
        let window = [("#c", format!("{prefix}{}", now / SIGN_UP_WINDOW))];
        let (update, values) = match restart {
            Some(tries) => (format!("ADD #c :one SET {tries} = :zero, {EXPIRES}"), &[(":one", 1), (":limit", CODES_PER_EMAIL), (":zero", 0)][..]),
            None => (format!("ADD #c :one SET {EXPIRES}"), &[(":one", 1), (":limit", CODES_PER_EMAIL)][..]),
        };
        self.update(address(email), &update, "attribute_not_exists(#c) OR #c < :limit", &window, values, now).await
    }

    /// Counts a try of the code whose tries `attribute` holds; `false` when `limit` are spent.
    async fn try_code(&self, email: &str, attribute: &str, limit: u64, now: u64) -> Result<bool, StoreError> {
        let update = format!("ADD {attribute} :one SET {EXPIRES}");
        let condition = format!("attribute_not_exists({attribute}) OR {attribute} < :limit");
        self.update(address(email), &update, &condition, &[], &[(":one", 1), (":limit", limit)], now).await
    }

    /// Runs `update` on `item` if `condition` holds; `false` when it does not.
    async fn update(&self, item: Item, update: &str, condition: &str, names: &[(&str, String)], values: &[(&str, u64)], now: u64) -> Result<bool, StoreError> {
        let mut request =
            self.table.client.update_item().table_name(&self.table.name).set_key(Some(item)).update_expression(update).condition_expression(condition);
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
}

fn address(email: &str) -> Item {
    key(format!("SIGNUPS#{}", digest(&email.to_lowercase())), "SIGNUPS")
}

#[async_trait]
impl SignUpLedger for DynamoSignUps {
    async fn sign_up_attempt(&self, email: &str, network: Option<&str>, now: u64) -> Result<bool, StoreError> {
        let window = now / SIGN_UP_WINDOW;
        // The address: a sign-up and the code it sends, in one conditional write (both limits).
        let names = [("#w", format!("w{window}")), ("#c", format!("c{window}"))];
        let values = [(":one", 1), (":zero", 0), (":wl", SIGN_UPS_PER_EMAIL), (":cl", CODES_PER_EMAIL)];
        let condition = "(attribute_not_exists(#w) OR #w < :wl) AND (attribute_not_exists(#c) OR #c < :cl)";
        let update = format!("ADD #w :one, #c :one SET tries = :zero, {EXPIRES}");
        let by_email = self.update(address(email), &update, condition, &names, &values, now);
        let by_network = async {
            let Some(network) = network else { return Ok(true) };
            let names = [("#w", format!("w{window}"))];
            let update = format!("ADD #w :one SET {EXPIRES}");
            self.update(
                key(format!("SIGNUPS#net#{network}"), "SIGNUPS"),
                &update,
                "attribute_not_exists(#w) OR #w < :limit",
                &names,
                &[(":one", 1), (":limit", SIGN_UPS_PER_NETWORK)],
                now,
            )
            .await
        };
        let (email, network) = tokio::join!(by_email, by_network);
        Ok(email? && network?)
    }

    async fn note_existing(&self, email: &str, proof: &str, now: u64) -> Result<(), StoreError> {
        // The first password chosen stays while it lasts, as Cognito keeps the first sign-up of
        // an address without an account (a second one is `UsernameExists`).
        let request = self.table.client.update_item().table_name(&self.table.name).set_key(Some(address(email)));
        let request = request
            .update_expression("SET noted = :proof, noted_until = :until, expires_at = :until")
            .condition_expression("attribute_not_exists(noted) OR noted_until < :now")
            .expression_attribute_values(":proof", s(proof))
            .expression_attribute_values(":until", n(now + NOTE_KEPT))
            .expression_attribute_values(":now", n(now));
        match request.send().await.map_err(|e| write_error(Failure::of(&e))) {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn noted(&self, email: &str, now: u64) -> Result<Option<String>, StoreError> {
        // Read consistently: a sign-in may follow the sign-up at once.
        let item = self.table.get_consistent(address(email)).await?;
        let until = item.as_ref().and_then(|i| crate::adapters::dynamo::number(i, "noted_until")).unwrap_or(0);
        Ok(item.filter(|_| until > now).and_then(|i| i.get("noted").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn code_try(&self, email: &str, limit: u64, now: u64) -> Result<bool, StoreError> {
        self.try_code(email, "tries", limit, now).await
    }

    async fn code_sent(&self, email: &str, now: u64) -> Result<bool, StoreError> {
        self.count_code(email, Some("tries"), CodeAsker::Anyone, now).await
    }

    async fn other_code_sent(&self, email: &str, asker: CodeAsker, now: u64) -> Result<bool, StoreError> {
        self.count_code(email, None, asker, now).await
    }

    async fn reset_code_sent(&self, email: &str, now: u64) -> Result<bool, StoreError> {
        self.count_code(email, Some("reset_tries"), CodeAsker::Anyone, now).await
    }

    async fn reset_code_try(&self, email: &str, limit: u64, now: u64) -> Result<bool, StoreError> {
        self.try_code(email, "reset_tries", limit, now).await
    }

    async fn step_code_try(&self, step: &str, limit: u64, now: u64) -> Result<bool, StoreError> {
        let update = format!("ADD tries :one SET {EXPIRES}");
        let item = key(format!("CODESTEP#{step}"), "CODESTEP");
        self.update(item, &update, "attribute_not_exists(tries) OR tries < :limit", &[], &[(":one", 1), (":limit", limit)], now).await
    }

    async fn consent_decided(&self, email: &str, now: u64) -> Result<bool, StoreError> {
        let window = [("#d", format!("d{}", now / SIGN_UP_WINDOW))];
        let update = format!("ADD #d :one SET {EXPIRES}");
        let values = [(":one", 1), (":limit", DECISIONS_PER_EMAIL)];
        self.update(address(email), &update, "attribute_not_exists(#d) OR #d < :limit", &window, &values, now).await
    }
}
