//! What the directory needs from the outside world: organisations, SCIM tokens and resources,
//! the user pool, and identity links. Adapters implement these over DynamoDB and Cognito.

use crate::common::store::StoreError;
use crate::directory::org::{EmailDomain, OrgId, Organisation};
use crate::directory::scim::directory_user::{DirectoryUser, Link};
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::patch::MemberChange;
use crate::directory::scim::resource::{Kind, Record};
use crate::events::IdentityEvent;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;

#[async_trait]
pub trait OrgDirectory: Send + Sync {
    async fn org(&self, id: &OrgId) -> Result<Option<Arc<Organisation>>, StoreError>;
    /// The organisation that owns `domain`.
    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<Arc<Organisation>>, StoreError>;
    /// Keeps `sealed` (its connection's client secret, sealed) with organisation `org`, or with
    /// `None` drops the one kept, while the organisation is still at `version`; nothing if it has
    /// changed since.
    async fn set_sealed_secret(&self, org: &OrgId, version: u64, sealed: Option<&str>) -> Result<(), StoreError>;
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
    /// See [`OrgDirectory::set_sealed_secret`].
    async fn set_sealed_secret(&self, org: &OrgId, version: u64, sealed: Option<&str>) -> Result<(), StoreError>;
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
    /// [`create`](Self::create), also saying whether the user was there already (adopted by its
    /// email, `true`) rather than made: an adopted user may have sessions. By default, made.
    async fn create_or_adopt(&self, user: &DirectoryUser) -> Result<(String, bool), DirectoryError> {
        Ok((self.create(user).await?, false))
    }
    /// Sets the user's attributes (email, names, organisation, SCIM id) in place; `before` is
    /// what was last applied, so unchanged attributes (the email above all) need not be sent.
    async fn update(&self, username: &str, before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError>;
    /// Enables, or disables and signs out everywhere.
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError>;
    /// Deletes the user; a user already gone is fine.
    async fn delete(&self, username: &str) -> Result<(), DirectoryError>;
    /// The SCIM id the user carries now (`custom:scim_id`): `None` when it carries none, is gone,
    /// or the directory cannot say (by default).
    async fn scim_id(&self, _username: &str) -> Result<Option<String>, DirectoryError> {
        Ok(None)
    }
}

/// The one directory write corporate sign-in makes (a person's first sign-in creates their
/// user), as a port of its own: the login function then carries none of the directory's
/// updates, disables and deletes.
#[async_trait]
pub trait UserProvisioning: Send + Sync {
    /// Makes a user with these attributes, enabled, and returns its user name. When the email is
    /// another user's already (a lookup by email that missed it: another case, a race), that
    /// user's name, the user left as it is: unlike [`UserDirectory::create`], never adopted nor
    /// enabled (signing in never re-enables anyone; the sign-in's own checks then meet its state).
    async fn create(&self, user: &DirectoryUser) -> Result<String, DirectoryError>;
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

/// The two reads corporate sign-in makes of the SCIM store (a user by id, users by a key), as a
/// port of its own: the login function then carries none of the store's writes and listings.
/// Every [`ScimStore`] is one.
#[async_trait]
pub trait ScimReads: Send + Sync {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError>;
    async fn lookup(&self, org: &OrgId, kind: Kind, key: &Lookup, limit: usize) -> Result<Vec<ScimEntry>, StoreError>;
}

#[async_trait]
impl<T: ScimStore> ScimReads for T {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError> {
        ScimStore::get(self, org, kind, id).await
    }
    async fn lookup(&self, org: &OrgId, kind: Kind, key: &Lookup, limit: usize) -> Result<Vec<ScimEntry>, StoreError> {
        ScimStore::lookup(self, org, kind, key, limit).await
    }
}

/// SCIM users and groups of one organisation each; every key starts with the organisation, so
/// one organisation never reads another's. Writes are atomic per resource.
#[async_trait]
pub trait ScimStore: Send + Sync {
    async fn get(&self, org: &OrgId, kind: Kind, id: &str) -> Result<Option<ScimEntry>, StoreError>;
    /// The resources a key lookup finds (one query, no scan); `Limit` if more than `limit`
    /// (emails are not unique: many users may share one), before they are read.
    async fn lookup(&self, org: &OrgId, kind: Kind, key: &Lookup, limit: usize) -> Result<Vec<ScimEntry>, StoreError>;
    /// `count` resources from the 1-based `start` in a stable order, and how many there are.
    async fn page(&self, org: &OrgId, kind: Kind, start: usize, count: usize, now: u64) -> Result<(Vec<ScimEntry>, usize), StoreError>;
    /// Every resource of `kind`; `Limit` if there are more than `limit`, or more than
    /// [`crate::directory::scim::resource::MAX_EVALUATED_BYTES`] of them.
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

/// Which Cognito user a provider's subject is, per organisation.
#[async_trait]
pub trait IdentityLinks: Send + Sync {
    async fn find(&self, org: &OrgId, issuer: &str, subject: &str) -> Result<Option<String>, StoreError>;
    async fn save(&self, org: &OrgId, issuer: &str, subject: &str, username: &str) -> Result<(), StoreError>;
}

/// Cognito groups named with this prefix are the bridge's own (the console's roles,
/// `admin::role`): an admin gives them, a workflow never does.
pub const RESERVED_GROUP_PREFIX: &str = "bridge-";

/// Whether `name` can be a Cognito user name (or the email alias given in its place) or group
/// name, which Cognito bounds alike: 1 to 128 characters, no whitespace or control character.
pub fn is_cognito_name(name: &str) -> bool {
    (1..=128).contains(&name.chars().count()) && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `groups` hold a console role (a group with [`RESERVED_GROUP_PREFIX`]): an operator's
/// own account, which neither a company's directory nor its provider may take over.
pub fn holds_console_role(groups: &[String]) -> bool {
    groups.iter().any(|g| is_console_group(g))
}

/// Whether `group` is one of the bridge's own groups (a console role, [`RESERVED_GROUP_PREFIX`]).
pub fn is_console_group(group: &str) -> bool {
    group.starts_with(RESERVED_GROUP_PREFIX)
}

/// A Cognito user as the sign-in path needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolUser {
    pub username: String,
    pub enabled: bool,
    /// Attributes by name (`sub`, `email`, `custom:org_id`...).
    pub attributes: Map<String, Value>,
    pub groups: Vec<String>,
    /// The second factors set up (Cognito's `UserMFASettingList`: `SMS_MFA`,
    /// `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`).
    pub factors: Vec<String>,
    /// Cognito's `UserStatus` (`CONFIRMED`, `RESET_REQUIRED`, `FORCE_CHANGE_PASSWORD`,
    /// `UNCONFIRMED`, `EXTERNAL_PROVIDER`), where it was read.
    pub status: Option<String>,
}

/// The user pool, read (by user name or email) and signed out by user name.
#[async_trait]
pub trait PoolUsers: Send + Sync {
    /// The user `name` names: the Cognito user name, or a name Cognito takes in its place (the
    /// email, the pool's username attribute); [`PoolUser::username`] is always the user name.
    /// Its attributes and its groups are read side by side, each by the name given, so by an
    /// email the answer could carry one user's attributes and another's groups if that email
    /// moved from one user to the other between the two reads.
    async fn user(&self, name: &str) -> Result<Option<PoolUser>, DirectoryError>;
    /// [`Self::user`], its groups surely its own: read again by the user name when `name` was
    /// another name (an email), so that what decides authority (a console role) is never
    /// another user's. One more read then; none by a user name.
    async fn user_exactly(&self, name: &str) -> Result<Option<PoolUser>, DirectoryError> {
        match self.user(name).await? {
            Some(user) if user.username != name => self.user(&user.username).await,
            found => Ok(found),
        }
    }
    /// The user name of the user `name` stands for: a user name, or an email Cognito takes in its
    /// place (the pool's username attribute); `None` when there is no such user.
    async fn username_of(&self, name: &str) -> Result<Option<String>, DirectoryError>;
    /// The user name of the user `name` stands for (as [`Self::username_of`]) while it is not
    /// confirmed (Cognito's `UNCONFIRMED`: a sign-up whose code was not entered); `None` for a
    /// confirmed user or none.
    async fn unconfirmed(&self, name: &str) -> Result<Option<String>, DirectoryError>;
    /// The user name of the pool's own (not federated) account with this email (any case), if
    /// any: where the bridge signs a person in, resets a password or provisions by email, a
    /// federated account a provider made with the address never stands for them.
    async fn own_account_with_email(&self, email: &str) -> Result<Option<String>, DirectoryError>;
    /// The user name of the pool's own account with this email (any case), else of a federated
    /// account with exactly this email, if any: where a person has their own account, a
    /// federated one a provider made with their address never stands for them.
    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError>;
    /// Sets the user's organisation (a person adopted by corporate sign-in).
    async fn set_org(&self, username: &str, org: &OrgId) -> Result<(), DirectoryError>;
    /// Revokes every refresh token of the user.
    async fn sign_out(&self, username: &str) -> Result<(), DirectoryError>;
    /// Adds the user to a group of the pool (which must exist); a member already is done.
    async fn add_to_group(&self, username: &str, group: &str) -> Result<(), DirectoryError>;
    /// Makes a just-confirmed account its confirmer's: `password` (permanent) and `attributes`
    /// (`name`, `locale`), whoever made the account first.
    async fn claim(&self, username: &str, password: &secrecy::SecretString, attributes: &[(&str, &str)]) -> Result<(), DirectoryError>;
    /// Sets the user's `attributes` (name and value), custom ones included
    /// (`custom:consents`); the others are left as they are.
    async fn set_attributes(&self, username: &str, attributes: &[(&str, &str)]) -> Result<(), DirectoryError>;
}

/// The user pool's app clients, as the triggers need them.
#[async_trait]
pub trait AppClients: Send + Sync {
    /// The ids of the pool's app clients named `name` (names are not unique; Cognito's
    /// `ListUserPoolClients`, every page).
    async fn client_ids_named(&self, name: &str) -> Result<Vec<String>, DirectoryError>;
}

/// An existing account a federated identity could be linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// Its Cognito user name.
    pub username: String,
    /// Its organisation (`custom:org_id`), if it has one.
    pub org: Option<String>,
}

/// Linking a federated identity to an existing account of the user pool.
#[async_trait]
pub trait AccountLinker: Send + Sync {
    /// The pool's own (not federated) user whose email is `email` and verified, if there is one,
    /// it is enabled, and it holds no console role ([`holds_console_role`]: an operator's account is linked to
    /// no provider, so no provider's assertion of its email signs in as an operator). Whether
    /// a given provider may be linked to it is [`crate::directory::triggers::may_link`]'s.
    async fn verified_user_with_email(&self, email: &str) -> Result<Option<LinkTarget>, DirectoryError>;
    /// Makes `provider`'s `subject` sign in as `username`; a link that exists already is done.
    async fn link(&self, username: &str, provider: &str, subject: &str) -> Result<(), DirectoryError>;
    /// Disables the account `username` and signs it out everywhere (an operator enables it
    /// again): one a provider made hold an address it may not, which Cognito has already
    /// written to it.
    async fn disable(&self, username: &str) -> Result<(), DirectoryError>;
}
