//! The sign-in service: from "this person wants app X" to "send the browser there with a token".
//!
//! Steps, each one call from the handler:
//! 1. [`SignIn::start`]: check the app and the app's request ([`Entry`]: `return_to`, or a
//!    DiscourseConnect `sso`/`sig`), hand out a sealed context for the form.
//! 2. [`SignIn::password`]: authenticate; either deliver the app's token or pose a challenge.
//! 3. [`SignIn::answer`]: answer a challenge (MFA code, new password, factor choice); same results.
//! 4. [`SignIn::forgot_password`] / [`SignIn::reset_password`]: the reset path, which signs the
//!    person in with the new password when it succeeds.
//! 5. [`SignIn::complete`]: the same ending for a corporate sign-in (`domain::corporate`).
//!
//! Every sign-in ends with the app's token and a new bridge session (`domain::session`):
//! [`SignedIn`]. A password sign-in hands it to the form sealed ([`Outcome::Handoff`]): the form's
//! JSON call cannot receive a cookie for the API when the two are on different sites, so the
//! form's browser brings it to the API on a top-level navigation ([`SignIn::open_handoff`]: once,
//! encrypted so the form's script reads nothing in it), which sets the cookie and goes on to the
//! app. [`SignIn::enter`] mints for another app from a live session without asking again, when
//! what the session's sign-in proved satisfies that app's risk policy in the same browser (or
//! starts the form), and [`SignIn::logout`] ends it.
//!
//! Every sign-in is assessed (`domain::risk`) before any token. A `require_mfa` app and a person
//! without a second factor: a code to the verified email first (`ChallengeKind::VerifyEmail`),
//! then an authenticator app (`ChallengeKind::TotpSetup`), recorded as `user.mfa_enrolled`.
//!
//! A successful authentication costs exactly one identity-provider call: the ID token is verified
//! locally and the profile is read from its claims. A person who belongs to an organisation
//! (`custom:org_id`) may use a password only if that organisation's policy allows it; the
//! organisation is read from a cache, so this costs nothing on a warm instance.

use secrecy::SecretString;
use std::sync::Arc;

use crate::common::email::Email;
use crate::common::profile::{TOKEN_CLAIMS, UserProfile};
use crate::common::secrets::CachedSecrets;
use crate::common::store::StoreError;
use crate::directory::org::OrgId;
use crate::directory::ports::{DirectoryError, OrgDirectory, PoolUsers};
use crate::events::EventLog;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::risk::RiskStore;
use crate::risk::{Assurance, RiskProfile, Visit, network_of};
use crate::signin::challenge::{AccessToken, AuthError, AuthStep, Challenge, ChallengeAnswer, ChallengeKind};
use crate::signin::corporate::Finished;
use crate::signin::flow;
use crate::signin::flow::{ChallengeState, FlowError, Purpose, SignInContext};
use crate::signin::oidc;
use crate::signin::ports::{IdTokenVerifier, PasswordAuth, SessionStore, TokenRejected};
use crate::signin::session::{Method, ProviderLogout, Session, SessionPolicy};
use crate::tokens::app::{App, AppId};
use crate::tokens::jws::{Algorithm, SigningKey};
use crate::tokens::ports::AppDirectory;
use crate::tokens::return_to::ReturnTo;
use crate::tokens::signing_keys::{SignerError, Signers};
use crate::tokens::targets::Target;
use crate::tokens::targets::discourse::{NONCE_TTL, RequestError};
use crate::tokens::targets::mint::{Delivery, MintError, MintInput};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long the form may take from `/sso/{app}` to a password (seconds).
pub const CONTEXT_TTL: u64 = 30 * 60;
/// How long a challenge may take; Cognito's own session lasts 3 to 15 minutes.
pub const CHALLENGE_TTL: u64 = 15 * 60;
/// How long the form's browser may take to bring a handoff to the API (seconds).
pub const HANDOFF_TTL: u64 = 60;

pub struct SignIn {
    pub apps: Arc<dyn AppDirectory>,
    pub orgs: Arc<dyn OrgDirectory>,
    pub auth: Arc<dyn PasswordAuth>,
    pub tokens: Arc<dyn IdTokenVerifier>,
    pub secrets: Arc<CachedSecrets>,
    pub sessions: Arc<dyn SessionStore>,
    /// Where failed sign-ins are recorded (successful ones are recorded with their session).
    pub events: Arc<dyn EventLog>,
    /// People's sign-in history and failed attempts, for risk assessment.
    pub risk: Arc<dyn RiskStore>,
    pub pool: Arc<dyn PoolUsers>,
    pub session_policy: SessionPolicy,
    /// Our signing keys, for apps whose tokens we sign with them.
    pub signers: Arc<Signers>,
    /// The `iss` of the tokens we sign (the API's public URL).
    pub issuer: String,
}

/// What the app asked for when it sent the person to `/sso/{app}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry<'a> {
    pub return_to: Option<&'a str>,
    /// DiscourseConnect's signed request.
    pub sso: Option<&'a str>,
    pub sig: Option<&'a str>,
    /// The browser's device cookie (its digest goes into the context).
    pub device: Option<&'a str>,
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
}

/// Where `/sso/{app}` sends the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Entered {
    /// Straight to the app: a live session signed the person in.
    App(Delivery),
    /// To the form, with this sealed context.
    Form(String),
}

/// A sign-in let through: the events its session records (`user.signed_in` first) and the
/// person's risk profile after it.
struct Arrival {
    events: Vec<IdentityEvent>,
    risk: RiskProfile,
    /// What the sign-in proved, kept with the session.
    assurance: Assurance,
    /// The browser's device digest, kept with the session.
    device: Option<String>,
}

