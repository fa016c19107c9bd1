//! The custom SMS sender: Cognito hands every one-time code to the bridge (encrypted), and the
//! bridge delivers it through the operator's telephony hook (`telephony::hook`), falling back
//! to a second hook when the first fails. Cognito does not fall back itself: a code the sender
//! does not deliver is not delivered.
//!
//! A number outside the operator's allow-list (`common::sms_destinations`) gets nothing: refused
//! before anything is claimed, opened or called.
//!
//! For one event: claim it until the invocation's deadline (a retried event sends nothing
//! twice) while opening the code and reading the hooks (all three at once), call the active
//! hook (one retry on a timeout, no answer or a 5xx; none on a 2xx or 4xx), on failure call its
//! fallback the same way, and log each hook's execution (its day's counters, `hook.executed`,
//! and `hook.response_processed` when it answered). Every call's timeout is the contract's 3 s or
//! what is left before the deadline (the Lambda's), whichever is less. A delivery's record keeps
//! the claim a day; if nothing was delivered the claim is given back, and if the invocation
//! stopped first (a timeout, a crash) the claim lapses: either way Lambda's retry of the event
//! (Cognito invokes custom senders asynchronously) delivers it. Logs never hold the code, a secret
//! or the whole phone number.
//!
//! Also here: what a valid hook is ([`Hook::validate`]) and its lifecycle events.

use base64::Engine;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::hashing::hex;
use crate::common::sms_destinations::SmsDestinations;
use crate::common::store::StoreError;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::telephony::hook::{Answer, Delivery, Execution, Hook, Recipient, RequestType, masked, read_answer};
use crate::telephony::ports::{CallFailure, CodeOpener, HookCaller, HookDirectory, HookLog, SendLedger};

