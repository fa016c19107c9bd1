//! [`OwnAccount`] over Cognito's self-service operations with the person's own access token:
//! `GetUser`, `UpdateUserAttributes`, `GetUserAttributeVerificationCode` and
//! `VerifyUserAttribute` (the phone), `ChangePassword`, `SetUserMFAPreference`, `DeleteUser`,
//! and the WebAuthn ones (`StartWebAuthnRegistration`, `CompleteWebAuthnRegistration`,
//! `ListWebAuthnCredentials`, `DeleteWebAuthnCredential`). Cognito's documents are JSON here.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType};
use aws_smithy_types::{Document, Number};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::adapters::aws::Failure;
use crate::signin::challenge::{AccessToken, AuthError};
use crate::signin::ports::{Factor, OwnAccount, OwnSettings, Passkey};

pub struct CognitoAccount {
    client: Client,
}

impl CognitoAccount {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// Cognito's errors for a person's own settings.
fn account_error(failure: Failure) -> AuthError {
    let Failure::Service { code } = &failure else {
        return AuthError::Unavailable(failure.describe());
    };
    match code.as_str() {
        "TooManyRequestsException" | "ThrottlingException" => AuthError::Throttled,
        // The access token expired or was revoked: sign in again.
        "NotAuthorizedException" => AuthError::ChallengeExpired,
        "WebAuthnChallengeNotFoundException" => AuthError::ChallengeExpired,
        "WebAuthnOriginNotAllowedException"
        | "WebAuthnRelyingPartyMismatchException"
        | "WebAuthnCredentialNotSupportedException"
        | "WebAuthnClientMismatchException" => AuthError::CodeMismatch,
        "LimitExceededException" => AuthError::TooManyAttempts,
        "CodeMismatchException" => AuthError::CodeMismatch,
        "PasswordResetRequiredException" => AuthError::PasswordResetRequired,
        "UserNotConfirmedException" => AuthError::NotConfirmed,
        "ExpiredCodeException" => AuthError::CodeExpired,
        // A credential or an id that is not one: the browser's answer, or a stale list.
        "ResourceNotFoundException" | "InvalidParameterException" => AuthError::CodeMismatch,
        "WebAuthnNotEnabledException" | "WebAuthnConfigurationMissingException" | "FeatureUnavailableInTierException" => AuthError::Misconfigured(code.clone()),
        _ => AuthError::Unavailable(code.clone()),
    }
}

/// A Smithy document as JSON.
pub fn to_json(document: &Document) -> Value {
    match document {
        Document::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Document::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Document::Number(Number::PosInt(n)) => Value::from(*n),
        Document::Number(Number::NegInt(n)) => Value::from(*n),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Document::String(s) => Value::String(s.clone()),
        Document::Bool(b) => Value::Bool(*b),
        Document::Null => Value::Null,
    }
}

/// JSON as a Smithy document.
pub fn to_document(value: &Value) -> Document {
    match value {
        Value::Object(map) => Document::Object(map.iter().map(|(k, v)| (k.clone(), to_document(v))).collect()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Bool(b) => Document::Bool(*b),
        Value::Null => Document::Null,
    }
}

/// Errors of the calls that change settings (`UpdateUserAttributes`, `SetUserMFAPreference`):
/// a parameter Cognito refuses is the pool's configuration (a factor it does not offer), never
/// a wrong code.
fn settings_error(failure: Failure) -> AuthError {
    match &failure {
        Failure::Service { code } if code == "InvalidParameterException" => AuthError::Misconfigured(code.clone()),
        _ => account_error(failure),
    }
}

/// `ChangePassword`'s errors: a wrong previous password is `NotAuthorizedException` with
/// Cognito's "Incorrect username or password." (`message`); another `NotAuthorizedException`
/// (a revoked token, a disabled user) ends the fresh step.
fn password_error(failure: Failure, message: &str) -> AuthError {
    match &failure {
        Failure::Service { code } if code == "NotAuthorizedException" && message.starts_with("Incorrect username or password") => AuthError::InvalidCredentials,
        Failure::Service { code } if code == "InvalidPasswordException" || code == "PasswordHistoryPolicyViolationException" => AuthError::PasswordPolicy,
        _ => account_error(failure),
    }
}

fn attribute(name: &str, value: &str) -> Result<AttributeType, AuthError> {
    AttributeType::builder().name(name).value(value).build().map_err(|e| AuthError::Unavailable(e.to_string()))
}

#[async_trait]
impl OwnAccount for CognitoAccount {
    async fn settings(&self, access_token: &AccessToken) -> Result<OwnSettings, AuthError> {
        let out = self.client.get_user().access_token(access_token.0.expose_secret()).send().await.map_err(|e| account_error(Failure::of(&e)))?;
        let attributes = out.user_attributes.into_iter().filter_map(|a| Some((a.name, a.value?))).collect();
        let factors = out
            .user_mfa_setting_list
            .unwrap_or_default()
            .iter()
            .filter_map(|f| match f.as_str() {
                "SMS_MFA" => Some(Factor::SmsMfa),
                "SOFTWARE_TOKEN_MFA" => Some(Factor::SoftwareTokenMfa),
                _ => None,
            })
            .collect();
        Ok(OwnSettings { attributes, factors })
    }

    async fn update_attributes(&self, access_token: &AccessToken, attributes: &[(&str, &str)]) -> Result<(), AuthError> {
        let attributes = attributes.iter().map(|(n, v)| attribute(n, v)).collect::<Result<Vec<_>, _>>()?;
        let call = self.client.update_user_attributes().access_token(access_token.0.expose_secret()).set_user_attributes(Some(attributes));
        call.send().await.map_err(|e| settings_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn change_password(&self, access_token: &AccessToken, previous: &SecretString, proposed: &SecretString) -> Result<(), AuthError> {
        let call = self
            .client
            .change_password()
            .access_token(access_token.0.expose_secret())
            .previous_password(previous.expose_secret())
            .proposed_password(proposed.expose_secret());
        call.send().await.map_err(|e| {
            let message = e.as_service_error().and_then(ProvideErrorMetadata::message).unwrap_or_default();
            password_error(Failure::of(&e), message)
        })?;
        Ok(())
    }

    async fn send_phone_code(&self, access_token: &AccessToken) -> Result<Option<String>, AuthError> {
        let call = self.client.get_user_attribute_verification_code().access_token(access_token.0.expose_secret()).attribute_name("phone_number");
        let out = call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(out.code_delivery_details.and_then(|d| d.destination))
    }

    async fn verify_phone(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        let call = self.client.verify_user_attribute().access_token(access_token.0.expose_secret()).attribute_name("phone_number").code(code.expose_secret());
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn set_factor(&self, access_token: &AccessToken, factor: Factor, enabled: bool) -> Result<(), AuthError> {
        let call = self.client.set_user_mfa_preference().access_token(access_token.0.expose_secret());
        let call = match factor {
            Factor::SmsMfa => call.sms_mfa_settings(SmsMfaSettingsType::builder().enabled(enabled).preferred_mfa(enabled).build()),
            Factor::SoftwareTokenMfa => {
                call.software_token_mfa_settings(SoftwareTokenMfaSettingsType::builder().enabled(enabled).preferred_mfa(enabled).build())
            }
        };
        call.send().await.map_err(|e| settings_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn delete_user(&self, access_token: &AccessToken) -> Result<(), AuthError> {
        self.client.delete_user().access_token(access_token.0.expose_secret()).send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn start_passkey_registration(&self, access_token: &AccessToken) -> Result<Value, AuthError> {
        let out = self.client.start_web_authn_registration().access_token(access_token.0.expose_secret()).send().await;
        Ok(to_json(&out.map_err(|e| account_error(Failure::of(&e)))?.credential_creation_options))
    }

    async fn complete_passkey_registration(&self, access_token: &AccessToken, credential: &Value) -> Result<(), AuthError> {
        let call = self.client.complete_web_authn_registration().access_token(access_token.0.expose_secret()).credential(to_document(credential));
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn passkeys(&self, access_token: &AccessToken) -> Result<Vec<Passkey>, AuthError> {
        let mut passkeys = Vec::new();
        let mut next = None;
        loop {
            let call = self.client.list_web_authn_credentials().access_token(access_token.0.expose_secret()).max_results(20).set_next_token(next);
            let out = call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
            passkeys.extend(out.credentials.into_iter().map(|c| Passkey {
                id: c.credential_id,
                name: c.friendly_credential_name,
                attachment: c.authenticator_attachment,
                created: u64::try_from(c.created_at.secs()).unwrap_or_default(),
            }));
            next = out.next_token;
            if next.is_none() {
                return Ok(passkeys);
            }
        }
    }

    async fn delete_passkey(&self, access_token: &AccessToken, id: &str) -> Result<(), AuthError> {
        let call = self.client.delete_web_authn_credential().access_token(access_token.0.expose_secret()).credential_id(id);
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }
}
