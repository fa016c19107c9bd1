//! Telephony hooks as operators manage them, the same for the admin API and `bridge-admin hook`:
//! create and update (checked by `Hook::validate`; the secret goes to the vault as
//! `{prefix}/hooks/{name}/{UUIDv7}`, a new one per change ([`super::secret_change`]), and the
//! table keeps only its reference), activate, deactivate,
//! remove, the 30-day metrics, and the preview: the request the sender would send for a person
//! and a request type, which the operator may edit, sent once, with the answer and its timing.
//!
//! Every change is written in one transaction with its audit record, whose identity event is the
//! hook's lifecycle event (`hook.created`, `hook.updated`, `hook.activated`, `hook.deactivated`,
//! `hook.deleted`: `detail` has `hook`, `version`, `url`, `fallback`, and the audit's `actor`,
//! `target`, `before`, `after`). A preview is not counted in the metrics and records nothing.

use std::sync::Arc;
use std::time::Instant;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::ports::{AuditedHooks, SecretVault};
use super::secret_change::{self, Written};
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;
use crate::directory::ports::PoolUser;
use crate::events::{EventType, IdentityEvent};
use crate::telephony::hook::{Answer, Delivery, Hook, Recipient, RequestType, read_answer};
use crate::telephony::ports::HookCaller;
use crate::telephony::sms_sender::CALL_TIMEOUT;
pub use crate::workflows::connection::AuthSettings;

const DAY: u64 = 24 * 3600;

/// What an operator sets on a hook (the admin API's body): everything but its name and version.
/// `secret` is write only; an update without it keeps the stored one (the same kind of
/// authentication only).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSettings {
    pub url: String,
    pub auth: AuthSettings,
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub secret: Option<SecretString>,
}

impl super::Check for HookSettings {
    fn check(&self, name: &str) -> Result<(), AdminError> {
        let auth = self.auth.clone().into_auth(SecretRef(String::new()));
        Hook { name: name.to_owned(), url: self.url.clone(), auth, fallback: self.fallback.clone(), version: 1 }.validate().map_err(invalid)?;
        super::non_blank(self.secret.as_ref(), "the hook's secret")
    }
}

/// A hook as operators see it: its secret's reference replaced by `has_secret`.
pub fn view(hook: &Hook) -> Value {
    super::secret_as_flag(serde_json::to_value(hook).unwrap_or_default())
}

/// A preview's answer.
#[derive(Debug, Serialize)]
pub struct PreviewAnswer {
    /// The HTTP status, or none when the hook did not answer.
    pub status: Option<u16>,
    pub body: Value,
    /// Milliseconds from sending to the answer.
    pub millis: u64,
    /// `delivered` or `failed: why`, as the sender would read it.
    pub outcome: String,
}

/// The person a preview is for (their Cognito attributes).
#[derive(Debug, Clone, Default)]
pub struct PreviewUser {
    pub sub: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
}

impl PreviewUser {
    pub fn of(user: &PoolUser) -> Self {
        let text = |name: &str| user.attributes.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            sub: text("sub").unwrap_or_default(),
            phone: text("phone_number"),
            email: text("email"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            locale: text("locale"),
        }
    }
}

pub struct HooksAdmin {
    pub store: Arc<dyn AuditedHooks>,
    /// Where a request sent by hand is recorded (`hook.test_sent`).
    pub audit: Arc<dyn super::ports::AuditLog>,
    pub vault: Arc<dyn SecretVault>,
    pub caller: Arc<dyn HookCaller>,
    /// Secret names start with this (the stack name).
    pub prefix: String,
}

fn invalid(e: impl std::fmt::Display) -> AdminError {
    AdminError::Invalid(e.to_string())
}

fn target(name: &str) -> String {
    format!("hook:{name}")
}

/// The lifecycle event of `kind` for `hook`, recording `audit` (the same id, actor and diff).
fn event(audit: &AuditRecord, hook: &Hook) -> IdentityEvent {
    let lifecycle = hook.lifecycle_event(audit.kind, audit.at);
    let mut event = audit.event(None);
    event.detail.extend(lifecycle.detail);
    event
}

