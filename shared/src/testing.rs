//! In-memory stand-ins for the ports, shared by unit tests, handler tests and benchmarks
//! (feature `testing`). They model the behaviour the domain relies on, not AWS: tests that
//! claim to work against AWS use moto instead.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::secrets::SecretStore;
use crate::common::secrets::{CachedSecrets, SecretRef};
use crate::common::store::StoreError;
use crate::directory::org::{EmailDomain, OrgId, Organisation};
use crate::directory::ports::*;
use crate::directory::scim::directory_user::Link;
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::patch::MemberChange;
use crate::directory::scim::resource::{Kind, Record};
use crate::events::EventLog;
use crate::events::IdentityEvent;
use crate::risk::RiskProfile;
use crate::risk::RiskStore;
use crate::signin::SignIn;
use crate::signin::challenge::*;
use crate::signin::corporate::PendingLogins;
use crate::signin::ports::*;
use crate::signin::service::SignInPorts;
use crate::tokens::app::{App, AppId};
use crate::tokens::ports::*;
use crate::tokens::return_to::Origin;
use crate::tokens::signing_keys::KeyStore;
use crate::tokens::signing_keys::{KeySet, Signers};
use crate::tokens::targets::{Target, zendesk};
use crate::workflows::runner::{Connectors, DeadLetters, Pause, RunStore};

pub const DEMO_APP: &str = "demo";
pub const DEMO_SECRET: &str = "zendesk-shared-secret";
pub const BRIDGE_SECRET: &str = "bridge";

/// A Zendesk app `demo` for `https://acme.zendesk.com`, signed with secret `DEMO_SECRET`.
pub fn demo_app() -> App {
    let origin = |s: &str| Origin::parse(s).unwrap_or_else(|e| panic!("{e}"));
    App {
        id: AppId::parse(DEMO_APP).unwrap_or_else(|e| panic!("{e}")),
        name: "Acme Help Center".into(),
        target: Target::Zendesk(zendesk::ZendeskTarget { account_url: origin("https://acme.zendesk.com"), delivery: Default::default() }),
        allowed_origins: vec![origin("https://acme.zendesk.com")],
        claims: serde_json::from_value(json!({"organization": {"from": "attribute", "name": "custom:company"}})).unwrap_or_default(),
        signing_secret: Some(SecretRef(DEMO_SECRET.into())),
        risk_policy: Default::default(),
        sign_up: Default::default(),
        access: Default::default(),
        home_url: None,
        version: 1,
        refresh_tokens_not_before: None,
    }
}

#[derive(Default)]
pub struct MemoryApps {
    apps: Mutex<HashMap<AppId, App>>,
}

