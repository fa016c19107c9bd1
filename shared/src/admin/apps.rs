//! Creating, changing and removing apps, the same for the admin API and `bridge-admin`. The
//! secret an app shares with the bridge (HS256 kinds, DiscourseConnect, a confidential OpenID
//! Connect client's `client_secret`) lives in Secrets Manager under
//! `{prefix}/apps/{id}/signing/{UUIDv7}`, a new one per change ([`super::secret_change`]); the app
//! names it and no answer ever shows it (only `has_secret`), except once, when the bridge
//! generates it. Apps signed with our keys, and public clients, have none.
//!
//! Every change is written with its audit record in one transaction, over the version it was
//! made from. A secret is written first and the app second; a secret whose app is not written is
//! deleted again: a failure leaves nothing behind.

use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::ports::{AuditedApps, SecretVault};
use super::secret_change::{self, Written};
use crate::common::secrets::SecretRef;
use crate::common::store::StoreError;
use crate::events::EventType;
use crate::risk::RiskPolicy;
use crate::tokens::app::{Access, App, AppId, SignUp};
use crate::tokens::claims::ClaimMapping;
use crate::tokens::return_to::Origin;
use crate::tokens::targets::Target;

/// Shortest shared secret an operator may set (characters).
pub const MIN_SECRET_LEN: usize = 16;

/// What an operator sets on an app (the admin API's request body): everything but its id, its
/// secret and its version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    pub name: String,
    pub target: Target,
    pub allowed_origins: Vec<Origin>,
    #[serde(default)]
    pub claims: ClaimMapping,
    #[serde(default)]
    pub risk_policy: RiskPolicy,
    #[serde(default)]
    pub sign_up: SignUp,
    /// Absent: kept as it is (everyone, for a new app); `{}` admits everyone. A client that
    /// knows no `access` (a console tab from before it) cannot open an app by leaving it out.
    #[serde(default)]
    pub access: Option<Access>,
    /// The app's start page, listed on the account page (`App::home_url`). Absent: kept as it
    /// is (none, for a new app); `null`: none, the app is not listed. As for `access`, a client
    /// that knows no `home_url` changes nothing by leaving it out.
    #[serde(default, deserialize_with = "present")]
    pub home_url: Option<Option<String>>,
    /// Shown with the app (`App::refresh_tokens_not_before`) and set by the bridge alone: a value
    /// sent back (an app read, then written) is ignored.
    #[serde(default)]
    pub refresh_tokens_not_before: Option<serde::de::IgnoredAny>,
}

/// A field that is present, `null` included (`Some(None)`); serde's `default` makes an absent one
/// `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl AppSettings {
    fn into_app(self, id: AppId, version: u64) -> App {
        App {
            id,
            name: self.name,
            target: self.target,
            allowed_origins: self.allowed_origins,
            claims: self.claims,
            signing_secret: None,
            risk_policy: self.risk_policy,
            sign_up: self.sign_up,
            access: self.access.unwrap_or_default(),
            home_url: self.home_url.flatten(),
            version,
            refresh_tokens_not_before: None,
        }
    }
}

/// Where a shared secret comes from.
#[derive(Debug)]
pub enum SecretChoice {
    /// The operator's (Zendesk's shared secret, pasted).
    Given(SecretString),
    /// A random one, returned once.
    Generate,
    None,
}

/// The app as operators see it: its settings, `has_secret`, never the secret's name or value.
pub fn view(app: &App) -> Value {
    let mut value = serde_json::to_value(app).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("signing_secret");
        map.insert("has_secret".into(), app.signing_secret.is_some().into());
    }
    value
}

/// How long after an app's change a login function may still act on the app as it was (its app
/// cache, `APPS_TTL_SECONDS`, 60 s by default, and a margin; seconds).
const STALE_APP_MARGIN: u64 = 120;

