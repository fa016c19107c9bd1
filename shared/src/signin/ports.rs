//! What sign-in needs from the outside world: password authentication, ID token verification,
//! bridge sessions, pending corporate sign-ins, companies' OpenID providers, sign-up's ledger and
//! people's own account (passkeys, password, second factors, attributes, deletion).

use crate::common::store::StoreError;
use crate::events::IdentityEvent;
use crate::risk::RiskProfile;
use crate::signin::challenge::*;
use crate::signin::oidc::ProviderMetadata;
use crate::signin::session::{Found, Session};
use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Email-and-password authentication (Cognito's `USER_PASSWORD_AUTH` and its challenges).
#[async_trait]
pub trait PasswordAuth: Send + Sync {
    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<AuthStep, AuthError>;
    async fn answer(&self, challenge: &Challenge, answer: ChallengeAnswer) -> Result<AuthStep, AuthError>;
    /// Choice-based sign-in (Cognito's `USER_AUTH`) with `preferred` first: a code by email
    /// (`EmailOtp`) or a passkey (`WebAuthn`, its request options in the challenge). When it is
    /// not available for the person, Cognito's choice (`SelectChallenge`) instead.
    async fn start_passwordless(&self, username: &str, preferred: ChallengeKind) -> Result<AuthStep, AuthError> {
        let _ = (username, preferred);
        Err(AuthError::Misconfigured("sign-in without a password is not available".into()))
    }
    /// Sends a reset code if the account exists; says nothing either way.
    async fn forgot_password(&self, username: &str) -> Result<(), AuthError>;
    async fn confirm_forgot_password(&self, username: &str, code: &SecretString, new_password: &SecretString) -> Result<(), AuthError>;
    /// Starts setting up an authenticator app for the signed-in person: the shared secret
    /// (base32) to put in the app.
    async fn associate_totp(&self, access_token: &AccessToken) -> Result<SecretString, AuthError>;
    /// Checks a code from the new app and makes it the person's preferred second factor.
    async fn verify_totp(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError>;

    /// Creates an unconfirmed account for `username` (an email) with `attributes` (`name`,
    /// `locale`) and sends its code; `language` (`ja`, `en`) goes to the email trigger as
    /// `ClientMetadata.locale`. [`AuthError::AccountExists`] if the email has an account.
    async fn sign_up(&self, username: &str, password: &SecretString, attributes: &[(&str, &str)], language: &str) -> Result<(), AuthError> {
        let _ = (username, password, attributes, language);
        Err(AuthError::Misconfigured("sign-up is not available".into()))
    }
    /// Confirms an account with the code [`Self::sign_up`] sent. A confirmed account reads as
    /// [`AuthError::CodeMismatch`], as an unknown one does.
    async fn confirm_sign_up(&self, username: &str, code: &SecretString) -> Result<(), AuthError> {
        let _ = (username, code);
        Err(AuthError::Misconfigured("sign-up is not available".into()))
    }
    /// Sends an unconfirmed account a new code; [`AuthError::AccountExists`] when the account is
    /// confirmed already.
    async fn resend_sign_up_code(&self, username: &str, language: &str) -> Result<(), AuthError> {
        let _ = (username, language);
        Err(AuthError::Misconfigured("sign-up is not available".into()))
    }
    /// Tells the owner of an existing account that someone tried to create one with its email:
    /// a password reset code sent with `ClientMetadata.reason = "account_exists"`, which the email
    /// trigger writes as the "you already have an account" email.
    async fn account_exists_notice(&self, username: &str, language: &str) -> Result<(), AuthError> {
        let _ = (username, language);
        Err(AuthError::Misconfigured("sign-up is not available".into()))
    }
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    #[error("the ID token is invalid: {0}")]
    Invalid(&'static str),
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
    /// Longer than a verifier reads (16 KiB): from Cognito, a person whose attributes are that
    /// large, not an outage.
    #[error("the ID token is too large to verify")]
    TooLarge,
}

/// Verifies an ID token locally (signature by the issuer's published keys, issuer, audience,
/// use, expiry at `now`) and returns its claims.
#[async_trait]
pub trait IdTokenVerifier: Send + Sync {
    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, TokenRejected>;

    /// Loads the issuer's keys ahead of the first token (a function's init); nothing by default.
    async fn prefetch(&self) -> Result<(), TokenRejected> {
        Ok(())
    }
}

/// Bridge sessions, keyed by the digest of the cookie's value.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates the session and records `events` (the sign-in, and a high-risk one) and the
    /// person's risk profile after it, all or nothing. `Conflict` when the person's account was
    /// revoked ([`revoke`](Self::revoke)) after `session.created`, or at most
    /// [`REVOCATION_WINDOW`](crate::signin::session::REVOCATION_WINDOW) seconds before it: a sign-in that read the account before it was
    /// disabled opens nothing; `Conflict` too for a sign-in a hold refuses ([`hold`](Self::hold)).
    async fn create(&self, key: &str, session: &Session, events: &[IdentityEvent], risk: &RiskProfile) -> Result<(), StoreError>;
    /// The session `key` names, if it belongs to the user `user_key` names
    /// (`session::parse_cookie` gives both). One that user's revocation refuses
    /// ([`Session::revoked_by`]: a session the revocation's sweep missed) is ended here, and is
    /// [`Found::Revoked`] to the read that ended it (or failed to); to one whose end another read
    /// made meanwhile, `None`. The session and the revocation are read in one round trip.
    async fn get(&self, key: &str, user_key: &str) -> Result<Option<Found>, StoreError>;
    /// Moves the session `old` to the key `new` (a new cookie's digest) in one write: `old`
    /// ends and `session` opens under `new`, its handoff pending (`Session::handoff`), under the
    /// same revocation check as [`create`](Self::create) (of `session.created`). It records no
    /// sign-in and no hold applies: the person signed in before. `false` when `old` is gone
    /// (ended meanwhile: nothing opens); `Conflict` when the account's revocation refuses it.
    async fn rotate(&self, old: &str, new: &str, session: &Session) -> Result<bool, StoreError>;
    /// Records use at `now` (the idle timeout starts again).
    async fn touch(&self, key: &str, now: u64) -> Result<(), StoreError>;
    /// Redeems the handoff of a session opened with one (`Session::handoff`), once: `true` the
    /// first time, `false` for a session without one, already redeemed, or gone.
    async fn redeem(&self, key: &str) -> Result<bool, StoreError>;
    /// Ends the session and returns it; `None` if there was none.
    async fn end(&self, key: &str) -> Result<Option<Session>, StoreError>;
    /// Ends the session `key` names only if it is `username`'s (one conditional write) and
    /// returns it; `None` if there was none or it is another person's (nothing ends then).
    async fn end_of(&self, username: &str, key: &str) -> Result<Option<Session>, StoreError>;
    /// Carries the browser's earlier session `old` into its new one `new` of the Cognito user
    /// `username` (the new one just became the browser's): for the same user, in one
    /// transaction, `old`'s clients (each with the `sid` it knows) and `sid`s are added to `new`,
    /// and `old` is marked moved (not ended: its apps are told when `new` ends); another person's
    /// earlier session simply ends. When `old` has moved since (another tab's fresh sign-in, a
    /// password change), the session it moved to is carried (or ended) instead, but only if it
    /// is this browser's (its device digest is `device`, the new session's): a form opened with
    /// a copied cookie reaches nothing the cookie's move was made to cut it off from. Nothing
    /// when it is gone.
    async fn carry(&self, old: &str, new: &str, username: &str, device: Option<&str>) -> Result<(), StoreError>;
    /// Ends the session `key` that never reached its browser (its handoff refused): no client got
    /// anything from it, so none is told of its end (its `logout_clients` are cleared first).
    /// The session, if there was one.
    async fn discard(&self, key: &str) -> Result<Option<Session>, StoreError>;
    /// Records that the OpenID Connect client `client_id` (one with a `backchannel_logout_uri`)
    /// signed in through the session `key`, whose `sid` is `sid`, to be told when it ends
    /// (`Session::logout_clients`). On the session `key` moved to meanwhile (a new cookie, or the
    /// browser's new session), if it did: the client, then, with `sid`. Nothing when the session
    /// ended meanwhile.
    async fn add_logout_client(&self, key: &str, client_id: &str, sid: &str) -> Result<(), StoreError>;
    /// Ends every session of the Cognito user `username` and writes their sign-out mark at `now`
    /// (seconds since the epoch; [`mark_signed_out`](Self::mark_signed_out): their console tokens
    /// and OpenID Connect clients' refresh tokens from before end):
    /// every door that signs a person out everywhere goes through here (the account page's,
    /// which keeps one session, writes the same mark itself). A caller that mints a token after
    /// it in the same request passes that token's `iat`, so the token stands. Returns how many
    /// sessions there were.
    async fn end_all(&self, username: &str, now: u64) -> Result<usize, StoreError>;
    /// The account of `username` is being disabled or deleted at `now` (called before Cognito
    /// is changed): records it, so that no session stamped before then or within
    /// [`REVOCATION_WINDOW`](crate::signin::session::REVOCATION_WINDOW) seconds after opens for it (a sign-in under way read the account
    /// before) or is used again (kept [`MAX_SESSION_TTL`](crate::signin::session::MAX_SESSION_TTL)
    /// and the window), then ends every session it has and writes its sign-out mark
    /// ([`end_all`](Self::end_all)); returns how many sessions.
    async fn revoke(&self, username: &str, now: u64) -> Result<usize, StoreError>;
    /// The account of `username` is enabled again, an enabling begun at `since`: sessions open
    /// for it at once. Within the revocation's window, its record goes (unless the revocation
    /// came after `since`, to the second), after the sessions it refuses that are still kept
    /// (its sweep missed them, and no one used them since); after the window the record stays,
    /// refusing no new session and still refusing those. Enabling brings no session back.
    async fn reinstate(&self, username: &str, since: u64) -> Result<(), StoreError>;
    /// Every session of the Cognito user `username`, by key (the digest of its cookie), live or
    /// not yet swept.
    async fn of_user(&self, username: &str) -> Result<Vec<(String, Session)>, StoreError>;
    /// Writes the sign-out mark of `username` at `at` (seconds since the epoch): their console
    /// tokens issued before it (the admin API refuses them, `admin::ports::PersonSessions::signed_out_at`)
    /// and their OpenID Connect clients' refresh tokens from sign-ins before it are refused from
    /// then on. A later `at` stands: an earlier one changes nothing.
    async fn mark_signed_out(&self, username: &str, at: u64) -> Result<(), StoreError>;
    /// Holds the sign-ins of `username` for `holder` (a random id: a sign-up confirmation
    /// claiming the account): no session opens for it whose sign-in was
    /// authenticated (`Session::authenticated`) at or before `until` (Unix seconds), but `holder`'s own
    /// (`Session::claim`); [`create`](Self::create) is `Conflict`. Existing sessions are
    /// untouched. `false`, with nothing written, while another holder's hold is in force (at
    /// `now`); the same `holder` may hold again, to move `until`.
    async fn hold(&self, username: &str, holder: &str, until: u64, now: u64) -> Result<bool, StoreError>;
    /// [`Self::hold`] whoever holds it: the person's credentials changed at `until` (a claim
    /// ended, a password reset or change), so every sign-in authenticated before then opens
    /// nothing, but `holder`'s.
    async fn settle(&self, username: &str, holder: &str, until: u64) -> Result<(), StoreError>;
    /// Ends `holder`'s hold on `username`; nothing when there is none, or it is another's.
    async fn release(&self, username: &str, holder: &str) -> Result<(), StoreError>;
    /// Whether a hold refuses `session`'s sign-in, as [`create`](Self::create) would (one
    /// consistent read): for what a sign-in writes before its session.
    async fn held(&self, session: &Session) -> Result<bool, StoreError>;
}

/// What a refresh reads of its family, in one request: the family (`None`: revoked, expired or
/// never made), when the person last signed out of the bridge (any browser, or everywhere: the
/// console tokens' mark, `SessionStore::mark_signed_out`), and whether the bridge session the
/// sign-in was made in has ended (`RefreshFamilies::mark_session_ended`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FamilyRead {
    pub family: Option<crate::signin::openid_provider::family::RefreshFamily>,
    pub signed_out_at: Option<u64>,
    pub session_ended: bool,
}

/// The refresh tokens of OpenID Connect clients, one family per sign-in
/// (`signin::openid_provider::refresh`): its current generation, so that each token works once.
#[async_trait]
pub trait RefreshFamilies: Send + Sync {
    /// Records a new family (kept until its `expires_at`). `Conflict` when its id exists. (Its
    /// code's exchange then reads whether its bridge session ended: `session_ended`.)
    async fn create(&self, family: &crate::signin::openid_provider::family::RefreshFamily) -> Result<(), StoreError>;
    /// The family `id` of the Cognito user `username`, made in the bridge session `sid`, as a
    /// refresh reads it ([`FamilyRead`]), in one request (each read consistently).
    async fn get(&self, id: &str, username: &str, sid: Option<&str>) -> Result<FamilyRead, StoreError>;
    /// Moves the family `id` from `generation` to the next, used at `now` (its `last_used`), in
    /// one conditional write; `false` when it is not at `generation` (a token used before, or the
    /// family revoked).
    async fn advance(&self, id: &str, generation: u64, now: u64) -> Result<bool, StoreError>;
    /// Revokes the family `id`; nothing when there is none.
    async fn revoke(&self, id: &str) -> Result<(), StoreError>;
    /// The families of the Cognito user `username` still kept (expired ones among them until
    /// the table's TTL removes them), and when they last signed out of the bridge (as
    /// [`get`](Self::get)).
    async fn of_user(&self, username: &str) -> Result<(Vec<crate::signin::openid_provider::family::RefreshFamily>, Option<u64>), StoreError>;
    /// Revokes the family `id` only if it is `username`'s, in one conditional write; `false`
    /// (nothing revoked) when it is another person's or gone.
    async fn revoke_of(&self, username: &str, id: &str) -> Result<bool, StoreError>;
    /// Records that the bridge session `sid` ([`Session::sid`](crate::signin::session::Session::sid))
    /// ended, kept until `until` (seconds since the epoch: the longest a family lives): none of
    /// its families refreshes, and no code it issued is exchanged (a family such a code opened is
    /// revoked). One write; trying again is harmless.
    async fn mark_session_ended(&self, sid: &str, until: u64) -> Result<(), StoreError>;
    /// Whether the bridge session `sid` ended ([`mark_session_ended`](Self::mark_session_ended)),
    /// read consistently.
    async fn session_ended(&self, sid: &str) -> Result<bool, StoreError>;
}

/// Records at `now` (seconds since the epoch) that `session` ended: each of its `sid`s
/// ([`Session::sids`](crate::signin::session::Session::sids): its own and those carried into it)
/// through [`RefreshFamilies::mark_session_ended`], kept as long as a family lives. Every `sid` is
/// tried; the first failure is returned. Trying again is harmless.
pub async fn record_session_ended(store: &dyn RefreshFamilies, session: &crate::signin::session::Session, now: u64) -> Result<(), StoreError> {
    let until = now + crate::tokens::targets::oidc::MAX_REFRESH_LIFETIME;
    let mut first = Ok(());
    for sid in session.sids() {
        if let Err(error) = store.mark_session_ended(sid, until).await {
            first = first.and(Err(error));
        }
    }
    first
}

/// The refresh tokens of the OpenID Connect apps signed in through `session`, which just ended:
/// its end recorded ([`record_session_ended`]), then its families revoked; how many. A failure
/// is logged and answers 0: the session-ends function does the same for every session the
/// table's stream shows deleted.
pub async fn end_session_families(store: &dyn RefreshFamilies, session: &crate::signin::session::Session) -> usize {
    if let Err(error) = record_session_ended(store, session, crate::common::time::unix_now()).await {
        tracing::warn!(%error, "could not record a session's end now; the stream's function will");
    }
    let sids: Vec<&str> = session.sids().collect();
    revoke_families_of_sessions(store, &session.username, &sids).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "could not end the refresh tokens of an ended session now; the stream's function will");
        0
    })
}

