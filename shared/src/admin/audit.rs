//! The audit trail: every change an operator makes, through the admin API or `bridge-admin`, is
//! an [`AuditRecord`]: who (the [`Actor`]), when, from where, what kind of change
//! (`admin.app.updated`, ...), its target (`app:acme-help`), and the target before and after,
//! with secrets replaced by `"(set)"`. The store writes it in the change's own transaction
//! where the change is in DynamoDB, both as an audit item (kept [`RETENTION`]) and as an identity
//! event that workflows may react to. Changes made in Cognito (disabling a person) are recorded
//! once Cognito has accepted them.
//!
//! Reading: newest first, filtered by actor, kind, target and a time range
//! ([`AuditQuery`]), a page at a time with an opaque cursor.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::events::{EventContext, EventType, EventUser, IdentityEvent};

/// How long audit records are kept (seconds): 400 days.
pub const RETENTION: u64 = 400 * 24 * 3600;
/// Most records one page returns.
pub const MAX_PAGE: usize = 100;

/// Field names whose values never enter a record (at any depth).
const SECRET_FIELDS: &[&str] = &["secret", "client_secret", "sealed_secret", "signing_secret", "private_key", "password", "api_key", "secret_key"];

/// Which door a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Api,
    Cli,
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The console person's Cognito `sub`, or `cli:{login}` for `bridge-admin`.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The client's address (API Gateway's source IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub via: Via,
}

impl Actor {
    /// The person running `bridge-admin` on this machine (`$USER`, else `unknown`).
    pub fn cli() -> Self {
        let login = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
        Self { id: format!("cli:{login}"), email: None, ip: None, via: Via::Cli }
    }
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub actor: Actor,
    /// What changed: `app:{id}`, `user:{username}`, `role:{username}`.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

impl AuditRecord {
    /// A record of `kind` on `target` by `actor` at `now`; `before` and `after` are redacted.
    /// Its id is a UUIDv7 (RFC 9562): records of the same second sort in the order they were made.
    pub fn new(kind: EventType, actor: &Actor, target: String, before: Option<Value>, after: Option<Value>, now: u64) -> Self {
        Self { id: uuid::Uuid::now_v7().to_string(), kind, at: now, actor: actor.clone(), target, before: before.map(redact), after: after.map(redact) }
    }