impl MemoryApps {
    pub fn with(apps: impl IntoIterator<Item = App>) -> Self {
        Self { apps: Mutex::new(apps.into_iter().map(|a| (a.id.clone(), a)).collect()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AppId, App>> {
        self.apps.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl AppDirectory for MemoryApps {
    async fn app(&self, id: &AppId) -> Result<Option<Arc<App>>, StoreError> {
        Ok(self.lock().get(id).cloned().map(Arc::new))
    }
    async fn list(&self) -> Result<Vec<App>, StoreError> {
        let mut apps: Vec<App> = self.lock().values().cloned().collect();
        apps.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(apps)
    }
}

#[async_trait]
impl AppStore for MemoryApps {
    async fn create(&self, app: &App) -> Result<(), StoreError> {
        let mut apps = self.lock();
        if apps.contains_key(&app.id) {
            return Err(StoreError::Conflict);
        }
        apps.insert(app.id.clone(), App { version: 1, ..app.clone() });
        Ok(())
    }
    async fn update(&self, app: &App) -> Result<(), StoreError> {
        let mut apps = self.lock();
        match apps.get(&app.id) {
            Some(current) if current.version + 1 == app.version => {
                apps.insert(app.id.clone(), app.clone());
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }
    async fn remove(&self, id: &AppId) -> Result<(), StoreError> {
        self.lock().remove(id).map(|_| ()).ok_or_else(|| StoreError::Missing(id.to_string()))
    }
}

/// Organisations by id, for the sign-in path.
#[derive(Default)]
pub struct MemoryOrgs {
    pub orgs: Mutex<HashMap<OrgId, Organisation>>,
    /// When set, every read fails (`StoreError::Unavailable`), as a table that does not answer.
    pub down: std::sync::atomic::AtomicBool,
}

impl MemoryOrgs {
    fn answers(&self) -> Result<(), StoreError> {
        match self.down.load(std::sync::atomic::Ordering::Relaxed) {
            true => Err(StoreError::Unavailable("the organisations are down".into())),
            false => Ok(()),
        }
    }

    /// Organisation `id` owning `domain`, whose people sign in through the pool's identity
    /// provider `provider` (a `cognito` connection).
    pub fn with_pool_provider(self, id: &str, domain: &str, provider: &str) -> Self {
        let connection = serde_json::from_value(serde_json::json!({
            "kind": "cognito", "issuer": "https://cognito-idp.example/pool", "client_id": "bridge", "identity_provider": provider,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let org = Organisation {
            id: OrgId::parse(id).unwrap_or_else(|e| panic!("{e}")),
            name: id.into(),
            domains: vec![EmailDomain::parse(domain).unwrap_or_else(|e| panic!("{e}"))],
            policies: Default::default(),
            connection: Some(connection),
            version: 1,
        };
        self.orgs.lock().unwrap_or_else(|p| p.into_inner()).insert(org.id.clone(), org);
        self
    }
}

#[async_trait]
impl OrgDirectory for MemoryOrgs {
    async fn org(&self, id: &OrgId) -> Result<Option<Arc<Organisation>>, StoreError> {
        self.answers()?;
        Ok(self.orgs.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned().map(Arc::new))
    }
    async fn owner_of(&self, domain: &EmailDomain) -> Result<Option<Arc<Organisation>>, StoreError> {
        self.answers()?;
        Ok(self.orgs.lock().unwrap_or_else(|p| p.into_inner()).values().find(|o| o.owns(domain)).cloned().map(Arc::new))
    }
    async fn set_sealed_secret(&self, org: &OrgId, version: u64, sealed: Option<&str>) -> Result<(), StoreError> {
        let mut orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(connection) = orgs.get_mut(org).filter(|o| o.version == version).and_then(|o| o.connection.as_mut()) {
            connection.sealed_secret = sealed.map(str::to_owned);
        }
        Ok(())
    }
}

/// Sessions by key, and the events recorded with them or alone.
#[derive(Default)]
pub struct MemorySessions {
    pub sessions: Mutex<HashMap<String, crate::signin::session::Session>>,
    /// When each user's sessions were last revoked.
    pub revoked: Mutex<HashMap<String, u64>>,
    /// Holds on users' sign-ins: the holder and until when.
    pub held: Mutex<HashMap<String, (String, u64)>>,
    pub events: Arc<MemoryEvents>,
    /// Where the risk profiles written with sessions go.
    pub risk: Arc<MemoryRisk>,
    /// How many of the next `of_user` reads fail (`Unavailable`), as a table that does not answer.
    pub failing_reads: AtomicUsize,
    /// Each user's sign-out mark: console tokens issued, and refresh tokens opened, before it end.
    pub signed_out_at: Mutex<HashMap<String, u64>>,
}

impl MemorySessions {
    fn revoked_at(&self, username: &str) -> Option<u64> {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner()).get(username).copied()
    }
}

/// Risk profiles by user name and failed attempts by address (`RiskStore`).
#[derive(Default)]
pub struct MemoryRisk {
    /// Profiles by username, or by `email:{address}` ([`MemoryRisk::by_email`]).
    pub profiles: Mutex<HashMap<String, RiskProfile>>,
    pub failures: Mutex<HashMap<String, u64>>,
    /// How many reads by email there were (`history` makes one when given an email).
    pub email_reads: std::sync::atomic::AtomicUsize,
}

impl MemoryRisk {
    /// Where a profile kept by verified email is, in [`MemoryRisk::profiles`].
    pub fn by_email(email: &str) -> String {
        format!("email:{}", email.to_lowercase())
    }
}

#[async_trait]
impl RiskStore for MemoryRisk {
    async fn history(&self, username: &str, email: Option<&str>, now: u64) -> Result<(RiskProfile, u64), StoreError> {
        let (by_email, failures) = match email {
            Some(email) => self.history_of_email(email, now).await?,
            None => (None, 0),
        };
        let by_username = || self.profiles.lock().unwrap_or_else(|p| p.into_inner()).get(username).cloned();
        Ok((by_email.or_else(by_username).unwrap_or_default(), failures))
    }
    async fn history_of_email(&self, email: &str, _: u64) -> Result<(Option<RiskProfile>, u64), StoreError> {
        self.email_reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile = self.profiles.lock().unwrap_or_else(|p| p.into_inner()).get(&Self::by_email(email)).cloned();
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner()).get(&email.to_lowercase()).copied().unwrap_or(0);
        Ok((profile, failures))
    }
    async fn failed(&self, email: &str, _: u64) -> Result<(), StoreError> {
        *self.failures.lock().unwrap_or_else(|p| p.into_inner()).entry(email.to_lowercase()).or_default() += 1;
        Ok(())
    }
    async fn carry(&self, from: &str, to: &str) -> Result<(), StoreError> {
        if Self::by_email(from) == Self::by_email(to) {
            return Ok(());
        }
        let mut profiles = self.profiles.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(profile) = profiles.remove(&Self::by_email(from)) {
            profiles.insert(Self::by_email(to), profile);
        }
        Ok(())
    }
}

/// Refresh-token families in memory, and each person's sign-out mark.
#[derive(Default)]
pub struct MemoryRefreshFamilies {
    pub families: Mutex<HashMap<String, crate::signin::openid_provider::family::RefreshFamily>>,
    pub signed_out: Mutex<HashMap<String, u64>>,
    /// The bridge sessions ended (their `sid`).
    pub ended: Mutex<std::collections::HashSet<String>>,
}

impl MemoryRefreshFamilies {
    fn ended(&self, sid: Option<&str>) -> bool {
        sid.is_some_and(|sid| self.ended.lock().unwrap_or_else(|p| p.into_inner()).contains(sid))
    }
}

#[async_trait]
impl RefreshFamilies for MemoryRefreshFamilies {
    async fn create(&self, family: &crate::signin::openid_provider::family::RefreshFamily) -> Result<(), StoreError> {
        let mut families = self.families.lock().unwrap_or_else(|p| p.into_inner());
        if families.contains_key(&family.id) {
            return Err(StoreError::Conflict);
        }
        families.insert(family.id.clone(), family.clone());
        Ok(())
    }
    async fn get(&self, id: &str, username: &str, sid: Option<&str>) -> Result<crate::signin::ports::FamilyRead, StoreError> {
        let family = self.families.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
        let signed_out_at = self.signed_out.lock().unwrap_or_else(|p| p.into_inner()).get(username).copied();
        Ok(crate::signin::ports::FamilyRead { family, signed_out_at, session_ended: self.ended(sid) })
    }
    async fn mark_session_ended(&self, sid: &str, _until: u64) -> Result<(), StoreError> {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).insert(sid.to_owned());
        Ok(())
    }
    async fn session_ended(&self, sid: &str) -> Result<bool, StoreError> {
        Ok(self.ended(Some(sid)))
    }
    async fn advance(&self, id: &str, generation: u64, now: u64) -> Result<bool, StoreError> {
        match self.families.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id) {
            Some(family) if family.generation == generation => {
                family.generation += 1;
                family.last_used = now;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn revoke(&self, id: &str) -> Result<(), StoreError> {
        self.families.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        Ok(())
    }
    async fn of_user(&self, username: &str) -> Result<(Vec<crate::signin::openid_provider::family::RefreshFamily>, Option<u64>), StoreError> {
        let families = self.families.lock().unwrap_or_else(|p| p.into_inner()).values().filter(|f| f.username == username).cloned().collect();
        Ok((families, self.signed_out.lock().unwrap_or_else(|p| p.into_inner()).get(username).copied()))
    }
    async fn revoke_of(&self, username: &str, id: &str) -> Result<bool, StoreError> {
        let mut families = self.families.lock().unwrap_or_else(|p| p.into_inner());
        if families.get(id).is_some_and(|f| f.username == username) {
            families.remove(id);
            return Ok(true);
        }
        Ok(false)
    }
}

/// A sign-up ledger that allows everything and notes nothing.
pub struct OpenLedger;

#[async_trait]
impl crate::signin::ports::SignUpLedger for OpenLedger {
    async fn sign_up_attempt(&self, _: &str, _: Option<&str>, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn note_existing(&self, _: &str, _: &str, _: u64) -> Result<(), StoreError> {
        Ok(())
    }
    async fn noted(&self, _: &str, _: u64) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    async fn code_try(&self, _: &str, _: u64, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn code_sent(&self, _: &str, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn other_code_sent(&self, _: &str, _: crate::signin::ports::CodeAsker, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn step_code_try(&self, _: &str, _: u64, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn reset_code_sent(&self, _: &str, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn reset_code_try(&self, _: &str, _: u64, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
    async fn consent_decided(&self, _: &str, _: u64) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// Recorded identity events, in order.
#[derive(Default)]
pub struct MemoryEvents(pub Mutex<Vec<IdentityEvent>>);

impl MemoryEvents {
    pub fn kinds(&self) -> Vec<crate::events::EventType> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|e| e.kind).collect()
    }
}

#[async_trait]
impl EventLog for MemoryEvents {
    /// As the table does: an event recorded twice (same id) is one event.
    async fn record(&self, event: &IdentityEvent) -> Result<(), StoreError> {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !all.iter().any(|e| e.id == event.id) {
            all.push(event.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, key: &str, session: &crate::signin::session::Session, events: &[IdentityEvent], risk: &RiskProfile) -> Result<(), StoreError> {
        if self.revoked_at(&session.username).is_some_and(|at| session.revoked_by(at)) {
            return Err(StoreError::Conflict);
        }
        if self.held(session).await? {
            return Err(StoreError::Conflict);
        }
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).insert(key.into(), session.clone());
        // As the table keeps it: by the verified email, else by username.
        let user = events.first().map(|e| e.user.clone()).unwrap_or_default();
        let holder = match user.email.filter(|_| user.email_verified == Some(true)) {
            Some(email) => MemoryRisk::by_email(&email),
            None => session.username.clone(),
        };
        self.risk.profiles.lock().unwrap_or_else(|p| p.into_inner()).insert(holder, risk.clone());
        for event in events {
            self.events.record(event).await?;
        }
        Ok(())
    }
    async fn rotate(&self, old: &str, new: &str, session: &crate::signin::session::Session) -> Result<bool, StoreError> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if !all.contains_key(old) {
            return Ok(false);
        }
        if self.revoked_at(&session.username).is_some_and(|at| session.revoked_by(at)) {
            return Err(StoreError::Conflict);
        }
        all.remove(old);
        all.insert(new.into(), session.clone());
        Ok(true)
    }
    async fn get(&self, key: &str, user_key: &str) -> Result<Option<crate::signin::session::Found>, StoreError> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let Some(session) = all.get(key).filter(|s| crate::signin::session::user_key(&s.username) == user_key).cloned() else {
            return Ok(None);
        };
        if self.revoked_at(&session.username).is_some_and(|at| session.revoked_by(at)) {
            all.remove(key);
            return Ok(Some(crate::signin::session::Found::Revoked(session)));
        }
        Ok(Some(crate::signin::session::Found::Kept(session)))
    }
    async fn touch(&self, key: &str, now: u64) -> Result<(), StoreError> {
        if let Some(s) = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(key) {
            s.last_seen = now;
        }
        Ok(())
    }
    async fn redeem(&self, key: &str) -> Result<bool, StoreError> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.get_mut(key).is_some_and(|s| std::mem::take(&mut s.handoff)))
    }
    async fn end(&self, key: &str) -> Result<Option<crate::signin::session::Session>, StoreError> {
        Ok(self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(key))
    }
    async fn end_of(&self, username: &str, key: &str) -> Result<Option<crate::signin::session::Session>, StoreError> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        Ok(if all.get(key).is_some_and(|s| s.username == username) { all.remove(key) } else { None })
    }
    async fn carry(&self, old: &str, new: &str, username: &str, _device: Option<&str>) -> Result<(), StoreError> {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let Some(earlier) = all.remove(old) else { return Ok(()) };
        if earlier.username != username {
            return Ok(());
        }
        if let Some(session) = all.get_mut(new) {
            session.logout_clients.extend(earlier.carried_entries());
            session.carried_sids.extend(earlier.sids().map(str::to_owned));
        }
        Ok(())
    }
    async fn discard(&self, key: &str) -> Result<Option<crate::signin::session::Session>, StoreError> {
        Ok(self.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(key))
    }
    async fn add_logout_client(&self, key: &str, client_id: &str, _sid: &str) -> Result<(), StoreError> {
        if let Some(s) = self.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(key).filter(|s| !s.logout_clients.iter().any(|c| c == client_id)) {
            s.logout_clients.push(client_id.to_owned());
        }
        Ok(())
    }
    async fn of_user(&self, username: &str) -> Result<Vec<(String, crate::signin::session::Session)>, StoreError> {
        if self.failing_reads.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(StoreError::Unavailable("no answer".into()));
        }
        let all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        Ok(all.iter().filter(|(_, s)| s.username == username).map(|(k, s)| (k.clone(), s.clone())).collect())
    }
    async fn mark_signed_out(&self, username: &str, at: u64) -> Result<(), StoreError> {
        let mut revoked = self.signed_out_at.lock().unwrap_or_else(|p| p.into_inner());
        let not_before = revoked.entry(username.to_owned()).or_default();
        *not_before = (*not_before).max(at);
        Ok(())
    }
    async fn end_all(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        self.mark_signed_out(username, now).await?;
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let before = all.len();
        all.retain(|_, s| s.username != username);
        Ok(before - all.len())
    }
    async fn revoke(&self, username: &str, now: u64) -> Result<usize, StoreError> {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner()).insert(username.to_owned(), now);
        self.end_all(username, now).await
    }
    async fn reinstate(&self, username: &str, since: u64) -> Result<(), StoreError> {
        // As the table does: only within the window, and what the revocation refuses ends first.
        let Some(at) = self.revoked_at(username).filter(|at| *at <= since && since <= at + crate::signin::session::REVOCATION_WINDOW) else {
            return Ok(());
        };
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, s| s.username != username || !s.revoked_by(at));
        self.revoked.lock().unwrap_or_else(|p| p.into_inner()).remove(username);
        Ok(())
    }
    async fn hold(&self, username: &str, holder: &str, until: u64, now: u64) -> Result<bool, StoreError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.get(username).is_some_and(|(by, held_until)| by != holder && *held_until >= now) {
            return Ok(false);
        }
        held.insert(username.to_owned(), (holder.to_owned(), until));
        Ok(true)
    }
    async fn held(&self, session: &crate::signin::session::Session) -> Result<bool, StoreError> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).get(&session.username).cloned();
        Ok(held.is_some_and(|(by, until)| until >= session.authenticated && session.claim.as_deref() != Some(by.as_str())))
    }
    async fn settle(&self, username: &str, holder: &str, until: u64) -> Result<(), StoreError> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(username.to_owned(), (holder.to_owned(), until));
        Ok(())
    }
    async fn release(&self, username: &str, holder: &str) -> Result<(), StoreError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.get(username).is_some_and(|(by, _)| by == holder) {
            held.remove(username);
        }
        Ok(())
    }
}

/// A user pool that knows only the users whose attributes were set (enabled, no groups), signs
/// everyone out (counting) and makes accounts their confirmers' (`claim`) unless told to fail.
#[derive(Default)]
pub struct EmptyPool {
    pub sign_outs: AtomicUsize,
    pub attributes: Mutex<HashMap<String, Map<String, Value>>>,
    /// The users not confirmed yet (a sign-up's code not entered).
    pub unconfirmed: Mutex<HashSet<String>>,
    /// Whether making an account its confirmer's fails (`claim`).
    pub claims_fail: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl PoolUsers for EmptyPool {
    async fn user(&self, username: &str) -> Result<Option<PoolUser>, DirectoryError> {
        let held = self.attributes.lock().unwrap_or_else(|p| p.into_inner()).get(username).cloned();
        Ok(held.map(|attributes| PoolUser { username: username.to_owned(), enabled: true, attributes, groups: Vec::new(), factors: Vec::new(), status: None }))
    }
    async fn unconfirmed(&self, name: &str) -> Result<Option<String>, DirectoryError> {
        Ok(self.unconfirmed.lock().unwrap_or_else(|p| p.into_inner()).contains(name).then(|| name.to_owned()))
    }
    async fn username_of(&self, name: &str) -> Result<Option<String>, DirectoryError> {
        Ok(self.user(name).await?.map(|user| user.username))
    }
    async fn own_account_with_email(&self, email: &str) -> Result<Option<String>, DirectoryError> {
        self.find_by_email(email).await
    }
    async fn find_by_email(&self, email: &str) -> Result<Option<String>, DirectoryError> {
        Ok(self.attributes.lock().unwrap_or_else(|p| p.into_inner()).contains_key(email).then(|| email.to_owned()))
    }
    async fn set_org(&self, _: &str, _: &OrgId) -> Result<(), DirectoryError> {
        Ok(())
    }
    async fn sign_out(&self, _: &str) -> Result<(), DirectoryError> {
        self.sign_outs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    async fn add_to_group(&self, _: &str, _: &str) -> Result<(), DirectoryError> {
        Err(DirectoryError::Gone)
    }
    async fn claim(&self, _: &str, _: &secrecy::SecretString, _: &[(&str, &str)]) -> Result<(), DirectoryError> {
        if self.claims_fail.load(Ordering::Relaxed) { Err(DirectoryError::Unavailable("throttled".into())) } else { Ok(()) }
    }
    async fn set_attributes(&self, username: &str, attributes: &[(&str, &str)]) -> Result<(), DirectoryError> {
        let mut all = self.attributes.lock().unwrap_or_else(|p| p.into_inner());
        let held = all.entry(username.to_owned()).or_default();
        held.extend(attributes.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))));
        Ok(())
    }
}

/// Secrets by id, counting reads.
#[derive(Default)]
pub struct MemorySecrets {
    values: HashMap<String, String>,
    pub reads: AtomicUsize,
}

impl MemorySecrets {
    /// The demo app's secret and a bridge secret without a Cognito client secret.
    pub fn demo() -> Self {
        let bridge = json!({"flow_key": "f".repeat(48)}).to_string();
        Self { values: HashMap::from([(DEMO_SECRET.into(), "shared-secret".into()), (BRIDGE_SECRET.into(), bridge)]), reads: AtomicUsize::new(0) }
    }
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn secret(&self, id: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.values.get(&id.0).cloned().map(SecretString::from))
    }
}

/// A user of [`ScriptedAuth`].
#[derive(Clone)]
pub struct ScriptedUser {
    pub password: String,
    /// The challenge posed after the password, if any.
    pub challenge: Option<ChallengeKind>,
    pub claims: Value,
}

/// Password authentication over a fixed set of users. Every MFA code is `123456`; every reset
/// code is `000000`; every sign-up code `135790`. ID tokens are the claims as plain JSON (see [`PlainTokens`]).
#[derive(Default)]
pub struct ScriptedAuth {
    pub users: Mutex<HashMap<String, ScriptedUser>>,
    pub calls: AtomicUsize,
    /// How many email codes [`PasswordAuth::start_passwordless`] sent.
    pub emails_sent: AtomicUsize,
    /// When set, every call fails with this error.
    pub failure: Mutex<Option<AuthError>>,
}

impl ScriptedAuth {
    pub fn with_user(email: &str, password: &str, challenge: Option<ChallengeKind>) -> Self {
        let claims = json!({"sub": format!("sub-{email}"), "email": email, "email_verified": true, "name": "Demo Person", "custom:company": "Acme"});
        let users = HashMap::from([(email.to_owned(), ScriptedUser { password: password.into(), challenge, claims })]);
        Self { users: Mutex::new(users), ..Default::default() }
    }

