//! The end of every sign-in: the risk assessment and the app's policy, and the new session with
//! its events (steps of [`SignInPorts`] every sign-in takes); then the service [`Arrival`]: the
//! password handoff redeemed once in its own browser, and a corporate sign-in completed.

use crate::common::profile::{TOKEN_CLAIMS, UserProfile};
use crate::common::store::StoreError;
use crate::consent::decision::Given;
use crate::events::{EventContext, EventType, IdentityEvent};
use crate::risk::{Assurance, RiskProfile, Visit, network_of};
use crate::signin::consent::Resume;
use crate::signin::corporate::Finished;
use crate::signin::flow;
use crate::signin::flow::{FlowError, Purpose, SignInContext};
use crate::signin::minting::Pending;
use crate::signin::ports::TokenRejected;
use crate::signin::service::{Arrived, ConsentAsked, HANDOFF_TTL, Outcome, Prior, SignInError, SignInPorts, SignedIn};
use crate::signin::session::{Found, Method, Session, new_cookie};
use crate::tokens::app::App;
use crate::tokens::targets::mint::{Delivery, MintError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

impl SignInPorts {
    /// Assesses the sign-in's risk (`risk`) before any token is minted and applies the
    /// app's policy: refused, or let through with what the session records.
    pub(super) async fn assess(
        &self,
        app: &App,
        session: &Session,
        ctx: &SignInContext,
        visitor: &EventContext,
        second_factor: bool,
        prior: Option<&Prior>,
    ) -> Result<Admission, SignInError> {
        let now = session.created;
        self.admit(app, session, &EventContext { device: ctx.device.clone(), ..visitor.clone() }, now).await?;
        let user = session.event_user();
        let email = user.email.clone().filter(|_| user.email_verified == Some(true));
        let known = prior.filter(|p| email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&p.email)));
        let (history, failures) = match known {
            Some(prior) => (prior.profile.clone(), prior.failures),
            None => self.risk.history(&session.username, email.as_deref(), now).await?,
        };
        let visit = Visit { device: ctx.device.clone(), network: visitor.ip.as_deref().and_then(network_of), country: visitor.country.clone() };
        // A browser the profile knows by its cookie's old name is that device (it learns the new one).
        let assessment = match ctx.known_as.as_ref().filter(|old| history.knows_device(old)) {
            Some(old) => history.assess(&Visit { device: Some(old.clone()), ..visit.clone() }, failures, now),
            None => history.assess(&visit, failures, now),
        };
        let assurance = Assurance { high_risk: assessment.high, second_factor };
        let method = session.method.name();
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
        Ok(Admission { events, risk, assurance, device: visit.device })
    }

    /// A sign-in the browser takes up at `/session/handoff`: its handoff sealed, then its
    /// session opened for it (`Session::handoff`). Sealed first, so that one too large to carry
    /// (`FlowError::TooLarge`: an app token of several kilobytes) is refused before its session
    /// and its events exist.
    pub(super) async fn hand_off(&self, through: Through, now: u64) -> Result<Outcome, SignInError> {
        let (handoff, session, arrival) = through.handed_off();
        let key = self.secrets.bridge().await?;
        let sealed = flow::seal_private(&key.flow_key, Purpose::Handoff, now + HANDOFF_TTL, &handoff).inspect_err(|e| {
            tracing::warn!(app = handoff.app.as_deref().unwrap_or_default(), error = %e, "the app's token is too large to hand to the browser");
        })?;
        self.open_session(Session { handoff: true, ..session }, &handoff.session, arrival).await?;
        Ok(Outcome::Handoff(sealed))
    }

    /// A sign-in whose session cookie is set at once (a corporate callback's, its token minted
    /// already, not at a redemption: `Pending::Now`): its session opened.
    async fn sign_in_here(&self, through: Through) -> Result<SignedIn, SignInError> {
        let (mut handoff, session, arrival) = through.handed_off();
        let Some(delivery) = handoff.delivery.take() else { return Err(MintError::Signing.into()) };
        let signed_in = handoff.signed_in(delivery);
        let username = session.username.clone();
        let new = self.open_session(session, &signed_in.session, arrival).await?;
        self.replace_session(signed_in.replaces.as_deref(), &new, &username, signed_in.device.as_deref()).await;
        Ok(signed_in)
    }

    /// The browser's earlier session `old` (if any) carried into its new one `new`, of the
    /// Cognito user `username` (`SessionStore::carry`), now that the new one is the browser's. A
    /// failure is logged: the earlier session then lives out its time, its apps not told when
    /// the new one ends.
    pub(super) async fn replace_session(&self, old: Option<&str>, new: &str, username: &str, device: Option<&str>) {
        let Some(old) = old.filter(|old| *old != new) else { return };
        if let Err(error) = self.sessions.carry(old, new, username, device).await {
            tracing::warn!(%error, "could not carry a browser's earlier session into its new one");
        }
    }

    /// Opens the session (`cookie`: its value, from [`new_cookie`]) and records the sign-in's
    /// events and the person's profile with it; its store key (the cookie's digest).
    async fn open_session(&self, mut session: Session, cookie: &str, mut arrival: Admission) -> Result<String, SignInError> {
        // The person, not the token they signed in with.
        session.profile.retain(|k, _| k == "cognito:groups" || !TOKEN_CLAIMS.contains(&k.as_str()));
        session.assurance = arrival.assurance;
        session.device = arrival.device.take();
        let key = crate::common::hashing::digest(cookie);
        // The session key's digest is unique: the sign-in event's id (never the cookie itself).
        arrival.events[0].id = format!("signin-{}", &key[..32.min(key.len())]);
        match self.sessions.create(&key, &session, &arrival.events, &arrival.risk).await {
            // The key digests a cookie with 256 random bits: a conflict is the account's revocation.
            Err(StoreError::Conflict) => Err(SignInError::AccountRevoked),
            other => Ok(other.map(|()| key)?),
        }
    }

    /// The session a cookie's read `found` (its store key `key`), if kept. One its account's
    /// revocation refused (the read ended it, or failed to) is recorded as a failed sign-in
    /// (`reason`: `account_revoked`; `context` with the session's method), once per session (the
    /// event's id is a digest of `key`'s): the audit trail shows a disabled person's session tried,
    /// and a handoff's sign-in, recorded as signed in, refused after all. A failure to record it
    /// is logged.
    pub(super) async fn admitted(&self, key: &str, found: Option<Found>, context: &EventContext, now: u64) -> Option<Session> {
        match found? {
            Found::Kept(session) => Some(session),
            Found::Revoked(session) => {
                let context = EventContext { method: Some(session.method.name().into()), ..context.clone() };
                let mut event = IdentityEvent::new(EventType::UserSignInFailed, session.event_user(), context, now).with_detail("reason", "account_revoked");
                event.id = format!("revoked-{}", &crate::common::hashing::digest(key)[..32]);
                if let Err(e) = self.events.record(&event).await {
                    tracing::warn!(error = %e, "could not record a revoked account's session refused");
                }
                None
            }
        }
    }
}