/// Revokes the families of `username` made in the bridge sessions `sids` from `store`'s list of
/// theirs ([`RefreshFamilies::of_user`]: an index, so a family made a moment ago may be missed:
/// the session's record refuses it), [`ENDING_AT_ONCE`](crate::signin::session::ENDING_AT_ONCE)
/// at a time; how many.
pub async fn revoke_families_of_sessions(store: &dyn RefreshFamilies, username: &str, sids: &[&str]) -> Result<usize, StoreError> {
    use futures_util::stream::{self, StreamExt};
    if sids.is_empty() {
        return Ok(0);
    }
    let (families, _) = store.of_user(username).await?;
    let of_session = families.into_iter().filter(|f| f.sid.as_deref().is_some_and(|sid| sids.contains(&sid)));
    let revoked: Vec<_> = stream::iter(of_session)
        .map(|f| async move { store.revoke_of(username, &f.id).await })
        .buffer_unordered(crate::signin::session::ENDING_AT_ONCE)
        .collect()
        .await;
    revoked.into_iter().try_fold(0, |count, one| one.map(|r| count + usize::from(r)))
}

/// Why a company's OpenID provider could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The provider did not answer, or answered with something that is not OpenID.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (expired, used, or not for this client).
    #[error("the provider refused the code: {0}")]
    Refused(String),
    /// The ID token's signature or header is not acceptable.
    #[error("the ID token is not acceptable: {0}")]
    BadToken(&'static str),
}

