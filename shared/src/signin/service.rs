//! What the sign-in services share: their ports and settings ([`SignInPorts`]), what they answer
//! and how they fail, and the steps every sign-in takes (the app, its request, minting). The
//! services themselves, each held whole by the routes that use it ([`SignIn`](super::SignIn)):
//!
//! - [`SessionEntry`](super::entry::SessionEntry): `/sso/{app}` checks the app and its request
//!   ([`Entry`]: `return_to`, or a DiscourseConnect `sso`/`sig`) and either mints at once from a
//!   live session, when what the session's sign-in proved satisfies that app's risk policy in
//!   the same browser, or hands out a sealed context for the form; and sign-out.
//! - [`PasswordSignIn`](super::password::PasswordSignIn): the password, challenge answers (MFA
//!   code, new password, factor choice) and the reset path; a finished one is an
//!   [`Outcome::Handoff`].
//! - [`Arrival`](super::arrival::Arrival): the handoff redeemed in its own browser, and a
//!   corporate sign-in (`signin::corporate`) completed.
//!
//! Every sign-in ends with the app's token and a new bridge session (`signin::session`):
//! [`SignedIn`]. A password sign-in hands it to the form sealed ([`Outcome::Handoff`]; a SAML
//! app's response is made at the redemption instead of sealed, `signin::minting::Pending`): the form's
//! JSON call cannot receive a cookie for the API when the two are on different sites, so the
//! form's browser brings it to the API on a top-level navigation (once, encrypted so the form's
//! script reads nothing in it), which sets the cookie and goes on to the app.
//!
//! Every sign-in is assessed (`risk`) before any token. A `require_mfa` app and a person
//! without a second factor: a code to the verified email first (`ChallengeKind::VerifyEmail`),
//! then an authenticator app (`ChallengeKind::TotpSetup`), recorded as `user.mfa_enrolled`.
//!
//! A successful authentication costs exactly one identity-provider call: the ID token is verified
//! locally and the profile is read from its claims. A person who belongs to an organisation
//! (`custom:org_id`) may use a password only if that organisation's policy allows it; the
//! organisation is read from a cache, so this costs nothing on a warm instance.

use std::sync::Arc;

use crate::common::profile::UserProfile;
use crate::common::secrets::CachedSecrets;
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::{DirectoryError, OrgDirectory, PoolUsers};
use crate::events::{EventContext, EventLog, EventType, IdentityEvent};
use crate::risk::RiskStore;
use crate::signin::challenge::{AuthError, AuthStep, Challenge, ChallengeKind};
use crate::signin::flow;
use crate::signin::flow::{FlowError, Purpose, SignInContext};
use crate::signin::ports::{IdTokenVerifier, PasswordAuth, SessionStore, TokenRejected};
use crate::signin::session::{Session, SessionPolicy};
use crate::tokens::app::{App, AppId};
use crate::tokens::ports::AppDirectory;
use crate::tokens::return_to::ReturnTo;
use crate::tokens::signing_keys::{SignerError, Signers};
use crate::tokens::targets::Target;
use crate::tokens::targets::discourse::{NONCE_TTL, RequestError};
use crate::tokens::targets::mint::{Delivery, MintError};
use crate::tokens::targets::oidc::AuthorizationError;
use serde::{Deserialize, Serialize};

/// How long the form may take from `/sso/{app}` to a password (seconds).
pub const CONTEXT_TTL: u64 = 30 * 60;
/// How long a challenge may take; Cognito's own session lasts 3 to 15 minutes.
pub const CHALLENGE_TTL: u64 = 15 * 60;
/// How long the form's browser may take to bring a handoff to the API (seconds).
pub const HANDOFF_TTL: u64 = 60;

/// The ports and settings the sign-in services share, set once by the function's wiring. Routes
/// hold the services ([`SignIn`](super::SignIn)), never this.
pub struct SignInPorts {
    pub apps: Arc<dyn AppDirectory>,
    pub orgs: Arc<dyn OrgDirectory>,
    pub auth: Arc<dyn PasswordAuth>,
    pub tokens: Arc<dyn IdTokenVerifier>,
    pub secrets: Arc<CachedSecrets>,
    pub sessions: Arc<dyn SessionStore>,
    /// OpenID Connect clients' refresh tokens.
    pub refresh: Arc<dyn crate::signin::ports::RefreshFamilies>,
    /// Where failed sign-ins are recorded (successful ones are recorded with their session).
    pub events: Arc<dyn EventLog>,
    /// People's sign-in history and failed attempts, for risk assessment.
    pub risk: Arc<dyn RiskStore>,
    /// Sign-up's counts and notes per address.
    pub sign_ups: Arc<dyn crate::signin::ports::SignUpLedger>,
    /// The consent documents (cached) and people's decisions.
    pub consents: Arc<crate::consent::current::CurrentDocuments>,
    /// People's own account (passkeys, password, factors, attributes), with their access
    /// token (the account page).
    pub own_account: Arc<dyn crate::signin::ports::OwnAccount>,
    pub pool: Arc<dyn PoolUsers>,
    pub session_policy: SessionPolicy,
    /// Our signing keys, for apps whose tokens we sign with them.
    pub signers: Arc<Signers>,
    /// The `iss` of the tokens we sign (the API's public URL).
    pub issuer: String,
    /// The passkeys' relying party (the pool's `WebAuthnRelyingPartyID`), for request options
    /// made when Cognito offers none.
    pub relying_party: String,
    /// The numbers the account page accepts for SMS codes.
    pub sms_destinations: crate::common::sms_destinations::SmsDestinations,
    /// Where a new password is looked up among breached ones (`signin::breached_passwords`);
    /// none: the pool's rules alone.
    pub breaches: Option<Arc<dyn crate::signin::ports::PasswordBreaches>>,
}

/// What the app asked for when it sent the person to `/sso/{app}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry<'a> {
    pub return_to: Option<&'a str>,
    /// DiscourseConnect's signed request.
    pub sso: Option<&'a str>,
    pub sig: Option<&'a str>,
    /// An OpenID Connect client's authorization request (`/oauth2/authorize`).
    pub authorization: Option<crate::tokens::targets::oidc::AuthorizationRequest<'a>>,
    /// A SAML service provider's `SAMLRequest` (HTTP-Redirect binding) and `RelayState`.
    pub saml_request: Option<&'a str>,
    pub relay_state: Option<&'a str>,
    /// The browser's device cookie (its digest goes into the context).
    pub device: Option<&'a str>,
    /// The id the browser held under the device cookie's old name, if any: a hint for the risk
    /// engine only (`SignInContext::known_as`), never what the sign-in is bound to.
    pub legacy_device: Option<&'a str>,
}