    fn user(&self, name: &str) -> Option<ScriptedUser> {
        self.users.lock().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    fn begin(&self) -> Result<(), AuthError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        match self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The access token names the user (`access-{email}`).
    fn signed_in(user: &ScriptedUser) -> AuthStep {
        let access_token = AccessToken(SecretString::from(format!("access-{}", user.claims["email"].as_str().unwrap_or_default())));
        AuthStep::Authenticated { id_token: user.claims.to_string(), access_token }
    }

    fn challenge(username: &str, kind: ChallengeKind) -> AuthStep {
        let options = if kind == ChallengeKind::SelectMfaType { vec![ChallengeKind::SmsMfa, ChallengeKind::SoftwareTokenMfa] } else { vec![] };
        let destination = (kind == ChallengeKind::SmsMfa).then(|| "+*******5678".to_owned());
        AuthStep::Challenge(Challenge { kind, session: format!("session-{username}"), username: username.into(), destination, options, request_options: None })
    }
}

#[async_trait]
impl PasswordAuth for ScriptedAuth {
    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<AuthStep, AuthError> {
        self.begin()?;
        let user = self.user(username).filter(|u| u.password == password.expose_secret()).ok_or(AuthError::InvalidCredentials)?;
        Ok(match user.challenge {
            Some(kind) => Self::challenge(username, kind),
            None => Self::signed_in(&user),
        })
    }

