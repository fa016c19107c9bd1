//! One stream batch: each new `EVENT#` item becomes an identity event and runs the flows that
//! apply. A record whose event could not be processed (the table or a secret unavailable) is
//! reported back as a batch item failure, so the stream retries it (and the event source
//! mapping bisects and finally sends it to its on-failure destination); a flow's own failure is
//! not a batch failure: the run is recorded as failed and can be replayed.
//!
//! Records are read from the stream's JSON directly: `eventName`, `dynamodb.SequenceNumber` and
//! `dynamodb.NewImage` (`pk`, `data`).

use serde_json::{Value, json};
use shared::common::store::StoreError;
use shared::events::IdentityEvent;

use crate::state::Workflows;

/// The daily schedule's invocation (`template.yaml`: `{"scan": "inactive_users"}`): records
/// `user.inactive` for the people who crossed a threshold (`DynamoWorkflows::record_inactive`);
/// the events reach their flows through the stream like any other. An error fails the
/// invocation, so EventBridge tries again.
pub async fn scheduled(workflows: &Workflows, input: &Value, now: u64) -> Result<Value, StoreError> {
    if input["scan"] != "inactive_users" {
        tracing::warn!("a scheduled invocation without a known scan; nothing done");
        return Ok(json!({"scanned": []}));
    }
    let report = workflows.store.record_inactive(now).await?;
    for (days, people) in &report {
        tracing::info!(days, people, "recorded user.inactive events");
    }
    Ok(json!({"scanned": report.iter().map(|(days, people)| json!({"inactive_days": days, "people": people})).collect::<Vec<_>>()}))
}

pub async fn handle(workflows: &Workflows, batch: &Value, now: u64) -> Value {
    let records = batch["Records"].as_array().cloned().unwrap_or_default();
    let mut failures = Vec::new();
    let loaded = if records.iter().any(is_event) { Some(workflows.load().await) } else { None };
    for record in records.iter().filter(|r| is_event(r)) {
        let sequence = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
        let event = record["dynamodb"]["NewImage"]["data"]["S"].as_str().and_then(|raw| serde_json::from_str::<IdentityEvent>(raw).ok());
        let Some(event) = event else {
            // Not ours to retry: a malformed event would fail forever.
            tracing::error!(sequence, "an EVENT item without a readable event; skipped");
            continue;
        };
        let result = match &loaded {
            Some(Ok((flows, runner))) => runner.handle(&event, flows, now).await.map(|runs| runs.len()),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(0),
        };
        match result {
            Ok(runs) => tracing::info!(event = %event.id, runs, "event processed"),
            Err(e) => {
                tracing::warn!(event = %event.id, error = %e, "event not processed; the stream will retry it");
                failures.push(json!({ "itemIdentifier": sequence }));
            }
        }
    }
    json!({ "batchItemFailures": failures })
}

fn is_event(record: &Value) -> bool {
    record["eventName"] == "INSERT" && record["dynamodb"]["NewImage"]["pk"]["S"].as_str().is_some_and(|pk| pk.starts_with("EVENT#"))
}
