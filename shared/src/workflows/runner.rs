//! Running flows for an event: which flows apply, each step's input rendered and its connector
//! called with retries, and a run record for every run.
//!
//! - **Once per event and flow.** A run's id is derived from the flow and the event, and a run
//!   begins only if no run with that id exists ([`RunStore::begin`]): a stream event delivered
//!   twice never opens two tickets.
//! - **Side by side.** An event's flows run at the same time; each flow's steps run in order.
//! - **Retries.** A step whose connector answers "try again" (429, 5xx, no answer) is retried
//!   after its backoff, doubling, up to `max_attempts`; any other failure is final at once.
//! - **Failures are never silent.** A failed run is recorded with every step's result and sent
//!   to the dead-letter queue ([`DeadLetters`]); an operator can replay it ([`Runner::replay`]),
//!   which skips the steps that already succeeded.
//! - **Records hold no personal data or secrets.** Step outputs and errors are redacted: values
//!   under sensitive keys, and any text containing the person's email or user name.
//!
//! [`Runner::preview`] renders a flow against a sample event without calling anything.

use async_trait::async_trait;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::flow::{Action, Flow};
use super::template::render;
use crate::common::hashing::hex;
use crate::common::store::StoreError;
use crate::events::{EventType, IdentityEvent};

/// What a connector call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Done(Value),
    /// Worth trying again (429, 5xx, a timeout), with the reason.
    Retry(String),
    /// Final (4xx other than 429, a misconfiguration), with the reason.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub succeeded: bool,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The connector's answer, redacted (later steps may read it unredacted during the run).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub output: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub flow_id: String,
    pub flow_version: u64,
    pub event_id: String,
    pub event_type: EventType,
    pub status: RunStatus,
    pub steps: Vec<StepRecord>,
    pub started_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<u64>,
}

/// What a flow would do for an event, without doing it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub applies: bool,
    /// Each step's rendered action (outputs of earlier steps are `null` in a preview).
    pub steps: Vec<(String, Action)>,
}

pub struct Runner {
    pub connectors: Arc<dyn Connectors>,
    pub runs: Arc<dyn RunStore>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub pause: Arc<dyn Pause>,
    /// When the invocation ends (the function's timeout): no call or wait is begun that could
    /// outlast it, so a run is never cut off `running` (which no redelivery would run again).
    pub deadline: Option<Instant>,
}

/// The longest one call of a step may take: the connectors' 10 s, an OAuth token request's
/// 10 s before it, and a margin to record the run.
pub const STEP_BUDGET: Duration = Duration::from_secs(25);

/// Whether a wait of `wait` and then one call ([`STEP_BUDGET`]) end before `deadline` (none:
/// always).
pub fn time_for(deadline: Option<Instant>, wait: Duration) -> bool {
    deadline.is_none_or(|deadline| Instant::now() + wait + STEP_BUDGET <= deadline)
}

/// Why a step was not tried (again): the invocation's time was running out.
const OUT_OF_TIME: &str = "the function's time ran out before this try; replay the run";

/// Why a step's call was given up: the invocation's time ran out while it waited.
const CUT_OFF: &str = "the function's time ran out during this call (it may have reached the service); replay the run";

/// What a run keeps of the invocation's time to record its end: a call still going this long
/// before the deadline is given up.
pub const RECORD_MARGIN: Duration = Duration::from_secs(5);

/// The id of `flow`'s run for `event`.
pub fn run_id(flow: &Flow, event: &IdentityEvent) -> String {
    hex(&Sha256::digest(format!("{}\n{}", flow.id, event.id))[..16])
}

impl Runner {
    /// Runs every flow that applies to `event` and has not run for it yet, side by side (one
    /// slow service holds back only the flows that call it); returns the runs. Every flow has
    /// its turn before a store error is returned, so the event goes back to the stream with the
    /// runs made so far recorded (a redelivery skips them).
    pub async fn handle(&self, event: &IdentityEvent, flows: &[Flow], now: u64) -> Result<Vec<RunRecord>, StoreError> {
        let value = event.to_value();
        let applying = flows.iter().filter(|f| f.applies_to(event.kind, &value));
        let results = join_all(applying.map(|flow| self.run(flow, event, now))).await;
        let mut runs = Vec::new();
        for result in results {
            runs.extend(result?);
        }
        Ok(runs)
    }

