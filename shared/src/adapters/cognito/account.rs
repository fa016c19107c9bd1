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

    /// `VerifyUserAttribute` of `name` with `code`.
    async fn verify_attribute(&self, access_token: &AccessToken, name: &str, code: &SecretString) -> Result<(), AuthError> {
        let call = self.client.verify_user_attribute().access_token(access_token.0.expose_secret()).attribute_name(name).code(code.expose_secret());
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
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
        // A new email another account has (at the change, or when it is verified).
        "AliasExistsException" => AuthError::AccountExists,
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
        self.verify_attribute(access_token, "phone_number", code).await
    }

    async fn change_email(&self, access_token: &AccessToken, email: &str) -> Result<Option<String>, AuthError> {
        let call = self.client.update_user_attributes().access_token(access_token.0.expose_secret()).user_attributes(attribute("email", email)?);
        let out = call.send().await.map_err(|e| settings_error(Failure::of(&e)))?;
        Ok(out.code_delivery_details_list().iter().find_map(|d| d.destination().map(str::to_owned)))
    }

    async fn verify_email(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        self.verify_attribute(access_token, "email", code).await
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

#[cfg(test)]
mod mocked {
    //! Cognito answers the local emulation does not give, injected with aws-smithy-mocks: the
    //! messages that tell a wrong current password from a token Cognito no longer takes, a
    //! password history refusal, a factor the pool does not offer, a reset required, a wrong
    //! or expired phone code.
    use super::*;
    use aws_sdk_cognitoidentityprovider::operation::change_password::ChangePasswordError;
    use aws_sdk_cognitoidentityprovider::operation::set_user_mfa_preference::SetUserMFAPreferenceError;
    use aws_sdk_cognitoidentityprovider::operation::verify_user_attribute::VerifyUserAttributeError;
    use aws_sdk_cognitoidentityprovider::types::error::{
        CodeMismatchException, ExpiredCodeException, InvalidParameterException, NotAuthorizedException, PasswordHistoryPolicyViolationException,
        PasswordResetRequiredException,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn meta(code: &str, message: &str) -> aws_smithy_types::error::ErrorMetadata {
        aws_smithy_types::error::ErrorMetadata::builder().code(code).message(message).build()
    }

    fn token(value: &str) -> AccessToken {
        AccessToken(SecretString::from(value.to_owned()))
    }

    #[tokio::test]
    async fn change_password_tells_a_wrong_password_from_a_token_cognito_no_longer_takes() {
        let refused = |t: &'static str, error: fn() -> ChangePasswordError| {
            mock!(Client::change_password).match_requests(move |r| r.access_token() == Some(t)).then_error(error)
        };
        let wrong = refused("wrong", || {
            ChangePasswordError::NotAuthorizedException(
                NotAuthorizedException::builder().meta(meta("NotAuthorizedException", "Incorrect username or password.")).build(),
            )
        });
        let revoked = refused("revoked", || {
            ChangePasswordError::NotAuthorizedException(
                NotAuthorizedException::builder().meta(meta("NotAuthorizedException", "Access Token has been revoked")).build(),
            )
        });
        let history = refused("history", || {
            ChangePasswordError::PasswordHistoryPolicyViolationException(
                PasswordHistoryPolicyViolationException::builder().meta(meta("PasswordHistoryPolicyViolationException", "used before")).build(),
            )
        });
        let reset = refused("reset", || {
            ChangePasswordError::PasswordResetRequiredException(
                PasswordResetRequiredException::builder().meta(meta("PasswordResetRequiredException", "reset")).build(),
            )
        });
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&wrong, &revoked, &history, &reset]);
        let account = CognitoAccount::new(client);
        let (old, new) = (SecretString::from("Old-Passw0rd"), SecretString::from("New-Passw0rd"));
        for (t, expected) in [
            ("wrong", AuthError::InvalidCredentials),
            ("revoked", AuthError::ChallengeExpired),
            ("history", AuthError::PasswordPolicy),
            ("reset", AuthError::PasswordResetRequired),
        ] {
            assert_eq!(account.change_password(&token(t), &old, &new).await, Err(expected), "{t}");
        }
    }

    #[tokio::test]
    async fn a_factor_the_pool_does_not_offer_is_its_configuration_and_phone_codes_map_to_code_errors() {
        let unoffered = mock!(Client::set_user_mfa_preference).then_error(|| {
            SetUserMFAPreferenceError::InvalidParameterException(
                InvalidParameterException::builder().meta(meta("InvalidParameterException", "SMS MFA is not enabled")).build(),
            )
        });
        let mismatch = mock!(Client::verify_user_attribute).match_requests(|r| r.code() == Some("111111")).then_error(|| {
            VerifyUserAttributeError::CodeMismatchException(CodeMismatchException::builder().meta(meta("CodeMismatchException", "wrong")).build())
        });
        let expired = mock!(Client::verify_user_attribute).match_requests(|r| r.code() == Some("222222")).then_error(|| {
            VerifyUserAttributeError::ExpiredCodeException(ExpiredCodeException::builder().meta(meta("ExpiredCodeException", "expired")).build())
        });
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&unoffered, &mismatch, &expired]);
        let account = CognitoAccount::new(client);
        assert_eq!(
            account.set_factor(&token("t"), Factor::SmsMfa, true).await,
            Err(AuthError::Misconfigured("InvalidParameterException".into())),
            "not a wrong code"
        );
        assert_eq!(account.verify_phone(&token("t"), &SecretString::from("111111")).await, Err(AuthError::CodeMismatch));
        assert_eq!(account.verify_phone(&token("t"), &SecretString::from("222222")).await, Err(AuthError::CodeExpired));
    }
}
