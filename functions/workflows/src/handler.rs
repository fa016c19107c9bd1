//! One stream batch: each new `EVENT#` item becomes an identity event and runs the flows that
//! apply; the batch's processed events are then added to the overview's daily counters. A record whose event could not be processed (the table or a secret unavailable) is
//! reported back as a batch item failure, so the stream retries it (and the event source
//! mapping bisects and finally sends it to its on-failure destination); a flow's own failure is
//! not a batch failure: the run is recorded as failed and can be replayed. Different people's
//! events run side by side, a person's own in order (`handle`).
//!
//! Records and the answer are `aws_lambda_events`' DynamoDB stream types: `eventName`,
//! `dynamodb.SequenceNumber` and `dynamodb.NewImage` (`pk`, `data`) in, `batchItemFailures` out.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use futures_util::stream::{self, StreamExt};
use serde_dynamo::AttributeValue;
use serde_json::{Value, json};
use shared::common::store::StoreError;
use shared::events::IdentityEvent;
use shared::events::daily::tally;
use shared::workflows::flow::Flow;
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

/// How many people's events one invocation runs at a time. A person's own events run in the
/// stream's order, one after another; other people's do not wait for them (one slow service
/// holds back only the events whose flows call it).
pub const PEOPLE_AT_ONCE: usize = 8;

/// One stream batch; the records whose event could not be processed, as batch item failures.
/// `deadline`: when the invocation ends. An event is begun only while a step's call
/// ([`runner::STEP_BUDGET`]) still fits before it; the rest are batch item failures, which the stream
/// delivers again (a run already made is not made twice). A run's own steps stop likewise
/// (`Runner::deadline`): it fails, replayable, rather than being cut off.
///
/// Events are grouped by person ([`person`]), [`PEOPLE_AT_ONCE`] people side by side. Once one
/// of a person's events goes back to the stream, so do their later ones in the batch, so that a
/// redelivery runs them in order.
pub async fn handle(workflows: &Workflows, batch: &Event, now: u64, deadline: Option<Instant>) -> DynamoDbEventResponse {
    let records: Vec<&EventRecord> = batch.records.iter().filter(|r| is_event(r)).collect();
    let loaded = if records.is_empty() { None } else { Some(workflows.load().await.map(|(flows, runner)| (flows, Runner { deadline, ..runner }))) };
    let people = by_person(records);
    let outcomes: Vec<_> =
        stream::iter(people.into_iter().map(|events| in_order(&loaded, events, now, deadline))).buffer_unordered(PEOPLE_AT_ONCE).collect().await;
    let mut response = DynamoDbEventResponse::default();
    let mut processed = Vec::new();
    for (done, back) in outcomes {
        processed.extend(done);
        for sequence in back {
            again(&mut response, sequence);
        }
    }
    // The overview's counters: of the events processed (a retried one counts when it is).
    if let Err(e) = workflows.daily.add(&tally(&processed)).await {
        tracing::warn!(error = %e, "the daily counters could not be added to; the overview misses this batch");
    }
    response
}

/// A record's stream sequence number and its event.
type Delivered = (String, IdentityEvent);

/// The records' events, each person's in the stream's order. A record without a readable event
/// is skipped: not ours to retry, it would fail forever.
fn by_person(records: Vec<&EventRecord>) -> Vec<Vec<Delivered>> {
    let mut people: Vec<(String, Vec<Delivered>)> = Vec::new();
    for record in records {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let Some(event) = text(record, "data").and_then(|raw| serde_json::from_str::<IdentityEvent>(raw).ok()) else {
            tracing::error!(sequence, "an EVENT item without a readable event; skipped");
            continue;
        };
        let key = person(&event);
        match people.iter_mut().find(|(k, _)| *k == key) {
            Some((_, events)) => events.push((sequence, event)),
            None => people.push((key, vec![(sequence, event)])),
        }
    }
    people.into_iter().map(|(_, events)| events).collect()
}

/// One person's events, one after another: the events processed, and the sequence numbers to
/// deliver again (from the first that could not be processed or begun, all later ones too).
async fn in_order(
    loaded: &Option<Result<(Vec<Flow>, Runner), StoreError>>,
    events: Vec<Delivered>,
    now: u64,
    deadline: Option<Instant>,
) -> (Vec<IdentityEvent>, Vec<String>) {
    let (mut processed, mut back) = (Vec::new(), Vec::new());
    for (sequence, event) in events {
        if !back.is_empty() || !runner::time_for(deadline, Duration::ZERO) {
            tracing::warn!(sequence, "not begun (time running out, or an earlier event of the person's goes back); the stream will deliver it again");
            back.push(sequence);
            continue;
        }
        let result = match loaded {
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
                back.push(sequence);
            }
        }
    }
    (processed, back)
}

/// Whose events must keep their order: the Cognito `sub`, else the user name, else the email
/// (lower case); an event naming no one is on its own.
pub fn person(event: &IdentityEvent) -> String {
    let user = &event.user;
    if !user.sub.is_empty() {
        return format!("sub:{}", user.sub);
    }
    match (&user.username, &user.email) {
        (Some(username), _) if !username.is_empty() => format!("username:{username}"),
        (_, Some(email)) if !email.is_empty() => format!("email:{}", email.to_lowercase()),
        _ => format!("event:{}", event.id),
    }
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