    /// `flow`'s run for `event`, unless one was made already (`None`).
    async fn run(&self, flow: &Flow, event: &IdentityEvent, now: u64) -> Result<Option<RunRecord>, StoreError> {
        let record = RunRecord {
            run_id: run_id(flow, event),
            flow_id: flow.id.clone(),
            flow_version: flow.version,
            event_id: event.id.clone(),
            event_type: event.kind,
            status: RunStatus::Running,
            steps: Vec::new(),
            started_at: now,
            finished_at: None,
        };
        // Not begun short of time: the event goes back to the stream (a run made already is not
        // made again), rather than a run failing at its first step.
        if !self.time_for(Duration::ZERO) {
            return Err(StoreError::Unavailable("the invocation's time ran out before this run began".into()));
        }
        if !self.runs.begin(&record).await? {
            tracing::info!(run = %record.run_id, flow = %flow.id, "already ran for this event");
            return Ok(None);
        }
        self.execute(flow, event, record, now).await.map(Some)
    }

    fn time_for(&self, wait: Duration) -> bool {
        time_for(self.deadline, wait)
    }

    /// A connector call, cut off [`RECORD_MARGIN`] before the deadline. A call begun in time
    /// may still wait behind other flows' token or secret requests; cut off, its run is recorded
    /// failed (replayable) instead of being left `running` when the function ends.
    async fn call_in_time(&self, action: &Action) -> StepOutcome {
        let call = self.connectors.call(action);
        let Some(deadline) = self.deadline else { return call.await };
        let cut_off = tokio::time::Instant::from_std(deadline.checked_sub(RECORD_MARGIN).unwrap_or(deadline));
        tokio::time::timeout_at(cut_off, call).await.unwrap_or_else(|_| StepOutcome::Failed(CUT_OFF.into()))
    }

    /// Why `record` (a failed run of `flow` for `event`) must not run again, if it must not: the
    /// flow no longer applies to the event (an admin switched it off, or its trigger or
    /// condition changed), or a step still to run reads the output of one that succeeded, which
    /// the record keeps redacted or did not keep (the step would send a marker in its place).
    pub fn replay_refusal(flow: &Flow, event: &IdentityEvent, record: &RunRecord) -> Option<String> {
        if !flow.applies_to(event.kind, &event.to_value()) {
            return Some(format!("flow `{}` no longer applies to the run's event: it is disabled, or its trigger or condition changed", flow.id));
        }
        let done: Vec<&StepRecord> = record.steps.iter().filter(|s| s.succeeded).collect();
        for step in flow.steps.iter().filter(|s| !done.iter().any(|d| d.id == s.id)) {
            let action = serde_json::to_value(&step.action).unwrap_or_default();
            if let Some(read) = done.iter().find(|d| reads_redacted(&action, d)) {
                return Some(format!(
                    "step `{}` reads the output of step `{}`, which the run keeps redacted or did not keep: replaying would send a marker in its place",
                    step.id, read.id
                ));
            }
        }
        None
    }

    /// Runs a failed run again, skipping the steps that succeeded before.
    pub async fn replay(&self, flow: &Flow, event: &IdentityEvent, mut record: RunRecord, now: u64) -> Result<RunRecord, StoreError> {
        record.steps.retain(|s| s.succeeded);
        record.status = RunStatus::Running;
        record.finished_at = None;
        self.execute(flow, event, record, now).await
    }

    /// What `flow` would do for `event`: no connector is called and nothing is recorded.
    pub fn preview(flow: &Flow, event: &IdentityEvent) -> Preview {
        let context = event.to_value();
        Preview {
            applies: flow.applies_to(event.kind, &context),
            steps: flow.steps.iter().map(|s| (s.id.clone(), rendered(&s.action, &context).unwrap_or_else(|_| rendered_fields(&s.action, &context)))).collect(),
        }
    }

