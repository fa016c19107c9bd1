//! One stream batch: each new `EVENT#` item becomes an identity event and runs the flows that
//! apply; the batch's processed events that the stream will not deliver again are then added to
//! the overview's daily counters. A record whose event could not be processed (the table or a
//! secret unavailable) is
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
/// Events are grouped by person ([`by_person`]), [`PEOPLE_AT_ONCE`] people side by side. Once one
/// of a person's events goes back to the stream, so do their later ones in the batch, so that a
/// redelivery runs them in order. The stream delivers again from the first record that goes
/// back, so the daily counters count only the events processed before it (the rest count when
/// they come again).
pub async fn handle(workflows: &Workflows, batch: &Event, now: u64, deadline: Option<Instant>) -> DynamoDbEventResponse {
    let records: Vec<&EventRecord> = batch.records.iter().filter(|r| is_event(r)).collect();
    let loaded = if records.is_empty() { None } else { Some(workflows.load().await.map(|(flows, runner)| (flows, Runner { deadline, ..runner }))) };
    let people = by_person(records);
    let outcomes: Vec<_> =
        stream::iter(people.into_iter().map(|events| in_order(&loaded, events, now, deadline))).buffer_unordered(PEOPLE_AT_ONCE).collect().await;
    let mut response = DynamoDbEventResponse::default();
    let (mut processed, mut back) = (Vec::new(), Vec::new());
    for (done, sent_back) in outcomes {
        processed.extend(done);
        back.extend(sent_back);
    }
    // The overview's counters: of the events processed that the stream will not deliver again.
    let redelivered_from = back.iter().min_by(|a, b| stream_order(a, b)).cloned();
    let counted: Vec<IdentityEvent> = processed
        .into_iter()
        .filter(|(sequence, _)| redelivered_from.as_ref().is_none_or(|from| stream_order(sequence, from).is_lt()))
        .map(|(_, event)| event)
        .collect();
    for sequence in back {
        again(&mut response, sequence);
    }
    if let Err(e) = workflows.daily.add(&tally(&counted)).await {
        tracing::warn!(error = %e, "the daily counters could not be added to; the overview misses this batch");
    }
    response
}

/// A record's stream sequence number and its event.
type Delivered = (String, IdentityEvent);

/// The records' events, each person's in the stream's order. Events that share any of
/// [`person_keys`] are one person's (so are two people's events that name one address: they
/// only wait for each other). A record without a readable event is skipped: not ours to retry,
/// it would fail forever.
fn by_person(records: Vec<&EventRecord>) -> Vec<Vec<Delivered>> {
    // Each group: its keys, and its events with their place in the batch.
    type Group = (Vec<String>, Vec<(usize, Delivered)>);
    let mut people: Vec<Group> = Vec::new();
    for (place, record) in records.into_iter().enumerate() {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let Some(event) = text(record, "data").and_then(|raw| serde_json::from_str::<IdentityEvent>(raw).ok()) else {
            tracing::error!(sequence, "an EVENT item without a readable event; skipped");
            continue;
        };
        let mut keys = person_keys(&event);
        let mut events = vec![(place, (sequence, event))];
        // Every group this event shares a key with joins it.
        let (joined, apart): (Vec<_>, Vec<_>) = people.into_iter().partition(|(k, _)| k.iter().any(|key| keys.contains(key)));
        for (k, e) in joined {
            keys.extend(k);
            events.extend(e);
        }
        events.sort_by_key(|(place, _)| *place);
        people = apart;
        people.push((keys, events));
    }
    people.sort_by_key(|(_, events)| events.first().map(|(place, _)| *place));
    people.into_iter().map(|(_, events)| events.into_iter().map(|(_, delivered)| delivered).collect()).collect()
}

/// What names the person an event is about: the Cognito `sub`, the user name, the email (lower
/// case). A SCIM event may carry only the email before the person's Cognito account is linked,
/// and a sign-in step only the user name, so each counts. An event naming no one is on its own.
pub fn person_keys(event: &IdentityEvent) -> Vec<String> {
    let user = &event.user;
    let mut keys = Vec::new();
    if !user.sub.is_empty() {
        keys.push(format!("sub:{}", user.sub));
    }
    if let Some(username) = user.username.as_deref().filter(|u| !u.is_empty()) {
        keys.push(format!("username:{username}"));
    }
    if let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) {
        keys.push(format!("email:{}", email.to_lowercase()));
    }
    if keys.is_empty() {
        keys.push(format!("event:{}", event.id));
    }
    keys
}

/// One person's events, one after another: the events processed (with their sequence numbers),
/// and the sequence numbers to deliver again (from the first that could not be processed or begun, all later ones too).
async fn in_order(
    loaded: &Option<Result<(Vec<Flow>, Runner), StoreError>>,
    events: Vec<Delivered>,
    now: u64,
    deadline: Option<Instant>,
) -> (Vec<Delivered>, Vec<String>) {
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
                processed.push((sequence, event));
            }
            Err(e) => {
                tracing::warn!(event = %event.id, error = %e, "event not processed; the stream will retry it");
                back.push(sequence);
            }
        }
    }
    (processed, back)
}

/// Two stream sequence numbers in the stream's order (decimal strings of up to 40 digits).
fn stream_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
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