/// The arrival of a sign-in at the API: a password sign-in's handoff, or a corporate sign-in.
pub struct Arrival {
    ports: Arc<SignInPorts>,
}

impl Arrival {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    /// How long a new session lasts at most, in seconds (the session cookie's `Max-Age`).
    pub fn session_ttl(&self) -> u64 {
        self.ports.session_policy.ttl
    }

    /// A handoff (a password sign-in's, or a password change's new session value:
    /// `AccountPage::rotate`), brought back by the browser (`device`: its device cookie), with
    /// the app's token it carries or (a SAML app's) makes for its session before redeeming it
    /// (a token that cannot be made, `Mint`, `UnknownApp` or a store's error, leaves it unspent). Good
    /// once, within [`HANDOFF_TTL`](crate::signin::service::HANDOFF_TTL) (one conditional write
    /// redeems it), and only in the browser holding the device cookie it was sealed for (a form
    /// URL carried elsewhere does not carry the browser's standing with it; one sealed for no
    /// device is refused everywhere), and
    /// not when the account's revocation refuses the session (`AccountRevoked`). A refusal's
    /// event carries `visitor` (the request's IP, user agent and country), the app and the device.
    pub async fn open_handoff(&self, handoff: &str, device: Option<&str>, visitor: &EventContext, now: u64) -> Result<SignedIn, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        let mut signed_in: Handoff = flow::open_private(&key.flow_key, Purpose::Handoff, handoff, now)?;
        // The app's token, or what makes it: one of the two (we seal no other).
        if signed_in.delivery.is_some() == signed_in.mint.is_some() {
            return Err(FlowError::Invalid.into());
        }
        let key = crate::common::hashing::digest(&signed_in.session);
        if !flow::device_shown(signed_in.device.as_deref(), device) {
            tracing::info!("a handoff brought by another browser than the one its sign-in was assessed for");
            // A handoff not yet redeemed is spent here and its sign-in is over: the session ends
            // and the audit trail says why. A sign-in's app got nothing from it: not told (a
            // password change's handoff carries a session whose clients did get theirs: told).
            // One redeemed before is left alone (its session is the person's).
            let end = async { if signed_in.app.is_some() { self.ports.sessions.discard(&key).await } else { self.ports.sessions.end(&key).await } };
            if self.ports.sessions.redeem(&key).await?
                && let Some(session) = end.await?
            {
                let context = EventContext { method: Some(session.method.name().into()), ..refusal_context(&signed_in, device, visitor) };
                let event = IdentityEvent::new(EventType::UserSignInFailed, session.event_user(), context, now).with_detail("reason", "other_browser");
                self.ports.events.record(&event).await?;
            }
            return Err(SignInError::OtherBrowser);
        }
        // Redeemed with a read of the session and its user's revocation: a session the
        // revocation's sweep missed lets no one in here either.
        // (A handoff sealed before cookies named their user names none: refused as used.)
        let Some(cookie) = crate::signin::session::parse_cookie(Some(&signed_in.session)) else { return Err(SignInError::HandoffUsed) };
        let refusal = refusal_context(&signed_in, device, visitor);
        let (redeemed, session, delivery) = match signed_in.mint.take() {
            // Redeemed beside the read.
            None => {
                let (redeemed, found) = tokio::join!(self.ports.sessions.redeem(&key), self.ports.sessions.get(&key, &cookie.user_key));
                // A refusal is recorded before the redeem's outcome is: the read has ended the
                // session. (Should that end land before the redeem, this reads as `HandoffUsed`:
                // refused either way, and recorded.)
                let session = self.ports.admitted(&key, found?, &refusal, now).await;
                (redeemed?, session, signed_in.delivery.take())
            }
            // The app's token made from the session read (the app and our key loading beside
            // it), before the handoff is spent: a read that failed, or an app changed since the
            // sign-in so that it cannot be made, leaves the handoff to bring again.
            Some(ctx) => {
                let ready = async {
                    // A failure is the mint's to report.
                    let _ = self.ports.app_ready_to_mint(ctx.app.as_str(), now).await;
                };
                let (found, ()) = tokio::join!(self.ports.sessions.get(&key, &cookie.user_key), ready);
                let found = found?;
                let revoked = matches!(found, Some(Found::Revoked(_)));
                // Refused (and recorded) by the read, or gone: nothing to redeem.
                let Some(session) = self.ports.admitted(&key, found, &refusal, now).await else {
                    return Err(if revoked { SignInError::AccountRevoked } else { SignInError::HandoffUsed });
                };
                let delivery = self.ports.mint_in_session(&ctx, &session, now).await?;
                (self.ports.sessions.redeem(&key).await?, Some(session), Some(delivery))
            }
        };
        match (redeemed, session, delivery) {
            (false, _, _) => Err(SignInError::HandoffUsed),
            (true, None, _) => Err(SignInError::AccountRevoked),
            (true, Some(session), Some(delivery)) => {
                self.ports.replace_session(signed_in.replaces.as_deref(), &key, &session.username, signed_in.device.as_deref()).await;
                Ok(signed_in.signed_in(delivery))
            }
            // Refused above: a handoff carries one of the two.
            (true, Some(_), None) => Err(FlowError::Invalid.into()),
        }
    }

    /// Ends a corporate sign-in (`signin::corporate`): the app's token and a new session, or
    /// the consent step first (`signin::consent`).
    pub async fn complete(&self, done: Finished, visitor: &EventContext, now: u64) -> Result<Arrived, SignInError> {
        match self.arrive(done, &Given::default(), visitor, false, now).await? {
            Checked::Through(through) => Ok(Arrived::SignedIn(self.ports.sign_in_here(*through).await?)),
            Checked::Consent(asked) => Ok(Arrived::Consent(asked)),
        }
    }

    /// A corporate sign-in paused for consent goes on with what the person decided: the
    /// handoff the form brings to `/session/handoff` (the form's answer is a JSON call).
    pub(super) async fn resume(&self, done: Finished, given: &Given, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        match self.arrive(done, given, visitor, true, now).await? {
            Checked::Through(through) => self.ports.hand_off(*through, now).await,
            Checked::Consent(asked) => Ok(Outcome::Consent(asked)),
        }
    }

    /// The sign-in's checks and its app's token; `handed_off`: the browser takes it up through a
    /// handoff (a SAML app's response is then made at the redemption, [`Pending`]).
    async fn arrive(&self, done: Finished, given: &Given, visitor: &EventContext, handed_off: bool, now: u64) -> Result<Checked, SignInError> {
        let (ctx, user) = (&done.ctx, &done.user);
        let mut claims = user.attributes.clone();
        claims.insert("cognito:groups".into(), user.groups.iter().cloned().map(Value::String).collect());
        let profile = UserProfile::from_claims(&claims).map_err(|_| TokenRejected::Invalid("no subject"))?;
        let app = self.ports.app(ctx.app.as_str()).await?;
        let mut session = Session::new(user.username.clone(), Some(done.org.clone()), Method::Corporate, claims, self.ports.session_policy, now);
        session.provider_logout = done.provider_logout.clone();
        // The company's provider applies its own factors; only its `amr` tells us it did.
        let arrival = match self.ports.assess(&app, &session, ctx, visitor, done.second_factor, done.prior.as_ref()).await {
            Err(SignInError::SecondFactorRequired) => return Err(SignInError::ProviderSecondFactorRequired),
            other => other?,
        };
        let resume = || Resume::Corporate { org: done.org.clone(), provider_logout: done.provider_logout.clone(), second_factor: done.second_factor };
        if let Some(asked) = self.ports.consent_gate(ctx, &mut session, given, visitor, resume, now).await? {
            return Ok(Checked::Consent(asked));
        }
        let amr = Method::Corporate.amr(done.second_factor);
        let delivery = match handed_off {
            true => self.ports.mint_or_defer(&app, &profile, ctx, &session, amr, now).await?,
            false => Pending::Now(self.ports.mint(&app, &profile, ctx, &session, amr, now).await?),
        };
        Ok(Checked::Through(Box::new(Through::new(session, arrival, delivery, &app, ctx))))
    }
}

