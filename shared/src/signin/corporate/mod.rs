//! Corporate sign-in: from a work email to the person's Cognito user, through their company's
//! own OpenID provider.
//!
//! 1. [`Corporate::start`]: the email's domain names the organisation; a sealed flow token for step 2.
//! 2. [`Corporate::open`] (in the browser whose form asked only), then [`Corporate::begin`]: a fresh `state` (`{org id}.{random}`), `nonce` and PKCE verifier.
//!    What the code exchange needs (the state's digest, the organisation, the app, the nonce, the
//!    verifier) is sealed, encrypted, into a binding cookie; the pending sign-in (the context and
//!    the cookie's digest, under the digest of `state`) is stored; and the browser is sent to the
//!    provider.
//! 3. [`Corporate::finish`]: the callback. The pending sign-in is taken (once) while the code is
//!    exchanged with what the cookie carries; the cookie must be the pending sign-in's, or the
//!    exchange is thrown away. The ID token is verified (signature by the adapter, claims by
//!    `oidc::check_claims`), the email must be in the organisation's domains,
//!    and the person is matched to a Cognito user: by provider and subject, then by email
//!    (through SCIM, or created on first sign-in, as the connection says). A deactivated person
//!    is always refused. A link to a user since deleted counts as none.
//!
//! Minting the app's token and the session are the sign-in service's (`SignIn::complete`);
//! which Cognito user an identity is, [`person`]'s.

pub mod client_secret;
mod error;
mod person;

pub use error::CorporateError;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::common::email::Email;
use crate::common::store::StoreError;
use crate::directory::org::{Connection, EmailDomain, OrgId, Organisation};
use crate::directory::ports::{IdentityLinks, PoolUser, ScimReads, UserProvisioning};
use crate::signin::flow;
use crate::signin::flow::{Purpose, SignInContext};
use crate::signin::oidc;
use crate::signin::oidc::{Authorize, Identity, ProviderMetadata};
use crate::signin::ports::{CodeExchange, OidcError, OidcProvider};
use crate::signin::service::{Prior, SignInPorts};
use crate::signin::session::ProviderLogout;
use crate::tokens::app::AppId;

/// How long a person may take at their provider (seconds).
pub const PENDING_TTL: u64 = 10 * 60;
/// The cookie binding a pending sign-in to the browser that started it.
pub const BINDING_COOKIE: &str = "__Host-bridge_corporate";

/// Step 1's result, sealed for step 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorporateStart {
    pub ctx: SignInContext,
    pub org: OrgId,
    pub email: String,
}

/// A sign-in waiting for the provider's callback, kept under the digest of its `state`: what
/// makes the `state` good once, for the browser that holds its binding cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub ctx: SignInContext,
    /// Digest of the binding cookie's value.
    pub binding: String,
    pub expires_at: u64,
}

/// What the code exchange needs of the authorization request, sealed (encrypted: the browser
/// can neither read nor change it) into the binding cookie, so the exchange needs no read. Small
/// whatever the app's request (its `return_to` stays in the pending sign-in): a cookie stays
/// well under the 4 KB browsers keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BoundRequest {
    /// Digest of the `state` sent with it: another state's callback exchanges nothing.
    state: String,
    org: OrgId,
    /// The app the sign-in is for (what minting its token needs loads beside the exchange).
    app: AppId,
    nonce: String,
    /// The PKCE `code_verifier` (RFC 7636).
    verifier: String,
}

/// A code exchanged and its ID token checked, for an organisation: who the provider says it is.
struct Exchanged {
    org: Arc<Organisation>,
    connection: Connection,
    identity: Identity,
    id_token: String,
    end_session_endpoint: Option<String>,
    /// The client secret, sealed, to keep in the organisation's record: the provider took it.
    sealed_secret: Option<String>,
}

