//! The overview's daily counters (`events::daily`) in the bridge's table.
//!
//! | item           | `pk`          | `sk`      | other attributes |
//! |----------------|---------------|-----------|------------------|
//! | day's counters | `STATS#daily` | `{day:06}` | `sign_ins`, `failed_sign_ins`, `high_risk`, `scim_changes`, `hook_deliveries`, `hook_failures` (N), `expires_at` |
//!
//! A batch adds to each of its days with one `UpdateItem` of `ADD`s (no read); a range is one
//! `Query` of the partition. Days are kept 400 days.

use async_trait::async_trait;
use std::collections::BTreeMap;

use crate::adapters::aws::{Failure, store_error};
use crate::adapters::dynamo::{Table, key, n, number};
use crate::common::store::StoreError;
use crate::events::daily::{DailyCounts, DayTotals};

const PARTITION: &str = "STATS#daily";
const DAY: u64 = 24 * 3600;
const RETENTION_DAYS: u64 = 400;

pub struct DynamoDailyCounts {
    table: Table,
}

impl DynamoDailyCounts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { table: Table::new(client, table) }
    }
}

#[async_trait]
impl DailyCounts for DynamoDailyCounts {
    async fn add(&self, days: &BTreeMap<u64, DayTotals>) -> Result<(), StoreError> {
        let t = &self.table;
        for (day, totals) in days {
            let counters = totals.named();
            if counters.is_empty() {
                continue;
            }
            let adds: Vec<String> = counters.iter().map(|(name, _)| format!("{name} :{name}")).collect();
            let mut update = t
                .client
                .update_item()
                .table_name(&t.name)
                .set_key(Some(key(PARTITION.into(), &format!("{day:06}"))))
                .update_expression(format!("ADD {} SET expires_at = :expires", adds.join(", ")))
                .expression_attribute_values(":expires", n((day + RETENTION_DAYS) * DAY));
            for (name, count) in counters {
                update = update.expression_attribute_values(format!(":{name}"), n(count));
            }
            update.send().await.map_err(|e| store_error(Failure::of(&e)))?;
        }
        Ok(())
    }

    async fn range(&self, from: u64, to: u64) -> Result<Vec<(u64, DayTotals)>, StoreError> {
        let items = self.table.sort_key_range(PARTITION, &format!("{from:06}"), &format!("{to:06}")).await?;
        Ok(items
            .iter()
            .filter_map(|item| {
                let day = item.get("sk")?.as_s().ok()?.parse().ok()?;
                let names = ["sign_ins", "failed_sign_ins", "high_risk", "scim_changes", "hook_deliveries", "hook_failures"];
                Some((day, DayTotals::from_named(names.into_iter().map(|name| (name, number(item, name).unwrap_or(0))))))
            })
            .collect())
    }
}
