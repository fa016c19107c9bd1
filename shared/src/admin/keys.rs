//! The bridge's own signing keys as operators manage them, the same for the admin API and
//! `bridge-admin key`: list, rotate (a new key: its private half to the vault as
//! `{prefix}/signing-keys/{kid}`, its public half and times to the key set), prune (retired keys
//! out of the set, then their secrets scheduled for deletion). The rotation rules are
//! `tokens::signing_keys`.
//!
//! The key set is written with its audit record in one transaction, over the version it was read
//! at. A new key's secret is written first and discarded again if the key set is surely not
//! written (refused); if the write did not answer, the secret is kept (the set may name it).

use std::sync::Arc;

use serde_json::{Value, json};

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::ports::{AuditedKeys, SecretVault};
use super::secret_change::{Written, settle};
use crate::common::store::StoreError;
use crate::events::EventType;
use crate::tokens::jws::{self, Algorithm};
use crate::tokens::signing_keys::{KeySet, PublishedKey};

pub struct KeysAdmin {
    pub store: Arc<dyn AuditedKeys>,
    pub vault: Arc<dyn SecretVault>,
    /// Secret names start with this (the stack name).
    pub prefix: String,
}

/// A key as operators see it: id, algorithm, public JWK and times; never where its private
/// half is kept.
pub fn view(key: &PublishedKey) -> Value {
    json!({"kid": key.kid, "alg": key.alg, "jwk": key.jwk, "publish_from": key.publish_from, "sign_from": key.sign_from,
           "retire_after": key.retire_after})
}

/// The key set as operators see it.
pub fn view_set(set: &KeySet) -> Value {
    json!({"keys": set.keys.iter().map(view).collect::<Vec<_>>(), "version": set.version})
}

fn stale(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict => AdminError::Invalid("the key set changed meanwhile; run it again".into()),
        other => other.into(),
    }
}

impl KeysAdmin {
    pub async fn list(&self) -> Result<KeySet, AdminError> {
        Ok(self.store.key_set().await?)
    }

    /// A new `alg` key: it signs at once if it is the first of its algorithm, else after `lead`
    /// seconds, and the key it replaces retires once that key's tokens have expired.
    pub async fn rotate(&self, actor: &Actor, alg: Algorithm, lead: u64, now: u64) -> Result<PublishedKey, AdminError> {
        if alg == Algorithm::HS256 {
            return Err(AdminError::Invalid("HS256 uses each app's shared secret; our own keys are RS256 or ES256".into()));
        }
        let mut set = self.store.key_set().await?;
        let generated = jws::generate(alg).map_err(|e| AdminError::Invalid(e.to_string()))?;
        let name = format!("{}/signing-keys/{}", self.prefix, generated.kid);
        let private_key = self.vault.create(&name, &format!("Private {alg:?} signing key {}", generated.kid), &generated.private_pem.into()).await?;
        let key = PublishedKey { kid: generated.kid, alg, jwk: generated.jwk, private_key, publish_from: now, sign_from: now, retire_after: None };
        let before = view_set(&set);
        set.rotate(key.clone(), now, lead);
        set.version += 1;
        let audit = AuditRecord::new(EventType::AdminKeyRotated, actor, format!("key:{}", key.kid), Some(before), Some(view_set(&set)), now);
        let saved = self.store.save(&set, &audit).await;
        if saved.is_err() {
            // Discarded only when the set was surely not written: one that did not answer may
            // name the key (its secret is kept, and logged).
            settle(&*self.vault, Written::of_store(&saved), Some(&key.private_key), None, None).await;
        }
        saved.map_err(stale)?;
        set.keys.into_iter().find(|k| k.kid == key.kid).ok_or_else(|| AdminError::NotFound("the new key".into()))
    }

    /// Takes the keys no longer published out of the set, then schedules their secrets for
    /// deletion. Returns their ids.
    pub async fn prune(&self, actor: &Actor, now: u64) -> Result<Vec<String>, AdminError> {
        let mut set = self.store.key_set().await?;
        let before = view_set(&set);
        let retired = set.prune(now);
        if retired.is_empty() {
            return Ok(Vec::new());
        }
        set.version += 1;
        let audit = AuditRecord::new(EventType::AdminKeysPruned, actor, "keys".into(), Some(before), Some(view_set(&set)), now);
        self.store.save(&set, &audit).await.map_err(stale)?;
        for key in &retired {
            self.vault.delete(&key.private_key).await?;
        }
        Ok(retired.into_iter().map(|k| k.kid).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::secrets::SecretRef;
    use async_trait::async_trait;
    use secrecy::SecretString;
    use std::sync::Mutex;

    /// A key set store whose writes are made but answered with `answer`, and a vault that
    /// records what it discards.
    struct Lost {
        answer: StoreError,
        set: Mutex<KeySet>,
        discarded: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl AuditedKeys for Lost {
        async fn key_set(&self) -> Result<KeySet, StoreError> {
            Ok(self.set.lock().unwrap_or_else(|p| p.into_inner()).clone())
        }
        async fn save(&self, set: &KeySet, _: &AuditRecord) -> Result<(), StoreError> {
            if !matches!(self.answer, StoreError::Conflict) {
                *self.set.lock().unwrap_or_else(|p| p.into_inner()) = set.clone();
            }
            Err(self.answer.clone())
        }
    }

    #[async_trait]
    impl SecretVault for Lost {
        async fn create(&self, name: &str, _: &str, _: &SecretString) -> Result<SecretRef, StoreError> {
            Ok(SecretRef(name.to_owned()))
        }
        async fn delete(&self, _: &SecretRef) -> Result<(), StoreError> {
            Ok(())
        }
        async fn discard(&self, secret: &SecretRef) -> Result<(), StoreError> {
            self.discarded.lock().unwrap_or_else(|p| p.into_inner()).push(secret.0.clone());
            Ok(())
        }
    }

    /// A rotation whose write did not answer keeps the new key's private half (the set may
    /// name it); one that was refused discards it.
    #[tokio::test]
    async fn a_rotation_whose_write_did_not_answer_keeps_the_private_key() {
        let actor = Actor::cli();
        for (answer, discarded) in [(StoreError::Unavailable("timeout".into()), false), (StoreError::Conflict, true)] {
            let lost = Arc::new(Lost { answer: answer.clone(), set: Mutex::default(), discarded: Mutex::default() });
            let admin = KeysAdmin { store: lost.clone(), vault: lost.clone(), prefix: "stack".into() };
            assert!(admin.rotate(&actor, Algorithm::ES256, 0, 100).await.is_err());
            let gone = lost.discarded.lock().unwrap_or_else(|p| p.into_inner()).clone();
            assert_eq!(!gone.is_empty(), discarded, "{answer:?}: {gone:?}");
        }
    }
}