/// Where a code exchange's client secret came from, and what that asks of the organisation's
/// record afterwards.
enum SecretSource {
    /// No secret (a public client), or the value this instance held.
    Held,
    /// The copy sealed in the organisation's record: dropped if the provider refuses the client.
    Sealed,
    /// Secrets Manager, just read: this sealed copy is kept once the provider takes it.
    Read(String),
}

/// Whether the token endpoint's error (`OidcError::Refused`'s code) refuses the client's
/// authentication (RFC 6749 5.2 `invalid_client`, or a bare 401), not the code.
fn client_refused(code: &str) -> bool {
    code == "invalid_client" || code.starts_with("401")
}

/// Step 2's result: where to send the browser, and the binding cookie's value.
#[derive(Debug)]
pub struct Redirect {
    pub url: String,
    pub binding: String,
}

/// Step 3's result: who signed in, for which app.
#[derive(Debug)]
pub struct Finished {
    pub ctx: SignInContext,
    pub org: OrgId,
    pub user: PoolUser,
    pub provider_logout: Option<ProviderLogout>,
    /// The provider says a second factor was used (`oidc::Identity::second_factor`).
    pub second_factor: bool,
    /// The history of the email the provider gave, read beside the account lookup.
    pub(super) prior: Option<Prior>,
}

/// A callback failure, with the sign-in context when the state was good (so the form can offer
/// to try again for the same app).
#[derive(Debug)]
pub struct Failure {
    pub ctx: Option<SignInContext>,
    pub error: CorporateError,
}

impl<E: Into<CorporateError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self { ctx: None, error: e.into() }
    }
}

/// What the callback received.
pub struct Callback<'a> {
    pub state: &'a str,
    pub code: Option<&'a str>,
    /// The provider's `error` parameter.
    pub error: Option<&'a str>,
    /// The binding cookie's value.
    pub binding: Option<&'a str>,
}

/// What corporate sign-in needs besides the ports every sign-in shares.
pub struct CorporatePorts {
    pub provider: Arc<dyn OidcProvider>,
    pub pending: Arc<dyn PendingLogins>,
    pub links: Arc<dyn IdentityLinks>,
    pub scim: Arc<dyn ScimReads>,
    pub directory: Arc<dyn UserProvisioning>,
    /// Our callback URL, exactly as registered at the providers; empty: corporate sign-in is off.
    pub redirect_uri: String,
}

/// Where the email typed first leads ([`Corporate::identify`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Identified {
    /// To the organisation's provider (the sealed flow for [`Corporate::begin`]).
    Corporate(String),
    /// The organisation's provider, or a password (its policy allows both): the flow, offered.
    Either(String),
    /// The ways to sign in of the pool's own.
    Local,
}

/// Corporate sign-in over the shared sign-in ports (organisations, the pool, secrets, apps, risk)
/// and its own; made by [`SignIn::corporate`](super::SignIn::corporate).
pub struct Corporate {
    shared: Arc<SignInPorts>,
    ports: CorporatePorts,
}

impl Corporate {
    pub(super) fn new(shared: Arc<SignInPorts>, ports: CorporatePorts) -> Self {
        Self { shared, ports }
    }

    /// Finds the organisation by the email's domain; returns the sealed flow for [`Self::begin`].
    /// An unknown domain and an organisation without a connection read the same.
    pub async fn start(&self, ctx: &str, email: &str, now: u64) -> Result<String, CorporateError> {
        Ok(self.start_with(ctx, email, now).await?.0)
    }

    /// [`Self::start`], with the organisation found.
    async fn start_with(&self, ctx: &str, email: &str, now: u64) -> Result<(String, Arc<Organisation>), CorporateError> {
        let key = self.shared.secrets.bridge().await?;
        let ctx: SignInContext = flow::open(&key.flow_key, Purpose::Context, ctx, now)?;
        let email = Email::parse(email).map_err(|_| CorporateError::BadInput("email"))?;
        let domain = EmailDomain::of(&email).map_err(|_| CorporateError::BadInput("email"))?;
        if self.ports.redirect_uri.is_empty() {
            return Err(CorporateError::Unconfigured);
        }
        let org = self.shared.orgs.owner_of(&domain).await?.filter(|o| o.connection.is_some()).ok_or(CorporateError::UnknownDomain)?;
        let start = CorporateStart { ctx, org: org.id.clone(), email: email.as_str().to_owned() };
        Ok((flow::seal(&key.flow_key, Purpose::Corporate, now + PENDING_TTL, &start), org))
    }

