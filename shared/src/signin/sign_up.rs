//! Creating an account on the form ([`SelfSignUp`]): for an app that allows it (`sign_up:
//! open`), an email, a password, a name and a language; then the code Cognito emails; then the
//! person is signed in like any password sign-in and goes on to the app that sent them.
//!
//! What it promises:
//! - **No account enumeration.** An email that has an account answers exactly as a new one (the
//!   same step, the same masked destination). Its owner is told by email instead: an account not
//!   confirmed yet gets a new code (its owner is finishing later), a confirmed one the "you
//!   already have an account" email with a password reset code. A code for such an email never
//!   confirms anything (`code_mismatch`, as a wrong code). Past the first answer too: a sign-in
//!   with the password chosen leads to the same code step (a keyed proof of it is noted for an
//!   address with an account, `confirmation::proof`), and code tries and codes sent are counted
//!   by the bridge for every address alike (below Cognito's own lock). Timing is not equalised.
//! - **An account is its confirmer's.** The code proves the email: confirming it gives the
//!   account the confirmer's password, name and language, whoever started it. Whoever started it
//!   chose its first password and may be signing in with it the moment `ConfirmSignUp` confirms
//!   it: from before that call until the confirmer's password is set, the account's sign-ins
//!   open no session (`SessionStore::hold`). Should setting it fail, the hold stays until a
//!   password reset, and the confirmer is sent a reset code.
//! - **Limits.** 3 sign-ups per address and 20 per network an hour, 5 codes per address an
//!   hour, 4 tries per code, the same for every address; no email beyond them.
//! - **Companies manage their people.** An email in an organisation's domain whose organisation
//!   provisions through SCIM or does not allow password sign-in is sent to corporate sign-in
//!   ([`SignInError::UseCorporate`]).
//! - **Consent.** Every required document (`consent`) must be ticked
//!   ([`SignInError::ConsentRequired`]); what was ticked is recorded at the first sign-in, with
//!   the confirmer's network, once the person is known.
//! - **One registration event.** `user.registered` is the PostConfirmation trigger's, once per
//!   person.
//!
//! The form keeps the password between the steps and sends it again with the code: no token
//! the bridge issues carries it.

use std::sync::Arc;

use secrecy::SecretString;

use crate::common::email::Email;
use crate::common::language::Language;
use crate::consent::decision::{Decision, Given, Via};
use crate::consent::document::ConsentDocument;
use crate::directory::org::{EmailDomain, Provisioning};
use crate::events::EventContext;
use crate::signin::challenge::AuthError;
use crate::signin::confirmation::{SignUpState, code_step};
use crate::signin::flow::{self, Purpose};
use crate::signin::password::{PasswordSignIn, credentials_changed};
use crate::signin::password_rules::check_password_rules;
use crate::signin::service::{CodeSent, Outcome, SignInError, SignInPorts};
use crate::tokens::app::SignUp;

/// Longest name a person may give (characters).
pub const MAX_NAME: usize = 100;

/// How long a confirmation holds its account's sign-ins at most (seconds), should it stop
/// before it ends: it takes about a second.
pub const CLAIM_HOLD: u64 = 10 * 60;

/// Until when a confirmation that could not give the account its confirmer's password holds its
/// sign-ins: until a password reset settles the hold (Unix seconds, year 2286).
const UNTIL_A_RESET: u64 = 9_999_999_999;

/// A confirmation's hold on the sign-ins of the account it claims.
struct Held {
    username: String,
    holder: String,
}

