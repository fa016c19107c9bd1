//! The telephony hook contract: what the custom SMS sender sends to the operator's web service
//! and how it reads the answer, in the JSON of Okta's telephony inline hook
//! (`specs/telephony-hook.md`), so a service written for Okta works unchanged. Also the
//! localised message and how a Cognito trigger source maps to the hook's request type.
//!
//! This module builds and reads documents only; calling hooks (timeouts, the retry, the
//! fallback) is the sender's.

use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::workflows::connection::Auth;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::time::rfc3339;

/// The hook's request types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// Sign-up, a changed or verified phone number, an account an administrator created.
    PreEnrollment,
    /// A sign-in's second factor.
    MfaVerification,
    PasswordReset,
}

impl RequestType {
    /// The request type for a custom SMS sender trigger source; `None` for one we do not know.
    pub fn from_trigger(source: &str) -> Option<Self> {
        Some(match source.strip_prefix("CustomSMSSender_")? {
            "SignUp" | "ResendCode" | "VerifyUserAttribute" | "UpdateUserAttribute" | "AdminCreateUser" => Self::PreEnrollment,
            "Authentication" => Self::MfaVerification,
            "ForgotPassword" => Self::PasswordReset,
            _ => return None,
        })
    }

    /// From the short name (`pre-enrollment`, `mfa-verification`, `password-reset`) or the full
    /// one ([`Self::name`]).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::PreEnrollment, Self::MfaVerification, Self::PasswordReset]
            .into_iter()
            .find(|kind| kind.name() == name || kind.name().strip_prefix("com.okta.user.telephony.") == Some(name))
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::PreEnrollment => "com.okta.user.telephony.pre-enrollment",
            Self::MfaVerification => "com.okta.user.telephony.mfa-verification",
            Self::PasswordReset => "com.okta.user.telephony.password-reset",
        }
    }

    /// How long Cognito's code for this step is valid (seconds): an MFA code 3 minutes, a
    /// password-reset code an hour, a verification code a day.
    pub fn code_lifetime(self) -> u64 {
        match self {
            Self::MfaVerification => 180,
            Self::PasswordReset => 3600,
            Self::PreEnrollment => 24 * 3600,
        }
    }
}

pub use crate::common::language::Language;

/// Okta's spelling of a language (`JA-JP`).
fn okta_locale(language: Language) -> &'static str {
    match language {
        Language::Ja => "JA-JP",
        Language::En => "EN-US",
    }
}

/// The SMS text for `code`.
pub fn message(language: Language, kind: RequestType, code: &str) -> String {
    match (language, kind) {
        (Language::Ja, RequestType::MfaVerification) => format!("サインイン用の確認コード: {code}（3分間有効）。このコードを他人に教えないでください。"),
        (Language::Ja, RequestType::PasswordReset) => format!("パスワード再設定用の確認コード: {code}（1時間有効）。心当たりがない場合は無視してください。"),
        (Language::Ja, RequestType::PreEnrollment) => format!("電話番号確認用のコード: {code}。このコードを他人に教えないでください。"),
        (Language::En, RequestType::MfaVerification) => format!("Your sign-in code is {code}. It expires in 3 minutes. Never share it."),
        (Language::En, RequestType::PasswordReset) => {
            format!("Your password reset code is {code}. It expires in 1 hour. If you did not ask for it, ignore this message.")
        }
        (Language::En, RequestType::PreEnrollment) => format!("Your verification code is {code}. Never share it."),
    }
}

/// The person a message is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// E.164.
    pub phone: String,
    pub user_id: String,
    pub login: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
}

/// One code to deliver.
#[derive(Debug)]
pub struct Delivery {
    /// Unique per Cognito event (the hook's `eventId`).
    pub event_id: String,
    pub kind: RequestType,
    pub recipient: Recipient,
    pub code: SecretString,
    pub at: u64,
}

impl Delivery {
    /// The hook request (Okta's telephony inline hook JSON) sent to `hook_url`.
    pub fn hook_request(&self, hook_url: &str) -> Value {
        let language = Language::of(self.recipient.locale.as_deref());
        let code = self.code.expose_secret();
        let r = &self.recipient;
        json!({
            "eventId": self.event_id,
            "eventTime": rfc3339(self.at),
            "eventType": "com.okta.telephony.provider",
            "eventTypeVersion": "1.0",
            "contentType": "application/json",
            "cloudEventVersion": "0.1",
            "source": hook_url,
            "requestType": self.kind.name(),
            "data": {
                "context": {"request": {"id": self.event_id}},
                "userProfile": {"firstName": r.first_name, "lastName": r.last_name, "login": r.login, "userId": r.user_id},
                "messageProfile": {
                    "msgTemplate": message(language, self.kind, code),
                    "phoneNumber": r.phone,
                    "otpExpires": rfc3339(self.at + self.kind.code_lifetime()),
                    "deliveryChannel": "SMS",
                    "otpCode": code,
                    "locale": okta_locale(language),
                },
            },
        })
    }
}

