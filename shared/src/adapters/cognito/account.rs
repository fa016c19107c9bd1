//! [`Passkeys`] over Cognito's WebAuthn operations (`StartWebAuthnRegistration`,
//! `CompleteWebAuthnRegistration`, `ListWebAuthnCredentials`, `DeleteWebAuthnCredential`), with
//! the person's own access token. Cognito's documents are JSON here.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_smithy_types::{Document, Number};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::adapters::aws::Failure;
use crate::signin::challenge::{AccessToken, AuthError};
use crate::signin::ports::{Passkey, Passkeys};

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

#[async_trait]
impl Passkeys for CognitoAccount {
    async fn start_registration(&self, access_token: &AccessToken) -> Result<Value, AuthError> {
        let out = self.client.start_web_authn_registration().access_token(access_token.0.expose_secret()).send().await;
        Ok(to_json(&out.map_err(|e| account_error(Failure::of(&e)))?.credential_creation_options))
    }

    async fn complete_registration(&self, access_token: &AccessToken, credential: &Value) -> Result<(), AuthError> {
        let call = self.client.complete_web_authn_registration().access_token(access_token.0.expose_secret()).credential(to_document(credential));
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }

    async fn list(&self, access_token: &AccessToken) -> Result<Vec<Passkey>, AuthError> {
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

    async fn delete(&self, access_token: &AccessToken, id: &str) -> Result<(), AuthError> {
        let call = self.client.delete_web_authn_credential().access_token(access_token.0.expose_secret()).credential_id(id);
        call.send().await.map_err(|e| account_error(Failure::of(&e)))?;
        Ok(())
    }
}
