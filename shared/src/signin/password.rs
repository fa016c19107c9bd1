//! Password sign-in and its challenges: the password step, challenge answers (MFA codes, a new
//! password, a choice of factor), and enrolling a second factor (a code to the
//! verified email, then an authenticator app) when an app requires one.

use crate::common::email::Email;
use crate::common::profile::UserProfile;
use crate::common::store::StoreError;
use crate::consent::decision::{Given, Via};
use crate::directory::org::OrgId;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::signin::arrival::Through;
use crate::signin::challenge::{AccessToken, AuthError, AuthStep, Challenge, ChallengeAnswer, ChallengeKind};
use crate::signin::confirmation;
use crate::signin::consent::Resume;
use crate::signin::flow;
use crate::signin::flow::{ChallengeState, FlowError, Purpose, SignInContext};
use crate::signin::ports::{SessionStore, TokenRejected};
use crate::signin::service::{CHALLENGE_TTL, Outcome, Prior, SignInError, SignInPorts, TotpSetup};
use crate::signin::session::{Method, Session};
use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Password sign-in: the password, challenge answers and factor enrolment (the reset path is
/// `signin::password_reset`).
pub struct PasswordSignIn {
    pub(super) ports: Arc<SignInPorts>,
}

impl PasswordSignIn {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    /// `visitor`: what the request says about where it came from (IP, user agent, device,
    /// country), here and in the other steps; it goes into the sign-in's events.
    ///
    /// With the context's key (the bridge secret) held, a context that does not open is refused
    /// first. Otherwise (a cold start; its cache time passed) Cognito's check does not wait for
    /// the key: the context is opened beside it, then the app (and its signing key) loads,
    /// beside the email's history; a context that does not open is refused whatever Cognito
    /// answered, a wrong password still counted (it tells no more than a guess with a real one).
    pub async fn sign_in(&self, ctx: &str, email: &str, password: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        self.sign_in_with(ctx, email, password, NOTHING_GIVEN, None, visitor, now).await
    }

    /// [`Self::sign_in`], bringing consent decisions made before the person was known (at
    /// sign-up): recorded once they are; `claim`: the hold on the account's sign-ins this one
    /// may pass (a sign-up confirmation's, `SessionStore::hold`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sign_in_with(
        &self,
        ctx: &str,
        email: &str,
        password: &SecretString,
        given: &Given,
        claim: Option<&str>,
        visitor: &EventContext,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let opened = self.ports.open_context_if_held(ctx, now)?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        let context = async {
            let ctx = match opened {
                Some(ctx) => ctx,
                None => self.ports.open_context(ctx, now).await?,
            };
            self.ports.app_ready_to_mint(ctx.app.as_str(), now).await?;
            Ok::<_, SignInError>(ctx)
        };
        // Cognito's check first (`join!` polls in this order first): it is the longest of the three.
        let (step, ctx, prior) = tokio::join!(self.ports.auth.sign_in(email.as_str(), password), context, self.ports.prior(email.as_str(), now));
        let ctx = match ctx {
            Ok(ctx) => ctx,
            Err(refused) => {
                // A wrong password counts against the email even so.
                if matches!(step, Err(AuthError::InvalidCredentials)) {
                    self.count_failure(email.as_str(), now).await;
                }
                return Err(refused);
            }
        };
        let step = match step {
            Err(AuthError::InvalidCredentials) => {
                self.count_failure(email.as_str(), now).await;
                let user = EventUser { email: Some(email.as_str().to_owned()), ..EventUser::default() };
                let (failed, noted) = tokio::join!(
                    self.failed(&ctx, user, visitor, AuthError::InvalidCredentials, Method::Password, now),
                    confirmation::noted(&self.ports, &email, password, now)
                );
                // The password someone chose signing up this address, which has an account: the
                // code step, as for an address that had none (`sign_up`), and no email. A failed
                // lookup leaves the answer a wrong password's.
                match noted {
                    Ok(true) => return confirmation::unconfirmed(&self.ports, ctx, &email, false, now).await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "could not look for a sign-up's note; answered as a wrong password"),
                }
                return Err(failed);
            }
            // The right password of an account not confirmed yet: its code step.
            Err(AuthError::NotConfirmed) => return confirmation::unconfirmed(&self.ports, ctx, &email, true, now).await,
            step => step?,
        };
        self.next(ctx, step, visitor, Established { second_factor: false, prior: prior.as_ref(), given, method: Method::Password, claim }, now).await
    }

    /// Counts a wrong password (or code) against `email` for the risk engine (a failure: logged).
    async fn count_failure(&self, email: &str, now: u64) {
        if let Err(e) = self.ports.risk.failed(email, now).await {
            tracing::warn!(error = %e, "could not count a failed sign-in");
        }
    }

    /// Records a failed sign-in (a failure to record it is logged, never shown to the person).
    /// `method`: how the sign-in began (the event's `context.method`).
    async fn failed(&self, ctx: &SignInContext, user: EventUser, visitor: &EventContext, error: AuthError, method: Method, now: u64) -> SignInError {
        let context = EventContext { app: Some(ctx.app.to_string()), method: Some(method.name().into()), device: ctx.device.clone(), ..visitor.clone() };
        let reason = match error {
            AuthError::CodeMismatch => "code_mismatch",
            _ => "invalid_credentials",
        };
        let event = IdentityEvent::new(EventType::UserSignInFailed, user, context, now).with_detail("reason", reason);
        if let Err(e) = self.ports.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a failed sign-in");
        }
        error.into()
    }

    pub async fn answer(&self, flow_token: &str, answer: ChallengeAnswer, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        let state: ChallengeState = flow::open_private(&key.flow_key, Purpose::Challenge, flow_token, now)?;
        let fits = match (&answer, state.challenge) {
            (ChallengeAnswer::NewPassword(_), ChallengeKind::NewPassword) => true,
            (ChallengeAnswer::Choose(choice), ChallengeKind::SelectMfaType) => *choice != ChallengeKind::SelectMfaType && *choice != ChallengeKind::NewPassword,
            (
                ChallengeAnswer::Code(_),
                ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp | ChallengeKind::TotpSetup | ChallengeKind::VerifyEmail,
            ) => true,
            (ChallengeAnswer::Credential(_), ChallengeKind::WebAuthn) => true,
            _ => false,
        };
        if !fits {
            return Err(SignInError::BadInput("answer"));
        }
        if let ChallengeAnswer::NewPassword(password) = &answer {
            self.ports.check_new_password(password).await?;
        }
        match (state.challenge, &answer) {
            (ChallengeKind::VerifyEmail, ChallengeAnswer::Code(code)) => return self.finish_email_proof(state, code, visitor, now).await,
            (ChallengeKind::TotpSetup, ChallengeAnswer::Code(code)) => return self.finish_totp_setup(state, code, visitor, now).await,
            _ => {}
        }
        let (given, method, email) = (state.given, state.method, state.email);
        // An emailed code may be tried twice: a third try is refused here, for every address
        // alike (Cognito ends its session at the third wrong code, which only a real step has).
        // Each step counts its own (keyed by its Cognito session, or its decoy's).
        if method == Method::EmailCode {
            self.ports.email_code_try(&state.session, now).await?;
        }
        let challenge = Challenge {
            kind: state.challenge,
            session: state.session,
            username: state.username,
            destination: None,
            options: Vec::new(),
            request_options: None,
        };
        // A code after a password is a second factor; an email code on its own is the first.
        // A passkey is both (a key the device holds, unlocked by the person).
        let second_factor = match challenge.kind {
            _ if method == Method::Passkey => true,
            ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp => method == Method::Password,
            _ => false,
        };
        // Without a password the step names the email typed: its history is read beside
        // Cognito's check, as a password sign-in's is.
        let prior = async {
            match &email {
                Some(email) => self.ports.prior(email, now).await,
                None => None,
            }
        };
        let (answered, prior) = match challenge.session.starts_with(crate::signin::passwordless::DECOY) {
            // A step the person could not take (`signin::passwordless`): wrong, whatever it is.
            true if matches!(answer, ChallengeAnswer::Credential(_)) => (Err(AuthError::InvalidCredentials), None),
            true => (Err(AuthError::CodeMismatch), None),
            false => tokio::join!(self.ports.auth.answer(&challenge, answer), prior),
        };
        let step = match answered {
            Err(error @ (AuthError::CodeMismatch | AuthError::InvalidCredentials)) => {
                // A wrong code or passkey for an email typed counts against it, as a wrong password does.
                if let Some(email) = &email {
                    self.count_failure(email, now).await;
                }
                let user = EventUser { username: Some(challenge.username), email: email.clone(), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, error, method, now).await);
            }
            step => step?,
        };
        self.next(state.ctx, step, visitor, Established { second_factor, prior: prior.as_ref(), given: &given, method, claim: None }, now).await
    }

    /// `established`: what the steps before decided (a second factor answered; the email's
    /// history read beside the password check; consent decisions brought along).
    pub(super) async fn next(
        &self,
        ctx: SignInContext,
        step: AuthStep,
        visitor: &EventContext,
        established: Established<'_>,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        match step {
            AuthStep::Authenticated { id_token, access_token } => self.deliver(&ctx, &id_token, &access_token, visitor, established, now).await,
            AuthStep::Challenge(c) => {
                let key = self.ports.secrets.bridge().await?;
                let state = ChallengeState {
                    ctx,
                    challenge: c.kind,
                    username: c.username,
                    session: c.session,
                    method: established.method,
                    email: None,
                    given: established.given.clone(),
                };
                let flow = flow::seal_private(&key.flow_key, Purpose::Challenge, now + CHALLENGE_TTL, &state)?;
                Ok(Outcome::Challenge { kind: c.kind, destination: c.destination, options: c.options, flow, setup: None, public_key: None })
            }
        }
    }

    async fn deliver(
        &self,
        ctx: &SignInContext,
        id_token: &str,
        access_token: &AccessToken,
        visitor: &EventContext,
        established: Established<'_>,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let claims = self.ports.tokens.verify(id_token, now).await?;
        let profile = UserProfile::from_claims(&claims).map_err(|_| TokenRejected::Invalid("no subject"))?;
        if profile.email.is_some() && !profile.email_verified {
            return Err(SignInError::EmailNotVerified);
        }
        self.ports.check_password_allowed(&profile).await?;
        let app = self.ports.app(ctx.app.as_str()).await?;
        let username = claims.get("cognito:username").and_then(Value::as_str).unwrap_or(&profile.subject).to_owned();
        let org = profile.org().and_then(|o| OrgId::parse(o).ok());
        // Stamped when Cognito authenticated the person (`auth_time`), which a sign-in resumed from
        // a step (consent) shows: a hold on the account's sign-ins refuses those from before it.
        let authenticated = claims.get("auth_time").and_then(Value::as_u64).map_or(now, |t| t.min(now));
        let mut session = Session::new(username, org, established.method, claims, self.ports.session_policy, now);
        session.authenticated = authenticated;
        session.claim = established.claim.map(str::to_owned);
        let arrival = match self.ports.assess(&app, &session, ctx, visitor, established.second_factor, established.prior).await {
            // An email code is the one factor it proved: enrolling another now would let whoever
            // holds only the inbox set up a factor of their own. A password or a passkey, then.
            Err(SignInError::SecondFactorRequired) if established.method == Method::EmailCode => return Err(SignInError::StrongerSignInRequired),
            // The app wants a second factor this person has not set up: set one up now, once
            // they have proved they hold their verified email (not only the password).
            Err(SignInError::SecondFactorRequired) if profile.email.is_some() => {
                let carried = Carried::new(id_token, access_token, &session, established.method);
                return self
                    .start_email_proof(ctx, &session.username, profile.email.as_ref().map_or("", |e| e.as_str()), carried, established.given, now)
                    .await;
            }
            other => other?,
        };
        let resume = || Resume::Password {
            id_token: id_token.to_owned(),
            access_token: access_token.0.expose_secret().to_owned(),
            second_factor: established.second_factor,
            method: established.method,
            claim: established.claim.map(str::to_owned),
        };
        if let Some(asked) = self.ports.consent_gate(ctx, &mut session, established.given, visitor, resume, now).await? {
            return Ok(Outcome::Consent(asked));
        }
        let delivery = self.ports.mint_or_defer(&app, &profile, ctx, &session, established.method.amr(established.second_factor), now).await?;
        // The session is not the browser's until the handoff is redeemed, once.
        self.ports.hand_off(Through::new(session, arrival, delivery, &app, ctx), now).await
    }

    /// A sign-in paused for consent (`signin::consent`) goes on with the person's tokens and
    /// what they decided.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn resume(
        &self,
        ctx: &SignInContext,
        id_token: &str,
        access_token: String,
        established: (bool, Method, Option<&str>),
        given: &Given,
        visitor: &EventContext,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let (second_factor, method, claim) = established;
        let access_token = AccessToken(SecretString::from(access_token));
        self.deliver(ctx, id_token, &access_token, visitor, Established { second_factor, prior: None, given, method, claim }, now).await
    }

    /// The step before a factor is enrolled: the email proof (`ChallengeKind::VerifyEmail`,
    /// `SignInPorts::start_email_proof`), the person's tokens and the proof's Cognito session
    /// carried encrypted in the flow.
    async fn start_email_proof(
        &self,
        ctx: &SignInContext,
        username: &str,
        email: &str,
        mut carried: Carried,
        given: &Given,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        // Sealed first with room for the longest session Cognito gives: a flow too large to
        // carry is refused before a code is sent.
        carried.proof = Some(ProofStep { session: "x".repeat(COGNITO_SESSION_MAX), username: username.to_owned() });
        self.carry(ctx, username, ChallengeKind::VerifyEmail, &carried, given, now).await?;
        let proof = self.ports.start_email_proof(email, now).await?;
        carried.proof = Some(ProofStep { session: proof.session, username: proof.username });
        let flow = self.carry(ctx, username, ChallengeKind::VerifyEmail, &carried, given, now).await?;
        Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, destination: proof.destination, options: Vec::new(), flow, setup: None, public_key: None })
    }

    /// A challenge of the bridge's own whose sealed state carries the person's tokens encrypted.
    /// `given`: the consent decisions the sign-in brings, carried on.
    async fn carry(&self, ctx: &SignInContext, username: &str, kind: ChallengeKind, carried: &Carried, given: &Given, now: u64) -> Result<String, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        // The whole state is encrypted (`flow::seal_private`): the tokens go in as they are.
        let plain = serde_json::to_string(carried).map_err(|_| FlowError::Invalid)?;
        let state = ChallengeState {
            ctx: ctx.clone(),
            challenge: kind,
            username: username.to_owned(),
            session: plain,
            method: carried.method,
            email: None,
            given: given.clone(),
        };
        Ok(flow::seal_private(&key.flow_key, Purpose::Challenge, now + CHALLENGE_TTL, &state)?)
    }

    /// The tokens a bridge challenge carries (see [`Self::carry`]).
    fn carried(state: &ChallengeState) -> Result<Carried, SignInError> {
        Ok(serde_json::from_str(&state.session).map_err(|_| FlowError::Invalid)?)
    }

    /// The emailed code: the proof's sign-in answered (at most [`EMAIL_CODE_TRIES`] per step),
    /// its tokens the same person's, then on to setting up the authenticator app.
    async fn finish_email_proof(&self, state: ChallengeState, code: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let mut carried = Self::carried(&state)?;
        let ProofStep { session, username } = carried.proof.take().ok_or(FlowError::Invalid)?;
        // The step's flow can be answered again while it lasts: its tries are counted here (each
        // new step sends a new code, which counts against the address's 5 an hour).
        self.ports.email_code_try(&session, now).await?;
        let proof = Challenge { kind: ChallengeKind::EmailOtp, session, username, destination: None, options: Vec::new(), request_options: None };
        let id_token = match self.ports.auth.answer(&proof, ChallengeAnswer::Code(code.clone())).await {
            Ok(AuthStep::Authenticated { id_token, .. }) => id_token,
            Ok(AuthStep::Challenge(c)) => return Err(AuthError::UnsupportedChallenge(format!("{:?}", c.kind)).into()),
            Err(AuthError::CodeMismatch) => {
                let user = EventUser { username: Some(state.username.clone()), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, AuthError::CodeMismatch, state.method, now).await);
            }
            Err(e) => return Err(e.into()),
        };
        // Cognito's answer is for the user the proof began with; checked all the same.
        let claims = self.ports.tokens.verify(&id_token, now).await?;
        let proved = claims.get("cognito:username").or_else(|| claims.get("sub")).and_then(Value::as_str);
        if proved != Some(state.username.as_str()) {
            return Err(AuthError::InvalidCredentials.into());
        }
        self.start_totp_setup(&state.ctx, &state.username, carried, &state.given, now).await
    }

    /// The step that sets up an authenticator app: Cognito's secret for the person, and a
    /// challenge carrying their tokens.
    async fn start_totp_setup(&self, ctx: &SignInContext, username: &str, carried: Carried, given: &Given, now: u64) -> Result<Outcome, SignInError> {
        let secret = self.ports.auth.associate_totp(&carried.access_token()).await?.expose_secret().to_owned();
        let flow = self.carry(ctx, username, ChallengeKind::TotpSetup, &carried, given, now).await?;
        let setup = TotpSetup::new(&self.ports.issuer, &carried.account, secret);
        Ok(Outcome::Challenge { kind: ChallengeKind::TotpSetup, destination: None, options: Vec::new(), flow, setup: Some(setup), public_key: None })
    }

    /// The code from a newly set-up authenticator app: verified (Cognito makes it the person's
    /// preferred factor), the person's other sessions ended (their factors changed), the step
    /// completed once (`complete_once`: a replay is `Expired`), recorded as `user.mfa_enrolled`
    /// (a failure is logged), then the sign-in goes on with its second factor.
    async fn finish_totp_setup(&self, state: ChallengeState, code: &SecretString, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let carried = Self::carried(&state)?;
        let access_token = carried.access_token();
        match self.ports.auth.verify_totp(&access_token, code).await {
            Err(AuthError::CodeMismatch) => {
                let user = EventUser { username: Some(state.username.clone()), ..EventUser::default() };
                return Err(self.failed(&state.ctx, user, visitor, AuthError::CodeMismatch, state.method, now).await);
            }
            other => other?,
        }
        // The person's factors changed: their other sessions end (a failure here leaves the step
        // to be answered again). Then the step completes, once: a replay (with a later code:
        // Cognito takes one again) would open another session. (The email step's replay is
        // refused by Cognito: its code is spent.)
        self.ports.sessions.end_all(&state.username, now).await?;
        self.ports.complete_once(ChallengeKind::TotpSetup, &state.session, now).await?;
        let user = EventUser { username: Some(state.username.clone()), email: Some(carried.account.clone()), ..EventUser::default() };
        let context =
            EventContext { app: Some(state.ctx.app.to_string()), method: Some("password".into()), device: state.ctx.device.clone(), ..visitor.clone() };
        let enrolled = IdentityEvent::new(EventType::UserMfaEnrolled, user, context, now).with_detail("factor", "software_token");
        // Logged, not answered: the enrolment is made and the step spent.
        if let Err(e) = self.ports.events.record(&enrolled).await {
            tracing::error!(error = %e, "user.mfa_enrolled could not be recorded; the enrolment stands");
        }
        self.deliver(
            &state.ctx,
            &carried.id,
            &access_token,
            visitor,
            Established { second_factor: true, prior: None, given: &state.given, method: carried.method, claim: carried.claim.as_deref() },
            now,
        )
        .await
    }
}