    /// The email a person types first (identifier-first sign-in), by its domain alone (never
    /// the person, so the answer says nothing about whether an account exists): an
    /// organisation's with a provider is [`Identified::Corporate`] (its people sign in there
    /// only) or [`Identified::Either`] (its policy also lets them use a password), with the
    /// sealed flow of [`Self::start`]; any other, or corporate sign-in off, is
    /// [`Identified::Local`].
    ///
    /// # Errors
    /// A context that does not open, an address that is not one (`BadInput("email")`), the
    /// store unreachable.
    pub async fn identify(&self, ctx: &str, email: &str, now: u64) -> Result<Identified, CorporateError> {
        match self.start_with(ctx, email, now).await {
            Ok((flow, org)) if org.policies.password_sign_in => Ok(Identified::Either(flow)),
            Ok((flow, _)) => Ok(Identified::Corporate(flow)),
            Err(CorporateError::UnknownDomain | CorporateError::Unconfigured) => Ok(Identified::Local),
            Err(e) => Err(e),
        }
    }

    /// Opens step 1's sealed flow, only in the browser whose form asked for it (`device`: its
    /// device cookie; [`CorporateError::OtherBrowser`] elsewhere): the binding [`Self::begin`]
    /// gives makes the provider's answer that browser's sign-in, so a link carried to another
    /// browser would plant whoever signs in at the provider there (login CSRF).
    pub async fn open(&self, flow_token: &str, device: Option<&str>, now: u64) -> Result<CorporateStart, CorporateError> {
        let key = self.shared.secrets.bridge().await?;
        let start: CorporateStart = flow::open(&key.flow_key, Purpose::Corporate, flow_token, now)?;
        if !flow::device_shown(start.ctx.device.as_deref(), device) {
            return Err(CorporateError::OtherBrowser);
        }
        Ok(start)
    }

    /// Stores a pending sign-in for `start` (opened by [`Self::open`]) and returns the
    /// provider's authorization URL and the binding.
    pub async fn begin(&self, start: CorporateStart, now: u64) -> Result<Redirect, CorporateError> {
        let key = self.shared.secrets.bridge().await?;
        let (_, connection) = self.connection(&start.org).await?;
        let metadata = self.metadata(&connection).await?;
        // The organisation leads the state, so the callback can load its connection beside the take.
        let state = format!("{}.{}", start.org.as_str(), crate::common::random::token());
        let (nonce, verifier) = (crate::common::random::token(), crate::common::random::token());
        let request = Authorize {
            connection: &connection,
            redirect_uri: &self.ports.redirect_uri,
            state: &state,
            nonce: &nonce,
            verifier: &verifier,
            login_hint: Some(&start.email),
            fresh: start.ctx.fresh(),
        };
        let url = oidc::authorize_url(&metadata, &request).map_err(|e| OidcError::Unavailable(e.into()))?;
        let expires_at = now + PENDING_TTL;
        let bound = BoundRequest { state: crate::common::hashing::digest(&state), org: start.org, app: start.ctx.app.clone(), nonce, verifier };
        let binding = flow::seal_private(&key.flow_key, Purpose::CorporateBinding, expires_at, &bound)?;
        self.ports
            .pending
            .put(&crate::common::hashing::digest(&state), &PendingLogin { ctx: start.ctx, binding: crate::common::hashing::digest(&binding), expires_at })
            .await?;
        Ok(Redirect { url: url.into(), binding })
    }

