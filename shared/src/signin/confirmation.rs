//! The code step of an account not confirmed yet, shared by sign-up (`sign_up`) and by a
//! password sign-in of such an account (`password`): the sealed state the form carries to
//! `/signup/confirm` and the masked destination it shows.

use serde::{Deserialize, Serialize};

use secrecy::SecretString;

use crate::common::email::Email;
use crate::common::language::Language;
use crate::signin::challenge::AuthError;
use crate::signin::flow::{self, Purpose, SignInContext};
use crate::signin::service::{CONTEXT_TTL, CodeSent, Outcome, SignInError, SignInPorts};

/// The sign-up between its steps, sealed into the `flow` the form carries back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignUpState {
    pub ctx: SignInContext,
    pub email: String,
    pub language: Language,
    /// The name given at sign-up (none when a sign-in found the account unconfirmed): the
    /// account is made the confirmer's when the code is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The documents accepted at sign-up, recorded at the first sign-in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<crate::consent::decision::Decision>,
}

/// The code step for an account that exists but is not confirmed (a password sign-in with its
/// right password): a new code, then the same step as after a sign-up. `send: false` for an
/// address with an account that someone signed up again with this password (see
/// [`proof`]): the same step, and no email.
pub(super) async fn unconfirmed(ports: &SignInPorts, ctx: SignInContext, email: &Email, send: bool, now: u64) -> Result<Outcome, SignInError> {
    if !ports.sign_ups.code_sent(email.as_str(), now).await? {
        return Err(AuthError::TooManyAttempts.into());
    }
    if send {
        // The person's own `locale` chooses the email's language; this is the fallback.
        ports.auth.resend_sign_up_code(email.as_str(), Language::En.tag()).await?;
    }
    let state = SignUpState { ctx, email: email.as_str().to_owned(), language: Language::En, name: None, consents: Vec::new() };
    Ok(Outcome::ConfirmSignUp(code_step(ports, state, now).await?))
}

/// The keyed proof of a password chosen at a sign-up of an address that has an account:
/// HMAC-SHA256 under the bridge's flow key of the address and the password (base64url). It lets
/// a later sign-in with that password be recognised without keeping the password.
pub(super) async fn proof(ports: &SignInPorts, email: &Email, password: &SecretString) -> Result<String, SignInError> {
    use base64::Engine;
    use secrecy::ExposeSecret;
    let key = ports.secrets.bridge().await?;
    let address = email.as_str().to_lowercase();
    let mac = crate::common::hashing::hmac_sha256(
        key.flow_key.expose_secret().as_bytes(),
        &[b"sign-up-proof\0", address.as_bytes(), b"\0", password.expose_secret().as_bytes()],
    );
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `password` is the one someone chose signing up `email`, which has an account (then
/// a sign-in with it answers as for an account not confirmed yet). Compared in constant time.
pub(super) async fn noted(ports: &SignInPorts, email: &Email, password: &SecretString, now: u64) -> Result<bool, SignInError> {
    let Some(noted) = ports.sign_ups.noted(email.as_str(), now).await? else { return Ok(false) };
    let given = proof(ports, email, password).await?;
    Ok(subtle::ConstantTimeEq::ct_eq(noted.as_bytes(), given.as_bytes()).into())
}

/// The code step for `state`: its sealed flow and the masked address.
pub(super) async fn code_step(ports: &SignInPorts, state: SignUpState, now: u64) -> Result<CodeSent, SignInError> {
    let key = ports.secrets.bridge().await?;
    let destination = masked(&state.email);
    Ok(CodeSent { flow: flow::seal(&key.flow_key, Purpose::SignUp, now + CONTEXT_TTL, &state), destination })
}

/// `h***@e***`: the first character of each side of an address, as Cognito masks a destination.
pub(super) fn masked(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***", first(local), first(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_shows_the_first_character_of_each_side_only() {
        assert_eq!(masked("hanako@example.com"), "h***@e***");
        assert_eq!(masked("haruka@example.co.jp"), masked("hanako@example.com"), "same shape, same answer");
        assert_eq!(masked("山田@例え.jp"), "山***@例***");
    }
}
