//! Sign-in without a password ([`Passwordless`]): a code sent to the person's email, or a
//! passkey, through Cognito's choice-based sign-in (`USER_AUTH` with `PREFERRED_CHALLENGE`).
//! The answer goes through the same challenge step as a password sign-in's MFA code
//! (`PasswordSignIn::answer`), and the sign-in ends the same way: risk, consent, the app's token
//! and a session. A passkey counts as a second factor (`Method::Passkey`).
//!
//! Unknown emails read as known ones. Cognito offers a passkey only to someone who has one, and
//! an email code only to someone without MFA; when the factor asked for is not available (or the
//! email is unknown), the bridge answers with a step alike that no answer passes: for a code, the
//! same masked destination and no email; for a passkey, request options of the same shape, with
//! a fresh challenge. Passkey options never name the person's credentials (`allowCredentials`
//! is emptied: passkeys are discoverable, the browser offers those it holds for the relying
//! party), so they say nothing of who has one. Timing is not equalised.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};

use crate::common::email::Email;
use crate::events::EventContext;
use crate::signin::challenge::{AuthError, AuthStep, ChallengeKind};
use crate::signin::confirmation::masked;
use crate::signin::flow::{self, ChallengeState, Purpose};
use crate::signin::service::{CHALLENGE_TTL, Outcome, SignInError, SignInPorts};
use crate::signin::session::Method;

/// What the person chose instead of a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstFactor {
    EmailCode,
    Passkey,
}

pub struct Passwordless {
    ports: Arc<SignInPorts>,
    /// The shape of the last passkey request options Cognito gave (challenge emptied): a step
    /// for someone without a passkey is made alike.
    shape: Mutex<Option<Map<String, Value>>>,
}

impl Passwordless {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports, shape: Mutex::new(None) }
    }

    /// Starts a sign-in of `email` with `factor` for the app `ctx` names: the code step
    /// (`email_otp`, the code sent) or the passkey step (`web_authn`, with `public_key`, the
    /// request options for `navigator.credentials.get`).
    pub async fn start(&self, ctx: &str, email: &str, factor: FirstFactor, visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        let _ = visitor;
        let ctx = self.ports.open_context(ctx, now).await?;
        let email = Email::parse(email).map_err(|_| SignInError::BadInput("email"))?;
        let (kind, method) = match factor {
            FirstFactor::EmailCode => (ChallengeKind::EmailOtp, Method::EmailCode),
            FirstFactor::Passkey => (ChallengeKind::WebAuthn, Method::Passkey),
        };
        let (app, step) = tokio::join!(self.ports.app_ready_to_mint(ctx.app.as_str(), now), self.ports.auth.start_passwordless(email.as_str(), kind));
        app?;
        let challenge = match step {
            Ok(AuthStep::Challenge(c)) if c.kind == kind => Some(c),
            // Not available for this person, or no such person: a step alike (below).
            Ok(_) | Err(AuthError::InvalidCredentials) => None,
            Err(e) => return Err(e.into()),
        };
        let (session, username, destination, public_key) = match challenge {
            Some(c) => {
                let options = c.request_options.as_deref().map(|raw| self.options(raw)).transpose()?;
                (c.session, c.username, c.destination, options)
            }
            None => {
                let options = (kind == ChallengeKind::WebAuthn).then(|| self.decoy_options());
                (String::new(), email.as_str().to_owned(), (kind == ChallengeKind::EmailOtp).then(|| masked(email.as_str())), options)
            }
        };
        let key = self.ports.secrets.bridge().await?;
        let state = ChallengeState { ctx, challenge: kind, username, session, method, given: Default::default() };
        let flow = flow::seal(&key.flow_key, Purpose::Challenge, now + CHALLENGE_TTL, &state);
        Ok(Outcome::Challenge { kind, destination, options: Vec::new(), flow, setup: None, public_key })
    }

    /// Cognito's request options with `allowCredentials` emptied; their shape remembered.
    fn options(&self, raw: &str) -> Result<Value, SignInError> {
        let mut options: Map<String, Value> =
            serde_json::from_str(raw).map_err(|_| AuthError::Unavailable("passkey request options that are not JSON".into()))?;
        options.insert("allowCredentials".into(), json!([]));
        let mut shape = options.clone();
        let length = shape.get("challenge").and_then(Value::as_str).and_then(|c| B64.decode(c).ok()).map_or(32, |c| c.len());
        shape.insert("challenge".into(), json!(length));
        *self.shape.lock().unwrap_or_else(|p| p.into_inner()) = Some(shape);
        Ok(Value::Object(options))
    }

    /// Request options alike Cognito's (the last ones seen), with a fresh random challenge.
    fn decoy_options(&self) -> Value {
        let shape = self.shape.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut options = shape.unwrap_or_else(|| {
            let default =
                json!({"challenge": 32, "timeout": 300_000, "rpId": self.ports.relying_party, "allowCredentials": [], "userVerification": "preferred"});
            default.as_object().cloned().unwrap_or_default()
        });
        let length = options.get("challenge").and_then(Value::as_u64).unwrap_or(32) as usize;
        let mut challenge = vec![0u8; length.min(256)];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut challenge);
        options.insert("challenge".into(), json!(B64.encode(challenge)));
        Value::Object(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        svc.passwordless.start(&ctx, email, factor, &here(), NOW).await.unwrap_or_else(|e| panic!("{e}"))
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
            matches!(answered, Ok(Outcome::Challenge { kind: ChallengeKind::VerifyEmail, .. })),
            "an email code alone is one factor: the app asks for a second: {answered:?}"
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