    /// The callback: everything an OpenID relying party must check, then the person's user.
    ///
    /// The pending sign-in is taken before anything is decided or written: a state is good
    /// for one attempt, whatever its outcome. Beside the take, once the binding cookie proves the
    /// state is one we issued, the code is exchanged with what the cookie carries (and the
    /// cookie's app loads: what minting its token needs, a failure being the completion's to
    /// report), so the provider's round trip and the take overlap; an exchange whose take fails
    /// is thrown away. What that costs: a spent state shown again with its own cookie still
    /// reaches the provider's token endpoint (which refuses a code used before); of two
    /// callbacks of one sign-in at once, the one that loses the take may be the one that redeems
    /// the code; and a take that fails leaves the code spent. From the first moment, the
    /// organisation the state names ahead of its dot is read (a warm-up only, never trusted:
    /// nothing outside the table is called for a state we did not issue). The state counts
    /// whole (its digest keys the pending sign-in), so one with another organisation's id put in
    /// front finds nothing to take, and is answered as soon as the take is (all else dropped).
    pub async fn finish(&self, callback: Callback<'_>, now: u64) -> Result<Finished, Failure> {
        if callback.state.is_empty() || callback.state.len() > 128 {
            return Err(CorporateError::InvalidState.into());
        }
        let key = crate::common::hashing::digest(callback.state);
        let named = callback.state.split_once('.').and_then(|(org, _)| OrgId::parse(org).ok());
        let exchange = async {
            let issued = async {
                let bound = self.bound(callback.binding, &key, now).await?;
                tokio::join!(self.exchanged(&bound, &callback, now), self.shared.app_ready_to_mint(bound.app.as_str(), now)).0
            };
            tokio::join!(self.warm(named), issued).1
        };
        let take = self.ports.pending.take(&key);
        tokio::pin!(take, exchange);
        let mut exchanged = None;
        let taken = loop {
            tokio::select! {
                taken = &mut take => break taken,
                done = &mut exchange, if exchanged.is_none() => exchanged = Some(done),
            }
        };
        let pending = taken?.ok_or(CorporateError::InvalidState)?;
        // The cookie is the one made for this state (its digest is the pending sign-in's), so
        // what it carries is what `begin` sealed for it.
        let bound =
            callback.binding.is_some_and(|b| subtle::ConstantTimeEq::ct_eq(crate::common::hashing::digest(b).as_bytes(), pending.binding.as_bytes()).into());
        if pending.expires_at <= now || !bound {
            return Err(CorporateError::InvalidState.into());
        }
        let exchanged = match exchanged {
            Some(done) => done,
            None => exchange.await,
        };
        let finished = match exchanged {
            Ok(exchanged) => self.finished(pending.ctx.clone(), exchanged, now).await,
            Err(error) => Err(error),
        };
        // A cookie that does not open for this state (`bound`, the only source of `InvalidState`
        // here) is the page's; any other failure, an outage opening the cookie included, goes
        // back to the form for the same app.
        finished.map_err(|error| Failure { ctx: (!matches!(error, CorporateError::InvalidState)).then_some(pending.ctx), error })
    }

    /// The authorization request the binding cookie carries for the state of digest `state`; a
    /// cookie `begin` did not seal (or sealed too long ago, or for another state) is
    /// `InvalidState`, so a forged state never spends the provider's code.
    async fn bound(&self, cookie: Option<&str>, state: &str, now: u64) -> Result<BoundRequest, CorporateError> {
        let key = self.shared.secrets.bridge().await?;
        let cookie = cookie.ok_or(CorporateError::InvalidState)?;
        let bound: BoundRequest = flow::open_private(&key.flow_key, Purpose::CorporateBinding, cookie, now).map_err(|_| CorporateError::InvalidState)?;
        if bound.state != state {
            return Err(CorporateError::InvalidState);
        }
        Ok(bound)
    }