/// A corporate sign-in past its checks: through, or paused for the consent step.
enum Checked {
    Through(Box<Through>),
    Consent(ConsentAsked),
}

/// A sign-in through every check, with the app's token (or what makes it at the handoff's
/// redemption): its session not opened yet.
pub(super) struct Through {
    pub(super) session: Session,
    pub(super) arrival: Admission,
    pub(super) delivery: Pending,
    /// The app's id.
    pub(super) app: String,
    /// The browser's device digest, from the sign-in's sealed context.
    pub(super) device: Option<String>,
    /// The browser's earlier session this sign-in replaces, from the same context.
    pub(super) replaces: Option<String>,
}

impl Through {
    /// A sign-in at `app` through, as its sealed context `ctx` began it: its session lists `app`
    /// among the clients to tell of its end when it is one that wants to be told.
    pub(super) fn new(mut session: Session, arrival: Admission, delivery: Pending, app: &App, ctx: &SignInContext) -> Self {
        if app.told_of_logout() {
            session.logout_clients = vec![app.id.to_string()];
        }
        Self { session, arrival, delivery, app: app.id.to_string(), device: ctx.device.clone(), replaces: ctx.replaces.clone() }
    }

    /// What the browser gets (with a new session cookie), and what opening that session takes.
    fn handed_off(self) -> (Handoff, Session, Admission) {
        let Through { session, arrival, delivery, app, device, replaces } = self;
        let (delivery, mint) = match delivery {
            Pending::Now(delivery) => (Some(delivery), None),
            Pending::AtRedemption(ctx) => (None, Some(ctx)),
        };
        (Handoff { delivery, mint, session: new_cookie(&session.username), device, app: Some(app), replaces }, session, arrival)
    }
}

