//! The steps Cognito asks for before it issues tokens, and why authentication may stop: the
//! vocabulary of password sign-in, shared by the sign-in service and the Cognito adapter.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// A step Cognito asks for before it issues tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    NewPassword,
    SmsMfa,
    SoftwareTokenMfa,
    EmailOtp,
    SelectMfaType,
    /// Not Cognito's: the bridge's own step to set up an authenticator app (a high-risk sign-in
    /// to an app that requires a second factor, by a person who has none).
    TotpSetup,
    /// Not Cognito's: before that set-up, a code sent to the person's verified email, so that
    /// whoever holds only the password cannot enrol a factor of their own.
    VerifyEmail,
    /// A passkey (Cognito's `WEB_AUTHN`, choice-based sign-in): the browser answers the request
    /// options with `navigator.credentials.get`.
    WebAuthn,
    /// Cognito's choice among first factors (`SELECT_CHALLENGE`): the one preferred was not
    /// available for this person.
    SelectChallenge,
}

/// A challenge as the identity provider poses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub kind: ChallengeKind,
    /// The provider's opaque session for the answer.
    pub session: String,
    /// The provider's user name for this person.
    pub username: String,
    /// Where a code was sent, masked by the provider (`+*******1234`).
    pub destination: Option<String>,
    /// For `SelectMfaType` and `SelectChallenge`: the factors the person may choose from.
    pub options: Vec<ChallengeKind>,
    /// For `WebAuthn`: the request options for `navigator.credentials.get` (Cognito's
    /// `CREDENTIAL_REQUEST_OPTIONS`, JSON).
    pub request_options: Option<String>,
}

/// The result of one authentication step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Signed in: the provider's ID token, still to be verified, and the access token (for the
    /// person's own settings: setting up an authenticator app).
    Authenticated {
        id_token: String,
        access_token: AccessToken,
    },
    Challenge(Challenge),
}

/// A Cognito access token; never shown in `Debug`.
#[derive(Debug, Clone)]
pub struct AccessToken(pub SecretString);

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        secrecy::ExposeSecret::expose_secret(&self.0) == secrecy::ExposeSecret::expose_secret(&other.0)
    }
}

impl Eq for AccessToken {}

/// The person's answer to a challenge.
#[derive(Debug)]
pub enum ChallengeAnswer {
    NewPassword(SecretString),
    Code(SecretString),
    Choose(ChallengeKind),
    /// A passkey's answer: the browser's `AuthenticationResponseJSON` (W3C WebAuthn Level 3).
    Credential(String),
}

/// Why authentication did not go ahead, in terms the person can be told (or not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Wrong password, unknown user or disabled user: deliberately indistinguishable.
    #[error("incorrect email or password")]
    InvalidCredentials,
    #[error("the password must be reset before signing in")]
    PasswordResetRequired,
    #[error("the account is not confirmed")]
    NotConfirmed,
    /// Sign-up only: the email has an account (never shown as such: see `signin::sign_up`).
    #[error("the email has an account")]
    AccountExists,
    #[error("the code is incorrect")]
    CodeMismatch,
    #[error("the code has expired")]
    CodeExpired,
    #[error("the sign-in step expired; start again")]
    ChallengeExpired,
    #[error("the new password does not meet the password policy")]
    PasswordPolicy,
    /// The new password is one known from data breaches (`signin::breached_passwords`).
    #[error("the new password is known from data breaches")]
    PasswordBreached,
    #[error("too many attempts")]
    TooManyAttempts,
    #[error("the provider asked for a step this bridge does not handle: {0}")]
    UnsupportedChallenge(String),
    #[error("the identity provider is throttling requests")]
    Throttled,
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the identity provider refused the bridge's configuration: {0}")]
    Misconfigured(String),
}