    /// The provider's answer checked: the code exchanged (PKCE), the ID token verified (signature
    /// by the adapter, claims by `oidc::check_claims`) and its email in the organisation's
    /// domains. Writes nothing, but for dropping the organisation's sealed copy of its client
    /// secret when the provider refuses the client with it.
    async fn exchanged(&self, request: &BoundRequest, callback: &Callback<'_>, now: u64) -> Result<Exchanged, CorporateError> {
        if let Some(error) = callback.error {
            return Err(CorporateError::ProviderDenied(error.chars().take(64).collect()));
        }
        let code = callback.code.filter(|c| !c.is_empty() && c.len() <= 2048).ok_or(CorporateError::BadInput("code"))?;
        let (org, connection) = self.connection(&request.org).await?;
        let (metadata, secret) = tokio::join!(self.metadata(&connection), self.client_secret(&org, &connection, now));
        let (metadata, (secret, source)) = (metadata?, secret?);
        let exchange = CodeExchange {
            code,
            verifier: &request.verifier,
            redirect_uri: &self.ports.redirect_uri,
            client_id: &connection.client_id,
            client_secret: secret.as_deref(),
        };
        // The provider's keys load beside the token request (cold), not after it.
        let (id_token, ()) = tokio::join!(self.ports.provider.exchange(&metadata, &exchange), self.ports.provider.prefetch_keys(&metadata));
        let id_token = match (id_token, &source) {
            // The sealed copy is not (or no longer) the client's secret: the next callback reads
            // Secrets Manager.
            (Err(OidcError::Refused(code)), SecretSource::Sealed) if client_refused(&code) => {
                self.set_sealed_secret(&org, None).await;
                Err(OidcError::Refused(code))
            }
            (id_token, _) => id_token,
        }?;
        let claims = self.ports.provider.verify(&metadata, &id_token).await?;
        oidc::check_claims(&claims, &connection.issuer, &connection.client_id, &request.nonce, now)?;
        let identity = oidc::identity(&claims, connection.email_claim)?;
        let domain = EmailDomain::of(&identity.email).map_err(|_| CorporateError::OutsideDomain)?;
        if !org.owns(&domain) {
            return Err(CorporateError::OutsideDomain);
        }
        let sealed_secret = match source {
            SecretSource::Read(sealed) => Some(sealed),
            SecretSource::Held | SecretSource::Sealed => None,
        };
        Ok(Exchanged { org, connection, identity, id_token, end_session_endpoint: metadata.end_session_endpoint.clone(), sealed_secret })
    }

    /// The person the provider vouched for: their Cognito user, and their sign-in history.
    async fn finished(&self, ctx: SignInContext, exchanged: Exchanged, now: u64) -> Result<Finished, CorporateError> {
        let Exchanged { org, connection, identity, id_token, end_session_endpoint, sealed_secret } = exchanged;
        // The person's sign-in history is read beside their account, by the email the provider
        // gives; the assessment uses it only if it is that account's own verified email. The
        // client secret the provider took is kept, sealed, for the next cold start meanwhile.
        let keep = async {
            if let Some(sealed) = &sealed_secret {
                self.set_sealed_secret(&org, Some(sealed)).await;
            }
        };
        let (user, prior, ()) = tokio::join!(self.user_for(&org, &connection, &identity), self.shared.prior(identity.email.as_str(), now), keep);
        let user = user?;
        let provider_logout = match (end_session_endpoint, connection.single_logout) {
            (Some(end_session_endpoint), true) => {
                Some(ProviderLogout { end_session_endpoint, client_id: connection.client_id.clone(), id_token_hint: id_token })
            }
            _ => None,
        };
        Ok(Finished { ctx, org: org.id.clone(), user, provider_logout, second_factor: identity.second_factor, prior })
    }