    async fn answer(&self, challenge: &Challenge, answer: ChallengeAnswer) -> Result<AuthStep, AuthError> {
        self.begin()?;
        if challenge.session != format!("session-{}", challenge.username) {
            return Err(AuthError::ChallengeExpired);
        }
        let user = self.user(&challenge.username).ok_or(AuthError::ChallengeExpired)?;
        match answer {
            ChallengeAnswer::Code(code) if code.expose_secret() == "123456" => Ok(Self::signed_in(&user)),
            ChallengeAnswer::Code(_) => Err(AuthError::CodeMismatch),
            ChallengeAnswer::NewPassword(p) if p.expose_secret().len() < 8 => Err(AuthError::PasswordPolicy),
            ChallengeAnswer::NewPassword(_) => Ok(Self::signed_in(&user)),
            ChallengeAnswer::Choose(kind) => Ok(Self::challenge(&challenge.username, kind)),
            ChallengeAnswer::Credential(c) if c == format!("passkey-of-{}", challenge.username) => Ok(Self::signed_in(&user)),
            ChallengeAnswer::Credential(_) => Err(AuthError::InvalidCredentials),
        }
    }

    /// A known user gets the factor preferred (a passkey's request options name its one
    /// credential; its answer is `passkey-of-{email}`); someone unknown Cognito's choice.
    async fn start_passwordless(&self, username: &str, preferred: ChallengeKind) -> Result<AuthStep, AuthError> {
        self.begin()?;
        if self.user(username).is_none() {
            let choice = Challenge {
                kind: ChallengeKind::SelectChallenge,
                session: "session-unknown".into(),
                username: username.into(),
                destination: None,
                options: vec![ChallengeKind::EmailOtp],
                request_options: None,
            };
            return Ok(AuthStep::Challenge(choice));
        }
        if preferred == ChallengeKind::EmailOtp {
            self.emails_sent.fetch_add(1, Ordering::Relaxed);
        }
        let AuthStep::Challenge(mut challenge) = Self::challenge(username, preferred) else { unreachable!("a challenge") };
        challenge.destination = (preferred == ChallengeKind::EmailOtp).then(|| "h***@e***".to_owned());
        if preferred == ChallengeKind::WebAuthn {
            let options = json!({"challenge": "c2NyaXB0ZWQtY2hhbGxlbmdl", "timeout": 300000, "rpId": "localhost", "allowCredentials": [{"id": "Y3JlZA", "type": "public-key"}], "userVerification": "preferred"});
            challenge.request_options = Some(options.to_string());
        }
        Ok(AuthStep::Challenge(challenge))
    }

    async fn forgot_password(&self, username: &str) -> Result<(), AuthError> {
        self.begin()?;
        self.user(username).map(|_| ()).ok_or(AuthError::InvalidCredentials)
    }