/// What the person's browser does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Take this sealed [`SignedIn`] to the API (`POST /session/handoff`).
    Handoff(String),
    /// Answer a challenge, carrying `flow` back with the answer.
    Challenge { kind: ChallengeKind, destination: Option<String>, options: Vec<ChallengeKind>, flow: String, setup: Option<TotpSetup> },
}

/// The person's Cognito tokens while a bridge challenge (email proof, authenticator set-up)
/// is open: carried in its sealed flow, encrypted (`flow::encrypt`).
#[derive(Serialize, Deserialize)]
struct Carried {
    id: String,
    access: String,
    /// The name the authenticator app shows for the account (the email).
    account: String,
}

impl Carried {
    fn new(id_token: &str, access_token: &AccessToken, session: &Session) -> Self {
        let account = session.profile.get("email").and_then(Value::as_str).unwrap_or(&session.username).to_owned();
        Self { id: id_token.to_owned(), access: access_token.0.expose_secret().to_owned(), account }
    }

    fn access_token(&self) -> AccessToken {
        AccessToken(SecretString::from(self.access.clone()))
    }
}

/// What the person puts into their authenticator app (`ChallengeKind::TotpSetup`).
#[derive(Debug, PartialEq, Eq)]
pub struct TotpSetup {
    /// The shared secret (base32), to type in.
    pub secret: String,
    /// The same as an `otpauth://totp/...` URI (a link or a QR code).
    pub uri: String,
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
    #[error("a high-risk sign-in refused by the app's policy")]
    HighRiskDenied,
    #[error("the sign-in's handoff was used before")]
    HandoffUsed,
    #[error("the sign-in's handoff was brought by another browser than the one that started it")]
    OtherBrowser,
    #[error("a high-risk sign-in without a second factor refused by the app's policy")]
    SecondFactorRequired,
    #[error("a high-risk corporate sign-in whose provider reports no second factor, refused by the app's policy")]
    ProviderSecondFactorRequired,
    #[error(transparent)]
    AppRequest(#[from] RequestError),
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

impl SignIn {
    /// Checks the app and its request; returns the sealed context the form carries.
    pub async fn start(&self, app_id: &str, entry: Entry<'_>, now: u64) -> Result<String, SignInError> {
        let app = self.app(app_id).await?;
        let ctx = self.context(&app, entry).await?;
        self.seal_context(&ctx, now).await
    }

    /// Seals `ctx` again (a fresh form for the same request), for as long as the app's request
    /// may take.
    pub async fn seal_context(&self, ctx: &SignInContext, now: u64) -> Result<String, SignInError> {
        let ttl = if ctx.nonce.is_some() { NONCE_TTL } else { CONTEXT_TTL };
        let key = self.secrets.bridge().await?;
        Ok(flow::seal(&key.flow_key, Purpose::Context, now + ttl, ctx))
    }

    /// The app's request, checked: `return_to` against the app's origins, or the forum's signed
    /// request for a DiscourseConnect app (which has no other way in).
    async fn context(&self, app: &App, entry: Entry<'_>) -> Result<SignInContext, SignInError> {
        let (return_to, nonce) = match &app.target {
            Target::Discourse(forum) => {
                let secret = self.shared_secret(app).await?;
                let request = forum.verify(entry.sso, entry.sig, &secret)?;
                (Some(request.return_sso_url), Some(request.nonce))
            }
            _ => (entry.return_to.filter(|r| !r.is_empty()).map(|r| ReturnTo::check(r, &app.allowed_origins)).transpose()?, None),
        };
        let device = entry.device.filter(|d| !d.is_empty() && d.len() <= 128).map(oidc::digest);
        Ok(SignInContext { app: app.id.clone(), return_to, nonce, device })
    }

    /// `visitor`: what the request says about where it came from (IP, user agent, device,
    /// country), here and in the other steps; it goes into the sign-in's events.
    pub async fn password(&self, ctx: &str, email: &str, password: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let ctx = self.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        self.app(ctx.app.as_str()).await?;
        let step = match self.auth.sign_in(email.as_str(), password).await {
            Err(AuthError::InvalidCredentials) => {
                if let Err(e) = self.risk.failed(email.as_str(), now).await {
                    tracing::warn!(error = %e, "could not count a failed sign-in");
                }
                let user = EventUser { email: Some(email.as_str().to_owned()), ..EventUser::default() };
                return Err(self.failed(&ctx, user, visitor, AuthError::InvalidCredentials, now).await);
            }
            step => step?,
        };
        self.next(ctx, step, visitor, false, now).await
    }

    /// Records a failed sign-in (a failure to record it is logged, never shown to the person).
    async fn failed(&self, ctx: &SignInContext, user: EventUser, visitor: &EventContext, error: AuthError, now: u64) -> SignInError {
        let context = EventContext { app: Some(ctx.app.to_string()), method: Some("password".into()), ..visitor.clone() };
        let reason = match error {
            AuthError::CodeMismatch => "code_mismatch",
            _ => "invalid_credentials",
        };
        let event = IdentityEvent::new(EventType::UserSignInFailed, user, context, now).with_detail("reason", reason);
        if let Err(e) = self.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a failed sign-in");
        }
        error.into()
    }

    pub async fn answer(&self, flow_token: &str, answer: ChallengeAnswer, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let key = self.secrets.bridge().await?;
        let state: ChallengeState = flow::open(&key.flow_key, Purpose::Challenge, flow_token, now)?;
        let fits = match (&answer, state.challenge) {
            (ChallengeAnswer::NewPassword(_), ChallengeKind::NewPassword) => true,
            (ChallengeAnswer::Choose(choice), ChallengeKind::SelectMfaType) => *choice != ChallengeKind::SelectMfaType && *choice != ChallengeKind::NewPassword,
            (
                ChallengeAnswer::Code(_),
                ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp | ChallengeKind::TotpSetup | ChallengeKind::VerifyEmail,
            ) => true,
            _ => false,
        };
        if !fits {
            return Err(SignInError::BadInput("answer"));
        }
        match (state.challenge, &answer) {
            (ChallengeKind::VerifyEmail, ChallengeAnswer::Code(code)) => return self.finish_email_proof(state, code, visitor, now).await,
            (ChallengeKind::TotpSetup, ChallengeAnswer::Code(code)) => return self.finish_totp_setup(state, code, visitor, now).await,
            _ => {}
        }
        let challenge = Challenge { kind: state.challenge, session: state.session, username: state.username, destination: None, options: Vec::new() };
        let second_factor = matches!(challenge.kind, ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp);
        let step = match self.auth.answer(&challenge, answer).await {
            Err(AuthError::CodeMismatch) => {
                let user = EventUser { username: Some(challenge.username), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, AuthError::CodeMismatch, now).await);
            }
            step => step?,
        };
        self.next(state.ctx, step, visitor, second_factor, now).await
    }