/// A person's name as they typed it, trimmed: 1 to [`MAX_NAME`] characters, no control
/// characters (`BadInput("name")` otherwise).
pub fn person_name(raw: &str) -> Result<&str, SignInError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(SignInError::BadInput("name"));
    }
    Ok(name)
}
/// The window sign-ups and codes are counted in (seconds).
pub const SIGN_UP_WINDOW: u64 = 3600;
/// Sign-ups (each sends an email) per address per window: enough for a person who mistypes,
/// too few to fill someone's mailbox.
pub const SIGN_UPS_PER_EMAIL: u64 = 3;
/// Sign-ups per network (an IPv4 /24, an IPv6 /48) per window.
pub const SIGN_UPS_PER_NETWORK: u64 = 20;
/// Codes sent to an address per window (sign-ups, resends, sign-ins of an unconfirmed account).
pub const CODES_PER_EMAIL: u64 = 5;
/// Consent decisions a person may record on their account page per window (each writes a
/// record kept for good, an event, and the mirror in Cognito).
pub const DECISIONS_PER_EMAIL: u64 = 20;
/// Tries of a code before a new one must be sent: fewer than Cognito's own five, so the bridge
/// answers the fifth try for every address alike (Cognito's lock would show only for accounts
/// not confirmed yet).
pub const CODE_TRIES: u64 = 4;

/// What the form sends to create an account.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password: &'a SecretString,
    /// The person's name, as they want to be addressed.
    pub name: &'a str,
    /// The language of their emails (their `locale`).
    pub language: Language,
    /// The consent documents ticked (by name): every required one must be.
    pub accepted: &'a [String],
}

pub struct SelfSignUp {
    ports: Arc<SignInPorts>,
    password: PasswordSignIn,
}

