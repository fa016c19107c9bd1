//! What the operators' rules need from the outside world, implemented over DynamoDB, Secrets
//! Manager and Cognito in `adapters` (and in memory in `testing`).

use async_trait::async_trait;
use secrecy::SecretString;

use super::audit::{AuditPage, AuditQuery, AuditRecord};
use crate::common::language::Language;
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;
use crate::directory::org::{OrgId, Organisation};
use crate::directory::ports::{DirectoryError, PoolUser};
use crate::directory::provider::ProviderMetadata;
use crate::directory::scim_token::TokenRecord;
use crate::events::IdentityEvent;
use crate::messages::email::EmailKind;
use crate::messages::ports::{EmailTemplates, StoredTemplate};
use crate::signin::session::Session;
use crate::telephony::hook::Hook;
use crate::telephony::ports::DayCount;
use crate::tokens::app::{App, AppId};
use crate::tokens::signing_keys::KeySet;
use crate::workflows::connection::Connection;
use crate::workflows::flow::Flow;
use crate::workflows::inactivity::LastSignIn;
use crate::workflows::runner::RunRecord;

/// Apps, each change written with its audit record in one transaction. Writes are guarded by
/// the version: `Conflict` when the stored one is not the one the change was made from.
#[async_trait]
pub trait AuditedApps: Send + Sync {
    async fn get(&self, id: &AppId) -> Result<Option<App>, StoreError>;
    /// Every app, in id order (one `gsi1` partition); one that cannot be read fails the list.
    async fn list(&self) -> Result<Vec<App>, StoreError>;
    /// Creates `app` as version 1; `Conflict` if the id is taken.
    async fn create(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Writes `app` (its `version` already the next one) over version `app.version - 1`.
    async fn update(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Removes `app` if it is still at `app.version`.
    async fn remove(&self, app: &App, audit: &AuditRecord) -> Result<(), StoreError>;
}

/// Organisations and their SCIM tokens, each change written with its audit record in one
/// transaction. Organisation writes are guarded by the version (`Conflict`); a domain another
/// organisation owns is `Taken`; a token beyond the limit is `Limit`.
#[async_trait]
pub trait AuditedOrgs: Send + Sync {
    async fn get(&self, id: &OrgId) -> Result<Option<Organisation>, StoreError>;
    /// Every organisation, in id order (one `gsi1` partition).
    async fn list(&self) -> Result<Vec<Organisation>, StoreError>;
    async fn create(&self, org: &Organisation, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Writes `next` over `current` (which must still be stored), moving domain guards with it.
    async fn update(&self, current: &Organisation, next: &Organisation, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Removes `org`, its domain guards and its tokens, if it is still at `org.version`.
    async fn remove(&self, org: &Organisation, audit: &AuditRecord) -> Result<(), StoreError>;
    async fn tokens(&self, org: &OrgId) -> Result<Vec<TokenRecord>, StoreError>;
    async fn add_token(&self, record: &TokenRecord, audit: &AuditRecord) -> Result<(), StoreError>;
    /// `Missing` if the organisation holds no such token.
    async fn revoke_token(&self, org: &OrgId, id: &str, audit: &AuditRecord) -> Result<(), StoreError>;
}

/// The telephony hooks, each change written in one transaction with its lifecycle event (which
/// the caller builds from the audit record) and the audit record's items.
#[async_trait]
pub trait AuditedHooks: Send + Sync {
    /// The hook as stored now (a consistent read).
    async fn hook(&self, name: &str) -> Result<Option<Hook>, StoreError>;
    /// Every hook and the active one's name.
    async fn all(&self) -> Result<(Vec<Hook>, Option<String>), StoreError>;
    /// The hook's counters for the days `from..=to` (days since the epoch), oldest first.
    async fn counts(&self, name: &str, from: u64, to: u64) -> Result<Vec<DayCount>, StoreError>;
    /// Stores `hook` at `hook.version` (1: new); `Conflict` when the stored version is not the
    /// one before, `Missing` when its fallback is not stored.
    async fn save(&self, hook: &Hook, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError>;
    /// `Missing` if there is no such hook.
    async fn activate(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError>;
    /// `Conflict` unless `name` is the active hook.
    async fn deactivate(&self, name: &str, event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Removes `hook` while it and each of `others` are still at the versions read (`Conflict`
    /// otherwise: one changed, perhaps to fall back to it, or it is gone); `Taken` while it is the
    /// active hook.
    async fn remove(&self, hook: &Hook, others: &[Hook], event: &IdentityEvent, audit: &AuditRecord) -> Result<(), StoreError>;
}

/// Flows, connections and runs. Flow and connection changes are written with their audit record
/// in one transaction, guarded by the version (`Conflict`).
#[async_trait]
pub trait AuditedWorkflows: Send + Sync {
    /// Every flow, in id order.
    async fn flows(&self) -> Result<Vec<Flow>, StoreError>;
    /// The flow as stored now (a consistent read).
    async fn flow(&self, id: &str) -> Result<Option<Flow>, StoreError>;
    /// Writes `flow` at `flow.version` (1: new) over the version before.
    async fn save_flow(&self, flow: &Flow, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Every connection, in name order.
    async fn connections(&self) -> Result<Vec<Connection>, StoreError>;
    /// The connection as stored now (a consistent read).
    async fn connection(&self, name: &str) -> Result<Option<Connection>, StoreError>;
    /// Writes `connection` at `connection.version` (1: new) over the version before.
    async fn save_connection(&self, connection: &Connection, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Up to `size` of flow `flow`'s runs, newest first, after `cursor`.
    async fn runs(&self, flow: &str, cursor: Option<&str>, size: usize) -> Result<RunPage, StoreError>;
    /// Up to `size` failed runs, newest first, after `cursor`.
    async fn failed_runs(&self, cursor: Option<&str>, size: usize) -> Result<RunPage, StoreError>;
    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError>;
    /// The identity event a run was for, while it is kept (7 days).
    async fn event(&self, id: &str) -> Result<Option<IdentityEvent>, StoreError>;
    /// Marks failed run `run` as being replayed; `false` if it is not failed any more, or another
    /// replay claimed it less than `REPLAY_CLAIM_SECONDS` ago.
    async fn claim_replay(&self, run: &RunRecord, now: u64) -> Result<bool, StoreError>;
    /// Up to `limit` people whose last sign-in is more than `days` days before `now`.
    async fn inactive_now(&self, days: u32, now: u64, limit: usize) -> Result<Vec<LastSignIn>, StoreError>;
}

/// Runs, newest first, and the cursor of the next page (none: the last page).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Runs a failed run again with the deployed connectors (HTTP and Cognito).
#[async_trait]
pub trait Replayer: Send + Sync {
    /// Runs `run`'s steps that had not succeeded, as `flow` says now, for `event`; records and
    /// returns the run as it ends.
    async fn replay(&self, flow: &Flow, event: &IdentityEvent, run: RunRecord, now: u64) -> Result<RunRecord, StoreError>;
}

/// Our signing key set, written with its audit record in one transaction over the version it
/// was read at (`Conflict` otherwise).
#[async_trait]
pub trait AuditedKeys: Send + Sync {
    /// The key set as stored now (not a cached copy).
    async fn key_set(&self) -> Result<KeySet, StoreError>;
    /// Writes `set` (its `version` already the next one).
    async fn save(&self, set: &KeySet, audit: &AuditRecord) -> Result<(), StoreError>;
}

/// The audit trail: records written alone (changes made outside DynamoDB) and read back.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Writes `record` and its identity event (`person`: whom the change is about).
    async fn record(&self, record: &AuditRecord, person: Option<crate::events::EventUser>) -> Result<(), StoreError>;
    /// A page of records, newest first (the query is checked already).
    async fn page(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;
}

/// The consent documents, each new version written with its audit record.
#[async_trait]
pub trait AuditedConsents: crate::consent::ports::ConsentStore {
    /// Publishes `doc` with `audit`, in one transaction; `Conflict` when that version of that
    /// document exists.
    async fn publish(&self, doc: &crate::consent::document::ConsentDocument, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Up to `limit` of everyone's records about `version` of `document`, oldest first, from
    /// just after `after` (the start when `None`), with where the next page starts.
    async fn version_page(
        &self,
        document: &crate::consent::document::DocumentId,
        version: u32,
        after: Option<&RecordCursor>,
        limit: usize,
    ) -> Result<RecordPage, StoreError>;
}

/// A page of one version's records, oldest first; `next_cursor` (a [`RecordCursor`] as text)
/// when there may be more.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordPage {
    pub records: Vec<crate::consent::ports::ConsentRecord>,
    pub next_cursor: Option<String>,
}

/// Where a page of a version's records starts: just after the record `id` (its UUIDv7) that
/// `username` made at `at` (seconds since the epoch). As text `{at:020}_{id}_{username}`, so a
/// cursor names nothing but a record's place in its version's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCursor {
    pub at: u64,
    pub id: uuid::Uuid,
    pub username: String,
}

impl RecordCursor {
    /// The cursor `text` says, if it is one: 20 digits, `_`, a UUID (hyphenated, lower case),
    /// `_`, a user name of 1 to 128 characters without spaces or control characters.
    pub fn parse(text: &str) -> Option<Self> {
        let (at, rest) = text.split_once('_')?;
        let (id, username) = rest.split_once('_')?;
        let id = uuid::Uuid::try_parse(id).ok().filter(|parsed| parsed.hyphenated().to_string() == id)?;
        if at.len() != 20 || !at.bytes().all(|b| b.is_ascii_digit()) || !crate::directory::ports::is_cognito_name(username) {
            return None;
        }
        Some(Self { at: at.parse().ok()?, id, username: username.to_owned() })
    }
}

impl std::fmt::Display for RecordCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:020}_{}_{}", self.at, self.id.hyphenated(), self.username)
    }
}

/// The operator's email templates, each change written with its audit record.
#[async_trait]
pub trait AuditedEmailTemplates: EmailTemplates {
    /// Writes `template` if the stored one is at `template.version - 1` (0: none stored);
    /// `Conflict` otherwise.
    async fn save(&self, template: &StoredTemplate, audit: &AuditRecord) -> Result<(), StoreError>;
    /// Removes the stored template if it is at `version`; `Conflict` otherwise.
    async fn remove(&self, kind: EmailKind, language: Language, version: u64, audit: &AuditRecord) -> Result<(), StoreError>;
}

/// Secrets an operator sets and never reads back (apps', hooks', organisations' and workflow
/// connections' secrets, the signing keys' private halves). A secret is written once and never
/// changed: a new value is a new secret ([`super::secret_change`]).
#[async_trait]
pub trait SecretVault: Send + Sync {
    /// Creates the secret `name`; `Conflict` if it exists.
    async fn create(&self, name: &str, description: &str, value: &SecretString) -> Result<SecretRef, StoreError>;
    /// Schedules the secret for deletion (recoverable for 7 days).
    async fn delete(&self, secret: &SecretRef) -> Result<(), StoreError>;
    /// Deletes a secret that was never in use at once (a create rolled back), so its name is free.
    async fn discard(&self, secret: &SecretRef) -> Result<(), StoreError>;
}

/// A company's OpenID provider read when an operator connects it (OpenID Connect Discovery 1.0).
#[async_trait]
pub trait ProviderDiscovery: Send + Sync {
    /// The document at `{issuer}/.well-known/openid-configuration`, read now (never cached)
    /// and checked to name `issuer` with https endpoints; why not, in an operator's words.
    async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, String>;
}

/// The user pool as operators manage it, by Cognito user name.
#[async_trait]
pub trait PeopleDirectory: Send + Sync {
    /// The user name of the pool user with this email, if any.
    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError>;
    /// The user, with attributes and groups.
    async fn user(&self, username: &str) -> Result<Option<PoolUser>, DirectoryError>;
    /// Enables or disables the account; disabling also revokes every refresh token.
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError>;
    /// Revokes every refresh token of the user.
    async fn sign_out(&self, username: &str) -> Result<(), DirectoryError>;
    /// Turns the user's second factors off (`AdminSetUserMFAPreference`: SMS codes and the
    /// authenticator app, the pool's `EnabledMfas`): in a pool whose MFA is optional Cognito
    /// asks for none at their next sign-in. Their passkeys stay (Cognito has no admin call for
    /// them), as does their phone number; the authenticator app's secret is switched off, not
    /// removed, until a new app replaces it.
    async fn reset_factors(&self, username: &str) -> Result<(), DirectoryError>;
    /// `AdminResetUserPassword`: Cognito stops taking the user's password (a sign-in with it is
    /// `PasswordResetRequiredException`) and mails a reset code to their verified email, which
    /// `ConfirmForgotPassword` takes with a new password. An account whose state allows no
    /// reset (not confirmed, disabled, no verified email) is [`DirectoryError::Refused`].
    async fn require_password_reset(&self, username: &str) -> Result<(), DirectoryError>;
    /// Adds the user to `group` (which the stack created).
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
    /// Takes the user out of `group` (not a member: done).
    async fn remove_from_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
    /// `AdminCreateUser` of `invitation`'s person (email verified, enabled): Cognito makes a
    /// temporary password and mails the invitation (`CustomMessage_AdminCreateUser`, in
    /// `language`); the first sign-in with it asks for a new password. The new user as
    /// `AdminCreateUser` answers it (no groups, no factors), or `None` when the email is another
    /// user's already.
    async fn invite(&self, invitation: &Invitation) -> Result<Option<PoolUser>, DirectoryError>;
    /// `AdminCreateUser` with `MessageAction: RESEND`: a new temporary password mailed to an
    /// invitation not taken up (another state is [`DirectoryError::Refused`]).
    async fn resend_invitation(&self, username: &str) -> Result<(), DirectoryError>;
}

/// A person an admin invites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub email: crate::common::email::Email,
    /// `name`, if given.
    pub name: Option<String>,
    /// `locale`: the invitation's language and the person's.
    pub language: crate::common::language::Language,
}

/// A person's bridge sessions.
#[async_trait]
pub trait PersonSessions: Send + Sync {
    /// The person's sessions, live or not yet removed by the table's TTL, each with its key (the
    /// digest of its cookie: it opens nothing).
    async fn of(&self, username: &str) -> Result<Vec<(String, Session)>, StoreError>;
    /// Ends the session `key` names if it is `username`'s (`SessionStore::end_of`); the
    /// session, if there was one of theirs.
    async fn end_of(&self, username: &str, key: &str) -> Result<Option<Session>, StoreError>;
    /// Ends them all and writes the person's sign-out mark at `now` (their console tokens and
    /// OpenID Connect refresh tokens from before end)
    /// (`SessionStore::end_all`); returns how many sessions there were.
    async fn end_all(&self, username: &str, now: u64) -> Result<usize, StoreError>;
    /// The person's account was disabled or deleted at `now`: ends them all and revokes the
    /// console and OpenID Connect refresh tokens (the sign-out mark), and no session opens for
    /// the account for a while after
    /// (`SessionStore::revoke`).
    async fn revoke(&self, username: &str, now: u64) -> Result<usize, StoreError>;
    /// The person's account is enabled again, an enabling begun at `since`: sessions open for it
    /// at once (`SessionStore::reinstate`).
    async fn reinstate(&self, username: &str, since: u64) -> Result<(), StoreError>;
    /// The person's credentials changed now: every sign-in Cognito authenticated until then
    /// (a step paused, or under way) opens nothing (`SessionStore::settle`).
    async fn credentials_changed(&self, username: &str) -> Result<(), StoreError>;
    /// When the person last signed in (seconds since the epoch), if ever.
    async fn last_sign_in(&self, username: &str) -> Result<Option<u64>, StoreError>;
    /// Writes the person's sign-out mark at `at` (seconds since the epoch): they signed out of
    /// the console. Their console tokens issued before then, and OpenID Connect clients' refresh
    /// tokens from sign-ins before then, are refused (`SessionStore::mark_signed_out`).
    async fn mark_signed_out(&self, username: &str, at: u64) -> Result<(), StoreError>;
    /// When the person last signed out (their sign-out mark; seconds since the epoch), if they
    /// have within the longest a token lives: console tokens issued before it are revoked.
    async fn signed_out_at(&self, username: &str) -> Result<Option<u64>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::RecordCursor;

    #[test]
    fn a_record_cursor_reads_back_what_it_wrote_and_nothing_else() {
        let cursor = RecordCursor { at: 1_700_000_000, id: uuid::Uuid::now_v7(), username: "acme_Jo_Smith".into() };
        assert_eq!(RecordCursor::parse(&cursor.to_string()), Some(cursor.clone()));
        let text = cursor.to_string();
        for bad in [
            "",
            "x",
            &text.replacen('0', "a", 1),
            &text[1..],
            &format!("{}_{}_", "0".repeat(20), cursor.id),
            &format!("{}_{}_a b", "0".repeat(20), cursor.id),
            &format!("{}_{}_a\nb", "0".repeat(20), cursor.id),
            &format!("{}_not-a-uuid_jo", "0".repeat(20)),
            &format!("{}_{}_{}", "0".repeat(20), cursor.id, "x".repeat(129)),
            &format!("{}_{}_jo", "9".repeat(20), cursor.id),
            &format!("{}_{}_jo", "0".repeat(20), cursor.id.simple()),
            &format!("{}_{}_jo", "0".repeat(20), cursor.id.braced()),
            &format!("{}_{}_jo", "0".repeat(20), cursor.id.hyphenated().to_string().to_uppercase()),
        ] {
            assert_eq!(RecordCursor::parse(bad), None, "{bad}");
        }
    }
}