impl HooksAdmin {
    pub async fn get(&self, name: &str) -> Result<Hook, AdminError> {
        self.store.hook(name).await?.ok_or_else(|| AdminError::NotFound(format!("hook `{name}`")))
    }

    /// Every hook and the active one's name (one `Query`).
    pub async fn list(&self) -> Result<(Vec<Hook>, Option<String>), AdminError> {
        Ok(self.store.all().await?)
    }

    /// Stores a new hook with `secret` as its header value or OAuth client secret.
    pub async fn create(&self, actor: &Actor, name: &str, settings: HookSettings, now: u64) -> Result<Hook, AdminError> {
        let secret = settings.secret.ok_or_else(|| AdminError::Invalid("a new hook needs its secret".into()))?;
        let mut hook =
            Hook { name: name.to_owned(), url: settings.url, auth: settings.auth.into_auth(SecretRef(String::new())), fallback: settings.fallback, version: 1 };
        hook.validate().map_err(invalid)?;
        if self.store.hook(&hook.name).await?.is_some() {
            return Err(AdminError::Exists(format!("hook `{}` exists already", hook.name)));
        }
        self.check_fallback(&hook).await?;
        let created = self.write_secret(&mut hook, &secret).await?;
        let audit = AuditRecord::new(EventType::HookCreated, actor, target(name), None, Some(view(&hook)), now);
        let written = self.save(&hook, &audit).await;
        secret_change::settle(&*self.vault, Written::of(&written), Some(&created), None, None).await;
        match written {
            Err(AdminError::Stale { .. }) => Err(AdminError::Exists(format!("hook `{}` exists already", hook.name))),
            other => other.map(|()| hook),
        }
    }

    /// Replaces hook `name`'s settings over `version`, and its secret when one is given.
    pub async fn update(&self, actor: &Actor, name: &str, settings: HookSettings, version: u64, now: u64) -> Result<Hook, AdminError> {
        let current = self.get(name).await?;
        if current.version != version {
            return Err(AdminError::Stale { current: current.version });
        }
        let kept = current.auth.secret().cloned().unwrap_or(SecretRef(String::new()));
        let auth = settings.auth.into_auth(kept);
        if settings.secret.is_none() && std::mem::discriminant(&auth) != std::mem::discriminant(&current.auth) {
            return Err(AdminError::Invalid("changing how a hook authenticates needs its new secret".into()));
        }
        if settings.secret.is_none() && auth.sent_to(&settings.url) != current.auth.sent_to(&current.url) {
            return Err(AdminError::Invalid("a hook's secret does not follow it to another host: enter it again".into()));
        }
        let mut hook = Hook { name: current.name.clone(), url: settings.url, auth, fallback: settings.fallback, version: current.version + 1 };
        hook.validate().map_err(invalid)?;
        self.check_fallback(&hook).await?;
        let created = match &settings.secret {
            Some(secret) => Some(self.write_secret(&mut hook, secret).await?),
            None => None,
        };
        let audit = AuditRecord::new(EventType::HookUpdated, actor, target(name), Some(view(&current)), Some(view(&hook)), now);
        let written = self.save(&hook, &audit).await;
        secret_change::settle(&*self.vault, Written::of(&written), created.as_ref(), current.auth.secret(), hook.auth.secret()).await;
        written.map(|()| hook)
    }

    /// Makes `name` the active hook (whichever was active is not any more).
    pub async fn activate(&self, actor: &Actor, name: &str, now: u64) -> Result<(), AdminError> {
        let hook = self.get(name).await?;
        let (_, active) = self.store.all().await?;
        let audit = AuditRecord::new(EventType::HookActivated, actor, target(name), Some(json!({"active": active})), Some(json!({"active": name})), now);
        match self.store.activate(name, &event(&audit, &hook), &audit).await {
            Err(StoreError::Missing(_)) => Err(AdminError::NotFound(format!("hook `{name}`"))),
            other => Ok(other?),
        }
    }

