//! Passwords known from data breaches: a new password (at sign-up, on the account page, at a
//! reset, or the first one of an invitation) that appears in Have I Been Pwned's Pwned Passwords
//! is refused (`AuthError::PasswordBreached`), as Auth0's breached password detection and
//! NIST SP 800-63B (5.1.1.2: "passwords obtained from previous breach corpuses") ask.
//!
//! - **k-anonymity.** Only the first 5 hexadecimal characters of the password's SHA-1 leave the
//!   function (`GET {base}/range/{prefix}`, the range API); the service answers every suffix it
//!   knows under that prefix (`SUFFIX:COUNT` lines), padded with decoys (`Add-Padding: true`,
//!   their count `0`), and the match is made here. The password and its full hash never leave.
//! - **Open on failure.** A service that cannot be reached, answers an error or takes longer than
//!   the adapter allows lets the password through (logged): the check guards against known
//!   passwords; it must not stop people from choosing one when a third party is down.
//! - The pool's own rules ([`check_password_rules`]) are checked first, without a call.
//!
//! Not here: the port (`signin::ports::PasswordBreaches`), the HTTP call
//! (`adapters::http::pwned_passwords`), and sign-in with a password
//! already set (a breached password already in use is not looked for).

use secrecy::{ExposeSecret, SecretString};

use super::challenge::AuthError;
use super::password_rules::check_password_rules;
use super::service::SignInError;
use super::service::SignInPorts;

/// The password's SHA-1 in upper-case hexadecimal, split after its 5th character.
fn hash_parts(password: &SecretString) -> (String, String) {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, password.expose_secret().as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    let (prefix, suffix) = hex.split_at(5);
    (prefix.to_owned(), suffix.to_owned())
}

/// Whether `range` (the range API's answer) lists `suffix` with a count above 0 (padding's
/// decoys have 0).
fn listed(range: &str, suffix: &str) -> bool {
    range
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .any(|(s, count)| s.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|n| n > 0))
}

impl SignInPorts {
    /// A password the person chose, as the pool's rules and the breach check allow it
    /// (`AuthError::PasswordPolicy`, `AuthError::PasswordBreached`). Without a breach service
    /// configured, the rules alone.
    pub(crate) async fn check_new_password(&self, password: &SecretString) -> Result<(), SignInError> {
        check_password_rules(password)?;
        let Some(breaches) = &self.breaches else { return Ok(()) };
        let (prefix, suffix) = hash_parts(password);
        match breaches.range(&prefix).await {
            Ok(range) if listed(&range, &suffix) => Err(AuthError::PasswordBreached.into()),
            Ok(_) => Ok(()),
            Err(why) => {
                tracing::warn!(error = %why, "the breached-password check could not be made; the password is allowed");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::ports::PasswordBreaches;
    use crate::testing::{ScriptedAuth, sign_in_ports};
    use async_trait::async_trait;
    use std::sync::{Arc, Mutex};

    /// A range service over a list of known passwords, recording the prefixes it was asked for.
    struct Known(Vec<&'static str>, Mutex<Vec<String>>, bool);

    #[async_trait]
    impl PasswordBreaches for Known {
        async fn range(&self, prefix: &str) -> Result<String, String> {
            self.1.lock().map(|mut asked| asked.push(prefix.to_owned())).ok();
            if self.2 {
                return Err("unreachable".into());
            }
            let mut lines: Vec<String> =
                self.0.iter().map(|p| hash_parts(&SecretString::from(p.to_string()))).filter(|(p, _)| p == prefix).map(|(_, s)| format!("{s}:42")).collect();
            lines.push(format!("{}:0", "0".repeat(35)));
            Ok(lines.join("\r\n"))
        }
    }

    #[test]
    fn the_hash_is_sha1_split_after_five_characters() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8, as the range API documents.
        assert_eq!(hash_parts(&SecretString::from("password")), ("5BAA6".into(), "1E4C9B93F3F0682250B6CF8331B7EE68FD8".into()));
        let range = "1E4C9B93F3F0682250B6CF8331B7EE68FD8:9659365\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0";
        assert!(listed(range, "1e4c9b93f3f0682250b6cf8331b7ee68fd8"));
        assert!(!listed(range, "0018A45C4D1DEF81644B54AB7F969B88D65"), "padding's decoys (count 0) are not breaches");
        assert!(!listed("garbage\nmore:garbage", "1E4C9B93F3F0682250B6CF8331B7EE68FD8"));
    }

    #[tokio::test]
    async fn a_known_password_is_refused_only_its_prefix_leaves_and_an_outage_lets_it_through() {
        let known = Arc::new(Known(vec!["Password1234"], Mutex::default(), false));
        let ports = SignInPorts { breaches: Some(known.clone()), ..sign_in_ports(Arc::new(ScriptedAuth::default()), Default::default()) };
        let secret = |p: &str| SecretString::from(p.to_owned());
        assert!(matches!(ports.check_new_password(&secret("Password1234")).await, Err(SignInError::Auth(AuthError::PasswordBreached))));
        assert!(ports.check_new_password(&secret("Corr3ct-Horse-Battery")).await.is_ok());
        let weak = ports.check_new_password(&secret("short")).await;
        assert!(matches!(weak, Err(SignInError::Auth(AuthError::PasswordPolicy))), "the rules first");
        let asked = known.1.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(asked.len(), 2, "no call for a password the rules refuse");
        assert!(asked.iter().all(|p| p.len() == 5 && p.chars().all(|c| c.is_ascii_hexdigit())), "{asked:?}");
        let down = SignInPorts { breaches: Some(Arc::new(Known(vec!["Password1234"], Mutex::default(), true))), ..ports };
        assert!(down.check_new_password(&SecretString::from("Password1234")).await.is_ok(), "open on failure");
    }
}
