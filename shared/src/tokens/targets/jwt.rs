//! Any app that takes "a JWT in a redirect": the token under a configured parameter name, sent
//! to a configured URL by GET (a redirect) or POST (a self-submitting form), signed with HS256
//! (a shared secret) or RS256/ES256 (our published keys), living a configured time.
//!
//! The token carries `iss` (our API URL, whose `/.well-known/jwks.json` has the keys), `sub`,
//! `aud` (the app's id unless set), `azp` (the app's id: the party the token was minted for,
//! as OpenID Connect names it), `iat`, `exp`, `jti`, `amr` (RFC 8176: `pwd` or `fed`, and
//! `mfa` when the sign-in answered a second factor), and the claim mapping's claims (`email`
//! too, only when mapped: an app that needs it maps it as required).

use serde::{Deserialize, Serialize};

use super::mint::{Delivery, DeliveryMethod, MintError, MintInput, TargetError, check_lifetime, registered_claims, sign};
use crate::common::secure_url::secure;
use crate::tokens::jws::{Algorithm, SigningKey};

pub const RESERVED_CLAIMS: &[&str] = &["iss", "sub", "aud", "azp", "iat", "exp", "nbf", "jti", "amr"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtTarget {
    /// Where the token goes (https, or http on loopback).
    pub url: String,
    /// The parameter that carries the token.
    #[serde(default = "default_parameter")]
    pub parameter: String,
    #[serde(default = "get")]
    pub delivery: DeliveryMethod,
    pub algorithm: Algorithm,
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u64,
    /// The token's `aud`; the app's id when not set (every token names its one app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The parameter that carries the checked `return_to`, if the app takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_parameter: Option<String>,
}

fn default_parameter() -> String {
    "jwt".into()
}

fn get() -> DeliveryMethod {
    DeliveryMethod::Get
}

fn default_lifetime() -> u64 {
    300
}

impl JwtTarget {
    pub fn validate(&self) -> Result<(), TargetError> {
        check_lifetime(self.lifetime_seconds)?;
        let url = url::Url::parse(&self.url).map_err(|_| TargetError::Invalid("the target URL is not a URL"))?;
        if !secure(&url) || url.fragment().is_some() {
            return Err(TargetError::Invalid("the target URL must be https (http only on loopback) and have no fragment"));
        }
        let names = std::iter::once(&self.parameter).chain(self.return_parameter.as_ref());
        if names.clone().any(|n| n.is_empty() || n.len() > 64 || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))) {
            return Err(TargetError::Invalid("parameter names are 1 to 64 letters, digits, '_', '-' or '.'"));
        }
        if self.return_parameter.as_ref() == Some(&self.parameter) {
            return Err(TargetError::Invalid("the token and return_to parameters must differ"));
        }
        Ok(())
    }

    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey) -> Result<Delivery, MintError> {
        let mut claims = input.claims.apply(input.profile)?;
        claims.extend(registered_claims(&input, self.lifetime_seconds));
        claims.insert("sub".into(), input.profile.subject.clone().into());
        claims.insert("aud".into(), self.audience.as_deref().unwrap_or(input.app).into());
        claims.insert("azp".into(), input.app.into());
        if !input.amr.is_empty() {
            claims.insert("amr".into(), input.amr.into());
        }
        let mut fields = vec![(self.parameter.clone(), sign(key, &claims)?)];
        if let (Some(name), Some(return_to)) = (&self.return_parameter, input.return_to) {
            fields.push((name.clone(), return_to.as_str().to_owned()));
        }
        self.delivery.deliver(&self.url, fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::return_to::{Origin, ReturnTo};
    use crate::tokens::targets::test_support::{hs256_claims, input, mapping, profile};
    use serde_json::json;

    fn target(v: serde_json::Value) -> JwtTarget {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn get_with_the_configured_parameter_and_claims() {
        let t = target(json!({"url": "https://tool.example.com/sso?tenant=acme", "parameter": "token", "algorithm": "HS256",
                              "audience": "tool", "return_parameter": "next", "lifetime_seconds": 120}));
        assert_eq!(t.validate(), Ok(()));
        let p = profile(json!({"sub": "s-1", "email": "a@b.co", "email_verified": true, "cognito:groups": ["x"]}));
        let m = mapping(json!({"email": {"from": "attribute", "name": "email", "required": true}, "groups": {"from": "groups"}}));
        let allowed = [Origin::parse("https://tool.example.com").unwrap_or_else(|e| panic!("{e}"))];
        let rt = ReturnTo::check("https://tool.example.com/page", &allowed).ok();
        let minted = t.mint(MintInput { return_to: rt.as_ref(), ..input(&p, &m) }, &SigningKey::Hs256(b"s".to_vec()));
        let Ok(Delivery::Get { url }) = minted else { panic!("{minted:?}") };
        let url = url::Url::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!((query["tenant"].as_str(), query["next"].as_str()), ("acme", "https://tool.example.com/page"));
        assert_eq!(
            hs256_claims(&query["token"], b"s"),
            json!({"iss": "https://api.example.com", "sub": "s-1", "aud": "tool", "iat": 1_700_000_000, "exp": 1_700_000_120,
                   "jti": uuid::Uuid::nil().to_string(), "azp": "demo", "amr": ["pwd"], "email": "a@b.co", "groups": ["x"]})
        );
    }

    #[test]
    fn fragment_delivery_puts_the_token_after_the_hash_and_nothing_in_the_query() {
        let t = target(json!({"url": "https://console.example.com/console/", "algorithm": "HS256", "delivery": "fragment"}));
        let p = profile(json!({"sub": "s-1"}));
        let Ok(Delivery::Get { url }) = t.mint(input(&p, &mapping(json!({}))), &SigningKey::Hs256(b"s".to_vec())) else { panic!("no redirect") };
        let url = url::Url::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.query(), None);
        let token = url.fragment().and_then(|f| f.strip_prefix("jwt=")).unwrap_or_default();
        assert_eq!(hs256_claims(token, b"s")["sub"], "s-1");
    }

    #[test]
    fn a_required_claim_the_person_lacks_is_an_error_not_an_empty_claim() {
        let t = target(json!({"url": "https://tool.example.com/sso", "algorithm": "HS256", "delivery": "post"}));
        let p = profile(json!({"sub": "s-1"}));
        let m = mapping(json!({"email": {"from": "attribute", "name": "email", "required": true}}));
        let result = t.mint(input(&p, &m), &SigningKey::Hs256(b"s".to_vec()));
        assert_eq!(result, Err(MintError::MissingClaim(crate::tokens::claims::MissingClaim("email".into()))));
    }

    #[test]
    fn a_token_without_a_configured_audience_names_its_app() {
        let t = target(json!({"url": "https://tool.example.com/sso", "algorithm": "HS256"}));
        let p = profile(json!({"sub": "s-1"}));
        let Ok(Delivery::Get { url }) = t.mint(input(&p, &mapping(json!({}))), &SigningKey::Hs256(b"s".to_vec())) else { panic!("no redirect") };
        let url = url::Url::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        let token = url.query_pairs().find(|(k, _)| k == "jwt").map(|(_, v)| v.into_owned()).unwrap_or_default();
        assert_eq!(hs256_claims(&token, b"s")["aud"], "demo");
    }

    #[test]
    fn settings_are_checked() {
        for bad in [
            json!({"url": "http://tool.example.com/sso", "algorithm": "ES256"}),
            json!({"url": "https://tool.example.com/sso#x", "algorithm": "ES256"}),
            json!({"url": "https://tool.example.com/sso", "algorithm": "ES256", "parameter": "a b"}),
            json!({"url": "https://tool.example.com/sso", "algorithm": "ES256", "return_parameter": "jwt"}),
            json!({"url": "https://tool.example.com/sso", "algorithm": "ES256", "lifetime_seconds": 5}),
        ] {
            assert!(target(bad.clone()).validate().is_err(), "{bad}");
        }
        assert!(target(json!({"url": "http://127.0.0.1:8090/sso", "algorithm": "RS256"})).validate().is_ok());
        assert!(serde_json::from_value::<JwtTarget>(json!({"url": "https://x.example", "algorithm": "none"})).is_err());
    }
}