/// Tries of an emailed code (Cognito's `EMAIL_OTP`: a sign-in without a password, the email
/// proof before an authenticator is set up, the account page's fresh step) before a new one
/// must be sent: Cognito ends its session at the third wrong code.
pub const EMAIL_CODE_TRIES: u64 = 2;

/// How far a hold set when credentials change reaches past this function's clock (seconds):
/// Cognito stamps a sign-in's `auth_time` by its own clock.
pub const CLOCK_MARGIN: u64 = 1;

/// `username`'s credentials changed now (a claimed sign-up, a password reset or change): every
/// sign-in Cognito authenticated until now (and [`CLOCK_MARGIN`] after) opens nothing, but
/// `holder`'s (`SessionStore::settle`).
pub async fn credentials_changed(sessions: &dyn SessionStore, username: &str, holder: &str) -> Result<(), StoreError> {
    sessions.settle(username, holder, crate::common::time::unix_now() + CLOCK_MARGIN).await
}

/// Nothing decided about consent before the sign-in.
pub(super) const NOTHING_GIVEN: &Given = &Given { decisions: Vec::new(), via: Via::SignIn };

/// What the steps before the ID token established: a second factor answered, the sign-in
/// email's history if it was read beside the password check, and consent decisions the
/// sign-in brings (from sign-up, or the consent step).
#[derive(Clone, Copy)]
pub(super) struct Established<'a> {
    pub(super) second_factor: bool,
    pub(super) prior: Option<&'a Prior>,
    pub(super) given: &'a Given,
    /// How the sign-in began: a password, an email code, a passkey.
    pub(super) method: Method,
    /// The hold on the account's sign-ins this one may pass (`SessionStore::hold`): the
    /// confirmation's or reset's that signs the person in.
    pub(super) claim: Option<&'a str>,
}

