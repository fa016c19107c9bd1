//! Who is calling the admin API. The console signs its people in like any other app: the
//! bridge mints the console app's token (a JWT with our own keys, `aud` the admin API's
//! audience), and the console sends it as `Authorization: Bearer`. The admin API
//! (`adapters::console_tokens`) verifies it into a [`ConsoleIdentity`]; [`Operator::admit`]
//! then decides from the person's current Cognito account: enabled, the same `sub`, a console
//! role ([`Role::of`] their groups now, not at sign-in), and a second factor in the sign-in
//! behind the token.

use serde::Serialize;
use serde_json::Value;

use super::audit::{Actor, Via};
use super::role::Role;
use crate::directory::ports::PoolUser;

/// What a verified console token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleIdentity {
    /// Cognito's `sub`.
    pub sub: String,
    /// Cognito's user name (`cognito:username`).
    pub username: String,
    pub email: Option<String>,
    /// The token's `amr` has `mfa` (RFC 8176).
    pub second_factor: bool,
    /// The token's `iat` (seconds since the epoch).
    pub issued_at: u64,
}

/// Why a verified token does not open the console (each a `403`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the console needs a sign-in with a second factor: set one up and sign in again")]
    SecondFactorRequired,
    #[error("you have no console role")]
    NoRole,
    /// The token was issued before its person signed out of the console or the bridge, or was
    /// signed out, disabled or lost their role (a `401`: sign in again).
    #[error("this sign-in to the console has been revoked")]
    Revoked,
}

/// A console person let in, with what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    #[serde(flatten)]
    pub actor: Actor,
    pub username: String,
    pub role: Role,
}

impl Operator {
    /// `identity`'s operator, given their Cognito account as it is now (`None`: deleted) and
    /// the address the request came from. The audit trail names them by the account's own email,
    /// not the token's: the console app's claims are an admin's to map (a constant, or a name
    /// each person edits), and a trail must not say whatever a claim says.
    ///
    /// `not_before`: the person's console tokens issued before this second are revoked
    /// (`PersonSessions::signed_out_at`): [`Refusal::Revoked`]. One issued in that
    /// second stands, so a sign-in straight after a sign-out is never refused.
    pub fn admit(identity: ConsoleIdentity, account: Option<&PoolUser>, not_before: Option<u64>, ip: Option<String>) -> Result<Self, Refusal> {
        if not_before.is_some_and(|at| identity.issued_at < at) {
            return Err(Refusal::Revoked);
        }
        let account = account.filter(|a| a.enabled && a.attributes.get("sub").and_then(Value::as_str) == Some(identity.sub.as_str())).ok_or(Refusal::NoRole)?;
        let role = Role::of(account.groups.iter().map(String::as_str)).ok_or(Refusal::NoRole)?;
        if !identity.second_factor {
            return Err(Refusal::SecondFactorRequired);
        }
        let email = account.attributes.get("email").and_then(Value::as_str).map(str::to_owned);
        Ok(Self { actor: Actor { id: identity.sub, email, ip, via: Via::Api }, username: identity.username, role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(mfa: bool) -> ConsoleIdentity {
        ConsoleIdentity { sub: "s-1".into(), username: "ann@example.com".into(), email: Some("ann@example.com".into()), second_factor: mfa, issued_at: 1_000 }
    }

    fn account(sub: &str, enabled: bool, groups: &[&str]) -> PoolUser {
        let attributes = json!({"sub": sub, "email": "ann@example.com"}).as_object().cloned().unwrap_or_default();
        PoolUser {
            username: "ann@example.com".into(),
            enabled,
            attributes,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            factors: vec![],
            status: None,
        }
    }

    #[test]
    fn only_a_current_enabled_account_with_a_role_and_a_second_factor_gets_in() {
        let admitted = Operator::admit(identity(true), Some(&account("s-1", true, &["bridge-operator"])), Some(999), Some("192.0.2.1".into()));
        assert_eq!(admitted.map(|o| (o.role, o.actor.ip, o.actor.email)), Ok((Role::Operator, Some("192.0.2.1".into()), Some("ann@example.com".into()))));
        // A token whose email claim says someone else (the console app's mapping is an admin's):
        // the trail names the account's own email.
        let claimed = ConsoleIdentity { email: Some("lead@example.com".into()), ..identity(true) };
        let admitted = Operator::admit(claimed, Some(&account("s-1", true, &["bridge-admin"])), None, None);
        assert_eq!(admitted.map(|o| o.actor.email), Ok(Some("ann@example.com".into())));
        assert_eq!(Operator::admit(identity(false), Some(&account("s-1", true, &["bridge-admin"])), None, None), Err(Refusal::SecondFactorRequired));
        assert_eq!(Operator::admit(identity(true), Some(&account("s-1", true, &["staff"])), None, None), Err(Refusal::NoRole));
        assert_eq!(Operator::admit(identity(true), Some(&account("s-1", false, &["bridge-admin"])), None, None), Err(Refusal::NoRole));
        // The user name now belongs to another account (deleted and made again): not this token's.
        assert_eq!(Operator::admit(identity(true), Some(&account("s-2", true, &["bridge-admin"])), None, None), Err(Refusal::NoRole));
        assert_eq!(Operator::admit(identity(true), None, None, None), Err(Refusal::NoRole));
    }

    /// A token issued before its person's console sign-out is revoked; one issued in that
    /// second or after opens the console.
    #[test]
    fn a_token_issued_before_its_persons_sign_out_is_revoked() {
        let ann = account("s-1", true, &["bridge-admin"]);
        for not_before in [1_001, 5_000] {
            assert_eq!(Operator::admit(identity(true), Some(&ann), Some(not_before), None), Err(Refusal::Revoked), "{not_before}");
        }
        for not_before in [999, 1_000] {
            assert!(Operator::admit(identity(true), Some(&ann), Some(not_before), None).is_ok(), "{not_before}");
        }
    }
}
