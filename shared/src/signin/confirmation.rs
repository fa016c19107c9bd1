//! The code step of an account not confirmed yet, shared by sign-up (`sign_up`) and by a
//! password sign-in of such an account (`password`): the sealed state the form carries to
//! `/signup/confirm` and the masked destination it shows.

use serde::{Deserialize, Serialize};

use crate::common::email::Email;
use crate::common::language::Language;
use crate::signin::flow::{self, Purpose, SignInContext};
use crate::signin::service::{CONTEXT_TTL, CodeSent, Outcome, SignInError, SignInPorts};

/// The sign-up between its steps, sealed into the `flow` the form carries back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignUpState {
    pub ctx: SignInContext,
    pub email: String,
    pub language: Language,
}

/// The code step for an account that exists but is not confirmed (a password sign-in with its
/// right password): a new code, then the same step as after a sign-up.
pub(super) async fn unconfirmed(ports: &SignInPorts, ctx: SignInContext, email: &Email, now: u64) -> Result<Outcome, SignInError> {
    // The person's own `locale` chooses the email's language; this is the fallback.
    ports.auth.resend_sign_up_code(email.as_str(), Language::En.tag()).await?;
    Ok(Outcome::ConfirmSignUp(code_step(ports, ctx, email, Language::En, now).await?))
}

pub(super) async fn code_step(ports: &SignInPorts, ctx: SignInContext, email: &Email, language: Language, now: u64) -> Result<CodeSent, SignInError> {
    let key = ports.secrets.bridge().await?;
    let state = SignUpState { ctx, email: email.as_str().to_owned(), language };
    Ok(CodeSent { flow: flow::seal(&key.flow_key, Purpose::SignUp, now + CONTEXT_TTL, &state), destination: masked(email) })
}

/// `h***@e***`: the first character of each side, as Cognito masks a destination.
fn masked(email: &Email) -> String {
    let (local, domain) = email.as_str().split_once('@').unwrap_or((email.as_str(), ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***", first(local), first(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_shows_the_first_character_of_each_side_only() {
        let email = |s: &str| Email::parse(s).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(masked(&email("hanako@example.com")), "h***@e***");
        assert_eq!(masked(&email("haruka@example.co.jp")), masked(&email("hanako@example.com")), "same shape, same answer");
        assert_eq!(masked(&email("山田@例え.jp")), "山***@例***");
    }
}
