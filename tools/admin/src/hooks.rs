//! Telephony hooks for the operator: create and update (checked by `Hook::validate`; the secret
//! goes to Secrets Manager as `{prefix}/hooks/{name}` and the table keeps only its ARN),
//! activate, deactivate, remove, list, the 30-day metrics, and the preview: a request for a
//! real user and a request type, which the operator may edit, sent once, with the answer and
//! its timing. Every change is written with its lifecycle event (`hook.created`,
//! `hook.updated`, `hook.activated`, `hook.deactivated`, `hook.deleted`). A preview is not
//! counted in the metrics and records no event.

use anyhow::{Context, Result, bail};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::adapters::dynamo::hooks::DynamoHooks;
use shared::common::store::StoreError;
use shared::events::EventType;
use shared::telephony::hook::Hook;
use shared::telephony::hook::{Answer, Delivery, Recipient, RequestType, read_answer};
use shared::telephony::ports::HookCaller;
use shared::telephony::sms_sender::CALL_TIMEOUT;
use std::sync::Arc;
use std::time::Instant;

const DAY: u64 = 24 * 3600;

pub struct Hooks {
    pub store: Arc<DynamoHooks>,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub prefix: String,
    pub caller: Arc<dyn HookCaller>,
}

/// A preview's answer.
#[derive(Debug, serde::Serialize)]
pub struct PreviewAnswer {
    /// The HTTP status, or none when the hook did not answer.
    pub status: Option<u16>,
    pub body: Value,
    pub millis: u64,
    /// `delivered` or `failed: why`, as the sender would read it.
    pub outcome: String,
}

impl Hooks {
    pub async fn get(&self, name: &str) -> Result<Hook> {
        self.store.hook(name).await?.with_context(|| format!("no hook `{name}`"))
    }

    /// Stores a new hook with `secret` as its header value or OAuth client secret.
    pub async fn create(&self, mut hook: Hook, secret: &SecretString, now: u64) -> Result<Hook> {
        hook.version = 1;
        hook.validate()?;
        if self.store.hook(&hook.name).await?.is_some() {
            bail!("hook `{}` exists; change it with `hook update`", hook.name);
        }
        self.check_fallback(&hook).await?;
        self.store_secret(&mut hook, secret).await?;
        self.save(&hook, EventType::HookCreated, now).await?;
        Ok(hook)
    }

    /// Changes a hook with `change` (and replaces its secret when one is given).
    pub async fn update(&self, name: &str, change: impl FnOnce(&mut Hook), secret: Option<&SecretString>, now: u64) -> Result<Hook> {
        let mut hook = self.get(name).await?;
        let before = hook.auth.clone();
        change(&mut hook);
        hook.name = name.to_owned();
        hook.version += 1;
        if secret.is_none() {
            // The same kind of authentication keeps its secret; another kind needs a new one.
            if std::mem::discriminant(&hook.auth) != std::mem::discriminant(&before) {
                bail!("changing how a hook authenticates needs its new secret (--secret-stdin)");
            }
            if let Some(kept) = before.secret() {
                hook.auth.set_secret(kept.clone());
            }
        }
        hook.validate()?;
        self.check_fallback(&hook).await?;
        if let Some(secret) = secret {
            self.store_secret(&mut hook, secret).await?;
        }
        self.save(&hook, EventType::HookUpdated, now).await?;
        Ok(hook)
    }

    pub async fn activate(&self, name: &str, now: u64) -> Result<()> {
        let hook = self.get(name).await?;
        self.store.activate(name, &hook.lifecycle_event(EventType::HookActivated, now)).await.context("activating the hook")
    }

    pub async fn deactivate(&self, name: &str, now: u64) -> Result<()> {
        let hook = self.get(name).await?;
        match self.store.deactivate(name, &hook.lifecycle_event(EventType::HookDeactivated, now)).await {
            Err(StoreError::Conflict) => bail!("hook `{name}` is not the active hook"),
            other => other.context("deactivating the hook"),
        }
    }

    /// Removes a hook that is neither active nor another hook's fallback, and (unless
    /// `keep_secret`) schedules its secret for deletion (7 days' recovery window).
    pub async fn remove(&self, name: &str, keep_secret: bool, now: u64) -> Result<()> {
        let (hooks, _) = self.store.all().await?;
        let hook = hooks.iter().find(|h| h.name == name).with_context(|| format!("no hook `{name}`"))?;
        if let Some(other) = hooks.iter().find(|h| h.fallback.as_deref() == Some(name)) {
            bail!("hook `{}` falls back to `{name}`; change it first", other.name);
        }
        match self.store.remove(name, &hook.lifecycle_event(EventType::HookDeleted, now)).await {
            Err(StoreError::Conflict) => bail!("hook `{name}` is the active hook; deactivate it or activate another first"),
            other => other.context("removing the hook")?,
        }
        if let (false, Some(secret)) = (keep_secret, hook.auth.secret()) {
            self.secrets.delete_secret().secret_id(&secret.0).recovery_window_in_days(7).send().await.context("deleting the hook's secret")?;
        }
        Ok(())
    }

