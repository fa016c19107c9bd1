//! The traits the domain needs from the outside world, in the domain's own vocabulary.
//! Adapters (`crate::adapters`) implement them over AWS; tests implement them in memory.

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::domain::app::{App, AppId};
use crate::domain::corporate::PendingLogin;
use crate::domain::events::IdentityEvent;
use crate::domain::oidc::ProviderMetadata;
use crate::domain::org::{EmailDomain, OrgId, Organisation};
use crate::domain::risk::RiskProfile;
use crate::domain::scim::filter::Lookup;
use crate::domain::scim::patch::MemberChange;
use crate::domain::scim::resource::{Kind, Record};
use crate::domain::scim::sync::{DirectoryUser, Link};
use crate::domain::scim_token::TokenRecord;
use crate::domain::session::Session;
use crate::domain::signing_keys::KeySet;
use crate::domain::sms_sender::{Execution, Hook};
use crate::domain::workflow::flow::Action;
use crate::domain::workflow::inactivity::LastSignIn;
use crate::domain::workflow::runner::{RunRecord, StepOutcome};
use crate::secrets::SecretRef;

/// Why a store (DynamoDB, Secrets Manager) could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the store is throttling requests")]
    Throttled,
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("not found: {0}")]
    Missing(String),
    #[error("the item changed since it was read (version conflict)")]
    Conflict,
    #[error("already taken: {0}")]
    Taken(String),
    #[error("limit reached: {0}")]
    Limit(String),
}

/// Reads apps by id (the sign-in path).
#[async_trait]
pub trait AppDirectory: Send + Sync {
    async fn app(&self, id: &AppId) -> Result<Option<Arc<App>>, StoreError>;
}

/// Manages apps (the admin tool).
#[async_trait]
pub trait AppStore: AppDirectory {
    async fn list(&self) -> Result<Vec<App>, StoreError>;
    /// Creates `app` with version 1; `Conflict` if the id is taken.
    async fn create(&self, app: &App) -> Result<(), StoreError>;
    /// Replaces the app whose version is `app.version - 1`; `Conflict` if it changed meanwhile.
    async fn update(&self, app: &App) -> Result<(), StoreError>;
    /// Removes the app; `Missing` if there was none.
    async fn remove(&self, id: &AppId) -> Result<(), StoreError>;
}

/// Reads organisations (the sign-in path; usually cached).
/// Our signing key set (`domain::signing_keys`): read on the sign-in path, written by the
/// admin tool.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The key set; empty when no key was ever created.
    async fn key_set(&self) -> Result<Arc<KeySet>, StoreError>;
}

/// Writes the key set (the admin tool).
#[async_trait]
pub trait KeyAdmin: KeyStore {
    /// Replaces the key set whose version is `set.version - 1`; `Conflict` if it changed meanwhile.
    async fn save(&self, set: &KeySet) -> Result<(), StoreError>;
}

#[async_trait]
pub trait OrgDirectory: Send + Sync {
    async fn org(&self, id: &OrgId) -> Result<Option<Arc<Organisation>>, StoreError>;
    /// The organisation that owns `domain`.
    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<Arc<Organisation>>, StoreError>;
}

/// Organisations and the domains they own. Every write is all or nothing.
#[async_trait]
pub trait OrgStore: Send + Sync {
    /// Creates `org` (version 1) and claims its domains; `Taken(domain)` if another owns one,
    /// `Conflict` if the id exists.
    async fn create(&self, org: &Organisation) -> Result<(), StoreError>;
    async fn get(&self, id: &OrgId) -> Result<Option<Organisation>, StoreError>;
    async fn list(&self) -> Result<Vec<Organisation>, StoreError>;
    /// Replaces `current` by `next` (whose version is `current.version + 1`), claiming the domains
    /// `next` adds and releasing those it drops; `Conflict` if `current` changed meanwhile.
    async fn update(&self, current: &Organisation, next: &Organisation) -> Result<(), StoreError>;
    /// Removes the organisation, its domains and its SCIM tokens.
    async fn remove(&self, org: &Organisation) -> Result<(), StoreError>;
    /// The organisation that owns `domain`.
    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<OrgId>, StoreError>;
}