impl<'a> Entry<'a> {
    pub fn return_to(return_to: &'a str) -> Self {
        Self { return_to: Some(return_to), ..Self::default() }
    }
}

/// A finished sign-in: the way to the app with its token, and the new session cookie's value.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub delivery: Delivery,
    pub session: String,
    /// The device digest the sign-in was assessed with (from its sealed context): the handoff
    /// is good only in the browser holding that device cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The app signed in to, for the events of a handoff refused (absent from one sealed before
    /// it was carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The browser's earlier session this sign-in replaces (`SignInContext::replaces`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// Where `/sso/{app}` sends the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Entered {
    /// Straight to the app: a live session signed the person in.
    App(Delivery),
    /// To the form, with this sealed context; `sign_up`: the app lets people create an account.
    Form { ctx: String, sign_up: bool },
}

/// What the person's browser does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Take this sealed sign-in to the API (`POST /session/handoff`, which answers the
    /// [`SignedIn`]).
    Handoff(String),
    /// Answer a challenge, carrying `flow` back with the answer.
    Challenge {
        kind: ChallengeKind,
        destination: Option<String>,
        options: Vec<ChallengeKind>,
        flow: String,
        setup: Option<TotpSetup>,
        /// For `WebAuthn`: the request options for `navigator.credentials.get` (JSON).
        public_key: Option<serde_json::Value>,
    },
    /// The account is not confirmed yet: the code just emailed, then `/signup/confirm`.
    ConfirmSignUp(CodeSent),
    /// The person must accept documents first (`signin::consent`), then `/consent`.
    Consent(ConsentAsked),
}

/// The consent step: the documents to show, and the flow to carry back to `POST /consent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentAsked {
    pub flow: String,
    pub documents: Vec<crate::consent::document::DocumentView>,
}

/// How a corporate sign-in arrived: signed in, or paused for consent.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrived {
    SignedIn(SignedIn),
    Consent(ConsentAsked),
}

/// The code step: where the form goes after `/signup` (and after a sign-in of an account not
/// confirmed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub flow: String,
    /// The email, masked (`h***@e***`), the same for every address of that shape.
    pub destination: String,
}

/// What the person puts into their authenticator app (`ChallengeKind::TotpSetup`).
#[derive(Debug, PartialEq, Eq)]
pub struct TotpSetup {
    /// The shared secret (base32), to type in.
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI (a link or a QR code).
    pub uri: String,
}

