//! The one mapping from a sign-in error to what the browser is told: HTTP status, a stable
//! error code the form localises, an English message, and `Retry-After` where waiting helps.
//! Internal details (AWS error codes, key ids) are logged, never sent.

use http::StatusCode;
use shared::common::store::StoreError;
use shared::directory::ports::DirectoryError;
use shared::signin::challenge::AuthError;
use shared::signin::corporate::CorporateError;
use shared::signin::flow::FlowError;
use shared::signin::ports::{OidcError, TokenRejected};
use shared::signin::service::SignInError;
use shared::tokens::targets::mint::MintError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub retry_after: Option<u32>,
}

const fn p(status: StatusCode, code: &'static str, message: &'static str) -> Problem {
    Problem { status, code, message, retry_after: None }
}

const UNAVAILABLE: Problem = Problem {
    status: StatusCode::SERVICE_UNAVAILABLE,
    code: "unavailable",
    message: "Sign-in is temporarily unavailable. Please try again in a moment.",
    retry_after: Some(5),
};
const THROTTLED: Problem = Problem {
    status: StatusCode::TOO_MANY_REQUESTS,
    code: "throttled",
    message: "Too many sign-in requests right now. Please wait a moment and try again.",
    retry_after: Some(2),
};

pub const BAD_REQUEST: Problem = p(StatusCode::BAD_REQUEST, "invalid_request", "The request is missing a field or has an invalid value.");
pub const NOT_FOUND: Problem = p(StatusCode::NOT_FOUND, "not_found", "There is nothing here.");
pub const METHOD_NOT_ALLOWED: Problem = p(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This method is not allowed here.");
pub const UNSUPPORTED_MEDIA_TYPE: Problem = p(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Send JSON (Content-Type: application/json).");
pub const TOO_LARGE: Problem = p(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", "The request is too large.");
/// A sign-in whose next step would not fit the token the browser carries (its app token, or the
/// person's Cognito tokens, too large): refused before that step's own writes (a handoff's
/// session, a consent step's decisions) and before an email code is sent for it.
const SIGN_IN_TOO_LARGE: Problem =
    p(StatusCode::UNPROCESSABLE_ENTITY, "sign_in_too_large", "Your account has more details than this sign-in can carry. Contact support.");
pub const CODE_MISMATCH: Problem = p(StatusCode::UNAUTHORIZED, "code_mismatch", "That code is not correct.");
const OTHER_BROWSER: Problem =
    p(StatusCode::FORBIDDEN, "other_browser", "This sign-in was started in another browser. Start again from the app in this browser.");
pub const ORIGIN_NOT_ALLOWED: Problem = p(StatusCode::FORBIDDEN, "origin_not_allowed", "Requests from this origin are not allowed.");

impl Problem {
    pub fn of(error: &SignInError) -> Self {
        use StatusCode as S;
        match error {
            SignInError::BadInput("email") => p(S::BAD_REQUEST, "invalid_email", "Enter a valid email address."),
            SignInError::BadInput("name") => p(S::BAD_REQUEST, "invalid_name", "Enter your name (at most 100 characters)."),
            SignInError::BadInput("confirm") => p(S::BAD_REQUEST, "confirm_mismatch", "Type your email address exactly to confirm."),
            SignInError::BadInput("phone_number") => p(S::CONFLICT, "phone_not_verified", "Your account has no verified phone number for text messages."),
            SignInError::BadInput("phone_number_format") => {
                p(S::BAD_REQUEST, "invalid_phone", "Enter the phone number with its country code, for example +81 90 1234 5678.")
            }
            SignInError::BadInput("phone_number_country") => {
                p(S::BAD_REQUEST, "phone_country_not_allowed", "Text message codes cannot be sent to numbers in that country or region.")
            }
            SignInError::BadInput("authenticator_exists") => {
                p(S::CONFLICT, "authenticator_exists", "You already have an authenticator app. Remove it first to add another.")
            }
            SignInError::BadInput("sms_on") => {
                p(S::CONFLICT, "sms_on", "Text message codes are your second factor. Turn them off first, then change the number.")
            }
            SignInError::BadInput("factor") => p(S::CONFLICT, "factor_off", "That second factor is not turned on."),
            SignInError::BadInput("language") => p(S::BAD_REQUEST, "invalid_language", "Choose one of the languages offered."),
            SignInError::BadInput(_) => BAD_REQUEST,
            SignInError::UnknownApp => p(S::NOT_FOUND, "unknown_app", "This sign-in link is not for a known app."),
            SignInError::ReturnTo(_) => p(S::BAD_REQUEST, "return_to_not_allowed", "This sign-in link would send you to a page the app does not allow."),
            SignInError::Flow(FlowError::Invalid) => p(S::BAD_REQUEST, "invalid_flow", "This sign-in page is not valid. Start again from the app."),
            SignInError::Flow(FlowError::Expired) => p(S::BAD_REQUEST, "flow_expired", "This sign-in page has expired. Start again from the app."),
            SignInError::Flow(FlowError::TooLarge) | SignInError::Token(TokenRejected::TooLarge) => SIGN_IN_TOO_LARGE,
            SignInError::Auth(auth) => Self::of_auth(auth),
            SignInError::EmailNotVerified => p(S::FORBIDDEN, "email_not_verified", "Your email address is not verified yet."),
            SignInError::HighRiskDenied => p(
                S::FORBIDDEN,
                "sign_in_denied",
                "This sign-in looks unusual, so it was stopped. Try again from a device you have used before, or contact support.",
            ),
            SignInError::AccountRevoked => p(S::FORBIDDEN, "account_deactivated", "Your account is deactivated. Contact your IT administrator."),
            SignInError::NotAssigned => {
                p(S::FORBIDDEN, "not_assigned", "Your account does not have access to this app. Ask the app's administrator to give you access.")
            }
            SignInError::HandoffUsed => p(S::BAD_REQUEST, "handoff_used", "This sign-in was already completed. Start again from the app."),
            SignInError::OtherBrowser => OTHER_BROWSER,
            SignInError::SecondFactorRequired => p(
                S::FORBIDDEN,
                "mfa_required",
                "This sign-in looks unusual and needs a second factor. Set up an authenticator app for your account, then sign in again.",
            ),
            SignInError::StrongerSignInRequired => p(
                S::FORBIDDEN,
                "stronger_sign_in_required",
                "This sign-in looks unusual, and this app needs more than an email code. Sign in with your password or a passkey.",
            ),
            SignInError::ProviderSecondFactorRequired => p(
                S::FORBIDDEN,
                "corporate_mfa_required",
                "This sign-in looks unusual and this app needs a second factor, which your company's sign-in did not report. Contact your IT administrator.",
            ),
            SignInError::NotSignedIn => p(S::UNAUTHORIZED, "not_signed_in", "Your session has ended. Sign in again, then open your account page from the app."),
            SignInError::ManagedByCompany => {
                p(S::FORBIDDEN, "managed_by_company", "Your company manages your account. Ask your IT administrator to change or delete it.")
            }
            SignInError::ConsentRequired => {
                p(S::FORBIDDEN, "consent_required", "You need to accept the required terms to continue. Sign in again when you are ready.")
            }
            SignInError::SignUpClosed => p(S::FORBIDDEN, "sign_up_closed", "You cannot create an account for this app here. Contact its support."),
            SignInError::UseCorporate => p(S::CONFLICT, "use_corporate", "Your company manages your account. Sign in with your corporate email."),
            SignInError::PasswordSignInDisabled => {
                p(S::FORBIDDEN, "password_sign_in_disabled", "Your organisation manages your sign-in. Sign in through your company's sign-in page.")
            }
            SignInError::Mint(MintError::MissingEmail | MintError::MissingName | MintError::MissingClaim(_)) => {
                p(S::UNPROCESSABLE_ENTITY, "profile_incomplete", "Your account is missing details this app needs. Contact support.")
            }
            SignInError::AppRequest(_) | SignInError::Mint(MintError::MissingRequest) => {
                p(S::BAD_REQUEST, "app_request_invalid", "The app's sign-in request is not valid or has expired. Go back to the app and try again.")
            }
            SignInError::Mint(MintError::Signing)
            | SignInError::Signer(_)
            | SignInError::Token(TokenRejected::Invalid(_) | TokenRejected::KeysUnavailable(_)) => UNAVAILABLE,
            SignInError::Store(e) => Self::of_store(e),
            SignInError::Directory(e) => Self::of_directory(e),
        }
    }

    fn of_store(error: &StoreError) -> Self {
        if *error == StoreError::Throttled { THROTTLED } else { UNAVAILABLE }
    }

    fn of_directory(error: &DirectoryError) -> Self {
        if *error == DirectoryError::Throttled { THROTTLED } else { UNAVAILABLE }
    }

    pub fn of_corporate(error: &CorporateError) -> Self {
        use StatusCode as S;
        const TRY_AGAIN: Problem = p(StatusCode::UNAUTHORIZED, "corporate_failed", "Your company's sign-in could not be confirmed. Please try again.");
        match error {
            CorporateError::BadInput("email") => p(S::BAD_REQUEST, "invalid_email", "Enter a valid email address."),
            CorporateError::BadInput(_) => BAD_REQUEST,
            CorporateError::UnknownDomain | CorporateError::NotConnected => {
                p(S::NOT_FOUND, "unknown_domain", "We could not find company sign-in for this email address. Sign in with your password instead.")
            }
            CorporateError::Flow(FlowError::Invalid) => p(S::BAD_REQUEST, "invalid_flow", "This sign-in page is not valid. Start again from the app."),
            CorporateError::Flow(FlowError::Expired) => p(S::BAD_REQUEST, "flow_expired", "This sign-in page has expired. Start again from the app."),
            CorporateError::Flow(FlowError::TooLarge) => SIGN_IN_TOO_LARGE,
            CorporateError::InvalidState => p(S::BAD_REQUEST, "corporate_state", "This sign-in attempt is no longer valid. Start again from the app."),
            CorporateError::OtherBrowser => OTHER_BROWSER,
            CorporateError::ProviderDenied(_) => p(S::FORBIDDEN, "corporate_denied", "Your company's sign-in did not complete."),
            CorporateError::Provider(OidcError::Refused(_) | OidcError::BadToken(_)) | CorporateError::Claims(_) => TRY_AGAIN,
            CorporateError::Provider(OidcError::Unavailable(_)) | CorporateError::Unconfigured => Problem { code: "corporate_unavailable", ..UNAVAILABLE },
            CorporateError::OutsideDomain | CorporateError::OtherOrganisation => {
                p(S::FORBIDDEN, "corporate_outside_domain", "Your company account's email address is not one your organisation signs in with here.")
            }
            CorporateError::NotProvisioned => {
                p(S::FORBIDDEN, "not_provisioned", "Your company has not given you access to this service yet. Contact your IT administrator.")
            }
            CorporateError::EmailNotVerified => p(
                S::FORBIDDEN,
                "corporate_email_unverified",
                "Your company's sign-in did not confirm your email address, so we cannot find your account. Contact your IT administrator.",
            ),
            CorporateError::OtherProvider => TRY_AGAIN,
            CorporateError::Deactivated => p(S::FORBIDDEN, "account_deactivated", "Your account is deactivated. Contact your IT administrator."),
            CorporateError::Store(e) => Self::of_store(e),
            CorporateError::Directory(e) => Self::of_directory(e),
        }
    }

    fn of_auth(error: &AuthError) -> Self {
        use StatusCode as S;
        match error {
            AuthError::InvalidCredentials => p(S::UNAUTHORIZED, "invalid_credentials", "Incorrect email or password."),
            AuthError::PasswordResetRequired => p(S::FORBIDDEN, "password_reset_required", "You need to set a new password. Enter the code we sent you."),
            AuthError::NotConfirmed => p(S::FORBIDDEN, "account_not_confirmed", "Your account is not confirmed yet."),
            // Never shown for what it is (sign-up answers the same either way); listed for completeness.
            AuthError::AccountExists => CODE_MISMATCH,
            AuthError::CodeMismatch => CODE_MISMATCH,
            AuthError::CodeExpired => p(S::UNAUTHORIZED, "code_expired", "That code has expired. Ask for a new one."),
            AuthError::ChallengeExpired => p(S::UNAUTHORIZED, "challenge_expired", "This sign-in step has expired. Sign in again."),
            AuthError::PasswordPolicy => p(S::BAD_REQUEST, "password_policy", "The new password does not meet the password rules."),
            AuthError::TooManyAttempts => {
                Problem { retry_after: Some(60), ..p(S::TOO_MANY_REQUESTS, "too_many_attempts", "Too many attempts. Wait a while and try again.") }
            }
            AuthError::UnsupportedChallenge(_) => {
                p(S::FORBIDDEN, "unsupported_challenge", "Your account needs a sign-in step this page cannot do yet. Contact support.")
            }
            AuthError::Throttled => THROTTLED,
            AuthError::Unavailable(_) | AuthError::Misconfigured(_) => UNAVAILABLE,
        }
    }

    /// Whether the cause is on our side (logged as an error) rather than the person's.
    pub fn is_server_side(&self) -> bool {
        self.status.is_server_error()
    }
}