/// Each call's limit (the contract's 3 s).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// A call is not started with less time than this left before the deadline.
const MIN_CALL: Duration = Duration::from_millis(250);
const DAY: u64 = 24 * 3600;
/// A claim lapses this long after the invocation's deadline (seconds): Lambda retries a failed
/// asynchronous invocation a minute later at the earliest, and the claim must be free by then.
const LEASE_MARGIN: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("not a custom SMS sender event: {0}")]
    NotOurs(&'static str),
    #[error("the code could not be opened: {0}")]
    Code(String),
    #[error("the number is outside the allowed SMS destinations")]
    Destination,
    #[error("no telephony hook is active")]
    NoActiveHook,
    #[error("no hook delivered the code: {0}")]
    Undelivered(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Delivered by this hook (the active one, or its fallback).
    Delivered { hook: String, fell_back: bool },
    /// Handled before (a Cognito retry).
    Duplicate,
}

pub struct SmsSender {
    pub hooks: Arc<dyn HookDirectory>,
    pub caller: Arc<dyn HookCaller>,
    pub ledger: Arc<dyn SendLedger>,
    pub log: Arc<dyn HookLog>,
    pub opener: Arc<dyn CodeOpener>,
    /// The numbers codes may go to.
    pub destinations: SmsDestinations,
}

/// One hook's attempt (with its retry): delivered, or why not.
struct Attempt {
    reason: String,
    millis: u64,
    calls: u32,
    /// The HTTP status of the last answer, if there was one.
    status: Option<u16>,
    /// The contract's answer, when the hook answered 2xx.
    answer: Option<Answer>,
}

impl Attempt {
    /// Only a 2xx answer saying SUCCESSFUL or PENDING is a delivery.
    fn delivered(&self) -> bool {
        matches!(self.answer, Some(Answer::Delivered { .. }))
    }
}

impl SmsSender {
    /// Delivers `event`'s code; every hook call ends before `deadline`.
    pub async fn send(&self, event: &Value, now: u64, deadline: Instant) -> Result<Sent, SendError> {
        let source = event["triggerSource"].as_str().unwrap_or_default();
        let kind = RequestType::from_trigger(source).ok_or(SendError::NotOurs("trigger source"))?;
        let encrypted = event["request"]["code"].as_str().ok_or(SendError::NotOurs("no code"))?;
        let message = base64::engine::general_purpose::STANDARD.decode(encrypted).map_err(|_| SendError::NotOurs("the code is not base64"))?;
        let attributes = &event["request"]["userAttributes"];
        let text = |k: &str| attributes[k].as_str().filter(|v| !v.is_empty()).map(str::to_owned);
        let phone = text("phone_number").ok_or(SendError::NotOurs("no phone number"))?;
        if !self.destinations.allows(&phone) {
            tracing::warn!(phone = %masked(&phone), "a code for a number outside SMS_ALLOWED_PREFIXES; nothing sent");
            return Err(SendError::Destination);
        }
        let username = event["userName"].as_str().unwrap_or_default();

        // The same encrypted code for the same person and step is the same event (Lambda's retry).
        // The claim, the code and the hooks are independent reads: one round trip, not three.
        let key = hex(&crate::common::hashing::hmac_sha256(b"sms-sender", &[username.as_bytes(), source.as_bytes(), &message]));
        let until = now + deadline.saturating_duration_since(Instant::now()).as_secs() + LEASE_MARGIN;
        let (claimed, code, hooks) = tokio::join!(self.ledger.claim(&key, now, until), self.opener.open(&message), self.hooks.active());
        if !claimed? {
            tracing::info!(phone = %masked(&phone), "a sender event handled before; nothing sent");
            return Ok(Sent::Duplicate);
        }
        let result = match (code, hooks) {
            (Err(e), _) => Err(SendError::Code(e)),
            (_, Err(e)) => Err(SendError::Store(e)),
            (_, Ok(None)) => Err(SendError::NoActiveHook),
            (Ok(code), Ok(Some(hooks))) => {
                let recipient = Recipient {
                    phone,
                    user_id: text("sub").unwrap_or_default(),
                    login: text("email"),
                    first_name: text("given_name"),
                    last_name: text("family_name"),
                    locale: text("locale"),
                };
                let delivery = Delivery { event_id: key[..32].to_owned(), kind, recipient, code, at: now };
                self.deliver(&delivery, hooks, deadline, &key).await
            }
        };
        if !matches!(result, Ok(Sent::Delivered { .. })) {
            // Nothing went out: let Lambda's retry of the event try again.
            if let Err(e) = self.ledger.release(&key).await {
                tracing::warn!(error = %e, "could not release a sender event's claim");
            }
        }
        result
    }

    /// The active hook, then its fallback, until one delivers (which settles the claim `key`).
    async fn deliver(&self, delivery: &Delivery, hooks: (Hook, Option<Hook>), deadline: Instant, key: &str) -> Result<Sent, SendError> {
        let (active, fallback) = hooks;
        let mut reasons = Vec::new();
        for (hook, fell_back) in std::iter::once((&active, false)).chain(fallback.iter().map(|f| (f, true))) {
            let attempt = self.attempt(hook, delivery, deadline).await;
            self.record(hook, delivery, &attempt, key).await;
            if attempt.delivered() {
                return Ok(Sent::Delivered { hook: hook.name.clone(), fell_back });
            }
            tracing::warn!(hook = %hook.name, phone = %masked(&delivery.recipient.phone), reason = %attempt.reason, "a telephony hook did not deliver");
            reasons.push(format!("{}: {}", hook.name, attempt.reason));
        }
        Err(SendError::Undelivered(reasons.join("; ")))
    }

    /// One hook: a call, and one more after a timeout, no answer or a 5xx.
    async fn attempt(&self, hook: &Hook, delivery: &Delivery, deadline: Instant) -> Attempt {
        let request = delivery.hook_request(&hook.url);
        let started = Instant::now();
        let mut attempt = Attempt { reason: String::new(), millis: 0, calls: 0, status: None, answer: None };
        for _ in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < MIN_CALL {
                attempt.reason = match attempt.reason.as_str() {
                    "" => "no time left for a call".to_owned(),
                    earlier => format!("{earlier}; no time left for another call"),
                };
                break;
            }
            attempt.calls += 1;
            let retry = match self.caller.call(hook, &request, CALL_TIMEOUT.min(left)).await {
                Ok((status @ 200..=299, body)) => {
                    let answer = read_answer(&body);
                    attempt.status = Some(status);
                    if let Answer::Failed(why) = &answer {
                        attempt.reason = format!("HTTP {status}, {why}");
                    }
                    attempt.answer = Some(answer);
                    false
                }
                Ok((status, _)) => {
                    attempt.status = Some(status);
                    attempt.reason = format!("HTTP {status}");
                    (500..=599).contains(&status)
                }
                Err(failure) => {
                    attempt.reason = failure.to_string();
                    matches!(failure, CallFailure::Timeout | CallFailure::Unreachable(_))
                }
            };
            if !retry {
                break;
            }
        }
        attempt.millis = started.elapsed().as_millis() as u64;
        attempt
    }

    /// The execution's counters and events (failures to record are logged only: they never
    /// stop a code going out).
    async fn record(&self, hook: &Hook, delivery: &Delivery, attempt: &Attempt, key: &str) {
        let now = delivery.at;
        let user = EventUser { sub: delivery.recipient.user_id.clone(), email: delivery.recipient.login.clone(), ..EventUser::default() };
        let outcome = if attempt.delivered() { "delivered" } else { "failed" };
        let event = |kind| {
            IdentityEvent::new(kind, user.clone(), EventContext::default(), now)
                .with_detail("hook", hook.name.clone())
                .with_detail("request_type", delivery.kind.name())
                .with_detail("outcome", outcome)
        };
        let mut events = vec![
            event(EventType::HookExecuted)
                .with_detail("reason", attempt.reason.clone())
                .with_detail("duration_ms", attempt.millis)
                .with_detail("calls", attempt.calls)
                .with_detail("http_status", attempt.status.map_or(Value::Null, Value::from)),
        ];
        if let Some(answer) = &attempt.answer {
            // A FAILED status, an `error` or an answer that is not the contract: all "FAILED".
            let (status, provider, transaction, reason) = match answer {
                Answer::Delivered { status, provider, transaction_id } => (status.as_str(), provider.clone(), transaction_id.clone(), None),
                Answer::Failed(why) => ("FAILED", None, None, Some(why.clone())),
            };
            let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
            events.push(
                event(EventType::HookResponseProcessed)
                    .with_detail("status", status)
                    .with_detail("provider", text(provider))
                    .with_detail("transaction_id", text(transaction))
                    .with_detail("reason", text(reason)),
            );
        }
        let delivered = attempt.delivered();
        let settles = delivered.then(|| key.to_owned());
        let execution = Execution { hook: hook.name.clone(), day: now / DAY, delivered, millis: attempt.millis, at: now, events, settles };
        if let Err(e) = self.log.executed(&execution).await {
            tracing::warn!(error = %e, "could not record a hook execution");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::hook::HookError;
    use crate::testing::MemoryEvents;
    use crate::workflows::connection::Auth;
    use async_trait::async_trait;
    use secrecy::SecretString;
    use serde_json::json;
    use std::collections::{HashMap, VecDeque};
    use std::sync::Mutex;

    type Reply = Result<(u16, Value), CallFailure>;

    /// Hooks answering from a script per hook name (then `SUCCESSFUL`), recording each call.
    #[derive(Default)]
    struct Fake {
        script: Mutex<HashMap<String, VecDeque<Reply>>>,
        calls: Mutex<Vec<(String, Value)>>,
        /// Each claim: until when it is leased, and whether a delivery settled it.
        claimed: Mutex<HashMap<String, (u64, bool)>>,
        /// The next call never answers (the function stops mid-delivery).
        hang_once: Mutex<bool>,
        counts: Mutex<Vec<(String, bool)>>,
        events: Arc<MemoryEvents>,
        fallback: bool,
    }

    fn ok() -> Value {
        json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "SUCCESSFUL", "provider": "demo"}]}]})
    }

    fn hook(name: &str, fallback: Option<&str>) -> Hook {
        Hook { name: name.into(), url: format!("https://{name}.example.com/hook"), auth: Auth::None, fallback: fallback.map(str::to_owned), version: 1 }
    }

    #[async_trait]
    impl HookDirectory for Fake {
        async fn active(&self) -> Result<Option<(Hook, Option<Hook>)>, StoreError> {
            Ok(Some((hook("primary", self.fallback.then_some("secondary")), self.fallback.then(|| hook("secondary", None)))))
        }
    }

    #[async_trait]
    impl HookCaller for Fake {
        async fn call(&self, hook: &Hook, request: &Value, _: Duration) -> Reply {
            self.calls.lock().unwrap_or_else(|p| p.into_inner()).push((hook.name.clone(), request.clone()));
            if std::mem::take(&mut *self.hang_once.lock().unwrap_or_else(|p| p.into_inner())) {
                std::future::pending::<()>().await;
            }
            let next = self.script.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&hook.name).and_then(VecDeque::pop_front);
            next.unwrap_or_else(|| Ok((200, ok())))
        }
    }

    #[async_trait]
    impl SendLedger for Fake {
        async fn claim(&self, key: &str, now: u64, until: u64) -> Result<bool, StoreError> {
            let mut claimed = self.claimed.lock().unwrap_or_else(|p| p.into_inner());
            if claimed.get(key).is_some_and(|&(leased_until, delivered)| delivered || leased_until >= now) {
                return Ok(false);
            }
            claimed.insert(key.to_owned(), (until, false));
            Ok(true)
        }
        async fn release(&self, key: &str) -> Result<(), StoreError> {
            self.claimed.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
            Ok(())
        }
    }

    #[async_trait]
    impl HookLog for Fake {
        async fn executed(&self, execution: &Execution) -> Result<(), StoreError> {
            self.counts.lock().unwrap_or_else(|p| p.into_inner()).push((execution.hook.clone(), execution.delivered));
            if let Some(key) = &execution.settles {
                self.claimed.lock().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().1 = true;
            }
            for event in &execution.events {
                crate::events::EventLog::record(self.events.as_ref(), event).await?;
            }
            Ok(())
        }
    }

    #[async_trait]
    impl CodeOpener for Fake {
        async fn open(&self, message: &[u8]) -> Result<SecretString, String> {
            String::from_utf8(message.to_vec()).map(SecretString::from).map_err(|e| e.to_string())
        }
    }

    fn sender(fake: Arc<Fake>) -> (SmsSender, Arc<MemoryEvents>) {
        let events = fake.events.clone();
        let destinations = "+81".parse().unwrap_or_else(|e| panic!("{e}"));
        let s = SmsSender { hooks: fake.clone(), caller: fake.clone(), ledger: fake.clone(), log: fake.clone(), opener: fake, destinations };
        (s, events)
    }

    /// A sender event whose "encrypted" code is the code itself (the opener here is plain).
    fn event(source: &str, code: &str) -> Value {
        json!({"triggerSource": source, "userPoolId": "ap-northeast-1_x", "userName": "u-1",
               "request": {"type": "customSMSSenderRequestV1", "code": base64::engine::general_purpose::STANDARD.encode(code),
                           "userAttributes": {"sub": "s-1", "phone_number": "+819012345678", "locale": "ja"}}})
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn script(fake: &Fake, hook: &str, answers: Vec<Reply>) {
        fake.script.lock().unwrap_or_else(|p| p.into_inner()).insert(hook.into(), answers.into());
    }

    fn called(fake: &Fake) -> Vec<String> {
        fake.calls.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|c| c.0.clone()).collect()
    }

    #[tokio::test]
    async fn delivers_once_per_event_through_the_active_hook() {
        let fake = Arc::new(Fake::default());
        let (s, events) = sender(fake.clone());
        let e = event("CustomSMSSender_Authentication", "482913");
        assert_eq!(s.send(&e, 100, later()).await.ok(), Some(Sent::Delivered { hook: "primary".into(), fell_back: false }));
        assert_eq!(s.send(&e, 101, later()).await.ok(), Some(Sent::Duplicate), "Lambda's retry sends nothing twice");
        let calls = fake.calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].1["data"]["messageProfile"]["otpCode"], "482913");
        assert_eq!(calls[0].1["requestType"], "com.okta.user.telephony.mfa-verification");
        assert_eq!(events.kinds(), [EventType::HookExecuted, EventType::HookResponseProcessed]);
        let logged = format!("{:?}", events.0.lock().unwrap_or_else(|p| p.into_inner()));
        assert!(!logged.contains("482913") && !logged.contains("12345678"), "events hold neither the code nor the number");
    }

    #[tokio::test]
    async fn a_number_outside_the_allowed_prefixes_gets_nothing() {
        let fake = Arc::new(Fake::default());
        let (s, events) = sender(fake.clone());
        let mut e = event("CustomSMSSender_Authentication", "482913");
        e["request"]["userAttributes"]["phone_number"] = json!("+88212345678");
        assert!(matches!(s.send(&e, 100, later()).await, Err(SendError::Destination)));
        assert!(called(&fake).is_empty() && events.kinds().is_empty(), "no hook called");
    }

    #[tokio::test]
    async fn failed_timeouts_and_errors_fall_back_and_4xx_is_not_retried() {
        let failed = json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "FAILED"}]}]});
        for (answers, calls) in [
            (vec![Ok((200, failed.clone()))], vec!["primary", "secondary"]),
            (vec![Err(CallFailure::Timeout), Err(CallFailure::Timeout)], vec!["primary", "primary", "secondary"]),
            (vec![Ok((503, json!({}))), Ok((200, ok()))], vec!["primary", "primary"]),
            (vec![Ok((400, json!({"error": {"errorSummary": "bad number"}})))], vec!["primary", "secondary"]),
            (vec![Ok((302, json!("")))], vec!["primary", "secondary"]),
            (vec![Ok((200, json!("<html>not the contract</html>")))], vec!["primary", "secondary"]),
        ] {
            let fake = Arc::new(Fake { fallback: true, ..Fake::default() });
            script(&fake, "primary", answers.clone());
            let (s, _) = sender(fake.clone());
            let sent = s.send(&event("CustomSMSSender_ForgotPassword", "000111"), 1, later()).await;
            assert!(matches!(sent, Ok(Sent::Delivered { .. })), "{answers:?}: {sent:?}");
            assert_eq!(called(&fake), calls, "{answers:?}");
        }
    }

    #[tokio::test]
    async fn nothing_delivered_gives_the_claim_back_for_cognitos_retry() {
        let fake = Arc::new(Fake::default());
        script(&fake, "primary", vec![Err(CallFailure::Unreachable("refused".into())), Err(CallFailure::Unreachable("refused".into()))]);
        let (s, _) = sender(fake.clone());
        let e = event("CustomSMSSender_SignUp", "123456");
        assert!(matches!(s.send(&e, 1, later()).await, Err(SendError::Undelivered(_))));
        assert!(matches!(s.send(&e, 2, later()).await, Ok(Sent::Delivered { .. })), "the retry tries again");
        assert_eq!(*fake.counts.lock().unwrap_or_else(|p| p.into_inner()), [("primary".to_owned(), false), ("primary".to_owned(), true)]);
        assert!(matches!(s.send(&event("CustomEmailSender_SignUp", "1"), 3, later()).await, Err(SendError::NotOurs(_))));
    }

    #[tokio::test]
    async fn a_claim_whose_invocation_stopped_lapses_at_its_deadline() {
        let fake = Arc::new(Fake { hang_once: Mutex::new(true), ..Fake::default() });
        let (s, _) = sender(fake.clone());
        let e = event("CustomSMSSender_Authentication", "482913");
        // The function stops mid-call (Lambda's timeout): the claim is neither settled nor released.
        let ten_seconds = Instant::now() + Duration::from_secs(10);
        assert!(tokio::time::timeout(Duration::from_millis(50), s.send(&e, 100, ten_seconds)).await.is_err());
        assert_eq!(s.send(&e, 105, later()).await.ok(), Some(Sent::Duplicate), "a duplicate while it may still run sends nothing");
        assert_eq!(s.send(&e, 170, later()).await.ok(), Some(Sent::Delivered { hook: "primary".into(), fell_back: false }), "Lambda's retry");
        assert_eq!(s.send(&e, 400, later()).await.ok(), Some(Sent::Duplicate), "a delivered event is kept a day");
        assert_eq!(called(&fake).len(), 2);
    }

    #[tokio::test]
    async fn calls_end_before_the_deadline() {
        let fake = Arc::new(Fake { fallback: true, ..Fake::default() });
        let (s, events) = sender(fake.clone());
        let soon = Instant::now() + Duration::from_millis(100);
        assert!(matches!(s.send(&event("CustomSMSSender_SignUp", "123456"), 1, soon).await, Err(SendError::Undelivered(_))));
        assert!(called(&fake).is_empty(), "no call is started without time for it");
        let executed = &events.0.lock().unwrap_or_else(|p| p.into_inner())[0];
        assert_eq!(executed.detail["calls"], 0);
        assert_eq!(executed.detail["reason"], "no time left for a call");
    }

    #[tokio::test]
    async fn the_answer_is_recorded_as_processed() {
        let fake = Arc::new(Fake::default());
        let answer =
            json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "PENDING", "provider": "twilio", "transactionId": "SM1"}]}]});
        script(&fake, "primary", vec![Ok((200, answer))]);
        let (s, events) = sender(fake.clone());
        s.send(&event("CustomSMSSender_Authentication", "123456"), 1, later()).await.unwrap_or_else(|e| panic!("{e}"));
        let recorded = events.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(recorded[0].detail["http_status"], 200);
        assert_eq!(recorded[0].detail["calls"], 1);
        let processed = &recorded[1];
        assert_eq!(
            (processed.kind, &processed.detail["status"], &processed.detail["provider"]),
            (EventType::HookResponseProcessed, &json!("PENDING"), &json!("twilio"))
        );
        assert_eq!(processed.detail["transaction_id"], "SM1");
    }

    #[test]
    fn hooks_are_https_with_header_or_oauth_authentication() {
        let secret = crate::common::secrets::SecretRef("arn:aws:secretsmanager:ap-northeast-1:1:secret:x".into());
        let valid = Hook { auth: Auth::Header { name: "X-Api-Key".into(), secret: secret.clone() }, ..hook("sms-jp", Some("sms-backup")) };
        assert_eq!(valid.validate(), Ok(()));
        let local = Hook { url: "http://127.0.0.1:9000/hook".into(), ..valid.clone() };
        assert_eq!(local.validate(), Ok(()), "http on loopback");
        for (bad, error) in [
            (Hook { url: "http://sms.example.com/hook".into(), ..valid.clone() }, HookError::Url),
            (Hook { url: "https://user:pw@sms.example.com/hook".into(), ..valid.clone() }, HookError::Url),
            (Hook { url: "https://sms.example.com/hook?x=1".into(), ..valid.clone() }, HookError::Url),
            (Hook { auth: Auth::None, ..valid.clone() }, HookError::Auth),
            (Hook { auth: Auth::Bearer { secret: secret.clone() }, ..valid.clone() }, HookError::Auth),
            (Hook { auth: Auth::Header { name: "X-Key\r\nEvil".into(), secret: secret.clone() }, ..valid.clone() }, HookError::Auth),
            (Hook { name: "SMS JP".into(), ..valid.clone() }, HookError::Name),
            (Hook { name: "-x".into(), ..valid.clone() }, HookError::Name),
            (Hook { fallback: Some("sms-jp".into()), ..valid.clone() }, HookError::OwnFallback),
        ] {
            assert_eq!(bad.validate(), Err(error), "{bad:?}");
        }
        let oauth = Hook { auth: Auth::Oauth2 { token_url: "http://idp.example.com/token".into(), client_id: "c".into(), secret, scope: None }, ..valid };
        assert_eq!(oauth.validate(), Err(HookError::Url), "the token URL is https too");
    }
}
