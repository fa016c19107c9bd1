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
//! Step inputs are templates (`workflows::template`) over the event, plus the outputs of
//! the steps before (`{{steps.incident.output.result.sys_id}}`). A flow is checked whole when it
//! is imported: a malformed condition, a duplicate step id or an impossible retry policy is
//! refused then, not at run time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::email_message::{MAX_SUBJECT, MAX_TEXT, Texts, one_line, recipient};
use super::expr::Condition;
use crate::common::email::Email;
use crate::events::EventType;

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
    /// For `user.inactive` flows (and only those): after how many days without a sign-in
    /// (`workflows::inactivity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_days: Option<u32>,
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
    /// ServiceNow: a record (an incident by default) through the Table API.
    Servicenow {
        connection: String,
        #[serde(default = "incident")]
        table: String,
        fields: Map<String, Value>,
    },
    /// Salesforce: a record of an object (`Contact`, `Lead`, ...) through the REST API.
    Salesforce {
        connection: String,
        object: String,
        #[serde(default = "salesforce_version")]
        api_version: String,
        fields: Map<String, Value>,
    },
    /// Marketo: create or update a lead (`upsert_lead`, by `lookup_field`), or add a lead to a
    /// static list (`add_to_list`, `list_id` and `lead_id`).
    Marketo {
        connection: String,
        action: MarketoAction,
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        fields: Map<String, Value>,
        #[serde(default = "email")]
        lookup_field: String,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        list_id: Value,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        lead_id: Value,
    },
    /// An action on a user of the bridge's own user pool.
    Cognito {
        action: CognitoAction,
        username: String,
        /// For `add_to_group`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        /// For `link_accounts`: the person's verified email.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// A plain-text email to the event's person, at their verified address, in their language
    /// (`workflows::email_message`, sent by `workflows::email_step`).
    Email {
        subject: Texts,
        text: Texts,
        /// The recipient: filled in from the event when the step runs, never written in a flow.
        #[serde(skip)]
        to: Option<Email>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketoAction {
    UpsertLead,
    AddToList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CognitoAction {
    /// Disable the user and sign them out everywhere (bridge sessions too).
    DisableUser,
    /// Delete the user (a user already gone is done).
    DeleteUser,
    AddToGroup,
    /// Revoke the user's refresh tokens and end their bridge sessions.
    SignOut,
    /// Merge a federated user (`username`, e.g. `AcmeOIDC_00u1`) into the pool's own account with
    /// the same verified `email`: the federated duplicate is deleted and its identity linked to
    /// that account, so the next sign-in through the provider lands there. Nothing happens
    /// without a verified email on both sides or without such an account.
    LinkAccounts,
}

fn post() -> String {
    "POST".into()
}

fn incident() -> String {
    "incident".into()
}

fn salesforce_version() -> String {
    "v61.0".into()
}

fn email() -> String {
    "email".into()
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
    #[error("the flow's name is 1 to 200 characters")]
    BadName,
    #[error("a flow has 1 to 20 steps with distinct ids of a-z, 0-9, '-' and '_'")]
    BadSteps,
    #[error("step `{0}`: at most 10 attempts, and at most 60 s between them")]
    BadRetry(String),
    #[error("step `{0}`: the method is not an HTTP method")]
    BadMethod(String),
    #[error("step `{0}`: {1}")]
    BadStep(String, &'static str),
    #[error("a user.inactive flow names its inactive_days (1 to 3650), and only such a flow does")]
    BadInactiveDays,
}

impl Action {
    /// What is wrong with the step's settings, if anything (checked on import).
    fn validate(&self) -> Result<(), &'static str> {
        let name = |s: &str| !s.is_empty() && s.len() <= 80 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match self {
            Action::Http { method, .. } if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) => Err("method"),
            Action::Servicenow { table, .. } if !name(table) => Err("the table is a ServiceNow table name"),
            Action::Salesforce { object, .. } if !name(object) => Err("the object is a Salesforce object name (Contact, Lead, ...)"),
            Action::Salesforce { api_version, .. } if !api_version.starts_with('v') || api_version[1..].parse::<f32>().is_err() => {
                Err("api_version looks like v61.0")
            }
            Action::Marketo { action: MarketoAction::UpsertLead, fields, .. } if fields.is_empty() => Err("upsert_lead needs fields"),
            Action::Marketo { action: MarketoAction::AddToList, list_id, lead_id, .. } if list_id.is_null() || lead_id.is_null() => {
                Err("add_to_list needs list_id and lead_id")
            }
            Action::Cognito { action: CognitoAction::AddToGroup, group: None, .. } => Err("add_to_group needs a group"),
            Action::Cognito { action: CognitoAction::LinkAccounts, email: None, .. } => Err("link_accounts needs the email"),
            Action::Email { subject, .. } if !subject.fits(MAX_SUBJECT) => Err("an email's subject is 1 to 200 characters in each language"),
            Action::Email { text, .. } if !text.fits(MAX_TEXT) => Err("an email's text is 1 to 10,000 characters in each language"),
            Action::Http { headers, .. } if !super::connection::valid_headers(headers) => Err(super::connection::HEADERS_RULE),
            _ if self.http_call().is_some_and(|call| !super::connection::valid_name(&call.connection)) => {
                Err("the connection's name is 1 to 64 characters of a-z, 0-9, '-' and '_'")
            }
            _ => Ok(()),
        }
    }

    /// An email step as it is sent for `event` (its JSON, the templates rendered): its recipient
    /// and the person's language filled in ([`recipient`]), the subject on one line. Other steps
    /// are left as they are. The reason it cannot be sent: the event's person has no verified
    /// address, or the rendered subject or text is empty or too long.
    pub fn address(&mut self, event: &Value) -> Result<(), String> {
        let Action::Email { subject, text, to } = self else { return Ok(()) };
        let (address, language) = recipient(event)?;
        let (one_subject, one_text) = (one_line(subject.pick(language)), text.pick(language).to_owned());
        if one_subject.is_empty() || one_text.trim().is_empty() || one_text.chars().count() > MAX_TEXT {
            return Err("the email's subject or text is empty, or its text is over 10,000 characters, once rendered: nothing was sent".into());
        }
        *to = Some(address);
        *subject = Texts::One(one_subject);
        *text = Texts::One(one_text);
        Ok(())
    }
}

impl Flow {
    pub fn validate(&self) -> Result<(), FlowError> {
        let id_ok = |s: &str, extra: &[u8]| {
            (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || extra.contains(&b))
        };
        if !id_ok(&self.id, b"") {
            return Err(FlowError::BadId);
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(FlowError::BadName);
        }
        let inactivity = self.trigger == EventType::UserInactive;
        if inactivity != self.inactive_days.is_some_and(|d| (1..=3650).contains(&d)) || (!inactivity && self.inactive_days.is_some()) {
            return Err(FlowError::BadInactiveDays);
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
            step.action.validate().map_err(|problem| match problem {
                "method" => FlowError::BadMethod(step.id.clone()),
                other => FlowError::BadStep(step.id.clone(), other),
            })?;
        }
        Ok(())
    }

    /// Whether this flow runs for `event` (its JSON).
    pub fn applies_to(&self, kind: EventType, event: &Value) -> bool {
        let threshold = self.inactive_days.is_none_or(|d| event["detail"]["inactive_days"] == d);
        self.enabled && self.trigger == kind && threshold && self.condition.as_ref().is_none_or(|c| c.matches(event))
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
