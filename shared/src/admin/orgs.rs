//! Organisations as operators manage them, the same for the admin API and `bridge-admin org`:
//! create, change (name, domains, policies), remove; connect to the company's OpenID provider
//! (its client secret to the vault as `{prefix}/connections/{org}/{UUIDv7}`, a new one per
//! change ([`super::secret_change`]), never shown again) or disconnect (the secret is deleted at
//! once; the company's provider still has it); issue SCIM tokens (the value shown once, only a
//! digest kept) and revoke them. Connecting reads the provider's discovery document and keeps
//! it with the connection.
//!
//! Every change is written with its audit record in one transaction, over the version it was
//! made from (tokens: with the organisation's token count). A connection's new secret is written
//! first and discarded again if the organisation cannot be written.

use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::{Actor, AuditRecord};
use super::ports::{AuditedOrgs, ProviderDiscovery, SecretVault};
use super::secret_change::{self, Written};
use super::{AdminError, Check};
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;
use crate::directory::org::{Connection, ConnectionKind, EmailClaim, EmailDomain, OrgId, OrgPolicies, Organisation, Provisioning};
use crate::directory::scim_token::{self, TokenRecord};
use crate::events::EventType;

/// The most domains one change may add and remove together (a DynamoDB transaction holds 100
/// items: the organisation, a guard per domain and the audit record's three).
pub const MAX_DOMAIN_CHANGES: usize = 90;

/// What an operator sets on an organisation (the admin API's body): everything but its id, its
/// connection and its version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    pub name: String,
    pub domains: Vec<EmailDomain>,
    #[serde(default)]
    pub policies: OrgPolicies,
}

/// A connection as an operator sets it: [`Connection`] with the client secret's value (write
/// only) in place of where it is kept. Without `client_secret`, a connection that had one keeps it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    pub kind: ConnectionKind,
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub identity_provider: Option<String>,
    #[serde(default)]
    pub email_claim: EmailClaim,
    #[serde(default = "enabled")]
    pub login_hint: bool,
    #[serde(default)]
    pub provisioning: Provisioning,
    #[serde(default)]
    pub single_logout: bool,
}

impl ConnectionSettings {
    /// The connection these settings make, its client secret kept at `client_secret`.
    fn connection(&self, client_secret: Option<SecretRef>) -> Connection {
        Connection {
            kind: self.kind,
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            identity_provider: self.identity_provider.clone(),
            email_claim: self.email_claim,
            login_hint: self.login_hint,
            provisioning: self.provisioning,
            single_logout: self.single_logout,
            metadata: None,
            sealed_secret: None,
        }
    }
}

impl Check for ConnectionSettings {
    fn check(&self, _: &str) -> Result<(), AdminError> {
        self.connection(None).validate().map_err(|e| AdminError::Invalid(e.to_string()))?;
        super::non_blank(self.client_secret.as_ref(), "the client secret")
    }
}

impl Check for OrgSettings {
    fn check(&self, _: &str) -> Result<(), AdminError> {
        let id = OrgId::parse("org-check").map_err(|e| AdminError::Invalid(e.to_string()))?;
        let org = Organisation { id, name: self.name.clone(), domains: self.domains.clone(), policies: self.policies.clone(), connection: None, version: 1 };
        org.validate().map_err(|e| AdminError::Invalid(e.to_string()))
    }
}

fn enabled() -> bool {
    true
}

/// The organisation as operators see it: the connection says `has_client_secret`, never where
/// the secret is kept, and shows the provider's `metadata` as read when it was saved (`null`:
/// read at sign-in).
pub fn view(org: &Organisation) -> Value {
    let mut value = serde_json::to_value(org).unwrap_or_default();
    if let Some(connection) = value.get_mut("connection").and_then(Value::as_object_mut) {
        let had = connection.remove("client_secret").is_some();
        connection.insert("has_client_secret".into(), had.into());
        let metadata = org.connection.as_ref().and_then(|c| c.metadata.as_ref());
        connection.insert("metadata".into(), serde_json::to_value(metadata).unwrap_or_default());
    }
    value
}

/// A SCIM token as operators see it: id, label, when; never its digest.
pub fn token_view(record: &TokenRecord) -> Value {
    json!({"id": record.id, "label": record.label, "created_at": record.created_at})
}

pub struct OrgAdmin {
    pub store: Arc<dyn AuditedOrgs>,
    pub vault: Arc<dyn SecretVault>,
    /// Reads a provider's discovery document when its connection is saved.
    pub discovery: Arc<dyn ProviderDiscovery>,
    /// Secret names start with this (the stack name).
    pub prefix: String,
}

