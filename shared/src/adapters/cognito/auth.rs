//! `PasswordAuth` over the Cognito user pool API: `InitiateAuth` (`USER_PASSWORD_AUTH`,
//! `USER_AUTH`), `RespondToAuthChallenge`, `ForgotPassword`, `ConfirmForgotPassword`, `SignUp`
//! and its kin; with a [`SignInClient`], the password sign-in and its challenges through
//! `AdminInitiateAuth` (`ADMIN_USER_PASSWORD_AUTH`) and `AdminRespondToAuthChallenge`.
//!
//! Adds `SECRET_HASH` when the app client has a secret (kept in the bridge secret); the sign-in
//! client's secret comes with the configuration, so a password sign-in reads nothing before
//! Cognito. Maps Cognito's error
//! codes to `AuthError` in one place per operation, so that wrong password, unknown user and
//! disabled user all read as `InvalidCredentials`.

use crate::common::hashing::hmac_sha256;
use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType, SoftwareTokenMfaSettingsType, VerifySoftwareTokenResponseType,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Arc;

use crate::adapters::aws::Failure;
use crate::common::secrets::CachedSecrets;
use crate::common::store::StoreError;
use crate::signin::challenge::{AccessToken, AuthError, AuthStep, Challenge, ChallengeAnswer, ChallengeKind};
use crate::signin::ports::PasswordAuth;

pub struct CognitoPasswordAuth {
    client: Client,
    /// The bridge's app client (with a secret): every flow Cognito offers only publicly.
    client_id: String,
    secrets: Arc<CachedSecrets>,
    sign_in_client: Option<SignInClient>,
}

/// The app client password sign-ins go through (`template.yaml`'s `SignInClient`): only
/// `ADMIN_USER_PASSWORD_AUTH` (and refresh) enabled, so only a caller IAM allows
/// `cognito-idp:AdminInitiateAuth` on the pool signs in through it; its secret, which every
/// public call through it needs (`SignUp`, `ForgotPassword`, their confirmations), comes with
/// the function's configuration (`SIGN_IN_CLIENT_SECRET`), so nothing is fetched first.
#[derive(Debug, Clone)]
pub struct SignInClient {
    pub user_pool_id: String,
    pub client_id: String,
    /// `None`: a client without a secret.
    pub secret: Option<SecretString>,
}

impl SignInClient {
    /// `SECRET_HASH` for `username`, where the client has a secret.
    fn secret_hash(&self, username: &str) -> Option<String> {
        self.secret.as_ref().map(|secret| secret_hash(secret, username, &self.client_id))
    }
}

/// Marks a challenge's session as the sign-in client's (`AdminRespondToAuthChallenge` answers
/// it; an instance configured without the client answers it through the bridge's client, which
/// Cognito refuses: the sign-in starts again). Cognito's sessions are base64, which has no `:`;
/// the domain carries the whole opaquely.
const SIGN_IN_CLIENT_SESSION: &str = "sign-in:";

/// The [`Answer`] in an `InitiateAuth`, `RespondToAuthChallenge` or admin twin's output `$out`
/// (a variable), with `$available` for `SELECT_CHALLENGE`'s choices.
macro_rules! answer_of {
    ($out:ident, $available:expr) => {
        Answer {
            result: $out.authentication_result,
            challenge: $out.challenge_name,
            session: $out.session,
            params: $out.challenge_parameters.unwrap_or_default(),
            available: $available,
        }
    };
}

impl CognitoPasswordAuth {
    pub fn new(client: Client, client_id: impl Into<String>, secrets: Arc<CachedSecrets>) -> Self {
        Self { client, client_id: client_id.into(), secrets, sign_in_client: None }
    }

    /// Password sign-ins through `sign_in_client` (none: through the bridge's client, with its
    /// `SECRET_HASH`).
    #[must_use]
    pub fn with_sign_in_client(self, sign_in_client: Option<SignInClient>) -> Self {
        Self { sign_in_client, ..self }
    }

    async fn secret_hash(&self, username: &str) -> Result<Option<String>, AuthError> {
        let bridge = self.secrets.bridge().await.map_err(|e| match e {
            StoreError::Throttled => AuthError::Throttled,
            other => AuthError::Unavailable(other.to_string()),
        })?;
        Ok(bridge.cognito_client_secret.as_ref().map(|secret| secret_hash(secret, username, &self.client_id)))
    }

