//! Zendesk JWT single sign-on (see `specs/zendesk-jwt.md`): an HS256 JWT with `iat`, `jti`,
//! `email`, `name`, `external_id` and the mapped claims, delivered to
//! `{account}/access/jwt` with `return_to` passed back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::mint::DeliveryMethod;
use super::mint::{Delivery, MintError, MintInput, sign, verified_email};
use crate::tokens::jws::SigningKey;
use crate::tokens::return_to::Origin;

pub const RESERVED_CLAIMS: &[&str] = &["iat", "jti", "email", "name", "external_id", "exp", "nbf"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZendeskTarget {
    /// `https://{subdomain}.zendesk.com`, or the account's host-mapped domain.
    pub account_url: Origin,
    /// POST (Zendesk's recommendation) or GET.
    #[serde(default)]
    pub delivery: DeliveryMethod,
}

impl ZendeskTarget {
    /// The account URL for a Zendesk subdomain.
    pub fn for_subdomain(subdomain: &str) -> Result<Origin, crate::tokens::return_to::OriginError> {
        let valid = !subdomain.is_empty() && subdomain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(crate::tokens::return_to::OriginError::NotAUrl);
        }
        Origin::parse(&format!("https://{subdomain}.zendesk.com"))
    }

    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey) -> Result<Delivery, MintError> {
        let jwt = sign(key, &claims(input)?)?;
        let mut fields = vec![("jwt".to_owned(), jwt)];
        if let Some(return_to) = input.return_to {
            fields.push(("return_to".to_owned(), return_to.as_str().to_owned()));
        }
        self.delivery.deliver(&format!("{}/access/jwt", self.account_url), fields)
    }
}

/// The JWT payload: the mapped claims, then the claims Zendesk requires (which always win).
pub fn claims(input: MintInput<'_>) -> Result<Map<String, Value>, MintError> {
    // Zendesk matches its users by email: only one the person has proved (or their company's
    // provider answers for) is given, as to every app.
    let email = verified_email(input.profile)?;
    let name = input.profile.display_name().ok_or(MintError::MissingName)?;
    let mut claims = input.claims.apply(input.profile)?;
    claims.insert("iat".into(), input.now.into());
    claims.insert("jti".into(), input.jti.to_string().into());
    claims.insert("email".into(), email.into());
    claims.insert("name".into(), name.into());
    claims.insert("external_id".into(), input.profile.subject.clone().into());
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::claims::ClaimMapping;
    use crate::tokens::return_to::ReturnTo;
    use crate::tokens::targets::test_support::{hs256_claims, input as base_input, profile};
    use serde_json::json;

    fn target(delivery: DeliveryMethod) -> ZendeskTarget {
        ZendeskTarget { account_url: ZendeskTarget::for_subdomain("acme").unwrap_or_else(|e| panic!("{e}")), delivery }
    }

    fn key(secret: &str) -> SigningKey {
        SigningKey::Hs256(secret.as_bytes().to_vec())
    }

    #[test]
    fn mints_a_token_zendesk_accepts() {
        let p = profile(json!({"sub": "sub-1", "email": "hanako@example.com", "email_verified": true, "name": "Hanako", "custom:company": "Acme"}));
        let mapping: ClaimMapping = serde_json::from_value(json!({"organization": {"from": "attribute", "name": "custom:company"}})).unwrap_or_default();
        let rt = ReturnTo::check("https://acme.zendesk.com/hc", &[target(DeliveryMethod::Post).account_url]).ok();
        let jti = uuid::Uuid::new_v4();
        let input = MintInput { return_to: rt.as_ref(), jti, ..base_input(&p, &mapping) };
        let Ok(Delivery::Post { action, fields }) = target(DeliveryMethod::Post).mint(input, &key("shared-secret")) else { panic!("expected a POST") };
        assert_eq!(action, "https://acme.zendesk.com/access/jwt");
        assert_eq!(fields[1], ("return_to".to_owned(), "https://acme.zendesk.com/hc".to_owned()));

        let header = jsonwebtoken::decode_header(&fields[0].1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((header.alg, header.typ.as_deref()), (jsonwebtoken::Algorithm::HS256, Some("JWT")));
        assert_eq!(
            hs256_claims(&fields[0].1, b"shared-secret"),
            json!({"iat": 1_700_000_000, "jti": jti.to_string(), "email": "hanako@example.com", "name": "Hanako",
                   "external_id": "sub-1", "organization": "Acme"})
        );
    }

    #[test]
    fn get_delivery_encodes_the_query() {
        let p = profile(json!({"sub": "s", "email": "a@b.co", "email_verified": "true"}));
        let mapping = ClaimMapping::default();
        let Ok(Delivery::Get { url }) = target(DeliveryMethod::Get).mint(base_input(&p, &mapping), &key("k")) else { panic!("expected GET") };
        assert!(url.starts_with("https://acme.zendesk.com/access/jwt?jwt=ey"), "{url}");
    }

    #[test]
    fn refuses_to_mint_without_a_verified_email() {
        let mapping = ClaimMapping::default();
        for unproved in [
            json!({"name": "No Mail"}),
            json!({"email": "a@b.co"}),
            json!({"email": "a@b.co", "email_verified": false}),
            json!({"email": "a@b.co", "email_verified": "false"}),
        ] {
            let mut claims = json!({"sub": "s", "name": "Someone"});
            claims.as_object_mut().unwrap_or_else(|| unreachable!()).extend(unproved.as_object().cloned().unwrap_or_default());
            let p = profile(claims);
            assert_eq!(target(DeliveryMethod::Post).mint(base_input(&p, &mapping), &key("k")), Err(MintError::MissingEmail), "{unproved}");
        }
    }

    #[test]
    fn subdomains_are_checked() {
        assert!(ZendeskTarget::for_subdomain("acme-support").is_ok());
        for bad in ["", "evil.com/x", "a@b", "a.b"] {
            assert!(ZendeskTarget::for_subdomain(bad).is_err(), "{bad}");
        }
    }
}
