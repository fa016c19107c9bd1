//! A flow: a declarative document an operator imports (JSON), reacting to one event type.
//!
//! ```json
//! {
//!   "id": "risky-sign-in-incident", "name": "High-risk sign-in opens an incident", "enabled": true,
//!   "trigger": "sign_in.high_risk",
//!   "condition": "context.app != \"internal\"",
//!   "steps": [
//!     { "id": "incident", "connector": "http", "connection": "servicenow",
//!       "method": "POST", "path": "/api/now/table/incident",
//!       "body": { "short_description": "High-risk sign-in for {{user.email}}", "urgency": "2" },
//!       "retry": { "max_attempts": 4, "backoff_seconds": 2 } }
//!   ]
//! }
//! ```
//!
//! Step inputs are templates (`domain::workflow::template`) over the event, plus the outputs of
//! the steps before (`{{steps.incident.output.result.sys_id}}`). A flow is checked whole when it
//! is imported: a malformed condition, a duplicate step id or an impossible retry policy is
//! refused then, not at run time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::expr::Condition;
use crate::domain::events::EventType;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub id: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub trigger: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    pub steps: Vec<Step>,
    /// Incremented on every import; runs record the version they ran.
    #[serde(default)]
    pub version: u64,
}

fn yes() -> bool {
    true
}

/// One step: its id, what it does, and how it is retried. Written flat (`{"id", "connector",
/// ...settings, "retry"}`); unknown fields are refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub action: Action,
    pub retry: RetryPolicy,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = Map::<String, Value>::deserialize(d)?;
        let id = match fields.remove("id") {
            Some(Value::String(id)) => id,
            _ => return Err(D::Error::custom("a step needs an `id`")),
        };
        let retry = fields.remove("retry").map(serde_json::from_value).transpose().map_err(D::Error::custom)?.unwrap_or_default();
        let action = Action::deserialize(Value::Object(fields)).map_err(|e| D::Error::custom(format!("step `{id}`: {e}")))?;
        Ok(Self { id, action, retry })
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.action).map_err(serde::ser::Error::custom)?;
        if let Value::Object(fields) = &mut value {
            fields.insert("id".into(), self.id.clone().into());
            fields.insert("retry".into(), serde_json::to_value(self.retry).map_err(serde::ser::Error::custom)?);
        }
        value.serialize(s)
    }
}

/// What a step does. Each connector's settings; templated fields are rendered before the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "connector", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// An HTTP request through a named connection (base URL and authentication).
    Http {
        connection: String,
        #[serde(default = "post")]
        method: String,
        /// Appended to the connection's base URL (templated).
        #[serde(default)]
        path: String,
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        headers: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        body: Value,
    },
}

fn post() -> String {
    "POST".into()
}

/// How often a step is tried and how long it waits between tries (doubling each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_seconds: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, backoff_seconds: 1 }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (2, 3, ...).
    pub fn backoff(&self, attempt: u32) -> u64 {
        self.backoff_seconds.saturating_mul(1 << attempt.saturating_sub(2).min(16))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the flow id is 1 to 64 characters of a-z, 0-9 and '-'")]
    BadId,
    #[error("a flow has 1 to 20 steps with distinct ids of a-z, 0-9, '-' and '_'")]
    BadSteps,
    #[error("step `{0}`: at most 10 attempts, and at most 60 s between them")]
    BadRetry(String),
    #[error("step `{0}`: the method is not an HTTP method")]
    BadMethod(String),
}

impl Flow {
    pub fn validate(&self) -> Result<(), FlowError> {
        let id_ok = |s: &str, extra: &[u8]| {
            (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || extra.contains(&b))
        };
        if !id_ok(&self.id, b"") {
            return Err(FlowError::BadId);
        }
        let mut ids: Vec<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if self.steps.is_empty() || self.steps.len() > 20 || ids.len() != self.steps.len() || !self.steps.iter().all(|s| id_ok(&s.id, b"_")) {
            return Err(FlowError::BadSteps);
        }
        for step in &self.steps {
            if !(1..=10).contains(&step.retry.max_attempts) || step.retry.backoff_seconds > 60 {
                return Err(FlowError::BadRetry(step.id.clone()));
            }
            let Action::Http { method, .. } = &step.action;
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                return Err(FlowError::BadMethod(step.id.clone()));
            }
        }
        Ok(())
    }

    /// Whether this flow runs for `event` (its JSON).
    pub fn applies_to(&self, kind: EventType, event: &Value) -> bool {
        self.enabled && self.trigger == kind && self.condition.as_ref().is_none_or(|c| c.matches(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn flow(v: Value) -> Result<Flow, String> {
        let flow: Flow = serde_json::from_value(v).map_err(|e| e.to_string())?;
        flow.validate().map_err(|e| e.to_string())?;
        Ok(flow)
    }

    fn base() -> Value {
        json!({"id": "risky", "name": "Risky", "trigger": "sign_in.high_risk", "condition": "context.app != \"internal\"",
               "steps": [{"id": "incident", "connector": "http", "connection": "servicenow", "path": "/api/now/table/incident",
                          "body": {"short_description": "{{user.email}}"}}]})
    }

    #[test]
    fn imports_and_matches() {
        let f = flow(base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.steps[0].retry, RetryPolicy::default());
        assert!(f.applies_to(EventType::SignInHighRisk, &json!({"context": {"app": "support"}})));
        assert!(!f.applies_to(EventType::SignInHighRisk, &json!({"context": {"app": "internal"}})));
        assert!(!f.applies_to(EventType::UserRegistered, &json!({})));
        assert!(!Flow { enabled: false, ..f }.applies_to(EventType::SignInHighRisk, &json!({})));
        assert_eq!(RetryPolicy { max_attempts: 5, backoff_seconds: 2 }.backoff(2), 2);
        assert_eq!(RetryPolicy { max_attempts: 5, backoff_seconds: 2 }.backoff(4), 8);
    }

    #[test]
    fn refuses_what_cannot_run() {
        let with = |path: &str, value: Value| {
            let mut v = base();
            let mut target = &mut v;
            let parts: Vec<&str> = path.split('/').collect();
            for p in &parts[..parts.len() - 1] {
                target = if let Ok(i) = p.parse::<usize>() { &mut target[i] } else { &mut target[*p] };
            }
            target[parts[parts.len() - 1]] = value;
            flow(v)
        };
        assert!(with("condition", json!("context.app ==")).is_err_and(|e| e.contains("character")));
        assert!(with("trigger", json!("user.exploded")).is_err());
        assert!(with("id", json!("Risky Flow")).is_err());
        assert!(with("steps/0/retry", json!({"max_attempts": 0, "backoff_seconds": 1})).is_err());
        assert!(with("steps/0/method", json!("TRACE")).is_err());
        assert!(with("steps/0/connector", json!("ftp")).is_err());
        assert!(with("steps", json!([])).is_err());
        assert!(with("extra", json!(1)).is_err());
        assert!(with("steps/0/extra", json!(1)).is_err());
        let f = flow(base()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(flow(serde_json::to_value(&f).unwrap_or_default()), Ok(f), "a flow exports as it imports");
    }
}
