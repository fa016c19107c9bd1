//! Each person's last sign-in and risk profile, and failed password attempts per address, in
//! the bridge's table.
//!
//! | item           | `pk`                   | `sk`       | `gsi1pk`   | `gsi1sk`                        | other attributes |
//! |----------------|------------------------|------------|------------|---------------------------------|------------------|
//! | last sign-in   | `ACTIVITY#{username}`  | `ACTIVITY` | `ACTIVITY` | `{last sign-in:012}#{username}` | `username`, `sub`, `email`, `last_sign_in`, `risk` (the `RiskProfile` as JSON, for people without a verified email) |
//! | risk profile   | `RISK#{digest of the address}` | `RISK` |          |                                 | `risk` (the `RiskProfile` of the person with this verified email, as JSON) |
//! | failed attempts| `FAILURES#{digest of the address}` | `FAILURES` |  |                          | `w{window}`: attempts in each 15-minute window, `expires_at` |
//!
//! The profile is kept by the verified email so a password sign-in can read it beside Cognito's
//! password check, before the username is known (`RiskStore::history_of_email`). A profile
//! written before that lives in the person's `ACTIVITY` item: read there until their next
//! sign-in moves it. An email change moves the profile to the new address (`RiskStore::carry`).
//!
//! The last sign-in is written in the transaction that opens a session (`adapters::dynamo_sessions`),
//! so it is exactly as current as the sign-in events, and updated by the PostAuthentication
//! trigger for sign-ins that do not pass through the bridge. People who signed in before a
//! moment are one `gsi1` query on `gsi1sk`, oldest first. One index partition holds
//! every person: its write rate is the sign-in rate (Cognito allows 120 sign-ins/s per account
//! and region; a partition takes 1,000 writes/s). A sign-in reads the person's item and the
//! address's failures in one `BatchGetItem`; a failed attempt is one `UpdateItem` (`ADD`, no read).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use std::collections::HashMap;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::{GSI1, Item, Table, corrupt, key, n, number, s};
use crate::common::hashing::digest;
use crate::common::store::StoreError;
use crate::risk::RiskStore;
use crate::risk::{FAILURE_WINDOW, RiskProfile};
use crate::workflows::inactivity::LastSignIn;
use crate::workflows::inactivity::SignInActivity;

const PARTITION: &str = "ACTIVITY";

fn activity_key(username: &str) -> Item {
    key(format!("ACTIVITY#{username}"), "ACTIVITY")
}

fn failures_key(email: &str) -> Item {
    key(format!("FAILURES#{}", digest(&email.to_lowercase())), "FAILURES")
}

/// The key of the risk profile kept for `email` (any case).
pub fn risk_key(email: &str) -> Item {
    key(format!("RISK#{}", digest(&email.to_lowercase())), "RISK")
}

/// When `username` last signed in (seconds since the epoch), if the bridge has seen it.
pub async fn last_sign_in(table: &Table, username: &str) -> Result<Option<u64>, StoreError> {
    Ok(table.get_item(activity_key(username)).await?.and_then(|item| number(&item, "last_sign_in")))
}

/// Recording a sign-in at `at` and the person's profile after it, in the session's
/// transaction: the last sign-in, and the profile by verified email (or, without one, in the
/// last sign-in's item). Unconditional: a sign-in never fails over these items (two at once:
/// the later write wins).
pub fn activity_put(table: &Table, person: &LastSignIn, risk: &RiskProfile) -> Result<Vec<TransactWriteItem>, StoreError> {
    let (username, at) = (person.username.as_str(), person.at);
    let profile = s(serde_json::to_string(risk).map_err(corrupt)?);
    let mut item = activity_key(username);
    item.extend([
        ("gsi1pk".to_owned(), s(PARTITION)),
        ("gsi1sk".to_owned(), s(format!("{at:012}#{username}"))),
        ("username".to_owned(), s(username)),
        ("sub".to_owned(), s(&person.sub)),
        ("last_sign_in".to_owned(), n(at)),
    ]);
    let mut puts = Vec::with_capacity(2);
    match &person.email {
        Some(email) => {
            item.insert("email".to_owned(), s(email));
            let mut by_email = risk_key(email);
            by_email.insert("risk".to_owned(), profile);
            puts.push(table.put_plain(by_email)?);
        }
        None => {
            item.insert("risk".to_owned(), profile);
        }
    }
    puts.push(table.put_plain(item)?);
    Ok(puts)
}

