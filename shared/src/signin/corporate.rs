//! Corporate sign-in: from a work email to the person's Cognito user, through their company's
//! own OpenID provider.
//!
//! 1. [`Corporate::start`]: the email's domain names the organisation; a sealed flow token for step 2.
//! 2. [`Corporate::begin`]: a fresh `state` (`{org id}.{random}`), `nonce` and PKCE verifier are
//!    stored (digest of `state` as the key, with the digest of a browser binding that goes into a
//!    cookie), and the browser is sent to the provider.
//! 3. [`Corporate::finish`]: the callback. The pending sign-in is taken (once), the binding
//!    cookie must match, the code is exchanged, the ID token is verified (signature by the
//!    adapter, claims by `oidc::check_claims`), the email must be in the organisation's domains,
//!    and the person is matched to a Cognito user: by provider and subject, then by email
//!    (through SCIM, or created on first sign-in, as the connection says). A deactivated person
//!    is always refused. A link to a user since deleted counts as none.
//!
//! Minting the app's token and the session are the sign-in service's (`SignIn::complete`).

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::common::email::Email;
use crate::common::profile::{ORG_ATTRIBUTE, SCIM_ATTRIBUTE};
use crate::common::store::StoreError;
use crate::directory::org::{Connection, ConnectionKind, EmailDomain, OrgId, Organisation, Provisioning};
use crate::directory::ports::{DirectoryError, IdentityLinks, PoolUser, ScimEntry, ScimReads, UserProvisioning};
use crate::directory::scim::directory_user::DirectoryUser;
use crate::directory::scim::filter::Lookup;
use crate::directory::scim::resource::Kind;
use crate::signin::flow;
use crate::signin::flow::{FlowError, Purpose, SignInContext};
use crate::signin::oidc;
use crate::signin::oidc::{Authorize, ClaimError, Identity};
use crate::signin::ports::{CodeExchange, OidcError, OidcProvider};
use crate::signin::service::{Prior, SignInPorts};
use crate::signin::session::ProviderLogout;

/// How long a person may take at their provider (seconds).
pub const PENDING_TTL: u64 = 10 * 60;
/// The cookie binding a pending sign-in to the browser that started it.
pub const BINDING_COOKIE: &str = "bridge_corporate";

/// Step 1's result, sealed for step 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorporateStart {
    pub ctx: SignInContext,
    pub org: OrgId,
    pub email: String,
}

/// A sign-in waiting for the provider's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub ctx: SignInContext,
    pub org: OrgId,
    pub nonce: String,
    pub verifier: String,
    /// Digest of the binding cookie's value.
    pub binding: String,
    pub expires_at: u64,
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

