//! OpenID Connect Back-Channel Logout 1.0: when a bridge session ends, each OpenID Connect client
//! that signed in through it and registered a `backchannel_logout_uri` is posted a logout token
//! naming the person (`sub`) and the session (`sid`), so that it ends its own session for them.
//!
//! This module decides what is sent and to whom ([`BackchannelLogout::notify`], the token's
//! claims in [`logout_token`]); [`LogoutChannel`] posts it (`adapters::http::backchannel`). The
//! session-ends function calls it for each session the table's stream shows deleted. It is not the
//! session's end itself (`SessionStore`), nor the client's own logout request
//! (`OpenIdProvider::logout_return`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::signin::session::Session;
use crate::tokens::app::AppId;
use crate::tokens::jws::SigningKey;
use crate::tokens::ports::AppDirectory;
use crate::tokens::signing_keys::Signers;
use crate::tokens::targets::Target;
use crate::tokens::targets::mint::MintError;

/// The logout event's name (§2.4: the `events` claim's one member).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How long a logout token is good for (seconds): §2.4 recommends minutes at most.
pub const LOGOUT_TOKEN_TTL: u64 = 120;
/// At most this many clients are told at once.
const AT_ONCE: usize = 8;

/// The logout token for client `client_id` (OpenID Connect Back-Channel Logout 1.0 §2.4), issued
/// by `issuer` at `now` (seconds since the epoch) with id `jti`: `iss`, `aud`, `iat`, `exp`
/// ([`LOGOUT_TOKEN_TTL`] later), `jti`, `sub`, `sid` when the session has one, and `events`
/// naming [`LOGOUT_EVENT`]; no `nonce`. Signed as the client's ID tokens are, typed
/// `logout+jwt`. Errors: the key cannot sign.
pub fn logout_token(issuer: &str, client_id: &str, subject: &str, sid: Option<&str>, now: u64, jti: uuid::Uuid, key: &SigningKey) -> Result<String, MintError> {
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("aud".into(), client_id.into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + LOGOUT_TOKEN_TTL).into());
    claims.insert("jti".into(), jti.to_string().into());
    claims.insert("sub".into(), subject.into());
    if let Some(sid) = sid {
        claims.insert("sid".into(), sid.into());
    }
    claims.insert("events".into(), json!({ LOGOUT_EVENT: {} }));
    key.sign_typed("logout+jwt", &claims).map_err(|_| MintError::Signing)
}

/// Posts a logout token to a client's `backchannel_logout_uri` (§2.5: a form post of
/// `logout_token`). Errors: why the client did not take it (no answer, not a 2xx), for the log.
#[async_trait]
pub trait LogoutChannel: Send + Sync {
    async fn post(&self, uri: &str, logout_token: &str) -> Result<(), String>;
}

/// Whether one client was told: its id, and why not if it was not.
pub type Told = (String, Result<(), NotTold>);

/// Why a client was not told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotTold {
    /// The app or our signing key could not be read just then (the store unavailable or
    /// throttling): worth telling again.
    #[error("{0} (worth telling again)")]
    Unavailable(String),
    /// The client did not take it (no answer in time, not a 2xx), or is no longer one to tell:
    /// not tried again.
    #[error("{0}")]
    Refused(String),
}

impl NotTold {
    fn of_store(e: &crate::common::store::StoreError) -> Self {
        use crate::common::store::StoreError::{Throttled, Unavailable};
        if matches!(e, Throttled | Unavailable(_)) { Self::Unavailable(e.to_string()) } else { Self::Refused(e.to_string()) }
    }
}

/// Whether any client of `told` is worth telling again ([`NotTold::Unavailable`]).
pub fn worth_again(told: &[Told]) -> bool {
    told.iter().any(|(_, outcome)| matches!(outcome, Err(NotTold::Unavailable(_))))
}