    async fn execute(&self, flow: &Flow, event: &IdentityEvent, mut record: RunRecord, now: u64) -> Result<RunRecord, StoreError> {
        let mut context = event.to_value();
        let personal = personal_forms(&[&event.user.email, &event.user.username, &event.context.ip].map(|v| v.as_deref().unwrap_or_default()));
        let mut outputs = Map::new();
        for step in &flow.steps {
            if let Some(done) = record.steps.iter().find(|s| s.id == step.id && s.succeeded) {
                outputs.insert(step.id.clone(), serde_json::json!({ "output": done.output }));
                continue;
            }
            context["steps"] = Value::Object(outputs.clone());
            let mut attempts = 0;
            let outcome = match rendered(&step.action, &context) {
                // Not called: a value would take the request to another resource.
                Err(reason) => StepOutcome::Failed(reason),
                Ok(action) => loop {
                    if !self.time_for(Duration::ZERO) {
                        break StepOutcome::Failed(OUT_OF_TIME.into());
                    }
                    attempts += 1;
                    match self.call_in_time(&action).await {
                        StepOutcome::Retry(reason) if attempts < step.retry.max_attempts => {
                            let wait = step.retry.backoff(attempts + 1);
                            if !self.time_for(Duration::from_secs(wait)) {
                                break StepOutcome::Failed(format!("{reason}; {OUT_OF_TIME}"));
                            }
                            tracing::info!(flow = %flow.id, step = %step.id, attempts, "step will be retried");
                            self.pause.pause(wait).await;
                        }
                        other => break other,
                    }
                },
            };
            let (succeeded, error, output) = match outcome {
                StepOutcome::Done(output) => (true, None, output),
                StepOutcome::Retry(reason) | StepOutcome::Failed(reason) => (false, Some(cut(redact_text(&reason, &personal), MAX_KEPT_ERROR)), Value::Null),
            };
            let kept_output = kept(redact(&output, &personal));
            outputs.insert(step.id.clone(), serde_json::json!({ "output": output }));
            record.steps.push(StepRecord { id: step.id.clone(), succeeded, attempts, error, output: kept_output });
            if !succeeded {
                record.status = RunStatus::Failed;
                record.finished_at = Some(now);
                self.runs.finish(&record).await?;
                self.dead_letters.send(&record).await?;
                tracing::warn!(run = %record.run_id, flow = %flow.id, step = %step.id, "a flow run failed; it is in the dead-letter queue");
                return Ok(record);
            }
        }
        record.status = RunStatus::Succeeded;
        record.finished_at = Some(now);
        self.runs.finish(&record).await?;
        Ok(record)
    }
}

/// The step's action with its templates rendered ([`rendered_fields`]); an HTTP step's path
/// takes its values percent-encoded ([`super::template::render_path`]), an email step its
/// recipient and language from the event ([`Action::address`]). A refusal of
/// either is the error: the step fails uncalled.
fn rendered(action: &Action, context: &Value) -> Result<Action, String> {
    let mut done = rendered_fields(action, context);
    if let (Action::Http { path: template, .. }, Action::Http { path, .. }) = (action, &mut done) {
        *path = super::template::render_path(template, context)?;
    }
    done.address(context)?;
    Ok(done)
}

/// Every field rendered. Names and ids (everything but bodies, headers, fields and Marketo ids,
/// which keep their JSON types) stay text, and so does an email's every text (a placeholder
/// standing for a list or nothing is written out, or empty).
fn rendered_fields(action: &Action, context: &Value) -> Action {
    const TYPED: &[&str] = &["body", "headers", "fields", "list_id", "lead_id"];
    const TEXTS: &[&str] = &["subject", "text"];
    let text = |v: Value| match v {
        Value::String(_) => v,
        Value::Null => Value::String(String::new()),
        other => Value::String(other.to_string()),
    };
    let Ok(Value::Object(template)) = serde_json::to_value(action) else { return action.clone() };
    let fields = template
        .into_iter()
        .map(|(key, value)| {
            let value = render(&value, context);
            let value = match value {
                Value::Object(by) if TEXTS.contains(&key.as_str()) => Value::Object(by.into_iter().map(|(k, v)| (k, text(v))).collect()),
                Value::Array(_) if TEXTS.contains(&key.as_str()) => text(value),
                Value::String(_) | Value::Object(_) | Value::Array(_) => value,
                _ if TYPED.contains(&key.as_str()) => value,
                Value::Null => Value::String(String::new()),
                other => Value::String(other.to_string()),
            };
            (key, value)
        })
        .collect();
    serde_json::from_value(Value::Object(fields)).unwrap_or_else(|_| action.clone())
}

