//! App kinds: what token each kind of app takes and how the browser carries it there.
//!
//! - `zendesk`: Zendesk JWT single sign-on (HS256, shared secret).
//! - `insided`: Gainsight Customer Communities token SSO (ES256/RS256 with our keys, or HS256).
//! - `discourse`: DiscourseConnect (an HMAC-signed payload answering the forum's signed request).
//! - `jwt`: any app that takes a JWT in a redirect or a form post.
//! - `oidc`: any OpenID Connect client (authorization code flow): the bridge is its provider; its
//!   sign-in ends with a code, which the token endpoint exchanges for an ID token
//!   (`signin::openid_provider`).
//! - `saml`: any SAML 2.0 service provider: the bridge is its identity provider; its sign-in
//!   ends with a signed response posted to its assertion consumer service.
//!
//! Adding a kind means a variant of [`Target`], a module beside these, and one arm in each
//! `match` below; the compiler lists every place that must learn about it.

pub mod discourse;
pub mod insided;
pub mod jwt;
pub mod mint;
pub mod oidc;
mod oidc_claims;
pub mod saml;
pub mod zendesk;

use serde::{Deserialize, Serialize};

use mint::{Delivery, DeliveryMethod, MintError, MintInput, TargetError};

use crate::tokens::jws::{Algorithm, SigningKey};

/// The kind of an app and its kind-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Zendesk(zendesk::ZendeskTarget),
    Insided(insided::InsidedTarget),
    Discourse(discourse::DiscourseTarget),
    Jwt(jwt::JwtTarget),
    Oidc(oidc::OidcTarget),
    Saml(saml::SamlTarget),
}

impl Target {
    /// Claims the kind sets itself; a claim mapping may not name them.
    pub fn reserved_claims(&self) -> &'static [&'static str] {
        match self {
            Self::Zendesk(_) => zendesk::RESERVED_CLAIMS,
            Self::Insided(_) => insided::RESERVED_CLAIMS,
            Self::Discourse(_) => discourse::RESERVED_FIELDS,
            Self::Jwt(_) => jwt::RESERVED_CLAIMS,
            Self::Oidc(_) => oidc::RESERVED_CLAIMS,
            Self::Saml(_) => saml::RESERVED_ATTRIBUTES,
        }
    }

    /// Whether the app shares a secret with us (an app secret in Secrets Manager): the HS256 key of
    /// the kinds signed with one, or an OpenID Connect client's `client_secret` (not a public or
    /// `private_key_jwt` client's).
    pub fn shares_secret(&self) -> bool {
        match self {
            Self::Oidc(t) => t.shares_secret(),
            _ => self.algorithm() == Algorithm::HS256,
        }
    }

    /// What signs this app's tokens: HS256 is the app's shared secret, the others our keys.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Zendesk(_) | Self::Discourse(_) => Algorithm::HS256,
            Self::Insided(t) => t.algorithm,
            Self::Jwt(t) => t.algorithm,
            Self::Oidc(t) => t.algorithm,
            // XML signatures with our RSA key (its certificate is what providers trust).
            Self::Saml(_) => Algorithm::RS256,
        }
    }

    pub fn validate(&self) -> Result<(), TargetError> {
        match self {
            Self::Zendesk(t) if t.delivery == DeliveryMethod::Fragment => Err(TargetError::Invalid("Zendesk takes its token by POST or GET")),
            Self::Zendesk(_) | Self::Discourse(_) => Ok(()),
            Self::Insided(t) => t.validate(),
            Self::Jwt(t) => t.validate(),
            Self::Oidc(t) => t.validate(),
            Self::Saml(t) => t.validate(),
        }
    }

    /// The app's token for this person, signed with `key` (see [`Target::algorithm`]).
    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey) -> Result<Delivery, MintError> {
        if key.algorithm() != self.algorithm() {
            return Err(MintError::Signing);
        }
        match self {
            Self::Zendesk(t) => t.mint(input, key),
            Self::Insided(t) => t.mint(input, key),
            Self::Discourse(t) => t.mint(input, key),
            Self::Jwt(t) => t.mint(input, key),
            // Its sign-in ends with a code (`SignInPorts::mint`); its tokens are made at the
            // token endpoint (`signin::openid_provider`).
            Self::Oidc(_) => Err(MintError::MissingRequest),
            // Signed with the key's certificate beside it (`SignInPorts::mint`).
            Self::Saml(_) => Err(MintError::Signing),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::common::profile::UserProfile;
    use crate::tokens::claims::ClaimMapping;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::{Map, Value};

    pub fn profile(v: Value) -> UserProfile {
        UserProfile::from_claims(v.as_object().unwrap_or(&Map::new())).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn mapping(v: Value) -> ClaimMapping {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn input<'a>(profile: &'a UserProfile, claims: &'a ClaimMapping) -> MintInput<'a> {
        MintInput {
            app: "demo",
            profile,
            claims,
            return_to: None,
            nonce: None,
            issuer: "https://api.example.com",
            now: 1_700_000_000,
            jti: uuid::Uuid::nil(),
            amr: &["pwd"],
            sid: None,
            authenticated: 1_700_000_000,
            saml: None,
        }
    }

    /// The claims of an HS256 token, checked with an independent implementation.
    pub fn hs256_claims(token: &str, secret: &[u8]) -> Value {
        let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret), &v).unwrap_or_else(|e| panic!("{e}")).claims
    }
}