/// Tells the clients of ended sessions.
pub struct BackchannelLogout {
    pub apps: Arc<dyn AppDirectory>,
    pub signers: Arc<Signers>,
    pub channel: Arc<dyn LogoutChannel>,
    /// Our issuer (the API's public URL); empty: not configured, no one is told.
    pub issuer: String,
}

impl BackchannelLogout {
    /// Tells every client of `session` (its `logout_clients`: those it, or an earlier session of
    /// the browser carried into it, signed in to that have a `backchannel_logout_uri`), each with
    /// the `sid` it knows, that it ended, [`AT_ONCE`] at a time, once each: a client that
    /// does not answer 2xx is not tried again (logged). A client removed since, or no longer
    /// with a back-channel URI, is skipped. Each client's outcome ([`worth_again`] says whether
    /// the caller should try the session again: the app or our key could not be read just
    /// then); a session without a `sub` tells no one.
    pub async fn notify(&self, session: &Session, now: u64) -> Vec<Told> {
        use futures_util::stream::{self, StreamExt};
        let Some(subject) = session.profile.get("sub").and_then(Value::as_str) else { return Vec::new() };
        if self.issuer.is_empty() {
            return Vec::new();
        }
        let told = |(client, sid): (String, Option<String>)| async move {
            let outcome = self.tell(&client, subject, sid.as_deref(), now).await;
            match &outcome {
                Ok(()) => tracing::info!(client, "a client was told of a session's end (back-channel logout)"),
                Err(reason) => tracing::warn!(client, %reason, "a client could not be told of a session's end (back-channel logout)"),
            }
            (client, outcome)
        };
        let clients: Vec<(String, Option<String>)> = session.told().into_iter().map(|(client, sid)| (client.to_owned(), sid.map(str::to_owned))).collect();
        stream::iter(clients).map(told).buffer_unordered(AT_ONCE).collect().await
    }

    async fn tell(&self, client_id: &str, subject: &str, sid: Option<&str>, now: u64) -> Result<(), NotTold> {
        let refused = |reason: &str| NotTold::Refused(reason.to_owned());
        let id = AppId::parse(client_id).map_err(|e| refused(&e.to_string()))?;
        let app = self.apps.app(&id).await.map_err(|e| NotTold::of_store(&e))?.ok_or_else(|| refused("the client no longer exists"))?;
        let Target::Oidc(client) = &app.target else { return Err(refused("the app is no longer an OpenID Connect client")) };
        let Some(uri) = &client.backchannel_logout_uri else { return Err(refused("the client no longer has a back-channel logout URI")) };
        let key = self.signers.current(client.algorithm, now).await.map_err(|e| match &e {
            crate::tokens::signing_keys::SignerError::Store(store) => NotTold::of_store(store),
            other => refused(&other.to_string()),
        })?;
        let token = logout_token(&self.issuer, client_id, subject, sid, now, uuid::Uuid::new_v4(), &key).map_err(|e| refused(&e.to_string()))?;
        self.channel.post(uri, &token).await.map_err(NotTold::Refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logout_token_names_the_person_the_session_and_the_event_and_no_nonce() {
        let key = SigningKey::Hs256(b"test-key".to_vec());
        let token = logout_token("https://api.example.com", "tool", "sub-1", Some("sid-1"), 1_000, uuid::Uuid::nil(), &key).unwrap_or_default();
        let part = |i: usize| -> Value {
            use base64::Engine;
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(i).unwrap_or_default()).unwrap_or_default();
            serde_json::from_slice(&raw).unwrap_or_default()
        };
        assert_eq!(part(0)["typ"], "logout+jwt");
        let claims = part(1);
        assert_eq!(
            claims,
            json!({"iss": "https://api.example.com", "aud": "tool", "iat": 1_000, "exp": 1_120, "jti": uuid::Uuid::nil().to_string(),
                   "sub": "sub-1", "sid": "sid-1", "events": {LOGOUT_EVENT: {}}})
        );
    }
}
