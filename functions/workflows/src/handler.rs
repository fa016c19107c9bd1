//! One stream batch: each new `EVENT#` item becomes an identity event and runs the flows that
//! apply; the batch's processed events are then added to the overview's daily counters. A record whose event could not be processed (the table or a secret unavailable) is
//! reported back as a batch item failure, so the stream retries it (and the event source
//! mapping bisects and finally sends it to its on-failure destination); a flow's own failure is
//! not a batch failure: the run is recorded as failed and can be replayed.
//!
//! Records and the answer are `aws_lambda_events`' DynamoDB stream types: `eventName`,
//! `dynamodb.SequenceNumber` and `dynamodb.NewImage` (`pk`, `data`) in, `batchItemFailures` out.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_dynamo::AttributeValue;
use serde_json::{Value, json};
use shared::common::store::StoreError;
use shared::events::IdentityEvent;
use shared::events::daily::tally;
use shared::workflows::runner::{self, Runner};
use std::time::{Duration, Instant};

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

/// The record `sequence` as a batch item failure: the stream delivers it again.
fn again(response: &mut DynamoDbEventResponse, sequence: String) {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some(sequence);
    response.batch_item_failures.push(failure);
}

/// A batch as Lambda delivers it (JSON) through [`handle`]; the answer as JSON. A batch that is
/// not a DynamoDB stream event is an error (the invocation fails).
pub async fn handle_json(workflows: &Workflows, batch: &Value, now: u64, deadline: Option<Instant>) -> Result<Value, serde_json::Error> {
    let batch: Event = serde_json::from_value(batch.clone())?;
    serde_json::to_value(handle(workflows, &batch, now, deadline).await)
}

/// One stream batch; the records whose event could not be processed, as batch item failures.
/// `deadline`: when the invocation ends. An event is begun only while a step's call
/// ([`runner::STEP_BUDGET`]) still fits before it; the rest are batch item failures, which the stream
/// delivers again (a run already made is not made twice). A run's own steps stop likewise
/// (`Runner::deadline`): it fails, replayable, rather than being cut off.
pub async fn handle(workflows: &Workflows, batch: &Event, now: u64, deadline: Option<Instant>) -> DynamoDbEventResponse {
    let records: Vec<&EventRecord> = batch.records.iter().filter(|r| is_event(r)).collect();
    let mut response = DynamoDbEventResponse::default();
    let loaded = if records.is_empty() { None } else { Some(workflows.load().await.map(|(flows, runner)| (flows, Runner { deadline, ..runner }))) };
    let mut processed = Vec::new();
    for record in records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        if !runner::time_for(deadline, Duration::ZERO) {
            tracing::warn!(sequence, "the invocation's time is running out; the stream will deliver this event again");
            again(&mut response, sequence);
            continue;
        }
        let Some(event) = text(record, "data").and_then(|raw| serde_json::from_str::<IdentityEvent>(raw).ok()) else {
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
            Ok(runs) => {
                tracing::info!(event = %event.id, runs, "event processed");
                processed.push(event);
            }
            Err(e) => {
                tracing::warn!(event = %event.id, error = %e, "event not processed; the stream will retry it");
                again(&mut response, sequence);
            }
        }
    }
    // The overview's counters: of the events processed (a retried one counts when it is).
    if let Err(e) = workflows.daily.add(&tally(&processed)).await {
        tracing::warn!(error = %e, "the daily counters could not be added to; the overview misses this batch");
    }
    response
}

/// A string attribute of the record's new image.
fn text<'a>(record: &'a EventRecord, name: &str) -> Option<&'a str> {
    match record.change.new_image.get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

fn is_event(record: &EventRecord) -> bool {
    record.event_name == "INSERT" && text(record, "pk").is_some_and(|pk| pk.starts_with("EVENT#"))
}