    /// Every hook, each with whether it is the active one.
    pub async fn list(&self) -> Result<Vec<Value>> {
        let (hooks, active) = self.store.all().await?;
        Ok(hooks.into_iter().map(|h| json!({"active": active.as_deref() == Some(h.name.as_str()), "hook": h})).collect())
    }

    /// The last 30 days (today included): executions, successful, failed, and the average
    /// duration of the successful ones.
    pub async fn metrics(&self, name: &str, now: u64) -> Result<Value> {
        self.get(name).await?;
        let today = now / DAY;
        let days = self.store.counts(name, today - 29, today).await?;
        let sum = |f: fn(&shared::adapters::dynamo::hooks::DayCount) -> u64| days.iter().map(f).sum::<u64>();
        let (total, succeeded, failed, succeeded_ms) = (sum(|d| d.total), sum(|d| d.succeeded), sum(|d| d.failed), sum(|d| d.succeeded_ms));
        let average = succeeded_ms.checked_div(succeeded).map_or(Value::Null, Value::from);
        let per_day: Vec<Value> = days
            .iter()
            .map(|d| json!({"date": &shared::common::time::rfc3339(d.day * DAY)[..10], "total": d.total, "successful": d.succeeded, "failed": d.failed}))
            .collect();
        Ok(json!({"hook": name, "days": 30, "total": total, "successful": succeeded, "failed": failed, "average_success_ms": average, "per_day": per_day}))
    }

    /// The request the sender would send `name` for this person (their Cognito attributes) and
    /// request type, with a random code.
    pub async fn preview_request(&self, name: &str, user: &PreviewUser, kind: RequestType, now: u64) -> Result<Value> {
        let hook = self.get(name).await?;
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let recipient = Recipient {
            phone: user.phone.clone().context("the user has no phone_number")?,
            user_id: user.sub.clone(),
            login: user.email.clone(),
            first_name: user.given_name.clone(),
            last_name: user.family_name.clone(),
            locale: user.locale.clone(),
        };
        let delivery = Delivery { event_id: format!("preview-{}", shared::common::secrets::random_secret(12)), kind, recipient, code: code.into(), at: now };
        Ok(delivery.hook_request(&hook.url))
    }

    /// Sends `request` (as generated or edited) to hook `name` once, with the sender's timeout.
    pub async fn preview_send(&self, name: &str, request: &Value) -> Result<PreviewAnswer> {
        let hook = self.get(name).await?;
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

    async fn check_fallback(&self, hook: &Hook) -> Result<()> {
        if let Some(fallback) = &hook.fallback
            && self.store.hook(fallback).await?.is_none()
        {
            bail!("the fallback hook `{fallback}` does not exist (create it first)");
        }
        Ok(())
    }

    async fn store_secret(&self, hook: &mut Hook, secret: &SecretString) -> Result<()> {
        let name = format!("{}/hooks/{}", self.prefix, hook.name);
        let reference = crate::put_secret(&self.secrets, &name, &format!("Secret of telephony hook {}", hook.name), secret).await?;
        if !hook.auth.set_secret(reference) {
            bail!("this hook has no secret");
        }
        Ok(())
    }

    async fn save(&self, hook: &Hook, kind: EventType, now: u64) -> Result<()> {
        match self.store.save(hook, &hook.lifecycle_event(kind, now)).await {
            Err(StoreError::Conflict) => bail!("hook `{}` changed meanwhile; try again", hook.name),
            Err(StoreError::Missing(what)) => bail!("{what} does not exist"),
            other => other.context("writing the hook"),
        }
    }
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
    /// The user `username` (or email, where the pool signs in by email) of the pool.
    pub async fn from_pool(cognito: &aws_sdk_cognitoidentityprovider::Client, pool: &str, username: &str) -> Result<Self> {
        let user = cognito.admin_get_user().user_pool_id(pool).username(username).send().await.with_context(|| format!("user `{username}`"))?;
        let attribute = |name: &str| user.user_attributes().iter().find(|a| a.name() == name).and_then(|a| a.value()).map(str::to_owned);
        Ok(Self {
            sub: attribute("sub").unwrap_or_default(),
            phone: attribute("phone_number"),
            email: attribute("email"),
            given_name: attribute("given_name"),
            family_name: attribute("family_name"),
            locale: attribute("locale"),
        })
    }
}