/// A company's OpenID provider: discovery, the token exchange, the ID token's signature.
#[async_trait]
pub trait OidcProvider: Send + Sync {
    /// The provider's metadata (cached), checked to name `issuer`.
    async fn metadata(&self, issuer: &str) -> Result<Arc<ProviderMetadata>, OidcError>;
    /// Exchanges the code (with the PKCE verifier) for the ID token.
    async fn exchange(&self, metadata: &ProviderMetadata, exchange: &CodeExchange<'_>) -> Result<String, OidcError>;
    /// Verifies the ID token's signature with the provider's keys (cached; fetched again for an
    /// unknown `kid`) and an algorithm allow-list; returns its claims unchecked otherwise.
    async fn verify(&self, metadata: &ProviderMetadata, id_token: &str) -> Result<Map<String, Value>, OidcError>;
    /// Loads the provider's keys into the cache unless fresh ones are held, so that a cold
    /// callback's verification does not wait for them after the token request. A failure is
    /// left for `verify` to meet.
    async fn prefetch_keys(&self, _metadata: &ProviderMetadata) {}
}

/// The token request's values.
pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a SecretString>,
}

/// What sign-up keeps of each address between its steps, so that an address with an account
/// and one without answer alike (`signin::sign_up`). Every count is per address (its digest) and
/// per window; nothing here is a secret or a password.
#[async_trait]
pub trait SignUpLedger: Send + Sync {
    /// Counts a sign-up for `email` (and the code it sends, whose tries start again) and from
    /// `network` in the current window; `false` when any had reached its limit (the sign-up is
    /// then not made and no email is sent).
    async fn sign_up_attempt(&self, email: &str, network: Option<&str>, now: u64) -> Result<bool, StoreError>;
    /// Notes, for 30 days, that someone tried to sign up `email`, which has an account, with a
    /// password whose keyed proof is `proof` (an HMAC under the bridge's flow key). The first
    /// note stays while it lasts, as Cognito keeps an unconfirmed account's first password.
    async fn note_existing(&self, email: &str, proof: &str, now: u64) -> Result<(), StoreError>;
    /// The proof [`Self::note_existing`] noted for `email`, while it lasts.
    async fn noted(&self, email: &str, now: u64) -> Result<Option<String>, StoreError>;
    /// Counts a try of the sign-up code sent to `email`; `false` when `limit` tries since the
    /// last one was sent ([`Self::code_sent`]) are spent.
    async fn code_try(&self, email: &str, limit: u64, now: u64) -> Result<bool, StoreError>;
    /// A new sign-up code for `email`: its tries start again. `false` when too many codes (of
    /// any kind) were sent this window (none is sent then).
    async fn code_sent(&self, email: &str, now: u64) -> Result<bool, StoreError>;
    /// A code of another kind for `email` (an email sign-in's, a phone's): counted as
    /// [`Self::code_sent`] counts, without starting the sign-up code's tries again. Codes asked
    /// for by someone who proved the password are counted apart ([`CodeAsker`]).
    async fn other_code_sent(&self, email: &str, asker: CodeAsker, now: u64) -> Result<bool, StoreError>;
    /// A password-reset code for `email`: counted as a code anyone can ask for; its tries
    /// ([`Self::reset_code_try`]) start again. `false` when too many were sent (none is sent).
    async fn reset_code_sent(&self, email: &str, now: u64) -> Result<bool, StoreError>;
    /// Counts a try of the reset code last sent to `email`; `false` when `limit` are spent.
    async fn reset_code_try(&self, email: &str, limit: u64, now: u64) -> Result<bool, StoreError>;
    /// Counts a try of the code of the sign-in step `step` (an id of that step: each step has
    /// its own tries, whatever other steps the address starts); `false` when `limit` are spent.
    async fn step_code_try(&self, step: &str, limit: u64, now: u64) -> Result<bool, StoreError>;
    /// A consent decision on the account page for `email`; `false` when too many were made
    /// this window (`sign_up::DECISIONS_PER_EMAIL`; none is recorded then).
    async fn consent_decided(&self, email: &str, now: u64) -> Result<bool, StoreError>;
}

