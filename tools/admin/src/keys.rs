//! Our signing keys: generating one (the private key goes to Secrets Manager as
//! `{prefix}/signing-keys/{kid}`, the public key and its times to the key set in DynamoDB),
//! listing them, and pruning retired ones. The rotation rules are `tokens::signing_keys`.
//!
//! A new key's secret is written before the key set names it; if the key set cannot be written
//! (someone else rotated meanwhile), the secret is deleted again, so a failure leaves nothing.

use anyhow::{Context, Result, bail};
use aws_sdk_secretsmanager::Client as SecretsClient;
use shared::adapters::dynamo::keys::DynamoKeys;
use shared::common::secrets::SecretRef;
use shared::common::store::StoreError;
use shared::tokens::jws;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::{KeyAdmin, KeyStore};
use shared::tokens::signing_keys::{KeySet, PublishedKey};

pub struct Keys {
    pub store: DynamoKeys,
    pub secrets: SecretsClient,
    /// Secret names start with this (the stack name in AWS).
    pub prefix: String,
}

impl Keys {
    pub async fn list(&self) -> Result<KeySet> {
        Ok((*self.store.key_set().await.context("reading the key set")?).clone())
    }

    /// A new `alg` key: it signs at once if it is the first of its algorithm, else after `lead`
    /// seconds, and the key it replaces retires once that key's tokens have expired.
    pub async fn rotate(&self, alg: Algorithm, lead: u64, now: u64) -> Result<PublishedKey> {
        if alg == Algorithm::HS256 {
            bail!("HS256 uses each app's shared secret; our own keys are RS256 or ES256");
        }
        let generated = jws::generate(alg).context("generating the key")?;
        let name = format!("{}/signing-keys/{}", self.prefix, generated.kid);
        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .description(format!("Private {alg:?} signing key {}", generated.kid))
            .secret_string(&generated.private_pem)
            .send()
            .await
            .with_context(|| format!("creating secret {name}"))?;
        let private_key = SecretRef(created.arn.unwrap_or(name));
        let key = PublishedKey { kid: generated.kid, alg, jwk: generated.jwk, private_key, publish_from: now, sign_from: now, retire_after: None };
        let mut set = self.list().await?;
        set.rotate(key.clone(), now, lead);
        set.version += 1;
        if let Err(e) = self.store.save(&set).await {
            self.delete(&key.private_key).await.ok();
            match e {
                StoreError::Conflict => bail!("the key set changed meanwhile; run the command again"),
                other => return Err(other).context("writing the key set"),
            }
        }
        set.keys.into_iter().find(|k| k.kid == key.kid).context("the new key is missing from the key set")
    }

    /// Removes keys that are no longer published, then their secrets. Returns their ids.
    pub async fn prune(&self, now: u64) -> Result<Vec<String>> {
        let mut set = self.list().await?;
        let retired = set.prune(now);
        if retired.is_empty() {
            return Ok(Vec::new());
        }
        set.version += 1;
        self.store.save(&set).await.context("writing the key set")?;
        for key in &retired {
            self.delete(&key.private_key).await?;
        }
        Ok(retired.into_iter().map(|k| k.kid).collect())
    }

    async fn delete(&self, secret: &SecretRef) -> Result<()> {
        self.secrets.delete_secret().secret_id(&secret.0).recovery_window_in_days(7).send().await.context("deleting the key's secret")?;
        Ok(())
    }
}