    async fn confirm_forgot_password(&self, username: &str, code: &SecretString, new_password: &SecretString) -> Result<(), AuthError> {
        self.begin()?;
        if code.expose_secret() != "000000" {
            return Err(AuthError::CodeMismatch);
        }
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let user = users.get_mut(username).ok_or(AuthError::CodeMismatch)?;
        user.password = new_password.expose_secret().to_owned();
        user.challenge = None;
        Ok(())
    }

    /// Every secret is `JBSWY3DPEHPK3PXP`.
    async fn associate_totp(&self, access_token: &AccessToken) -> Result<SecretString, AuthError> {
        self.begin()?;
        access_token.0.expose_secret().strip_prefix("access-").map(|_| SecretString::from("JBSWY3DPEHPK3PXP")).ok_or(AuthError::ChallengeExpired)
    }

    /// `123456` sets the app up: the user is asked for its code from then on.
    async fn verify_totp(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        self.begin()?;
        let email = access_token.0.expose_secret().strip_prefix("access-").ok_or(AuthError::ChallengeExpired)?.to_owned();
        if code.expose_secret() != "123456" {
            return Err(AuthError::CodeMismatch);
        }
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.get_mut(&email).ok_or(AuthError::ChallengeExpired)?.challenge = Some(ChallengeKind::SoftwareTokenMfa);
        Ok(())
    }

    /// A sign-up's code is always `135790`.
    async fn confirm_sign_up(&self, _: &str, code: &SecretString) -> Result<(), AuthError> {
        self.begin()?;
        if code.expose_secret() == "135790" { Ok(()) } else { Err(AuthError::CodeMismatch) }
    }
}

/// Treats a token as its claims in plain JSON. For domain tests only: real verification is
/// `adapters::jwks::JwksVerifier`.
pub struct PlainTokens;

#[async_trait]
impl IdTokenVerifier for PlainTokens {
    async fn verify(&self, token: &str, _now: u64) -> Result<Map<String, Value>, TokenRejected> {
        serde_json::from_str(token).map_err(|_| TokenRejected::Invalid("not JSON"))
    }
}

/// The sign-in services over the in-memory ports, with the demo app and no organisations.
pub fn sign_in_service(auth: Arc<ScriptedAuth>) -> SignIn {
    SignIn::new(sign_in_ports(auth, Arc::new(MemoryOrgs::default())))
}

/// The sign-in services and the events they record (with sessions and alone).
pub fn sign_in_service_recording(auth: Arc<ScriptedAuth>) -> (SignIn, Arc<MemoryEvents>) {
    let (ports, events) = sign_in_ports_recording(auth);
    (SignIn::new(ports), events)
}

/// The in-memory ports of [`sign_in_service_recording`], to change before building the services.
pub fn sign_in_ports_recording(auth: Arc<ScriptedAuth>) -> (SignInPorts, Arc<MemoryEvents>) {
    let events = Arc::new(MemoryEvents::default());
    let risk = Arc::new(MemoryRisk::default());
    let sessions = Arc::new(MemorySessions { events: events.clone(), risk: risk.clone(), ..MemorySessions::default() });
    (SignInPorts { sessions, events: events.clone(), risk, ..sign_in_ports(auth, Arc::new(MemoryOrgs::default())) }, events)
}

pub fn sign_in_service_with(auth: Arc<ScriptedAuth>, orgs: Arc<MemoryOrgs>) -> SignIn {
    SignIn::new(sign_in_ports(auth, orgs))
}

/// The in-memory ports: the demo app, `orgs`, Cognito played by `auth`.
pub fn sign_in_ports(auth: Arc<ScriptedAuth>, orgs: Arc<MemoryOrgs>) -> SignInPorts {
    let secrets = Arc::new(CachedSecrets::new(Arc::new(MemorySecrets::demo()), SecretRef(BRIDGE_SECRET.into()), Duration::from_secs(300)));
    SignInPorts {
        apps: Arc::new(MemoryApps::with([demo_app()])),
        orgs,
        auth,
        tokens: Arc::new(PlainTokens),
        secrets: secrets.clone(),
        sessions: Arc::new(MemorySessions::default()),
        refresh: Arc::new(MemoryRefreshFamilies::default()),
        events: Arc::new(MemoryEvents::default()),
        risk: Arc::new(MemoryRisk::default()),
        sign_ups: Arc::new(OpenLedger),
        consents: Arc::new(crate::consent::current::CurrentDocuments::new(Arc::new(MemoryConsents::default()), Duration::from_secs(60))),
        own_account: Arc::new(MemoryAccount::default()),
        pool: Arc::new(EmptyPool::default()),
        session_policy: Default::default(),
        signers: Arc::new(Signers::new(Arc::new(MemoryKeys::default()), secrets)),
        issuer: "https://api.example.com".into(),
        relying_party: "localhost".into(),
        sms_destinations: Default::default(),
        breaches: None,
    }
}

/// Consent documents and decisions in memory, counting reads of people's records.
#[derive(Default)]
pub struct MemoryConsents {
    pub documents: Mutex<Vec<crate::consent::document::ConsentDocument>>,
    pub records: Mutex<Vec<crate::consent::ports::ConsentRecord>>,
    pub events: Mutex<Vec<IdentityEvent>>,
    pub person_reads: AtomicUsize,
    pub spent: Mutex<std::collections::HashSet<String>>,
    /// When set, recording fails with this error.
    pub record_failure: Mutex<Option<StoreError>>,
}

#[async_trait]
impl crate::consent::ports::ConsentStore for MemoryConsents {
    async fn documents(&self) -> Result<Vec<crate::consent::document::ConsentDocument>, StoreError> {
        Ok(self.documents.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
    async fn record(&self, records: &[crate::consent::ports::ConsentRecord], events: &[IdentityEvent]) -> Result<(), StoreError> {
        if let Some(e) = self.record_failure.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(e);
        }
        self.records.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(records);
        self.events.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(events);
        Ok(())
    }
    async fn spend(&self, id: &str, _: u64) -> Result<bool, StoreError> {
        Ok(self.spent.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_owned()))
    }
    async fn of_person(&self, username: &str) -> Result<Vec<crate::consent::ports::ConsentRecord>, StoreError> {
        self.person_reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.records.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|r| r.username == username).cloned().collect())
    }
    async fn of_version(&self, document: &crate::consent::document::DocumentId, version: u32) -> Result<Vec<crate::consent::ports::ConsentRecord>, StoreError> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Ok(records.iter().filter(|r| &r.document == document && r.version == version).cloned().collect())
    }
}

#[async_trait]
impl crate::admin::ports::AuditedConsents for MemoryConsents {
    async fn publish(&self, doc: &crate::consent::document::ConsentDocument, _: &crate::admin::audit::AuditRecord) -> Result<(), StoreError> {
        let mut all = self.documents.lock().unwrap_or_else(|p| p.into_inner());
        if all.iter().any(|d| d.id == doc.id && d.version == doc.version) {
            return Err(StoreError::Conflict);
        }
        all.push(doc.clone());
        Ok(())
    }
    /// Pages by (`at`, user name): records kept here have no id.
    async fn version_page(
        &self,
        document: &crate::consent::document::DocumentId,
        version: u32,
        after: Option<&crate::admin::ports::RecordCursor>,
        limit: usize,
    ) -> Result<crate::admin::ports::RecordPage, StoreError> {
        let mut records = crate::consent::ports::ConsentStore::of_version(self, document, version).await?;
        records.sort_by(|a, b| (a.at, &a.username).cmp(&(b.at, &b.username)));
        records.retain(|r| after.is_none_or(|c| (r.at, &r.username) > (c.at, &c.username)));
        let more = records.len() > limit;
        records.truncate(limit);
        let next_cursor = records
            .last()
            .filter(|_| more)
            .map(|r| crate::admin::ports::RecordCursor { at: r.at, id: uuid::Uuid::nil(), username: r.username.clone() }.to_string());
        Ok(crate::admin::ports::RecordPage { records, next_cursor })
    }
}