    /// `InitiateAuth` with `flow` for `username`, its `SECRET_HASH` and one more parameter.
    async fn initiate(&self, flow: AuthFlowType, username: &str, (name, value): (&str, &str)) -> Result<AuthStep, AuthError> {
        let mut params = HashMap::from([("USERNAME".to_owned(), username.to_owned()), (name.to_owned(), value.to_owned())]);
        if let Some(hash) = self.secret_hash(username).await? {
            params.insert("SECRET_HASH".into(), hash);
        }
        let call = self.client.initiate_auth().client_id(&self.client_id).auth_flow(flow).set_auth_parameters(Some(params));
        let out = call.send().await.map_err(|e| sign_in_error(Operation::SignIn, &e))?;
        step(answer_of!(out, out.available_challenges.unwrap_or_default()), username)
    }
}

/// `Base64(HMAC_SHA256(client_secret, username + client_id))`, as Cognito defines it.
pub fn secret_hash(client_secret: &SecretString, username: &str, client_id: &str) -> String {
    B64.encode(hmac_sha256(client_secret.expose_secret().as_bytes(), &[username.as_bytes(), client_id.as_bytes()]))
}

#[derive(Clone, Copy)]
enum Operation {
    SignIn,
    Answer,
    /// A passkey's answer (`RespondToAuthChallenge` with `CREDENTIAL`).
    Passkey,
    Forgot,
    ConfirmForgot,
    /// The person's own settings with their access token: an authenticator app, an email code.
    Totp,
    /// `SignUp`.
    SignUp,
    /// `ConfirmSignUp`.
    Confirm,
    /// `ResendConfirmationCode`.
    Resend,
}

/// A sign-in step's error: [`auth_error`], but a client secret Cognito refuses (a
/// `NotAuthorizedException` whose message names the secret: a stale or missing
/// `SIGN_IN_CLIENT_SECRET`) is ours, `Misconfigured`, not a wrong password that would count
/// against everyone who signs in.
fn sign_in_error<E: ProvideErrorMetadata, R>(op: Operation, err: &SdkError<E, R>) -> AuthError {
    let names_the_secret = err.as_service_error().and_then(ProvideErrorMetadata::message).is_some_and(|m| m.to_ascii_lowercase().contains("secret"));
    match Failure::of(err) {
        Failure::Service { code } if code == "NotAuthorizedException" && names_the_secret => AuthError::Misconfigured("client secret refused".into()),
        failure => auth_error(op, failure),
    }
}

