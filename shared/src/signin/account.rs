//! The account page's service ([`AccountPage`]): a signed-in person's own page, on the form's
//! site. A live bridge session opens it (`GET /account`, a top-level navigation that carries
//! the session cookie): the page gets a bearer grant, sealed and encrypted, good for 15 minutes
//! and only while that session lives. With it the page reads the person's profile and their
//! bridge sessions, and ends one or every other. Every change needs a fresh sign-in step first (ASVS
//! 3.x re-authentication: the password, then the code of the person's MFA, or without MFA a
//! code to their verified email, so the password alone changes nothing): it gives a second,
//! shorter grant (5 minutes) carrying the person's Cognito access token, encrypted, with which
//! the changes in [`super::account_changes`] are made.
//!
//! Not here: the changes themselves (`account_changes`), HTTP
//! (`functions/login/src/routes/account.rs`), the page (`static-form/account.html`).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::profile::{ORG_ATTRIBUTE, UserProfile};
use crate::common::store::StoreError;
use crate::consent::document::DocumentView;
use crate::directory::org::OrgId;
use crate::events::{EventContext, EventType, IdentityEvent};
use crate::signin::challenge::{AccessToken, AuthError, AuthStep, Challenge, ChallengeAnswer, ChallengeKind};
use crate::signin::flow::{self, Purpose};
use crate::signin::openid_provider::family::{self, ConnectedApp};
use crate::signin::ports::TokenRejected;
use crate::signin::ports::end_session_families;
use crate::signin::service::{HANDOFF_TTL, SignInError, SignInPorts, SignedIn};
use crate::signin::session::{self, Method, Session};
use crate::tokens::app::AppLink;
use crate::tokens::targets::mint::DeliveryMethod;

/// How long the page's grant lasts (seconds).
pub const GRANT_TTL: u64 = 15 * 60;
/// How long a fresh sign-in step counts for changes (seconds).
pub const ELEVATED_TTL: u64 = 5 * 60;

/// The page's grant: which session opened it.
#[derive(Serialize, Deserialize)]
struct Grant {
    /// The session's key (the digest of its cookie).
    session: String,
    username: String,
}

/// A fresh sign-in step: the grant's session, and the person's Cognito access token.
#[derive(Serialize, Deserialize)]
pub(super) struct Elevation {
    /// The session's key.
    pub(super) session: String,
    pub(super) username: String,
    access: String,
}

/// A re-authentication in progress: Cognito's challenge after the password, or (for a person
/// without a second factor, `VerifyEmail`) the email proof's: a sign-in by an emailed code.
#[derive(Serialize, Deserialize)]
struct Reauthenticating {
    session: String,
    username: String,
    challenge: ChallengeKind,
    cognito_username: String,
    cognito_session: String,
    /// The factors offered, for `SelectMfaType`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<ChallengeKind>,
}

/// What the page shows: the person (as at their sign-in), and their bridge sessions.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub name: Option<String>,
    pub email: Option<String>,
    /// The `locale` attribute (`ja`, `en`), when set.
    pub language: Option<String>,
    /// The company account the person's is linked to (SCIM or corporate sign-in), by name:
    /// that company manages the account (no changes or deletion here).
    pub organisation: Option<String>,
    pub sessions: Vec<SessionView>,
    /// The apps with a home page whose access admits the person (as at the session's sign-in,
    /// as a session's entry reads it), by name.
    pub apps: Vec<AppLink>,
    /// The OpenID Connect apps that keep the person signed in with a refresh token, newest first.
    pub connected: Vec<ConnectedApp>,
}

/// One bridge session, as the person sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The session's key (the digest of its cookie: it opens nothing).
    pub id: String,
    /// The session the page was opened from.
    pub current: bool,
    pub method: Method,
    /// Seconds since the epoch.
    pub created: u64,
    pub last_seen: u64,
}

/// The next step of a re-authentication.
#[derive(Debug)]
pub enum Reauth {
    /// Done: the grant for changes.
    Elevated(String),
    /// A code Cognito asks for (the person's second factor), or for someone with two factors
    /// and no preferred one the choice among `options`: answer with `flow`.
    Challenge { kind: ChallengeKind, destination: Option<String>, options: Vec<ChallengeKind>, flow: String },
}

pub struct AccountPage {
    pub(super) ports: Arc<SignInPorts>,
}