/// A person's own account in memory, by access token (`access-{email}`, as [`ScriptedAuth`]
/// issues them): passkey registration takes any credential with an `id`; a first password
/// change takes any previous password, a later one the last one set; deleting marks the
/// token's person deleted.
#[derive(Default)]
pub struct MemoryAccount {
    pub passkeys: Mutex<HashMap<String, Vec<crate::signin::ports::Passkey>>>,
    pub settings: Mutex<HashMap<String, crate::signin::ports::OwnSettings>>,
    pub passwords: Mutex<HashMap<String, String>>,
    pub deleted: Mutex<Vec<String>>,
    /// How many of the next removals (a factor turned off, a passkey deleted) are made but
    /// answered with an error, as when Cognito's answer is lost on the way: `Unavailable` for a
    /// factor, and for a passkey what the SDK's retry then meets (not found: `CodeMismatch`).
    pub lost_answers: std::sync::atomic::AtomicUsize,
}

impl MemoryAccount {
    /// `Err(lost)` once per lost answer, counting down.
    fn answer(&self, lost: AuthError) -> Result<(), AuthError> {
        use std::sync::atomic::Ordering;
        match self.lost_answers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
            Ok(_) => Err(lost),
            Err(_) => Ok(()),
        }
    }

    fn settings_of(&self, token: &AccessToken) -> std::sync::MutexGuard<'_, HashMap<String, crate::signin::ports::OwnSettings>> {
        let mut all = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(token.0.expose_secret().to_owned()).or_default();
        all
    }
}

#[async_trait]
impl crate::signin::ports::OwnAccount for MemoryAccount {
    async fn settings(&self, token: &AccessToken) -> Result<crate::signin::ports::OwnSettings, AuthError> {
        Ok(self.settings_of(token)[token.0.expose_secret()].clone())
    }
    async fn update_attributes(&self, token: &AccessToken, attributes: &[(&str, &str)]) -> Result<(), AuthError> {
        let mut all = self.settings_of(token);
        let held = all.get_mut(token.0.expose_secret()).ok_or(AuthError::ChallengeExpired)?;
        held.attributes.extend(attributes.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        Ok(())
    }
    async fn change_password(&self, token: &AccessToken, previous: &SecretString, proposed: &SecretString) -> Result<(), AuthError> {
        let mut all = self.passwords.lock().unwrap_or_else(|p| p.into_inner());
        let key = token.0.expose_secret().to_owned();
        if all.get(&key).is_some_and(|current| current.as_str() != previous.expose_secret()) {
            return Err(AuthError::InvalidCredentials);
        }
        all.insert(key, proposed.expose_secret().to_owned());
        Ok(())
    }
    async fn send_phone_code(&self, _: &AccessToken) -> Result<Option<String>, AuthError> {
        Ok(Some("+*******0000".into()))
    }
    async fn verify_phone(&self, token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        if code.expose_secret() != "123456" {
            return Err(AuthError::CodeMismatch);
        }
        self.update_attributes(token, &[("phone_number_verified", "true")]).await
    }
    /// The new address is kept pending (as the attribute `pending_email`, which Cognito would
    /// not show); its code is always `123456`.
    async fn change_email(&self, token: &AccessToken, email: &str) -> Result<Option<String>, AuthError> {
        self.update_attributes(token, &[("pending_email", email)]).await?;
        Ok(Some("n***@e***".into()))
    }
    /// The pending address becomes the email, verified; the code is spent with it.
    async fn verify_email(&self, token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        let mut all = self.settings_of(token);
        let held = all.get_mut(token.0.expose_secret()).ok_or(AuthError::ChallengeExpired)?;
        if code.expose_secret() != "123456" {
            return Err(AuthError::CodeMismatch);
        }
        let pending = held.attributes.remove("pending_email").ok_or(AuthError::CodeMismatch)?;
        held.attributes.extend([("email".to_owned(), pending), ("email_verified".to_owned(), "true".to_owned())]);
        Ok(())
    }
    async fn set_factor(&self, token: &AccessToken, factor: crate::signin::ports::Factor, enabled: bool) -> Result<(), AuthError> {
        let mut all = self.settings_of(token);
        let held = all.get_mut(token.0.expose_secret()).ok_or(AuthError::ChallengeExpired)?;
        held.factors.retain(|f| *f != factor);
        if enabled {
            held.factors.push(factor);
            return Ok(());
        }
        self.answer(AuthError::Unavailable("the answer was lost".into()))
    }
    async fn delete_user(&self, token: &AccessToken) -> Result<(), AuthError> {
        self.deleted.lock().unwrap_or_else(|p| p.into_inner()).push(token.0.expose_secret().to_owned());
        Ok(())
    }
    async fn start_passkey_registration(&self, _: &AccessToken) -> Result<Value, AuthError> {
        Ok(json!({"challenge": "c2NyaXB0ZWQ", "rp": {"id": "localhost", "name": "localhost"}}))
    }
    async fn complete_passkey_registration(&self, token: &AccessToken, credential: &Value) -> Result<(), AuthError> {
        let id = credential["id"].as_str().ok_or(AuthError::CodeMismatch)?.to_owned();
        let passkey = crate::signin::ports::Passkey { id, name: "Passkey".into(), attachment: None, created: 0 };
        self.passkeys.lock().unwrap_or_else(|p| p.into_inner()).entry(token.0.expose_secret().to_owned()).or_default().push(passkey);
        Ok(())
    }
    async fn passkeys(&self, token: &AccessToken) -> Result<Vec<crate::signin::ports::Passkey>, AuthError> {
        Ok(self.passkeys.lock().unwrap_or_else(|p| p.into_inner()).get(token.0.expose_secret()).cloned().unwrap_or_default())
    }
    async fn delete_passkey(&self, token: &AccessToken, id: &str) -> Result<(), AuthError> {
        let mut all = self.passkeys.lock().unwrap_or_else(|p| p.into_inner());
        let held = all.entry(token.0.expose_secret().to_owned()).or_default();
        let before = held.len();
        held.retain(|p| p.id != id);
        if held.len() == before { Err(AuthError::CodeMismatch) } else { self.answer(AuthError::CodeMismatch) }
    }
}

/// A key set in memory.
#[derive(Default)]
pub struct MemoryKeys(pub Mutex<KeySet>);

#[async_trait]
impl KeyStore for MemoryKeys {
    async fn key_set(&self) -> Result<Arc<KeySet>, StoreError> {
        Ok(Arc::new(self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()))
    }
}

/// Records every AWS request an SDK client sends, by its `X-Amz-Target` (for example
/// `AWSCognitoIdentityProviderService.InitiateAuth`), with its JSON body, so tests and
/// benchmarks can count round trips per operation and see what each asked for.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<(String, String)>>>);

impl CallLog {
    /// An HTTP client that records into this log and then sends through `inner`.
    pub fn wrap(&self, inner: aws_smithy_runtime_api::client::http::SharedHttpClient) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        aws_smithy_runtime_api::client::http::SharedHttpClient::new(calls::Recording { inner, log: self.clone() })
    }