/// When `next`'s refresh tokens start to count: `current`'s, or, when the change turns an OpenID
/// Connect client's refresh tokens off or shortens their lifetime, `now` and the time a login
/// function may still open families by the app as it was ([`STALE_APP_MARGIN`]): those already
/// given end, and turning them on again later brings none back. Sign-ins in those two minutes
/// get refresh tokens that end too.
fn refresh_stamp(current: &App, next: &App, now: u64) -> Option<u64> {
    if next.refresh_token_lifetime() < current.refresh_token_lifetime() { Some(now + STALE_APP_MARGIN) } else { current.refresh_tokens_not_before }
}

pub struct AppAdmin {
    pub store: Arc<dyn AuditedApps>,
    pub vault: Arc<dyn SecretVault>,
    /// Secret names start with this (the stack name).
    pub prefix: String,
}

fn app_id(raw: &str) -> Result<AppId, AdminError> {
    AppId::parse(raw).map_err(|e| AdminError::Invalid(e.to_string()))
}

impl super::Check for AppSettings {
    fn check(&self, id: &str) -> Result<(), AdminError> {
        let id = AppId::parse(id).map_err(|e| AdminError::Invalid(e.to_string()))?;
        valid(&self.clone().into_app(id, 1))
    }
}

fn valid(app: &App) -> Result<(), AdminError> {
    app.validate().map_err(|e| AdminError::Invalid(e.to_string()))
}

fn target(id: &AppId) -> String {
    format!("app:{id}")
}

impl SecretChoice {
    /// The secret to store, and the value to show once if the bridge made it.
    fn resolve(self) -> Result<Option<(SecretString, Option<SecretString>)>, AdminError> {
        use secrecy::ExposeSecret;
        match self {
            Self::None => Ok(None),
            Self::Generate => {
                let secret: SecretString = crate::common::random::secret(32).into();
                Ok(Some((secret.clone(), Some(secret))))
            }
            Self::Given(secret) if secret.expose_secret().trim().chars().count() < MIN_SECRET_LEN => {
                Err(AdminError::Invalid(format!("a shared secret is at least {MIN_SECRET_LEN} characters")))
            }
            Self::Given(secret) => Ok(Some((secret.expose_secret().trim().to_owned().into(), None))),
        }
    }
}

impl AppAdmin {
    pub async fn list(&self) -> Result<Vec<App>, AdminError> {
        Ok(self.store.list().await?)
    }

    pub async fn get(&self, id: &str) -> Result<App, AdminError> {
        let id = app_id(id)?;
        self.store.get(&id).await?.ok_or_else(|| AdminError::NotFound(format!("app `{id}`")))
    }

    /// Creates app `id` from `settings`, storing its shared secret when its kind has one.
    /// Returns the app and, when the bridge generated the secret, its value (shown once).
    pub async fn create(
        &self,
        actor: &Actor,
        id: &str,
        settings: AppSettings,
        secret: SecretChoice,
        now: u64,
    ) -> Result<(App, Option<SecretString>), AdminError> {
        let mut app = settings.into_app(app_id(id)?, 1);
        valid(&app)?;
        if matches!(app.target, Target::Oidc(_)) {
            app.refresh_tokens_not_before = Some(now);
        }
        let secret = match (app.target.shares_secret(), secret.resolve()?) {
            (true, Some(secret)) => Some(secret),
            (true, None) => return Err(AdminError::Invalid("this app shares a secret with the bridge: give one or have one generated".into())),
            (false, Some(_)) => {
                return Err(AdminError::Invalid("this app shares no secret with the bridge (signed with its own keys, or a public client)".into()));
            }
            (false, None) => None,
        };
        if self.store.get(&app.id).await?.is_some() {
            return Err(AdminError::Exists(format!("app `{}` exists already", app.id)));
        }
        let mut shown = None;
        if let Some((value, generated)) = secret {
            app.signing_secret = Some(self.write_secret(&app.id, &value).await?);
            shown = generated;
        }
        let audit = AuditRecord::new(EventType::AdminAppCreated, actor, target(&app.id), None, Some(view(&app)), now);
        let written = self.store.create(&app, &audit).await;
        secret_change::settle(&*self.vault, Written::of_store(&written), app.signing_secret.as_ref(), None, None).await;
        written.map_err(|e| match e {
            StoreError::Conflict => AdminError::Exists(format!("app `{}` exists already", app.id)),
            other => other.into(),
        })?;
        Ok((app, shown))
    }