/// The profile in `items` (the `RISK` item first, then an `ACTIVITY` item's) and the failed
/// attempts of the current and the previous window.
fn read_history(items: Vec<Item>, now: u64) -> Result<(Option<RiskProfile>, u64), StoreError> {
    let (mut by_email, mut by_username, mut failures) = (None, None, 0);
    let window = now / FAILURE_WINDOW;
    for item in items {
        let profile = || item.get("risk").and_then(|v| v.as_s().ok()).map(|raw| serde_json::from_str::<RiskProfile>(raw).map_err(corrupt)).transpose();
        match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
            Some("RISK") => by_email = profile()?,
            Some("ACTIVITY") => by_username = profile()?,
            _ => {
                let count = |w: u64| number(&item, &format!("w{w}")).unwrap_or(0);
                failures = count(window) + count(window.saturating_sub(1));
            }
        }
    }
    Ok((by_email.or(by_username), failures))
}

/// Sign-ins Cognito reports (the PostAuthentication trigger), one `UpdateItem` each (the risk
/// profile stays); people who sign in to Cognito without the bridge are not inactive. Also the
/// bridge's [`RiskStore`].
pub struct DynamoActivity {
    table: Table,
}

impl DynamoActivity {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }
}

#[async_trait]
impl SignInActivity for DynamoActivity {
    async fn signed_in(&self, person: &LastSignIn) -> Result<(), StoreError> {
        let (username, at) = (person.username.as_str(), person.at);
        let mut values = HashMap::from([
            (":p".to_owned(), s(PARTITION)),
            (":k".to_owned(), s(format!("{at:012}#{username}"))),
            (":u".to_owned(), s(username)),
            (":s".to_owned(), s(&person.sub)),
            (":at".to_owned(), n(at)),
        ]);
        let mut expression = "SET gsi1pk = :p, gsi1sk = :k, username = :u, #sub = :s, last_sign_in = :at".to_owned();
        if let Some(email) = &person.email {
            values.insert(":e".to_owned(), s(email));
            expression.push_str(", email = :e");
        }
        let t = &self.table;
        t.client
            .update_item()
            .table_name(&t.name)
            .set_key(Some(activity_key(username)))
            .update_expression(expression)
            .expression_attribute_names("#sub", "sub")
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(())
    }
}

#[async_trait]
impl RiskStore for DynamoActivity {
    async fn history(&self, username: &str, email: Option<&str>, now: u64) -> Result<(RiskProfile, u64), StoreError> {
        let mut keys = vec![activity_key(username)];
        keys.extend(email.into_iter().flat_map(|e| [risk_key(e), failures_key(e)]));
        let (profile, failures) = read_history(self.table.batch_get(keys).await?, now)?;
        Ok((profile.unwrap_or_default(), failures))
    }

    async fn history_of_email(&self, email: &str, now: u64) -> Result<(Option<RiskProfile>, u64), StoreError> {
        read_history(self.table.batch_get(vec![risk_key(email), failures_key(email)]).await?, now)
    }

    async fn failed(&self, email: &str, now: u64) -> Result<(), StoreError> {
        let t = &self.table;
        t.client
            .update_item()
            .table_name(&t.name)
            .set_key(Some(failures_key(email)))
            .update_expression("ADD #w :one SET expires_at = :exp")
            .expression_attribute_names("#w", format!("w{}", now / FAILURE_WINDOW))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(now + 2 * FAILURE_WINDOW))
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn carry(&self, from: &str, to: &str) -> Result<(), StoreError> {
        if from.eq_ignore_ascii_case(to) {
            return Ok(());
        }
        let Some(mut item) = self.table.get_item(risk_key(from)).await? else { return Ok(()) };
        item.extend(risk_key(to));
        // Moved, not copied, in one transaction: whoever holds the old address next inherits
        // none of it, and a failure leaves the profile where it was.
        let moved = vec![self.table.put_plain(item)?, self.table.delete(risk_key(from), "attribute_exists(pk)", None)?];
        self.table.transact(moved).await.map_err(|e| e.or_conflict())
    }
}

/// People whose last sign-in is at or after `from` and before `to`, oldest first, at most
/// `limit` (a page of the schedule's scan).
pub async fn signed_in_between(table: &Table, from: u64, to: u64, limit: usize) -> Result<Vec<LastSignIn>, StoreError> {
    let mut found = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let out = table
            .client
            .query()
            .table_name(&table.name)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p AND gsi1sk BETWEEN :from AND :to")
            .expression_attribute_values(":p", s(PARTITION))
            .expression_attribute_values(":from", s(format!("{from:012}")))
            // Every key of `to - 1` sorts before `{to:012}`.
            .expression_attribute_values(":to", s(format!("{to:012}")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| store_error(Failure::of(&e)))?;
        for item in out.items.unwrap_or_default() {
            let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            let at = number(&item, "last_sign_in").unwrap_or_default();
            if at >= to {
                continue;
            }
            found.push(LastSignIn { username: text("username").unwrap_or_default(), sub: text("sub").unwrap_or_default(), email: text("email"), at });
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