    /// The calls so far, emptying the log.
    pub fn take(&self) -> Vec<String> {
        self.take_requests().into_iter().map(|(target, _)| target).collect()
    }

    /// The calls so far with their bodies (target, JSON text), emptying the log.
    pub fn take_requests(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many of `calls` went to the service whose targets start with `prefix`.
    pub fn count(calls: &[String], prefix: &str) -> usize {
        calls.iter().filter(|c| c.starts_with(prefix)).count()
    }
}

/// The most items the `Select=COUNT` queries among `requests` (from [`CallLog::take_requests`])
/// may read: the sum of their `Limit`s; `None` when one has no limit (it reads its whole range).
pub fn counted_at_most(requests: &[(String, String)]) -> Option<u64> {
    requests
        .iter()
        .filter(|(target, body)| target.ends_with(".Query") && body.contains(r#""Select":"COUNT""#))
        .map(|(_, body)| serde_json::from_str::<Value>(body).ok()?["Limit"].as_u64())
        .try_fold(0u64, |sum, limit| Some(sum.saturating_add(limit?)))
}

mod calls {
    use super::CallLog;
    use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

    #[derive(Debug)]
    pub(super) struct Recording {
        pub(super) inner: SharedHttpClient,
        pub(super) log: CallLog,
    }

    impl HttpClient for Recording {
        fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
            SharedHttpConnector::new(RecordingConnector { inner: self.inner.http_connector(settings, components), log: self.log.clone() })
        }
    }

    #[derive(Debug)]
    struct RecordingConnector {
        inner: SharedHttpConnector,
        log: CallLog,
    }

    impl HttpConnector for RecordingConnector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            // An AWS call by its target; anything else (the pool's JWKS) as `GET /path`.
            let target = match request.headers().get("x-amz-target") {
                Some(target) => target.to_owned(),
                None => format!("{} {}", request.method(), request.uri().split_once("://").map_or("", |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]))),
            };
            let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
            self.log.0.lock().unwrap_or_else(|p| p.into_inner()).push((target, body));
            self.inner.call(request)
        }
    }
}

/// Every corporate sign-in port, answering "unavailable": for tests of other paths.
pub struct Unreachable;

fn down() -> StoreError {
    StoreError::Unavailable("unreachable in this test".into())
}

#[async_trait]
impl OidcProvider for Unreachable {
    async fn metadata(&self, _: &str) -> Result<Arc<crate::signin::oidc::ProviderMetadata>, OidcError> {
        Err(OidcError::Unavailable("unreachable in this test".into()))
    }
    async fn exchange(&self, _: &crate::signin::oidc::ProviderMetadata, _: &CodeExchange<'_>) -> Result<String, OidcError> {
        Err(OidcError::Unavailable("unreachable in this test".into()))
    }
    async fn verify(&self, _: &crate::signin::oidc::ProviderMetadata, _: &str) -> Result<Map<String, Value>, OidcError> {
        Err(OidcError::Unavailable("unreachable in this test".into()))
    }
}

#[async_trait]
impl PendingLogins for Unreachable {
    async fn put(&self, _: &str, _: &crate::signin::corporate::PendingLogin) -> Result<(), StoreError> {
        Err(down())
    }
    async fn take(&self, _: &str) -> Result<Option<crate::signin::corporate::PendingLogin>, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl IdentityLinks for Unreachable {
    async fn find(&self, _: &OrgId, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        Err(down())
    }
    async fn save(&self, _: &OrgId, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        Err(down())
    }
}

#[async_trait]
impl crate::directory::ports::UserProvisioning for Unreachable {
    async fn create(&self, _: &crate::directory::scim::directory_user::DirectoryUser) -> Result<String, DirectoryError> {
        Err(DirectoryError::Unavailable("unreachable in this test".into()))
    }
}

#[async_trait]
impl UserDirectory for Unreachable {
    async fn create(&self, _: &crate::directory::scim::directory_user::DirectoryUser) -> Result<String, DirectoryError> {
        Err(DirectoryError::Unavailable("unreachable in this test".into()))
    }
    async fn update(
        &self,
        _: &str,
        _: Option<&crate::directory::scim::directory_user::DirectoryUser>,
        _: &crate::directory::scim::directory_user::DirectoryUser,
    ) -> Result<(), DirectoryError> {
        Err(DirectoryError::Unavailable("unreachable in this test".into()))
    }
    async fn set_enabled(&self, _: &str, _: bool) -> Result<(), DirectoryError> {
        Err(DirectoryError::Unavailable("unreachable in this test".into()))
    }
    async fn delete(&self, _: &str) -> Result<(), DirectoryError> {
        Err(DirectoryError::Unavailable("unreachable in this test".into()))
    }
}

#[async_trait]
impl ScimStore for Unreachable {
    async fn get(&self, _: &OrgId, _: Kind, _: &str) -> Result<Option<ScimEntry>, StoreError> {
        Err(down())
    }
    async fn lookup(&self, _: &OrgId, _: Kind, _: &Lookup, _: usize) -> Result<Vec<ScimEntry>, StoreError> {
        Err(down())
    }
    async fn page(&self, _: &OrgId, _: Kind, _: usize, _: usize, _: u64) -> Result<(Vec<ScimEntry>, usize), StoreError> {
        Err(down())
    }
    async fn all(&self, _: &OrgId, _: Kind, _: usize) -> Result<Vec<ScimEntry>, StoreError> {
        Err(down())
    }
    async fn create(&self, _: &OrgId, _: &Record, _: &[Value], _: Option<&IdentityEvent>) -> Result<(), StoreError> {
        Err(down())
    }
    async fn replace(&self, _: &OrgId, _: &ScimEntry, _: &Record, _: Option<&IdentityEvent>) -> Result<(), StoreError> {
        Err(down())
    }
    async fn delete(&self, _: &OrgId, _: &ScimEntry, _: Deletion, _: Option<&IdentityEvent>) -> Result<(), StoreError> {
        Err(down())
    }
    async fn synced(&self, _: &OrgId, _: &ScimEntry, _: &Link) -> Result<bool, StoreError> {
        Err(down())
    }
    async fn sync_failed(&self, _: &OrgId, _: &ScimEntry, _: &str) -> Result<(), StoreError> {
        Err(down())
    }
    async fn pending(&self, _: &OrgId) -> Result<Vec<ScimEntry>, StoreError> {
        Err(down())
    }
    async fn members(&self, _: &OrgId, _: &str) -> Result<Vec<Value>, StoreError> {
        Err(down())
    }
    async fn groups_of(&self, _: &OrgId, _: &str) -> Result<Vec<String>, StoreError> {
        Err(down())
    }
    async fn update_group(&self, _: &OrgId, _: &ScimEntry, _: &Record, _: &[MemberChange]) -> Result<(), StoreError> {
        Err(down())
    }
}

/// A corporate sign-in service over in-memory organisations whose other ports are unreachable.
pub fn corporate_service(orgs: Arc<MemoryOrgs>) -> crate::signin::corporate::Corporate {
    SignIn::new(sign_in_ports(Arc::new(ScriptedAuth::default()), orgs)).corporate(crate::signin::corporate::CorporatePorts {
        provider: Arc::new(Unreachable),
        pending: Arc::new(Unreachable),
        links: Arc::new(Unreachable),
        scim: Arc::new(Unreachable),
        directory: Arc::new(Unreachable),
        redirect_uri: "https://api.example.com/corporate/callback".into(),
    })
}

/// Workflow runs, dead letters and pauses, in memory.
#[derive(Default)]
pub struct MemoryRuns {
    pub runs: Mutex<HashMap<String, crate::workflows::runner::RunRecord>>,
    pub dead: Mutex<Vec<crate::workflows::runner::RunRecord>>,
    pub pauses: Mutex<Vec<u64>>,
}

#[async_trait]
impl RunStore for MemoryRuns {
    async fn begin(&self, run: &crate::workflows::runner::RunRecord) -> Result<bool, StoreError> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        if runs.contains_key(&run.run_id) {
            return Ok(false);
        }
        runs.insert(run.run_id.clone(), run.clone());
        Ok(true)
    }
    async fn finish(&self, run: &crate::workflows::runner::RunRecord) -> Result<(), StoreError> {
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).insert(run.run_id.clone(), run.clone());
        Ok(())
    }
}

