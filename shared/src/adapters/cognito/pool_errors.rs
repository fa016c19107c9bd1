//! Cognito's failures in the directory's terms ([`DirectoryError`]), and the attribute builder
//! the pool's admin calls share (`directory`, `invitations`).

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::AttributeType;

use crate::adapters::aws::Failure;
use crate::directory::ports::DirectoryError;

/// Cognito's answers a retry cannot change: the request itself is refused (an attribute value
/// it does not take, an email or user name another user has, a trigger that said no).
const REFUSALS: &[&str] = &[
    "InvalidParameterException",
    "AliasExistsException",
    "UsernameExistsException",
    "UserLambdaValidationException",
    // The user's own state (a password reset pending, an account not confirmed): trying again
    // changes nothing.
    "PasswordResetRequiredException",
    "UserNotConfirmedException",
];

/// A Cognito failure in the domain's terms: `Throttled` or `Unavailable` (retry later; this
/// includes the bridge's own permissions and pool configuration, which an operator fixes),
/// `Gone`, or `Refused` (never as asked), with Cognito's message.
pub(super) fn classify(failure: &Failure, message: Option<&str>) -> DirectoryError {
    match failure {
        f if f.is_throttling() => DirectoryError::Throttled,
        Failure::Service { code } if code == "UserNotFoundException" => DirectoryError::Gone,
        Failure::Service { code } if REFUSALS.contains(&code.as_str()) => DirectoryError::Refused(match message.map(str::trim) {
            Some(m) if !m.is_empty() => format!("{code}: {m}"),
            _ => code.clone(),
        }),
        other => DirectoryError::Unavailable(other.describe()),
    }
}

pub(super) fn directory_error<E: ProvideErrorMetadata, R>(e: &aws_sdk_cognitoidentityprovider::error::SdkError<E, R>) -> DirectoryError {
    classify(&Failure::of(e), e.message())
}

pub(super) fn attribute(name: &str, value: &str) -> Result<AttributeType, DirectoryError> {
    AttributeType::builder().name(name).value(value).build().map_err(|e| DirectoryError::Refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cognito_error_is_sorted_into_retry_later_or_never() {
        let service = |code: &str| Failure::Service { code: code.into() };
        for code in ["InvalidParameterException", "AliasExistsException", "UsernameExistsException", "UserLambdaValidationException"] {
            let e = classify(&service(code), Some("Invalid email address format."));
            assert_eq!(e, DirectoryError::Refused(format!("{code}: Invalid email address format.")));
            assert!(!e.is_transient(), "{code}");
        }
        assert_eq!(classify(&service("AliasExistsException"), None), DirectoryError::Refused("AliasExistsException".into()));
        for code in ["TooManyRequestsException", "InternalErrorException", "ResourceNotFoundException", "NotAuthorizedException", "UnexpectedLambdaException"] {
            assert!(classify(&service(code), Some("x")).is_transient(), "{code}");
        }
        assert!(classify(&Failure::Transport("timeout".into()), None).is_transient());
        assert_eq!(classify(&service("UserNotFoundException"), None), DirectoryError::Gone);
        assert!(!DirectoryError::Gone.is_transient() && !DirectoryError::Claimed("a@corp.example".into()).is_transient());
    }
}
