//! One stream batch: each new `EVENT#` item becomes an identity event and runs the flows that
//! apply. A record whose event could not be processed (the table or a secret unavailable) is
//! reported back as a batch item failure, so the stream retries it (and the event source
//! mapping bisects and finally sends it to its on-failure destination); a flow's own failure is
//! not a batch failure: the run is recorded as failed and can be replayed.
//!
//! Records are read from the stream's JSON directly: `eventName`, `dynamodb.SequenceNumber` and
//! `dynamodb.NewImage` (`pk`, `data`).

use serde_json::{Value, json};
use shared::domain::events::IdentityEvent;

use crate::state::Workflows;

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