impl TotpSetup {
    /// The setup for `account` (the person's email), issued by the host of `issuer` (the API's
    /// URL), in Google Authenticator's Key URI Format.
    pub fn new(issuer: &str, account: &str, secret: String) -> Self {
        let issuer = url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "Identity bridge".into());
        let label = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        let uri = format!("otpauth://totp/{}:{}?secret={secret}&issuer={}", label(&issuer), label(account), label(&issuer));
        Self { secret, uri }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("invalid input: {0}")]
    BadInput(&'static str),
    #[error("no such app")]
    UnknownApp,
    #[error(transparent)]
    ReturnTo(#[from] crate::tokens::return_to::ReturnToRejected),
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error("the person's organisation does not allow password sign-in")]
    PasswordSignInDisabled,
    #[error("the app does not let people create their own account")]
    SignUpClosed,
    #[error("the email's organisation manages its people: corporate sign-in")]
    UseCorporate,
    #[error("a required document was not accepted")]
    ConsentRequired,
    #[error("the account page's session is over")]
    NotSignedIn,
    #[error("the person's company manages their account")]
    ManagedByCompany,
    #[error("a high-risk sign-in refused by the app's policy")]
    HighRiskDenied,
    #[error("the person's account was disabled or deleted while they were signing in")]
    AccountRevoked,
    #[error("the app admits only the people it lists (its access), and not this person")]
    NotAssigned,
    #[error("the sign-in's handoff was used before")]
    HandoffUsed,
    #[error("the sign-in's handoff was brought by another browser than the one that started it")]
    OtherBrowser,
    #[error("a high-risk sign-in without a second factor refused by the app's policy")]
    SecondFactorRequired,
    #[error("a high-risk sign-in with an email code, at an app that requires a second factor")]
    StrongerSignInRequired,
    #[error("a high-risk corporate sign-in whose provider reports no second factor, refused by the app's policy")]
    ProviderSecondFactorRequired,
    #[error(transparent)]
    AppRequest(#[from] RequestError),
    #[error(transparent)]
    SamlRequest(#[from] crate::tokens::saml::authn_request::RequestError),
    #[error(transparent)]
    Authorization(#[from] AuthorizationError),
    #[error(transparent)]
    Mint(#[from] MintError),
    #[error(transparent)]
    Signer(#[from] SignerError),
    #[error(transparent)]
    Token(#[from] TokenRejected),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

impl SignInPorts {
    /// Seals `ctx` again (a fresh form for the same request), for as long as the app's request
    /// may take.
    pub(super) async fn seal_context(&self, ctx: &SignInContext, now: u64) -> Result<String, SignInError> {
        let ttl = if ctx.nonce.is_some() { NONCE_TTL } else { CONTEXT_TTL };
        let key = self.secrets.bridge().await?;
        Ok(flow::seal(&key.flow_key, Purpose::Context, now + ttl, ctx))
    }

    /// The app's request, checked: `return_to` against the app's origins, the forum's signed
    /// request for a DiscourseConnect app, or the authorization request of an OpenID Connect
    /// client (neither of which has another way in).
    pub(super) async fn context(&self, app: &App, entry: Entry<'_>) -> Result<SignInContext, SignInError> {
        let (mut authorization, mut nonce, mut saml) = (None, None, None);
        let return_to = match &app.target {
            Target::Discourse(forum) => {
                let secret = self.shared_secret(app).await?;
                let request = forum.verify(entry.sso, entry.sig, &secret)?;
                nonce = Some(request.nonce);
                Some(request.return_sso_url)
            }
            Target::Oidc(client) => {
                let (redirect_uri, checked) = client.authorize(entry.authorization)?;
                authorization = Some(checked);
                Some(redirect_uri)
            }
            // Only an OpenID Connect client is entered with an authorization request.
            _ if entry.authorization.is_some() => return Err(AuthorizationError::RedirectUri.into()),
            Target::Saml(provider) => {
                saml = Some(provider.check_request(entry.saml_request, entry.relay_state, &self.sso_url(&app.id))?);
                None
            }
            _ => entry.return_to.filter(|r| !r.is_empty()).map(|r| ReturnTo::check(r, &app.allowed_origins)).transpose()?,
        };
        let device = flow::device_digest(entry.device);
        let known_as = flow::device_digest(entry.legacy_device).filter(|old| device.as_ref() != Some(old));
        Ok(SignInContext { app: app.id.clone(), return_to, nonce, authorization, device, known_as, replaces: None, saml })
    }

    /// One try of an emailed code (Cognito's `EMAIL_OTP`: a sign-in's, or an email proof's) in
    /// the step whose Cognito session is `session` (digested here): at most
    /// [`EMAIL_CODE_TRIES`](crate::signin::password::EMAIL_CODE_TRIES), the right code included,
    /// then `TooManyAttempts` (a new step sends a new code). Each step counts its own: a new step
    /// for the address starts none of an earlier one's again.
    pub(super) async fn email_code_try(&self, session: &str, now: u64) -> Result<(), SignInError> {
        let step = crate::common::hashing::digest(session);
        if self.sign_ups.step_code_try(&step, crate::signin::password::EMAIL_CODE_TRIES, now).await? { Ok(()) } else { Err(AuthError::TooManyAttempts.into()) }
    }

    /// The email proof of someone without a second factor (before they enrol one, and the
    /// account page's fresh step): a sign-in of its own by a code to their verified `email`
    /// (Cognito's `USER_AUTH` with `EMAIL_OTP`), which Cognito sends. Each code counts against
    /// the address (`CodeAsker::PasswordHolder`: 5 an hour of those the password opens). Its
    /// answer gives the person's tokens.
    ///
    /// Not attribute verification (`GetUserAttributeVerificationCode`): in a pool that keeps a
    /// new email pending until it is verified, that code goes to the pending address, and
    /// `VerifyUserAttribute` completes the change.
    ///
    /// Errors: [`AuthError::TooManyAttempts`] past the address's codes; [`AuthError::Misconfigured`]
    /// when Cognito offers no email code for the person (the pool's `AllowedFirstAuthFactors`
    /// lacks `EMAIL_OTP`, or the email is not verified); Cognito's own.
    pub(super) async fn start_email_proof(&self, email: &str, now: u64) -> Result<Challenge, SignInError> {
        if !self.sign_ups.other_code_sent(email, crate::signin::ports::CodeAsker::PasswordHolder, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        match self.auth.start_passwordless(email, ChallengeKind::EmailOtp).await? {
            AuthStep::Challenge(challenge) if challenge.kind == ChallengeKind::EmailOtp => Ok(challenge),
            _ => Err(AuthError::Misconfigured("Cognito offers no email code for this person: EMAIL_OTP must be a first factor of the pool".into()).into()),
        }
    }

    /// Completes the sign-in step `step` names (any value the step alone holds) once, as
    /// `kind`: its flow answered again (a copy, or a replay while it lasts) is `Expired`.
    pub(super) async fn complete_once(&self, kind: ChallengeKind, step: &str, now: u64) -> Result<(), SignInError> {
        if self.use_once(&format!("{kind:?} done {step}"), now).await? { Ok(()) } else { Err(SignInError::Flow(FlowError::Expired)) }
    }

    /// Marks `what` (any text naming a one-time thing: a step done, an authorization code) used,
    /// by its digest among the sign-in steps' records, which expire; `false` if it was before.
    /// One conditional write.
    pub(super) async fn use_once(&self, what: &str, now: u64) -> Result<bool, StoreError> {
        self.sign_ups.step_code_try(&crate::common::hashing::digest(what), 1, now).await
    }

    /// Every sign-in of the pool's own (a password, an email code, a passkey, and the account
    /// page's fresh step), as against the company's provider: people of an organisation that
    /// does not allow it (`password_sign_in`), or whose organisation no longer exists, are
    /// refused (`PasswordSignInDisabled`). One organisation read (cached) for people of one.
    pub(super) async fn check_password_allowed(&self, profile: &UserProfile) -> Result<(), SignInError> {
        let Some(org) = profile.org() else { return Ok(()) };
        let org = match OrgId::parse(org) {
            Ok(id) => self.orgs.org(&id).await?,
            Err(_) => None,
        };
        if org.is_some_and(|o| o.policies.password_sign_in) { Ok(()) } else { Err(SignInError::PasswordSignInDisabled) }
    }

    /// Whether `app`'s access admits the person `session` is (`App::access`). Refused: recorded
    /// as `user.sign_in_failed` (`reason: not_assigned`, `context`: the visitor and the app)
    /// and `NotAssigned` (a failure to record it is logged).
    pub(super) async fn admit(&self, app: &App, session: &Session, context: &EventContext, now: u64) -> Result<(), SignInError> {
        let profile = UserProfile::from_claims(&session.profile).map_err(|_| TokenRejected::Invalid("no subject"))?;
        if app.access.admits(&profile) {
            return Ok(());
        }
        tracing::info!(app = %app.id, "a person the app's access does not list: refused");
        let context = EventContext { app: Some(app.id.to_string()), method: Some(session.method.name().into()), ..context.clone() };
        let event = IdentityEvent::new(EventType::UserSignInFailed, session.event_user(), context, now).with_detail("reason", "not_assigned");
        if let Err(e) = self.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a sign-in refused by the app's access");
        }
        Err(SignInError::NotAssigned)
    }

    /// `{issuer}/sso/{app}`: where an app's people are sent (a SAML request's `Destination`, our
    /// metadata's single sign-on service).
    pub(super) fn sso_url(&self, app: &AppId) -> String {
        format!("{}/sso/{app}", self.issuer)
    }

    pub(super) async fn open_context(&self, ctx: &str, now: u64) -> Result<SignInContext, SignInError> {
        let key = self.secrets.bridge().await?;
        Ok(flow::open(&key.flow_key, Purpose::Context, ctx, now)?)
    }

    /// The context opened at once if its key is held (`Ok(None)`: not loaded yet, as on a cold
    /// start; [`Self::open_context`] waits for it).
    pub(super) fn open_context_if_held(&self, ctx: &str, now: u64) -> Result<Option<SignInContext>, SignInError> {
        self.secrets.fresh_bridge().map(|key| flow::open(&key.flow_key, Purpose::Context, ctx, now)).transpose().map_err(SignInError::from)
    }

    pub(super) async fn app(&self, raw_id: &str) -> Result<Arc<App>, SignInError> {
        let id = AppId::parse(raw_id).map_err(|_| SignInError::UnknownApp)?;
        self.apps.app(&id).await?.ok_or(SignInError::UnknownApp)
    }

    /// The history of the email a person gave, read before they are known (beside the password
    /// check, or the account lookup of a corporate sign-in). A failed read is logged and leaves
    /// the assessment to read the account's own history.
    pub(super) async fn prior(&self, email: &str, now: u64) -> Option<Prior> {
        match self.risk.history_of_email(email, now).await {
            Ok((Some(profile), failures)) => Some(Prior { email: email.to_owned(), profile, failures }),
            Ok((None, _)) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sign-in email's history ahead; read again once the person is known");
                None
            }
        }
    }
}

/// What was known of a sign-in email before the person authenticated
/// ([`RiskStore::history_of_email`](crate::risk::RiskStore::history_of_email), read beside the
/// password check or a corporate account lookup): the assessment (`signin::arrival`) uses it only
/// when it is the authenticated person's verified email.
#[derive(Debug)]
pub(super) struct Prior {
    pub(super) email: String,
    pub(super) profile: crate::risk::RiskProfile,
    pub(super) failures: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::org::OrgId;
    use crate::events::EventContext;
    use crate::signin::SignIn;
    use crate::signin::challenge::ChallengeAnswer;
    use crate::testing::{ScriptedAuth, sign_in_ports, sign_in_ports_recording, sign_in_service, sign_in_service_recording};
    use secrecy::SecretString;
    use serde_json::Value;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    const NOW: u64 = 1_700_000_000;
    const EMAIL: &str = "hanako@example.com";

    fn here() -> EventContext {
        EventContext { ip: Some("192.0.2.1".into()), user_agent: Some("test".into()), ..EventContext::default() }
    }

    fn pw(s: &str) -> SecretString {
        SecretString::from(s)
    }

    async fn ctx(svc: &SignIn) -> String {
        svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await.unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn password_without_mfa_delivers_with_one_auth_call() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "correct horse", None));
        let svc = sign_in_service(auth.clone());
        let entry = Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") };
        let ctx = svc.entry.start("demo", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let out = svc.password.sign_in(&ctx, "Hanako@Example.com", &pw("correct horse"), &here(), NOW + 5).await;
        let Ok(Outcome::Handoff(handoff)) = out else { panic!("{out:?}") };
        let signed_in = svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW + 5 + HANDOFF_TTL - 1).await.unwrap_or_else(|e| panic!("{e}"));
        let Delivery::Post { action, fields } = signed_in.delivery else { panic!("{:?}", signed_in.delivery) };
        assert!(matches!(
            svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW + 5 + HANDOFF_TTL).await,
            Err(SignInError::Flow(FlowError::Expired))
        ));
        assert!(matches!(svc.arrival.open_handoff(&ctx, None, &here(), NOW + 5).await, Err(SignInError::Flow(FlowError::Invalid))), "a context is no handoff");
        assert_eq!(action, "https://acme.zendesk.com/access/jwt");
        assert_eq!(fields[1].1, "https://acme.zendesk.com/hc/ja");
        assert_eq!(auth.calls.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn sign_ins_and_failures_are_recorded_as_events() {
        let (svc, events) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SmsMfa))));
        let entry = Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") };
        let ctx = svc.entry.start("demo", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        // The form's requests may show another device cookie (or none): the events name the one
        // the sign-in began in.
        let visitor = EventContext { device: Some("another".into()), ..here() };
        assert!(matches!(svc.password.sign_in(&ctx, EMAIL, &pw("wrong"), &visitor, NOW).await, Err(SignInError::Auth(AuthError::InvalidCredentials))));
        let Ok(Outcome::Challenge { flow, .. }) = svc.password.sign_in(&ctx, EMAIL, &pw("pw-123456"), &visitor, NOW).await else { panic!("no challenge") };
        assert!(svc.password.answer(&flow, ChallengeAnswer::Code(pw("000001")), &visitor, NOW).await.is_err());
        assert!(matches!(svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &visitor, NOW + 1).await, Ok(Outcome::Handoff(_))));
        use crate::events::EventType::*;
        assert_eq!(events.kinds(), [UserSignInFailed, UserSignInFailed, UserSignedIn]);
        let all = events.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let device = crate::common::hashing::digest("browser-a");
        assert!(all.iter().all(|e| e.context.device.as_deref() == Some(device.as_str())), "{all:?}");
        assert_eq!(all[0].user.email.as_deref(), Some(EMAIL));
        assert_eq!(all[0].detail["reason"], "invalid_credentials");
        assert_eq!(all[1].detail["reason"], "code_mismatch");
        let signed_in = &all[2];
        assert_eq!((signed_in.context.app.as_deref(), signed_in.context.method.as_deref()), (Some("demo"), Some("password")));
        assert_eq!(signed_in.context.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(signed_in.user.email.as_deref(), Some(EMAIL));
        assert_eq!(signed_in.at, NOW + 1);
        assert!(signed_in.id.starts_with("signin-"));
    }

    /// A sign-in to the demo app from browser `device`, answering an MFA challenge if one comes.
    async fn sign_in_from(svc: &SignIn, device: &str, now: u64) -> Result<Outcome, SignInError> {
        let entry = Entry { device: Some(device), ..Entry::return_to("https://acme.zendesk.com/hc/ja") };
        let ctx = svc.entry.start("demo", entry, now).await?;
        match svc.password.sign_in(&ctx, EMAIL, &pw("pw-123456"), &here(), now).await? {
            Outcome::Challenge { flow, kind, .. } if !matches!(kind, ChallengeKind::TotpSetup | ChallengeKind::VerifyEmail) => {
                svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), now).await
            }
            done => Ok(done),
        }
    }

    /// The services over recording ports, the demo app under `policy`.
    fn with_policy(auth: ScriptedAuth, policy: crate::risk::RiskPolicy) -> (SignIn, Arc<crate::testing::MemoryEvents>) {
        let app = crate::tokens::app::App { risk_policy: policy, ..crate::testing::demo_app() };
        let (ports, events) = sign_in_ports_recording(Arc::new(auth));
        (SignIn::new(SignInPorts { apps: Arc::new(crate::testing::MemoryApps::with([app])), ..ports }), events)
    }

    #[tokio::test]
    async fn a_high_risk_sign_in_is_decided_by_the_apps_policy_before_any_token() {
        use crate::events::EventType::*;
        use crate::risk::RiskPolicy;
        let high_risk = |events: &crate::testing::MemoryEvents| {
            events.0.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|e| e.kind == SignInHighRisk).map(|e| e.detail.clone()).collect::<Vec<_>>()
        };

        // Deny: the first sign-in sets the baseline; a new browser is refused and recorded.
        let (svc, events) = with_policy(ScriptedAuth::with_user(EMAIL, "pw-123456", None), RiskPolicy::Deny);
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW).await, Ok(Outcome::Handoff(_))));
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW + 60).await, Ok(Outcome::Handoff(_))), "a known browser");
        assert!(matches!(sign_in_from(&svc, "browser-b", NOW + 120).await, Err(SignInError::HighRiskDenied)));
        assert_eq!(high_risk(&events), [serde_json::from_value(json!({"signals": ["new_device"], "outcome": "refused"})).unwrap_or_default()]);
        assert_eq!(events.kinds().iter().filter(|k| **k == UserSignedIn).count(), 2, "no session for the refused sign-in");

        // Three wrong passwords for the address make even a known browser high risk.
        for _ in 0..3 {
            let ctx = ctx(&svc).await;
            assert!(svc.password.sign_in(&ctx, EMAIL, &pw("wrong"), &here(), NOW + 130).await.is_err());
        }
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW + 140).await, Err(SignInError::HighRiskDenied)));

        // Require a second factor: a person without one proves they hold their email, then sets
        // up an authenticator app.
        let (svc, events) = with_policy(ScriptedAuth::with_user(EMAIL, "pw-123456", None), RiskPolicy::RequireMfa);
        assert!(sign_in_from(&svc, "browser-a", NOW).await.is_ok());
        let Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, flow, destination, setup: None, .. }) = sign_in_from(&svc, "browser-b", NOW + 60).await
        else {
            panic!("no email proof before the set-up")
        };
        assert_eq!(destination.as_deref(), Some("h***@e***"));
        assert!(!flow.contains("access-"), "the tokens travel encrypted");
        let wrong = svc.password.answer(&flow, ChallengeAnswer::Code(pw("654321")), &here(), NOW + 62).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))), "the password holder cannot skip the email: {wrong:?}");
        let Ok(Outcome::Challenge { kind: ChallengeKind::TotpSetup, flow, setup: Some(setup), .. }) =
            svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + 65).await
        else {
            panic!("no authenticator set-up")
        };
        assert_eq!(setup.secret, "JBSWY3DPEHPK3PXP");
        assert_eq!(setup.uri, "otpauth://totp/api.example.com:hanako%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=api.example.com");
        assert!(!flow.contains("access-"), "the tokens travel encrypted");
        let wrong = svc.password.answer(&flow, ChallengeAnswer::Code(pw("000000")), &here(), NOW + 70).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))), "{wrong:?}");
        assert!(matches!(svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + 80).await, Ok(Outcome::Handoff(_))));
        assert_eq!(events.kinds().iter().filter(|k| **k == UserMfaEnrolled).count(), 1, "the enrolment is recorded");
        // From now on the person's factor is asked for, and the next new browser passes with it.
        assert!(matches!(sign_in_from(&svc, "browser-c", NOW + 120).await, Ok(Outcome::Handoff(_))));
        let outcomes: Vec<Value> = high_risk(&events).iter().map(|d| d["outcome"].clone()).collect();
        assert_eq!(outcomes, [json!("second_factor_required"), json!("allowed"), json!("allowed")]);
        let (svc, events_mfa) = with_policy(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SoftwareTokenMfa)), RiskPolicy::RequireMfa);
        assert!(sign_in_from(&svc, "browser-a", NOW).await.is_ok());
        assert!(matches!(sign_in_from(&svc, "browser-b", NOW + 60).await, Ok(Outcome::Handoff(_))));
        assert_eq!(high_risk(&events_mfa)[0]["outcome"], "allowed");

        // Allow (the default): let through, the event recorded with the session.
        let (svc, events) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None)));
        assert!(sign_in_from(&svc, "browser-a", NOW).await.is_ok());
        assert!(sign_in_from(&svc, "browser-b", NOW + 60).await.is_ok());
        assert_eq!(events.kinds(), [UserSignedIn, UserSignedIn, SignInHighRisk]);
        let recorded = events.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(recorded[2].context.device, recorded[1].context.device, "both name the browser (its digest)");
        assert_ne!(recorded[2].context.device.as_deref(), Some("browser-b"), "never the cookie itself");
    }

    #[tokio::test]
    async fn the_email_history_read_beside_the_password_counts_only_for_that_verified_email() {
        use crate::risk::RiskPolicy;
        use crate::testing::{MemoryApps, MemoryRisk};
        // A profile kept for `email`, and five failed attempts.
        let failing = |email: &str| {
            let risk = Arc::new(MemoryRisk::default());
            risk.profiles.lock().unwrap_or_else(|p| p.into_inner()).insert(MemoryRisk::by_email(email), Default::default());
            risk.failures.lock().unwrap_or_else(|p| p.into_inner()).insert(email.to_owned(), 5);
            risk
        };
        let signed_in_as = |verified: &str, risk: Arc<MemoryRisk>| {
            let auth = ScriptedAuth::with_user(EMAIL, "pw-123456", None);
            if let Some(u) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
                u.claims["email"] = verified.into();
            }
            let app = crate::tokens::app::App { risk_policy: RiskPolicy::Deny, ..crate::testing::demo_app() };
            let sessions = Arc::new(crate::testing::MemorySessions { risk: risk.clone(), ..Default::default() });
            let ports = sign_in_ports(Arc::new(auth), Default::default());
            SignIn::new(SignInPorts { apps: Arc::new(MemoryApps::with([app])), risk, sessions, ..ports })
        };

        // The typed address has failed five times: read ahead, it makes the sign-in high risk.
        let risk = failing(EMAIL);
        let svc = signed_in_as(EMAIL, risk.clone());
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW).await, Err(SignInError::HighRiskDenied)));
        assert_eq!(risk.email_reads.load(Ordering::Relaxed), 1, "read ahead, and not again");

        // The person Cognito vouches for has another verified email: what was read for the typed
        // one is not theirs, and their own history (clean) decides.
        let svc = signed_in_as("other@example.com", failing(EMAIL));
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW).await, Ok(Outcome::Handoff(_))));

        // Once a profile is kept by the email, the read ahead is the only read.
        let risk = Arc::new(MemoryRisk::default());
        let svc = signed_in_as(EMAIL, risk.clone());
        assert!(sign_in_from(&svc, "browser-a", NOW).await.is_ok());
        let before = risk.email_reads.load(Ordering::Relaxed);
        assert!(sign_in_from(&svc, "browser-a", NOW + 60).await.is_ok());
        assert_eq!(risk.email_reads.load(Ordering::Relaxed) - before, 1);
    }

    #[tokio::test]
    async fn a_corporate_sign_in_counts_the_history_read_ahead_only_for_the_accounts_verified_email() {
        use crate::directory::ports::PoolUser;
        use crate::risk::RiskPolicy;
        use crate::signin::corporate::Finished;
        use crate::testing::MemoryApps;
        let app = crate::tokens::app::App { risk_policy: RiskPolicy::Deny, ..crate::testing::demo_app() };
        let ports = sign_in_ports(Arc::new(ScriptedAuth::default()), Default::default());
        let svc = SignIn::new(SignInPorts { apps: Arc::new(MemoryApps::with([app])), ..ports });
        let ctx: SignInContext = crate::signin::flow::open(
            &svc.ports.secrets.bridge().await.unwrap_or_else(|e| panic!("{e}")).flow_key,
            crate::signin::flow::Purpose::Context,
            &ctx(&svc).await,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // The provider gave `typed`; the account Cognito holds has `EMAIL`, verified.
        let finished = |typed: &str| {
            let attributes = json!({"sub": "sub-1", "email": EMAIL, "email_verified": "true"});
            let user = PoolUser {
                username: "u-1".into(),
                enabled: true,
                attributes: attributes.as_object().cloned().unwrap_or_default(),
                groups: vec![],
                factors: vec![],
                status: None,
            };
            let failing = Prior { email: typed.into(), profile: Default::default(), failures: 5 };
            Finished {
                ctx: ctx.clone(),
                org: OrgId::parse("org-1").unwrap_or_else(|e| panic!("{e}")),
                user,
                provider_logout: None,
                second_factor: false,
                prior: Some(failing),
            }
        };
        // Five failures read ahead for another address are not this account's: its own (clean) history decides.
        assert!(svc.arrival.complete(finished("someone.else@example.com"), &here(), NOW).await.is_ok());
        // Read ahead for the account's own verified address, they count.
        assert!(matches!(svc.arrival.complete(finished("HANAKO@example.com"), &here(), NOW).await, Err(SignInError::HighRiskDenied)));
    }

    /// A session whose profile has no verified email (begun before apps were given only verified
    /// ones) sends the person to the form for a fresh sign-in, not to an error page.
    #[tokio::test]
    async fn a_session_without_a_verified_email_goes_to_the_form() {
        use crate::signin::session::parse_cookie;
        let ports = sign_in_ports(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None)), Default::default());
        let sessions = Arc::new(crate::testing::MemorySessions::default());
        let svc = SignIn::new(SignInPorts { sessions: sessions.clone(), ..ports });
        let Ok(Outcome::Handoff(handoff)) = sign_in_from(&svc, "browser-a", NOW).await else { panic!("no handoff") };
        let cookie = svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await.unwrap_or_else(|e| panic!("{e}")).session;
        let key = parse_cookie(Some(&cookie)).unwrap_or_else(|| panic!("a session cookie")).key;
        let visitor = here();
        let enter = || svc.entry.enter("demo", Entry { device: Some("browser-a"), ..Entry::default() }, Some(&cookie), &visitor, NOW + 1);
        assert!(matches!(enter().await, Ok(Entered::App(_))), "the baseline");
        sessions.sessions.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&key).map(|s| s.profile.remove("email_verified"));
        assert!(matches!(enter().await, Ok(Entered::Form { .. })));
    }

    #[tokio::test]
    async fn a_session_its_accounts_revocation_refuses_is_recorded_once_where_it_is_used() {
        use crate::signin::session::{Found, parse_cookie};
        let (ports, events) = sign_in_ports_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None)));
        let sessions = Arc::new(crate::testing::MemorySessions { events: events.clone(), ..Default::default() });
        let svc = SignIn::new(SignInPorts { sessions: sessions.clone(), ..ports });
        let Ok(Outcome::Handoff(handoff)) = sign_in_from(&svc, "browser-a", NOW).await else { panic!("no handoff") };
        let cookie = svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await.unwrap_or_else(|e| panic!("{e}")).session;
        let sent = parse_cookie(Some(&cookie)).unwrap_or_else(|| panic!("a session cookie"));
        let Ok(Some(Found::Kept(session))) = sessions.get(&sent.key, &sent.user_key).await else { panic!("kept") };
        let refusals = || {
            let all = events.0.lock().unwrap_or_else(|p| p.into_inner());
            all.iter().filter(|e| e.detail.get("reason").is_some_and(|r| r == "account_revoked")).cloned().collect::<Vec<_>>()
        };
        let visitor = here();
        let enter = || svc.entry.enter("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), Some(&cookie), &visitor, NOW + 10);
        assert!(matches!(enter().await, Ok(Entered::App(_))));
        assert!(refusals().is_empty(), "a kept session is no refusal");
        // The revocation's sweep missed it.
        sessions.revoked.lock().unwrap_or_else(|p| p.into_inner()).insert(session.username.clone(), NOW + 5);
        for _ in 0..2 {
            assert!(matches!(enter().await, Ok(Entered::Form { .. })));
        }
        let refused = refusals();
        assert_eq!(refused.len(), 1, "once: the first use ended it");
        let event = &refused[0];
        assert_eq!((event.kind, event.user.username.as_deref()), (crate::events::EventType::UserSignInFailed, Some(session.username.as_str())));
        assert_eq!((event.context.app.as_deref(), event.context.method.as_deref()), (Some("demo"), Some("password")));
        assert_eq!(event.context.ip, here().ip, "with the request's visitor context");
    }

    #[tokio::test]
    async fn a_handoff_works_once_and_only_in_the_browser_its_sign_in_was_assessed_for() {
        let ports = sign_in_ports(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None)), Default::default());
        let sessions = ports.sessions.clone();
        let svc = SignIn::new(ports);
        let entry = Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") };
        let ctx = svc.entry.start("demo", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let Ok(Outcome::Handoff(handoff)) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no handoff") };
        let signed_in = svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signed_in.device.as_deref(), Some(crate::common::hashing::digest("browser-a").as_str()));
        assert!(matches!(svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await, Err(SignInError::HandoffUsed)));
        assert!(matches!(svc.arrival.open_handoff(&handoff, Some("browser-b"), &here(), NOW).await, Err(SignInError::OtherBrowser)));
        let cookie = crate::signin::session::parse_cookie(Some(&signed_in.session)).unwrap_or_else(|| panic!("a session cookie"));
        let kept = sessions.get(&cookie.key, &cookie.user_key).await;
        assert!(matches!(kept, Ok(Some(crate::signin::session::Found::Kept(_)))), "a spent handoff elsewhere ends nothing");
        // Brought first by another browser: refused, spent, and its sign-in over.
        let Ok(Outcome::Handoff(handoff)) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no handoff") };
        for other in [None, Some("browser-b"), Some("")] {
            assert!(matches!(svc.arrival.open_handoff(&handoff, other, &here(), NOW).await, Err(SignInError::OtherBrowser)), "{other:?}");
        }
        assert!(matches!(svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await, Err(SignInError::HandoffUsed)));
    }

    #[tokio::test]
    async fn a_sign_in_whose_handoff_would_be_too_large_is_refused_before_its_session_exists() {
        // Within Cognito's limits (2,048 characters an attribute), a name and a company fill the
        // app's token, and a long `return_to` goes beside it in the delivery.
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None));
        let set_name = |name: String, company: String| {
            if let Some(user) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
                user.claims["name"] = json!(name);
                user.claims["custom:company"] = json!(company);
            }
        };
        set_name("名".repeat(2_048), "c".repeat(2_048));
        let (ports, events) = sign_in_ports_recording(auth.clone());
        let sessions = Arc::new(crate::testing::MemorySessions { events: events.clone(), ..Default::default() });
        let svc = SignIn::new(SignInPorts { sessions: sessions.clone(), ..ports });
        let return_to = format!("https://acme.zendesk.com/hc/{}", "a".repeat(1_900));
        let ctx = svc.entry.start("demo", Entry { device: Some("browser-a"), ..Entry::return_to(&return_to) }, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let out = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await;
        assert!(matches!(out, Err(SignInError::Flow(FlowError::TooLarge))), "{out:?}");
        assert!(sessions.sessions.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "no session opened");
        assert!(!events.kinds().contains(&crate::events::EventType::UserSignedIn), "no sign-in recorded: {:?}", events.kinds());
        // With a shorter name and company, the same sign-in goes through, and its handoff opens.
        set_name("Hanako".into(), "Acme".into());
        let Ok(Outcome::Handoff(handoff)) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no handoff") };
        assert!(svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW).await.is_ok());
        assert_eq!(sessions.sessions.lock().unwrap_or_else(|p| p.into_inner()).len(), 1);
    }

    #[tokio::test]
    async fn an_email_proof_too_large_to_carry_is_refused_before_its_code_is_sent() {
        use std::sync::atomic::Ordering;
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None));
        let app = crate::tokens::app::App { risk_policy: crate::risk::RiskPolicy::RequireMfa, ..crate::testing::demo_app() };
        let (ports, _) = sign_in_ports_recording(auth.clone());
        let svc = SignIn::new(SignInPorts { apps: Arc::new(crate::testing::MemoryApps::with([app])), ..ports });
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW).await, Ok(Outcome::Handoff(_))), "the baseline");
        // A new browser asks for a second factor this person lacks: the email proof first, its
        // state carrying the person's tokens. Within Cognito's limits, these fill it.
        if let Some(user) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.claims["name"] = json!("名".repeat(2_048));
        }
        let out = sign_in_from(&svc, "browser-b", NOW + 60).await;
        assert!(matches!(out, Err(SignInError::Flow(FlowError::TooLarge))), "{out:?}");
        assert_eq!(auth.emails_sent.load(Ordering::Relaxed), 0, "no code for a step that cannot go on");
        // With a short name, the same sign-in sends its code.
        if let Some(user) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.claims["name"] = json!("Hanako");
        }
        let out = sign_in_from(&svc, "browser-b", NOW + 120).await;
        assert!(matches!(out, Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, .. })), "{out:?}");
        assert_eq!(auth.emails_sent.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn start_refuses_unknown_apps_and_foreign_return_to() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::default()));
        assert!(matches!(svc.entry.start("nope", Entry::default(), NOW).await, Err(SignInError::UnknownApp)));
        assert!(matches!(svc.entry.start("../demo", Entry::default(), NOW).await, Err(SignInError::UnknownApp)));
        assert!(matches!(svc.entry.start("demo", Entry::return_to("https://evil.com/"), NOW).await, Err(SignInError::ReturnTo(_))));
        assert!(svc.entry.start("demo", Entry::default(), NOW).await.is_ok());
    }

    #[tokio::test]
    async fn mfa_challenge_round_trip() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SmsMfa)));
        let svc = sign_in_service(auth);
        let ctx = ctx(&svc).await;
        let out = svc.password.sign_in(&ctx, EMAIL, &pw("pw-123456"), &here(), NOW).await;
        let Ok(Outcome::Challenge { kind: ChallengeKind::SmsMfa, flow, destination, .. }) = out else { panic!("{out:?}") };
        assert_eq!(destination.as_deref(), Some("+*******5678"));
        let wrong = svc.password.answer(&flow, ChallengeAnswer::Code(pw("000001")), &here(), NOW).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))));
        let mismatched = svc.password.answer(&flow, ChallengeAnswer::NewPassword(pw("x")), &here(), NOW).await;
        assert!(matches!(mismatched, Err(SignInError::BadInput("answer"))));
        let expired = svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + CHALLENGE_TTL).await;
        assert!(matches!(expired, Err(SignInError::Flow(FlowError::Expired))));
        let ok = svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await;
        assert!(matches!(ok, Ok(Outcome::Handoff(_))), "{ok:?}");
        // A context token is not a challenge token.
        assert!(matches!(svc.password.answer(&ctx, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await, Err(SignInError::Flow(FlowError::Invalid))));
    }

    #[tokio::test]
    async fn select_mfa_then_code() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", Some(ChallengeKind::SelectMfaType))));
        let ctx = ctx(&svc).await;
        let Ok(Outcome::Challenge { flow, options, .. }) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!() };
        assert_eq!(options, vec![ChallengeKind::SmsMfa, ChallengeKind::SoftwareTokenMfa]);
        let Ok(Outcome::Challenge { kind, flow, .. }) =
            svc.password.answer(&flow, ChallengeAnswer::Choose(ChallengeKind::SoftwareTokenMfa), &here(), NOW).await
        else {
            panic!()
        };
        assert_eq!(kind, ChallengeKind::SoftwareTokenMfa);
        assert!(matches!(svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await, Ok(Outcome::Handoff(_))));
    }

    #[tokio::test]
    async fn forgot_password_does_not_reveal_accounts_and_reset_signs_in() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "old", None));
        let svc = sign_in_service(auth.clone());
        let ctx = ctx(&svc).await;
        assert!(svc.password.forgot_password(&ctx, "nobody@example.com", NOW).await.is_ok());
        assert!(svc.password.forgot_password(&ctx, EMAIL, NOW).await.is_ok());
        assert!(matches!(svc.password.forgot_password(&ctx, "not-an-email", NOW).await, Err(SignInError::BadInput("email"))));
        // A weak new password is refused before Cognito, as for an address without an account.
        let calls = auth.calls.load(std::sync::atomic::Ordering::Relaxed);
        let weak = svc.password.reset_password(&ctx, EMAIL, &pw("000000"), &pw("new password"), &here(), NOW).await;
        assert!(matches!(weak, Err(SignInError::Auth(AuthError::PasswordPolicy))), "{weak:?}");
        assert_eq!(auth.calls.load(std::sync::atomic::Ordering::Relaxed), calls, "Cognito not called");
        let wrong = svc.password.reset_password(&ctx, EMAIL, &pw("999999"), &pw("New-Passw0rd"), &here(), NOW).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))));
        let ok = svc.password.reset_password(&ctx, EMAIL, &pw("000000"), &pw("New-Passw0rd"), &here(), NOW).await;
        assert!(matches!(ok, Ok(Outcome::Handoff(_))));
    }

    #[tokio::test]
    async fn unverified_email_is_never_sent_to_an_app() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None));
        if let Some(u) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            u.claims["email_verified"] = false.into();
        }
        let svc = sign_in_service(auth);
        let ctx = ctx(&svc).await;
        assert!(matches!(svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await, Err(SignInError::EmailNotVerified)));
    }

    #[tokio::test]
    async fn people_of_an_organisation_use_a_password_only_where_it_allows() {
        use crate::directory::org::{OrgPolicies, Organisation};
        use crate::testing::{MemoryOrgs, sign_in_service_with};
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw", Some(ChallengeKind::SmsMfa)));
        if let Some(u) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            u.claims["custom:org_id"] = "org-1".into();
        }
        let id = OrgId::parse("org-1").unwrap_or_else(|e| panic!("{e}"));
        let org = |password_sign_in| Organisation {
            id: id.clone(),
            name: "Corp".into(),
            domains: vec![],
            policies: OrgPolicies { password_sign_in, ..OrgPolicies::default() },
            connection: None,
            version: 1,
        };
        let orgs = Arc::new(MemoryOrgs::default());
        let svc = sign_in_service_with(auth, orgs.clone());
        let set = |org: Option<Organisation>| {
            let mut all = orgs.orgs.lock().unwrap_or_else(|p| p.into_inner());
            all.clear();
            all.extend(org.map(|o| (o.id.clone(), o)));
        };
        let sign_in = || async {
            let ctx = ctx(&svc).await;
            let Ok(Outcome::Challenge { flow, .. }) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no challenge") };
            svc.password.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await
        };
        set(Some(org(false)));
        assert!(matches!(sign_in().await, Err(SignInError::PasswordSignInDisabled)));
        set(None);
        assert!(matches!(sign_in().await, Err(SignInError::PasswordSignInDisabled)), "an organisation that is gone allows nothing");
        set(Some(org(true)));
        assert!(matches!(sign_in().await, Ok(Outcome::Handoff(_))));
    }

    #[tokio::test]
    async fn tampered_or_expired_context_is_refused_before_any_auth_call() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None));
        let svc = sign_in_service(auth.clone());
        let ctx = ctx(&svc).await;
        let tampered = format!("x{ctx}");
        assert!(matches!(svc.password.sign_in(&tampered, EMAIL, &pw("pw"), &here(), NOW).await, Err(SignInError::Flow(FlowError::Invalid))));
        assert!(matches!(svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW + CONTEXT_TTL).await, Err(SignInError::Flow(FlowError::Expired))));
        assert_eq!(auth.calls.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_forum_request_lives_as_long_as_its_nonce_and_keeps_it_through_the_sign_in() {
        use crate::common::hashing::{hex, hmac_sha256};
        use crate::testing::{MemoryApps, demo_app};
        use base64::Engine;
        let mut forum = demo_app();
        forum.id = AppId::parse("forum").unwrap_or_else(|e| panic!("{e}"));
        forum.target =
            serde_json::from_value(serde_json::json!({"kind": "discourse", "forum_url": "https://forum.example.com"})).unwrap_or_else(|e| panic!("{e}"));
        let ports = sign_in_ports(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None)), Default::default());
        let svc = SignIn::new(SignInPorts { apps: Arc::new(MemoryApps::with([forum])), ..ports });
        let sso = base64::engine::general_purpose::STANDARD.encode("nonce=n-1&return_sso_url=https%3A%2F%2Fforum.example.com%2Fsession%2Fsso_login");
        let sig = hex(&hmac_sha256(b"shared-secret", &[sso.as_bytes()]));
        let entry = Entry { sso: Some(&sso), sig: Some(&sig), device: Some("browser-a"), ..Entry::default() };
        let ctx = svc.entry.start("forum", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW + NONCE_TTL).await, Err(SignInError::Flow(FlowError::Expired))),
            "an expired nonce"
        );
        let Ok(Outcome::Handoff(handoff)) = svc.password.sign_in(&ctx, EMAIL, &pw("pw"), &here(), NOW + NONCE_TTL - 1).await else { panic!("no handoff") };
        let signed_in = svc.arrival.open_handoff(&handoff, Some("browser-a"), &here(), NOW + NONCE_TTL - 1).await.unwrap_or_else(|e| panic!("{e}"));
        let Delivery::Get { url } = signed_in.delivery else { panic!("{:?}", signed_in.delivery) };
        assert!(url.starts_with("https://forum.example.com/session/sso_login?sso="), "{url}");
        let without = svc.entry.start("forum", Entry::return_to("https://forum.example.com/"), NOW).await;
        assert!(matches!(without, Err(SignInError::AppRequest(RequestError::Missing))), "a forum is entered only with its signed request");
    }
}
