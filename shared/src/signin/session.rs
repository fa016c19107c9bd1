//! The bridge session: what lets a person who signed in once open a second app without the form.
//!
//! The browser holds an `HttpOnly` cookie: a digest of the user's name and 256 random bits
//! ([`new_cookie`]);
//! the table holds only the value's SHA-256 (`common::hashing::digest`) with the person's profile as it
//! was at sign-in, what that sign-in proved ([`Assurance`]) and the browser's device digest, so
//! single sign-on into another app is one round trip and applies that app's risk policy. A
//! session ends at its absolute expiry, after `idle` seconds without use, on sign-out, or when its
//! user is deactivated: the store ends every session of a user at once, and a session its sweep
//! missed is refused at each use ([`Session::revoked_by`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::directory::org::OrgId;
use crate::risk::Assurance;

/// The cookie's name.
pub const COOKIE: &str = "__Host-bridge_session";

/// How long after an account is disabled or deleted no session opens for it, in seconds. A
/// sign-in stamps its session with the time its request arrived, before it read the account, so
/// any revocation after that read refuses it; the window adds room for the clocks of two
/// functions and for a revocation stamped late. Enabling the account again within it ends it
/// (`SessionStore::reinstate`).
pub const REVOCATION_WINDOW: u64 = 60;

/// The length of a session cookie's value, in bytes: a [`user_key`], a dot, 256 random bits.
pub const COOKIE_LEN: usize = 2 * USER_KEY_LEN + 1;
/// The length of a [`user_key`] (and of the random part), in base64url characters.
const USER_KEY_LEN: usize = 43;

/// The longest session a deployment may set (`SESSION_TTL_SECONDS`), in seconds: 30 days. An
/// account's revocation is kept this long (and [`REVOCATION_WINDOW`] more), so that it outlives
/// every session it refuses.
pub const MAX_SESSION_TTL: u64 = 30 * 86_400;

/// How many of a person's sessions are ended at a time when many end at once (a sign-out
/// everywhere: `SessionStore::end_all`, the account page's "sign out elsewhere").
pub const ENDING_AT_ONCE: usize = 16;

/// What keys a user's revocation and names the user in their session cookies: the SHA-256 of
/// the user name, base64url (43 characters), so a cookie does not show the name.
pub fn user_key(username: &str) -> String {
    crate::common::hashing::digest(username)
}

/// A new session cookie's value for user `username`: its [`user_key`], a dot, 256 random bits
/// (base64url). The table keys the session by the digest of the whole value, so the user it
/// names cannot be changed without losing the session; naming the user lets a session's read
/// fetch that user's revocation in the same round trip.
pub fn new_cookie(username: &str) -> String {
    format!("{}.{}", user_key(username), crate::common::random::token())
}

/// A session cookie the browser sent, of the form [`new_cookie`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct SentCookie {
    /// The session's key in the store: the digest of the whole value.
    pub key: String,
    /// The [`user_key`] it names.
    pub user_key: String,
}

