//! The custom SMS sender: Cognito hands every one-time code to the bridge (encrypted), and the
//! bridge delivers it through the operator's telephony hook (`domain::telephony`), falling back
//! to a second hook when the first fails. Cognito does not fall back itself: a code the sender
//! does not deliver is not delivered.
//!
//! For one event: claim it (a retried event sends nothing twice), open the code, call the active
//! hook (one retry on a timeout, no answer or a 5xx; none on a 2xx or 4xx), on failure call its
//! fallback the same way, count each hook's execution per day, and record `hook.executed`. If
//! nothing was delivered the claim is given back, so Cognito's retry tries again. Logs never
//! hold the code, a secret or the whole phone number.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::events::{EventContext, EventType, EventUser, IdentityEvent};
use super::telephony::{Answer, Delivery, Recipient, RequestType, masked, read_answer};
use super::workflow::connection::Auth;
use crate::domain::hashing::hex;
use crate::ports::{CallFailure, CodeOpener, EventLog, HookCaller, HookDirectory, HookMetrics, SendLedger, StoreError};

/// Each call's limit (the contract's 3 s).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const DAY: u64 = 24 * 3600;

/// A configured telephony hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    pub name: String,
    /// https (http only on loopback).
    pub url: String,
    /// `header` (a header name and a secret value) or `oauth2` client credentials.
    pub auth: Auth,
    /// The hook to call when this one fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("not a custom SMS sender event: {0}")]
    NotOurs(&'static str),
    #[error("the code could not be opened: {0}")]
    Code(String),
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
    pub metrics: Arc<dyn HookMetrics>,
    pub opener: Arc<dyn CodeOpener>,
    pub events: Arc<dyn EventLog>,
}

/// One hook's attempt (with its retry): delivered, or why not.
struct Attempt {
    delivered: bool,
    reason: String,
    millis: u64,
}

impl SmsSender {
    pub async fn send(&self, event: &Value, now: u64) -> Result<Sent, SendError> {
        let source = event["triggerSource"].as_str().unwrap_or_default();
        let kind = RequestType::from_trigger(source).ok_or(SendError::NotOurs("trigger source"))?;
        let encrypted = event["request"]["code"].as_str().ok_or(SendError::NotOurs("no code"))?;
        let message = base64::engine::general_purpose::STANDARD.decode(encrypted).map_err(|_| SendError::NotOurs("the code is not base64"))?;
        let attributes = &event["request"]["userAttributes"];
        let text = |k: &str| attributes[k].as_str().filter(|v| !v.is_empty()).map(str::to_owned);
        let phone = text("phone_number").ok_or(SendError::NotOurs("no phone number"))?;
        let username = event["userName"].as_str().unwrap_or_default();

        // The same encrypted code for the same person and step is the same event (Cognito's retry).
        let key = hex(&crate::domain::hashing::hmac_sha256(b"sms-sender", &[username.as_bytes(), source.as_bytes(), &message]));
        if !self.ledger.claim(&key, now).await? {
            tracing::info!(phone = %masked(&phone), "a sender event handled before; nothing sent");
            return Ok(Sent::Duplicate);
        }
        let result = self.deliver(kind, &key, &message, &phone, &text, now).await;
        if !matches!(result, Ok(Sent::Delivered { .. })) {
            // Nothing went out: let Cognito's retry try again.
            if let Err(e) = self.ledger.release(&key).await {
                tracing::warn!(error = %e, "could not release a sender event's claim");
            }
        }
        result
    }

    async fn deliver(
        &self,
        kind: RequestType,
        key: &str,
        message: &[u8],
        phone: &str,
        text: &dyn Fn(&str) -> Option<String>,
        now: u64,
    ) -> Result<Sent, SendError> {
        let code = self.opener.open(message).await.map_err(SendError::Code)?;
        let (active, fallback) = self.hooks.active().await?.ok_or(SendError::NoActiveHook)?;
        let recipient = Recipient {
            phone: phone.to_owned(),
            user_id: text("sub").unwrap_or_default(),
            login: text("email"),
            first_name: text("given_name"),
            last_name: text("family_name"),
            locale: text("locale"),
        };
        let delivery = Delivery { event_id: key[..32].to_owned(), kind, recipient, code, at: now };
        let mut reasons = Vec::new();
        for (hook, fell_back) in std::iter::once((&active, false)).chain(fallback.iter().map(|f| (f, true))) {
            let attempt = self.attempt(hook, &delivery).await;
            self.record(hook, &delivery, &attempt, now).await;
            if attempt.delivered {
                return Ok(Sent::Delivered { hook: hook.name.clone(), fell_back });
            }
            tracing::warn!(hook = %hook.name, phone = %masked(phone), reason = %attempt.reason, "a telephony hook did not deliver");
            reasons.push(format!("{}: {}", hook.name, attempt.reason));
        }
        Err(SendError::Undelivered(reasons.join("; ")))
    }