    /// Replaces app `id`'s settings, over `version` (the one the operator read).
    pub async fn update(&self, actor: &Actor, id: &str, settings: AppSettings, version: u64, now: u64) -> Result<App, AdminError> {
        let current = self.get(id).await?;
        let next_version = version.checked_add(1).ok_or(AdminError::Stale { current: current.version })?;
        let (keep_access, keep_home) = (settings.access.is_none(), settings.home_url.is_none());
        let mut next = settings.into_app(current.id.clone(), next_version);
        next.signing_secret = current.signing_secret.clone();
        if keep_access {
            next.access = current.access.clone();
        }
        if keep_home {
            next.home_url = current.home_url.clone();
        }
        self.replace(actor, &current, next, now).await
    }

    /// Writes `next` (its `version` the one after the operator's read) over `current`.
    async fn replace(&self, actor: &Actor, current: &App, next: App, now: u64) -> Result<App, AdminError> {
        if Some(next.version) != current.version.checked_add(1) {
            return Err(AdminError::Stale { current: current.version });
        }
        valid(&next)?;
        // A client secret is never a signing key, nor the other way round.
        let oidc = |app: &App| matches!(app.target, Target::Oidc(_));
        if oidc(&next) != oidc(current) {
            return Err(AdminError::Invalid("an app cannot change to or from an OpenID Connect client; create a new app".into()));
        }
        let mut next = next;
        next.refresh_tokens_not_before = refresh_stamp(current, &next, now);
        if next.target.shares_secret() != current.signing_secret.is_some() {
            return Err(AdminError::Invalid("an app cannot change between sharing a secret with the bridge and not; create a new app".into()));
        }
        // A `private_key_jwt` client made public would take its codes and refresh tokens without
        // proof.
        let confidential = |app: &App| matches!(&app.target, Target::Oidc(client) if client.confidential());
        if confidential(&next) != confidential(current) {
            return Err(AdminError::Invalid("an OpenID Connect client cannot change between public and confidential; create a new app".into()));
        }
        let audit = AuditRecord::new(EventType::AdminAppUpdated, actor, target(&next.id), Some(view(current)), Some(view(&next)), now);
        match self.store.update(&next, &audit).await {
            Ok(()) => Ok(next),
            Err(StoreError::Conflict) => Err(self.stale(&next.id).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes app `id` at `version`, then schedules its secret for deletion (unless `keep_secret`).
    pub async fn remove(&self, actor: &Actor, id: &str, version: u64, keep_secret: bool, now: u64) -> Result<(), AdminError> {
        let current = self.get(id).await?;
        if current.version != version {
            return Err(AdminError::Stale { current: current.version });
        }
        let audit = AuditRecord::new(EventType::AdminAppDeleted, actor, target(&current.id), Some(view(&current)), None, now);
        match self.store.remove(&current, &audit).await {
            Err(StoreError::Conflict) => return Err(self.stale(&current.id).await),
            other => other?,
        }
        if let (false, Some(secret)) = (keep_secret, &current.signing_secret) {
            self.vault.delete(secret).await?;
        }
        Ok(())
    }

    /// Replaces app `id`'s shared secret (its HS256 key, or its OpenID Connect `client_secret`)
    /// with a new one; returns the value when the bridge generated it. A change that came in between is kept: the new secret is written over it.
    pub async fn set_secret(&self, actor: &Actor, id: &str, secret: SecretChoice, now: u64) -> Result<Option<SecretString>, AdminError> {
        let app = self.get(id).await?;
        if app.signing_secret.is_none() {
            return Err(AdminError::Invalid("this app shares no secret with the bridge (signed with its own keys, or a public client)".into()));
        }
        let (value, shown) = secret.resolve()?.ok_or_else(|| AdminError::Invalid("give a secret or have one generated".into()))?;
        let created = self.write_secret(&app.id, &value).await?;
        let written = self.point_at(actor, app, &created, now).await;
        let replaced = written.as_ref().ok().and_then(|before| before.signing_secret.clone());
        secret_change::settle(&*self.vault, Written::of(&written), Some(&created), replaced.as_ref(), Some(&created)).await;
        written.map(|_| shown)
    }

    /// Makes `app` name `secret`: the app's version moves on with the record of when and by
    /// whom its secret was replaced, re-read if another change came in between (three tries).
    /// Returns the app as it was before the write.
    async fn point_at(&self, actor: &Actor, mut app: App, secret: &SecretRef, now: u64) -> Result<App, AdminError> {
        for _ in 0..3 {
            let next = App { version: app.version + 1, signing_secret: Some(secret.clone()), ..app.clone() };
            let audit = AuditRecord::new(EventType::AdminAppSecretSet, actor, target(&app.id), None, None, now);
            match self.store.update(&next, &audit).await {
                Ok(()) => return Ok(app),
                Err(StoreError::Conflict) => app = self.get(app.id.as_str()).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AdminError::Stale { current: app.version })
    }

    /// Writes `value` as a new secret of app `id`, `{prefix}/apps/{id}/signing/{UUIDv7}`.
    async fn write_secret(&self, id: &AppId, value: &SecretString) -> Result<SecretRef, AdminError> {
        secret_change::write(&*self.vault, &format!("{}/apps/{id}/signing", self.prefix), &format!("Signing secret of app {id}"), value).await
    }

    async fn stale(&self, id: &AppId) -> AdminError {
        match self.store.get(id).await {
            Ok(Some(app)) => AdminError::Stale { current: app.version },
            Ok(None) => AdminError::NotFound(format!("app `{id}`")),
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refresh_tokens_end_when_a_clients_lifetime_is_turned_off_or_shortened_and_only_then() {
        let app = |target: serde_json::Value, stamp: Option<u64>| -> App {
            let mut app: App =
                serde_json::from_value(json!({"id": "tool", "name": "Tool", "target": target, "allowed_origins": []})).unwrap_or_else(|e| panic!("{e}"));
            app.refresh_tokens_not_before = stamp;
            app
        };
        let oidc =
            |lifetime: Option<u64>| json!({"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"], "refresh_token_lifetime_seconds": lifetime});
        let before = Some(5);
        let stamp = |from: Option<u64>, to: Option<u64>| refresh_stamp(&app(oidc(from), before), &app(oidc(to), None), 1_000);
        assert_eq!(stamp(Some(86_400), None), Some(1_000 + STALE_APP_MARGIN), "turned off");
        assert_eq!(stamp(Some(86_400), Some(3_600)), Some(1_000 + STALE_APP_MARGIN), "shortened");
        assert_eq!(stamp(Some(3_600), Some(86_400)), before, "lengthened: kept");
        assert_eq!(stamp(Some(3_600), Some(3_600)), before, "unchanged: kept");
        assert_eq!(stamp(None, Some(3_600)), before, "turned on: kept");
        let zendesk = json!({"kind": "zendesk", "account_url": "https://acme.zendesk.com"});
        assert_eq!(refresh_stamp(&app(zendesk.clone(), None), &app(zendesk, None), 1_000), None, "not a client");
    }

    #[test]
    fn an_app_read_and_written_back_changes_no_refresh_stamp() {
        let settings: AppSettings = serde_json::from_value(json!({"name": "Tool", "allowed_origins": [], "refresh_tokens_not_before": 12,
            "target": {"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"]}}))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.into_app(AppId::parse("tool").unwrap_or_else(|e| panic!("{e}")), 2).refresh_tokens_not_before, None);
    }
}