    /// Asks for a reset code. Unknown accounts get the same answer as known ones.
    pub async fn forgot_password(&self, ctx: &str, email: &str, now: u64) -> Result<(), SignInError> {
        self.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        match self.auth.forgot_password(email.as_str()).await {
            Ok(()) | Err(AuthError::InvalidCredentials) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a new password with the emailed code, then signs in with it.
    pub async fn reset_password(
        &self,
        ctx: &str,
        email: &str,
        code: &SecretString,
        new_password: &SecretString,
        visitor: &EventContext,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let ctx = self.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        self.auth.confirm_forgot_password(email.as_str(), code, new_password).await?;
        // A new password ends what the old one opened: the person's bridge sessions and
        // Cognito refresh tokens.
        if let Some(username) = self.pool.find_by_email(email.as_str()).await? {
            self.sessions.end_all(&username).await?;
            if let Err(e) = self.pool.sign_out(&username).await {
                tracing::warn!(error = %e, "could not revoke the refresh tokens after a password reset");
            }
        }
        let step = self.auth.sign_in(email.as_str(), new_password).await?;
        self.next(ctx, step, visitor, false, now).await
    }

    /// `second_factor`: the step answered an MFA challenge.
    async fn next(&self, ctx: SignInContext, step: AuthStep, visitor: &EventContext, second_factor: bool, now: u64) -> Result<Outcome, SignInError> {
        match step {
            AuthStep::Authenticated { id_token, access_token } => self.deliver(&ctx, &id_token, &access_token, visitor, second_factor, now).await,
            AuthStep::Challenge(c) => {
                let key = self.secrets.bridge().await?;
                let state = ChallengeState { ctx, challenge: c.kind, username: c.username, session: c.session };
                let flow = flow::seal(&key.flow_key, Purpose::Challenge, now + CHALLENGE_TTL, &state);
                Ok(Outcome::Challenge { kind: c.kind, destination: c.destination, options: c.options, flow, setup: None })
            }
        }
    }

    async fn deliver(
        &self,
        ctx: &SignInContext,
        id_token: &str,
        access_token: &AccessToken,
        visitor: &EventContext,
        second_factor: bool,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let claims = self.tokens.verify(id_token, now).await?;
        let profile = UserProfile::from_claims(&claims).map_err(|_| TokenRejected::Invalid("no subject"))?;
        if profile.email.is_some() && !profile.email_verified {
            return Err(SignInError::EmailNotVerified);
        }
        self.check_password_allowed(&profile).await?;
        let app = self.app(ctx.app.as_str()).await?;
        let username = claims.get("cognito:username").and_then(Value::as_str).unwrap_or(&profile.subject).to_owned();
        let org = profile.org().and_then(|o| OrgId::parse(o).ok());
        let session = Session::new(username, org, Method::Password, claims, self.session_policy, now);
        let arrival = match self.assess(&app, &session, ctx, visitor, second_factor).await {
            // The app wants a second factor this person has not set up: set one up now, once
            // they have proved they hold their verified email (not only the password).
            Err(SignInError::SecondFactorRequired) if profile.email.is_some() => {
                let carried = Carried::new(id_token, access_token, &session);
                return self.start_email_proof(ctx, &session.username, carried, now).await;
            }
            other => other?,
        };
        let delivery = self.mint(&app, &profile, ctx, now).await?;
        // The session is not the browser's until the handoff is redeemed, once.
        let session = self.open_session(Session { handoff: true, ..session }, arrival).await?;
        let key = self.secrets.bridge().await?;
        // Encrypted: the form's script carries the handoff but can read neither the session
        // value nor the app's token in it.
        let signed_in = serde_json::to_string(&SignedIn { delivery, session, device: ctx.device.clone() }).map_err(|_| FlowError::Invalid)?;
        Ok(Outcome::Handoff(flow::seal(&key.flow_key, Purpose::Handoff, now + HANDOFF_TTL, &flow::encrypt(&key.flow_key, &signed_in))))
    }

    /// The step before a factor is enrolled: a code to the person's verified email
    /// (`ChallengeKind::VerifyEmail`), their tokens carried encrypted in the flow.
    async fn start_email_proof(&self, ctx: &SignInContext, username: &str, carried: Carried, now: u64) -> Result<Outcome, SignInError> {
        let destination = self.auth.send_email_code(&carried.access_token()).await?;
        let flow = self.carry(ctx, username, ChallengeKind::VerifyEmail, &carried, now).await?;
        Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, destination, options: Vec::new(), flow, setup: None })
    }