/// SCIM token records (digests only).
#[async_trait]
pub trait ScimTokenStore: Send + Sync {
    /// Stores `record`; `Limit` if its organisation already holds `scim_token::MAX_ACTIVE` tokens,
    /// `Missing` if the organisation does not exist.
    async fn add(&self, record: &TokenRecord) -> Result<(), StoreError>;
    async fn find(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;
    async fn list(&self, org: &OrgId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Removes one of `org`'s tokens; `Missing` if `org` has no token `id`.
    async fn revoke(&self, org: &OrgId, id: &str) -> Result<(), StoreError>;
}

/// Reads secret values by reference. `Ok(None)`: no such secret.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn secret(&self, id: &SecretRef) -> Result<Option<SecretString>, StoreError>;
}

/// A step Cognito asks for before it issues tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    NewPassword,
    SmsMfa,
    SoftwareTokenMfa,
    EmailOtp,
    SelectMfaType,
    /// Not Cognito's: the bridge's own step to set up an authenticator app (a high-risk sign-in
    /// to an app that requires a second factor, by a person who has none).
    TotpSetup,
    /// Not Cognito's: before that set-up, a code sent to the person's verified email, so that
    /// whoever holds only the password cannot enrol a factor of their own.
    VerifyEmail,
}

/// A challenge as the identity provider poses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub kind: ChallengeKind,
    /// The provider's opaque session for the answer.
    pub session: String,
    /// The provider's user name for this person.
    pub username: String,
    /// Where a code was sent, masked by the provider (`+*******1234`).
    pub destination: Option<String>,
    /// For `SelectMfaType`: the factors the person may choose from.
    pub options: Vec<ChallengeKind>,
}

/// The result of one authentication step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Signed in: the provider's ID token, still to be verified, and the access token (for the
    /// person's own settings: setting up an authenticator app).
    Authenticated {
        id_token: String,
        access_token: AccessToken,
    },
    Challenge(Challenge),
}

/// A Cognito access token; never shown in `Debug`.
#[derive(Debug, Clone)]
pub struct AccessToken(pub SecretString);

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        secrecy::ExposeSecret::expose_secret(&self.0) == secrecy::ExposeSecret::expose_secret(&other.0)
    }
}

impl Eq for AccessToken {}

/// The person's answer to a challenge.
#[derive(Debug)]
pub enum ChallengeAnswer {
    NewPassword(SecretString),
    Code(SecretString),
    Choose(ChallengeKind),
}

/// Why authentication did not go ahead, in terms the person can be told (or not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Wrong password, unknown user or disabled user: deliberately indistinguishable.
    #[error("incorrect email or password")]
    InvalidCredentials,
    #[error("the password must be reset before signing in")]
    PasswordResetRequired,
    #[error("the account is not confirmed")]
    NotConfirmed,
    #[error("the code is incorrect")]
    CodeMismatch,
    #[error("the code has expired")]
    CodeExpired,
    #[error("the sign-in step expired; start again")]
    ChallengeExpired,
    #[error("the new password does not meet the password policy")]
    PasswordPolicy,
    #[error("too many attempts")]
    TooManyAttempts,
    #[error("the provider asked for a step this bridge does not handle: {0}")]
    UnsupportedChallenge(String),
    #[error("the identity provider is throttling requests")]
    Throttled,
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the identity provider refused the bridge's configuration: {0}")]
    Misconfigured(String),
}

