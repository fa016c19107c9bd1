//! The `app` commands' calls: `shared::admin::apps` (the same rules, audit records and secret
//! handling as the admin API), as `Actor::cli()`, with errors as `anyhow` messages.

use anyhow::Result;
use secrecy::SecretString;
use shared::adapters::dynamo::apps::DynamoApps;
use shared::adapters::secrets_manager::SecretsManager;
use shared::admin::apps::{AppAdmin, AppSettings, SecretChoice};
use shared::admin::audit::Actor;
use shared::tokens::app::{App, AppId};
use std::sync::Arc;

pub struct Apps {
    admin: AppAdmin,
    actor: Actor,
}

fn settings(app: App) -> AppSettings {
    AppSettings {
        name: app.name,
        target: app.target,
        allowed_origins: app.allowed_origins,
        claims: app.claims,
        risk_policy: app.risk_policy,
        sign_up: app.sign_up,
        access: Some(app.access),
        home_url: Some(app.home_url),
        refresh_tokens_not_before: None,
    }
}

fn now() -> u64 {
    shared::common::time::unix_now()
}

impl Apps {
    /// Apps in `table`, their secrets named `{prefix}/apps/{id}/signing/{UUIDv7}`.
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: impl Into<String>) -> Self {
        let store = Arc::new(DynamoApps::new(aws_sdk_dynamodb::Client::new(sdk), table));
        let vault = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk)));
        Self { admin: AppAdmin { store, vault, prefix: prefix.into() }, actor: Actor::cli() }
    }

    /// The secrets' name prefix.
    pub fn prefix(&self) -> &str {
        &self.admin.prefix
    }

    pub async fn list(&self) -> Result<Vec<App>> {
        Ok(self.admin.list().await?)
    }

    pub async fn get(&self, id: &AppId) -> Result<App> {
        Ok(self.admin.get(id.as_str()).await?)
    }

    /// Creates `app`, storing `secret` (apps that share one with us need it; the others must
    /// not have one).
    pub async fn create(&self, app: App, secret: Option<&SecretString>) -> Result<App> {
        let choice = secret.map_or(SecretChoice::None, |s| SecretChoice::Given(s.clone()));
        let id = app.id.to_string();
        Ok(self.admin.create(&self.actor, &id, settings(app), choice, now()).await?.0)
    }

    /// Writes `app` over the version it was read at (`app.version`).
    pub async fn update(&self, app: App) -> Result<App> {
        let (id, version) = (app.id.to_string(), app.version);
        Ok(self.admin.update(&self.actor, &id, settings(app), version, now()).await?)
    }

    pub async fn set_secret(&self, id: &AppId, secret: &SecretString) -> Result<()> {
        self.admin.set_secret(&self.actor, id.as_str(), SecretChoice::Given(secret.clone()), now()).await?;
        Ok(())
    }

    /// Removes the app, then its secret (unless `keep_secret`).
    pub async fn remove(&self, id: &AppId, keep_secret: bool) -> Result<()> {
        let app = self.get(id).await?;
        Ok(self.admin.remove(&self.actor, id.as_str(), app.version, keep_secret, now()).await?)
    }
}
