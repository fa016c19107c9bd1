//! Gainsight Customer Communities (inSided) token SSO (see `specs/jwt-targets.md`): a JWT sent
//! to the community's return endpoint for its region with the community id:
//! `{sso host}/auth/token/return?token=<JWT>&customer=<community id>`.
//!
//! The token carries `sub` (the ID: our stable user id, lower-cased because the community
//! compares IDs without case), `email` (verified only: the community matches accounts by it),
//! `username` (mapped, or the email's local part when the app says so), and whatever the claim
//! mapping adds: typically `avatar` and `roles` (an array, or `"1,2,3"` with `join`). The
//! community admin maps these claim names to the community's fields. Both the email and the
//! mapped roles are sent on every sign-in, so the community's "update user attributes" option
//! keeps them current.

use serde::{Deserialize, Serialize};

use super::mint::{Delivery, MintError, MintInput, TargetError, check_lifetime, registered_claims, sign, verified_email, with_query};
use crate::tokens::jws::{Algorithm, SigningKey};
use crate::tokens::return_to::Origin;

pub const RESERVED_CLAIMS: &[&str] = &["iss", "aud", "azp", "amr", "iat", "exp", "nbf", "jti", "sub", "email"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsidedTarget {
    /// The community id (`customer`), as Gainsight gives it.
    pub community_id: String,
    #[serde(default)]
    pub region: Region,
    /// Overrides the region's SSO host (a local stand-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_url: Option<Origin>,
    /// ES256 (recommended), RS256 or HS256 (with the app's shared secret).
    #[serde(default = "es256")]
    pub algorithm: Algorithm,
    /// Use the email's local part as the username when the mapping gives none.
    #[serde(default)]
    pub username_from_email: bool,
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// Europe (the default host).
    #[default]
    Eu,
    UsWest2,
    Staging,
}

fn es256() -> Algorithm {
    Algorithm::ES256
}

fn default_lifetime() -> u64 {
    300
}

impl Region {
    pub fn sso_host(self) -> &'static str {
        match self {
            Self::Eu => "https://sso.api.insided.com",
            Self::UsWest2 => "https://sso-us-west-2.api.insided.com",
            Self::Staging => "https://sso.api.almostinsided.com",
        }
    }
}

impl InsidedTarget {
    pub fn validate(&self) -> Result<(), TargetError> {
        check_lifetime(self.lifetime_seconds)?;
        let id_ok = (1..=100).contains(&self.community_id.len()) && self.community_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if id_ok { Ok(()) } else { Err(TargetError::Invalid("the community id is 1 to 100 letters, digits, '-' or '_'")) }
    }

    /// Where tokens go: `{host}/auth/token/return`.
    pub fn return_url(&self) -> String {
        let host = self.sso_url.as_ref().map_or(self.region.sso_host(), Origin::as_str);
        format!("{host}/auth/token/return")
    }

    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey) -> Result<Delivery, MintError> {
        let email = verified_email(input.profile)?;
        let mut claims = input.claims.apply(input.profile)?;
        claims.extend(registered_claims(&input, self.lifetime_seconds));
        claims.insert("sub".into(), input.profile.subject.to_lowercase().into());
        // The community the token is for: no other app of ours takes it.
        claims.insert("aud".into(), self.community_id.clone().into());
        claims.insert("email".into(), email.into());
        if self.username_from_email && !claims.contains_key("username") {
            let local = email.split_once('@').map_or(email, |(local, _)| local);
            claims.insert("username".into(), local.into());
        }
        let token = sign(key, &claims)?;
        let fields = [("token".to_owned(), token), ("customer".to_owned(), self.community_id.clone())];
        Ok(Delivery::Get { url: with_query(&self.return_url(), &fields)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::jws;
    use crate::tokens::targets::test_support::{input, mapping, profile};
    use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};
    use serde_json::{Value, json};

    fn target() -> InsidedTarget {
        serde_json::from_value(json!({"community_id": "acme-community", "username_from_email": true})).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mints_an_es256_token_for_the_region_endpoint() {
        let generated = jws::generate(Algorithm::ES256).unwrap_or_else(|e| panic!("{e}"));
        let key = SigningKey::from_pem(Algorithm::ES256, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
        let p = profile(json!({"sub": "ABC-123", "email": "Hanako@Example.com", "email_verified": true, "picture": "https://img.example.com/h.png",
                               "cognito:groups": ["community-3", "community-7", "staff"]}));
        let m = mapping(json!({"avatar": {"from": "attribute", "name": "picture"},
                               "roles": {"from": "groups", "prefix": "community-", "strip_prefix": true, "join": ","}}));
        let Ok(Delivery::Get { url }) = target().mint(input(&p, &m), &key) else { panic!("expected a redirect") };
        let url = url::Url::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.origin().ascii_serialization() + url.path(), "https://sso.api.insided.com/auth/token/return");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["customer"], "acme-community");
        let jwk: Jwk = serde_json::from_value(Value::Object(generated.jwk)).unwrap_or_else(|e| panic!("{e}"));
        let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
        v.validate_exp = false;
        v.set_audience(&["acme-community"]);
        let claims = jsonwebtoken::decode::<Value>(&query["token"], &DecodingKey::from_jwk(&jwk).unwrap_or_else(|e| panic!("{e}")), &v);
        let claims = claims.unwrap_or_else(|e| panic!("{e}")).claims;
        assert_eq!(
            claims,
            json!({"iss": "https://api.example.com", "aud": "acme-community", "iat": 1_700_000_000, "exp": 1_700_000_300, "jti": uuid::Uuid::nil().to_string(),
                   "sub": "abc-123", "email": "hanako@example.com", "username": "hanako",
                   "avatar": "https://img.example.com/h.png", "roles": "3,7"})
        );
    }

    #[test]
    fn refuses_unverified_email_and_the_wrong_key() {
        let p = profile(json!({"sub": "s", "email": "a@b.co", "email_verified": false}));
        let m = mapping(json!({}));
        let hs = SigningKey::Hs256(b"k".to_vec());
        let hs_target = InsidedTarget { algorithm: Algorithm::HS256, ..target() };
        assert_eq!(hs_target.mint(input(&p, &m), &hs), Err(MintError::MissingEmail));
        assert_eq!(crate::tokens::targets::Target::Insided(target()).mint(input(&p, &m), &hs), Err(MintError::Signing));
    }

    #[test]
    fn regions_and_settings() {
        let us = InsidedTarget { region: Region::UsWest2, ..target() };
        assert_eq!(us.return_url(), "https://sso-us-west-2.api.insided.com/auth/token/return");
        assert!(InsidedTarget { community_id: "a/b".into(), ..target() }.validate().is_err());
        assert!(InsidedTarget { lifetime_seconds: 86_400, ..target() }.validate().is_err());
        assert!(serde_json::from_value::<InsidedTarget>(json!({"community_id": "x", "region": "mars"})).is_err());
    }
}