/// What a hook's answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `SUCCESSFUL` or `PENDING`: the provider has it.
    Delivered { status: String, provider: Option<String>, transaction_id: Option<String> },
    /// `FAILED`, an `error` object, or an answer that is not the contract: try the fallback.
    Failed(String),
}

/// Reads a 2xx answer's body.
pub fn read_answer(body: &Value) -> Answer {
    if let Some(error) = body.get("error") {
        let summary = error["errorSummary"].as_str().unwrap_or("no summary");
        return Answer::Failed(format!("the hook answered an error: {}", summary.chars().take(200).collect::<String>()));
    }
    let command = body["commands"].as_array().into_iter().flatten().find(|c| c["type"] == "com.okta.telephony.action");
    let Some(result) = command.and_then(|c| c["value"].as_array()).and_then(|v| v.first()) else {
        return Answer::Failed("the answer has no com.okta.telephony.action command".into());
    };
    let text = |k: &str| result[k].as_str().map(|s| s.chars().take(200).collect::<String>());
    match result["status"].as_str() {
        Some(status @ ("SUCCESSFUL" | "PENDING")) => {
            Answer::Delivered { status: status.to_owned(), provider: text("provider"), transaction_id: text("transactionId") }
        }
        Some("FAILED") => Answer::Failed(format!("the provider failed{}", text("provider").map(|p| format!(" ({p})")).unwrap_or_default())),
        _ => Answer::Failed("the answer's status is not SUCCESSFUL, PENDING or FAILED".into()),
    }
}

/// A phone number for logs: country code and the last three digits only.
pub fn masked(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() <= 6 {
        return "*".repeat(digits.len());
    }
    let keep_start = if phone.starts_with('+') { 3 } else { 0 };
    digits.iter().enumerate().map(|(i, c)| if i < keep_start || i >= digits.len() - 3 { *c } else { '*' }).collect()
}

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("a hook name is 1 to 64 lower-case letters, digits and hyphens, starting with a letter or digit")]
    Name,
    #[error("the hook URL must be https (http only on loopback), without user, query or fragment")]
    Url,
    #[error("a hook authenticates with a header and secret (`header`) or OAuth 2.0 client credentials (`oauth2`)")]
    Auth,
    #[error("a hook cannot be its own fallback")]
    OwnFallback,
}

/// Whether `name` can name a hook: 1 to 64 lower-case letters, digits and hyphens, not starting
/// with a hyphen.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && !name.starts_with('-') && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Hook {
    /// What the admin tool checks before storing a hook (whether the fallback exists is the
    /// store's to check).
    pub fn validate(&self) -> Result<(), HookError> {
        if !valid_name(&self.name) {
            return Err(HookError::Name);
        }
        let url_ok = |raw: &str| {
            url::Url::parse(raw).is_ok_and(|u| {
                crate::common::secure_url::secure(&u) && u.username().is_empty() && u.password().is_none() && u.query().is_none() && u.fragment().is_none()
            })
        };
        if !url_ok(&self.url) {
            return Err(HookError::Url);
        }
        match &self.auth {
            Auth::Header { name, .. } if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {}
            Auth::Oauth2 { token_url, .. } if url_ok(token_url) => {}
            Auth::Oauth2 { .. } => return Err(HookError::Url),
            _ => return Err(HookError::Auth),
        }
        if self.fallback.as_deref() == Some(self.name.as_str()) {
            return Err(HookError::OwnFallback);
        }
        Ok(())
    }

    /// `hook.created`, `hook.updated`, `hook.activated`, `hook.deactivated` or `hook.deleted` for this hook
    /// (no secret in it: only its name, version, URL and fallback).
    pub fn lifecycle_event(&self, kind: EventType, now: u64) -> IdentityEvent {
        IdentityEvent::new(kind, EventUser::default(), EventContext::default(), now)
            .with_detail("hook", self.name.clone())
            .with_detail("version", self.version)
            .with_detail("url", self.url.clone())
            .with_detail("fallback", self.fallback.clone().map_or(Value::Null, Value::String))
    }
}

