//! Sign-in without a password ([`Passwordless`]): a code sent to the person's email, or a
//! passkey, through Cognito's choice-based sign-in (`USER_AUTH` with `PREFERRED_CHALLENGE`).
//! The answer goes through the same challenge step as a password sign-in's MFA code
//! (`PasswordSignIn::answer`), and the sign-in ends the same way: the organisation's policy,
//! risk, consent, the app's token and a session. A passkey (user verification required) counts
//! as a second factor (`Method::Passkey`); an email code does not, and a high-risk sign-in with
//! one at an app that requires a second factor is refused, never led to enrol a factor.
//!
//! Unknown emails read as known ones, within what the bridge controls. Cognito offers a passkey
//! only to someone who has one, and an email code only to someone without MFA; when the factor
//! asked for is not available (or the email is unknown, or the account is in any other state),
//! the bridge answers with a step alike that no answer passes: for a code, the same masked
//! destination and no email; for a passkey, request options built from the same template with a
//! fresh challenge of Cognito's length. The step's state is encrypted and padded
//! (`flow::seal_private`), and a decoy's carries a Cognito-like session and user name. Passkey
//! options never name the person's credentials (passkeys are discoverable: the browser offers
//! those it holds for the relying party). Codes are counted per address for every address
//! alike: 5 sent an hour (with sign-up's), 2 tries each. Not equalised: timing (a real code
//! step runs the email trigger); the steps' lengths on an instance that has not yet seen a real
//! one of Cognito's.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use crate::common::email::Email;
use crate::signin::challenge::{AuthError, AuthStep, ChallengeKind};
use crate::signin::confirmation::masked;
use crate::signin::flow::{self, ChallengeState, Purpose};
use crate::signin::ports::CodeAsker;
use crate::signin::service::{Outcome, SignInError, SignInPorts};
use crate::signin::session::Method;

/// What begins a decoy step's session (never a Cognito session's first character): no answer
/// passes it.
pub const DECOY: char = '~';

/// How long a step without a password lasts (seconds): an emailed code's life, and a passkey
/// request's timeout.
pub const PASSWORDLESS_TTL: u64 = 5 * 60;

/// What the person chose instead of a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstFactor {
    EmailCode,
    Passkey,
}

/// What the real steps looked like (lengths only), for decoys alike.
#[derive(Debug, Clone, Copy)]
struct Shape {
    challenge: usize,
    session: usize,
    username_is_email: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Self { challenge: 32, session: 920, username_is_email: false }
    }
}

pub struct Passwordless {
    ports: Arc<SignInPorts>,
    shape: Mutex<Shape>,
}

impl Passwordless {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports, shape: Mutex::new(Shape::default()) }
    }

    /// Starts a sign-in of `email` with `factor` for the app `ctx` names: the code step
    /// (`email_otp`, the code sent) or the passkey step (`web_authn`, with `public_key`, the
    /// request options for `navigator.credentials.get`). `TooManyAttempts` past 5 codes an
    /// hour for the address.
    pub async fn start(&self, ctx: &str, email: &str, factor: FirstFactor, now: u64) -> Result<Outcome, SignInError> {
        let ctx = self.ports.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        let (kind, method) = match factor {
            FirstFactor::EmailCode => (ChallengeKind::EmailOtp, Method::EmailCode),
            FirstFactor::Passkey => (ChallengeKind::WebAuthn, Method::Passkey),
        };
        // Every code request counts, for every address alike; over the limit none is sent.
        if factor == FirstFactor::EmailCode && !self.ports.sign_ups.other_code_sent(email.as_str(), CodeAsker::Anyone, now).await? {
            return Err(AuthError::TooManyAttempts.into());
        }
        let (app, step) = tokio::join!(self.ports.app_ready_to_mint(ctx.app.as_str(), now), self.ports.auth.start_passwordless(email.as_str(), kind));
        app?;
        let challenge = match step {
            Ok(AuthStep::Challenge(c)) if c.kind == kind => Some(c),
            Err(e @ (AuthError::Throttled | AuthError::Unavailable(_) | AuthError::Misconfigured(_))) => return Err(e.into()),
            // Not available for this person, no such person, or an account in another state: a
            // step alike (below).
            _ => None,
        };
        let (session, username, destination, public_key) = match challenge {
            Some(c) => {
                let challenge_bytes = c.request_options.as_deref().and_then(challenge_of);
                *self.shape.lock().unwrap_or_else(|p| p.into_inner()) = Shape {
                    challenge: challenge_bytes.as_ref().map_or(Shape::default().challenge, Vec::len),
                    session: c.session.len(),
                    username_is_email: c.username.eq_ignore_ascii_case(email.as_str()),
                };
                let options = (kind == ChallengeKind::WebAuthn).then(|| self.options(challenge_bytes.unwrap_or_default()));
                (c.session, c.username, c.destination, options)
            }
            None => {
                let shape = *self.shape.lock().unwrap_or_else(|p| p.into_inner());
                let username = if shape.username_is_email { email.as_str().to_owned() } else { uuid::Uuid::new_v4().to_string() };
                let options = (kind == ChallengeKind::WebAuthn).then(|| self.options(random(shape.challenge)));
                let session = format!("{DECOY}{}", B64.encode(random(shape.session * 3 / 4)));
                (session, username, (kind == ChallengeKind::EmailOtp).then(|| masked(email.as_str())), options)
            }
        };
        let key = self.ports.secrets.bridge().await?;
        let state = ChallengeState { ctx, challenge: kind, username, session, method, email: Some(email.as_str().to_owned()), given: Default::default() };
        let flow = flow::seal_private(&key.flow_key, Purpose::Challenge, now + PASSWORDLESS_TTL, &state)?;
        Ok(Outcome::Challenge { kind, destination, options: Vec::new(), flow, setup: None, public_key })
    }

    /// Request options for `navigator.credentials.get`, the same for a real step and a decoy
    /// but for the challenge: the relying party, user verification required, no credentials
    /// named.
    fn options(&self, challenge: Vec<u8>) -> Value {
        json!({
            "challenge": B64.encode(challenge),
            "rpId": self.ports.relying_party,
            "allowCredentials": [],
            "userVerification": "required",
            "timeout": PASSWORDLESS_TTL * 1000,
        })
    }
}