/// Whether `action` (a step's settings) reads a value of `done`'s output that the record keeps
/// redacted or did not keep: each `{{steps.{id}.output...}}` placeholder it holds, followed
/// through the output as rendering follows it.
fn reads_redacted(action: &Value, done: &StepRecord) -> bool {
    let prefix = format!("steps.{}.output", done.id);
    let marked = |text: &str| text.contains(REDACTED) || text.contains(NOT_KEPT);
    super::template::paths(action).iter().filter_map(|p| p.strip_prefix(prefix.as_str())).filter(|rest| rest.is_empty() || rest.starts_with('.')).any(|rest| {
        let mut value = &done.output;
        for part in rest.split('.').filter(|p| !p.is_empty()) {
            let next = match (value, part.parse::<usize>()) {
                (Value::String(text), _) => return marked(text),
                (Value::Array(items), Ok(i)) => items.get(i),
                _ => value.get(part),
            };
            let Some(next) = next else { return false };
            value = next;
        }
        marked(&value.to_string())
    })
}

/// What a run record keeps of a step's output (already redacted): all of it up to
/// [`MAX_KEPT_OUTPUT`] bytes of JSON; else the same with every string over
/// [`MAX_KEPT_STRING`] bytes and every list past [`MAX_KEPT_ITEMS`] items replaced by
/// [`NOT_KEPT`] (so the small values a later step reads stay); else its status alone, its body
/// [`NOT_KEPT`]. Twenty steps of 64 KiB answers would pass DynamoDB's 400 KB item, and the run
/// would not be recorded at all.
fn kept(output: Value) -> Value {
    let size = |v: &Value| serde_json::to_string(v).map_or(usize::MAX, |t| t.len());
    if size(&output) <= MAX_KEPT_OUTPUT {
        return output;
    }
    let shrunk = shrink(output);
    if size(&shrunk) <= MAX_KEPT_OUTPUT {
        return shrunk;
    }
    serde_json::json!({"status": shrunk.get("status").cloned().unwrap_or(Value::Null), "body": NOT_KEPT})
}

/// `value` with long strings and long lists replaced by [`NOT_KEPT`] (see [`kept`]).
fn shrink(value: Value) -> Value {
    match value {
        Value::String(s) if s.len() > MAX_KEPT_STRING => Value::String(NOT_KEPT.into()),
        Value::Array(items) if items.len() > MAX_KEPT_ITEMS => Value::String(NOT_KEPT.into()),
        Value::Array(items) => Value::Array(items.into_iter().map(shrink).collect()),
        Value::Object(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, shrink(v))).collect()),
        other => other,
    }
}

/// `text` cut to at most `max` bytes (at a character boundary), with `…` after a cut.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let end = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Longest output a run record keeps of a step, in bytes of JSON (with 20 steps at most, their
/// outputs stay under 200 KB of the item's 400 KB).
pub const MAX_KEPT_OUTPUT: usize = 8 * 1024;
/// In an output over [`MAX_KEPT_OUTPUT`], the longest string kept (bytes) and the longest list.
const MAX_KEPT_STRING: usize = 256;
const MAX_KEPT_ITEMS: usize = 20;
/// Longest error a run record keeps of a step, in bytes.
const MAX_KEPT_ERROR: usize = 1024;
/// What a run record keeps for a value it could not keep whole (see [`kept`]).
pub const NOT_KEPT: &str = "[not kept: too large]";

/// Key names whose values never go into a run record, matched anywhere in the (lowercased) name.
const SENSITIVE_KEYS: &[&str] = &["password", "passwd", "secret", "token", "authorization", "cookie", "credential", "email", "phone", "name", "address"];
/// Key words whose values never go into a run record, matched as a whole word of the name (its
/// parts between punctuation and at case changes: `x-api-key` is `x`, `api`, `key`;
/// `clientIp` is `client`, `ip`): `ip`, `session`, `auth`; and `key` beside another word
/// (`api_key`, `accessKey`; a lone `key`, such as an issue's, is kept).
fn sensitive_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    if SENSITIVE_KEYS.iter().any(|s| lower.contains(s)) {
        return true;
    }
    let mut words: Vec<String> = Vec::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            previous_lower = false;
            words.push(String::new());
            continue;
        }
        if c.is_uppercase() && previous_lower || words.is_empty() {
            words.push(String::new());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        if let Some(word) = words.last_mut() {
            word.extend(c.to_lowercase());
        }
    }
    words.retain(|w| !w.is_empty());
    let has = |w: &str| words.iter().any(|x| x == w);
    has("ip") || has("session") || has("auth") || (has("key") && words.len() > 1)
}

const REDACTED: &str = "[redacted]";

/// `value` with personal data and secrets replaced: every value under a sensitive key (every
/// string, number and flag in it, at any depth), and every string holding one of `personal`
/// ([`personal_forms`]).
pub fn redact(value: &Value, personal: &[String]) -> Value {
    match value {
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), if sensitive_key(k) { redact_all(v) } else { redact(v, personal) })).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| redact(i, personal)).collect()),
        Value::String(s) => Value::String(redact_text(s, personal)),
        other => other.clone(),
    }
}

