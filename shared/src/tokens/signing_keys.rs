//! Our own signing keys (RS256, ES256): which key signs now, which keys are published at
//! `/.well-known/jwks.json`, and how a rotation keeps every token verifiable.
//!
//! The key set is one record (DynamoDB through [`KeyStore`]); each private key is a secret of
//! its own (Secrets Manager), named by the record. Rotation:
//!
//! 1. A new key is published at once and signs only from `sign_from = now + lead`. The lead is
//!    at least [`MIN_LEAD`]: every instance's cached key set and every verifier's cached JWKS
//!    have it before the first token it signs.
//! 2. When it starts signing, the key it replaces stops (the newest `sign_from` wins) but stays
//!    published until `retire_after`: its last token's lifetime plus clock leeway later.
//! 3. Retired keys leave the JWKS; the admin tool prunes them and their secrets.
//!
//! This module decides; it does not read or write anything itself except through the ports.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::common::secrets::{CachedSecrets, SecretRef};
use crate::common::store::StoreError;
use crate::tokens::jws::{Algorithm, SigningKey};

/// The longest lifetime an app's token may have (seconds).
pub const MAX_TOKEN_LIFETIME: u64 = 3600;
/// Verifiers' leeway on `exp` (seconds).
pub const CLOCK_LEEWAY: u64 = 300;
/// How long anyone may cache the JWKS we publish (`Cache-Control: max-age`).
pub const JWKS_MAX_AGE: u64 = 300;
/// How long an instance keeps the key set it read.
pub const KEY_SET_CACHE: u64 = 60;
/// The shortest safe time between publishing a key and signing with it.
pub const MIN_LEAD: u64 = JWKS_MAX_AGE + KEY_SET_CACHE;

/// One of our keys as the key set records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedKey {
    pub kid: String,
    pub alg: Algorithm,
    /// The public JWK, as published.
    pub jwk: Map<String, Value>,
    /// The secret holding the private key (PKCS#8 PEM).
    pub private_key: SecretRef,
    pub publish_from: u64,
    pub sign_from: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_after: Option<u64>,
}

impl PublishedKey {
    fn published(&self, now: u64) -> bool {
        self.publish_from <= now && self.retire_after.is_none_or(|r| now < r)
    }

