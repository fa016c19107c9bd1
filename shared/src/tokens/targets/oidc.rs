//! OpenID Connect clients (`oidc`): any app that signs people in with the authorization code
//! flow (OpenID Connect Core 1.0 §3.1, OAuth 2.0 RFC 6749 §4.1, PKCE RFC 7636), the bridge
//! being its OpenID provider.
//!
//! The app sends the person to `/oauth2/authorize`. The bridge checks the request here
//! ([`OidcTarget::authorize`]), signs the person in as for any app (session, form, corporate
//! sign-in, risk, access), and sends them back to the app's registered `redirect_uri` with a
//! one-time code: the [`AuthorizationGrant`] sealed and encrypted (by `SignInPorts::mint`;
//! `signin::openid_provider` redeems it at `/oauth2/token` for an ID token signed with our keys
//! and an access token for `/oauth2/userinfo`).
//!
//! This module holds the client's settings, the check of its request, and what its tokens say;
//! it does no I/O. It is not the corporate sign-in's OpenID client (`signin::oidc`), where the
//! bridge is the relying party.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mint::{MintError, MintInput, TargetError, check_lifetime, sign, with_query};
use crate::tokens::client_assertion;
use crate::tokens::jws::{Algorithm, SigningKey};
use crate::tokens::return_to::ReturnTo;

use super::oidc_claims::SCOPES;
pub use super::oidc_claims::{OFFLINE_ACCESS, RESERVED_CLAIMS, claims, claims_supported, scopes_supported};

/// Longest a client's refresh tokens may live from the sign-in (seconds: 90 days); the sign-out
/// mark that ends them is kept as long.
pub const MAX_REFRESH_LIFETIME: u64 = 90 * 24 * 3600;

/// How long a code may wait for its exchange (seconds; RFC 6749 §4.1.2 recommends at most 10
/// minutes, OAuth 2.1 one).
pub const CODE_TTL: u64 = 60;
/// At most this many registered redirect URIs (each at most 512 characters: it travels in every
/// sealed sign-in context; `ReturnTo::registrable`).
const MAX_REDIRECT_URIS: usize = 10;
/// Longest `state` and `nonce` carried (bytes).
const MAX_STATE_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcTarget {
    /// Where codes may go: each compared with a request's `redirect_uri` exactly.
    pub redirect_uris: Vec<String>,
    /// Where the person may be sent back after the client signs them out (RP-initiated logout),
    /// each compared exactly; none: back to the sign-in form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// How the client proves itself at the token endpoint.
    #[serde(default)]
    pub client_authentication: ClientAuthentication,
    /// What signs its ID tokens: our RS256 (the default, OpenID Connect's) or ES256 keys.
    #[serde(default = "rs256")]
    pub algorithm: Algorithm,
    /// How long its ID and access tokens live (seconds).
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u64,
    /// How long the refresh tokens of one sign-in live, at most (seconds from the sign-in, 300 to
    /// 90 days; RFC 6749 §6). Absent: the client gets none. Given only to a request with the
    /// `offline_access` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_lifetime_seconds: Option<u64>,
    /// How long a sign-in's refresh tokens may go unused (seconds, 300 up to the lifetime):
    /// a family not refreshed for that long ends. Absent: only the lifetime ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_seconds: Option<u64>,
    /// Where the bridge posts a logout token when a bridge session the client signed in through
    /// ends (OpenID Connect Back-Channel Logout 1.0 §2.2): the same rules as a redirect URI.
    /// Absent: the client is not told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// The public keys a `private_key_jwt` client signs its assertions with: a JWK Set
    /// (`tokens::client_assertion::validate_jwks`); only with that authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

fn rs256() -> Algorithm {
    Algorithm::RS256
}

fn default_lifetime() -> u64 {
    300
}

/// A client's authentication at the token endpoint (OpenID Connect Core §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthentication {
    /// HTTP Basic with the client id and the app's shared secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form.
    ClientSecretPost,
    /// A public client (a browser or native app): no secret, PKCE required.
    None,
    /// A JWT the client signs with a key it registered (`jwks`; RFC 7523 §2.2): no secret
    /// shared.
    PrivateKeyJwt,
}