/// Email-and-password authentication (Cognito's `USER_PASSWORD_AUTH` and its challenges).
#[async_trait]
pub trait PasswordAuth: Send + Sync {
    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<AuthStep, AuthError>;
    async fn answer(&self, challenge: &Challenge, answer: ChallengeAnswer) -> Result<AuthStep, AuthError>;
    /// Sends a reset code if the account exists; says nothing either way.
    async fn forgot_password(&self, username: &str) -> Result<(), AuthError>;
    async fn confirm_forgot_password(&self, username: &str, code: &SecretString, new_password: &SecretString) -> Result<(), AuthError>;
    /// Starts setting up an authenticator app for the signed-in person: the shared secret
    /// (base32) to put in the app.
    async fn associate_totp(&self, access_token: &AccessToken) -> Result<SecretString, AuthError>;
    /// Checks a code from the new app and makes it the person's preferred second factor.
    async fn verify_totp(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError>;
    /// Sends a code to the signed-in person's (verified) email: the proof, before a factor is
    /// enrolled, that they control more than the password. Returns where it went, masked.
    async fn send_email_code(&self, access_token: &AccessToken) -> Result<Option<String>, AuthError>;
    /// Checks a code [`Self::send_email_code`] sent.
    async fn check_email_code(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError>;
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejected {
    #[error("the ID token is invalid: {0}")]
    Invalid(&'static str),
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

/// Verifies an ID token locally (signature by the issuer's published keys, issuer, audience,
/// use, expiry at `now`) and returns its claims.
#[async_trait]
pub trait IdTokenVerifier: Send + Sync {
    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, TokenRejected>;
}

/// Why the user directory (Cognito) did not apply a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory is throttling requests")]
    Throttled,
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
    /// The email belongs to a directory user that is not this SCIM user's to manage.
    #[error("the email {0} belongs to another directory user")]
    Claimed(String),
    #[error("the directory refused the change: {0}")]
    Refused(String),
    /// The directory user no longer exists (deleted outside the bridge).
    #[error("the directory user no longer exists")]
    Gone,
}

impl DirectoryError {
    /// Whether the same call may succeed later (`Throttled`, `Unavailable`). The others will be
    /// refused again until something changes: the user's attributes, or the directory itself.
    pub fn is_transient(&self) -> bool {
        matches!(self, DirectoryError::Throttled | DirectoryError::Unavailable(_))
    }
}

/// The user directory SCIM users are kept in step with. Every call is idempotent.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// Makes sure a user with these attributes and this enabled state exists (creating it with
    /// a verified email and no invitation, or adopting the one with this email if it belongs to
    /// the same organisation or to none); returns the directory's user name for it.
    async fn create(&self, user: &DirectoryUser) -> Result<String, DirectoryError>;
    /// Sets the user's attributes (email, names, organisation, SCIM id) in place; `before` is
    /// what was last applied, so unchanged attributes (the email above all) need not be sent.
    async fn update(&self, username: &str, before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError>;
    /// Enables, or disables and signs out everywhere.
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError>;
    /// Deletes the user; a user already gone is fine.
    async fn delete(&self, username: &str) -> Result<(), DirectoryError>;
}

/// One stored SCIM resource with its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimEntry {
    pub record: Record,
    /// The directory user, for users.
    pub link: Link,
    /// A directory sync for this version is outstanding.
    pub pending: bool,
    /// Why the last sync attempt failed; without `pending`, why the directory refused this
    /// version for good (the user is not provisioned until it changes).
    pub sync_error: Option<String>,
    /// A deleted user kept for its directory user (`deactivate` policy) or until the directory
    /// user is deleted (`purge`). Invisible to SCIM clients.
    pub deleted: Option<Deletion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deletion {
    Deactivate,
    Purge,
}

/// SCIM users and groups of one organisation each; every key starts with the organisation, so
/// one organisation never reads another's. Writes are atomic per resource.
#[async_trait]
pub trait ScimStore: Send + Sync {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError>;
    /// The resources a key lookup finds (one query, no scan).
    async fn lookup(&self, org: &OrgId, kind: Kind, key: &Lookup) -> Result<Vec<ScimEntry>, StoreError>;
    /// `count` resources from the 1-based `start` in a stable order, and how many there are.
    async fn page(&self, org: &OrgId, kind: Kind, start: usize, count: usize) -> Result<(Vec<ScimEntry>, usize), StoreError>;
    /// Every resource of `kind`; `Limit` if there are more than `limit`.
    async fn all(&self, org: &OrgId, kind: Kind, limit: usize) -> Result<Vec<ScimEntry>, StoreError>;
    /// Stores a new resource (version 1), a user with a pending sync, a group with `members`.
    /// `Taken(attribute)` if its `userName`/`displayName` (any case) or `externalId` is in use;
    /// `Missing(id)` if a member is not a user. `event`, if any, is recorded in the same
    /// transaction as the resource (here and in `replace` and `delete`).
    async fn create(&self, org: &OrgId, record: &Record, members: &[Value], event: Option<&IdentityEvent>) -> Result<(), StoreError>;
    /// Replaces `current` with `next` (version `current + 1`), a user with a pending sync.
    /// `Conflict` if `current` changed meanwhile, `Taken` as for `create`.
    async fn replace(&self, org: &OrgId, current: &ScimEntry, next: &Record, event: Option<&IdentityEvent>) -> Result<(), StoreError>;
    /// Deletes a resource, its unique names and memberships. A user becomes a hidden
    /// tombstone with a pending sync, removed once the directory is in step if `Purge`.
    async fn delete(&self, org: &OrgId, current: &ScimEntry, how: Deletion, event: Option<&IdentityEvent>) -> Result<(), StoreError>;
    /// Records that `version` of user `id` is in the directory as `link`. `Ok(false)`: a newer
    /// version is pending (its writer syncs it).
    async fn synced(&self, org: &OrgId, entry: &ScimEntry, link: &Link) -> Result<bool, StoreError>;
    async fn sync_failed(&self, org: &OrgId, entry: &ScimEntry, error: &str) -> Result<(), StoreError>;
    /// Records that the directory refused `version` of user `id` for good: no longer pending,
    /// `error` kept as the reason. A store that cannot tell keeps it pending.
    async fn sync_refused(&self, org: &OrgId, entry: &ScimEntry, error: &str) -> Result<(), StoreError> {
        self.sync_failed(org, entry, error).await
    }
    /// Users (and tombstones) whose sync is outstanding (`pending`), and those the directory
    /// refused (not `pending`, with the reason in `sync_error`).
    async fn pending(&self, org: &OrgId) -> Result<Vec<ScimEntry>, StoreError>;
    /// A group's members as member objects (`value`, `display`, `type`).
    async fn members(&self, org: &OrgId, group: &str) -> Result<Vec<Value>, StoreError>;
    /// The ids of the groups `user` belongs to.
    async fn groups_of(&self, org: &OrgId, user: &str) -> Result<Vec<String>, StoreError>;
    /// Applies member changes to a group whose record `next` replaces `current` (version + 1).
    /// Cost grows with the number of changed members, never with the group's size (except a
    /// `Replace`/`RemoveAll`, which reads the members it drops). `Missing(id)`: no user `id`.
    async fn update_group(&self, org: &OrgId, current: &ScimEntry, next: &Record, changes: &[MemberChange]) -> Result<(), StoreError>;
}

/// Bridge sessions, keyed by the digest of the cookie's value.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates the session and records `events` (the sign-in, and a high-risk one) and the
    /// person's risk profile after it, all or nothing.
    async fn create(&self, key: &str, session: &Session, events: &[IdentityEvent], risk: &RiskProfile) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Session>, StoreError>;
    /// Records use at `now` (the idle timeout starts again).
    async fn touch(&self, key: &str, now: u64) -> Result<(), StoreError>;
    /// Redeems the handoff of a session opened with one (`Session::handoff`), once: `true` the
    /// first time, `false` for a session without one, already redeemed, or gone.
    async fn redeem(&self, key: &str) -> Result<bool, StoreError>;
    /// Ends the session and returns it; `None` if there was none.
    async fn end(&self, key: &str) -> Result<Option<Session>, StoreError>;
    /// Ends every session of the Cognito user `username`; returns how many there were.
    async fn end_all(&self, username: &str) -> Result<usize, StoreError>;
}

/// Corporate sign-ins between the redirect to the provider and its callback, keyed by the
/// digest of `state`. Each is taken at most once.
#[async_trait]
pub trait PendingLogins: Send + Sync {
    async fn put(&self, key: &str, login: &PendingLogin) -> Result<(), StoreError>;
    /// Removes and returns the sign-in (atomically: a second take of one key finds nothing).
    async fn take(&self, key: &str) -> Result<Option<PendingLogin>, StoreError>;
}

/// Which Cognito user a provider's subject is, per organisation.
#[async_trait]
pub trait IdentityLinks: Send + Sync {
    async fn find(&self, org: &OrgId, issuer: &str, subject: &str) -> Result<Option<String>, StoreError>;
    async fn save(&self, org: &OrgId, issuer: &str, subject: &str, username: &str) -> Result<(), StoreError>;
}

/// A Cognito user as the sign-in path needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolUser {
    pub username: String,
    pub enabled: bool,
    /// Attributes by name (`sub`, `email`, `custom:org_id`...).
    pub attributes: Map<String, Value>,
    pub groups: Vec<String>,
}

/// The user pool, read and signed out by user name.
#[async_trait]
pub trait PoolUsers: Send + Sync {
    async fn user(&self, username: &str) -> Result<Option<PoolUser>, DirectoryError>;
    /// The pool user with this email, if any.
    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError>;
    /// Sets the user's organisation (a person adopted by corporate sign-in).
    async fn set_org(&self, username: &str, org: &OrgId) -> Result<(), DirectoryError>;
    /// Revokes every refresh token of the user.
    async fn sign_out(&self, username: &str) -> Result<(), DirectoryError>;
    /// Adds the user to a group of the pool (which must exist); a member already is done.
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
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
}

/// The token request's values.
pub struct CodeExchange<'a> {
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a SecretString>,
}

/// Identity events recorded where no other change causes them (a failed sign-in). Recording
/// an event twice (same id) is one event.
#[async_trait]
pub trait EventLog: Send + Sync {
    async fn record(&self, event: &IdentityEvent) -> Result<(), StoreError>;
}

/// People's last sign-ins (for the inactive-user schedule).
#[async_trait]
pub trait SignInActivity: Send + Sync {
    async fn signed_in(&self, person: &LastSignIn) -> Result<(), StoreError>;
}

/// What risk assessment reads and counts (`domain::risk`).
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// The person's risk profile and the failed attempts for `email` in the last two windows.
    async fn history(&self, username: &str, email: Option<&str>, now: u64) -> Result<(RiskProfile, u64), StoreError>;
    /// Counts a failed password attempt for `email`.
    async fn failed(&self, email: &str, now: u64) -> Result<(), StoreError>;
}