/// The challenge in Cognito's request options.
fn challenge_of(options: &str) -> Option<Vec<u8>> {
    let options: Value = serde_json::from_str(options).ok()?;
    B64.decode(options.get("challenge")?.as_str()?).ok()
}

fn random(length: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; length.clamp(16, 256)];
    crate::common::random::fill(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventContext;
    use crate::risk::RiskPolicy;
    use crate::signin::SignIn;
    use crate::signin::challenge::ChallengeAnswer;
    use crate::signin::service::{Entry, SignInPorts};
    use crate::testing::{MemoryApps, MemoryRisk, MemorySessions, ScriptedAuth, demo_app, sign_in_ports};

    const NOW: u64 = 1_700_000_000;
    const EMAIL: &str = "hanako@example.com";

    fn here() -> EventContext {
        EventContext { ip: Some("192.0.2.1".into()), ..EventContext::default() }
    }

    /// An app that requires a second factor at high risk, and a person whose every sign-in is
    /// high risk (five failed attempts).
    fn guarded() -> SignIn {
        let risk = Arc::new(MemoryRisk::default());
        risk.profiles.lock().unwrap_or_else(|p| p.into_inner()).insert(MemoryRisk::by_email(EMAIL), Default::default());
        risk.failures.lock().unwrap_or_else(|p| p.into_inner()).insert(EMAIL.to_owned(), 5);
        let app = crate::tokens::app::App { risk_policy: RiskPolicy::RequireMfa, ..demo_app() };
        let ports = sign_in_ports(Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None)), Default::default());
        let sessions = Arc::new(MemorySessions { risk: risk.clone(), ..Default::default() });
        SignIn::new(SignInPorts { apps: Arc::new(MemoryApps::with([app])), risk, sessions, ..ports })
    }

    async fn start(svc: &SignIn, email: &str, factor: FirstFactor) -> Outcome {
        let ctx = svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        svc.passwordless.start(&ctx, email, factor, NOW).await.unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn a_passkey_is_a_second_factor_and_an_email_code_is_not() {
        let svc = guarded();
        let Outcome::Challenge { kind: ChallengeKind::WebAuthn, flow, public_key: Some(options), .. } = start(&svc, EMAIL, FirstFactor::Passkey).await else {
            panic!()
        };
        assert_eq!(options["allowCredentials"], json!([]), "no credential named");
        let answer = ChallengeAnswer::Credential(format!("passkey-of-{EMAIL}"));
        let signed_in = svc.password.answer(&flow, answer, &here(), NOW).await;
        assert!(matches!(signed_in, Ok(Outcome::Handoff(_))), "the require_mfa app lets a passkey through: {signed_in:?}");

        let Outcome::Challenge { kind: ChallengeKind::EmailOtp, flow, .. } = start(&svc, EMAIL, FirstFactor::EmailCode).await else { panic!() };
        let answered = svc.password.answer(&flow, ChallengeAnswer::Code("123456".to_owned().into()), &here(), NOW).await;
        assert!(
            matches!(answered, Err(SignInError::StrongerSignInRequired)),
            "an email code alone is one factor, and proves no more than the inbox: no factor is set up on it: {answered:?}"
        );
    }

    #[tokio::test]
    async fn an_unknown_email_gets_a_step_alike_that_no_answer_passes() {
        let svc = guarded();
        let known = start(&svc, EMAIL, FirstFactor::Passkey).await;
        let unknown = start(&svc, "nobody@example.com", FirstFactor::Passkey).await;
        let (Outcome::Challenge { public_key: Some(known), .. }, Outcome::Challenge { public_key: Some(unknown), flow, .. }) = (known, unknown) else {
            panic!()
        };
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        assert_eq!(keys(&known), keys(&unknown));
        assert_eq!(
            B64.decode(known["challenge"].as_str().unwrap_or_default()).map(|c| c.len()).ok(),
            B64.decode(unknown["challenge"].as_str().unwrap_or_default()).map(|c| c.len()).ok()
        );
        assert_eq!(known["rpId"], unknown["rpId"]);
        let answer = ChallengeAnswer::Credential("passkey-of-nobody@example.com".into());
        assert!(matches!(svc.password.answer(&flow, answer, &here(), NOW).await, Err(SignInError::Auth(AuthError::InvalidCredentials))));
        let Outcome::Challenge { destination, flow, .. } = start(&svc, "nobody@example.com", FirstFactor::EmailCode).await else { panic!() };
        assert_eq!(destination.as_deref(), Some("n***@e***"));
        let answer = ChallengeAnswer::Code("123456".to_owned().into());
        assert!(matches!(svc.password.answer(&flow, answer, &here(), NOW).await, Err(SignInError::Auth(AuthError::CodeMismatch))));
    }
}