impl ClientAuthentication {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// An authorization request as the app sent it (OpenID Connect Core §3.1.2.1): each parameter
/// as given, if given.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationRequest<'a> {
    pub response_type: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub response_mode: Option<&'a str>,
    /// Space-separated: `none` (no page may be shown), `login` (sign in afresh); `consent` and
    /// `select_account` are accepted and mean nothing more here.
    pub prompt: Option<&'a str>,
    /// Seconds; any value asks for a fresh sign-in (the bridge does not compare a session's age).
    pub max_age: Option<&'a str>,
    /// Request objects (`request`, `request_uri`): not supported.
    pub request: Option<&'a str>,
    pub request_uri: Option<&'a str>,
}

/// The request, checked: what the sign-in carries (sealed in its context) until its code is
/// issued. Its `redirect_uri` is the context's `return_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedRequest {
    /// The scopes served that the request named, space-separated (`openid` first).
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// PKCE's S256 challenge (43 base64url characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// `max_age` or `prompt=login`: the person signs in afresh, and the ID token says when
    /// (`auth_time`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
    /// `prompt=none`: no page may be shown; without a session that qualifies, the app is told
    /// `login_required` ([`CheckedRequest::login_required`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

impl CheckedRequest {
    /// What a `prompt=none` request that cannot be answered without a page sends back to the app
    /// (OpenID Connect Core §3.1.2.6); `None` for any other request.
    pub fn login_required(&self, redirect_uri: &ReturnTo) -> Option<ErrorResponse> {
        self.silent.then(|| ErrorResponse {
            redirect_uri: redirect_uri.clone(),
            error: "login_required",
            description: "the person must sign in",
            state: self.state.clone(),
        })
    }
}

/// A request refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// Shown to the person, never sent to the app: the request has no `redirect_uri` the app
    /// registered (RFC 6749 §4.1.2.1), or this app is not an OpenID Connect client.
    #[error("the redirect_uri is missing or is not one this app registered")]
    RedirectUri,
    /// Sent back to the app's `redirect_uri` as `error` (RFC 6749 §4.1.2.1).
    #[error("{0}")]
    Redirect(Box<ErrorResponse>),
}

/// An error answer to the app: `redirect_uri?error=...&error_description=...&state=...&iss=...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct ErrorResponse {
    pub redirect_uri: ReturnTo,
    /// RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 codes (`invalid_request`, ...).
    pub error: &'static str,
    pub description: &'static str,
    pub state: Option<String>,
}

impl ErrorResponse {
    /// The URL to send the browser to; `issuer` is our `iss` (RFC 9207).
    pub fn url(&self, issuer: &str) -> String {
        let mut fields = vec![("error".to_owned(), self.error.to_owned()), ("error_description".to_owned(), self.description.to_owned())];
        fields.extend(self.state.clone().map(|s| ("state".to_owned(), s)));
        fields.push(("iss".to_owned(), issuer.to_owned()));
        with_query(self.redirect_uri.as_str(), &fields).unwrap_or_else(|_| self.redirect_uri.as_str().to_owned())
    }
}

/// What a sign-in proved, as one client's ID tokens and UserInfo say it: sealed in its code, then
/// in its access token; a refresh token's family keeps all but the claims, which each refresh
/// reads again from the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authentication {
    pub client_id: String,
    /// The scopes granted, space-separated (`openid` first).
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// When the person signed in (seconds since the epoch), for a request that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    pub amr: Vec<String>,
    /// The person's claims: `sub`, those of the scopes, and the app's claim mapping's.
    pub claims: Map<String, Value>,
    /// The bridge session the sign-in opened or came through (`Session::sid`): the ID token's
    /// `sid`, and what ending that session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl Authentication {
    /// Whether a refresh token was asked for (and the client allows them: see [`OidcTarget::authorize`]).
    pub fn offline(&self) -> bool {
        self.scope.split(' ').any(|s| s == OFFLINE_ACCESS)
    }
}

/// What a code stands for: sealed and encrypted into the code itself, so an authorization
/// writes nothing; the exchange marks it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationGrant {
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// The Cognito user name (`cognito:username`), which a refresh reads the account by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// When the code was issued: the end of the sign-in, or a bridge session's entry into the
    /// client (seconds since the epoch).
    pub signed_in_at: u64,
    pub authentication: Authentication,
}