impl SelfSignUp {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { password: PasswordSignIn::new(ports.clone()), ports }
    }

    /// Starts an account for `account` on the app `ctx` names, from `visitor`'s network.
    /// Errors: the app does not allow sign-up ([`SignInError::SignUpClosed`]), the email belongs
    /// to a company that manages its people ([`SignInError::UseCorporate`]), the password
    /// policy, too many sign-ups for the address or from the network this hour
    /// (`AuthError::TooManyAttempts`, the same for every address), Cognito's rate limits.
    pub async fn start(&self, ctx: &str, account: NewAccount<'_>, visitor: &EventContext, now: u64) -> Result<CodeSent, SignInError> {
        let ctx = self.ports.open_context(ctx, now).await?;
        let email = Email::parse(account.email).map_err(|_| SignInError::BadInput("email"))?;
        let name = person_name(account.name)?;
        // The pool's rules and the breach check, here so an email with an account answers as a
        // new one (the breach check beside the other reads, before the attempt is counted: a
        // refused password spends none of the address's sign-ups or codes).
        let consents = self.consents(account.accepted).await?;
        let (app, company, password) = tokio::join!(self.ports.app(ctx.app.as_str()), self.manages(&email), self.ports.check_new_password(account.password));
        password?;
        if app?.sign_up != SignUp::Open {
            return Err(SignInError::SignUpClosed);
        }
        if company? {
            return Err(SignInError::UseCorporate);
        }
        let network = visitor.ip.as_deref().and_then(crate::risk::network_of);
        if !self.ports.sign_ups.sign_up_attempt(email.as_str(), network.as_deref(), now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        let language = account.language.tag();
        // The sign-up's code was counted with the sign-up (`sign_up_attempt`).
        match self.ports.auth.sign_up(email.as_str(), account.password, &[("name", name), ("locale", language)], language).await {
            Ok(()) => {}
            Err(AuthError::AccountExists) => self.tell_owner(&email, account.password, language, now).await,
            Err(e) => return Err(e.into()),
        }
        let state = SignUpState { ctx, email: email.as_str().to_owned(), language: account.language, name: Some(name.to_owned()), consents };
        code_step(&self.ports, state, now).await
    }

    /// Confirms the account with the emailed `code`, then signs in with `password` (the one
    /// the person chose) and goes on as a password sign-in does.
    pub async fn confirm(
        &self,
        flow_token: &str,
        code: &SecretString,
        password: &SecretString,
        visitor: &EventContext,
        now: u64,
    ) -> Result<Outcome, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        let state: SignUpState = flow::open(&key.flow_key, Purpose::SignUp, flow_token, now)?;
        // A sign-up's confirmation sets the password (the breach check too); a sign-in that found
        // the account unconfirmed (no name) signs in with the one it has (the rules alone).
        match state.name {
            Some(_) => self.ports.check_new_password(password).await?,
            None => check_password_rules(password)?,
        }
        if !self.ports.sign_ups.code_try(&state.email, CODE_TRIES, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        // The code proves the email: the account is the confirmer's, whoever made it unconfirmed
        // (someone may have signed up with this email first, with a password of their own).
        let held = match &state.name {
            Some(name) => self.confirm_and_claim(&state, name, code, password, now).await?,
            None => {
                self.ports.auth.confirm_sign_up(&state.email, code).await?;
                None
            }
        };
        let ctx = self.ports.seal_context(&state.ctx, now).await?;
        // What was accepted at sign-up is recorded by the sign-in, once the person is known.
        let given = Given { decisions: state.consents, via: Via::SignUp };
        let claim = held.as_ref().map(|held| held.holder.as_str());
        self.password.sign_in_with(&ctx, &state.email, password, &given, claim, visitor, now).await
    }

    /// Confirms the account with `code` and makes it the confirmer's (`password`, `name`, the
    /// language), its sign-ins held from before `ConfirmSignUp` (Cognito then takes the first
    /// password chosen) until the confirmer's password is set; after that, every sign-in
    /// authenticated before stays refused. The hold, for the confirmer's own sign-in.
    async fn confirm_and_claim(
        &self,
        state: &SignUpState,
        name: &str,
        code: &SecretString,
        password: &SecretString,
        now: u64,
    ) -> Result<Option<Held>, SignInError> {
        let held = self.hold(&state.email, now).await?;
        match self.ports.auth.confirm_sign_up(&state.email, code).await {
            Ok(()) => {}
            Err(e @ AuthError::CodeMismatch) => {
                self.release(held.as_ref()).await;
                return Err(e.into());
            }
            // Another error: it may have confirmed the account (no answer). Still unconfirmed,
            // nothing to hold; confirmed, as a claim that failed; unknown, the hold stays (it ends
            // within `CLAIM_HOLD`).
            Err(e) => {
                if held.is_none() {
                    return Err(e.into());
                }
                return match self.ports.pool.unconfirmed(&state.email).await {
                    Ok(Some(_)) => {
                        self.release(held.as_ref()).await;
                        Err(e.into())
                    }
                    Ok(None) => Err(self.claim_failed(state, held.as_ref(), &e.to_string(), now).await),
                    Err(_) => Err(e.into()),
                };
            }
        }
        if let Err(e) = self.ports.pool.claim(&state.email, password, &[("name", name), ("locale", state.language.tag())]).await {
            return Err(self.claim_failed(state, held.as_ref(), &e.to_string(), now).await);
        }
        if let Some(held) = &held {
            credentials_changed(&*self.ports.sessions, &held.username, &held.holder).await?;
        }
        Ok(held)
    }

    /// Holds the sign-ins of the unconfirmed account `email` names before its confirmation
    /// (its first password may be someone else's); `None` when it has none unconfirmed (no code
    /// confirms a confirmed account). Another confirmation of it under way: `CodeMismatch`, as a
    /// wrong code (an account that is confirmed takes no hold: another answer would tell).
    async fn hold(&self, email: &str, now: u64) -> Result<Option<Held>, SignInError> {
        let Some(username) = self.ports.pool.unconfirmed(email).await? else { return Ok(None) };
        let holder = crate::common::random::token();
        if !self.ports.sessions.hold(&username, &holder, now + CLAIM_HOLD, now).await? {
            return Err(AuthError::CodeMismatch.into());
        }
        Ok(Some(Held { username, holder }))
    }

    /// Ends `held` (a failure is logged: the hold ends by itself within [`CLAIM_HOLD`]).
    async fn release(&self, held: Option<&Held>) {
        let Some(held) = held else { return };
        if let Err(e) = self.ports.sessions.release(&held.username, &held.holder).await {
            tracing::warn!(error = %e, "could not end a confirmation's hold on its account's sign-ins");
        }
    }

    /// The account is confirmed with its first password still: its sign-ins stay held until a
    /// password reset settles the hold, and the confirmer is sent a reset code
    /// (`PasswordResetRequired`: the form's reset step).
    async fn claim_failed(&self, state: &SignUpState, held: Option<&Held>, error: &str, now: u64) -> SignInError {
        tracing::error!(%error, "a confirmed account did not become its confirmer's; its sign-ins are held until a password reset");
        if let Some(held) = held
            && let Err(e) = self.ports.sessions.hold(&held.username, &held.holder, UNTIL_A_RESET, now).await
        {
            tracing::error!(error = %e, "could not keep a confirmation's hold");
        }
        match self.ports.auth.forgot_password(&state.email).await {
            Ok(()) => AuthError::PasswordResetRequired.into(),
            Err(e) => e.into(),
        }
    }

    /// Sends a new code (the same answer for any address).
    pub async fn resend(&self, flow_token: &str, now: u64) -> Result<(), SignInError> {
        let key = self.ports.secrets.bridge().await?;
        let state: SignUpState = flow::open(&key.flow_key, Purpose::SignUp, flow_token, now)?;
        if !self.ports.sign_ups.code_sent(&state.email, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        match self.ports.auth.resend_sign_up_code(&state.email, state.language.tag()).await {
            Ok(()) | Err(AuthError::AccountExists | AuthError::CodeMismatch) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The current documents ticked at sign-up, as decisions; [`SignInError::ConsentRequired`]
    /// when a required one is not among them.
    async fn consents(&self, ticked: &[String]) -> Result<Vec<Decision>, SignInError> {
        let documents = self.ports.consents.get().await?;
        let ticked = |d: &ConsentDocument| ticked.iter().any(|t| t == d.id.as_str());
        if documents.iter().any(|d| d.required && !ticked(d)) {
            return Err(SignInError::ConsentRequired);
        }
        Ok(documents.iter().filter(|d| ticked(d)).map(|d| Decision { document: d.id.clone(), version: d.version, accepted: true }).collect())
    }

    /// Whether a company manages people with this email: its domain's organisation provisions
    /// through SCIM or does not allow password sign-in. An email whose domain is not one an
    /// organisation could own (an internationalised domain in Unicode) is refused: it might be
    /// an owned domain spelled otherwise.
    async fn manages(&self, email: &Email) -> Result<bool, SignInError> {
        let domain = EmailDomain::of(email).map_err(|_| SignInError::BadInput("email"))?;
        let Some(org) = self.ports.orgs.owner_of(&domain).await? else { return Ok(false) };
        let scim = org.connection.as_ref().is_some_and(|c| c.provisioning == Provisioning::Scim);
        Ok(scim || !org.policies.password_sign_in)
    }

    /// The owner of an existing account hears of the attempt, and the password chosen is noted
    /// (as a keyed proof) so that signing in with it leads to the same code step as for an
    /// address without an account. A failure is logged: the answer must not differ.
    async fn tell_owner(&self, email: &Email, password: &SecretString, language: &str, now: u64) {
        let told = match self.ports.auth.resend_sign_up_code(email.as_str(), language).await {
            Err(AuthError::AccountExists) => {
                let noted = async {
                    let proof = crate::signin::confirmation::proof(&self.ports, email, password).await?;
                    self.ports.sign_ups.note_existing(email.as_str(), &proof, now).await.map_err(SignInError::from)
                };
                let (told, noted) = tokio::join!(self.ports.auth.account_exists_notice(email.as_str(), language), noted);
                if let Err(e) = noted {
                    tracing::warn!(error = %e, "could not note a sign-up with an account's email");
                }
                told
            }
            other => other,
        };
        if let Err(e) = told {
            tracing::warn!(error = %e, "could not tell an account's owner of a sign-up with its email");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::current::CurrentDocuments;
    use crate::consent::document::{DocumentId, sample};
    use crate::signin::SignIn;
    use crate::signin::service::Entry;
    use crate::testing::{EmptyPool, MemoryConsents, MemorySessions, ScriptedAuth, sign_in_ports};
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    const NOW: u64 = 1_700_000_000;
    const EMAIL: &str = "victim@example.com";
    const FIRST: &str = "Attacker-Passw0rd";
    const VICTIMS: &str = "Victims-Passw0rd";

    struct Started {
        svc: SignIn,
        auth: Arc<ScriptedAuth>,
        pool: Arc<EmptyPool>,
        sessions: Arc<MemorySessions>,
        consents: Arc<MemoryConsents>,
        /// The victim's own sign-up step (the terms ticked).
        flow: String,
    }

    /// The victim's address, signed up first by someone else with `FIRST`, not confirmed yet;
    /// the deployment's terms required (and marketing optional); the victim's own sign-up step.
    async fn started_by_someone_else() -> Started {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, FIRST, None));
        if let Some(user) = auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.claims["cognito:username"] = EMAIL.into();
        }
        let pool = Arc::new(EmptyPool::default());
        pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).insert(EMAIL.into(), Default::default());
        pool.unconfirmed.lock().unwrap_or_else(|p| p.into_inner()).insert(EMAIL.into());
        let sessions = Arc::new(MemorySessions::default());
        let documents = vec![sample("terms", 1, true), sample("marketing", 1, false)];
        let consents = Arc::new(MemoryConsents { documents: documents.into(), ..MemoryConsents::default() });
        let ports = SignInPorts {
            pool: pool.clone(),
            sessions: sessions.clone(),
            consents: Arc::new(CurrentDocuments::new(consents.clone(), Duration::ZERO)),
            ..sign_in_ports(auth.clone(), Default::default())
        };
        let svc = SignIn::new(ports);
        let ctx = svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let ctx = svc.ports.open_context(&ctx, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let terms = Decision { document: DocumentId::parse("terms").unwrap_or_else(|e| panic!("{e}")), version: 1, accepted: true };
        let state = SignUpState { ctx, email: EMAIL.into(), language: Language::En, name: Some("Victim".into()), consents: vec![terms] };
        let flow = code_step(&svc.ports, state, NOW).await.unwrap_or_else(|e| panic!("{e}")).flow;
        Started { svc, auth, pool, sessions, consents, flow }
    }

    async fn sign_in_with_first_password(svc: &SignIn, now: u64) -> Result<Outcome, SignInError> {
        let ctx = svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), now).await?;
        svc.password.sign_in(&ctx, EMAIL, &SecretString::from(FIRST), &EventContext::default(), now).await
    }

    async fn confirm(s: &Started, code: &str, now: u64) -> Result<Outcome, SignInError> {
        s.svc.sign_up.confirm(&s.flow, &SecretString::from(code), &SecretString::from(VICTIMS), &EventContext::default(), now).await
    }

    #[tokio::test]
    async fn a_sign_in_with_the_first_password_paused_before_the_claim_opens_nothing_after_it() {
        let s = started_by_someone_else().await;
        // Cognito took the first password (as between ConfirmSignUp and the claim): a sign-in
        // authenticated then, paused at the terms.
        if let Some(user) = s.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.claims["auth_time"] = (NOW + 5).into();
        }
        let Ok(Outcome::Consent(paused)) = sign_in_with_first_password(&s.svc, NOW + 5).await else { panic!("no consent step") };
        // The confirmation: a wrong code holds nothing after it; the right one claims the account
        // (the double cannot change the password: the test does, as `claim` would).
        let wrong = confirm(&s, "000001", NOW + 10).await;
        assert!(matches!(wrong, Err(SignInError::Auth(AuthError::CodeMismatch))), "{wrong:?}");
        assert!(s.sessions.held.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "released");
        if let Some(user) = s.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.password = VICTIMS.into();
        }
        let confirmed = confirm(&s, "135790", NOW + 20).await;
        assert!(matches!(confirmed, Ok(Outcome::Handoff(_))), "the confirmer is signed in: {confirmed:?}");
        // The paused sign-in, resumed later: refused, with no session and no decision of its own.
        let resumed = s.svc.consent.answer(&paused.flow, &["terms".into(), "marketing".into()], &EventContext::default(), NOW + 30).await;
        assert!(matches!(resumed, Err(SignInError::AccountRevoked)), "{resumed:?}");
        assert_eq!(s.sessions.sessions.lock().unwrap_or_else(|p| p.into_inner()).len(), 1, "the confirmer's only");
        let recorded = s.consents.records.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|r| r.via).collect::<Vec<_>>();
        assert_eq!(recorded, [Via::SignUp], "the confirmer's, at sign-up");
    }

    #[tokio::test]
    async fn a_confirmed_account_whose_claim_failed_opens_nothing_for_its_first_password_until_a_reset() {
        let s = started_by_someone_else().await;
        s.pool.claims_fail.store(true, Ordering::Relaxed);
        let calls = s.auth.calls.load(Ordering::Relaxed);
        let confirmed = confirm(&s, "135790", NOW + 10).await;
        assert!(matches!(confirmed, Err(SignInError::Auth(AuthError::PasswordResetRequired))), "{confirmed:?}");
        assert_eq!(s.auth.calls.load(Ordering::Relaxed), calls + 2, "ConfirmSignUp, then a reset code sent");
        // Whoever started it signs in with its first password, now and for long after: no session.
        for at in [NOW + 11, NOW + CLAIM_HOLD + 60, NOW + 7 * 86_400] {
            // The terms may be asked first (no session yet); answered, the sign-in opens nothing.
            let attempt = match sign_in_with_first_password(&s.svc, at).await {
                Ok(Outcome::Consent(asked)) => s.svc.consent.answer(&asked.flow, &["terms".into()], &EventContext::default(), at).await,
                other => other,
            };
            assert!(matches!(attempt, Err(SignInError::AccountRevoked)), "{at}: {attempt:?}");
        }
        assert!(s.sessions.sessions.lock().unwrap_or_else(|p| p.into_inner()).is_empty());
        // The confirmer resets the password (the code proves the email) and is signed in.
        let ctx = s.svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW + 20).await.unwrap_or_else(|e| panic!("{e}"));
        let reset =
            s.svc.password.reset_password(&ctx, EMAIL, &SecretString::from("000000"), &SecretString::from(VICTIMS), &EventContext::default(), NOW + 20).await;
        assert!(matches!(reset, Ok(Outcome::Handoff(_)) | Ok(Outcome::Consent(_))), "{reset:?}");
    }

    #[tokio::test]
    async fn a_second_confirmation_under_way_answers_as_a_wrong_code_and_leaves_the_first_ones_hold() {
        let s = started_by_someone_else().await;
        s.sessions.held.lock().unwrap_or_else(|p| p.into_inner()).insert(EMAIL.into(), ("another".into(), NOW + CLAIM_HOLD));
        let second = confirm(&s, "135790", NOW).await;
        assert!(matches!(second, Err(SignInError::Auth(AuthError::CodeMismatch))), "{second:?}");
        assert_eq!(s.sessions.held.lock().unwrap_or_else(|p| p.into_inner()).get(EMAIL).map(|(by, _)| by.as_str()), Some("another"));
    }
}