/// Who asked for a code to an address. Each counts apart, [`crate::signin::sign_up::CODES_PER_EMAIL`]
/// an hour each: a stranger who types the address (sign-up, an email sign-in) can use up
/// `Anyone`'s, never the codes that only the password opens (so cannot lock the person out of
/// their own sign-in or account page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAsker {
    /// Whoever typed the address.
    Anyone,
    /// Someone who proved the account's password: the email proof before a factor is set up,
    /// the account page's fresh step and a phone number's code.
    PasswordHolder,
}

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

/// A second factor Cognito asks for at sign-in (its `UserMFASettingList` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// `SMS_MFA`: a code to the verified `phone_number`.
    SmsMfa,
    /// `SOFTWARE_TOKEN_MFA`: an authenticator app (TOTP, RFC 6238).
    SoftwareTokenMfa,
}

/// A person's own account as Cognito keeps it (`GetUser`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnSettings {
    /// Every attribute, by its Cognito name (`name`, `locale`, `phone_number_verified`, ...).
    pub attributes: BTreeMap<String, String>,
    /// The second factors turned on.
    pub factors: Vec<Factor>,
}

/// A person's own account, with their own access token (the account page): Cognito's
/// self-service operations. Passkeys follow W3C WebAuthn Level 3 over Cognito's registration
/// operations; Cognito has no admin API for someone else's passkeys.
#[async_trait]
pub trait OwnAccount: Send + Sync {
    /// `GetUser`: attributes and second factors.
    async fn settings(&self, access_token: &AccessToken) -> Result<OwnSettings, AuthError>;
    /// `UpdateUserAttributes` with attributes the app client may write (its `WriteAttributes`:
    /// the account page writes `name`, `locale` and `phone_number`).
    async fn update_attributes(&self, access_token: &AccessToken, attributes: &[(&str, &str)]) -> Result<(), AuthError>;
    /// `ChangePassword`. [`AuthError::InvalidCredentials`] when `previous` is wrong,
    /// [`AuthError::PasswordPolicy`] when `proposed` breaks the pool's policy or history,
    /// [`AuthError::TooManyAttempts`] when Cognito stops trying.
    async fn change_password(&self, access_token: &AccessToken, previous: &SecretString, proposed: &SecretString) -> Result<(), AuthError>;
    /// `GetUserAttributeVerificationCode` for `phone_number`: a code by SMS to the person's
    /// (new) number; the masked destination.
    async fn send_phone_code(&self, access_token: &AccessToken) -> Result<Option<String>, AuthError>;
    /// `VerifyUserAttribute` for `phone_number`: [`AuthError::CodeMismatch`],
    /// [`AuthError::CodeExpired`], [`AuthError::TooManyAttempts`].
    async fn verify_phone(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError>;
    /// `UpdateUserAttributes` of `email`, which the pool keeps pending until it is verified
    /// (`AttributesRequireVerificationBeforeUpdate`): the current address stays (and signs in),
    /// and Cognito sends a code to the new one by itself; its masked destination.
    /// [`AuthError::AccountExists`] when another account has the address.
    async fn change_email(&self, access_token: &AccessToken, email: &str) -> Result<Option<String>, AuthError>;
    /// `VerifyUserAttribute` for `email`: the pending address becomes the person's, verified.
    /// As [`Self::verify_phone`], and [`AuthError::AccountExists`] when another account took the
    /// address meanwhile.
    async fn verify_email(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError>;
    /// `SetUserMFAPreference`: `factor` on or off (on: also the preferred one). An
    /// authenticator app is turned on by [`PasswordAuth::verify_totp`], after its first code.
    async fn set_factor(&self, access_token: &AccessToken, factor: Factor, enabled: bool) -> Result<(), AuthError>;
    /// `DeleteUser`: the account is gone, its tokens with it.
    async fn delete_user(&self, access_token: &AccessToken) -> Result<(), AuthError>;
    /// The creation options for `navigator.credentials.create` (JSON; the challenge lasts a
    /// few minutes).
    async fn start_passkey_registration(&self, access_token: &AccessToken) -> Result<Value, AuthError>;
    /// Registers the browser's answer (`RegistrationResponseJSON`) to the options last
    /// started. [`AuthError::CodeMismatch`] when it does not verify (challenge, origin,
    /// relying party), [`AuthError::ChallengeExpired`] when the options are gone.
    async fn complete_passkey_registration(&self, access_token: &AccessToken, credential: &Value) -> Result<(), AuthError>;
    /// Every passkey of the person.
    async fn passkeys(&self, access_token: &AccessToken) -> Result<Vec<Passkey>, AuthError>;
    /// Deletes the passkey `id`.
    async fn delete_passkey(&self, access_token: &AccessToken, id: &str) -> Result<(), AuthError>;
}

/// Have I Been Pwned's range API: every hash suffix known under a 5-character SHA-1 prefix
/// (`signin::breached_passwords`).
#[async_trait]
pub trait PasswordBreaches: Send + Sync {
    /// The body of `GET /range/{prefix}` (`prefix`: 5 upper-case hexadecimal characters):
    /// `SUFFIX:COUNT` lines (35 hexadecimal characters, a count). The reason when there is none.
    async fn range(&self, prefix: &str) -> Result<String, String>;
}