/// One hook's execution for one message: its day's counters and its events, written together.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    pub hook: String,
    /// Days since the Unix epoch.
    pub day: u64,
    pub delivered: bool,
    pub millis: u64,
    /// When it ended, in seconds since the Unix epoch.
    pub at: u64,
    /// `hook.executed`, and `hook.response_processed` when the hook answered 2xx.
    pub events: Vec<IdentityEvent>,
    /// The ledger key of the sender event this execution delivered (`SendLedger`): its claim is
    /// then kept a day, in the same write. `None` when it did not deliver.
    pub settles: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(kind: RequestType, locale: &str) -> Delivery {
        Delivery {
            event_id: "e-1".into(),
            kind,
            recipient: Recipient {
                phone: "+819012345678".into(),
                user_id: "5f0c".into(),
                login: Some("hanako@example.com".into()),
                first_name: Some("花子".into()),
                last_name: Some("山田".into()),
                locale: Some(locale.into()),
            },
            code: SecretString::from("482913"),
            at: 1_795_000_000,
        }
    }

    #[test]
    fn trigger_sources_map_to_the_hooks_request_types() {
        let kind = |s: &str| RequestType::from_trigger(s).map(RequestType::name);
        assert_eq!(kind("CustomSMSSender_Authentication"), Some("com.okta.user.telephony.mfa-verification"));
        assert_eq!(kind("CustomSMSSender_ForgotPassword"), Some("com.okta.user.telephony.password-reset"));
        for enrol in ["SignUp", "ResendCode", "VerifyUserAttribute", "UpdateUserAttribute", "AdminCreateUser"] {
            assert_eq!(kind(&format!("CustomSMSSender_{enrol}")), Some("com.okta.user.telephony.pre-enrollment"));
        }
        assert_eq!(kind("CustomEmailSender_SignUp"), None);
        assert_eq!(kind("CustomSMSSender_Unknown"), None);
    }

    #[test]
    fn the_request_is_oktas_with_the_localised_message() {
        let request = delivery(RequestType::MfaVerification, "ja-JP").hook_request("https://sms.example.com/hook");
        assert_eq!(request["eventType"], "com.okta.telephony.provider");
        assert_eq!(request["requestType"], "com.okta.user.telephony.mfa-verification");
        assert_eq!(request["eventTime"], "2026-11-18T11:06:40Z");
        let profile = &request["data"]["messageProfile"];
        assert_eq!(profile["otpCode"], "482913");
        assert_eq!(profile["phoneNumber"], "+819012345678");
        assert_eq!(profile["otpExpires"], "2026-11-18T11:09:40Z");
        assert_eq!((profile["deliveryChannel"].as_str(), profile["locale"].as_str()), (Some("SMS"), Some("JA-JP")));
        assert!(profile["msgTemplate"].as_str().unwrap_or_default().contains("482913（3分間有効）"));
        assert_eq!(request["data"]["userProfile"]["login"], "hanako@example.com");
        let english = delivery(RequestType::PasswordReset, "en").hook_request("https://sms.example.com/hook");
        assert_eq!(english["data"]["messageProfile"]["locale"], "EN-US");
        assert!(english["data"]["messageProfile"]["msgTemplate"].as_str().unwrap_or_default().starts_with("Your password reset code is 482913"));
    }

    #[test]
    fn answers_are_read_as_the_contract_says() {
        let ok =
            json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "SUCCESSFUL", "provider": "twilio", "transactionId": "SM1"}]}]});
        assert_eq!(read_answer(&ok), Answer::Delivered { status: "SUCCESSFUL".into(), provider: Some("twilio".into()), transaction_id: Some("SM1".into()) });
        let pending = json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "PENDING"}]}]});
        assert!(matches!(read_answer(&pending), Answer::Delivered { .. }));
        for failed in [
            json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "FAILED", "provider": "twilio"}]}]}),
            json!({"error": {"errorSummary": "Invalid phone number", "errorCauses": []}}),
            json!({"commands": [{"type": "com.okta.other", "value": [{"status": "SUCCESSFUL"}]}]}),
            json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "DONE"}]}]}),
            json!("<html>"),
        ] {
            assert!(matches!(read_answer(&failed), Answer::Failed(_)), "{failed}");
        }
    }

    #[test]
    fn phone_numbers_are_masked_for_logs() {
        assert_eq!(masked("+819012345678"), "+81*******678");
        assert_eq!(masked("09012345678"), "********678");
        assert_eq!(masked("12345"), "*****");
    }
}