fn org_id(raw: &str) -> Result<OrgId, AdminError> {
    OrgId::parse(raw).map_err(|e| AdminError::Invalid(e.to_string()))
}

fn target(id: &OrgId) -> String {
    format!("org:{id}")
}

/// The store's refusals in an operator's words.
fn refused(e: StoreError) -> AdminError {
    match e {
        StoreError::Taken(domain) => AdminError::Exists(format!("the domain {domain} belongs to another organisation")),
        StoreError::Limit(why) => AdminError::Invalid(why),
        StoreError::Missing(what) => AdminError::NotFound(what),
        other => other.into(),
    }
}

impl OrgAdmin {
    /// Every organisation, in id order (one `gsi1` partition).
    pub async fn list(&self) -> Result<Vec<Organisation>, AdminError> {
        Ok(self.store.list().await?)
    }

    pub async fn get(&self, id: &str) -> Result<Organisation, AdminError> {
        let id = org_id(id)?;
        self.store.get(&id).await?.ok_or_else(|| AdminError::NotFound(format!("organisation `{id}`")))
    }

    /// Creates an organisation (a new id) owning `settings.domains`.
    pub async fn create(&self, actor: &Actor, settings: OrgSettings, now: u64) -> Result<Organisation, AdminError> {
        let org = Organisation {
            id: OrgId::generate(),
            name: settings.name.trim().to_owned(),
            domains: settings.domains,
            policies: settings.policies,
            connection: None,
            version: 1,
        };
        org.validate().map_err(|e| AdminError::Invalid(e.to_string()))?;
        let audit = AuditRecord::new(EventType::AdminOrgCreated, actor, target(&org.id), None, Some(view(&org)), now);
        self.store.create(&org, &audit).await.map_err(refused)?;
        Ok(org)
    }

    /// Replaces organisation `id`'s name, domains and policies, over `version`.
    pub async fn update(&self, actor: &Actor, id: &str, settings: OrgSettings, version: u64, now: u64) -> Result<Organisation, AdminError> {
        let current = self.at(id, version).await?;
        let changes = settings.domains.iter().filter(|d| !current.owns(d)).count() + current.domains.iter().filter(|d| !settings.domains.contains(d)).count();
        if changes > MAX_DOMAIN_CHANGES {
            return Err(AdminError::Invalid(format!("one change adds and removes at most {MAX_DOMAIN_CHANGES} domains")));
        }
        let next = Organisation { name: settings.name.trim().to_owned(), domains: settings.domains, policies: settings.policies, ..current.clone() };
        self.write(actor, EventType::AdminOrgUpdated, &current, next, now).await
    }

    /// Removes organisation `id` at `version`, with its domains and SCIM tokens, then deletes
    /// its connection's secret.
    pub async fn remove(&self, actor: &Actor, id: &str, version: u64, now: u64) -> Result<(), AdminError> {
        let current = self.at(id, version).await?;
        let audit = AuditRecord::new(EventType::AdminOrgDeleted, actor, target(&current.id), Some(view(&current)), None, now);
        match self.store.remove(&current, &audit).await {
            Err(StoreError::Conflict) => return Err(self.stale(&current.id).await),
            other => other?,
        }
        if let Some(secret) = current.connection.and_then(|c| c.client_secret) {
            self.vault.discard(&secret).await?;
        }
        Ok(())
    }

    /// Sets organisation `id`'s connection over `version`, storing its client secret first.
    ///
    /// The provider's discovery document is read now and kept with the connection, so sign-in
    /// need not read it; one that cannot be read (or names another issuer) does not stop the
    /// change: the document kept for the same issuer stays, else sign-in reads it. Saving the
    /// connection again reads it again.
    pub async fn connect(&self, actor: &Actor, id: &str, settings: ConnectionSettings, version: u64, now: u64) -> Result<Organisation, AdminError> {
        let current = self.at(id, version).await?;
        let kept = current.connection.as_ref().and_then(|c| c.client_secret.clone());
        settings.check(id)?;
        let mut connection = settings.connection(kept.clone());
        // The client secret goes to the token endpoint the issuer's document names: a kept one
        // never follows a new issuer (an operator who cannot read it could name their own).
        let moved = current.connection.as_ref().is_some_and(|c| c.issuer != connection.issuer);
        if kept.is_some() && settings.client_secret.is_none() && moved {
            return Err(AdminError::Invalid("the client secret does not follow the connection to another issuer: enter it again".into()));
        }
        connection.metadata = match self.discovery.discover(&connection.issuer).await {
            Ok(metadata) => Some(metadata),
            Err(why) => {
                tracing::warn!(org = %current.id, issuer = %connection.issuer, reason = %why, "the provider's metadata could not be read");
                // The one kept for this issuer stays; for another issuer, sign-in reads it.
                current.connection.as_ref().and_then(|c| c.metadata.clone()).filter(|m| m.issuer == connection.issuer)
            }
        };
        let created = match &settings.client_secret {
            Some(value) => {
                let path = format!("{}/connections/{}", self.prefix, current.id);
                Some(secret_change::write(&*self.vault, &path, &format!("OpenID client secret of organisation {}", current.id), value).await?)
            }
            None => None,
        };
        if created.is_some() {
            connection.client_secret = created.clone();
        }
        let next = Organisation { connection: Some(connection), ..current.clone() };
        let written = self.write(actor, EventType::AdminOrgConnected, &current, next, now).await;
        let after = written.as_ref().ok().and_then(|org| org.connection.as_ref()).and_then(|c| c.client_secret.as_ref());
        secret_change::settle(&*self.vault, Written::of(&written), created.as_ref(), kept.as_ref(), after).await;
        written
    }