impl OidcTarget {
    pub fn validate(&self) -> Result<(), TargetError> {
        check_lifetime(self.lifetime_seconds)?;
        if self.refresh_token_lifetime_seconds.is_some_and(|s| !(300..=MAX_REFRESH_LIFETIME).contains(&s)) {
            return Err(TargetError::Invalid("refresh tokens live 300 seconds to 90 days"));
        }
        if self.refresh_token_idle_seconds.is_some_and(|idle| idle < 300 || self.refresh_token_lifetime_seconds.is_none_or(|l| idle > l)) {
            return Err(TargetError::Invalid("refresh tokens' idle time is 300 seconds up to their lifetime, which must be set"));
        }
        if self.algorithm == Algorithm::HS256 {
            return Err(TargetError::Invalid("an OpenID Connect client's ID tokens are signed with the bridge's keys: RS256 or ES256"));
        }
        if self.redirect_uris.is_empty() || self.redirect_uris.len() > MAX_REDIRECT_URIS || self.post_logout_redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(TargetError::Invalid("an OpenID Connect client registers 1 to 10 redirect URIs, and at most 10 post-logout ones"));
        }
        match (self.client_authentication, &self.jwks) {
            (ClientAuthentication::PrivateKeyJwt, Some(jwks)) => client_assertion::validate_jwks(jwks).map_err(TargetError::Invalid)?,
            (ClientAuthentication::PrivateKeyJwt, None) => return Err(TargetError::Invalid("a private_key_jwt client registers its public keys (jwks)")),
            (_, Some(_)) => return Err(TargetError::Invalid("jwks is for a private_key_jwt client only")),
            (_, None) => {}
        }
        for raw in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris).chain(&self.backchannel_logout_uri) {
            if !ReturnTo::registrable(raw) {
                return Err(TargetError::Invalid(
                    "a redirect or back-channel logout URI is https (http only on loopback), written as a URL parser writes it (lower-case host, no default port, a path of at least `/`), without a fragment, a user name, spaces or backslashes, at most 512 characters",
                ));
            }
        }
        Ok(())
    }

    /// Whether the client proves itself (with a secret or a key), as against a public client.
    pub fn confidential(&self) -> bool {
        self.client_authentication != ClientAuthentication::None
    }

    /// Whether the client proves itself with the app's shared secret.
    pub fn shares_secret(&self) -> bool {
        matches!(self.client_authentication, ClientAuthentication::ClientSecretBasic | ClientAuthentication::ClientSecretPost)
    }

    /// Checks an authorization request (OpenID Connect Core §3.1.2.2): a registered
    /// `redirect_uri` (else [`AuthorizationError::RedirectUri`]), then `response_type=code`,
    /// `openid` among the scopes, PKCE's S256 where given (and always for a public client),
    /// `response_mode` query, and `state` and `nonce` of at most 512 printable characters;
    /// request objects are refused (`request_not_supported`).
    pub fn authorize(&self, request: Option<AuthorizationRequest<'_>>) -> Result<(ReturnTo, CheckedRequest), AuthorizationError> {
        let request = request.ok_or(AuthorizationError::RedirectUri)?;
        let redirect_uri = request.redirect_uri.and_then(|r| ReturnTo::registered(r, &self.redirect_uris).ok()).ok_or(AuthorizationError::RedirectUri)?;
        let state = request.state.filter(|s| printable(s)).map(str::to_owned);
        let refuse = |error, description| {
            Err(AuthorizationError::Redirect(Box::new(ErrorResponse { redirect_uri: redirect_uri.clone(), error, description, state: state.clone() })))
        };
        if request.request.is_some() || request.request_uri.is_some() {
            return refuse("request_not_supported", "request objects are not supported");
        }
        let prompts: Vec<&str> = request.prompt.unwrap_or_default().split(' ').filter(|p| !p.is_empty()).collect();
        if prompts.contains(&"none") && prompts.len() > 1 {
            return refuse("invalid_request", "prompt=none cannot be combined with another prompt");
        }
        if request.max_age.is_some_and(|m| m.parse::<u64>().is_err()) {
            return refuse("invalid_request", "max_age is a number of seconds");
        }
        if request.response_type != Some("code") {
            return refuse("unsupported_response_type", "only the authorization code flow (response_type=code) is supported");
        }
        if request.response_mode.is_some_and(|m| m != "query") {
            return refuse("invalid_request", "only response_mode=query is supported");
        }
        if request.state.is_some() && state.is_none() || request.nonce.is_some_and(|n| !printable(n)) {
            return refuse("invalid_request", "state and nonce are at most 512 printable characters");
        }
        let named: Vec<&str> = request.scope.unwrap_or_default().split(' ').collect();
        if !named.contains(&"openid") {
            return refuse("invalid_scope", "the scope must include openid");
        }
        // `offline_access` is dropped for a client without refresh tokens (§11: the request
        // goes on without it).
        let served = |name: &&str| named.contains(name) && (*name != OFFLINE_ACCESS || self.refresh_token_lifetime_seconds.is_some());
        let scope: Vec<&str> = SCOPES.iter().map(|(name, _)| *name).filter(served).collect();
        let code_challenge = match (request.code_challenge, request.code_challenge_method) {
            (None, None) if self.confidential() => None,
            (None, _) => return refuse("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"),
            (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => Some(challenge.to_owned()),
            (Some(_), _) => return refuse("invalid_request", "code_challenge must be an S256 challenge (code_challenge_method=S256)"),
        };
        let checked = CheckedRequest {
            scope: scope.join(" "),
            state,
            nonce: request.nonce.map(str::to_owned),
            code_challenge,
            fresh: prompts.contains(&"login") || request.max_age.is_some(),
            silent: prompts.contains(&"none"),
        };
        Ok((redirect_uri, checked))
    }

    /// What the code for this sign-in stands for: the person's claims as the scopes and the
    /// app's mapping give them. Errors: a required mapped claim the person lacks.
    pub fn grant(&self, input: &MintInput<'_>, redirect_uri: &ReturnTo, request: &CheckedRequest) -> Result<AuthorizationGrant, MintError> {
        Ok(AuthorizationGrant {
            redirect_uri: redirect_uri.as_str().to_owned(),
            code_challenge: request.code_challenge.clone(),
            username: input.profile.attribute("cognito:username").map(str::to_owned),
            signed_in_at: input.now,
            authentication: Authentication {
                client_id: input.app.to_owned(),
                scope: request.scope.clone(),
                nonce: request.nonce.clone(),
                auth_time: request.fresh.then_some(input.now),
                amr: input.amr.iter().map(|a| (*a).to_owned()).collect(),
                claims: claims(input.profile, input.claims, &request.scope)?,
                sid: input.sid.map(str::to_owned),
            },
        })
    }

    /// The ID token for `authentication` (OpenID Connect Core §2), issued by `issuer` at `now`
    /// (seconds since the epoch) with id `jti`: `iss`, `sub`, `aud` and `azp` (the client),
    /// `iat`, `exp`, `jti`, `amr`, `nonce` and `auth_time` where the request had them, `sid` (the
    /// bridge session's id, OpenID Connect Back-Channel Logout 1.0 §2.1) where there was one,
    /// and the claims.
    pub fn id_token(&self, authentication: &Authentication, issuer: &str, now: u64, jti: uuid::Uuid, key: &SigningKey) -> Result<String, MintError> {
        let a = authentication;
        let mut claims = a.claims.clone();
        claims.insert("iss".into(), issuer.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + self.lifetime_seconds).into());
        claims.insert("jti".into(), jti.to_string().into());
        claims.insert("aud".into(), a.client_id.clone().into());
        claims.insert("azp".into(), a.client_id.clone().into());
        if !a.amr.is_empty() {
            claims.insert("amr".into(), a.amr.clone().into());
        }
        if let Some(nonce) = &a.nonce {
            claims.insert("nonce".into(), nonce.clone().into());
        }
        if let Some(auth_time) = a.auth_time {
            claims.insert("auth_time".into(), auth_time.into());
        }
        if let Some(sid) = &a.sid {
            claims.insert("sid".into(), sid.clone().into());
        }
        sign(key, &claims)
    }
}