    /// A challenge of the bridge's own whose sealed state carries the person's tokens encrypted.
    async fn carry(&self, ctx: &SignInContext, username: &str, kind: ChallengeKind, carried: &Carried, now: u64) -> Result<String, SignInError> {
        let key = self.secrets.bridge().await?;
        let plain = serde_json::to_string(carried).map_err(|_| FlowError::Invalid)?;
        let state = ChallengeState { ctx: ctx.clone(), challenge: kind, username: username.to_owned(), session: flow::encrypt(&key.flow_key, &plain) };
        Ok(flow::seal(&key.flow_key, Purpose::Challenge, now + CHALLENGE_TTL, &state))
    }

    /// The tokens a bridge challenge carries (see [`Self::carry`]).
    async fn carried(&self, state: &ChallengeState) -> Result<Carried, SignInError> {
        let key = self.secrets.bridge().await?;
        let plain = flow::decrypt(&key.flow_key, &state.session).ok_or(FlowError::Invalid)?;
        Ok(serde_json::from_str(plain.expose_secret()).map_err(|_| FlowError::Invalid)?)
    }

    /// The emailed code: checked, then on to setting up the authenticator app.
    async fn finish_email_proof(&self, state: ChallengeState, code: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let carried = self.carried(&state).await?;
        match self.auth.check_email_code(&carried.access_token(), code).await {
            Err(AuthError::CodeMismatch) => {
                let user = EventUser { username: Some(state.username.clone()), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, AuthError::CodeMismatch, now).await);
            }
            other => other?,
        }
        self.start_totp_setup(&state.ctx, &state.username, carried, now).await
    }

    /// The step that sets up an authenticator app: Cognito's secret for the person, and a
    /// challenge carrying their tokens.
    async fn start_totp_setup(&self, ctx: &SignInContext, username: &str, carried: Carried, now: u64) -> Result<Outcome, SignInError> {
        let secret = self.auth.associate_totp(&carried.access_token()).await?.expose_secret().to_owned();
        let flow = self.carry(ctx, username, ChallengeKind::TotpSetup, &carried, now).await?;
        let issuer = url::Url::parse(&self.issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "Identity bridge".into());
        let label = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        let uri = format!("otpauth://totp/{}:{}?secret={secret}&issuer={}", label(&issuer), label(&carried.account), label(&issuer));
        Ok(Outcome::Challenge { kind: ChallengeKind::TotpSetup, destination: None, options: Vec::new(), flow, setup: Some(TotpSetup { secret, uri }) })
    }

    /// The code from a newly set-up authenticator app: verified (Cognito makes it the person's
    /// preferred factor), recorded as `user.mfa_enrolled`, the person's other sessions ended
    /// (their factors changed), then the sign-in goes on with its second factor.
    async fn finish_totp_setup(&self, state: ChallengeState, code: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let carried = self.carried(&state).await?;
        let access_token = carried.access_token();
        match self.auth.verify_totp(&access_token, code).await {
            Err(AuthError::CodeMismatch) => {
                let user = EventUser { username: Some(state.username.clone()), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, AuthError::CodeMismatch, now).await);
            }
            other => other?,
        }
        let user = EventUser { username: Some(state.username.clone()), email: Some(carried.account.clone()), ..EventUser::default() };
        let context =
            EventContext { app: Some(state.ctx.app.to_string()), method: Some("password".into()), device: state.ctx.device.clone(), ..visitor.clone() };
        let enrolled = IdentityEvent::new(EventType::UserMfaEnrolled, user, context, now).with_detail("factor", "software_token");
        self.events.record(&enrolled).await?;
        self.sessions.end_all(&state.username).await?;
        self.deliver(&state.ctx, &carried.id, &access_token, visitor, true, now).await
    }

    /// A password sign-in's handoff, brought back by the browser (`device`: its device cookie):
    /// good once, within [`HANDOFF_TTL`] (one conditional write redeems it), and, when the
    /// sign-in was assessed as coming from a device, only in the browser holding that device's
    /// cookie (a form URL carried elsewhere does not carry the browser's standing with it).
    pub async fn open_handoff(&self, handoff: &str, device: Option<&str>, now: u64) -> Result<SignedIn, SignInError> {
        let key = self.secrets.bridge().await?;
        let sealed: String = flow::open(&key.flow_key, Purpose::Handoff, handoff, now)?;
        let plain = flow::decrypt(&key.flow_key, &sealed).ok_or(FlowError::Invalid)?;
        let signed_in: SignedIn = serde_json::from_str(plain.expose_secret()).map_err(|_| FlowError::Invalid)?;
        let key = oidc::digest(&signed_in.session);
        if !flow::device_shown(signed_in.device.as_deref(), device) {
            tracing::info!("a handoff brought by another browser than the one its sign-in was assessed for");
            // A handoff not yet redeemed is spent here and its sign-in is over: the session ends
            // and the audit trail says why. One redeemed before is left alone (its session is
            // the person's).
            if self.sessions.redeem(&key).await?
                && let Some(session) = self.sessions.end(&key).await?
            {
                let user = EventUser { username: Some(session.username.clone()), ..EventUser::from_claims(&session.profile) };
                let context = EventContext { method: Some("password".into()), device: device.map(oidc::digest), ..EventContext::default() };
                let event = IdentityEvent::new(EventType::UserSignInFailed, user, context, now).with_detail("reason", "other_browser");
                self.events.record(&event).await?;
            }
            return Err(SignInError::OtherBrowser);
        }
        if !self.sessions.redeem(&key).await? {
            return Err(SignInError::HandoffUsed);
        }
        Ok(signed_in)
    }

    /// Ends a corporate sign-in (`domain::corporate`): the app's token and a new session.
    pub async fn complete(&self, done: Finished, visitor: &EventContext, now: u64) -> Result<SignedIn, SignInError> {
        let (ctx, user) = (&done.ctx, &done.user);
        let mut claims = user.attributes.clone();
        claims.insert("cognito:groups".into(), user.groups.iter().cloned().map(Value::String).collect());
        let profile = UserProfile::from_claims(&claims).map_err(|_| TokenRejected::Invalid("no subject"))?;
        let app = self.app(ctx.app.as_str()).await?;
        let mut session = Session::new(user.username.clone(), Some(done.org.clone()), Method::Corporate, claims, self.session_policy, now);
        session.provider_logout = done.provider_logout.clone();
        // The company's provider applies its own factors; only its `amr` tells us it did.
        let arrival = match self.assess(&app, &session, ctx, visitor, done.second_factor).await {
            Err(SignInError::SecondFactorRequired) => return Err(SignInError::ProviderSecondFactorRequired),
            other => other?,
        };
        let delivery = self.mint(&app, &profile, ctx, now).await?;
        let session = self.open_session(session, arrival).await?;
        Ok(SignedIn { delivery, session, device: ctx.device.clone() })
    }

    /// An app sends the person here: with a live session (`cookie`), the app's token at once
    /// (single sign-on: one session read, no Cognito call); otherwise the sealed context for the
    /// form. The app and its request are checked once, either way.
    pub async fn enter(&self, app_id: &str, entry: Entry<'_>, cookie: Option<&str>, now: u64) -> Result<Entered, SignInError> {
        let app = self.app(app_id).await?;
        let ctx = self.context(&app, entry).await?;
        match self.resume(&app, &ctx, cookie, now).await? {
            Some(delivery) => Ok(Entered::App(delivery)),
            None => Ok(Entered::Form(self.seal_context(&ctx, now).await?)),
        }
    }

    /// The app's token from a live session, or `None` when there is no such session.
    async fn resume(&self, app: &App, ctx: &SignInContext, cookie: Option<&str>, now: u64) -> Result<Option<Delivery>, SignInError> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else { return Ok(None) };
        let key = oidc::digest(cookie);
        let Some(session) = self.sessions.get(&key).await?.filter(|s| s.live(now)) else { return Ok(None) };
        // The app's own policy, on what the session's sign-in proved; in another browser than
        // the one that signed in, the session proves nothing. Not admitted: a fresh sign-in.
        let same_browser = session.device.is_some() && session.device == ctx.device;
        let assurance = if same_browser { session.assurance } else { Assurance::unknown() };
        if !app.risk_policy.admits(assurance) {
            tracing::info!(app = %app.id, ?assurance, same_browser, "a session not enough for the app's risk policy: to the form");
            return Ok(None);
        }
        let profile = UserProfile::from_claims(&session.profile).map_err(|_| TokenRejected::Invalid("no subject"))?;
        let delivery = self.mint(app, &profile, ctx, now).await?;
        if session.needs_touch(now) {
            self.sessions.touch(&key, now).await?;
        }
        Ok(Some(delivery))
    }

    /// Ends the session `cookie` names and revokes the person's Cognito refresh tokens; returns
    /// where to continue for the provider's own sign-out, if the session has one.
    pub async fn logout(&self, cookie: Option<&str>) -> Result<Option<ProviderLogout>, SignInError> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else { return Ok(None) };
        let Some(session) = self.sessions.end(&oidc::digest(cookie)).await? else { return Ok(None) };
        // The session is over either way; a refresh-token revocation that failed is logged.
        if let Err(e) = self.pool.sign_out(&session.username).await {
            tracing::warn!(error = %e, "could not revoke the refresh tokens at sign-out");
        }
        Ok(session.provider_logout)
    }

    /// Assesses the sign-in's risk (`domain::risk`) before any token is minted and applies the
    /// app's policy: refused, or let through with what the session records.
    async fn assess(&self, app: &App, session: &Session, ctx: &SignInContext, visitor: &EventContext, second_factor: bool) -> Result<Arrival, SignInError> {
        let now = session.created;
        let mut user = EventUser::from_claims(&session.profile);
        user.username = Some(session.username.clone());
        let email = user.email.clone().filter(|_| user.email_verified == Some(true));
        let (history, failures) = self.risk.history(&session.username, email.as_deref(), now).await?;
        let visit = Visit { device: ctx.device.clone(), network: visitor.ip.as_deref().and_then(network_of), country: visitor.country.clone() };
        let assessment = history.assess(&visit, failures, now);
        let assurance = Assurance { high_risk: assessment.high, second_factor };
        let method = match session.method {
            Method::Password => "password",
            Method::Corporate => "corporate",
        };
        let context = EventContext { app: Some(app.id.to_string()), method: Some(method.into()), device: ctx.device.clone(), ..visitor.clone() };
        let mut events = Vec::new();
        if assessment.high {
            let mut risky = IdentityEvent::new(EventType::SignInHighRisk, user.clone(), context.clone(), now)
                .with_detail("signals", serde_json::to_value(&assessment.signals).unwrap_or_default());
            let refused = match app.risk_policy {
                _ if app.risk_policy.admits(assurance) => None,
                crate::risk::RiskPolicy::RequireMfa => Some(SignInError::SecondFactorRequired),
                _ => Some(SignInError::HighRiskDenied),
            };
            let outcome = match refused {
                None => "allowed",
                Some(SignInError::SecondFactorRequired) => "second_factor_required",
                Some(_) => "refused",
            };
            risky.detail.insert("outcome".into(), outcome.into());
            if let Some(refused) = refused {
                tracing::info!(app = %app.id, signals = ?assessment.signals, "a high-risk sign-in refused by the app's policy");
                self.events.record(&risky).await?;
                return Err(refused);
            }
            events.push(risky);
        }
        // The session key's digest names the sign-in event; it is set in `open_session`.
        events.insert(0, IdentityEvent::new(EventType::UserSignedIn, user, context, now));
        let trusted = !assurance.high_risk || assurance.second_factor;
        let risk = history.signed_in(&visit, trusted, now);
        Ok(Arrival { events, risk, assurance, device: visit.device })
    }

    /// Opens the session and records the sign-in's events and the person's profile with it.
    async fn open_session(&self, mut session: Session, mut arrival: Arrival) -> Result<String, SignInError> {
        // The person, not the token they signed in with.
        session.profile.retain(|k, _| k == "cognito:groups" || !TOKEN_CLAIMS.contains(&k.as_str()));
        session.assurance = arrival.assurance;
        session.device = arrival.device.take();
        let cookie = oidc::random_token();
        let key = oidc::digest(&cookie);
        // The session key's digest is unique: the sign-in event's id (never the cookie itself).
        arrival.events[0].id = format!("signin-{}", &key[..32.min(key.len())]);
        self.sessions.create(&key, &session, &arrival.events, &arrival.risk).await?;
        Ok(cookie)
    }

    async fn mint(&self, app: &App, profile: &UserProfile, ctx: &SignInContext, now: u64) -> Result<Delivery, SignInError> {
        let input = MintInput {
            app: app.id.as_str(),
            profile,
            claims: &app.claims,
            return_to: ctx.return_to.as_ref(),
            nonce: ctx.nonce.as_deref(),
            issuer: &self.issuer,
            now,
            jti: uuid::Uuid::new_v4(),
        };
        let delivery = match app.target.algorithm() {
            Algorithm::HS256 => app.target.mint(input, &SigningKey::Hs256(self.shared_secret(app).await?)),
            ours => app.target.mint(input, &*self.signers.current(ours, now).await?),
        };
        delivery.map_err(|e| {
            // The operator learns which app and which data (never the person's values).
            tracing::warn!(app = %app.id, error = %e, "could not mint the app's token");
            e.into()
        })
    }

    /// The secret this app shares with us (HS256 apps, DiscourseConnect).
    async fn shared_secret(&self, app: &App) -> Result<Vec<u8>, SignInError> {
        let secret_ref = app.signing_secret.as_ref().ok_or(SignerError::NoKey(Algorithm::HS256))?;
        Ok(secrecy::ExposeSecret::expose_secret(&*self.secrets.value(secret_ref).await?).as_bytes().to_vec())
    }

    /// Every path through `deliver` is a password sign-in. People of an organisation that does
    /// not allow it, or whose organisation no longer exists, are refused.
    async fn check_password_allowed(&self, profile: &UserProfile) -> Result<(), SignInError> {
        let Some(org) = profile.org() else { return Ok(()) };
        let org = match OrgId::parse(org) {
            Ok(id) => self.orgs.org(&id).await?,
            Err(_) => None,
        };
        if org.is_some_and(|o| o.policies.password_sign_in) { Ok(()) } else { Err(SignInError::PasswordSignInDisabled) }
    }

    async fn open_context(&self, ctx: &str, now: u64) -> Result<SignInContext, SignInError> {
        let key = self.secrets.bridge().await?;
        Ok(flow::open(&key.flow_key, Purpose::Context, ctx, now)?)
    }

    async fn app(&self, raw_id: &str) -> Result<Arc<App>, SignInError> {
        let id = AppId::parse(raw_id).map_err(|_| SignInError::UnknownApp)?;
        self.apps.app(&id).await?.ok_or(SignInError::UnknownApp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ScriptedAuth, sign_in_service, sign_in_service_recording};
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
        svc.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await.unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn password_without_mfa_delivers_with_one_auth_call() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "correct horse", None));
        let svc = sign_in_service(auth.clone());
        let ctx = ctx(&svc).await;
        let out = svc.password(&ctx, "Hanako@Example.com", &pw("correct horse"), &here(), NOW + 5).await;
        let Ok(Outcome::Handoff(handoff)) = out else { panic!("{out:?}") };
        let signed_in = svc.open_handoff(&handoff, None, NOW + 5 + HANDOFF_TTL - 1).await.unwrap_or_else(|e| panic!("{e}"));
        let Delivery::Post { action, fields } = signed_in.delivery else { panic!("{:?}", signed_in.delivery) };
        assert!(matches!(svc.open_handoff(&handoff, None, NOW + 5 + HANDOFF_TTL).await, Err(SignInError::Flow(FlowError::Expired))));
        assert!(matches!(svc.open_handoff(&ctx, None, NOW + 5).await, Err(SignInError::Flow(FlowError::Invalid))), "a context is no handoff");
        assert_eq!(action, "https://acme.zendesk.com/access/jwt");
        assert_eq!(fields[1].1, "https://acme.zendesk.com/hc/ja");
        assert_eq!(auth.calls.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn sign_ins_and_failures_are_recorded_as_events() {
        let (svc, events) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SmsMfa))));
        let ctx = ctx(&svc).await;
        assert!(matches!(svc.password(&ctx, EMAIL, &pw("wrong"), &here(), NOW).await, Err(SignInError::Auth(AuthError::InvalidCredentials))));
        let Ok(Outcome::Challenge { flow, .. }) = svc.password(&ctx, EMAIL, &pw("pw-123456"), &here(), NOW).await else { panic!("no challenge") };
        assert!(svc.answer(&flow, ChallengeAnswer::Code(pw("000001")), &here(), NOW).await.is_err());
        assert!(matches!(svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + 1).await, Ok(Outcome::Handoff(_))));
        use crate::events::EventType::*;
        assert_eq!(events.kinds(), [UserSignInFailed, UserSignInFailed, UserSignedIn]);
        let all = events.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
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
        let ctx = svc.start("demo", entry, now).await?;
        match svc.password(&ctx, EMAIL, &pw("pw-123456"), &here(), now).await? {
            Outcome::Challenge { flow, kind, .. } if !matches!(kind, ChallengeKind::TotpSetup | ChallengeKind::VerifyEmail) => {
                svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), now).await
            }
            done => Ok(done),
        }
    }

    fn with_policy(svc: SignIn, policy: crate::risk::RiskPolicy) -> SignIn {
        let app = crate::tokens::app::App { risk_policy: policy, ..crate::testing::demo_app() };
        SignIn { apps: Arc::new(crate::testing::MemoryApps::with([app])), ..svc }
    }

    #[tokio::test]
    async fn a_high_risk_sign_in_is_decided_by_the_apps_policy_before_any_token() {
        use crate::events::EventType::*;
        use crate::risk::RiskPolicy;
        let high_risk = |events: &crate::testing::MemoryEvents| {
            events.0.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|e| e.kind == SignInHighRisk).map(|e| e.detail.clone()).collect::<Vec<_>>()
        };

        // Deny: the first sign-in sets the baseline; a new browser is refused and recorded.
        let (svc, events) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None)));
        let svc = with_policy(svc, RiskPolicy::Deny);
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW).await, Ok(Outcome::Handoff(_))));
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW + 60).await, Ok(Outcome::Handoff(_))), "a known browser");
        assert!(matches!(sign_in_from(&svc, "browser-b", NOW + 120).await, Err(SignInError::HighRiskDenied)));
        assert_eq!(high_risk(&events), [serde_json::from_value(json!({"signals": ["new_device"], "outcome": "refused"})).unwrap_or_default()]);
        assert_eq!(events.kinds().iter().filter(|k| **k == UserSignedIn).count(), 2, "no session for the refused sign-in");

        // Three wrong passwords for the address make even a known browser high risk.
        for _ in 0..3 {
            let ctx = ctx(&svc).await;
            assert!(svc.password(&ctx, EMAIL, &pw("wrong"), &here(), NOW + 130).await.is_err());
        }
        assert!(matches!(sign_in_from(&svc, "browser-a", NOW + 140).await, Err(SignInError::HighRiskDenied)));

        // Require a second factor: a person without one proves they hold their email, then sets
        // up an authenticator app.
        let (svc, events) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", None)));
        let svc = with_policy(svc, RiskPolicy::RequireMfa);
        assert!(sign_in_from(&svc, "browser-a", NOW).await.is_ok());
        let Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, flow, destination, setup: None, .. }) = sign_in_from(&svc, "browser-b", NOW + 60).await
        else {
            panic!("no email proof before the set-up")
        };
        assert_eq!(destination.as_deref(), Some("h***@e***"));
        assert!(!flow.contains("access-"), "the tokens travel encrypted");
        let wrong = svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + 62).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))), "the password holder cannot skip the email: {wrong:?}");
        let Ok(Outcome::Challenge { kind: ChallengeKind::TotpSetup, flow, setup: Some(setup), .. }) =
            svc.answer(&flow, ChallengeAnswer::Code(pw("246810")), &here(), NOW + 65).await
        else {
            panic!("no authenticator set-up")
        };
        assert_eq!(setup.secret, "JBSWY3DPEHPK3PXP");
        assert_eq!(setup.uri, "otpauth://totp/api.example.com:hanako%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=api.example.com");
        assert!(!flow.contains("access-"), "the tokens travel encrypted");
        let wrong = svc.answer(&flow, ChallengeAnswer::Code(pw("000000")), &here(), NOW + 70).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))), "{wrong:?}");
        assert!(matches!(svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + 80).await, Ok(Outcome::Handoff(_))));
        assert_eq!(events.kinds().iter().filter(|k| **k == UserMfaEnrolled).count(), 1, "the enrolment is recorded");
        // From now on the person's factor is asked for, and the next new browser passes with it.
        assert!(matches!(sign_in_from(&svc, "browser-c", NOW + 120).await, Ok(Outcome::Handoff(_))));
        let outcomes: Vec<Value> = high_risk(&events).iter().map(|d| d["outcome"].clone()).collect();
        assert_eq!(outcomes, [json!("second_factor_required"), json!("allowed"), json!("allowed")]);
        let (svc, events_mfa) = sign_in_service_recording(Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SoftwareTokenMfa))));
        let svc = with_policy(svc, RiskPolicy::RequireMfa);
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
    async fn a_handoff_works_once_and_only_in_the_browser_its_sign_in_was_assessed_for() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None)));
        let entry = Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") };
        let ctx = svc.start("demo", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let Ok(Outcome::Handoff(handoff)) = svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no handoff") };
        let signed_in = svc.open_handoff(&handoff, Some("browser-a"), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(signed_in.device.as_deref(), Some(oidc::digest("browser-a").as_str()));
        assert!(matches!(svc.open_handoff(&handoff, Some("browser-a"), NOW).await, Err(SignInError::HandoffUsed)));
        assert!(matches!(svc.open_handoff(&handoff, Some("browser-b"), NOW).await, Err(SignInError::OtherBrowser)));
        assert!(svc.sessions.get(&oidc::digest(&signed_in.session)).await.ok().flatten().is_some(), "a spent handoff elsewhere ends nothing");
        // Brought first by another browser: refused, spent, and its sign-in over.
        let Ok(Outcome::Handoff(handoff)) = svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no handoff") };
        for other in [None, Some("browser-b"), Some("")] {
            assert!(matches!(svc.open_handoff(&handoff, other, NOW).await, Err(SignInError::OtherBrowser)), "{other:?}");
        }
        assert!(matches!(svc.open_handoff(&handoff, Some("browser-a"), NOW).await, Err(SignInError::HandoffUsed)));
    }

    #[tokio::test]
    async fn start_refuses_unknown_apps_and_foreign_return_to() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::default()));
        assert!(matches!(svc.start("nope", Entry::default(), NOW).await, Err(SignInError::UnknownApp)));
        assert!(matches!(svc.start("../demo", Entry::default(), NOW).await, Err(SignInError::UnknownApp)));
        assert!(matches!(svc.start("demo", Entry::return_to("https://evil.com/"), NOW).await, Err(SignInError::ReturnTo(_))));
        assert!(svc.start("demo", Entry::default(), NOW).await.is_ok());
    }

    #[tokio::test]
    async fn mfa_challenge_round_trip() {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw-123456", Some(ChallengeKind::SmsMfa)));
        let svc = sign_in_service(auth);
        let ctx = ctx(&svc).await;
        let out = svc.password(&ctx, EMAIL, &pw("pw-123456"), &here(), NOW).await;
        let Ok(Outcome::Challenge { kind: ChallengeKind::SmsMfa, flow, destination, .. }) = out else { panic!("{out:?}") };
        assert_eq!(destination.as_deref(), Some("+*******5678"));
        let wrong = svc.answer(&flow, ChallengeAnswer::Code(pw("000001")), &here(), NOW).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))));
        let mismatched = svc.answer(&flow, ChallengeAnswer::NewPassword(pw("x")), &here(), NOW).await;
        assert!(matches!(mismatched, Err(SignInError::BadInput("answer"))));
        let expired = svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW + CHALLENGE_TTL).await;
        assert!(matches!(expired, Err(SignInError::Flow(FlowError::Expired))));
        let ok = svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await;
        assert!(matches!(ok, Ok(Outcome::Handoff(_))), "{ok:?}");
        // A context token is not a challenge token.
        assert!(matches!(svc.answer(&ctx, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await, Err(SignInError::Flow(FlowError::Invalid))));
    }

    #[tokio::test]
    async fn select_mfa_then_code() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", Some(ChallengeKind::SelectMfaType))));
        let ctx = ctx(&svc).await;
        let Ok(Outcome::Challenge { flow, options, .. }) = svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!() };
        assert_eq!(options, vec![ChallengeKind::SmsMfa, ChallengeKind::SoftwareTokenMfa]);
        let Ok(Outcome::Challenge { kind, flow, .. }) = svc.answer(&flow, ChallengeAnswer::Choose(ChallengeKind::SoftwareTokenMfa), &here(), NOW).await else {
            panic!()
        };
        assert_eq!(kind, ChallengeKind::SoftwareTokenMfa);
        assert!(matches!(svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await, Ok(Outcome::Handoff(_))));
    }

    #[tokio::test]
    async fn forgot_password_does_not_reveal_accounts_and_reset_signs_in() {
        let svc = sign_in_service(Arc::new(ScriptedAuth::with_user(EMAIL, "old", None)));
        let ctx = ctx(&svc).await;
        assert!(svc.forgot_password(&ctx, "nobody@example.com", NOW).await.is_ok());
        assert!(svc.forgot_password(&ctx, EMAIL, NOW).await.is_ok());
        assert!(matches!(svc.forgot_password(&ctx, "not-an-email", NOW).await, Err(SignInError::BadInput("email"))));
        let wrong = svc.reset_password(&ctx, EMAIL, &pw("999999"), &pw("new password"), &here(), NOW).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))));
        let ok = svc.reset_password(&ctx, EMAIL, &pw("000000"), &pw("new password"), &here(), NOW).await;
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
        assert!(matches!(svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW).await, Err(SignInError::EmailNotVerified)));
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
            let Ok(Outcome::Challenge { flow, .. }) = svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW).await else { panic!("no challenge") };
            svc.answer(&flow, ChallengeAnswer::Code(pw("123456")), &here(), NOW).await
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
        assert!(matches!(svc.password(&tampered, EMAIL, &pw("pw"), &here(), NOW).await, Err(SignInError::Flow(FlowError::Invalid))));
        assert!(matches!(svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW + CONTEXT_TTL).await, Err(SignInError::Flow(FlowError::Expired))));
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
        let svc = SignIn { apps: Arc::new(MemoryApps::with([forum])), ..sign_in_service(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None))) };
        let sso = base64::engine::general_purpose::STANDARD.encode("nonce=n-1&return_sso_url=https%3A%2F%2Fforum.example.com%2Fsession%2Fsso_login");
        let sig = hex(&hmac_sha256(b"shared-secret", &[sso.as_bytes()]));
        let entry = Entry { sso: Some(&sso), sig: Some(&sig), ..Entry::default() };
        let ctx = svc.start("forum", entry, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW + NONCE_TTL).await, Err(SignInError::Flow(FlowError::Expired))), "an expired nonce");
        let Ok(Outcome::Handoff(handoff)) = svc.password(&ctx, EMAIL, &pw("pw"), &here(), NOW + NONCE_TTL - 1).await else { panic!("no handoff") };
        let signed_in = svc.open_handoff(&handoff, None, NOW + NONCE_TTL - 1).await.unwrap_or_else(|e| panic!("{e}"));
        let Delivery::Get { url } = signed_in.delivery else { panic!("{:?}", signed_in.delivery) };
        assert!(url.starts_with("https://forum.example.com/session/sso_login?sso="), "{url}");
        let without = svc.start("forum", Entry::return_to("https://forum.example.com/"), NOW).await;
        assert!(matches!(without, Err(SignInError::AppRequest(RequestError::Missing))), "a forum is entered only with its signed request");
    }
}