/// The operator's telephony hooks: the active one and the hook it falls back to, if any.
#[async_trait]
pub trait HookDirectory: Send + Sync {
    async fn active(&self) -> Result<Option<(Hook, Option<Hook>)>, StoreError>;
}

/// Why a hook call got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    #[error("the hook did not answer in time")]
    Timeout,
    #[error("the hook could not be reached: {0}")]
    Unreachable(String),
    #[error("the hook's authentication could not be prepared: {0}")]
    Auth(String),
}

/// One HTTP call of a hook (POST JSON, its own timeout, redirects not followed): the status
/// and the body (JSON, or a JSON string of the text).
#[async_trait]
pub trait HookCaller: Send + Sync {
    async fn call(&self, hook: &Hook, request: &Value, timeout: std::time::Duration) -> Result<(u16, Value), CallFailure>;
}

/// Which Cognito sender events were handled, so a retried event sends nothing twice.
#[async_trait]
pub trait SendLedger: Send + Sync {
    /// `true` if `key` was not claimed before (now it is).
    async fn claim(&self, key: &str, now: u64) -> Result<bool, StoreError>;
    /// Gives a claim back (nothing was delivered: Cognito's retry may try again).
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}

/// Each hook execution: its day's counters (executions, successes, the successes' total
/// duration) and its events, written together.
#[async_trait]
pub trait HookLog: Send + Sync {
    async fn executed(&self, execution: &Execution) -> Result<(), StoreError>;
}

