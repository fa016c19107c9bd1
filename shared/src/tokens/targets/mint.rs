//! What every app kind shares when it mints: the input (the person, the app, the key), how the
//! token travels to the app (`Delivery`), the errors, and the registered claims and signing.

use crate::common::profile::UserProfile;
use crate::tokens::claims::{ClaimMapping, MissingClaim};
use crate::tokens::jws::SigningKey;
use crate::tokens::return_to::ReturnTo;
use crate::tokens::saml::authn_request::SamlRequest;
use crate::tokens::signing_keys::MAX_TOKEN_LIFETIME;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// A redirect with the fields in the URL's fragment: for a page that reads the token in
    /// script (the operators' console), so it never reaches a server's access log or a `Referer`.
    Fragment,
}

impl DeliveryMethod {
    /// `fields` sent to `action` this way.
    pub fn deliver(self, action: &str, fields: Vec<(String, String)>) -> Result<Delivery, MintError> {
        Ok(match self {
            Self::Post => Delivery::Post { action: action.to_owned(), fields },
            Self::Get => Delivery::Get { url: with_query(action, &fields)? },
            Self::Fragment => Delivery::Get { url: with_fragment(action, &fields)? },
        })
    }
}

/// `url` with `fields` as its fragment, form-encoded (`#jwt=...`).
fn with_fragment(url: &str, fields: &[(String, String)]) -> Result<String, MintError> {
    let mut url = url::Url::parse(url).map_err(|_| MintError::Signing)?;
    url.set_fragment(Some(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()));
    Ok(url.into())
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
    /// How the person proved who they are in the sign-in behind this token (RFC 8176 values:
    /// `pwd` or `fed`, with `mfa` after a second factor): the `amr` claim of the kinds that
    /// carry one.
    pub amr: &'a [&'a str],
    /// The bridge session the token is minted from ([`Session::sid`](crate::signin::session::Session::sid)):
    /// the `sid` of an OpenID Connect client's ID token. `None` for an older session.
    pub sid: Option<&'a str>,
    /// When the person proved who they are in the sign-in behind this token (Unix seconds):
    /// a SAML assertion's `AuthnInstant`.
    pub authenticated: u64,
    /// A SAML service provider's request (its `ID` and `RelayState`), or none.
    pub saml: Option<&'a SamlRequest>,
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

/// The registered claims of a token living `lifetime` seconds: `iss` (when we have one),
/// `iat`, `exp`, `jti`.
pub(crate) fn registered_claims(input: &MintInput<'_>, lifetime: u64) -> Map<String, Value> {
    let mut claims = Map::new();
    if !input.issuer.is_empty() {
        claims.insert("iss".into(), input.issuer.into());
    }
    claims.insert("iat".into(), input.now.into());
    claims.insert("exp".into(), (input.now + lifetime).into());
    claims.insert("jti".into(), input.jti.to_string().into());
    claims
}

pub(crate) fn check_lifetime(seconds: u64) -> Result<(), TargetError> {
    if (30..=MAX_TOKEN_LIFETIME).contains(&seconds) { Ok(()) } else { Err(TargetError::Lifetime) }
}

/// The person's email, verified.
pub(crate) fn verified_email(profile: &UserProfile) -> Result<&str, MintError> {
    profile.email.as_ref().filter(|_| profile.email_verified).map(|e| e.as_str()).ok_or(MintError::MissingEmail)
}

pub(crate) fn sign(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, MintError> {
    key.sign(claims).map_err(|_| MintError::Signing)
}