    /// The connection's client secret (`None` for a public client) and where it came from: the
    /// value this instance loaded within its cache's time, else the copy sealed in the
    /// organisation's record ([`client_secret`]), else Secrets Manager's (sealed, to keep once the
    /// provider takes it; not a value held past its time because Secrets Manager failed).
    async fn client_secret(&self, org: &Organisation, connection: &Connection, now: u64) -> Result<(Option<Arc<SecretString>>, SecretSource), StoreError> {
        let Some(reference) = &connection.client_secret else { return Ok((None, SecretSource::Held)) };
        if let Some(value) = self.shared.secrets.fresh_value(reference) {
            return Ok((Some(value), SecretSource::Held));
        }
        let key = self.shared.secrets.bridge().await?;
        let sealed = connection.sealed_secret.as_deref();
        if let Some(value) = sealed.and_then(|sealed| client_secret::open(&key.flow_key, sealed, org, reference, now)) {
            return Ok((Some(Arc::new(value)), SecretSource::Sealed));
        }
        let (value, loaded) = self.shared.secrets.value_loaded(reference).await?;
        let sealed = loaded.then(|| client_secret::seal(&key.flow_key, org, reference, &value, now)).flatten();
        Ok((Some(value), sealed.map_or(SecretSource::Held, SecretSource::Read)))
    }

    /// Keeps `sealed` as the organisation's sealed client secret (`None`: drops the one kept),
    /// over the version read; a failure is logged (the next cold callback reads Secrets Manager).
    async fn set_sealed_secret(&self, org: &Organisation, sealed: Option<&str>) {
        if let Err(e) = self.shared.orgs.set_sealed_secret(&org.id, org.version, sealed).await {
            tracing::warn!(org = %org.id, error = %e, "could not change the connection's sealed client secret");
        }
    }

    /// The provider's metadata: the document kept with the connection when it was saved (if it
    /// still names the connection's issuer), else discovered (cached).
    async fn metadata(&self, connection: &Connection) -> Result<Arc<ProviderMetadata>, OidcError> {
        match &connection.metadata {
            Some(kept) if kept.check(&connection.issuer).is_ok() => Ok(Arc::new(kept.clone())),
            _ => self.ports.provider.metadata(&connection.issuer).await,
        }
    }

    /// Reads organisation `org` into the cache, before the binding cookie can be opened (a cold
    /// start loads the bridge's key meanwhile). A failure is left for the callback to meet; an
    /// unknown organisation costs one read and leaves nothing cached.
    async fn warm(&self, org: Option<OrgId>) {
        if let Some(org) = org {
            let _ = self.shared.orgs.org(&org).await;
        }
    }

    async fn connection(&self, org: &OrgId) -> Result<(Arc<Organisation>, Connection), CorporateError> {
        let org = self.shared.orgs.org(org).await?.ok_or(CorporateError::NotConnected)?;
        let connection = org.connection.clone().ok_or(CorporateError::NotConnected)?;
        Ok((org, connection))
    }
}

/// Corporate sign-ins between the redirect to the provider and its callback, keyed by the
/// digest of `state`. Each is taken at most once.
#[async_trait]
pub trait PendingLogins: Send + Sync {
    async fn put(&self, key: &str, login: &PendingLogin) -> Result<(), StoreError>;
    /// Removes and returns the sign-in (atomically: a second take of one key finds nothing).
    async fn take(&self, key: &str) -> Result<Option<PendingLogin>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::SignIn;
    use crate::signin::oidc::ProviderMetadata;
    use crate::testing::{DEMO_APP, MemoryOrgs, ScriptedAuth, Unreachable, sign_in_ports};
    use serde_json::{Map, Value, json};
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::sync::Notify;

    const ISSUER: &str = "https://idp.corp.example";
    const NOW: u64 = 1_000_000;

    /// A provider whose token endpoint says it was called, then fails.
    struct Provider(Arc<Notify>);

    #[async_trait]
    impl OidcProvider for Provider {
        async fn metadata(&self, _: &str) -> Result<Arc<ProviderMetadata>, OidcError> {
            let endpoint = |path: &str| format!("{ISSUER}/{path}");
            Ok(Arc::new(ProviderMetadata {
                issuer: ISSUER.into(),
                authorization_endpoint: endpoint("authorize"),
                token_endpoint: endpoint("token"),
                jwks_uri: endpoint("jwks"),
                end_session_endpoint: None,
            }))
        }
        async fn exchange(&self, _: &ProviderMetadata, _: &CodeExchange<'_>) -> Result<String, OidcError> {
            self.0.notify_one();
            Err(OidcError::Unavailable("the test's provider".into()))
        }
        async fn verify(&self, _: &ProviderMetadata, _: &str) -> Result<Map<String, Value>, OidcError> {
            Err(OidcError::Unavailable("the test's provider".into()))
        }
    }