/// The one mapping from Cognito's errors to `AuthError`.
fn auth_error(op: Operation, failure: Failure) -> AuthError {
    let Failure::Service { code } = &failure else {
        return AuthError::Unavailable(failure.describe());
    };
    use Operation::*;
    match (code.as_str(), op) {
        ("TooManyRequestsException" | "ThrottlingException", _) => AuthError::Throttled,
        ("UsernameExistsException" | "AliasExistsException", SignUp) => AuthError::AccountExists,
        // The pool refuses sign-up (AllowAdminCreateUserOnly) or the client's secret: ours.
        ("NotAuthorizedException", SignUp) => AuthError::Misconfigured(code.clone()),
        // A confirmed account (ConfirmSignUp: NotAuthorized; resend: InvalidParameter "already
        // confirmed") and an unknown one read as the sign-up form must show them.
        ("NotAuthorizedException" | "UserNotFoundException", Confirm) => AuthError::CodeMismatch,
        ("InvalidParameterException", Resend) => AuthError::AccountExists,
        ("UserNotFoundException", Resend) => AuthError::CodeMismatch,
        ("NotAuthorizedException" | "UserNotFoundException", SignIn | Forgot | Passkey) => AuthError::InvalidCredentials,
        // A passkey answer Cognito cannot read: the person's browser's doing, not ours.
        ("InvalidParameterException", Passkey) => AuthError::InvalidCredentials,
        // Passkeys or choice-based sign-in not set up in the pool (or its tier): ours.
        ("WebAuthnNotEnabledException" | "WebAuthnConfigurationMissingException" | "FeatureUnavailableInTierException", _) => {
            AuthError::Misconfigured(code.clone())
        }
        // No verified email to send a reset code to (an account never confirmed): as unknown.
        ("InvalidParameterException", Forgot) => AuthError::InvalidCredentials,
        // moto answers an unknown session with ResourceNotFound; Cognito with NotAuthorized.
        ("NotAuthorizedException" | "ResourceNotFoundException", Answer) => AuthError::ChallengeExpired,
        ("UserNotFoundException", Answer | ConfirmForgot) => AuthError::CodeMismatch,
        ("NotAuthorizedException", ConfirmForgot) => AuthError::CodeMismatch,
        // The access token expired (an hour) or was revoked: the sign-in starts again.
        ("NotAuthorizedException", Totp) => AuthError::ChallengeExpired,
        ("EnableSoftwareTokenMFAException", Totp) => AuthError::CodeMismatch,
        ("PasswordResetRequiredException", _) => AuthError::PasswordResetRequired,
        ("UserNotConfirmedException", _) => AuthError::NotConfirmed,
        ("CodeMismatchException", _) => AuthError::CodeMismatch,
        ("ExpiredCodeException", Answer | Passkey) => AuthError::ChallengeExpired,
        ("ExpiredCodeException", _) => AuthError::CodeExpired,
        ("InvalidPasswordException" | "PasswordHistoryPolicyViolationException", _) => AuthError::PasswordPolicy,
        ("LimitExceededException" | "TooManyFailedAttemptsException", _) => AuthError::TooManyAttempts,
        // The role may not call the admin API (IAM), or the client does not allow the flow.
        ("InvalidParameterException" | "ResourceNotFoundException" | "InvalidUserPoolConfigurationException" | "AccessDeniedException", _) => {
            AuthError::Misconfigured(code.clone())
        }
        _ => AuthError::Unavailable(code.clone()),
    }
}

fn challenge_kind(name: &ChallengeNameType) -> Option<ChallengeKind> {
    Some(match name {
        ChallengeNameType::NewPasswordRequired => ChallengeKind::NewPassword,
        ChallengeNameType::SmsMfa => ChallengeKind::SmsMfa,
        ChallengeNameType::SoftwareTokenMfa => ChallengeKind::SoftwareTokenMfa,
        ChallengeNameType::EmailOtp => ChallengeKind::EmailOtp,
        ChallengeNameType::SelectMfaType => ChallengeKind::SelectMfaType,
        ChallengeNameType::WebAuthn => ChallengeKind::WebAuthn,
        ChallengeNameType::SelectChallenge => ChallengeKind::SelectChallenge,
        _ => return None,
    })
}

fn challenge_name(kind: ChallengeKind) -> ChallengeNameType {
    match kind {
        ChallengeKind::NewPassword => ChallengeNameType::NewPasswordRequired,
        ChallengeKind::SmsMfa => ChallengeNameType::SmsMfa,
        ChallengeKind::SoftwareTokenMfa => ChallengeNameType::SoftwareTokenMfa,
        ChallengeKind::EmailOtp => ChallengeNameType::EmailOtp,
        ChallengeKind::SelectMfaType => ChallengeNameType::SelectMfaType,
        ChallengeKind::TotpSetup | ChallengeKind::VerifyEmail => ChallengeNameType::MfaSetup,
        ChallengeKind::WebAuthn => ChallengeNameType::WebAuthn,
        ChallengeKind::SelectChallenge => ChallengeNameType::SelectChallenge,
    }
}

/// What `InitiateAuth` and `RespondToAuthChallenge` both return.
struct Answer {
    result: Option<AuthenticationResultType>,
    challenge: Option<ChallengeNameType>,
    session: Option<String>,
    params: HashMap<String, String>,
    /// `SELECT_CHALLENGE`'s choices.
    available: Vec<ChallengeNameType>,
}

impl Answer {
    /// The answer with its session marked as the sign-in client's.
    fn through_sign_in_client(self) -> Self {
        Self { session: self.session.map(|s| format!("{SIGN_IN_CLIENT_SESSION}{s}")), ..self }
    }
}