/// Whether `part` has the form of a SHA-256 digest or 256 random bits as the bridge writes them:
/// 43 characters of base64url without padding (a [`user_key`], a cookie's random part, a
/// session's key in the store).
pub fn is_digest(part: &str) -> bool {
    part.len() == USER_KEY_LEN && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The session cookie `value` is, if it has [`new_cookie`]'s form ([`COOKIE_LEN`] characters of
/// base64url with the dot after the user key); anything else names no session.
pub fn parse_cookie(value: Option<&str>) -> Option<SentCookie> {
    let value = value.filter(|v| v.len() == COOKIE_LEN)?;
    let (user, random) = value.split_once('.')?;
    (is_digest(user) && is_digest(random)).then(|| SentCookie { key: crate::common::hashing::digest(value), user_key: user.to_owned() })
}

/// A session as the store found it ([`SessionStore::get`](crate::signin::ports::SessionStore::get)).
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// Kept, and not refused by its account's revocation (it may have expired: [`Session::live`]).
    Kept(Session),
    /// Refused by its account's revocation ([`Session::revoked_by`]), and ended by this read (or
    /// left, when ending it failed).
    Revoked(Session),
}

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
    /// as RFC 8176 `amr` values (`pwd`, `fed`, `otp`, `hwk`, `mfa`). A passkey sign-in is a
    /// second factor on its own (a key the device holds, unlocked by the person): its callers
    /// pass `true` where it was made, and `false` where it proves nothing (its session used in
    /// another browser), which leaves `hwk` alone.
    pub fn amr(self, second_factor: bool) -> &'static [&'static str] {
        match (self, second_factor) {
            (Self::Password, false) => &["pwd"],
            (Self::Password, true) => &["pwd", "mfa"],
            (Self::Corporate, false) => &["fed"],
            (Self::Corporate, true) => &["fed", "mfa"],
            (Self::EmailCode, false) => &["otp"],
            (Self::EmailCode, true) => &["otp", "mfa"],
            (Self::Passkey, false) => &["hwk"],
            (Self::Passkey, true) => &["hwk", "mfa"],
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
    /// The session's id as OpenID Connect clients see it (`sid`: OpenID Connect Back-Channel
    /// Logout 1.0 §2.1): 256 random bits, base64url, kept when the session moves to a new cookie.
    /// It opens nothing. The refresh tokens of the sign-ins it made carry it, so that ending the
    /// session ends them. `None` for a session opened before sessions had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The OpenID Connect clients with a `backchannel_logout_uri` that signed in through this
    /// session, told when it ends (`openid_provider::backchannel`): each a client id (it knows
    /// this session's `sid`), or a client id, a space and the `sid` it was given (a client of an
    /// earlier session carried into this one). Kept by the store beside the session (a client
    /// added by a later entry is one write), not in it.
    #[serde(skip)]
    pub logout_clients: Vec<String>,
    /// The `sid`s of the browser's earlier sessions carried into this one
    /// (`SessionStore::carry`): their sign-ins end with it. Kept by the store beside it.
    #[serde(skip)]
    pub carried_sids: Vec<String>,
    /// Opened by a password sign-in whose handoff is not yet redeemed (kept by the store beside
    /// the session, not in it: `SessionStore::redeem` clears it once).
    #[serde(skip)]
    pub handoff: bool,
    /// The hold ([`SessionStore::hold`](crate::signin::ports::SessionStore::hold)) this
    /// session's sign-in may pass: that of the sign-up confirmation or password reset that
    /// signed the person in (never stored).
    #[serde(skip)]
    pub claim: Option<String>,
    /// When Cognito authenticated the sign-in (Unix seconds: its ID token's `auth_time`, kept by
    /// a sign-in resumed from a step; else `created`), which a hold compares and a SAML response
    /// gives as its `AuthnInstant`. Stored; a session stored before it was reads as `created`.
    #[serde(default)]
    pub authenticated: u64,
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
            sid: Some(crate::common::random::token()),
            logout_clients: Vec::new(),
            carried_sids: Vec::new(),
            handoff: false,
            claim: None,
            authenticated: now,
        }
    }

    /// Every `sid` whose sign-ins end with this session: its own and those carried into it.
    pub fn sids(&self) -> impl Iterator<Item = &str> {
        self.sid.iter().chain(&self.carried_sids).map(String::as_str)
    }

    /// Its clients as another session carries them (`SessionStore::carry`): each with the `sid`
    /// it knows; one that knows none (a session from before sessions had one) is left out.
    pub fn carried_entries(&self) -> impl Iterator<Item = String> {
        self.told().into_iter().filter_map(|(client, sid)| Some(format!("{client} {}", sid?)))
    }

    /// Its clients to tell of its end, each with the `sid` it knows ([`Self::logout_clients`]),
    /// each pair once (a client recorded after the session moved names its `sid`, which may be
    /// this session's own).
    pub fn told(&self) -> Vec<(&str, Option<&str>)> {
        let mut told: Vec<_> = self
            .logout_clients
            .iter()
            .map(|entry| match entry.split_once(' ') {
                Some((client, sid)) => (client, Some(sid)),
                None => (entry.as_str(), self.sid.as_deref()),
            })
            .collect();
        told.sort_unstable();
        told.dedup();
        told
    }

    pub fn live(&self, now: u64) -> bool {
        now < self.expires_at && now < self.last_seen + self.idle
    }

    /// The person this session is, as events name them (`user.username` and the profile's
    /// claims).
    pub fn event_user(&self) -> crate::events::EventUser {
        crate::events::EventUser { username: Some(self.username.clone()), ..crate::events::EventUser::from_claims(&self.profile) }
    }

    /// Whether the account's revocation (disabled or deleted) at `revoked_at` refuses this
    /// session: it was created before then, or at most [`REVOCATION_WINDOW`] seconds after (the
    /// rule a new session is written under, `SessionStore::create`).
    pub fn revoked_by(&self, revoked_at: u64) -> bool {
        revoked_at >= self.created.saturating_sub(REVOCATION_WINDOW)
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

    #[test]
    fn each_client_is_told_once_with_the_sid_it_knows() {
        let mut s = Session::new("u".into(), None, Method::Password, Map::new(), SessionPolicy::default(), 0);
        s.sid = Some("own".into());
        // Recorded plainly, again after a move with this session's `sid`, and carried with an earlier one.
        s.logout_clients = vec!["tool".into(), "tool own".into(), "tool earlier".into(), "other earlier".into()];
        assert_eq!(s.told(), [("other", Some("earlier")), ("tool", Some("earlier")), ("tool", Some("own"))]);
        assert_eq!(s.carried_entries().collect::<Vec<_>>(), ["other earlier", "tool earlier", "tool own"]);
        s.sid = None;
        s.logout_clients = vec!["tool".into()];
        assert_eq!(s.carried_entries().count(), 0, "a client that knows no sid is not carried");
    }

    #[test]
    fn a_cookie_names_its_user_by_a_digest() {
        for username in ["8d5e4f7a-6b1c-4e2d-9f3a-0b1c2d3e4f5a", "corp-oidc_a.b;c,d \"e\"", &"山".repeat(128)] {
            let cookie = new_cookie(username);
            assert!(cookie.len() == COOKIE_LEN && !cookie.contains(username), "{cookie}");
            let sent = parse_cookie(Some(&cookie)).unwrap_or_else(|| panic!("{cookie}"));
            assert_eq!(sent, SentCookie { key: crate::common::hashing::digest(&cookie), user_key: user_key(username) });
            assert_ne!(new_cookie(username), cookie, "256 random bits each");
        }
        // Nothing else is a session cookie: none, empty, too long or short, a random value alone
        // (as before cookies named their user), other characters, the dot elsewhere.
        let good = new_cookie("u");
        let moved_dot = format!("{}.{}{}", &good[..42], &good[42..43], &good[44..]);
        let other = format!("{}!{}", &good[..43], &good[44..]);
        for cookie in [
            None,
            Some(String::new()),
            Some(format!("{good}a")),
            Some(good[1..].to_owned()),
            Some(crate::common::random::token()),
            Some(moved_dot),
            Some(other),
        ] {
            assert_eq!(parse_cookie(cookie.as_deref()), None, "{cookie:?}");
        }
    }

    #[test]
    fn a_revocation_refuses_sessions_created_before_it_or_within_the_window_after() {
        let at = |created| Session::new("u".into(), None, Method::Password, Map::new(), SessionPolicy::default(), created);
        let revoked = 10_000;
        assert!(at(revoked - 3600).revoked_by(revoked));
        assert!(at(revoked + REVOCATION_WINDOW).revoked_by(revoked));
        assert!(!at(revoked + REVOCATION_WINDOW + 1).revoked_by(revoked), "a sign-in after the window read the account enabled again");
    }
}