/// `value` with every string, number and flag replaced by [`REDACTED`], its shape kept.
fn redact_all(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), redact_all(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(redact_all).collect()),
        Value::Null => Value::Null,
        _ => Value::String(REDACTED.into()),
    }
}

/// What [`redact`] looks for of the person's values (email, user name, IP address): each
/// lowercased as written and percent-encoded (an email in a URL's path: `hanako%40example.com`).
pub fn personal_forms(values: &[&str]) -> Vec<String> {
    let mut forms = Vec::new();
    for value in values.iter().filter(|v| v.len() > 2) {
        let lower = value.to_lowercase();
        let encoded = url::form_urlencoded::byte_serialize(lower.as_bytes()).collect::<String>().to_lowercase();
        forms.extend([encoded.replace('+', "%20"), encoded, lower]);
    }
    forms.sort();
    forms.dedup();
    forms
}

/// `text`, or [`REDACTED`] when it holds one of `personal` ([`personal_forms`]), whatever the case.
fn redact_text(text: &str, personal: &[String]) -> String {
    let lower = text.to_lowercase();
    if personal.iter().any(|p| lower.contains(p.as_str())) { REDACTED.into() } else { text.to_owned() }
}

/// Calls a workflow step's connector (`workflows`). Never fails: every problem is an
/// outcome (retry or final).
#[async_trait]
pub trait Connectors: Send + Sync {
    async fn call(&self, action: &Action) -> StepOutcome;
}

/// Workflow run records.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run; `false` if a run with this id exists already (a duplicate delivery).
    async fn begin(&self, run: &RunRecord) -> Result<bool, StoreError>;
    /// Records a run's end (or its state after a replay).
    async fn finish(&self, run: &RunRecord) -> Result<(), StoreError>;
}

/// Where failed runs go for an operator to see and replay.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn send(&self, run: &RunRecord) -> Result<(), StoreError>;
}

/// Waiting between retries (a no-op recorder in tests).
#[async_trait]
pub trait Pause: Send + Sync {
    async fn pause(&self, seconds: u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryRuns, ScriptedConnectors};
    use serde_json::json;
    use std::sync::atomic::Ordering;

