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
    let (counted, back) = run(&loaded, records, now, deadline).await;
    let mut response = DynamoDbEventResponse::default();
    for sequence in back {
        again(&mut response, sequence);
    }
    if let Err(e) = workflows.daily.add(&tally(&counted)).await {
        tracing::warn!(error = %e, "the daily counters could not be added to; the overview misses this batch");
    }
    response
}

/// The batch's `records` run with `loaded` (the flows and their runner; `None`: no flows were
/// needed), [`PEOPLE_AT_ONCE`] people side by side: the events to count (processed, and before
/// the first record that goes back) and the sequence numbers to deliver again.
async fn run(
    loaded: &Option<Result<(Vec<Flow>, Runner), StoreError>>,
    records: Vec<&EventRecord>,
    now: u64,
    deadline: Option<Instant>,
) -> (Vec<IdentityEvent>, Vec<String>) {
    let people = by_person(records);
    let outcomes: Vec<_> =
        stream::iter(people.into_iter().map(|events| in_order(loaded, events, now, deadline))).buffer_unordered(PEOPLE_AT_ONCE).collect().await;
    let (mut processed, mut back) = (Vec::new(), Vec::new());
    for (done, sent_back) in outcomes {
        processed.extend(done);
        back.extend(sent_back);
    }
    // The overview's counters: of the events processed that the stream will not deliver again.
    let redelivered_from = back.iter().min_by(|a, b| stream_order(a, b)).cloned();
    let counted = processed
        .into_iter()
        .filter(|(sequence, _)| redelivered_from.as_ref().is_none_or(|from| stream_order(sequence, from).is_lt()))
        .map(|(_, event)| event)
        .collect();
    (counted, back)
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

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use shared::testing::MemoryRuns;
    use shared::workflows::flow::Action;
    use shared::workflows::runner::{Connectors, RunRecord, RunStore, StepOutcome};
    use std::sync::Arc;

    /// Connectors that answer every call at once.
    struct Answering;

    #[async_trait]
    impl Connectors for Answering {
        async fn call(&self, _: &Action) -> StepOutcome {
            StepOutcome::Done(json!({"status": 200}))
        }
    }

    /// Run records in memory, with the table unavailable for the runs of one event.
    struct FailingFor(&'static str, MemoryRuns);

    #[async_trait]
    impl RunStore for FailingFor {
        async fn begin(&self, run: &RunRecord) -> Result<bool, StoreError> {
            if run.event_id == self.0 {
                return Err(StoreError::Unavailable("no answer".into()));
            }
            self.1.begin(run).await
        }
        async fn finish(&self, run: &RunRecord) -> Result<(), StoreError> {
            self.1.finish(run).await
        }
    }

    /// A stream batch of `(sequence number, event id, person's sub)`, in stream order.
    fn batch(records: &[(&str, &str, &str)]) -> Event {
        let records: Vec<Value> = records
            .iter()
            .map(|(sequence, id, sub)| {
                let event = json!({"id": id, "type": "sign_in.high_risk", "at": 1, "user": {"sub": sub}, "context": {}});
                json!({"eventID": sequence, "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "ap-northeast-1", "eventVersion": "1.1",
                       "dynamodb": {"SequenceNumber": sequence, "SizeBytes": 1, "NewImage": {"pk": {"S": format!("EVENT#{id}")}, "data": {"S": event.to_string()}}}})
            })
            .collect();
        serde_json::from_value(json!({"Records": records})).unwrap_or_else(|e| panic!("{e}"))
    }

    /// When one of a person's events cannot be processed, their later events in the batch go
    /// back to the stream unrun (a redelivery runs them in order), other people's run; and the
    /// daily counters count only what came before the first record sent back, since the stream
    /// delivers again from there (counting the rest now would count them twice).
    #[tokio::test]
    async fn a_persons_later_events_go_back_after_one_fails_and_only_earlier_events_are_counted() {
        let flow: Flow = serde_json::from_value(json!({"id": "notify", "name": "Notify", "trigger": "sign_in.high_risk",
            "steps": [{"id": "call", "connector": "http", "connection": "chat", "path": "/notes", "body": {}}]}))
        .unwrap_or_else(|e| panic!("{e}"));
        let runs = Arc::new(FailingFor("a-1", MemoryRuns::default()));
        let dead = Arc::new(MemoryRuns::default());
        let runner = Runner { connectors: Arc::new(Answering), runs: runs.clone(), dead_letters: dead.clone(), pause: dead, deadline: None };
        let loaded = Some(Ok((vec![flow], runner)));
        let batch = batch(&[("99", "c-1", "carol"), ("100", "a-1", "ann"), ("101", "b-1", "ben"), ("102", "a-2", "ann"), ("103", "b-2", "ben")]);
        let (counted, back) = run(&loaded, batch.records.iter().collect(), 10, None).await;

        assert_eq!(back, ["100", "102"], "Ann's failed event and her later one go back");
        let ran: Vec<String> = {
            let mut ran: Vec<String> = runs.1.runs.lock().unwrap_or_else(|p| p.into_inner()).values().map(|r| r.event_id.clone()).collect();
            ran.sort();
            ran
        };
        assert_eq!(ran, ["b-1", "b-2", "c-1"], "Ann's later event did not run; Ben's and Carol's did");
        let counted: Vec<&str> = counted.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(counted, ["c-1"], "only the event before the first record sent back is counted");
    }

    #[tokio::test]
    async fn a_batch_without_failures_counts_every_event() {
        let runs = Arc::new(MemoryRuns::default());
        let runner = Runner { connectors: Arc::new(Answering), runs: runs.clone(), dead_letters: runs.clone(), pause: runs, deadline: None };
        let loaded = Some(Ok((Vec::new(), runner)));
        let batch = batch(&[("7", "a-1", "ann"), ("8", "b-1", "ben"), ("10", "a-2", "ann")]);
        let (counted, back) = run(&loaded, batch.records.iter().collect(), 10, None).await;
        assert!(back.is_empty());
        assert_eq!(counted.len(), 3);
    }
}