    /// Stops using `name`, which must be the active hook: no codes are delivered until another is
    /// activated.
    pub async fn deactivate(&self, actor: &Actor, name: &str, now: u64) -> Result<(), AdminError> {
        let hook = self.get(name).await?;
        let audit = AuditRecord::new(EventType::HookDeactivated, actor, target(name), Some(json!({"active": name})), Some(json!({"active": null})), now);
        match self.store.deactivate(name, &event(&audit, &hook), &audit).await {
            Err(StoreError::Conflict) => Err(AdminError::Invalid(format!("hook `{name}` is not the active hook"))),
            other => Ok(other?),
        }
    }

    /// Removes `name` at `version` (neither active nor another hook's fallback), then schedules its
    /// secret for deletion (7 days' recovery) unless `keep_secret`.
    pub async fn remove(&self, actor: &Actor, name: &str, version: Option<u64>, keep_secret: bool, now: u64) -> Result<(), AdminError> {
        let (hooks, _) = self.store.all().await?;
        let hook = hooks.iter().find(|h| h.name == name).ok_or_else(|| AdminError::NotFound(format!("hook `{name}`")))?;
        if let Some(version) = version
            && version != hook.version
        {
            return Err(AdminError::Stale { current: hook.version });
        }
        if let Some(other) = hooks.iter().find(|h| h.fallback.as_deref() == Some(name)) {
            return Err(AdminError::Invalid(format!("hook `{}` falls back to `{name}`; change it first", other.name)));
        }
        let audit = AuditRecord::new(EventType::HookDeleted, actor, target(name), Some(view(hook)), None, now);
        let others: Vec<Hook> = hooks.iter().filter(|h| h.name != name).cloned().collect();
        match self.store.remove(hook, &others, &event(&audit, hook), &audit).await {
            Err(StoreError::Taken(_)) => return Err(AdminError::Invalid(format!("hook `{name}` is the active hook; deactivate it or activate another first"))),
            // It or another hook changed since they were read (perhaps to fall back to it).
            Err(StoreError::Conflict) => {
                return Err(match self.store.hook(name).await? {
                    Some(now) if now.version != hook.version => AdminError::Stale { current: now.version },
                    Some(_) => AdminError::Invalid(format!("the hooks changed while `{name}` was being removed (one may fall back to it now); try again")),
                    None => AdminError::NotFound(format!("hook `{name}`")),
                });
            }
            other => other?,
        }
        if let (false, Some(secret)) = (keep_secret, hook.auth.secret()) {
            self.vault.delete(secret).await?;
        }
        Ok(())
    }

    /// The last 30 days (today included): executions, successful, failed, the average duration
    /// of the successful ones (ms), and the same per day.
    pub async fn metrics(&self, name: &str, now: u64) -> Result<Value, AdminError> {
        self.get(name).await?;
        let today = now / DAY;
        let days = self.store.counts(name, today - 29, today).await?;
        let sum = |f: fn(&crate::telephony::ports::DayCount) -> u64| days.iter().map(f).sum::<u64>();
        let (total, succeeded, failed, succeeded_ms) = (sum(|d| d.total), sum(|d| d.succeeded), sum(|d| d.failed), sum(|d| d.succeeded_ms));
        let average = succeeded_ms.checked_div(succeeded).map_or(Value::Null, Value::from);
        let per_day: Vec<Value> = days
            .iter()
            .map(|d| json!({"date": &crate::common::time::rfc3339(d.day * DAY)[..10], "total": d.total, "successful": d.succeeded, "failed": d.failed}))
            .collect();
        Ok(json!({"hook": name, "days": 30, "total": total, "successful": succeeded, "failed": failed, "average_success_ms": average, "per_day": per_day}))
    }