/// The redirect that gives the app its code: `redirect_uri?code=...&state=...&iss=...`
/// (RFC 6749 §4.1.2, RFC 9207).
pub fn code_response(redirect_uri: &ReturnTo, code: &str, state: Option<&str>, issuer: &str) -> Result<String, MintError> {
    let mut fields = vec![("code".to_owned(), code.to_owned())];
    fields.extend(state.map(|s| ("state".to_owned(), s.to_owned())));
    fields.push(("iss".to_owned(), issuer.to_owned()));
    with_query(redirect_uri.as_str(), &fields)
}

/// Where a client's RP-initiated logout returns the person (OpenID Connect RP-Initiated Logout
/// 1.0 §3): `post_logout_redirect_uri`, exactly one the client registered, with `state` if given.
/// `None` when the URI is not registered.
pub fn post_logout_url(client: &OidcTarget, post_logout_redirect_uri: &str, state: Option<&str>) -> Option<String> {
    let uri = ReturnTo::registered(post_logout_redirect_uri, &client.post_logout_redirect_uris).ok()?;
    match state {
        Some(state) => with_query(uri.as_str(), &[("state".to_owned(), state.to_owned())]).ok(),
        None => Some(uri.as_str().to_owned()),
    }
}

/// Whether PKCE's `code_verifier` matches the S256 `challenge` (RFC 7636 §4.6), compared in
/// constant time. A verifier is 43 to 128 unreserved characters.
pub fn pkce_verified(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = crate::common::hashing::pkce_s256(verifier);
    well_formed && bool::from(subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()))
}