    /// Pending sign-ins whose take answers only once the provider's token endpoint was called.
    struct TakenAfterTheExchange {
        kept: Mutex<HashMap<String, PendingLogin>>,
        exchanged: Arc<Notify>,
    }

    #[async_trait]
    impl PendingLogins for TakenAfterTheExchange {
        async fn put(&self, key: &str, login: &PendingLogin) -> Result<(), StoreError> {
            self.kept.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), login.clone());
            Ok(())
        }
        async fn take(&self, key: &str) -> Result<Option<PendingLogin>, StoreError> {
            self.exchanged.notified().await;
            Ok(self.kept.lock().unwrap_or_else(|p| p.into_inner()).remove(key))
        }
    }

    /// The sign-in service with an organisation owning `corp.example` through `connection`.
    fn service(connection: Connection, provider: Arc<dyn OidcProvider>, pending: Arc<dyn PendingLogins>) -> (SignIn, Corporate) {
        let org = Organisation {
            id: OrgId::parse("org-corp").unwrap_or_else(|e| panic!("{e}")),
            name: "Corp".into(),
            domains: vec![EmailDomain::parse("corp.example").unwrap_or_else(|e| panic!("{e}"))],
            policies: Default::default(),
            connection: Some(connection),
            version: 1,
        };
        let orgs = Arc::new(MemoryOrgs::default());
        orgs.orgs.lock().unwrap_or_else(|p| p.into_inner()).insert(org.id.clone(), org);
        let sign_in = SignIn::new(sign_in_ports(Arc::new(ScriptedAuth::default()), orgs));
        let corporate = sign_in.corporate(CorporatePorts {
            provider,
            pending,
            links: Arc::new(Unreachable),
            scim: Arc::new(Unreachable),
            directory: Arc::new(Unreachable),
            redirect_uri: "https://api.example.com/corporate/callback".into(),
        });
        (sign_in, corporate)
    }

    fn oidc_connection() -> Connection {
        serde_json::from_value(json!({"kind": "oidc", "issuer": ISSUER, "client_id": "bridge"})).unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_code_is_exchanged_while_the_pending_sign_in_is_being_taken() {
        let exchanged = Arc::new(Notify::new());
        let pending = Arc::new(TakenAfterTheExchange { kept: Mutex::default(), exchanged: exchanged.clone() });
        let (sign_in, corporate) = service(oidc_connection(), Arc::new(Provider(exchanged)), pending);
        // The longest `return_to` an app may ask for stays in the pending sign-in: the cookie
        // keeps well under the 4 KB browsers store.
        let origin = crate::tokens::return_to::Origin::parse("https://acme.zendesk.com").unwrap_or_else(|e| panic!("{e}"));
        let long = format!("https://acme.zendesk.com/hc/{}", "a".repeat(2000));
        let return_to = crate::tokens::return_to::ReturnTo::check(&long, &[origin]).unwrap_or_else(|_| panic!("a return_to"));
        let ctx = SignInContext {
            app: AppId::parse(DEMO_APP).unwrap_or_else(|e| panic!("{e}")),
            return_to: Some(return_to),
            nonce: None,
            authorization: None,
            device: crate::signin::flow::device_digest(Some("browser-a")),
            known_as: None,
            replaces: None,
            saml: None,
        };
        let sealed = sign_in.entry.seal_context(&ctx, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let flow = corporate.start(&sealed, "taro@corp.example", NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let redirect =
            corporate.begin(corporate.open(&flow, Some("browser-a"), NOW).await.unwrap_or_else(|e| panic!("{e}")), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(redirect.binding.len() < 1500, "a cookie of {} bytes", redirect.binding.len());
        let url = url::Url::parse(&redirect.url).unwrap_or_else(|e| panic!("{e}"));
        let state = url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap_or_default();

        // Taken one after the other, the take would wait for an exchange that waits for it.
        let callback = Callback { state: &state, code: Some("the-code"), error: None, binding: Some(&redirect.binding) };
        let Ok(finished) = tokio::time::timeout(Duration::from_secs(10), corporate.finish(callback, NOW + 1)).await else {
            panic!("the exchange waited for the take");
        };
        let Err(failure) = finished else { panic!("the provider failed") };
        assert!(matches!(failure.error, CorporateError::Provider(_)), "{:?}", failure.error);
        assert_eq!(failure.ctx, Some(ctx), "the state checked out, and the context came back whole");
    }

    /// A provider that counts its discoveries; its documents' endpoints are under `/discovered`.
    #[derive(Default)]
    struct Counted(std::sync::atomic::AtomicUsize);

    #[async_trait]
    impl OidcProvider for Counted {
        async fn metadata(&self, _: &str) -> Result<Arc<ProviderMetadata>, OidcError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Arc::new(metadata_under("discovered", ISSUER)))
        }
        async fn exchange(&self, _: &ProviderMetadata, _: &CodeExchange<'_>) -> Result<String, OidcError> {
            Err(OidcError::Unavailable("the test's provider".into()))
        }
        async fn verify(&self, _: &ProviderMetadata, _: &str) -> Result<Map<String, Value>, OidcError> {
            Err(OidcError::Unavailable("the test's provider".into()))
        }
    }

    fn metadata_under(folder: &str, issuer: &str) -> ProviderMetadata {
        let endpoint = |path: &str| format!("{ISSUER}/{folder}/{path}");
        ProviderMetadata {
            issuer: issuer.into(),
            authorization_endpoint: endpoint("authorize"),
            token_endpoint: endpoint("token"),
            jwks_uri: endpoint("jwks"),
            end_session_endpoint: None,
        }
    }

    #[tokio::test]
    async fn the_metadata_kept_with_the_connection_spares_the_discovery_unless_it_names_another_issuer() {
        let cases = [
            (Some(metadata_under("kept", ISSUER)), "/kept/authorize", 0),
            (Some(metadata_under("kept", "https://idp.other.example")), "/discovered/authorize", 1),
            (Some(ProviderMetadata { token_endpoint: "http://idp.corp.example/token".into(), ..metadata_under("kept", ISSUER) }), "/discovered/authorize", 1),
            (None, "/discovered/authorize", 1),
        ];
        for (kept, path, discoveries) in cases {
            let provider = Arc::new(Counted::default());
            let pending = Arc::new(TakenAfterTheExchange { kept: Mutex::default(), exchanged: Arc::new(Notify::new()) });
            let (sign_in, corporate) = service(Connection { metadata: kept.clone(), ..oidc_connection() }, provider.clone(), pending);
            let ctx = SignInContext {
                app: AppId::parse(DEMO_APP).unwrap_or_else(|e| panic!("{e}")),
                return_to: None,
                nonce: None,
                authorization: None,
                device: crate::signin::flow::device_digest(Some("browser-a")),
                known_as: None,
                replaces: None,
                saml: None,
            };
            let sealed = sign_in.entry.seal_context(&ctx, NOW).await.unwrap_or_else(|e| panic!("{e}"));
            let flow = corporate.start(&sealed, "taro@corp.example", NOW).await.unwrap_or_else(|e| panic!("{e}"));
            let redirect = corporate
                .begin(corporate.open(&flow, Some("browser-a"), NOW).await.unwrap_or_else(|e| panic!("{e}")), NOW)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let url = url::Url::parse(&redirect.url).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((url.path(), provider.0.load(std::sync::atomic::Ordering::SeqCst)), (path, discoveries), "{kept:?}");
        }
    }
}