fn step(answer: Answer, username: &str) -> Result<AuthStep, AuthError> {
    if let Some(AuthenticationResultType { id_token: Some(id_token), access_token, .. }) = answer.result {
        let access_token = AccessToken(SecretString::from(access_token.unwrap_or_default()));
        return Ok(AuthStep::Authenticated { id_token, access_token });
    }
    let name = answer.challenge.ok_or_else(|| AuthError::Unavailable("neither tokens nor a challenge".into()))?;
    let kind = challenge_kind(&name).ok_or_else(|| AuthError::UnsupportedChallenge(name.as_str().to_owned()))?;
    let session = answer.session.ok_or_else(|| AuthError::Unavailable("challenge without a session".into()))?;
    let params = answer.params;
    // A choice of second factor (`SELECT_MFA_TYPE`: codes only), or of first factor
    // (`SELECT_CHALLENGE`).
    let mfa_choices = params.get("MFAS_CAN_CHOOSE").and_then(|raw| serde_json::from_str::<Vec<String>>(raw).ok()).unwrap_or_default();
    let mfa = mfa_choices
        .iter()
        .filter_map(|n| challenge_kind(&ChallengeNameType::from(n.as_str())))
        .filter(|k| matches!(k, ChallengeKind::SmsMfa | ChallengeKind::SoftwareTokenMfa | ChallengeKind::EmailOtp));
    let options = mfa.chain(answer.available.iter().filter_map(challenge_kind)).collect();
    Ok(AuthStep::Challenge(Challenge {
        kind,
        session,
        username: params.get("USER_ID_FOR_SRP").or_else(|| params.get("USERNAME")).cloned().unwrap_or_else(|| username.to_owned()),
        destination: params.get("CODE_DELIVERY_DESTINATION").cloned(),
        options,
        request_options: params.get("CREDENTIAL_REQUEST_OPTIONS").cloned(),
    }))
}

#[async_trait]
impl PasswordAuth for CognitoPasswordAuth {
    async fn sign_in(&self, username: &str, password: &SecretString) -> Result<AuthStep, AuthError> {
        let Some(through) = &self.sign_in_client else {
            return self.initiate(AuthFlowType::UserPasswordAuth, username, ("PASSWORD", password.expose_secret())).await;
        };
        let mut params = HashMap::from([("USERNAME".to_owned(), username.to_owned()), ("PASSWORD".to_owned(), password.expose_secret().to_owned())]);
        params.extend(through.secret_hash(username).map(|hash| ("SECRET_HASH".to_owned(), hash)));
        let out = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&through.user_pool_id)
            .client_id(&through.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .set_auth_parameters(Some(params))
            .send()
            .await
            .map_err(|e| sign_in_error(Operation::SignIn, &e))?;
        step(answer_of!(out, out.available_challenges.unwrap_or_default()).through_sign_in_client(), username)
    }

    async fn answer(&self, challenge: &Challenge, answer: ChallengeAnswer) -> Result<AuthStep, AuthError> {
        let username = challenge.username.as_str();
        let mut responses = HashMap::from([("USERNAME".to_owned(), username.to_owned())]);
        let (key, value) = match (&answer, challenge.kind) {
            (ChallengeAnswer::NewPassword(p), _) => ("NEW_PASSWORD", p.expose_secret().to_owned()),
            (ChallengeAnswer::Choose(kind), _) => ("ANSWER", challenge_name(*kind).as_str().to_owned()),
            (ChallengeAnswer::Code(c), ChallengeKind::SmsMfa) => ("SMS_MFA_CODE", c.expose_secret().to_owned()),
            (ChallengeAnswer::Code(c), ChallengeKind::EmailOtp) => ("EMAIL_OTP_CODE", c.expose_secret().to_owned()),
            (ChallengeAnswer::Code(c), _) => ("SOFTWARE_TOKEN_MFA_CODE", c.expose_secret().to_owned()),
            (ChallengeAnswer::Credential(c), _) => ("CREDENTIAL", c.clone()),
        };
        let op = if matches!(answer, ChallengeAnswer::Credential(_)) { Operation::Passkey } else { Operation::Answer };
        responses.insert(key.to_owned(), value);
        if let (Some(through), Some(session)) = (&self.sign_in_client, challenge.session.strip_prefix(SIGN_IN_CLIENT_SESSION)) {
            responses.extend(through.secret_hash(username).map(|hash| ("SECRET_HASH".to_owned(), hash)));
            let out = self
                .client
                .admin_respond_to_auth_challenge()
                .user_pool_id(&through.user_pool_id)
                .client_id(&through.client_id)
                .challenge_name(challenge_name(challenge.kind))
                .session(session)
                .set_challenge_responses(Some(responses))
                .send()
                .await
                .map_err(|e| sign_in_error(op, &e))?;
            return step(answer_of!(out, Vec::new()).through_sign_in_client(), username);
        }
        if let Some(hash) = self.secret_hash(username).await? {
            responses.insert("SECRET_HASH".into(), hash);
        }
        let out = self
            .client
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(challenge_name(challenge.kind))
            .session(&challenge.session)
            .set_challenge_responses(Some(responses))
            .send()
            .await
            .map_err(|e| sign_in_error(op, &e))?;
        step(answer_of!(out, Vec::new()), username)
    }