/// Whether a `state` or `nonce` can be carried back: 1 to 512 printable ASCII characters.
pub fn printable(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_STATE_LEN && s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// An S256 challenge: the base64url (no padding) of a SHA-256, 43 characters.
fn is_s256_challenge(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::targets::test_support::{input, mapping, profile};
    use serde_json::json;

    const CALLBACK: &str = "https://tool.example.com/oidc/callback";
    /// RFC 7636 Appendix B's verifier and challenge.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn target(v: Value) -> OidcTarget {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn client(authentication: &str) -> OidcTarget {
        target(json!({"redirect_uris": [CALLBACK], "client_authentication": authentication}))
    }

    fn request<'a>() -> AuthorizationRequest<'a> {
        AuthorizationRequest {
            response_type: Some("code"),
            redirect_uri: Some(CALLBACK),
            scope: Some("openid email profile offline_access"),
            state: Some("af0ifjsldkj"),
            nonce: Some("n-0S6_WzA2Mj"),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            ..AuthorizationRequest::default()
        }
    }

    fn refusal(result: Result<(ReturnTo, CheckedRequest), AuthorizationError>) -> (&'static str, Option<String>) {
        match result {
            Err(AuthorizationError::Redirect(e)) => (e.error, e.state),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_rfc_7636_example_verifies_and_nothing_else_does() {
        assert!(pkce_verified(CHALLENGE, VERIFIER));
        assert!(!pkce_verified(CHALLENGE, &VERIFIER.replace('d', "e")));
        assert!(!pkce_verified(CHALLENGE, "short"));
        assert!(!pkce_verified(VERIFIER, VERIFIER), "plain is not S256");
    }

    #[test]
    fn a_good_request_keeps_the_scopes_served_and_its_state_nonce_and_challenge() {
        let (redirect, checked) = client("client_secret_basic").authorize(Some(request())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(redirect.as_str(), CALLBACK);
        assert_eq!(checked.scope, "openid email profile");
        assert_eq!((checked.state.as_deref(), checked.nonce.as_deref()), (Some("af0ifjsldkj"), Some("n-0S6_WzA2Mj")));
        assert_eq!(checked.code_challenge.as_deref(), Some(CHALLENGE));
        // offline_access only for a client with refresh tokens.
        let offline = target(json!({"redirect_uris": [CALLBACK], "refresh_token_lifetime_seconds": 86400}));
        assert_eq!(offline.authorize(Some(request())).map(|(_, c)| c.scope), Ok("openid email profile offline_access".to_owned()));
        // A confidential client may go without PKCE; a public one may not.
        let without = AuthorizationRequest { code_challenge: None, code_challenge_method: None, ..request() };
        assert!(client("client_secret_post").authorize(Some(without)).is_ok());
        assert_eq!(refusal(client("none").authorize(Some(without))).0, "invalid_request");
        // prompt=none: the app learns that the person must sign in, with its state.
        assert_eq!(checked.login_required(&redirect), None);
        let (redirect, silent) = client("none").authorize(Some(AuthorizationRequest { prompt: Some("none"), ..request() })).unwrap_or_else(|e| panic!("{e}"));
        let error = silent.login_required(&redirect).unwrap_or_else(|| panic!("login_required"));
        assert_eq!((error.error, error.state.as_deref()), ("login_required", Some("af0ifjsldkj")));
    }

    #[test]
    fn a_redirect_uri_not_registered_exactly_is_never_redirected_to() {
        for bad in [
            None,
            Some("https://tool.example.com/oidc/callback/"),
            Some("https://tool.example.com/oidc/callback?x=1"),
            Some("https://TOOL.example.com/oidc/callback"),
            Some("https://tool.example.com/oidc/Callback"),
            Some("https://evil.example/oidc/callback"),
            Some("https://tool.example.com/oidc/callback#x"),
        ] {
            let result = client("none").authorize(Some(AuthorizationRequest { redirect_uri: bad, ..request() }));
            assert_eq!(result, Err(AuthorizationError::RedirectUri), "{bad:?}");
        }
        assert_eq!(client("none").authorize(None), Err(AuthorizationError::RedirectUri));
    }

    #[test]
    fn other_faults_go_back_to_the_app_with_their_state() {
        let c = client("none");
        let cases = [
            (AuthorizationRequest { response_type: Some("token"), ..request() }, "unsupported_response_type"),
            (AuthorizationRequest { response_type: Some("code id_token"), ..request() }, "unsupported_response_type"),
            (AuthorizationRequest { scope: Some("email profile"), ..request() }, "invalid_scope"),
            (AuthorizationRequest { scope: Some("openidx"), ..request() }, "invalid_scope"),
            (AuthorizationRequest { code_challenge_method: Some("plain"), ..request() }, "invalid_request"),
            (AuthorizationRequest { code_challenge_method: None, ..request() }, "invalid_request"),
            (AuthorizationRequest { code_challenge: Some("too-short"), ..request() }, "invalid_request"),
            (AuthorizationRequest { response_mode: Some("fragment"), ..request() }, "invalid_request"),
            (AuthorizationRequest { nonce: Some("a\nb"), ..request() }, "invalid_request"),
            (AuthorizationRequest { request_uri: Some("https://evil.example/r"), ..request() }, "request_not_supported"),
            (AuthorizationRequest { prompt: Some("none login"), ..request() }, "invalid_request"),
            (AuthorizationRequest { max_age: Some("-1"), ..request() }, "invalid_request"),
        ];
        for (req, error) in cases {
            assert_eq!(refusal(c.authorize(Some(req))), (error, Some("af0ifjsldkj".to_owned())), "{req:?}");
        }
        // A state that cannot be carried is not echoed.
        let long = "s".repeat(513);
        assert_eq!(refusal(c.authorize(Some(AuthorizationRequest { state: Some(&long), ..request() }))), ("invalid_request", None));
        let url = ErrorResponse {
            redirect_uri: ReturnTo::registered(CALLBACK, &[CALLBACK.to_owned()]).unwrap_or_else(|e| panic!("{e}")),
            error: "login_required",
            description: "sign in",
            state: Some("a&b".into()),
        }
        .url("https://api.example.com");
        assert_eq!(url, format!("{CALLBACK}?error=login_required&error_description=sign+in&state=a%26b&iss=https%3A%2F%2Fapi.example.com"));
    }

    #[test]
    fn settings_are_checked() {
        for bad in [
            json!({"redirect_uris": []}),
            json!({"redirect_uris": ["http://tool.example.com/cb"]}),
            json!({"redirect_uris": ["https://tool.example.com/cb#x"]}),
            json!({"redirect_uris": ["https://user@tool.example.com/cb"]}),
            json!({"redirect_uris": ["/cb"]}),
            json!({"redirect_uris": [CALLBACK], "algorithm": "HS256"}),
            json!({"redirect_uris": [CALLBACK], "lifetime_seconds": 7200}),
            json!({"redirect_uris": [CALLBACK], "refresh_token_lifetime_seconds": 299}),
            json!({"redirect_uris": [CALLBACK], "refresh_token_lifetime_seconds": 7_776_001}),
            json!({"redirect_uris": [CALLBACK], "refresh_token_idle_seconds": 3600}),
            json!({"redirect_uris": [CALLBACK], "refresh_token_lifetime_seconds": 3600, "refresh_token_idle_seconds": 3601}),
            json!({"redirect_uris": [CALLBACK], "refresh_token_lifetime_seconds": 3600, "refresh_token_idle_seconds": 299}),
            json!({"redirect_uris": vec![CALLBACK; 11]}),
            json!({"redirect_uris": [format!("{CALLBACK}?{}", "a".repeat(480))]}),
            json!({"redirect_uris": ["https://Tool.example.com/oidc/callback"]}),
            json!({"redirect_uris": ["https://tool.example.com:443/oidc/callback"]}),
            json!({"redirect_uris": ["https://tool.example.com/a/../oidc/callback"]}),
        ] {
            assert!(target(bad.clone()).validate().is_err(), "{bad}");
        }
        let good = ["http://127.0.0.1:8090/cb", "http://[::1]:8080/cb", "https://tool.example.com/Callback?x=1&y=%2F", CALLBACK];
        assert_eq!(target(json!({"redirect_uris": good, "algorithm": "ES256"})).validate(), Ok(()));
        // Written otherwise than a parser writes it: the bare origin lacks its path `/`.
        assert!(target(json!({"redirect_uris": ["https://tool.example.com"]})).validate().is_err());
        assert!(serde_json::from_value::<OidcTarget>(json!({"redirect_uris": [CALLBACK], "client_authentication": "tls_client_auth"})).is_err());
        assert!(target(json!({"redirect_uris": [CALLBACK], "client_authentication": "private_key_jwt"})).validate().is_err(), "without its keys");
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
        assert!(target(json!({"redirect_uris": [CALLBACK], "jwks": jwks.clone()})).validate().is_err(), "keys for a client with a secret");
        assert_eq!(target(json!({"redirect_uris": [CALLBACK], "client_authentication": "private_key_jwt", "jwks": jwks})).validate(), Ok(()));
    }

    #[test]
    fn the_grant_carries_the_scopes_claims_and_the_mapping() {
        let p = profile(json!({"sub": "s-1", "email": "a@b.co", "email_verified": true, "name": "Hanako", "phone_number": "+8190",
                               "cognito:groups": ["agents"]}));
        let m = mapping(json!({"groups": {"from": "groups"}}));
        let (redirect, checked) = client("none").authorize(Some(request())).unwrap_or_else(|e| panic!("{e}"));
        let grant = client("none").grant(&input(&p, &m), &redirect, &checked).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Value::Object(grant.authentication.claims.clone()),
            json!({"sub": "s-1", "email": "a@b.co", "email_verified": true, "name": "Hanako", "groups": ["agents"]}),
            "no phone: the phone scope was not asked for"
        );
        assert_eq!((grant.authentication.client_id.as_str(), grant.authentication.auth_time), ("demo", None));
        let fresh = AuthorizationRequest { scope: Some("openid phone"), prompt: Some("login consent"), ..request() };
        let (_, fresh) = client("none").authorize(Some(fresh)).unwrap_or_else(|e| panic!("{e}"));
        assert!(fresh.fresh && !fresh.silent);
        let grant = client("none").grant(&input(&p, &m), &redirect, &fresh).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(grant.authentication.claims.get("phone_number_verified"), Some(&json!(false)));
        assert_eq!(grant.authentication.auth_time, Some(1_700_000_000));
        // An email not verified is not sent.
        let unverified = profile(json!({"sub": "s-2", "email": "b@b.co", "email_verified": false}));
        let grant = client("none").grant(&input(&unverified, &m), &redirect, &checked).unwrap_or_else(|e| panic!("{e}"));
        assert!(grant.authentication.claims.get("email").is_none() && grant.authentication.claims.get("email_verified").is_none());
    }
}
