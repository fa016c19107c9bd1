//! What the account needs from the identity provider: the person's passkeys
//! ([`Passkeys`], W3C WebAuthn Level 3 over Cognito's registration operations).

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::signin::challenge::{AccessToken, AuthError};

/// A registered passkey, as the person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passkey {
    /// The credential's id (base64url).
    pub id: String,
    /// The name the person or their device gave it.
    pub name: String,
    /// `platform` (built into the device) or `cross-platform` (a security key, a phone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// When it was registered (seconds since the epoch).
    pub created: u64,
}

/// The person's passkeys, with their access token.
#[async_trait]
pub trait Passkeys: Send + Sync {
    /// The creation options for `navigator.credentials.create` (JSON; the challenge lasts a
    /// few minutes).
    async fn start_registration(&self, access_token: &AccessToken) -> Result<Value, AuthError>;
    /// Registers the browser's answer (`RegistrationResponseJSON`) to the options last
    /// started. [`AuthError::CodeMismatch`] when it does not verify (challenge, origin,
    /// relying party), [`AuthError::ChallengeExpired`] when the options are gone.
    async fn complete_registration(&self, access_token: &AccessToken, credential: &Value) -> Result<(), AuthError>;
    /// Every passkey of the person.
    async fn list(&self, access_token: &AccessToken) -> Result<Vec<Passkey>, AuthError>;
    /// Deletes the passkey `id`.
    async fn delete(&self, access_token: &AccessToken, id: &str) -> Result<(), AuthError>;
}
