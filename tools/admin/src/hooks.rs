//! The `hook` commands' calls: `shared::admin::hooks` (the same rules, audit records and secret
//! handling as the admin API), as `Actor::cli()`, with errors as `anyhow` messages.

use anyhow::{Context, Result};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::adapters::dynamo::hooks::DynamoHooks;
use shared::adapters::secrets_manager::SecretsManager;
use shared::admin::audit::Actor;
use shared::admin::hooks::{HookSettings, HooksAdmin};
pub use shared::admin::hooks::{PreviewAnswer, PreviewUser};
use shared::telephony::hook::{Hook, RequestType};
use shared::telephony::ports::HookCaller;
use std::sync::Arc;

pub struct Hooks {
    /// The table's hooks without the operators' rules (tests).
    pub store: Arc<DynamoHooks>,
    admin: HooksAdmin,
    actor: Actor,
}

/// The settings of `hook` as an operator would send them (its secret not among them).
fn settings(hook: Hook, secret: Option<&SecretString>) -> HookSettings {
    HookSettings { url: hook.url, auth: hook.auth.settings(), fallback: hook.fallback, secret: secret.cloned() }
}

impl Hooks {
    /// The hooks in `table`, their secrets named `{prefix}/hooks/{name}`, called by `caller`.
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: impl Into<String>, caller: Arc<dyn HookCaller>) -> Self {
        let store = Arc::new(DynamoHooks::new(aws_sdk_dynamodb::Client::new(sdk), table));
        let vault = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk)));
        let audit = Arc::new(shared::adapters::dynamo::audit::DynamoAudit::new(aws_sdk_dynamodb::Client::new(sdk), table));
        Self { store: store.clone(), admin: HooksAdmin { store, audit, vault, caller, prefix: prefix.into() }, actor: Actor::cli() }
    }

    pub async fn get(&self, name: &str) -> Result<Hook> {
        Ok(self.admin.get(name).await?)
    }

    /// Stores a new hook with `secret` as its header value or OAuth client secret.
    pub async fn create(&self, hook: Hook, secret: &SecretString, now: u64) -> Result<Hook> {
        let name = hook.name.clone();
        Ok(self.admin.create(&self.actor, &name, settings(hook, Some(secret)), now).await?)
    }

    /// Changes a hook with `change` (and replaces its secret when one is given).
    pub async fn update(&self, name: &str, change: impl FnOnce(&mut Hook), secret: Option<&SecretString>, now: u64) -> Result<Hook> {
        let mut hook = self.get(name).await?;
        let version = hook.version;
        change(&mut hook);
        Ok(self.admin.update(&self.actor, name, settings(hook, secret), version, now).await?)
    }

    pub async fn activate(&self, name: &str, now: u64) -> Result<()> {
        self.admin.activate(&self.actor, name, now).await.context("activating the hook")
    }

    pub async fn deactivate(&self, name: &str, now: u64) -> Result<()> {
        Ok(self.admin.deactivate(&self.actor, name, now).await?)
    }

    /// Removes a hook that is neither active nor another hook's fallback, and (unless
    /// `keep_secret`) schedules its secret for deletion (7 days' recovery window).
    pub async fn remove(&self, name: &str, keep_secret: bool, now: u64) -> Result<()> {
        Ok(self.admin.remove(&self.actor, name, None, keep_secret, now).await?)
    }

    /// Every hook, each with whether it is the active one.
    pub async fn list(&self) -> Result<Vec<Value>> {
        let (hooks, active) = self.admin.list().await?;
        Ok(hooks.into_iter().map(|h| json!({"active": active.as_deref() == Some(h.name.as_str()), "hook": h})).collect())
    }

    /// The last 30 days (see `HooksAdmin::metrics`).
    pub async fn metrics(&self, name: &str, now: u64) -> Result<Value> {
        Ok(self.admin.metrics(name, now).await?)
    }

    pub async fn preview_request(&self, name: &str, user: &PreviewUser, kind: RequestType, now: u64) -> Result<Value> {
        Ok(self.admin.preview_request(name, user, kind, now).await?)
    }

    pub async fn preview_send(&self, name: &str, request: &Value) -> Result<PreviewAnswer> {
        Ok(self.admin.preview_send(&self.actor, name, request, shared::common::time::unix_now()).await?)
    }
}

/// The person `user` (a Cognito user name, or an email) of the pool, for a preview: the
/// attributes the admin API's preview reads too (`PreviewUser::of`).
pub async fn preview_user(cognito: &aws_sdk_cognitoidentityprovider::Client, pool: &str, user: &str) -> Result<PreviewUser> {
    use shared::admin::ports::PeopleDirectory;
    let directory = shared::adapters::cognito::directory::CognitoDirectory::new(cognito.clone(), pool);
    let username =
        if user.contains('@') { directory.find_by_email(user).await?.with_context(|| format!("no person with email {user}"))? } else { user.to_owned() };
    let person = directory.user(&username).await?.with_context(|| format!("user `{user}`"))?;
    Ok(PreviewUser::of(&person))
}
