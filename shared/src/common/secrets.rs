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
    pub async fn value(&self, id: &SecretRef) -> Result<Arc<SecretString>, StoreError> {
        self.values.get_or_load(id, || self.store.secret(id)).await?.ok_or_else(|| StoreError::Missing(id.to_string()))
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
/// A random secret of `bytes` bytes, base64url without padding.
pub fn random_secret(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
