//! Creating, updating, listing and removing apps, keeping the secret an app shares with us
//! (HS256 kinds, DiscourseConnect) in Secrets Manager under `{prefix}/apps/{id}/signing`. The
//! DynamoDB item only names the secret. Apps signed with our own keys have none.
//!
//! Create writes the secret first and the app second; if the app cannot be written the secret
//! is deleted again, so a failure leaves nothing behind.

use anyhow::{Context, Result, bail};
use aws_sdk_secretsmanager::Client as SecretsClient;
use secrecy::{ExposeSecret, SecretString};
use shared::adapters::dynamo::apps::DynamoApps;
use shared::common::secrets::SecretRef;
use shared::common::store::StoreError;
use shared::tokens::app::{App, AppId};
use shared::tokens::jws::Algorithm;
use shared::tokens::ports::{AppDirectory, AppStore};

pub struct Apps {
    pub store: DynamoApps,
    pub secrets: SecretsClient,
    /// Secret names start with this (the stack name in AWS).
    pub prefix: String,
}

impl Apps {
    pub async fn get(&self, id: &AppId) -> Result<App> {
        let app = self.store.app(id).await.context("reading the app")?;
        app.map(|a| (*a).clone()).with_context(|| format!("no app `{id}`"))
    }

    /// Stores `secret` (apps that share one with us need it; the others must not have one) and
    /// creates `app` pointing at it. `app.signing_secret` is set here.
    pub async fn create(&self, mut app: App, secret: Option<&SecretString>) -> Result<App> {
        app.validate()?;
        let secret = match (app.target.algorithm(), secret) {
            (Algorithm::HS256, Some(secret)) => secret,
            (Algorithm::HS256, None) => bail!("this app shares a secret with the bridge: give --secret-stdin or --generate-secret"),
            (_, Some(_)) => bail!("this app is signed with the bridge's own keys (see `key rotate`) and takes no secret"),
            (_, None) => {
                app.signing_secret = None;
                return self.write_new(app).await;
            }
        };
        let name = format!("{}/apps/{}/signing", self.prefix, app.id);
        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .description(format!("Signing secret of app {}", app.id))
            .secret_string(secret.expose_secret())
            .send()
            .await
            .with_context(|| format!("creating secret {name} (does it exist already?)"))?;
        let secret_ref = SecretRef(created.arn.unwrap_or(name));
        app.signing_secret = Some(secret_ref.clone());
        let written = self.write_new(app).await;
        if written.is_err() {
            self.delete_secret(&secret_ref).await.ok();
        }
        written
    }

    async fn write_new(&self, mut app: App) -> Result<App> {
        match self.store.create(&app).await {
            Ok(()) => {
                app.version = 1;
                Ok(app)
            }
            Err(StoreError::Conflict) => bail!("app `{}` exists already", app.id),
            Err(other) => Err(other).context("writing the app"),
        }
    }

    /// Writes `app` over the version it was read at.
    pub async fn update(&self, mut app: App) -> Result<App> {
        app.validate()?;
        app.version += 1;
        match self.store.update(&app).await {
            Ok(()) => Ok(app),
            Err(StoreError::Conflict) => bail!("app `{}` changed since it was read; read it again and retry", app.id),
            Err(e) => Err(e).context("writing the app"),
        }
    }

    pub async fn set_secret(&self, id: &AppId, secret: &SecretString) -> Result<()> {
        let app = self.get(id).await?;
        let secret_ref = app.signing_secret.context("this app is signed with the bridge's own keys and has no secret")?;
        self.secrets.put_secret_value().secret_id(&secret_ref.0).secret_string(secret.expose_secret()).send().await.context("storing the secret")?;
        Ok(())
    }

    /// Removes the app, then its secret (unless `keep_secret`).
    pub async fn remove(&self, id: &AppId, keep_secret: bool) -> Result<()> {
        let app = self.get(id).await?;
        self.store.remove(id).await.context("removing the app")?;
        if let (false, Some(secret)) = (keep_secret, &app.signing_secret) {
            self.delete_secret(secret).await?;
        }
        Ok(())
    }

    async fn delete_secret(&self, secret: &SecretRef) -> Result<()> {
        self.secrets.delete_secret().secret_id(&secret.0).recovery_window_in_days(7).send().await.context("deleting the secret")?;
        Ok(())
    }
}