#[async_trait]
impl DeadLetters for MemoryRuns {
    async fn send(&self, run: &crate::workflows::runner::RunRecord) -> Result<(), StoreError> {
        self.dead.lock().unwrap_or_else(|p| p.into_inner()).push(run.clone());
        Ok(())
    }
}

#[async_trait]
impl Pause for MemoryRuns {
    async fn pause(&self, seconds: u64) {
        self.pauses.lock().unwrap_or_else(|p| p.into_inner()).push(seconds);
    }
}

/// Connectors that answer from a script, in order, and remember what they were asked.
#[derive(Default)]
pub struct ScriptedConnectors {
    answers: Mutex<std::collections::VecDeque<crate::workflows::runner::StepOutcome>>,
    asked: Mutex<Vec<crate::workflows::flow::Action>>,
    pub calls: AtomicUsize,
}

impl ScriptedConnectors {
    pub fn answering(answers: impl IntoIterator<Item = crate::workflows::runner::StepOutcome>) -> Self {
        Self { answers: Mutex::new(answers.into_iter().collect()), ..Self::default() }
    }

    pub fn push(&self, answer: crate::workflows::runner::StepOutcome) {
        self.answers.lock().unwrap_or_else(|p| p.into_inner()).push_back(answer);
    }

    pub fn calls(&self) -> Vec<crate::workflows::flow::Action> {
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Connectors for ScriptedConnectors {
    async fn call(&self, action: &crate::workflows::flow::Action) -> crate::workflows::runner::StepOutcome {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.asked.lock().unwrap_or_else(|p| p.into_inner()).push(action.clone());
        let next = self.answers.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        next.unwrap_or_else(|| crate::workflows::runner::StepOutcome::Failed("no scripted answer".into()))
    }
}

/// moto for benchmarks and integration tests: started from the project `root` on a free port
/// (`scripts/moto_server.py`, which stops itself when this process exits); the child and its URL.
pub fn start_moto(root: &std::path::Path, env: &[(&str, &str)]) -> std::io::Result<(std::process::Child, String)> {
    use std::io::{BufRead, BufReader, Error};
    let mut command = std::process::Command::new("python3");
    command.args(["scripts/moto_server.py", "0"]).current_dir(root).stdout(std::process::Stdio::piped()).envs(env.iter().copied());
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| Error::other("moto has no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let port = line.trim().strip_prefix("READY ").ok_or_else(|| Error::other(format!("moto did not start: {line:?}")))?;
    Ok((child, format!("http://127.0.0.1:{port}")))
}

/// An SDK configuration for moto at `endpoint` (plain HTTP), recording every call in `calls`.
///
/// Its timeouts are the functions' ([`timeouts`](crate::adapters::aws::timeouts)) but for an
/// attempt's and a read's, 10 s instead of 2 (and 20 s a call): moto is one Python process, and during a full
/// test run on two cores it answers a call now and then after more than 2 s. The retry that timeout
/// would start repeats a call the tests count, and one that spends a Cognito session (an answer to
/// `SELECT_MFA_TYPE`) then reads as that session's expiry, a failure AWS would not give.
pub async fn moto_sdk(endpoint: &str, calls: &CallLog) -> aws_config::SdkConfig {
    let timeouts = crate::adapters::aws::timeouts()
        .to_builder()
        .operation_attempt_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(20))
        .build();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("ap-northeast-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "moto"))
        .timeout_config(timeouts)
        .load()
        .await;
    sdk.to_builder().http_client(calls.wrap(aws_smithy_http_client::Builder::new().build_http())).build()
}

/// An SDK configuration whose every AWS request is answered at once by `replay(target, body)`
/// (`target` is the request's `x-amz-target`), with the calls counted: for benchmarks of the
/// bridge's own time.
pub async fn replayed_sdk(replay: impl Fn(&str, &str) -> Value + Send + Sync + 'static) -> (aws_config::SdkConfig, CallLog) {
    use aws_smithy_types::body::SdkBody;
    let calls = CallLog::default();
    let http = calls.wrap(aws_smithy_http_client::test_util::infallible_client_fn(move |request: http::Request<SdkBody>| {
        let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
        let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
        let answer = replay(target, &body);
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(answer.to_string()))
            .unwrap_or_else(|e| panic!("{e}"))
    }));
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-northeast-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("bench", "bench", None, None, "bench"))
        .http_client(http)
        .timeout_config(crate::adapters::aws::timeouts())
        .load()
        .await;
    (sdk, calls)
}

/// One of AWS's example Cognito trigger events (`example-cognito-event-userpools-{name}.json`),
/// as published with the `aws_lambda_events` crate: read from that crate's sources in Cargo's
/// registry (the version in `Cargo.lock`), unchanged.
pub fn aws_event_fixture(name: &str) -> Value {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap_or_default();
    let version = lock.split("name = \"aws_lambda_events\"\nversion = \"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    let registries = std::fs::read_dir(format!("{cargo_home}/registry/src")).into_iter().flatten().flatten();
    for registry in registries {
        let path = registry.path().join(format!("aws_lambda_events-{version}/src/fixtures/example-cognito-event-userpools-{name}.json"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    panic!("no AWS fixture {name} for aws_lambda_events {version} under {cargo_home}");
}

/// One request through a function's router, its body read whole: how the benchmarks and tests
/// call the login and SCIM functions without Lambda's event conversion.
pub async fn oneshot<B>(router: &axum::Router, request: http::Request<B>) -> http::Response<axum::body::Bytes>
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    use tower::ServiceExt;
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    http::Response::from_parts(parts, bytes)
}