    async fn start_passwordless(&self, username: &str, preferred: ChallengeKind) -> Result<AuthStep, AuthError> {
        self.initiate(AuthFlowType::UserAuth, username, ("PREFERRED_CHALLENGE", challenge_name(preferred).as_str())).await
    }

    async fn forgot_password(&self, username: &str) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        self.client
            .forgot_password()
            .client_id(&self.client_id)
            .username(username)
            .set_secret_hash(hash)
            .send()
            .await
            .map_err(|e| auth_error(Operation::Forgot, Failure::of(&e)))?;
        Ok(())
    }

    async fn confirm_forgot_password(&self, username: &str, code: &SecretString, new_password: &SecretString) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        self.client
            .confirm_forgot_password()
            .client_id(&self.client_id)
            .username(username)
            .confirmation_code(code.expose_secret())
            .password(new_password.expose_secret())
            .set_secret_hash(hash)
            .send()
            .await
            .map_err(|e| auth_error(Operation::ConfirmForgot, Failure::of(&e)))?;
        Ok(())
    }

    async fn sign_up(&self, username: &str, password: &SecretString, attributes: &[(&str, &str)], language: &str) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        let attributes = attributes.iter().map(|(name, value)| AttributeType::builder().name(*name).value(*value).build()).collect::<Result<Vec<_>, _>>();
        self.client
            .sign_up()
            .client_id(&self.client_id)
            .username(username)
            .password(password.expose_secret())
            .set_user_attributes(Some(attributes.map_err(|e| AuthError::Misconfigured(e.to_string()))?))
            .client_metadata("locale", language)
            .set_secret_hash(hash)
            .send()
            .await
            .map_err(|e| auth_error(Operation::SignUp, Failure::of(&e)))?;
        Ok(())
    }

    async fn confirm_sign_up(&self, username: &str, code: &SecretString) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        let sent = self
            .client
            .confirm_sign_up()
            .client_id(&self.client_id)
            .username(username)
            .confirmation_code(code.expose_secret())
            .set_secret_hash(hash)
            // Not retried: a retry of a confirmation whose answer was lost reads as a wrong code
            // ("already confirmed"), where the caller must know it may have worked.
            .customize()
            .config_override(aws_sdk_cognitoidentityprovider::config::Config::builder().retry_config(aws_config::retry::RetryConfig::disabled()))
            .send()
            .await;
        sent.map(drop).map_err(|e| auth_error(Operation::Confirm, Failure::of(&e)))
    }

    async fn resend_sign_up_code(&self, username: &str, language: &str) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        let request = self.client.resend_confirmation_code().client_id(&self.client_id).username(username).client_metadata("locale", language);
        request.set_secret_hash(hash).send().await.map(drop).map_err(|e| auth_error(Operation::Resend, Failure::of(&e)))
    }

    async fn account_exists_notice(&self, username: &str, language: &str) -> Result<(), AuthError> {
        let hash = self.secret_hash(username).await?;
        let request = self.client.forgot_password().client_id(&self.client_id).username(username).set_secret_hash(hash);
        let sent = request.client_metadata("locale", language).client_metadata("reason", "account_exists").send().await;
        sent.map(drop).map_err(|e| auth_error(Operation::Forgot, Failure::of(&e)))
    }

    async fn associate_totp(&self, access_token: &AccessToken) -> Result<SecretString, AuthError> {
        let out = self
            .client
            .associate_software_token()
            .access_token(access_token.0.expose_secret())
            .send()
            .await
            .map_err(|e| auth_error(Operation::Totp, Failure::of(&e)))?;
        out.secret_code.map(SecretString::from).ok_or_else(|| AuthError::Unavailable("no secret code".into()))
    }

    async fn verify_totp(&self, access_token: &AccessToken, code: &SecretString) -> Result<(), AuthError> {
        let token = access_token.0.expose_secret();
        let out = self
            .client
            .verify_software_token()
            .access_token(token)
            .user_code(code.expose_secret())
            .friendly_device_name("Identity bridge")
            .send()
            .await
            .map_err(|e| auth_error(Operation::Totp, Failure::of(&e)))?;
        if out.status != Some(VerifySoftwareTokenResponseType::Success) {
            return Err(AuthError::CodeMismatch);
        }
        let totp = SoftwareTokenMfaSettingsType::builder().enabled(true).preferred_mfa(true).build();
        // Cognito asks for the new factor from the next sign-in on.
        self.client
            .set_user_mfa_preference()
            .access_token(token)
            .software_token_mfa_settings(totp)
            .send()
            .await
            .map_err(|e| auth_error(Operation::Totp, Failure::of(&e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_cognitos_definition() {
        // Computed independently: python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(b'secret',b'user'+b'client',hashlib.sha256).digest()).decode())"
        assert_eq!(secret_hash(&SecretString::from("secret"), "user", "client"), "wvW87lzZoI+qQCVGmWVBJLlucdJ65huAVP1z+0MgA6E=");
    }

    #[test]
    fn enumeration_safe_mapping() {
        let svc = |code: &str| Failure::Service { code: code.into() };
        for code in ["NotAuthorizedException", "UserNotFoundException"] {
            assert_eq!(auth_error(Operation::SignIn, svc(code)), AuthError::InvalidCredentials);
        }
        assert_eq!(auth_error(Operation::SignIn, svc("TooManyRequestsException")), AuthError::Throttled);
        assert_eq!(auth_error(Operation::SignIn, Failure::Transport("timeout".into())), AuthError::Unavailable("timeout".into()));
        assert_eq!(auth_error(Operation::ConfirmForgot, svc("UserNotFoundException")), AuthError::CodeMismatch);
        assert_eq!(auth_error(Operation::Answer, svc("NotAuthorizedException")), AuthError::ChallengeExpired);
        assert_eq!(auth_error(Operation::SignIn, svc("InternalErrorException")), AuthError::Unavailable("InternalErrorException".into()));
    }
}

#[cfg(test)]
mod mocked {
    //! Cognito answers moto cannot give (EMAIL_OTP, SELECT_MFA_TYPE, PasswordResetRequired,
    //! throttling), injected with aws-smithy-mocks.
    use super::*;
    use crate::common::secrets::SecretRef;
    use crate::common::secrets::SecretStore;
    use aws_sdk_cognitoidentityprovider::operation::initiate_auth::{InitiateAuthError, InitiateAuthOutput};
    use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
    use aws_sdk_cognitoidentityprovider::types::error::{PasswordResetRequiredException, TooManyRequestsException};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use std::time::Duration;

    struct Secrets;

    /// Error metadata as the SDK reads it off the wire (`x-amzn-ErrorType`).
    fn meta(code: &str) -> aws_smithy_types::error::ErrorMetadata {
        aws_smithy_types::error::ErrorMetadata::builder().code(code).build()
    }

    #[async_trait]
    impl SecretStore for Secrets {
        async fn secret(&self, _: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            Ok(Some(SecretString::from(r#"{"flow_key":"ffffffffffffffffffffffffffffffffffff","cognito_client_secret":"client-secret"}"#)))
        }
    }

    fn auth(client: Client) -> CognitoPasswordAuth {
        CognitoPasswordAuth::new(client, "client-id", Arc::new(CachedSecrets::new(Arc::new(Secrets), SecretRef("b".into()), Duration::from_secs(60))))
    }

    #[tokio::test]
    async fn email_otp_and_select_mfa_challenges_are_read_with_secret_hash() {
        let select = mock!(Client::initiate_auth)
            .match_requests(|r| {
                let p = r.auth_parameters().cloned().unwrap_or_default();
                p.get("SECRET_HASH") == Some(&secret_hash(&SecretString::from("client-secret"), "a@b.co", "client-id"))
            })
            .then_output(|| {
                InitiateAuthOutput::builder()
                    .challenge_name(ChallengeNameType::SelectMfaType)
                    .session("s1")
                    .challenge_parameters("USER_ID_FOR_SRP", "uuid-user")
                    .challenge_parameters("MFAS_CAN_CHOOSE", r#"["SMS_MFA","EMAIL_OTP","WEB_AUTHN"]"#)
                    .build()
            });
        let email = mock!(Client::respond_to_auth_challenge)
            .match_requests(|r| {
                let p = r.challenge_responses().cloned().unwrap_or_default();
                r.challenge_name() == Some(&ChallengeNameType::SelectMfaType)
                    && p.get("ANSWER").map(String::as_str) == Some("EMAIL_OTP")
                    && p.get("USERNAME").map(String::as_str) == Some("uuid-user")
                    && p.get("SECRET_HASH") == Some(&secret_hash(&SecretString::from("client-secret"), "uuid-user", "client-id"))
            })
            .then_output(|| {
                RespondToAuthChallengeOutput::builder()
                    .challenge_name(ChallengeNameType::EmailOtp)
                    .session("s2")
                    .challenge_parameters("CODE_DELIVERY_DESTINATION", "a***@b.co")
                    .build()
            });
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&select, &email]);
        let auth = auth(client);
        let Ok(AuthStep::Challenge(first)) = auth.sign_in("a@b.co", &SecretString::from("pw")).await else { panic!("expected a challenge") };
        assert_eq!(
            (first.kind, first.username.as_str(), first.options.clone()),
            (ChallengeKind::SelectMfaType, "uuid-user", vec![ChallengeKind::SmsMfa, ChallengeKind::EmailOtp])
        );
        let Ok(AuthStep::Challenge(second)) = auth.answer(&first, ChallengeAnswer::Choose(ChallengeKind::EmailOtp)).await else { panic!("expected EMAIL_OTP") };
        assert_eq!((second.kind, second.destination.as_deref()), (ChallengeKind::EmailOtp, Some("a***@b.co")));
        assert_eq!((select.num_calls(), email.num_calls()), (1, 1));
    }

    /// A store that must not be read: the sign-in client's secret comes with the configuration.
    struct Unread;

    #[async_trait]
    impl SecretStore for Unread {
        async fn secret(&self, _: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            panic!("the bridge secret was read for a sign-in through the sign-in client")
        }
    }

    #[tokio::test]
    async fn the_sign_in_client_signs_in_by_the_admin_api_with_its_own_secret_and_reads_no_other() {
        use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput;
        use aws_sdk_cognitoidentityprovider::operation::admin_respond_to_auth_challenge::AdminRespondToAuthChallengeOutput;
        let start = mock!(Client::admin_initiate_auth)
            .match_requests(|r| {
                let p = r.auth_parameters().cloned().unwrap_or_default();
                (r.user_pool_id(), r.client_id(), r.auth_flow()) == (Some("pool"), Some("sign-in"), Some(&AuthFlowType::AdminUserPasswordAuth))
                    && p.get("PASSWORD").map(String::as_str) == Some("pw")
                    && p.get("SECRET_HASH") == Some(&secret_hash(&SecretString::from("sign-in-secret"), "a@b.co", "sign-in"))
            })
            .then_output(|| {
                let builder = AdminInitiateAuthOutput::builder().challenge_name(ChallengeNameType::SmsMfa).session("cognito-session");
                builder.challenge_parameters("USER_ID_FOR_SRP", "uuid-user").build()
            });
        let answer = mock!(Client::admin_respond_to_auth_challenge)
            .match_requests(|r| {
                let p = r.challenge_responses().cloned().unwrap_or_default();
                (r.user_pool_id(), r.client_id(), r.session()) == (Some("pool"), Some("sign-in"), Some("cognito-session"))
                    && p.get("SMS_MFA_CODE").map(String::as_str) == Some("123456")
                    && p.get("SECRET_HASH") == Some(&secret_hash(&SecretString::from("sign-in-secret"), "uuid-user", "sign-in"))
            })
            .then_output(|| {
                let tokens = AuthenticationResultType::builder().id_token("id").access_token("access").build();
                AdminRespondToAuthChallengeOutput::builder().authentication_result(tokens).build()
            });
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&start, &answer]);
        let secrets = Arc::new(CachedSecrets::new(Arc::new(Unread), SecretRef("b".into()), Duration::from_secs(60)));
        let through = SignInClient { user_pool_id: "pool".into(), client_id: "sign-in".into(), secret: Some(SecretString::from("sign-in-secret")) };
        let auth = CognitoPasswordAuth::new(client, "client-id", secrets).with_sign_in_client(Some(through));
        let Ok(AuthStep::Challenge(sms)) = auth.sign_in("a@b.co", &SecretString::from("pw")).await else { panic!("expected SMS_MFA") };
        assert_eq!(sms.session, "sign-in:cognito-session", "marked as the sign-in client's");
        let signed_in = auth.answer(&sms, ChallengeAnswer::Code(SecretString::from("123456"))).await;
        assert!(matches!(signed_in, Ok(AuthStep::Authenticated { ref id_token, .. }) if id_token == "id"), "{signed_in:?}");
        assert_eq!((start.num_calls(), answer.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_refused_client_secret_is_ours_and_a_wrong_password_is_the_persons() {
        use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthError;
        use aws_sdk_cognitoidentityprovider::types::error::NotAuthorizedException;
        let refused = |user: &'static str, message: &'static str| {
            mock!(Client::admin_initiate_auth)
                .match_requests(move |r| r.auth_parameters().and_then(|p| p.get("USERNAME")).map(String::as_str) == Some(user))
                .then_error(move || {
                    let meta = aws_smithy_types::error::ErrorMetadata::builder().code("NotAuthorizedException").message(message).build();
                    AdminInitiateAuthError::NotAuthorizedException(NotAuthorizedException::builder().message(message).meta(meta).build())
                })
        };
        let stale = refused("a@b.co", "Unable to verify secret hash for client sign-in");
        let wrong = refused("c@d.co", "Incorrect username or password.");
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&stale, &wrong]);
        let secrets = Arc::new(CachedSecrets::new(Arc::new(Unread), SecretRef("b".into()), Duration::from_secs(60)));
        let through = SignInClient { user_pool_id: "pool".into(), client_id: "sign-in".into(), secret: Some(SecretString::from("old")) };
        let auth = CognitoPasswordAuth::new(client, "client-id", secrets).with_sign_in_client(Some(through));
        let pw = SecretString::from("pw");
        assert_eq!(auth.sign_in("a@b.co", &pw).await, Err(AuthError::Misconfigured("client secret refused".into())));
        assert_eq!(auth.sign_in("c@d.co", &pw).await, Err(AuthError::InvalidCredentials));
    }

    #[tokio::test]
    async fn reset_required_throttling_and_unknown_challenges() {
        let reset = mock!(Client::initiate_auth)
            .match_requests(|r| r.auth_parameters().and_then(|p| p.get("USERNAME")).map(String::as_str) == Some("reset@b.co"))
            .then_error(|| {
                InitiateAuthError::PasswordResetRequiredException(
                    PasswordResetRequiredException::builder().meta(meta("PasswordResetRequiredException")).build(),
                )
            });
        let throttled = mock!(Client::initiate_auth)
            .match_requests(|r| r.auth_parameters().and_then(|p| p.get("USERNAME")).map(String::as_str) == Some("busy@b.co"))
            .then_error(|| InitiateAuthError::TooManyRequestsException(TooManyRequestsException::builder().meta(meta("TooManyRequestsException")).build()));
        let custom = mock!(Client::initiate_auth)
            .match_requests(|r| r.auth_parameters().and_then(|p| p.get("USERNAME")).map(String::as_str) == Some("custom@b.co"))
            .then_output(|| InitiateAuthOutput::builder().challenge_name(ChallengeNameType::CustomChallenge).session("s").build());
        let client = mock_client!(aws_sdk_cognitoidentityprovider, RuleMode::MatchAny, [&reset, &throttled, &custom]);
        let auth = auth(client);
        let pw = SecretString::from("pw");
        assert_eq!(auth.sign_in("reset@b.co", &pw).await, Err(AuthError::PasswordResetRequired));
        assert_eq!(auth.sign_in("busy@b.co", &pw).await, Err(AuthError::Throttled));
        assert_eq!(auth.sign_in("custom@b.co", &pw).await, Err(AuthError::UnsupportedChallenge("CUSTOM_CHALLENGE".into())));
    }
}
