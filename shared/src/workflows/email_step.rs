//! The email connector: one plain-text message to the event's person, at their verified
//! address, in their language, from the deployment's sender. It is the channel for security
//! notices (a password changed, an email address changed, a second factor removed, an unusual
//! sign-in), as Okta's end-user notifications and Keycloak's email event listener send them; it
//! is not a bulk or marketing channel.
//!
//! ```json
//! { "id": "notice", "connector": "email",
//!   "subject": { "en": "Your password was changed", "ja": "パスワードが変更されました" },
//!   "text": { "en": "Hello {{user.given_name}}, ...", "ja": "..." } }
//! ```
//!
//! - **Recipient.** The event's `user.email`, and only when the event says it is verified
//!   (`user.email_verified: true`: a session's events, `user.registered`). A flow cannot name
//!   another one, so no flow mails an address only typed (a failed sign-in's); events without a
//!   verified address (failed sign-ins, SCIM changes, `user.inactive`, `admin.*`) fail uncalled.
//! - **Language.** `subject` and `text` are each one text, or texts by language (`en`, `ja`). The
//!   person's `user.locale` picks one (`Language::of`: Japanese for `ja*`, English otherwise); a
//!   language not given falls back to English, then to the one given.
//! - **Text only.** The body is sent as plain text, so a name or a value from the event is never
//!   markup. Control characters in the subject (a line break in a name) become spaces.
//! - Limits (checked when the flow is imported, per language): a subject of 1 to
//!   `MAX_SUBJECT` (200) characters and a text of 1 to `MAX_TEXT` (10,000); a rendered subject is cut at
//!   200.
//!
//! Sending is the [`Mailer`] port (`adapters::ses`: Amazon SES v2 `SendEmail`). The sender
//! (`From`) is the deployment's (`EMAIL_FROM`), never a flow's. What the step says and whom it
//! reaches are `workflows::email_message`'s.

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

use super::email_message::Texts;
use super::flow::Action;
use super::runner::StepOutcome;
use crate::common::email::Email;

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again (throttled, an outage, no answer).
    #[error("the mail service is busy or unreachable: {0}")]
    Busy(String),
    /// Final (the sender is not verified, the address is refused, sending is paused).
    #[error("the mail service refused the message: {0}")]
    Refused(String),
}

/// Sends one plain-text message from the deployment's sender.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `text` under `subject` to `to`; the service's message id.
    async fn send(&self, to: &Email, subject: &str, text: &str) -> Result<String, MailError>;
}

/// The email connector over a [`Mailer`].
pub struct EmailStep {
    pub mailer: Arc<dyn Mailer>,
}

impl EmailStep {
    /// Sends an addressed step ([`Action::address`]); `{"message_id"}` when sent.
    pub async fn call(&self, action: &Action) -> StepOutcome {
        let Action::Email { subject: Texts::One(subject), text: Texts::One(text), to: Some(to) } = action else {
            return StepOutcome::Failed("not an addressed email step".into());
        };
        match self.mailer.send(to, subject, text).await {
            Ok(id) => StepOutcome::Done(json!({ "message_id": id })),
            Err(e @ MailError::Busy(_)) => StepOutcome::Retry(e.to_string()),
            Err(e @ MailError::Refused(_)) => StepOutcome::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::language::Language;
    use serde_json::Value;
    use std::sync::Mutex;

    fn step(v: Value) -> Action {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn notice() -> Action {
        step(
            json!({"connector": "email", "subject": {"en": "Password changed", "ja": "パスワード変更"}, "text": {"en": "Hi {{user.given_name}}", "ja": "こんにちは"}}),
        )
    }

    fn person(locale: Option<&str>, verified: Value) -> Value {
        json!({"user": {"email": "Hanako@Example.com", "email_verified": verified, "locale": locale, "given_name": "Hanako"}})
    }

    #[test]
    fn the_person_gets_their_language_at_their_verified_address_only() {
        let mut ja = notice();
        ja.address(&person(Some("ja-JP"), json!(true))).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&ja, Action::Email { to: Some(to), subject: Texts::One(s), .. } if to.as_str() == "hanako@example.com" && s == "パスワード変更"),
            "{ja:?}"
        );
        let mut other = notice();
        other.address(&person(Some("fr"), json!(true))).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&other, Action::Email { subject: Texts::One(s), .. } if s == "Password changed"), "English for another language");
        let only_ja = step(json!({"connector": "email", "subject": {"ja": "件名"}, "text": "本文"}));
        assert_eq!(
            match &only_ja {
                Action::Email { subject, .. } => subject.pick(Language::En),
                _ => "",
            },
            "件名",
            "the one given"
        );
        let mut unproven = notice();
        assert!(unproven.address(&person(None, json!(false))).is_err(), "an unverified address (email_message has the rest)");
        let mut emptied = step(json!({"connector": "email", "subject": "\n\t ", "text": "t"}));
        assert!(emptied.address(&person(None, json!(true))).is_err(), "a subject rendered empty is not sent");
    }

    #[test]
    fn a_flow_names_no_recipient_and_only_known_languages() {
        for bad in [
            json!({"connector": "email", "subject": "s", "text": "t", "to": "someone@example.com"}),
            json!({"connector": "email", "subject": {"fr": "s"}, "text": "t"}),
            json!({"connector": "email", "subject": {"en": 1}, "text": "t"}),
            json!({"connector": "email", "subject": ["s"], "text": "t"}),
        ] {
            assert!(serde_json::from_value::<Action>(bad.clone()).is_err(), "{bad}");
        }
        let a = notice();
        assert_eq!(serde_json::from_value::<Action>(serde_json::to_value(&a).unwrap_or_default()).ok(), Some(a), "exports as it imports");
    }

    #[derive(Default)]
    struct Outbox(Mutex<Vec<(String, String, String)>>, Mutex<Option<MailError>>);

    #[async_trait]
    impl Mailer for Outbox {
        async fn send(&self, to: &Email, subject: &str, text: &str) -> Result<String, MailError> {
            if let Some(e) = self.1.lock().map(|mut e| e.take()).unwrap_or_default() {
                return Err(e);
            }
            self.0.lock().map(|mut o| o.push((to.as_str().into(), subject.into(), text.into()))).ok();
            Ok("m-1".into())
        }
    }

    #[tokio::test]
    async fn busy_is_retried_refused_is_final_and_an_unaddressed_step_is_not_sent() {
        let outbox = Arc::new(Outbox::default());
        let connector = EmailStep { mailer: outbox.clone() };
        assert!(matches!(connector.call(&notice()).await, StepOutcome::Failed(_)), "not addressed");
        let mut a = notice();
        a.address(&person(None, json!(true))).unwrap_or_else(|e| panic!("{e}"));
        for (error, retried) in [(MailError::Busy("throttled".into()), true), (MailError::Refused("MessageRejected".into()), false)] {
            *outbox.1.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
            let outcome = connector.call(&a).await;
            assert_eq!(matches!(outcome, StepOutcome::Retry(_)), retried, "{outcome:?}");
        }
        assert_eq!(connector.call(&a).await, StepOutcome::Done(json!({"message_id": "m-1"})));
        assert_eq!(
            outbox.0.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            [("hanako@example.com".into(), "Password changed".into(), "Hi {{user.given_name}}".into())]
        );
    }
}
