//! Secrets by reference: `SecretRef` (a Secrets Manager id), `BridgeSecrets` (the bridge's own
//! keys), and `CachedSecrets`, which loads each secret once and keeps it for a TTL.
//!
//! Secret values are `SecretString`s: they never appear in `Debug` output or logs.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::common::store::StoreError;

/// A Secrets Manager secret id (name or ARN). The reference, never the value.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRef(pub String);

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({})", self.0)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The bridge's own secret: a JSON object in one Secrets Manager secret, so that a cold start
/// costs one call.
///
/// - `flow_key`: signs the sign-in flow tokens the form carries between steps (at least 32 chars).
/// - `cognito_client_secret`: the user pool app client's secret, when it has one (`SECRET_HASH`).
pub struct BridgeSecrets {
    pub flow_key: SecretString,
    pub cognito_client_secret: Option<SecretString>,
}

#[derive(Deserialize)]
struct BridgeSecretsJson {
    flow_key: String,
    #[serde(default)]
    cognito_client_secret: Option<String>,
}

impl BridgeSecrets {
    pub fn parse(raw: &SecretString) -> Result<Self, StoreError> {
        let json: BridgeSecretsJson =
            serde_json::from_str(raw.expose_secret()).map_err(|_| StoreError::Corrupt("the bridge secret is not a JSON object with a `flow_key`".into()))?;
        if json.flow_key.len() < 32 {
            return Err(StoreError::Corrupt("the bridge secret's `flow_key` is shorter than 32 characters".into()));
        }
        Ok(Self { flow_key: json.flow_key.into(), cognito_client_secret: json.cognito_client_secret.filter(|s| !s.is_empty()).map(SecretString::from) })
    }
}

/// Secrets loaded through a [`SecretStore`] and kept for a TTL.
pub struct CachedSecrets {
    store: Arc<dyn SecretStore>,
    bridge_ref: SecretRef,
    values: TtlCache<SecretRef, SecretString>,
    bridge: TtlCache<(), BridgeSecrets>,
}

impl CachedSecrets {
    pub fn new(store: Arc<dyn SecretStore>, bridge_ref: SecretRef, ttl: Duration) -> Self {
        Self { store, bridge_ref, values: TtlCache::new(ttl), bridge: TtlCache::new(ttl) }
    }

    /// A secret's value; `StoreError::Missing` if the secret does not exist.
    ///
    /// A value held past its TTL is served when the reload fails or finds nothing: the secrets
    /// operators set never change (a new value is a new secret), and one that was replaced is
    /// scheduled for deletion while a record this instance cached may still name it (until that
    /// record's own TTL ends).
    pub async fn value(&self, id: &SecretRef) -> Result<Arc<SecretString>, StoreError> {
        Ok(self.value_loaded(id).await?.0)
    }

    /// [`Self::value`], and whether it was loaded within the TTL (`false`: a value held past
    /// it, because the reload failed or found nothing).
    pub async fn value_loaded(&self, id: &SecretRef) -> Result<(Arc<SecretString>, bool), StoreError> {
        match self.values.get_or_load(id, || self.store.secret(id)).await {
            Ok(Some(value)) => Ok((value, true)),
            outcome => match self.values.held(id) {
                Some(held) => {
                    tracing::warn!(secret = %id, "the secret did not reload; the value held is used");
                    Ok((held, false))
                }
                None => Err(outcome.err().unwrap_or_else(|| StoreError::Missing(id.to_string()))),
            },
        }
    }

    /// A secret's value if this instance loaded it within the TTL: no call.
    pub fn fresh_value(&self, id: &SecretRef) -> Option<Arc<SecretString>> {
        self.values.fresh(id)
    }

    /// The bridge's own secrets if this instance loaded them within the TTL: no call, no wait.
    pub fn fresh_bridge(&self) -> Option<Arc<BridgeSecrets>> {
        self.bridge.fresh(&())
    }

    /// The bridge's own secrets.
    pub async fn bridge(&self) -> Result<Arc<BridgeSecrets>, StoreError> {
        let load = || async {
            let raw = self.store.secret(&self.bridge_ref).await?;
            raw.map(|raw| BridgeSecrets::parse(&raw)).transpose()
        };
        self.bridge.get_or_load(&(), load).await?.ok_or_else(|| StoreError::Missing(self.bridge_ref.to_string()))
    }
}
/// Reads secret values by reference. `Ok(None)`: no such secret.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn secret(&self, id: &SecretRef) -> Result<Option<SecretString>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A store whose answers the test sets.
    struct Scripted(Mutex<Result<Option<String>, StoreError>>);

    #[async_trait]
    impl SecretStore for Scripted {
        async fn secret(&self, _: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            match &*self.0.lock().unwrap() {
                Ok(value) => Ok(value.clone().map(SecretString::from)),
                Err(_) => Err(StoreError::Unavailable("scheduled for deletion".into())),
            }
        }
    }

    #[tokio::test]
    async fn a_value_held_is_served_when_its_secret_is_gone_and_never_made_up() {
        let store = Arc::new(Scripted(Mutex::new(Ok(Some("first".into())))));
        let secrets = CachedSecrets::new(store.clone(), SecretRef("bridge".into()), Duration::ZERO);
        let id = SecretRef("apps/acme/signing/1".into());
        assert_eq!(secrets.value(&id).await.unwrap().expose_secret(), "first");
        assert!(secrets.value_loaded(&id).await.unwrap().1, "loaded");
        *store.0.lock().unwrap() = Err(StoreError::Throttled);
        assert_eq!(secrets.value(&id).await.unwrap().expose_secret(), "first", "deleted after it was loaded");
        assert!(!secrets.value_loaded(&id).await.unwrap().1, "held past its time");
        *store.0.lock().unwrap() = Ok(None);
        assert_eq!(secrets.value(&id).await.unwrap().expose_secret(), "first", "gone after it was loaded");
        *store.0.lock().unwrap() = Ok(Some("second".into()));
        assert_eq!(secrets.value(&id).await.unwrap().expose_secret(), "second", "a reload that works replaces it");

        let never_loaded = SecretRef("apps/acme/signing/2".into());
        *store.0.lock().unwrap() = Ok(None);
        assert!(matches!(secrets.value(&never_loaded).await, Err(StoreError::Missing(_))));
        *store.0.lock().unwrap() = Err(StoreError::Throttled);
        assert!(secrets.value(&never_loaded).await.is_err());
    }
}