    /// The identity event workflows see for this change (same id). `person`: the person the
    /// change is about, if it is about one; otherwise the event names the operator.
    pub fn event(&self, person: Option<EventUser>) -> IdentityEvent {
        let operator = || EventUser { sub: self.actor.id.clone(), email: self.actor.email.clone(), ..EventUser::default() };
        let context = EventContext { ip: self.actor.ip.clone(), method: Some("admin".into()), ..EventContext::default() };
        let mut detail = Map::new();
        detail.insert("actor".into(), serde_json::to_value(&self.actor).unwrap_or_default());
        detail.insert("target".into(), self.target.clone().into());
        for (name, value) in [("before", &self.before), ("after", &self.after)] {
            if let Some(value) = value {
                detail.insert(name.into(), value.clone());
            }
        }
        IdentityEvent { id: self.id.clone(), kind: self.kind, at: self.at, user: person.unwrap_or_else(operator), context, detail }
    }
}

/// `value` with every secret field's value replaced by `"(set)"` (or removed when null).
pub fn redact(mut value: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|k, v| !(SECRET_FIELDS.contains(&k.as_str()) && v.is_null()));
                for (k, v) in map.iter_mut() {
                    if SECRET_FIELDS.contains(&k.as_str()) {
                        *v = Value::String("(set)".into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

/// Which records to read. At most one of `actor` and `target` picks the index; `kind` and the
/// time range narrow it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub target: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<EventType>,
    /// From this time on (seconds since the epoch, inclusive).
    pub since: Option<u64>,
    /// Before this time (exclusive).
    pub until: Option<u64>,
    /// Records per page, 1 to [`MAX_PAGE`] (default 50).
    pub limit: Option<usize>,
    /// Where the previous page stopped.
    pub cursor: Option<String>,
}

impl AuditQuery {
    /// The page size, checked.
    pub fn page_size(&self) -> Result<usize, super::AdminError> {
        match self.limit.unwrap_or(50) {
            n @ 1..=MAX_PAGE => Ok(n),
            _ => Err(super::AdminError::Invalid(format!("limit is 1 to {MAX_PAGE}"))),
        }
    }

    pub fn check(&self) -> Result<(), super::AdminError> {
        if self.actor.is_some() && self.target.is_some() {
            return Err(super::AdminError::Invalid("filter by actor or by target, not both".into()));
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return Err(super::AdminError::Invalid("since must be before until".into()));
        }
        let too_long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.is_empty() || v.len() > 256);
        if too_long(&self.actor) || too_long(&self.target) {
            return Err(super::AdminError::Invalid("actor and target are 1 to 256 characters".into()));
        }
        if self.since.max(self.until).is_some_and(|t| t > MAX_TIME) {
            return Err(super::AdminError::Invalid(format!("since and until are at most {MAX_TIME}")));
        }
        if let Some(cursor) = &self.cursor {
            // A cursor from this same query lies inside its time range.
            let at = cursor_time(cursor).ok_or_else(|| super::AdminError::Invalid("not a cursor this API gave".into()))?;
            if self.since.is_some_and(|s| at < s) || self.until.is_some_and(|u| at >= u) {
                return Err(super::AdminError::Invalid("the cursor is outside since and until".into()));
            }
        }
        self.page_size().map(drop)
    }
}

/// The latest time a query names (the sort key holds ten digits of seconds).
const MAX_TIME: u64 = 9_999_999_999;

/// The time of a cursor as the store makes it: the last record's `{at:010}_{id}` (safe in a
/// URL as it is); `None` for anything else.
fn cursor_time(cursor: &str) -> Option<u64> {
    let (at, id) = cursor.split_once('_')?;
    let ok = at.len() == 10 && at.bytes().all(|b| b.is_ascii_digit()) && uuid::Uuid::parse_str(id).is_ok();
    if ok { at.parse().ok() } else { None }
}

/// A page of records, newest first, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_never_enter_a_record_at_any_depth() {
        let app = json!({"id": "a", "signing_secret": "arn:aws:secretsmanager:...", "target": {"client_secret": "s3cr3t", "url": "https://x"},
                         "hooks": [{"api_key": "k"}], "password": null});
        let record = AuditRecord::new(EventType::AdminAppUpdated, &Actor::cli(), "app:a".into(), Some(app.clone()), None, 1);
        assert_eq!(
            record.before,
            Some(json!({"id": "a", "signing_secret": "(set)", "target": {"client_secret": "(set)", "url": "https://x"}, "hooks": [{"api_key": "(set)"}]}))
        );
        let event = record.event(None).to_value();
        assert!(!event.to_string().contains("s3cr3t") && !event.to_string().contains("arn:aws"), "{event}");
        assert_eq!(event["type"], "admin.app.updated");
        assert_eq!(event["detail"]["actor"]["via"], "cli");
    }

    #[test]
    fn a_query_is_checked_before_it_reads() {
        let q = |v: Value| serde_json::from_value::<AuditQuery>(v).map_err(|e| e.to_string()).and_then(|q| q.check().map_err(|e| e.to_string()));
        assert!(q(json!({"actor": "s", "type": "admin.app.updated", "since": 1, "until": 2, "limit": 100})).is_ok());
        assert!(q(json!({"actor": "s", "target": "app:a"})).is_err());
        assert!(q(json!({"since": 5, "until": 5})).is_err());
        assert!(q(json!({"limit": 0})).is_err());
        assert!(q(json!({"limit": 101})).is_err());
        assert!(q(json!({"type": "user.exploded"})).is_err());
        assert!(q(json!({"actor": ""})).is_err());
        assert!(q(json!({"sort": "asc"})).is_err());
        assert!(q(json!({"cursor": "1700000000_6f1e2b1c-0c6e-4b7e-9d7a-2f1f4f9f0a11"})).is_ok());
        assert!(q(json!({"cursor": "1700000000_x"})).is_err());
        assert!(q(json!({"cursor": "AUDIT#other"})).is_err());
        assert!(q(json!({"since": 9_999_999_999u64, "until": 10_000_000_001u64})).is_err());
        assert!(q(json!({"cursor": "1700000000_6f1e2b1c-0c6e-4b7e-9d7a-2f1f4f9f0a11", "since": 1_800_000_000})).is_err());
    }
}