    /// The request the sender would send `name` for this person and request type, with a
    /// random code.
    pub async fn preview_request(&self, name: &str, user: &PreviewUser, kind: RequestType, now: u64) -> Result<Value, AdminError> {
        let hook = self.get(name).await?;
        let code = format!("{:06}", crate::common::random::below(1_000_000));
        let recipient = Recipient {
            phone: user.phone.clone().ok_or_else(|| AdminError::Invalid("the person has no phone_number".into()))?,
            user_id: user.sub.clone(),
            login: user.email.clone(),
            first_name: user.given_name.clone(),
            last_name: user.family_name.clone(),
            locale: user.locale.clone(),
        };
        let delivery = Delivery { event_id: format!("preview-{}", crate::common::random::secret(12)), kind, recipient, code: code.into(), at: now };
        Ok(delivery.hook_request(&hook.url))
    }

    /// Sends `request` (as generated or edited) to hook `name` once, with the sender's timeout,
    /// recorded first as `hook.test_sent` by `actor` (the number masked; no record, no request):
    /// a message to a real phone through the operator's provider is never unaccounted for.
    pub async fn preview_send(&self, actor: &Actor, name: &str, request: &Value, now: u64) -> Result<PreviewAnswer, AdminError> {
        let hook = self.get(name).await?;
        let to = request.pointer("/data/messageProfile/phoneNumber").and_then(Value::as_str).map(crate::telephony::hook::masked);
        let sent = json!({"to": to, "request_type": request.get("requestType")});
        let audit = AuditRecord::new(EventType::HookTestSent, actor, target(name), None, Some(sent), now);
        self.audit.record(&audit, None).await?;
        let started = Instant::now();
        let result = self.caller.call(&hook, request, CALL_TIMEOUT).await;
        let millis = started.elapsed().as_millis() as u64;
        Ok(match result {
            Ok((status, body)) => {
                let outcome = match (status, read_answer(&body)) {
                    (200..=299, Answer::Delivered { .. }) => "delivered".to_owned(),
                    (200..=299, Answer::Failed(why)) => format!("failed: {why}"),
                    (status, _) => format!("failed: HTTP {status}"),
                };
                PreviewAnswer { status: Some(status), body, millis, outcome }
            }
            Err(failure) => PreviewAnswer { status: None, body: Value::Null, millis, outcome: format!("failed: {failure}") },
        })
    }

    async fn check_fallback(&self, hook: &Hook) -> Result<(), AdminError> {
        if let Some(fallback) = &hook.fallback
            && self.store.hook(fallback).await?.is_none()
        {
            return Err(AdminError::Invalid(format!("the fallback hook `{fallback}` does not exist (create it first)")));
        }
        Ok(())
    }

    /// Writes `secret` as a new secret of the hook, `{prefix}/hooks/{name}/{UUIDv7}`, and points
    /// its authentication at it; returns the reference.
    async fn write_secret(&self, hook: &mut Hook, secret: &SecretString) -> Result<SecretRef, AdminError> {
        use secrecy::ExposeSecret;
        if secret.expose_secret().trim().is_empty() {
            return Err(AdminError::Invalid("the hook's secret is empty".into()));
        }
        if hook.auth.secret().is_none() {
            return Err(AdminError::Invalid("this hook has no secret".into()));
        }
        let path = format!("{}/hooks/{}", self.prefix, hook.name);
        let reference = secret_change::write(&*self.vault, &path, &format!("Secret of telephony hook {}", hook.name), secret).await?;
        hook.auth.set_secret(reference.clone());
        Ok(reference)
    }

    async fn save(&self, hook: &Hook, audit: &AuditRecord) -> Result<(), AdminError> {
        match self.store.save(hook, &event(audit, hook), audit).await {
            Err(StoreError::Conflict) => Err(AdminError::Stale { current: self.get(&hook.name).await?.version }),
            Err(StoreError::Missing(what)) => Err(AdminError::Invalid(format!("{what} does not exist"))),
            other => Ok(other?),
        }
    }
}
