//! The user pool's password rules, checked by the bridge before any call that sets a password
//! (sign-up, a reset, a first password, a change): what Cognito would answer differently for an
//! existing account, or refuse as a malformed request, is answered here alike for every address.
//! Not the sign-in itself (a wrong password is Cognito's to judge).

use secrecy::SecretString;

use crate::signin::challenge::AuthError;
use crate::signin::service::SignInError;

/// The user pool's password rules (`template.yaml`, `Policies.PasswordPolicy`): at least 10
/// characters, a lowercase and an uppercase letter and a digit, no space at either end. Checked before Cognito is called
/// so that an email with an account answers a weak password as a new one does (Cognito may check
/// the account first). Change it with the pool's policy.
pub fn check_password_rules(password: &SecretString) -> Result<(), SignInError> {
    let password = secrecy::ExposeSecret::expose_secret(password);
    let has = |f: fn(char) -> bool| password.chars().any(f);
    // Cognito refuses a password that begins or ends with a space (its pattern), as a malformed
    // request rather than a weak password.
    let trimmed = password.trim() == password;
    let ok = trimmed && password.chars().count() >= 10 && has(|c| c.is_ascii_lowercase()) && has(|c| c.is_ascii_uppercase()) && has(|c| c.is_ascii_digit());
    if ok { Ok(()) } else { Err(AuthError::PasswordPolicy.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_refuse_a_space_at_either_end() {
        let rules = |p: &str| check_password_rules(&SecretString::from(p.to_owned())).is_ok();
        assert!(rules("Corr3ct-Horse1") && rules("Corr3ct Horse1"));
        for weak in [" Corr3ct-Horse1", "Corr3ct-Horse1 ", "Corr3ct-Horse1\t", "short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"] {
            assert!(!rules(weak), "{weak:?}");
        }
    }
}
