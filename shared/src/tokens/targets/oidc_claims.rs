//! What an OpenID Connect client's tokens say of the person: the scopes served and the standard
//! claims each adds (OpenID Connect Core §5.4), the claims the bridge sets itself, and the lists
//! a discovery document gives. Not the tokens themselves (`oidc`).

use serde_json::{Map, Value};

use super::mint::{MintError, verified_email};
use crate::common::profile::UserProfile;
use crate::tokens::claims::ClaimMapping;

/// Claims the bridge sets itself (registered, and the standard claims of the scopes it
/// serves); a mapping may not name them.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "azp",
    "iat",
    "exp",
    "nbf",
    "jti",
    "amr",
    "acr",
    "nonce",
    "auth_time",
    "at_hash",
    "c_hash",
    "sid",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "locale",
    "phone_number",
    "phone_number_verified",
];

/// The scopes served, and the standard claims (OpenID Connect Core §5.4) each adds, by the
/// Cognito attribute of the same name.
pub(super) const SCOPES: &[(&str, &[&str])] = &[
    ("openid", &[]),
    ("email", &["email", "email_verified"]),
    ("profile", &["name", "given_name", "family_name", "locale"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    // A refresh token (OpenID Connect Core §11), for a client that allows them.
    (OFFLINE_ACCESS, &[]),
];

/// The scope that asks for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The claims of `profile` for `scope` (space-separated): `sub`, the standard claims of the scopes
/// (OpenID Connect Core §5.4) and the app's claim mapping's. Errors: a required mapped claim
/// the person lacks.
pub fn claims(profile: &UserProfile, mapping: &ClaimMapping, scope: &str) -> Result<Map<String, Value>, MintError> {
    let mut claims = mapping.apply(profile)?;
    claims.insert("sub".into(), profile.subject.clone().into());
    let scopes: Vec<&str> = scope.split(' ').collect();
    let served = SCOPES.iter().filter(|(name, _)| scopes.contains(name)).flat_map(|(_, claims)| claims.iter());
    for name in served {
        let value = match *name {
            // Only a verified email is ever sent (many clients link accounts by email and
            // ignore `email_verified`), as to every app.
            "email" => verified_email(profile).ok().map(Value::from),
            "email_verified" => verified_email(profile).ok().map(|_| true.into()),
            "phone_number_verified" => profile.attribute("phone_number").map(|_| (profile.attribute(name) == Some("true")).into()),
            other => profile.attribute(other).map(Value::from),
        };
        if let Some(value) = value {
            claims.insert((*name).into(), value);
        }
    }
    Ok(claims)
}

/// The scopes a discovery document lists.
pub fn scopes_supported() -> Vec<&'static str> {
    SCOPES.iter().map(|(name, _)| *name).collect()
}

/// The claims a discovery document lists.
pub fn claims_supported() -> Vec<&'static str> {
    let mut claims = vec!["iss", "sub", "aud", "azp", "iat", "exp", "jti", "amr", "nonce", "auth_time", "sid"];
    claims.extend(SCOPES.iter().flat_map(|(_, c)| c.iter().copied()));
    claims
}