    fn event(id: &str) -> IdentityEvent {
        serde_json::from_value(json!({"id": id, "type": "sign_in.high_risk", "at": 1, "user": {"sub": "s-1", "email": "hanako@example.com"},
                                      "context": {"app": "support", "country": "FR"}}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn flow() -> Flow {
        serde_json::from_value(json!({"id": "risky", "name": "Risky", "trigger": "sign_in.high_risk", "condition": "context.country != \"JP\"",
        "steps": [
            {"id": "incident", "connector": "http", "connection": "servicenow", "path": "/api/now/table/incident",
             "body": {"short_description": "High-risk sign-in for {{user.email}} from {{context.country}}"},
             "retry": {"max_attempts": 3, "backoff_seconds": 2}},
            {"id": "note", "connector": "http", "connection": "chat", "path": "/notes/{{steps.incident.output.body.result.number}}",
             "body": {"text": "{{user.sub}}"}}
        ]}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn runner(connectors: Arc<ScriptedConnectors>, runs: Arc<MemoryRuns>) -> Runner {
        Runner { connectors, runs: runs.clone(), dead_letters: runs.clone(), pause: runs, deadline: None }
    }

    fn done(number: &str) -> StepOutcome {
        StepOutcome::Done(json!({"status": 201, "body": {"result": {"number": number, "caller_email": "hanako@example.com"}}}))
    }

    #[tokio::test]
    async fn runs_once_per_event_with_step_outputs_and_redacted_records() {
        let connectors = Arc::new(ScriptedConnectors::answering([done("INC001"), StepOutcome::Done(json!({"status": 200}))]));
        let runs = Arc::new(MemoryRuns::default());
        let runner = runner(connectors.clone(), runs.clone());
        let out = runner.handle(&event("e-1"), &[flow()], 10).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, RunStatus::Succeeded);
        let calls = connectors.calls();
        let Action::Http { path, body, .. } = &calls[1] else { panic!("not an HTTP step") };
        assert_eq!(path, "/notes/INC001", "the second step reads the first one's output");
        assert_eq!(body, &json!({"text": "s-1"}));
        let Action::Http { body, .. } = &calls[0] else { panic!("not an HTTP step") };
        assert_eq!(body["short_description"], "High-risk sign-in for hanako@example.com from FR");
        assert_eq!(out[0].steps[0].output["body"]["result"]["caller_email"], REDACTED);
        assert!(!serde_json::to_string(&out[0]).unwrap_or_default().contains("hanako"), "no personal data in the record");

        // The same event again (a duplicate delivery): no second ticket.
        assert!(runner.handle(&event("e-1"), &[flow()], 11).await.unwrap_or_default().is_empty());
        assert_eq!(connectors.calls().len(), 2);
        // Another event is another run; an event the condition excludes is none.
        let mut jp = event("e-3");
        jp.context.country = Some("JP".into());
        assert!(runner.handle(&jp, &[flow()], 12).await.unwrap_or_default().is_empty());
    }

    /// Connectors whose calls take a minute (tokio's clock).
    struct Slow;

    #[async_trait]
    impl Connectors for Slow {
        async fn call(&self, _: &Action) -> StepOutcome {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StepOutcome::Done(json!({"status": 200}))
        }
    }

    /// A call begun in time that is still going near the deadline (it waited behind other flows'
    /// token requests) is given up, and its run recorded failed, never left `running`.
    #[tokio::test(start_paused = true)]
    async fn a_call_still_going_at_the_deadline_is_given_up_and_its_run_recorded_failed() {
        let runs = Arc::new(MemoryRuns::default());
        let deadline = Some(Instant::now() + STEP_BUDGET + Duration::from_secs(1));
        let runner = Runner { connectors: Arc::new(Slow), runs: runs.clone(), dead_letters: runs.clone(), pause: runs.clone(), deadline };
        let out = runner.handle(&event("e-1"), &[flow()], 10).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, RunStatus::Failed);
        assert_eq!(out[0].steps[0].error.as_deref(), Some(CUT_OFF));
    }

    #[tokio::test]
    async fn retries_with_backoff_then_dead_letters_and_replays_from_the_failed_step() {
        let connectors = Arc::new(ScriptedConnectors::answering([
            StepOutcome::Retry("HTTP 429".into()),
            StepOutcome::Retry("HTTP 503".into()),
            done("INC002"),
            StepOutcome::Retry("HTTP 500".into()),
            StepOutcome::Retry("HTTP 502".into()),
            StepOutcome::Retry("HTTP 504 for hanako@example.com".into()),
        ]));
        let runs = Arc::new(MemoryRuns::default());
        let runner = runner(connectors.clone(), runs.clone());
        let out = runner.handle(&event("e-2"), &[flow()], 10).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out[0].status, RunStatus::Failed);
        assert_eq!((out[0].steps[0].attempts, out[0].steps[1].attempts), (3, 3));
        assert_eq!(out[0].steps[1].error.as_deref(), Some(REDACTED));
        assert_eq!(*runs.pauses.lock().unwrap_or_else(|p| p.into_inner()), vec![2, 4, 1, 2], "doubling backoff per step policy");
        assert_eq!(runs.dead.lock().unwrap_or_else(|p| p.into_inner()).len(), 1);

        // The operator replays it: the ticket is not opened again.
        connectors.push(StepOutcome::Done(json!({"status": 200})));
        let replayed = runner.replay(&flow(), &event("e-2"), out[0].clone(), 20).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(replayed.status, RunStatus::Succeeded);
        assert_eq!(connectors.calls().len(), 7);
        let Action::Http { path, .. } = &connectors.calls()[6] else { panic!("not an HTTP step") };
        assert_eq!(path, "/notes/INC002");
    }

    /// A replay runs the flow as it is now, from the failed step, with the outputs the record
    /// kept: not for a flow that no longer applies, nor when a step to run reads a redacted one.
    #[test]
    fn a_replay_is_refused_where_it_would_not_do_what_the_run_did() {
        let failed = |output: Value| RunRecord {
            run_id: "r".into(),
            flow_id: "risky".into(),
            flow_version: 1,
            event_id: "e-2".into(),
            event_type: EventType::SignInHighRisk,
            status: RunStatus::Failed,
            steps: vec![
                StepRecord { id: "incident".into(), succeeded: true, attempts: 1, error: None, output },
                StepRecord { id: "note".into(), succeeded: false, attempts: 3, error: Some("HTTP 500".into()), output: Value::Null },
            ],
            started_at: 1,
            finished_at: Some(2),
        };
        let kept = json!({"status": 201, "body": {"result": {"number": "INC002", "caller_email": REDACTED}}});
        assert_eq!(Runner::replay_refusal(&flow(), &event("e-2"), &failed(kept.clone())), None, "the number it reads was kept");
        let redacted = json!({"status": 201, "body": {"result": {"number": REDACTED}}});
        let why = Runner::replay_refusal(&flow(), &event("e-2"), &failed(redacted)).unwrap_or_default();
        assert!(why.contains("`note` reads the output of step `incident`"), "{why}");
        let mut reads_all = flow();
        if let Action::Http { body, .. } = &mut reads_all.steps[1].action {
            *body = json!({"text": "{{steps.incident.output}}"});
        }
        assert!(Runner::replay_refusal(&reads_all, &event("e-2"), &failed(kept.clone())).is_some(), "the whole output holds a redacted value");
        let off = Flow { enabled: false, ..flow() };
        assert!(Runner::replay_refusal(&off, &event("e-2"), &failed(kept.clone())).unwrap_or_default().contains("no longer applies"));
        let mut jp = event("e-2");
        jp.context.country = Some("JP".into());
        assert!(Runner::replay_refusal(&flow(), &jp, &failed(kept)).is_some(), "its condition excludes the event now");
    }

    /// Twenty steps of large answers still make one record DynamoDB takes (400 KB): each keeps
    /// its output up to 8 KiB, its long values cut out first, else its status; a replay that
    /// would read what was not kept is refused.
    #[tokio::test]
    async fn large_answers_are_not_kept_whole_and_the_run_is_recorded() {
        let big = json!({"status": 200, "body": {"result": {"number": "INC9"}, "blob": "\u{1}".repeat(64 * 1024)}});
        let connectors = Arc::new(ScriptedConnectors::answering([StepOutcome::Done(big), StepOutcome::Failed(format!("HTTP 400: {}", "é".repeat(4000)))]));
        let runs = Arc::new(MemoryRuns::default());
        let out = runner(connectors.clone(), runs).handle(&event("e-5"), &[flow()], 1).await.unwrap_or_default();
        let calls = connectors.calls();
        let Action::Http { path, .. } = &calls[1] else { panic!("not an HTTP step") };
        assert_eq!(path, "/notes/INC9", "the run itself reads the whole answer");
        assert_eq!(out[0].steps[0].output, json!({"status": 200, "body": {"result": {"number": "INC9"}, "blob": NOT_KEPT}}));
        let error = out[0].steps[1].error.clone().unwrap_or_default();
        assert!(error.len() <= MAX_KEPT_ERROR + '…'.len_utf8() && error.ends_with('…'), "{}", error.len());
        assert!(serde_json::to_string(&out[0]).unwrap_or_default().len() < 4 * 1024);
        assert_eq!(Runner::replay_refusal(&flow(), &event("e-5"), &out[0]), None, "the number the next step reads was kept");
        let mut reads_blob = flow();
        if let Action::Http { path, .. } = &mut reads_blob.steps[1].action {
            *path = "/notes/{{ steps.incident.output.body.blob }}".into();
        }
        let why = Runner::replay_refusal(&reads_blob, &event("e-5"), &out[0]).unwrap_or_default();
        assert!(why.contains("did not keep"), "{why}");
        // Many small values: only the status is kept.
        let wide: Map<String, Value> = (0..400).map(|i| (format!("field{i}"), json!("v".repeat(100)))).collect();
        assert_eq!(kept(json!({"status": 200, "body": wide})), json!({"status": 200, "body": NOT_KEPT}));
    }

    /// What a service echoes back keeps no credential under a credential's name (a list of
    /// them included) and no email, percent-encoded included; a lone `key` (an issue's), an
    /// author and a count of ended sessions are kept.
    #[test]
    fn echoed_credentials_and_encoded_emails_are_redacted() {
        let personal = personal_forms(&["Hanako.Y@example.com", "203.0.113.7"]);
        let echoed = json!({"headers": {"x-api-key": "k-123", "cookies": ["sid=1"], "x-session-id": "s-1", "credentials": "c", "apiKey": ["k-2"]},
                            "clientIp": "198.51.100.1", "error": "/users/hanako.y%40example.com not found", "note": "from 203.0.113.7",
                            "key": "PROJ-1", "author": "bot", "sessions_ended": 2, "description": "fine"});
        let kept = redact(&echoed, &personal).to_string();
        for secret in ["k-123", "sid=1", "s-1", "\"c\"", "k-2", "198.51", "hanako", "203.0"] {
            assert!(!kept.contains(secret), "{secret}: {kept}");
        }
        for shown in ["PROJ-1", "\"bot\"", "\"sessions_ended\":2", "fine"] {
            assert!(kept.contains(shown), "{shown}: {kept}");
        }
    }

    #[tokio::test]
    async fn a_final_failure_is_not_retried() {
        let connectors = Arc::new(ScriptedConnectors::answering([StepOutcome::Failed("HTTP 400".into())]));
        let runs = Arc::new(MemoryRuns::default());
        let out = runner(connectors.clone(), runs.clone()).handle(&event("e-4"), &[flow()], 1).await.unwrap_or_default();
        assert_eq!((out[0].status, out[0].steps.len(), out[0].steps[0].attempts), (RunStatus::Failed, 1, 1));
        assert_eq!(runs.pauses.lock().unwrap_or_else(|p| p.into_inner()).len(), 0);
        assert_eq!(connectors.calls.load(Ordering::Relaxed), 1);
    }

    /// A step whose path a value would take to another resource (`/notes/..`) fails uncalled,
    /// and its run is dead-lettered as any failed one.
    #[tokio::test]
    async fn a_path_a_value_would_lead_elsewhere_fails_uncalled() {
        let connectors = Arc::new(ScriptedConnectors::answering([done("..")]));
        let runs = Arc::new(MemoryRuns::default());
        let out = runner(connectors.clone(), runs.clone()).handle(&event("e-6"), &[flow()], 1).await.unwrap_or_default();
        assert_eq!((out[0].status, out[0].steps.len(), out[0].steps[1].attempts), (RunStatus::Failed, 2, 0));
        assert!(out[0].steps[1].error.as_deref().is_some_and(|e| e.contains("dot segment")), "{:?}", out[0].steps[1].error);
        assert_eq!(connectors.calls.load(Ordering::Relaxed), 1, "only the first step called");
    }

    /// A retry whose wait and call would outlast the invocation is not waited for: the run
    /// fails now, dead-lettered and replayable, instead of being cut off `running` (which no
    /// redelivery runs again). Nor is a call begun that would.
    #[tokio::test]
    async fn a_run_stops_before_the_invocations_time_runs_out() {
        let connectors = Arc::new(ScriptedConnectors::answering([StepOutcome::Retry("HTTP 503".into())]));
        let runs = Arc::new(MemoryRuns::default());
        let deadline = Some(Instant::now() + STEP_BUDGET + Duration::from_secs(1));
        let out = Runner { deadline, ..runner(connectors.clone(), runs.clone()) }.handle(&event("e-7"), &[flow()], 1).await.unwrap_or_default();
        assert_eq!((out[0].status, out[0].steps[0].attempts), (RunStatus::Failed, 1));
        assert!(out[0].steps[0].error.as_deref().is_some_and(|e| e.contains("time ran out")), "{:?}", out[0].steps[0].error);
        assert_eq!(runs.pauses.lock().unwrap_or_else(|p| p.into_inner()).len(), 0, "no wait begun");
        assert_eq!(runs.dead.lock().unwrap_or_else(|p| p.into_inner()).len(), 1, "replayable");

        // No time for a call at all: no run begun, the event is the stream's to deliver again.
        let late = Runner { deadline: Some(Instant::now()), ..runner(connectors.clone(), runs.clone()) };
        assert!(late.handle(&event("e-8"), &[flow()], 1).await.is_err());
        assert_eq!((connectors.calls.load(Ordering::Relaxed), runs.runs.lock().unwrap_or_else(|p| p.into_inner()).len()), (1, 1), "nothing begun");
    }

    #[test]
    fn preview_renders_without_calling() {
        let preview = Runner::preview(&flow(), &event("e-5"));
        assert!(preview.applies);
        let Action::Http { body, path, .. } = &preview.steps[0].1 else { panic!("not an HTTP step") };
        assert_eq!(body["short_description"], "High-risk sign-in for hanako@example.com from FR");
        assert_eq!(path, "/api/now/table/incident");
        let Action::Http { path, .. } = &preview.steps[1].1 else { panic!("not an HTTP step") };
        assert_eq!(path, "/notes/", "outputs of earlier steps are unknown in a preview");
    }
}
