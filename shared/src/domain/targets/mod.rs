//! App kinds: what token each kind of app takes and how the browser carries it there.
//!
//! - `zendesk`: Zendesk JWT single sign-on (HS256, shared secret).
//! - `insided`: Gainsight Customer Communities token SSO (ES256/RS256 with our keys, or HS256).
//! - `discourse`: DiscourseConnect (an HMAC-signed payload answering the forum's signed request).
//! - `jwt`: any app that takes a JWT in a redirect or a form post.
//!
//! Adding a kind means a variant of [`Target`], a module beside these, and one arm in each
//! `match` below; the compiler lists every place that must learn about it.

pub mod discourse;
pub mod insided;
pub mod jwt;
pub mod zendesk;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{ClaimMapping, MissingClaim};
use super::jws::{Algorithm, SigningKey};
use super::profile::UserProfile;
use super::return_to::ReturnTo;
use super::signing_keys::MAX_TOKEN_LIFETIME;

/// The kind of an app and its kind-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Zendesk(zendesk::ZendeskTarget),
    Insided(insided::InsidedTarget),
    Discourse(discourse::DiscourseTarget),
    Jwt(jwt::JwtTarget),
}

/// How the browser takes the token to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "UPPERCASE")]
pub enum Delivery {
    /// An auto-submitting form posting `fields` to `action` (keeps tokens out of URLs and logs).
    Post { action: String, fields: Vec<(String, String)> },
    /// A plain redirect to `url`.
    Get { url: String },
}

/// POST (a self-submitting form) or GET (a redirect with the fields in the query).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    #[default]
    Post,
    Get,
}

impl DeliveryMethod {
    /// `fields` sent to `action` this way.
    pub fn deliver(self, action: &str, fields: Vec<(String, String)>) -> Result<Delivery, MintError> {
        Ok(match self {
            Self::Post => Delivery::Post { action: action.to_owned(), fields },
            Self::Get => Delivery::Get { url: with_query(action, &fields)? },
        })
    }
}

/// `url` with `fields` added to its query.
pub fn with_query(url: &str, fields: &[(String, String)]) -> Result<String, MintError> {
    let mut url = url::Url::parse(url).map_err(|_| MintError::Signing)?;
    url.query_pairs_mut().extend_pairs(fields);
    Ok(url.into())
}

/// What minting needs to know about this sign-in.
#[derive(Debug, Clone, Copy)]
pub struct MintInput<'a> {
    /// The app's id: the `aud` of a token signed with our keys whose app names no audience of
    /// its own, so a token minted for one app is refused by every other (RFC 7519 §4.1.3).
    pub app: &'a str,
    pub profile: &'a UserProfile,
    pub claims: &'a ClaimMapping,
    pub return_to: Option<&'a ReturnTo>,
    /// The app's own request id, where its protocol has one (DiscourseConnect's nonce).
    pub nonce: Option<&'a str>,
    /// Our issuer (the API's public URL), for the kinds whose tokens carry `iss`.
    pub issuer: &'a str,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// A fresh random token id.
    pub jti: uuid::Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    #[error("the user has no verified email address, which this app requires")]
    MissingEmail,
    #[error("the user has no name, which this app requires")]
    MissingName,
    #[error(transparent)]
    MissingClaim(#[from] MissingClaim),
    #[error("the app's sign-in request is missing (start again from the app)")]
    MissingRequest,
    #[error("the token could not be signed")]
    Signing,
}

/// An app kind's settings that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the token lifetime must be between 30 and {MAX_TOKEN_LIFETIME} seconds")]
    Lifetime,
    #[error("{0}")]
    Invalid(&'static str),
}

impl Target {
    /// Claims the kind sets itself; a claim mapping may not name them.
    pub fn reserved_claims(&self) -> &'static [&'static str] {
        match self {
            Self::Zendesk(_) => zendesk::RESERVED_CLAIMS,
            Self::Insided(_) => insided::RESERVED_CLAIMS,
            Self::Discourse(_) => discourse::RESERVED_FIELDS,
            Self::Jwt(_) => jwt::RESERVED_CLAIMS,
        }
    }

    /// What signs this app's tokens: HS256 is the app's shared secret, the others our keys.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Zendesk(_) | Self::Discourse(_) => Algorithm::HS256,
            Self::Insided(t) => t.algorithm,
            Self::Jwt(t) => t.algorithm,
        }
    }

    pub fn validate(&self) -> Result<(), TargetError> {
        match self {
            Self::Zendesk(_) | Self::Discourse(_) => Ok(()),
            Self::Insided(t) => t.validate(),
            Self::Jwt(t) => t.validate(),
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
        }
    }
}

/// The registered claims of a token living `lifetime` seconds: `iss` (when we have one),
/// `iat`, `exp`, `jti`.
fn registered_claims(input: &MintInput<'_>, lifetime: u64) -> Map<String, Value> {
    let mut claims = Map::new();
    if !input.issuer.is_empty() {
        claims.insert("iss".into(), input.issuer.into());
    }
    claims.insert("iat".into(), input.now.into());
    claims.insert("exp".into(), (input.now + lifetime).into());
    claims.insert("jti".into(), input.jti.to_string().into());
    claims
}

fn check_lifetime(seconds: u64) -> Result<(), TargetError> {
    if (30..=MAX_TOKEN_LIFETIME).contains(&seconds) { Ok(()) } else { Err(TargetError::Lifetime) }
}

/// The person's email, verified.
fn verified_email(profile: &UserProfile) -> Result<&str, MintError> {
    profile.email.as_ref().filter(|_| profile.email_verified).map(|e| e.as_str()).ok_or(MintError::MissingEmail)
}

fn sign(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, MintError> {
    key.sign(claims).map_err(|_| MintError::Signing)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    pub fn profile(v: Value) -> UserProfile {
        UserProfile::from_claims(v.as_object().unwrap_or(&Map::new())).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn mapping(v: Value) -> ClaimMapping {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn input<'a>(profile: &'a UserProfile, claims: &'a ClaimMapping) -> MintInput<'a> {
        MintInput { app: "demo", profile, claims, return_to: None, nonce: None, issuer: "https://api.example.com", now: 1_700_000_000, jti: uuid::Uuid::nil() }
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