/// A handoff as sealed: a [`SignedIn`] whose app's token is made now or (`mint`) at its
/// redemption ([`Pending`]). One sealed as a `SignedIn` (a password change's, or before `mint`
/// was) reads as one made now.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Handoff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery: Option<Delivery>,
    /// The context the token is minted for at the redemption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mint: Option<Box<SignInContext>>,
    session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaces: Option<String>,
}

impl Handoff {
    fn signed_in(self, delivery: Delivery) -> SignedIn {
        let Handoff { session, device, app, replaces, .. } = self;
        SignedIn { delivery, session, device, app, replaces }
    }
}

/// The context of a handoff's refusal: the visitor's, with the app signed in to and the device
/// the browser showed.
fn refusal_context(signed_in: &Handoff, device: Option<&str>, visitor: &EventContext) -> EventContext {
    EventContext { app: signed_in.app.clone(), device: flow::device_digest(device), ..visitor.clone() }
}

/// A sign-in let through: the events its session records (`user.signed_in` first) and the
/// person's risk profile after it.
pub(super) struct Admission {
    events: Vec<IdentityEvent>,
    risk: RiskProfile,
    /// What the sign-in proved, kept with the session.
    assurance: Assurance,
    /// The browser's device digest, kept with the session.
    device: Option<String>,
}
