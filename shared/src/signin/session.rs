//! The bridge session: what lets a person who signed in once open a second app without the form.
//!
//! The browser holds an opaque random id in an `HttpOnly` cookie; the table holds only the id's
//! SHA-256 (see `oidc::digest`) with the person's profile as it was at sign-in, what that sign-in
//! proved ([`Assurance`]) and the browser's device digest, so single sign-on into another app is
//! one read and applies that app's risk policy. A session ends at its absolute expiry, after `idle` seconds
//! without use, on sign-out, or when its user is deactivated (the store ends every session of a
//! user at once).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::directory::org::OrgId;
use crate::risk::Assurance;

/// The cookie's name.
pub const COOKIE: &str = "bridge_session";

/// How the person signed in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    #[default]
    Password,
    Corporate,
    /// A code sent to the person's email, instead of a password.
    EmailCode,
    /// A passkey (WebAuthn): a key held by the person's device, unlocked by them.
    Passkey,
}

impl Method {
    /// How a sign-in by this method, with or without a second factor, proved who the person is,
    /// as RFC 8176 `amr` values (`pwd`, `fed`, `otp`, `hwk`, `mfa`). A passkey is a second
    /// factor on its own (a key the device holds, unlocked by the person).
    pub fn amr(self, second_factor: bool) -> &'static [&'static str] {
        match (self, second_factor) {
            (Self::Password, false) => &["pwd"],
            (Self::Password, true) => &["pwd", "mfa"],
            (Self::Corporate, false) => &["fed"],
            (Self::Corporate, true) => &["fed", "mfa"],
            (Self::EmailCode, false) => &["otp"],
            (Self::EmailCode, true) => &["otp", "mfa"],
            (Self::Passkey, _) => &["hwk", "mfa"],
        }
    }

    /// The name events give it (`context.method`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Corporate => "corporate",
            Self::EmailCode => "email_code",
            Self::Passkey => "passkey",
        }
    }
}

/// Lifetimes, from the function's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Absolute lifetime (seconds).
    pub ttl: u64,
    /// Ends after this long unused (seconds).
    pub idle: u64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { ttl: 8 * 3600, idle: 3600 }
    }
}

/// Where to continue for single sign-out at the company's provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLogout {
    pub end_session_endpoint: String,
    pub client_id: String,
    /// The provider's ID token, sent back as `id_token_hint`.
    pub id_token_hint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The Cognito user name.
    pub username: String,
    pub org: Option<OrgId>,
    pub method: Method,
    /// The person's claims at sign-in (attributes and `cognito:groups`), read by `UserProfile`.
    pub profile: Map<String, Value>,
    pub created: u64,
    pub last_seen: u64,
    pub expires_at: u64,
    pub idle: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_logout: Option<ProviderLogout>,
    /// How the sign-in that opened the session was assessed (`risk`).
    #[serde(default = "Assurance::unknown")]
    pub assurance: Assurance,
    /// The digest of the device cookie of the browser that signed in: the session is as
    /// trusted as its sign-in only in that browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Opened by a password sign-in whose handoff is not yet redeemed (kept by the store beside
    /// the session, not in it: `SessionStore::redeem` clears it once).
    #[serde(skip)]
    pub handoff: bool,
}

impl Session {
    pub fn new(username: String, org: Option<OrgId>, method: Method, profile: Map<String, Value>, policy: SessionPolicy, now: u64) -> Self {
        Self {
            username,
            org,
            method,
            profile,
            created: now,
            last_seen: now,
            expires_at: now + policy.ttl,
            idle: policy.idle,
            provider_logout: None,
            assurance: Assurance::unknown(),
            device: None,
            handoff: false,
        }
    }

    pub fn live(&self, now: u64) -> bool {
        now < self.expires_at && now < self.last_seen + self.idle
    }

    /// Whether use at `now` should be recorded: at most once per tenth of the idle timeout, so
    /// that most single sign-ons are a read only.
    pub fn needs_touch(&self, now: u64) -> bool {
        now >= self.last_seen + (self.idle / 10).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_at_its_expiry_or_when_idle() {
        let policy = SessionPolicy { ttl: 1000, idle: 100 };
        let mut s = Session::new("u".into(), None, Method::Password, Map::new(), policy, 0);
        assert!(s.live(99) && !s.live(100));
        assert!(!s.needs_touch(9) && s.needs_touch(10));
        s.last_seen = 950;
        assert!(s.live(999) && !s.live(1000), "absolute expiry wins");
    }
}
