//! `UserProfile`: who signed in, read from the claims of a verified Cognito ID token.
//!
//! It holds the person's attributes (standard and `custom:`) and groups, nothing about the token
//! itself. It does not verify anything: see `ports::IdTokenVerifier`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::common::email::Email;

/// The organisation a person belongs to (set by SCIM or corporate sign-in, never by the person).
pub const ORG_ATTRIBUTE: &str = "custom:org_id";
/// The person's SCIM resource id, for people an organisation provisions.
pub const SCIM_ATTRIBUTE: &str = "custom:scim_id";

/// The providers linked to a Cognito user, from its `identities` attribute or claim: an array
/// of `{providerName, ...}`, or that array as a string. `None` when it is there but does not read
/// so (not an array, or an entry without a `providerName`); empty when it is not there.
pub fn identity_providers(value: Option<&Value>) -> Option<Vec<String>> {
    let parsed = match value {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::String(s)) => serde_json::from_str(s).ok()?,
        Some(v) => v.clone(),
    };
    parsed.as_array()?.iter().map(|i| i.get("providerName").and_then(Value::as_str).map(str::to_owned)).collect()
}

/// Claims that describe the token, not the person; they never become attributes.
pub const TOKEN_CLAIMS: &[&str] =
    &["iss", "aud", "exp", "iat", "nbf", "auth_time", "token_use", "jti", "origin_jti", "event_id", "at_hash", "nonce", "cognito:groups"];

#[derive(Clone, PartialEq)]
pub struct UserProfile {
    /// Cognito's `sub`: stable for the life of the user, used as the apps' external id.
    pub subject: String,
    pub email: Option<Email>,
    pub email_verified: bool,
    /// Every other attribute as text, by its Cognito name (`name`, `phone_number`, `custom:company`...).
    pub attributes: BTreeMap<String, String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the ID token has no subject")]
    NoSubject,
}

impl UserProfile {
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Self, ProfileError> {
        let subject = claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(ProfileError::NoSubject)?;
        let email = claims.get("email").and_then(Value::as_str).and_then(|e| Email::parse(e).ok());
        let email_verified =
            matches!(claims.get("email_verified"), Some(Value::Bool(true))) || claims.get("email_verified").and_then(Value::as_str) == Some("true");
        let groups = match claims.get("cognito:groups") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        let attributes = claims
            .iter()
            .filter(|(k, _)| !TOKEN_CLAIMS.contains(&k.as_str()) && k.as_str() != "sub")
            .filter_map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((k.clone(), text))
            })
            .collect();
        Ok(Self { subject: subject.to_owned(), email, email_verified, attributes, groups })
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The id of the organisation this person belongs to, as the token says it.
    pub fn org(&self) -> Option<&str> {
        self.attribute(ORG_ATTRIBUTE)
    }

    /// A display name: `name`, else `given_name family_name`, else the email's local part.
    pub fn display_name(&self) -> Option<String> {
        if let Some(name) = self.attribute("name") {
            return Some(name.to_owned());
        }
        let given_family: Vec<&str> = ["given_name", "family_name"].iter().filter_map(|a| self.attribute(a)).collect();
        if !given_family.is_empty() {
            return Some(given_family.join(" "));
        }
        self.email.as_ref().map(|e| e.local_part().to_owned())
    }
}

impl std::fmt::Debug for UserProfile {
    /// Profiles are personal data: debug output shows the subject and the attribute names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserProfile")
            .field("subject", &self.subject)
            .field("attributes", &self.attributes.keys().collect::<Vec<_>>())
            .field("groups", &self.groups.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn reads_attributes_and_groups_not_token_fields() {
        let p = UserProfile::from_claims(&claims(json!({
            "sub": "s-1", "iss": "x", "aud": "c", "exp": 1, "token_use": "id",
            "email": "A@Example.com", "email_verified": true, "name": "山田 花子",
            "custom:company": "Acme", "cognito:groups": ["zendesk-agents", "beta"]
        })));
        let p = p.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.subject, "s-1");
        assert_eq!(p.email.as_ref().map(Email::as_str), Some("a@example.com"));
        assert!(p.email_verified);
        assert_eq!(p.attribute("custom:company"), Some("Acme"));
        assert_eq!(p.attribute("iss"), None);
        assert_eq!(p.groups, vec!["zendesk-agents", "beta"]);
        assert_eq!(p.display_name().as_deref(), Some("山田 花子"));
    }

    #[test]
    fn display_name_falls_back() {
        let p = UserProfile::from_claims(&claims(json!({"sub": "s", "given_name": "Hanako", "family_name": "Yamada"})));
        assert_eq!(p.ok().and_then(|p| p.display_name()).as_deref(), Some("Hanako Yamada"));
        let p = UserProfile::from_claims(&claims(json!({"sub": "s", "email": "taro@example.com"})));
        assert_eq!(p.ok().and_then(|p| p.display_name()).as_deref(), Some("taro"));
        assert_eq!(UserProfile::from_claims(&claims(json!({"email": "x@y.z"}))), Err(ProfileError::NoSubject));
    }
}