#[derive(Debug, thiserror::Error)]
pub enum CorporateError {
    #[error("invalid input: {0}")]
    BadInput(&'static str),
    #[error("no organisation signs in with this email domain")]
    UnknownDomain,
    #[error("the organisation has no sign-in connection")]
    NotConnected,
    #[error("corporate sign-in is not configured (no public API URL)")]
    Unconfigured,
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Unknown, used, expired or foreign `state`, or another browser's.
    #[error("the sign-in state is not valid")]
    InvalidState,
    #[error("the provider answered with an error: {0}")]
    ProviderDenied(String),
    #[error(transparent)]
    Provider(#[from] OidcError),
    #[error(transparent)]
    Claims(#[from] ClaimError),
    #[error("the email's domain is not the organisation's")]
    OutsideDomain,
    #[error("the person is not provisioned")]
    NotProvisioned,
    #[error("the person is deactivated")]
    Deactivated,
    #[error("the email belongs to a user of another organisation")]
    OtherOrganisation,
    #[error("the provider does not vouch for the email (email_verified), so it finds no account")]
    EmailNotVerified,
    #[error("the person came through another of the pool's providers than the connection's")]
    OtherProvider,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
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

    /// Stores a pending sign-in and returns the provider's authorization URL and the binding.
    pub async fn begin(&self, flow_token: &str, now: u64) -> Result<Redirect, CorporateError> {
        let key = self.shared.secrets.bridge().await?;
        let start: CorporateStart = flow::open(&key.flow_key, Purpose::Corporate, flow_token, now)?;
        let (_, connection) = self.connection(&start.org).await?;
        let metadata = self.ports.provider.metadata(&connection.issuer).await?;
        // The organisation leads the state, so the callback can load its connection beside the take.
        let state = format!("{}.{}", start.org.as_str(), oidc::random_token());
        let (nonce, verifier, binding) = (oidc::random_token(), oidc::random_token(), oidc::random_token());
        let request = Authorize {
            connection: &connection,
            redirect_uri: &self.ports.redirect_uri,
            state: &state,
            nonce: &nonce,
            verifier: &verifier,
            login_hint: Some(&start.email),
        };
        let url = oidc::authorize_url(&metadata, &request).map_err(|e| OidcError::Unavailable(e.into()))?;
        let pending = PendingLogin { ctx: start.ctx, org: start.org, nonce, verifier, binding: oidc::digest(&binding), expires_at: now + PENDING_TTL };
        self.ports.pending.put(&oidc::digest(&state), &pending).await?;
        Ok(Redirect { url: url.into(), binding })
    }

    /// The callback: everything an OpenID relying party must check, then the person's user.
    pub async fn finish(&self, callback: Callback<'_>, now: u64) -> Result<Finished, Failure> {
        if callback.state.is_empty() || callback.state.len() > 128 {
            return Err(CorporateError::InvalidState.into());
        }
        // Taken before anything is decided: a state is good for one attempt, whatever its outcome.
        // Beside it, the organisation the state names ahead of its dot has its connection loaded:
        // a warm-up only, never trusted. The state counts whole (its digest keys the pending
        // sign-in), so one with another organisation's id put in front finds nothing to take, and
        // is answered as soon as the take is (its warm-up dropped).
        let named = callback.state.split_once('.').and_then(|(org, _)| OrgId::parse(org).ok());
        let key = oidc::digest(callback.state);
        let (take, warm) = (self.ports.pending.take(&key), self.warm(named));
        tokio::pin!(take, warm);
        let mut warmed = false;
        let taken = loop {
            tokio::select! {
                taken = &mut take => break taken,
                () = &mut warm, if !warmed => warmed = true,
            }
        };
        let pending = taken?.ok_or(CorporateError::InvalidState)?;
        let bound = callback.binding.is_some_and(|b| subtle::ConstantTimeEq::ct_eq(oidc::digest(b).as_bytes(), pending.binding.as_bytes()).into());
        if pending.expires_at <= now || !bound {
            return Err(CorporateError::InvalidState.into());
        }
        let ctx = pending.ctx.clone();
        // The app and what minting its token needs load beside the provider's round trips; a
        // failure here is the completion's to report.
        let rest_of_warm_up = async {
            if !warmed {
                warm.await;
            }
        };
        let (finished, _, ()) = tokio::join!(self.verified(pending, &callback, now), self.shared.app_ready_to_mint(ctx.app.as_str(), now), rest_of_warm_up);
        finished.map_err(|error| Failure { ctx: Some(ctx), error })
    }

    async fn verified(&self, pending: PendingLogin, callback: &Callback<'_>, now: u64) -> Result<Finished, CorporateError> {
        if let Some(error) = callback.error {
            return Err(CorporateError::ProviderDenied(error.chars().take(64).collect()));
        }
        let code = callback.code.filter(|c| !c.is_empty() && c.len() <= 2048).ok_or(CorporateError::BadInput("code"))?;
        let (org, connection) = self.connection(&pending.org).await?;
        let metadata = self.ports.provider.metadata(&connection.issuer).await?;
        let secret: Option<Arc<SecretString>> = match &connection.client_secret {
            Some(reference) => Some(self.shared.secrets.value(reference).await?),
            None => None,
        };
        let exchange = CodeExchange {
            code,
            verifier: &pending.verifier,
            redirect_uri: &self.ports.redirect_uri,
            client_id: &connection.client_id,
            client_secret: secret.as_deref(),
        };
        let id_token = self.ports.provider.exchange(&metadata, &exchange).await?;
        let claims = self.ports.provider.verify(&metadata, &id_token).await?;
        oidc::check_claims(&claims, &connection.issuer, &connection.client_id, &pending.nonce, now)?;
        let identity = oidc::identity(&claims, connection.email_claim)?;
        let domain = EmailDomain::of(&identity.email).map_err(|_| CorporateError::OutsideDomain)?;
        if !org.owns(&domain) {
            return Err(CorporateError::OutsideDomain);
        }
        // The person's sign-in history is read beside their account, by the email the provider
        // gives; the assessment uses it only if it is that account's own verified email.
        let (user, prior) = tokio::join!(self.user_for(&org, &connection, &identity), self.shared.prior(identity.email.as_str(), now));
        let user = user?;
        let provider_logout = match (&metadata.end_session_endpoint, connection.single_logout) {
            (Some(endpoint), true) => {
                Some(ProviderLogout { end_session_endpoint: endpoint.clone(), client_id: connection.client_id.clone(), id_token_hint: id_token })
            }
            _ => None,
        };
        Ok(Finished { ctx: pending.ctx, org: org.id.clone(), user, provider_logout, second_factor: identity.second_factor, prior })
    }

    /// The Cognito user for `identity`: linked before, else by email; then checked.
    async fn user_for(&self, org: &Organisation, connection: &Connection, identity: &Identity) -> Result<PoolUser, CorporateError> {
        // Through a pool, only from the connection's own provider: the authorize step's
        // `identity_provider` is the browser's to change.
        if let (ConnectionKind::Cognito, Some(provider)) = (connection.kind, &connection.identity_provider)
            && !identity.providers.iter().any(|p| p == provider)
        {
            return Err(CorporateError::OtherProvider);
        }
        let linked = match self.ports.links.find(&org.id, &identity.issuer, &identity.subject).await? {
            Some(username) => self.shared.pool.user(&username).await?,
            None => None,
        };
        // No link, or one to a user since deleted (offboarded, then provisioned again as a new
        // user): the person is found as on a first sign-in, and linked anew.
        let (user, linked) = match linked {
            Some(user) => (user, true),
            None => (self.unlinked(org, connection, identity).await?, false),
        };
        match user.attributes.get(ORG_ATTRIBUTE).and_then(|v| v.as_str()) {
            Some(o) if o == org.id.as_str() => {}
            Some(_) => return Err(CorporateError::OtherOrganisation),
            None => self.shared.pool.set_org(&user.username, &org.id).await?,
        }
        if connection.provisioning == Provisioning::Scim {
            let scim_id = user.attributes.get(SCIM_ATTRIBUTE).and_then(|v| v.as_str()).ok_or(CorporateError::NotProvisioned)?;
            let entry = self.ports.scim.get(&org.id, Kind::User, scim_id).await?.ok_or(CorporateError::Deactivated)?;
            check_active(&entry)?;
        }
        if !user.enabled {
            return Err(CorporateError::Deactivated);
        }
        if !linked {
            self.ports.links.save(&org.id, &identity.issuer, &identity.subject, &user.username).await?;
        }
        Ok(user)
    }

    /// The Cognito user of a person no link leads to: the pool's own (a pool connection), else
    /// found (or made) by the email the provider vouches for.
    async fn unlinked(&self, org: &Organisation, connection: &Connection, identity: &Identity) -> Result<PoolUser, CorporateError> {
        let username = match connection.kind {
            // The pool federated the person itself: the token is for its own user.
            ConnectionKind::Cognito => identity.pool_username.clone().ok_or(CorporateError::Claims(ClaimError::Subject))?,
            // Finding (or making) an account by email needs an email the provider vouches for:
            // anyone can put a colleague's address in their own profile (nOAuth).
            ConnectionKind::Oidc if !identity.email_verified => return Err(CorporateError::EmailNotVerified),
            ConnectionKind::Oidc => match connection.provisioning {
                Provisioning::Scim => self.provisioned(org, &identity.email).await?,
                // An existing user keeps its enabled state: signing in never re-enables anyone.
                Provisioning::OnFirstSignIn => match self.shared.pool.find_by_email(identity.email.as_str()).await? {
                    Some(username) => username,
                    None => self.ports.directory.create(&directory_user(org, identity)).await?,
                },
            },
        };
        self.shared.pool.user(&username).await?.ok_or(CorporateError::NotProvisioned)
    }

    /// The Cognito user SCIM provisioned with this email (as an email or as the `userName`).
    async fn provisioned(&self, org: &Organisation, email: &Email) -> Result<String, CorporateError> {
        let mut found = self.ports.scim.lookup(&org.id, Kind::User, &Lookup::Email(email.as_str().to_owned())).await?;
        if found.is_empty() {
            found = self.ports.scim.lookup(&org.id, Kind::User, &Lookup::UserName(email.as_str().to_owned())).await?;
        }
        let [entry] = found.as_slice() else { return Err(CorporateError::NotProvisioned) };
        check_active(entry)?;
        entry.link.username.clone().ok_or(CorporateError::NotProvisioned)
    }

    /// Loads into the caches what a callback of `org`'s connection needs before the code
    /// exchange: the organisation, then its client secret and its provider's metadata side by
    /// side (each cache loads a value once, so the callback waits on these loads rather than
    /// repeating them). Failures are left for the callback to meet. An unknown organisation
    /// costs one read and leaves nothing cached.
    async fn warm(&self, org: Option<OrgId>) {
        let Some(org) = org else { return };
        let Ok((_, connection)) = self.connection(&org).await else { return };
        let secret = async {
            if let Some(reference) = &connection.client_secret {
                let _ = self.shared.secrets.value(reference).await;
            }
        };
        let _ = tokio::join!(secret, self.ports.provider.metadata(&connection.issuer));
    }

    async fn connection(&self, org: &OrgId) -> Result<(Arc<Organisation>, Connection), CorporateError> {
        let org = self.shared.orgs.org(org).await?.ok_or(CorporateError::NotConnected)?;
        let connection = org.connection.clone().ok_or(CorporateError::NotConnected)?;
        Ok((org, connection))
    }
}

fn check_active(entry: &ScimEntry) -> Result<(), CorporateError> {
    let active = entry.record.data.get("active").and_then(|v| v.as_bool()).unwrap_or(true);
    if entry.deleted.is_some() || !active { Err(CorporateError::Deactivated) } else { Ok(()) }
}

fn directory_user(org: &Organisation, identity: &Identity) -> DirectoryUser {
    DirectoryUser {
        email: identity.email.as_str().to_owned(),
        given_name: identity.given_name.clone(),
        family_name: identity.family_name.clone(),
        name: identity.name.clone(),
        org: org.id.as_str().to_owned(),
        scim_id: String::new(),
        enabled: true,
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
