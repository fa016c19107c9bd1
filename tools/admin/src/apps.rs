//! Creating, updating, listing and removing apps, keeping each app's signing secret in Secrets
//! Manager under `{prefix}/apps/{id}/signing`. The DynamoDB item only names the secret.
//!
//! Create writes the secret first and the app second; if the app cannot be written the secret
//! is deleted again, so a failure leaves nothing behind.

use anyhow::{Context, Result, bail};
use aws_sdk_secretsmanager::Client as SecretsClient;
use secrecy::{ExposeSecret, SecretString};
use shared::adapters::dynamo_apps::DynamoApps;
use shared::domain::app::{App, AppId};
use shared::ports::{AppDirectory, AppStore, StoreError};
use shared::secrets::SecretRef;

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

    /// Stores `secret` and creates `app` pointing at it. `app.signing_secret` is set here.
    pub async fn create(&self, mut app: App, secret: &SecretString) -> Result<App> {
        app.validate()?;
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
        app.signing_secret = SecretRef(created.arn.unwrap_or(name));
        if let Err(e) = self.store.create(&app).await {
            self.delete_secret(&app.signing_secret).await.ok();
            match e {
                StoreError::Conflict => bail!("app `{}` exists already", app.id),
                other => return Err(other).context("writing the app"),
            }
        }
        app.version = 1;
        Ok(app)
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
        self.secrets.put_secret_value().secret_id(&app.signing_secret.0).secret_string(secret.expose_secret()).send().await.context("storing the secret")?;
        Ok(())
    }

    /// Removes the app, then its secret (unless `keep_secret`).
    pub async fn remove(&self, id: &AppId, keep_secret: bool) -> Result<()> {
        let app = self.get(id).await?;
        self.store.remove(id).await.context("removing the app")?;
        if !keep_secret {
            self.delete_secret(&app.signing_secret).await?;
        }
        Ok(())
    }

    async fn delete_secret(&self, secret: &SecretRef) -> Result<()> {
        self.secrets.delete_secret().secret_id(&secret.0).recovery_window_in_days(7).send().await.context("deleting the secret")?;
        Ok(())
    }
}