    /// Removes organisation `id`'s connection over `version`, then deletes its secret.
    pub async fn disconnect(&self, actor: &Actor, id: &str, version: u64, now: u64) -> Result<Organisation, AdminError> {
        let current = self.at(id, version).await?;
        let secret = current.connection.as_ref().and_then(|c| c.client_secret.clone());
        let next = self.write(actor, EventType::AdminOrgDisconnected, &current, Organisation { connection: None, ..current.clone() }, now).await?;
        if let Some(secret) = secret {
            self.vault.discard(&secret).await?;
        }
        Ok(next)
    }

    /// Organisation `id`'s SCIM tokens (records only: the values were shown once).
    pub async fn tokens(&self, id: &str) -> Result<Vec<TokenRecord>, AdminError> {
        let org = self.get(id).await?;
        Ok(self.store.tokens(&org.id).await?)
    }

    /// Issues a SCIM token for organisation `id`; returns its value (shown once) and record.
    pub async fn issue_token(&self, actor: &Actor, id: &str, label: &str, now: u64) -> Result<(SecretString, TokenRecord), AdminError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AdminError::Invalid("a token's label is 1 to 100 characters".into()));
        }
        let org = self.get(id).await?;
        let issued = scim_token::issue(&org.id, label, now);
        let audit = AuditRecord::new(EventType::AdminOrgTokenIssued, actor, target(&org.id), None, Some(token_view(&issued.record)), now);
        self.store.add_token(&issued.record, &audit).await.map_err(refused)?;
        Ok((issued.token, issued.record))
    }

    /// Revokes organisation `id`'s token `token_id`: the next SCIM request with it gets 401.
    pub async fn revoke_token(&self, actor: &Actor, id: &str, token_id: &str, now: u64) -> Result<(), AdminError> {
        let org = self.get(id).await?;
        let record = self.store.tokens(&org.id).await?.into_iter().find(|t| t.id == token_id);
        let record = record.ok_or_else(|| AdminError::NotFound(format!("token `{token_id}` of `{}`", org.id)))?;
        let audit = AuditRecord::new(EventType::AdminOrgTokenRevoked, actor, target(&org.id), Some(token_view(&record)), None, now);
        match self.store.revoke_token(&org.id, &record.id, &audit).await {
            Err(StoreError::Missing(_)) => Err(AdminError::NotFound(format!("token `{token_id}` of `{}`", org.id))),
            other => Ok(other?),
        }
    }

    /// The organisation, if it is still at `version`.
    async fn at(&self, id: &str, version: u64) -> Result<Organisation, AdminError> {
        let current = self.get(id).await?;
        if current.version != version {
            return Err(AdminError::Stale { current: current.version });
        }
        Ok(current)
    }

    /// Writes `next` (its version moved on) over `current` with an audit record of `kind`.
    async fn write(&self, actor: &Actor, kind: EventType, current: &Organisation, next: Organisation, now: u64) -> Result<Organisation, AdminError> {
        let next = Organisation { version: current.version + 1, ..next };
        next.validate().map_err(|e| AdminError::Invalid(e.to_string()))?;
        let audit = AuditRecord::new(kind, actor, target(&next.id), Some(view(current)), Some(view(&next)), now);
        match self.store.update(current, &next, &audit).await {
            Ok(()) => Ok(next),
            Err(StoreError::Conflict) => Err(self.stale(&next.id).await),
            Err(e) => Err(refused(e)),
        }
    }

    async fn stale(&self, id: &OrgId) -> AdminError {
        match self.store.get(id).await {
            Ok(Some(org)) => AdminError::Stale { current: org.version },
            Ok(None) => AdminError::NotFound(format!("organisation `{id}`")),
            Err(e) => e.into(),
        }
    }
}