    /// One hook: a call, and one more after a timeout, no answer or a 5xx.
    async fn attempt(&self, hook: &Hook, delivery: &Delivery) -> Attempt {
        let request = delivery.hook_request(&hook.url);
        let started = Instant::now();
        let mut reason = String::new();
        for _ in 0..2 {
            let retry = match self.caller.call(hook, &request, CALL_TIMEOUT).await {
                Ok((status @ 200..=299, body)) => {
                    let millis = started.elapsed().as_millis() as u64;
                    return match read_answer(&body) {
                        Answer::Delivered { .. } => Attempt { delivered: true, reason: String::new(), millis },
                        Answer::Failed(why) => Attempt { delivered: false, reason: format!("HTTP {status}, {why}"), millis },
                    };
                }
                Ok((status @ 500..=599, _)) => {
                    reason = format!("HTTP {status}");
                    true
                }
                Ok((status, _)) => {
                    reason = format!("HTTP {status}");
                    false
                }
                Err(failure @ (CallFailure::Timeout | CallFailure::Unreachable(_))) => {
                    reason = failure.to_string();
                    true
                }
                Err(failure) => {
                    reason = failure.to_string();
                    false
                }
            };
            if !retry {
                break;
            }
        }
        Attempt { delivered: false, reason, millis: started.elapsed().as_millis() as u64 }
    }

    /// The day's counters and the `hook.executed` event (failures to record are logged only:
    /// they never stop a code going out).
    async fn record(&self, hook: &Hook, delivery: &Delivery, attempt: &Attempt, now: u64) {
        if let Err(e) = self.metrics.count(&hook.name, now / DAY, attempt.delivered, attempt.millis).await {
            tracing::warn!(error = %e, "could not count a hook execution");
        }
        let user = EventUser { sub: delivery.recipient.user_id.clone(), email: delivery.recipient.login.clone(), ..EventUser::default() };
        let event = IdentityEvent::new(EventType::HookExecuted, user, EventContext::default(), now)
            .with_detail("hook", hook.name.clone())
            .with_detail("request_type", delivery.kind.name())
            .with_detail("outcome", if attempt.delivered { "delivered" } else { "failed" })
            .with_detail("reason", attempt.reason.clone())
            .with_detail("duration_ms", attempt.millis);
        if let Err(e) = self.events.record(&event).await {
            tracing::warn!(error = %e, "could not record a hook execution");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryEvents;
    use async_trait::async_trait;
    use secrecy::SecretString;
    use serde_json::json;
    use std::collections::{HashMap, HashSet, VecDeque};
    use std::sync::Mutex;

    type Reply = Result<(u16, Value), CallFailure>;

    /// Hooks answering from a script per hook name (then `SUCCESSFUL`), recording each call.
    #[derive(Default)]
    struct Fake {
        script: Mutex<HashMap<String, VecDeque<Reply>>>,
        calls: Mutex<Vec<(String, Value)>>,
        claimed: Mutex<HashSet<String>>,
        counts: Mutex<Vec<(String, bool)>>,
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
            let next = self.script.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&hook.name).and_then(VecDeque::pop_front);
            next.unwrap_or_else(|| Ok((200, ok())))
        }
    }

    #[async_trait]
    impl SendLedger for Fake {
        async fn claim(&self, key: &str, _: u64) -> Result<bool, StoreError> {
            Ok(self.claimed.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned()))
        }
        async fn release(&self, key: &str) -> Result<(), StoreError> {
            self.claimed.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
            Ok(())
        }
    }

    #[async_trait]
    impl HookMetrics for Fake {
        async fn count(&self, hook: &str, _: u64, succeeded: bool, _: u64) -> Result<(), StoreError> {
            self.counts.lock().unwrap_or_else(|p| p.into_inner()).push((hook.to_owned(), succeeded));
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
        let events = Arc::new(MemoryEvents::default());
        let s = SmsSender { hooks: fake.clone(), caller: fake.clone(), ledger: fake.clone(), metrics: fake.clone(), opener: fake, events: events.clone() };
        (s, events)
    }

    /// A sender event whose "encrypted" code is the code itself (the opener here is plain).
    fn event(source: &str, code: &str) -> Value {
        json!({"triggerSource": source, "userPoolId": "ap-northeast-1_x", "userName": "u-1",
               "request": {"type": "customSMSSenderRequestV1", "code": base64::engine::general_purpose::STANDARD.encode(code),
                           "userAttributes": {"sub": "s-1", "phone_number": "+819012345678", "locale": "ja"}}})
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
        assert_eq!(s.send(&e, 100).await.ok(), Some(Sent::Delivered { hook: "primary".into(), fell_back: false }));
        assert_eq!(s.send(&e, 101).await.ok(), Some(Sent::Duplicate), "Cognito's retry sends nothing twice");
        let calls = fake.calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].1["data"]["messageProfile"]["otpCode"], "482913");
        assert_eq!(calls[0].1["requestType"], "com.okta.user.telephony.mfa-verification");
        assert_eq!(events.kinds(), [EventType::HookExecuted]);
        let logged = format!("{:?}", events.0.lock().unwrap_or_else(|p| p.into_inner()));
        assert!(!logged.contains("482913") && !logged.contains("12345678"), "events hold neither the code nor the number");
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
            let sent = s.send(&event("CustomSMSSender_ForgotPassword", "000111"), 1).await;
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
        assert!(matches!(s.send(&e, 1).await, Err(SendError::Undelivered(_))));
        assert!(matches!(s.send(&e, 2).await, Ok(Sent::Delivered { .. })), "the retry tries again");
        assert_eq!(*fake.counts.lock().unwrap_or_else(|p| p.into_inner()), [("primary".to_owned(), false), ("primary".to_owned(), true)]);
        assert!(matches!(s.send(&event("CustomEmailSender_SignUp", "1"), 3).await, Err(SendError::NotOurs(_))));
    }
}