/// Opens the encrypted code of a sender event (the KMS keyring).
#[async_trait]
pub trait CodeOpener: Send + Sync {
    async fn open(&self, message: &[u8]) -> Result<SecretString, String>;
}

/// Linking a federated identity to an existing account of the user pool.
#[async_trait]
pub trait AccountLinker: Send + Sync {
    /// The pool's own (not federated) user whose email is `email` and verified, if there is one.
    async fn verified_user_with_email(&self, email: &str) -> Result<Option<String>, DirectoryError>;
    /// Makes `provider`'s `subject` sign in as `username`; a link that exists already is done.
    async fn link(&self, username: &str, provider: &str, subject: &str) -> Result<(), DirectoryError>;
}

/// Calls a workflow step's connector (`domain::workflow`). Never fails: every problem is an
/// outcome (retry or final).
#[async_trait]
pub trait Connectors: Send + Sync {
    async fn call(&self, action: &Action) -> StepOutcome;
}

/// Workflow run records.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run; `false` if a run with this id exists already (a duplicate delivery).
    async fn begin(&self, run: &RunRecord) -> Result<bool, StoreError>;
    /// Records a run's end (or its state after a replay).
    async fn finish(&self, run: &RunRecord) -> Result<(), StoreError>;
}

/// Where failed runs go for an operator to see and replay.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn send(&self, run: &RunRecord) -> Result<(), StoreError>;
}

/// Waiting between retries (a no-op recorder in tests).
#[async_trait]
pub trait Pause: Send + Sync {
    async fn pause(&self, seconds: u64);
}