    /// The key's self-signed X.509 certificate (Base64 DER): its JWK's first `x5c` (RFC 7517
    /// §4.7).
    pub fn certificate(&self) -> Option<String> {
        let certificate = self.jwk.get("x5c")?.as_array()?.first()?.as_str()?;
        // Written into XML as it is: Base64's alphabet only.
        let base64 = !certificate.is_empty() && certificate.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        base64.then(|| certificate.to_owned())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeySet {
    pub keys: Vec<PublishedKey>,
    /// Incremented on every write; writes name the version they replace.
    #[serde(default)]
    pub version: u64,
}

impl KeySet {
    /// The key that signs `alg` tokens at `now`: the published one that started signing last.
    pub fn signing(&self, alg: Algorithm, now: u64) -> Option<&PublishedKey> {
        self.keys.iter().filter(|k| k.alg == alg && k.sign_from <= now && k.published(now)).max_by_key(|k| k.sign_from)
    }

    /// The public keys to publish at `now`.
    pub fn jwks(&self, now: u64) -> Value {
        let keys: Vec<Value> = self.keys.iter().filter(|k| k.published(now)).map(|k| Value::Object(k.jwk.clone())).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Every public key still kept (published, or retired but not yet pruned): what a token we
    /// signed long ago may be checked against (an `id_token_hint`).
    pub fn every_jwk(&self) -> Value {
        let keys: Vec<Value> = self.keys.iter().map(|k| Value::Object(k.jwk.clone())).collect();
        serde_json::json!({ "keys": keys })
    }

    /// Adds `key` (its times are set here). The first key of an algorithm signs at once; a later
    /// one after `lead` seconds, and the keys it replaces retire once their tokens have expired.
    pub fn rotate(&mut self, mut key: PublishedKey, now: u64, lead: u64) {
        let replaces = self.keys.iter().any(|k| k.alg == key.alg && k.published(now));
        key.publish_from = now;
        key.sign_from = if replaces { now + lead } else { now };
        key.retire_after = None;
        let retire = key.sign_from + MAX_TOKEN_LIFETIME + CLOCK_LEEWAY;
        for old in self.keys.iter_mut().filter(|k| k.alg == key.alg && k.published(now)) {
            old.retire_after = Some(old.retire_after.map_or(retire, |r| r.min(retire)));
        }
        self.keys.push(key);
    }

    /// Takes out the keys no longer published; their secrets can go.
    pub fn prune(&mut self, now: u64) -> Vec<PublishedKey> {
        let (retired, kept) = std::mem::take(&mut self.keys).into_iter().partition(|k| k.retire_after.is_some_and(|r| r <= now));
        self.keys = kept;
        retired
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("no {0:?} signing key is active (create one with the admin tool)")]
    NoKey(Algorithm),
    #[error("signing key {0}: {1}")]
    Key(String, crate::tokens::jws::KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Our signing keys at run time: the key set through a (cached) [`KeyStore`], private keys
/// through [`CachedSecrets`], each parsed once.
pub struct Signers {
    pub keys: Arc<dyn KeyStore>,
    pub secrets: Arc<CachedSecrets>,
    parsed: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl Signers {
    pub fn new(keys: Arc<dyn KeyStore>, secrets: Arc<CachedSecrets>) -> Self {
        Self { keys, secrets, parsed: Mutex::new(HashMap::new()) }
    }

    /// The key that signs `alg` tokens now.
    pub async fn current(&self, alg: Algorithm, now: u64) -> Result<Arc<SigningKey>, SignerError> {
        Ok(self.current_with_certificate(alg, now).await?.0)
    }

    /// [`Self::current`] and that key's X.509 certificate (Base64 DER, its JWK's first `x5c`),
    /// if it has one (the admin tool makes one with each RS256 key): both from one read of the
    /// key set, so a rotation never pairs one key with another's certificate.
    pub async fn current_with_certificate(&self, alg: Algorithm, now: u64) -> Result<(Arc<SigningKey>, Option<String>), SignerError> {
        let set = self.keys.key_set().await?;
        let key = set.signing(alg, now).ok_or(SignerError::NoKey(alg))?;
        if let Some(parsed) = self.lock().get(&key.kid) {
            return Ok((parsed.clone(), key.certificate()));
        }
        let pem = self.secrets.value(&key.private_key).await?;
        let parsed =
            Arc::new(SigningKey::from_pem(alg, &key.kid, secrecy::ExposeSecret::expose_secret(&*pem)).map_err(|e| SignerError::Key(key.kid.clone(), e))?);
        self.lock().insert(key.kid.clone(), parsed.clone());
        Ok((parsed, key.certificate()))
    }

    /// The certificates of the published `alg` keys at `now` (Base64 DER): the one signing and
    /// any about to, for a SAML service provider's metadata.
    pub async fn certificates(&self, alg: Algorithm, now: u64) -> Result<Vec<String>, StoreError> {
        let set = self.keys.key_set().await?;
        Ok(set.keys.iter().filter(|k| k.alg == alg && k.published(now)).filter_map(PublishedKey::certificate).collect())
    }

    /// The JWKS document to publish now.
    pub async fn jwks(&self, now: u64) -> Result<Value, StoreError> {
        Ok(self.keys.key_set().await?.jwks(now))
    }

    /// Every public key still kept ([`KeySet::every_jwk`]), as a JWKS document.
    pub async fn every_jwk(&self) -> Result<Value, StoreError> {
        Ok(self.keys.key_set().await?.every_jwk())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SigningKey>>> {
        // Single inserts only: a poisoned map is still consistent.
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads organisations (the sign-in path; usually cached).
/// Our signing key set (`tokens::signing_keys`): read on the sign-in path (written by the
/// operators' rules, `admin::ports::AuditedKeys`).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The key set; empty when no key was ever created.
    async fn key_set(&self) -> Result<Arc<KeySet>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROTATION: u64 = 1_000_000;

    fn key(kid: &str, alg: Algorithm) -> PublishedKey {
        let mut jwk = Map::new();
        jwk.insert("kid".into(), kid.into());
        PublishedKey { kid: kid.into(), alg, jwk, private_key: SecretRef(kid.into()), publish_from: 0, sign_from: 0, retire_after: None }
    }

    /// The key set before and after one rotation at `ROTATION` with `lead`.
    fn history(lead: u64) -> (KeySet, KeySet) {
        let mut before = KeySet::default();
        before.rotate(key("a", Algorithm::ES256), 0, lead);
        before.rotate(key("r", Algorithm::RS256), 0, lead);
        let mut after = before.clone();
        after.rotate(key("b", Algorithm::ES256), ROTATION, lead);
        (before, after)
    }

    fn published_kids(set: &KeySet, now: u64) -> Vec<String> {
        set.jwks(now)["keys"].as_array().into_iter().flatten().filter_map(|k| k["kid"].as_str().map(str::to_owned)).collect()
    }

    /// Every token minted around a rotation, by an instance whose key set is up to
    /// `KEY_SET_CACHE` old, verifies at any time in its lifetime against a JWKS a verifier fetched
    /// up to `JWKS_MAX_AGE` earlier from an instance whose key set is up to `KEY_SET_CACHE` old.
    /// Returns the first failure.
    fn first_break(lead: u64) -> Option<(u64, u64)> {
        let (before, after) = history(lead);
        let as_of = |t: u64| if t < ROTATION { &before } else { &after };
        let start = ROTATION - 2 * MAX_TOKEN_LIFETIME;
        let end = ROTATION + lead + 3 * MAX_TOKEN_LIFETIME;
        for minted in (start..end).step_by(30) {
            for loaded in [minted.saturating_sub(KEY_SET_CACHE), minted] {
                let Some(signer) = as_of(loaded).signing(Algorithm::ES256, minted) else { return Some((minted, minted)) };
                for verified in [minted, minted + MAX_TOKEN_LIFETIME / 2, minted + MAX_TOKEN_LIFETIME + CLOCK_LEEWAY - 1] {
                    for fetched in [verified - JWKS_MAX_AGE, verified - JWKS_MAX_AGE / 2, verified] {
                        for served_from in [fetched - KEY_SET_CACHE, fetched] {
                            if !published_kids(as_of(served_from), fetched).contains(&signer.kid) {
                                return Some((minted, verified));
                            }
                        }
                    }
                }
            }
        }
        None
    }

    #[test]
    fn rotation_never_breaks_verification() {
        assert_eq!(first_break(MIN_LEAD), None);
        assert_eq!(first_break(24 * 3600), None);
        // The check can fail: a key that signs as soon as it is published breaks cached JWKS.
        assert!(first_break(0).is_some());
    }

    #[test]
    fn the_new_key_signs_after_the_lead_and_the_old_one_retires_after_its_tokens() {
        let (_, mut after) = history(MIN_LEAD);
        let signer = |set: &KeySet, t| set.signing(Algorithm::ES256, t).map(|k| k.kid.clone());
        assert_eq!(signer(&after, ROTATION + MIN_LEAD - 1).as_deref(), Some("a"));
        assert_eq!(signer(&after, ROTATION + MIN_LEAD).as_deref(), Some("b"));
        assert_eq!(published_kids(&after, ROTATION), vec!["a", "r", "b"]);
        let retire = ROTATION + MIN_LEAD + MAX_TOKEN_LIFETIME + CLOCK_LEEWAY;
        assert_eq!(published_kids(&after, retire - 1), vec!["a", "r", "b"]);
        assert_eq!(published_kids(&after, retire), vec!["r", "b"]);
        assert_eq!(signer(&after, retire).as_deref(), Some("b"));
        assert_eq!(after.signing(Algorithm::RS256, retire).map(|k| k.kid.as_str()), Some("r"), "other algorithms are untouched");
        assert!(after.prune(retire - 1).is_empty());
        let pruned = after.prune(retire);
        assert_eq!(pruned.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(after.keys.len(), 2);
    }

    #[test]
    fn the_first_key_signs_at_once_and_none_means_none() {
        let mut set = KeySet::default();
        assert!(set.signing(Algorithm::RS256, 5).is_none());
        set.rotate(key("r", Algorithm::RS256), 5, MIN_LEAD);
        assert_eq!(set.signing(Algorithm::RS256, 5).map(|k| k.kid.as_str()), Some("r"));
        assert!(set.signing(Algorithm::ES256, 5).is_none());
    }
}