/// The person's Cognito tokens while a bridge challenge (email proof, authenticator set-up)
/// is open: carried in its sealed flow, which is encrypted (`flow::seal_private`).
#[derive(Serialize, Deserialize)]
struct Carried {
    id: String,
    access: String,
    /// The name the authenticator app shows for the account (the email).
    account: String,
    /// How the sign-in began.
    #[serde(default)]
    method: Method,
    /// The hold on the account's sign-ins this one may pass (`SessionStore::hold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim: Option<String>,
    /// The email proof's sign-in, while it is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proof: Option<ProofStep>,
}

/// The Cognito sign-in (`EMAIL_OTP`) of an email proof: its session and Cognito's user name.
#[derive(Serialize, Deserialize)]
struct ProofStep {
    session: String,
    username: String,
}

/// The longest `Session` Cognito gives (its API reference: 20 to 2,048 characters).
const COGNITO_SESSION_MAX: usize = 2_048;

impl Carried {
    fn new(id_token: &str, access_token: &AccessToken, session: &Session, method: Method) -> Self {
        let account = session.profile.get("email").and_then(Value::as_str).unwrap_or(&session.username).to_owned();
        Self { id: id_token.to_owned(), access: access_token.0.expose_secret().to_owned(), account, method, claim: session.claim.clone(), proof: None }
    }

    fn access_token(&self) -> AccessToken {
        AccessToken(SecretString::from(self.access.clone()))
    }
}