impl AccountPage {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    pub(super) async fn seal<T: Serialize>(&self, purpose: Purpose, ttl: u64, value: &T, now: u64) -> Result<String, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        Ok(flow::seal_private(&key.flow_key, purpose, now + ttl, value)?)
    }

    pub(super) async fn open<T: serde::de::DeserializeOwned>(&self, purpose: Purpose, token: &str, now: u64) -> Result<T, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        flow::open_private(&key.flow_key, purpose, token, now).map_err(|_| SignInError::NotSignedIn)
    }

    /// The live session `key` names, if it is `username`'s. One its account's revocation refuses
    /// is recorded with `visitor`, the request's context.
    async fn live(&self, key: &str, username: &str, visitor: &EventContext, now: u64) -> Result<Session, SignInError> {
        let found = self.ports.sessions.get(key, &session::user_key(username)).await?;
        let session = self.ports.admitted(key, found, visitor, now).await.filter(|s| s.live(now));
        session.ok_or(SignInError::NotSignedIn)
    }

    /// The grant for the page, for the live session `cookie` names; `None` without one.
    pub async fn open_page(&self, cookie: Option<&str>, visitor: &EventContext, now: u64) -> Result<Option<String>, SignInError> {
        let Some(cookie) = session::parse_cookie(cookie) else { return Ok(None) };
        let found = self.ports.sessions.get(&cookie.key, &cookie.user_key).await?;
        let Some(session) = self.ports.admitted(&cookie.key, found, visitor, now).await.filter(|s| s.live(now)) else { return Ok(None) };
        Ok(Some(self.seal(Purpose::Account, GRANT_TTL, &Grant { session: cookie.key, username: session.username }, now).await?))
    }

    async fn granted(&self, grant: &str, visitor: &EventContext, now: u64) -> Result<(Grant, Session), SignInError> {
        let grant: Grant = self.open(Purpose::Account, grant, now).await?;
        let session = self.live(&grant.session, &grant.username, visitor, now).await?;
        Ok((grant, session))
    }

    /// The person and their live sessions, newest first.
    pub async fn view(&self, grant: &str, visitor: &EventContext, now: u64) -> Result<AccountView, SignInError> {
        let (grant, session) = self.granted(grant, visitor, now).await?;
        let text = |k: &str| session.profile.get(k).and_then(Value::as_str).map(str::to_owned);
        let org = text(ORG_ATTRIBUTE).and_then(|id| OrgId::parse(&id).ok());
        let organisation = async {
            match &org {
                Some(id) => self.ports.orgs.org(id).await.map(|o| o.map(|o| o.name.clone())),
                None => Ok(None),
            }
        };
        let (held, organisation, apps, families) =
            tokio::join!(self.ports.sessions.of_user(&grant.username), organisation, self.ports.apps.list(), self.ports.refresh.of_user(&grant.username));
        let mut sessions: Vec<SessionView> = held?
            .into_iter()
            .filter(|(_, s)| s.live(now) && !s.handoff)
            .map(|(id, s)| SessionView { current: id == grant.session, id, method: s.method, created: s.created, last_seen: s.last_seen })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created));
        // A company that is gone still managed the account: its id, rather than nothing.
        let organisation = organisation?.or_else(|| org.map(|id| id.as_str().to_owned()));
        let profile = UserProfile::from_claims(&session.profile).ok();
        // The list is a convenience: the page's own parts stay usable when it cannot be read (an
        // outage, an app saved by a newer version).
        let apps = apps.unwrap_or_else(|error| {
            tracing::warn!(%error, "the account page lists no apps: the apps could not be read");
            Vec::new()
        });
        let (families, signed_out_at) = families.unwrap_or_else(|error| {
            // A convenience, as the apps: the rest of the page works.
            tracing::warn!(%error, "the account page lists no connected apps: they could not be read");
            (Vec::new(), None)
        });
        let connected = family::connected(&apps, families, signed_out_at, text("sub").as_deref(), now);
        let mut apps: Vec<AppLink> = apps.iter().filter_map(|app| app.link(profile.as_ref()?)).collect();
        apps.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(AccountView { name: text("name"), email: text("email"), language: text("locale"), organisation, sessions, apps, connected })
    }

    /// Signs the person out of an OpenID Connect app that keeps them signed in: revokes the
    /// refresh tokens of one sign-in (`id`, a [`ConnectedApp`]'s), in one write whose condition
    /// is that they are the person's. `BadInput("app")` when they are not (another person's, or
    /// gone), and nothing is revoked. The app's access token lives out its lifetime.
    pub async fn sign_out_app(&self, grant: &str, id: &str, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (grant, _) = self.granted(grant, visitor, now).await?;
        if !session::is_digest(id) {
            return Err(SignInError::BadInput("app"));
        }
        if self.ports.refresh.revoke_of(&grant.username, id).await? { Ok(()) } else { Err(SignInError::BadInput("app")) }
    }

    /// The consent documents in force and where the person stands with each (their records).
    pub async fn consents(&self, grant: &str, visitor: &EventContext, now: u64) -> Result<Vec<DocumentView>, SignInError> {
        let (_, session) = self.granted(grant, visitor, now).await?;
        self.ports.consent_views(&session).await
    }

    /// Gives or withdraws an optional consent (`user.consent_given`, `via: account`). No fresh
    /// step: withdrawing a consent is as easy as giving it, and changes no way in.
    pub async fn decide_consent(&self, grant: &str, document: &str, accepted: bool, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (_, session) = self.granted(grant, visitor, now).await?;
        self.ports.decide_optional(&session, document, accepted, visitor, now).await
    }

    /// Ends the person's session `id` (this one too: then the page's grant is over), in one
    /// write whose condition is that the session is theirs, then the refresh tokens of the
    /// OpenID Connect apps signed in through it ([`end_session_families`]).
    /// `BadInput("session")` when it is not (another person's, or ended), and nothing ends.
    pub async fn end_session(&self, grant: &str, id: &str, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let (grant, _) = self.granted(grant, visitor, now).await?;
        if !session::is_digest(id) {
            return Err(SignInError::BadInput("session"));
        }
        let ended = self.ports.sessions.end_of(&grant.username, id).await?.ok_or(SignInError::BadInput("session"))?;
        end_session_families(self.ports.refresh.as_ref(), &ended).await;
        Ok(())
    }

    /// Ends every session of the person but this one; how many ended.
    pub async fn end_others(&self, grant: &str, visitor: &EventContext, now: u64) -> Result<usize, SignInError> {
        let (grant, _) = self.granted(grant, visitor, now).await?;
        self.end_others_of(&grant.session, &grant.username, now).await
    }

    /// Ends every session of `username` but `keep`, side by side (as `SessionStore::end_all`
    /// does), and writes their sign-out mark at `now` (their console tokens and OpenID Connect
    /// refresh tokens from before end; a console open on this
    /// device signs in again through the session kept); how many sessions ended. Every ending is
    /// tried; the first failure is returned.
    pub(super) async fn end_others_of(&self, keep: &str, username: &str, now: u64) -> Result<usize, SignInError> {
        use futures_util::stream::{self, StreamExt};
        let sweep = async {
            let others = self.ports.sessions.of_user(username).await?.into_iter().map(|(key, _)| key).filter(|key| key != keep);
            let ended: Vec<_> =
                stream::iter(others).map(|key| async move { self.ports.sessions.end(&key).await }).buffer_unordered(session::ENDING_AT_ONCE).collect().await;
            ended.into_iter().try_fold(0, |count, one| one.map(|session| count + usize::from(session.is_some())))
        };
        // The page mints nothing: the mark is this clock's now, not the request's.
        let at = now.max(crate::common::time::unix_now());
        let (ended, console) = tokio::join!(sweep, self.ports.sessions.mark_signed_out(username, at));
        console?;
        Ok(ended?)
    }

    /// The fresh sign-in step: the person's password, then a second proof: the code Cognito
    /// asks for (their MFA), or for someone without MFA a code to their verified email, so that
    /// whoever holds only the password cannot add a passkey (which counts as a second factor).
    /// A wrong password counts against the address, as at sign-in. People whose organisation
    /// allows no password sign-in (or is gone) are refused (`PasswordSignInDisabled`): by the
    /// organisation their session began with before the password is tried, and by the account's
    /// own once it checks out, before any email code is sent.
    pub async fn reauthenticate(&self, grant: &str, password: &SecretString, visitor: &EventContext, now: u64) -> Result<Reauth, SignInError> {
        let (grant, session) = self.granted(grant, visitor, now).await?;
        let email = session.profile.get("email").and_then(Value::as_str).ok_or(SignInError::BadInput("email"))?.to_owned();
        // The organisation the session began with, before Cognito sends an MFA code; the one the
        // account has now is checked once the password is (`next`).
        self.ports.check_password_allowed(&UserProfile::from_claims(&session.profile).map_err(|_| TokenRejected::Invalid("no subject"))?).await?;
        let step = match self.ports.auth.sign_in(&email, password).await {
            Err(AuthError::InvalidCredentials) => return Err(self.failed(&session, AuthError::InvalidCredentials, visitor, now).await),
            step => step?,
        };
        self.next(grant.session, grant.username, &session, step, false, now).await
    }

    /// A wrong password or code on the page: counted against the address, as at sign-in, and
    /// recorded (`user.sign_in_failed`, `reason: invalid_credentials` or `code_mismatch`,
    /// method `account`); `error` is returned as it is.
    pub(super) async fn failed(&self, session: &Session, error: AuthError, visitor: &EventContext, now: u64) -> SignInError {
        if let Some(email) = session.profile.get("email").and_then(Value::as_str)
            && let Err(e) = self.ports.risk.failed(email, now).await
        {
            tracing::warn!(error = %e, "could not count a failed sign-in");
        }
        let reason = if error == AuthError::CodeMismatch { "code_mismatch" } else { "invalid_credentials" };
        let context = EventContext { method: Some("account".into()), ..visitor.clone() };
        let event = IdentityEvent::new(EventType::UserSignInFailed, session.event_user(), context, now).with_detail("reason", reason);
        if let Err(e) = self.ports.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a failed sign-in");
        }
        error.into()
    }

    /// The answer asked for during the fresh sign-in step: a code
    /// ([`ChallengeAnswer::Code`]), or the factor chosen ([`ChallengeAnswer::Choose`]) when
    /// Cognito offered a choice. Any other answer, or one that does not fit the step, is
    /// `BadInput("answer")`.
    /// A wrong code counts against the address and is recorded, as at sign-in.
    pub async fn reauthenticate_answer(&self, flow_token: &str, answer: ChallengeAnswer, visitor: &EventContext, now: u64) -> Result<Reauth, SignInError> {
        let state: Reauthenticating = self.open(Purpose::Reauthentication, flow_token, now).await?;
        let session = self.live(&state.session, &state.username, visitor, now).await?;
        let fits = match (&answer, state.challenge) {
            (ChallengeAnswer::Choose(choice), ChallengeKind::SelectMfaType) => state.options.contains(choice),
            (ChallengeAnswer::Code(_), kind) => kind != ChallengeKind::SelectMfaType,
            _ => false,
        };
        if !fits {
            return Err(SignInError::BadInput("answer"));
        }
        // The email proof is a sign-in by an emailed code (`EMAIL_OTP`), tried at most
        // `EMAIL_CODE_TRIES` times in this step (a new step sends a new code).
        let kind = match state.challenge {
            ChallengeKind::VerifyEmail => {
                self.ports.email_code_try(&state.cognito_session, now).await?;
                ChallengeKind::EmailOtp
            }
            kind => kind,
        };
        let challenge = Challenge {
            kind,
            session: state.cognito_session,
            username: state.cognito_username,
            destination: None,
            options: state.options,
            request_options: None,
        };
        let chosen = matches!(answer, ChallengeAnswer::Choose(_));
        let step = match self.ports.auth.answer(&challenge, answer).await {
            Ok(step) => step,
            Err(e) => return Err(self.counted(&session, e, visitor, now).await),
        };
        // A choice leads to the chosen factor's code step, not yet past it.
        self.next(state.session, state.username, &session, step, !chosen, now).await
    }

    /// `error`, counted and recorded first when it is a wrong code.
    async fn counted(&self, session: &Session, error: AuthError, visitor: &EventContext, now: u64) -> SignInError {
        if error == AuthError::CodeMismatch { self.failed(session, error, visitor, now).await } else { error.into() }
    }

    /// `second_factor`: the step answered Cognito's MFA challenge.
    async fn next(&self, key: String, username: String, session: &Session, step: AuthStep, second_factor: bool, now: u64) -> Result<Reauth, SignInError> {
        match step {
            AuthStep::Authenticated { id_token, access_token } => {
                // The tokens must be the session's person's.
                let claims = self.ports.tokens.verify(&id_token, now).await?;
                if claims.get("sub") != session.profile.get("sub") {
                    return Err(AuthError::InvalidCredentials.into());
                }
                // A password is a way in only where the person's organisation allows one, as
                // at sign-in (checked on the account as Cognito has it now, before any code).
                let profile = UserProfile::from_claims(&claims).map_err(|_| TokenRejected::Invalid("no subject"))?;
                self.ports.check_password_allowed(&profile).await?;
                if second_factor {
                    return self.elevate(key, username, &access_token, now).await;
                }
                // The email proof: a sign-in by a code Cognito emails to the address the tokens
                // just verified name (`start_email_proof`), whose tokens then elevate.
                let email = profile.email.as_ref().map(|e| e.as_str()).ok_or(SignInError::BadInput("email"))?;
                let proof = self.ports.start_email_proof(email, now).await?;
                let state = Reauthenticating {
                    session: key,
                    username,
                    challenge: ChallengeKind::VerifyEmail,
                    cognito_username: proof.username,
                    cognito_session: proof.session,
                    options: Vec::new(),
                };
                let flow = self.seal(Purpose::Reauthentication, ELEVATED_TTL, &state, now).await?;
                Ok(Reauth::Challenge { kind: ChallengeKind::VerifyEmail, destination: proof.destination, options: Vec::new(), flow })
            }
            AuthStep::Challenge(c)
                if matches!(c.kind, ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp | ChallengeKind::SelectMfaType) =>
            {
                let state = Reauthenticating {
                    session: key,
                    username,
                    challenge: c.kind,
                    cognito_username: c.username,
                    cognito_session: c.session,
                    options: c.options.clone(),
                };
                let flow = self.seal(Purpose::Reauthentication, ELEVATED_TTL, &state, now).await?;
                Ok(Reauth::Challenge { kind: c.kind, destination: c.destination, options: c.options, flow })
            }
            AuthStep::Challenge(c) => Err(AuthError::UnsupportedChallenge(format!("{:?}", c.kind)).into()),
        }
    }

    async fn elevate(&self, key: String, username: String, access_token: &AccessToken, now: u64) -> Result<Reauth, SignInError> {
        let elevation = Elevation { session: key, username, access: access_token.0.expose_secret().to_owned() };
        Ok(Reauth::Elevated(self.seal(Purpose::Elevated, ELEVATED_TTL, &elevation, now).await?))
    }

    /// Moves the page's session (`key`, read as `session`) to a new cookie value
    /// (`SessionStore::rotate`): from now on the value a thief may have copied opens nothing. The
    /// browser takes the new value up at `/session/handoff` with the handoff returned (sealed,
    /// good once within [`HANDOFF_TTL`] and only in the browser holding the session's device
    /// cookie), which then opens `page` (the account page's URL) with a grant for the new session
    /// and `changed=password` in its fragment. Sealed before the write: nothing moves unless it
    /// can be handed over. Returns the handoff and the new session's key.
    ///
    /// Errors: `NotSignedIn` when the session ended meanwhile, or has no device digest to bind
    /// the handoff to (one begun before sessions kept it); `AccountRevoked` when the account was
    /// disabled or deleted since it began.
    pub(super) async fn rotate(&self, key: &str, session: &Session, page: &str, now: u64) -> Result<(String, String), SignInError> {
        let Some(device) = session.device.clone() else { return Err(SignInError::NotSignedIn) };
        let cookie = session::new_cookie(&session.username);
        let new_key = crate::common::hashing::digest(&cookie);
        let grant = self.seal(Purpose::Account, GRANT_TTL, &Grant { session: new_key.clone(), username: session.username.clone() }, now).await?;
        let delivery = DeliveryMethod::Fragment.deliver(page, vec![("grant".into(), grant), ("changed".into(), "password".into())])?;
        let handoff =
            self.seal(Purpose::Handoff, HANDOFF_TTL, &SignedIn { delivery, session: cookie, device: Some(device), app: None, replaces: None }, now).await?;
        let moved = Session { handoff: true, last_seen: now, ..session.clone() };
        match self.ports.sessions.rotate(key, &new_key, &moved).await {
            Ok(true) => Ok((handoff, new_key)),
            Ok(false) => Err(SignInError::NotSignedIn),
            Err(StoreError::Conflict) => Err(SignInError::AccountRevoked),
            Err(e) => Err(e.into()),
        }
    }

    /// The access token a fresh sign-in step gave, while its session lives.
    pub(super) async fn elevated(&self, elevated: &str, visitor: &EventContext, now: u64) -> Result<(Elevation, Session, AccessToken), SignInError> {
        let elevation: Elevation = self.open(Purpose::Elevated, elevated, now).await?;
        let session = self.live(&elevation.session, &elevation.username, visitor, now).await?;
        let token = AccessToken(SecretString::from(elevation.access.clone()));
        Ok((elevation, session, token))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use serde_json::json;

    use super::{AccountPage, ELEVATED_TTL, Elevation};
    use crate::events::EventContext;
    use crate::signin::flow::Purpose;
    use crate::signin::ports::{Factor, Passkey, SessionStore};
    use crate::signin::service::SignInPorts;
    use crate::signin::session::{Method, Session};
    use crate::testing::{MemoryAccount, MemoryOrgs, MemorySessions, ScriptedAuth, sign_in_ports};

    const TOKEN: &str = "access-token";

    fn session(now: u64) -> Session {
        let profile = json!({"sub": "sub-1", "email": "hanako@example.com"}).as_object().cloned().unwrap_or_default();
        Session::new("hanako".into(), None, Method::Password, profile, Default::default(), now)
    }

    /// An account page for Hanako with an authenticator app and a passkey, and the grant of a
    /// fresh step (session `this`).
    struct Removing {
        page: AccountPage,
        sessions: Arc<MemorySessions>,
        account: Arc<MemoryAccount>,
        events: Arc<crate::testing::MemoryEvents>,
        elevated: String,
    }

    async fn removing(now: u64) -> Removing {
        let sessions = Arc::new(MemorySessions::default());
        let account = Arc::new(MemoryAccount::default());
        account.settings.lock().unwrap().entry(TOKEN.into()).or_default().factors = vec![Factor::SoftwareTokenMfa];
        let passkey = Passkey { id: "key-1".into(), name: "Phone".into(), attachment: None, created: now };
        account.passkeys.lock().unwrap().insert(TOKEN.into(), vec![passkey]);
        let auth = Arc::new(ScriptedAuth::with_user("hanako@example.com", "pw", None));
        let events = Arc::new(crate::testing::MemoryEvents::default());
        let base = sign_in_ports(auth, Arc::new(MemoryOrgs::default()));
        let ports = SignInPorts { sessions: sessions.clone(), own_account: account.clone(), events: events.clone(), ..base };
        let page = AccountPage::new(Arc::new(ports));
        let elevation = Elevation { session: "this".into(), username: "hanako".into(), access: TOKEN.into() };
        let elevated = page.seal(Purpose::Elevated, ELEVATED_TTL, &elevation, now).await.unwrap();
        Removing { page, sessions, account, events, elevated }
    }

    /// A password change moves this session to a new cookie value, handed over once in its own
    /// browser; a session without a device digest (one begun before sessions kept it) cannot be
    /// handed over, so it ends, with the others: the person signs in again, never left holding
    /// a value someone may have copied.
    #[tokio::test]
    async fn a_password_change_moves_this_session_or_ends_it_when_it_cannot_be_handed_over() {
        use crate::signin::service::SignedIn;
        let now = crate::common::time::unix_now();
        let visitor = EventContext::default();
        const PAGE: &str = "https://form.example/account.html";
        async fn change(page: &AccountPage, elevated: String) -> Result<crate::signin::account_changes::PasswordChanged, crate::signin::service::SignInError> {
            let now = crate::common::time::unix_now();
            page.change_password(&elevated, &"pw".into(), &"Brand-New-Passw0rd".into(), PAGE, &EventContext::default(), now).await
        }
        /// A session of the browser whose device cookie is `device` (it keeps the cookie's digest).
        fn keep(sessions: &MemorySessions, key: &str, device: Option<&str>, now: u64) {
            sessions.sessions.lock().unwrap().insert(key.into(), Session { device: crate::signin::flow::device_digest(device), ..session(now) });
        }
        let Removing { page, sessions, elevated, .. } = removing(now).await;
        let keys = || sessions.sessions.lock().unwrap().keys().cloned().collect::<Vec<_>>();
        keep(&sessions, "this", Some("browser-a"), now);
        keep(&sessions, "other", Some("browser-b"), now);
        let changed = change(&page, elevated).await.unwrap();
        assert_eq!(changed.ended_sessions, 1);
        let handoff = changed.handoff.expect("a handoff");
        let moved = keys();
        assert!(moved.len() == 1 && moved[0] != "this" && moved[0] != "other", "{moved:?}");
        let ports = page.ports.clone();
        let arrival = crate::signin::arrival::Arrival::new(ports);
        assert!(arrival.open_handoff(&handoff, Some("browser-b"), &visitor, now).await.is_err(), "another browser's cookie: refused");
        assert!(keys().is_empty(), "and its session ended");

        let Removing { page, sessions, elevated, .. } = removing(now).await;
        keep(&sessions, "this", Some("browser-a"), now);
        let handoff = change(&page, elevated).await.unwrap().handoff.expect("a handoff");
        let arrival = crate::signin::arrival::Arrival::new(page.ports.clone());
        let SignedIn { delivery, session: cookie, .. } = arrival.open_handoff(&handoff, Some("browser-a"), &visitor, now).await.unwrap();
        assert_eq!(crate::common::hashing::digest(&cookie), sessions.sessions.lock().unwrap().keys().next().cloned().unwrap());
        let crate::tokens::targets::mint::Delivery::Get { url } = delivery else { panic!("{delivery:?}") };
        assert!(url.starts_with(&format!("{PAGE}#grant=")) && url.ends_with("&changed=password"), "{url}");
        assert!(arrival.open_handoff(&handoff, Some("browser-a"), &visitor, now).await.is_err(), "once");

        let Removing { page, sessions, elevated, .. } = removing(now).await;
        keep(&sessions, "this", None, now);
        keep(&sessions, "other", None, now);
        let changed = change(&page, elevated).await.unwrap();
        assert_eq!((changed.handoff, changed.ended_sessions), (None, 1));
        assert!(sessions.sessions.lock().unwrap().is_empty(), "no device to hand a new value to: this session ended too");
    }

    /// A new email whose sign-outs failed (the store down for both tries): the email has
    /// changed, the event is recorded once, this session and its grant stay, and the code
    /// answered again (Cognito has none left) finishes the sign-outs; then this grant is over.
    #[tokio::test]
    async fn an_email_change_whose_sign_outs_failed_is_finished_by_answering_again() {
        use crate::events::EventType::UserProfileUpdated;
        let now = crate::common::time::unix_now();
        let visitor = EventContext::default();
        let Removing { page, sessions, account, events, elevated } = removing(now).await;
        crate::signin::ports::OwnAccount::update_attributes(
            &*account,
            &crate::signin::challenge::AccessToken(TOKEN.into()),
            &[("email", "hanako@example.com"), ("email_verified", "true")],
        )
        .await
        .unwrap();
        for key in ["this", "other"] {
            sessions.sessions.lock().unwrap().insert(key.into(), session(now));
        }
        let started = page.start_email(&elevated, "hanako.new@example.com", &visitor, now).await.unwrap();
        sessions.failing_reads.store(2, Ordering::SeqCst);
        let failed = page.verify_email(&elevated, &started.change, &"123456".into(), &visitor, now).await;
        assert!(matches!(failed, Err(crate::signin::service::SignInError::Store(_))), "{failed:?}");
        assert_eq!(account.settings.lock().unwrap()[TOKEN].attributes["email"], "hanako.new@example.com", "changed");
        assert_eq!(sessions.sessions.lock().unwrap().len(), 2, "both sessions stay");
        let changed = page.verify_email(&elevated, &started.change, &"123456".into(), &visitor, now).await;
        assert_eq!(changed.unwrap(), "hanako.new@example.com");
        assert!(sessions.sessions.lock().unwrap().is_empty(), "every session ended");
        let recorded = events.0.lock().unwrap().iter().filter(|e| e.kind == UserProfileUpdated).map(|e| e.detail["email"].clone()).collect::<Vec<_>>();
        assert_eq!(recorded, [json!({"before": "hanako@example.com", "after": "hanako.new@example.com"})], "recorded once");
        let over = page.verify_email(&elevated, &started.change, &"123456".into(), &visitor, now).await;
        assert!(matches!(over, Err(crate::signin::service::SignInError::NotSignedIn)), "{over:?}");
    }

    /// The account page lists the apps a person may open, and when the apps cannot be read it
    /// still shows the person and their sessions, with no apps.
    #[tokio::test]
    async fn the_account_view_lists_the_apps_and_stays_usable_when_they_cannot_be_read() {
        use crate::common::store::StoreError;
        use crate::tokens::app::{App, AppId};
        use crate::tokens::ports::AppDirectory;
        struct Down;
        #[async_trait::async_trait]
        impl AppDirectory for Down {
            async fn app(&self, _: &AppId) -> Result<Option<Arc<App>>, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
            async fn list(&self) -> Result<Vec<App>, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
        }
        let now = crate::common::time::unix_now();
        let sessions = Arc::new(MemorySessions::default());
        sessions.sessions.lock().unwrap().insert("this".into(), session(now));
        let page_with = |apps: Arc<dyn AppDirectory>| {
            let base = sign_in_ports(Arc::new(ScriptedAuth::with_user("hanako@example.com", "pw", None)), Arc::new(MemoryOrgs::default()));
            AccountPage::new(Arc::new(SignInPorts { sessions: sessions.clone(), apps, ..base }))
        };
        let home = App { home_url: Some("https://acme.zendesk.com/hc/".into()), ..crate::testing::demo_app() };
        let listing = page_with(Arc::new(crate::testing::MemoryApps::with([home])));
        let grant = listing.seal(Purpose::Account, 60, &super::Grant { session: "this".into(), username: "hanako".into() }, now).await.unwrap();
        let view = listing.view(&grant, &EventContext::default(), now).await.unwrap();
        assert_eq!((view.apps.len(), view.sessions.len()), (1, 1));
        let view = page_with(Arc::new(Down)).view(&grant, &EventContext::default(), now).await.unwrap();
        assert_eq!((view.apps.len(), view.email.as_deref(), view.sessions.len()), (0, Some("hanako@example.com"), 1));
    }

    /// Removing a factor or a passkey when the sessions' table does not answer: nothing is
    /// removed, so the person's retry (the way in still there) removes it and ends the other
    /// sessions; after it, a sign-in Cognito authenticated before the removal opens nothing.
    #[tokio::test]
    async fn a_removal_whose_sessions_could_not_end_leaves_the_way_in_for_a_retry_that_ends_them() {
        let now = crate::common::time::unix_now();
        let Removing { page, sessions, account, elevated, .. } = removing(now).await;
        let visitor = EventContext::default();
        let keep = |key: &str| sessions.sessions.lock().unwrap().insert(key.into(), session(now));
        let kept = |key: &str| sessions.sessions.lock().unwrap().contains_key(key);
        let factors = || account.settings.lock().unwrap()[TOKEN].factors.clone();
        let passkeys = || account.passkeys.lock().unwrap()[TOKEN].len();
        keep("this");

        keep("lost-phone");
        sessions.failing_reads.store(1, Ordering::SeqCst);
        assert!(page.remove_factor(&elevated, Factor::SoftwareTokenMfa, &visitor, now).await.is_err());
        assert_eq!((factors(), kept("lost-phone")), (vec![Factor::SoftwareTokenMfa], true), "nothing half done");
        assert_eq!(page.remove_factor(&elevated, Factor::SoftwareTokenMfa, &visitor, now).await.unwrap(), 1);
        assert_eq!((factors(), kept("lost-phone"), kept("this")), (vec![], false, true));
        let under_way = Session { authenticated: now, ..session(now) };
        assert!(sessions.create("under-way", &under_way, &[], &Default::default()).await.is_err(), "a sign-in from before opens nothing");

        keep("lost-key");
        sessions.failing_reads.store(1, Ordering::SeqCst);
        assert!(page.remove_passkey(&elevated, "key-1", &visitor, now).await.is_err());
        assert_eq!((passkeys(), kept("lost-key")), (1, true), "nothing half done");
        assert_eq!(page.remove_passkey(&elevated, "key-1", &visitor, now).await.unwrap(), 1);
        assert_eq!((passkeys(), kept("lost-key"), kept("this")), (0, false, true));
    }

    /// Removing a factor or a passkey whose removal Cognito made but whose answer was lost: the
    /// removal is found made, so it succeeds as one: the event, the hold and the second pass.
    #[tokio::test]
    async fn a_removal_whose_answer_was_lost_is_found_made() {
        let now = crate::common::time::unix_now();
        let Removing { page, sessions, account, events, elevated } = removing(now).await;
        let visitor = EventContext::default();
        let under_way = Session { authenticated: now, ..session(now) };
        sessions.sessions.lock().unwrap().insert("this".into(), session(now));

        account.lost_answers.store(1, Ordering::SeqCst);
        assert_eq!(page.remove_factor(&elevated, Factor::SoftwareTokenMfa, &visitor, now).await.unwrap(), 0);
        assert!(sessions.create("under-way", &under_way, &[], &Default::default()).await.is_err(), "a sign-in from before opens nothing");
        account.lost_answers.store(1, Ordering::SeqCst);
        assert_eq!(page.remove_passkey(&elevated, "key-1", &visitor, now).await.unwrap(), 0);
        assert_eq!(events.kinds(), [crate::events::EventType::UserFactorRemoved, crate::events::EventType::UserPasskeyRemoved]);
    }
}
