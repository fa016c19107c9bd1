//! The bridge as the OpenID provider of its `oidc` apps (OpenID Connect Core 1.0 §3.1, RFC 6749
//! §4.1, PKCE RFC 7636, RFC 9207): the token endpoint redeems a code for an ID token and an
//! access token ([`OpenIdProvider::token`]), the UserInfo endpoint answers an access token with
//! the person's claims ([`OpenIdProvider::userinfo`]), and the discovery document says where
//! each is ([`OpenIdProvider::discovery`]).
//!
//! The authorization endpoint is the entry every app has (`SessionEntry::enter` with the client's
//! request, checked by `tokens::targets::oidc`); its code is made where every app's token is
//! (`SignInPorts::mint`). A code and an access token are sealed and encrypted under the flow key
//! (`signin::flow`), so neither is stored; a code's one use is marked in DynamoDB.
//!
//! It also answers a client's logout (RP-Initiated Logout 1.0: where to return the person; the
//! route ends the session as any sign-out does).
//!
//! Refresh tokens and their revocation are [`refresh`]'s, their families [`family`]'s; telling
//! clients that a session ended (Back-Channel Logout 1.0) is [`backchannel`]'s; how a client
//! proves itself at the token and revocation endpoints is `client_auth`'s.
//!
//! Not here: dynamic client registration, request objects, the implicit and hybrid flows, and
//! front-channel logout.

pub mod backchannel;
mod client_auth;
pub mod family;
pub mod refresh;

use base64::Engine;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use crate::events::EventContext;
use crate::signin::flow::{self, FlowError, Purpose};
use crate::signin::service::{SignInError, SignInPorts};
use crate::tokens::app::App;
use crate::tokens::client_assertion;
use crate::tokens::targets::Target;
use crate::tokens::targets::oidc::{self, Authentication, AuthorizationGrant, ClientAuthentication, OidcTarget};

/// The token, UserInfo, logout and discovery endpoints.
pub struct OpenIdProvider {
    pub(super) ports: Arc<SignInPorts>,
}

/// An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2), as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogoutRequest<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// How long the page to return to after a logout waits while a company's provider signs the
/// person out too (seconds).
const AFTER_LOGOUT_TTL: u64 = 10 * 60;

/// A token request (RFC 6749 §4.1.3 for a code, §6 for a refresh token), each parameter as the
/// client sent it.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest<'a> {
    pub grant_type: Option<&'a str>,
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    /// A refresh's narrower scope, space-separated.
    pub scope: Option<&'a str>,
    pub client: ClientCredentials,
    /// Where the request came from (IP, user agent, country), for the events it records.
    pub visitor: EventContext,
}

/// Who the client says it is, and how it proved it.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub id: Option<String>,
    pub secret: Option<SecretString>,
    /// A `private_key_jwt` client's signed assertion (RFC 7523 §2.2).
    pub assertion: Option<String>,
    /// `client_secret_basic` (an `Authorization: Basic` header), `client_secret_post` (a
    /// `client_secret` in the form), `private_key_jwt` (a `client_assertion` in the form) or
    /// `none`.
    pub method: ClientAuthentication,
}

/// What a token request's form holds of the client's credentials, each as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormCredentials<'a> {
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
}

impl ClientCredentials {
    /// The credentials a token request presents: its `Authorization` header (HTTP Basic, each
    /// part form-encoded then Base64, RFC 6749 §2.3.1), else the form's `client_assertion`
    /// (its client the form's `client_id`, else the assertion's `sub`), else its `client_id`
    /// and `client_secret`.
    ///
    /// Errors: `invalid_request` for two ways at once (§2.3: one method only), a form
    /// `client_id` other than the header's, or an assertion without RFC 7523's
    /// `client_assertion_type` (or that type without one); `invalid_client` for another scheme or
    /// a header that does not decode.
    pub fn presented(authorization: Option<&str>, form: FormCredentials<'_>) -> Result<Self, TokenError> {
        let assertion = match (form.client_assertion_type, form.client_assertion) {
            (None, None) => None,
            (Some(client_assertion::ASSERTION_TYPE), Some(assertion)) => Some(assertion),
            _ => {
                return Err(TokenError::InvalidRequest(
                    "client_assertion_type is urn:ietf:params:oauth:client-assertion-type:jwt-bearer, with a client_assertion",
                ));
            }
        };
        let one_way = "authenticate one way: HTTP Basic, client_secret or client_assertion in the form";
        if let Some(assertion) = assertion {
            if authorization.is_some() || form.client_secret.is_some() {
                return Err(TokenError::InvalidRequest(one_way));
            }
            let id = form.client_id.map(str::to_owned).or_else(|| client_assertion::claimed_client(assertion));
            return Ok(Self { id, secret: None, assertion: Some(assertion.to_owned()), method: ClientAuthentication::PrivateKeyJwt });
        }
        let Some(authorization) = authorization else {
            let method = if form.client_secret.is_some() { ClientAuthentication::ClientSecretPost } else { ClientAuthentication::None };
            let secret = form.client_secret.map(|s| s.to_owned().into());
            return Ok(Self { id: form.client_id.map(str::to_owned), secret, assertion: None, method });
        };
        let (id, secret) = basic(authorization).ok_or(TokenError::InvalidClient)?;
        if form.client_secret.is_some() || form.client_id.is_some_and(|f| f != id) {
            return Err(TokenError::InvalidRequest(one_way));
        }
        Ok(Self { id: Some(id), secret: Some(secret.into()), assertion: None, method: ClientAuthentication::ClientSecretBasic })
    }
}

/// The id and secret of an `Authorization: Basic ...` header (the scheme in any case), each
/// form-decoded (`+` is a space, `%XX` a byte).
fn basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form_decoded = |part: &str| percent_encoding::percent_decode_str(&part.replace('+', " ")).decode_utf8().ok().map(|s| s.into_owned());
    Some((form_decoded(id)?, form_decoded(secret)?))
}

/// The token endpoint's answer (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    pub id_token: String,
    /// For a sign-in that asked for `offline_access`, and with every refresh: the next refresh
    /// token (the one presented works no more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// What an access token stands for (sealed into it): the client and what UserInfo answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct AccessGrant {
    client_id: String,
    claims: Map<String, Value>,
}

/// A token request refused (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// `401`: an unknown client, one that is not an OpenID Connect client, the wrong secret, or
    /// another way of authenticating than the client's.
    #[error("the client could not be authenticated")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// A refresh asked for a scope its sign-in was not granted.
    #[error("the scope asked for was not granted")]
    InvalidScope,
    /// A refresh at a client that gives no refresh tokens (any more).
    #[error("this client may not use refresh tokens")]
    UnauthorizedClient,
    #[error("only grant_type=authorization_code and refresh_token are supported")]
    UnsupportedGrantType,
    /// A revocation of an access token (RFC 7009 §2.2.1): they live out their lifetime.
    #[error("access tokens cannot be revoked: they expire")]
    UnsupportedTokenType,
    /// `503` (`temporarily_unavailable`, borrowed from RFC 6749 §4.1.2.1): a store, a secret
    /// or a key could not be read, or the issuer is not configured; the code is not spent.
    #[error("the token endpoint is unavailable")]
    Unavailable,
}

impl TokenError {
    /// The `error` code of RFC 6749 §5.2.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Unavailable => "temporarily_unavailable",
        }
    }
}

/// An access token refused at UserInfo (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserInfoError {
    /// `401 invalid_token`: malformed, altered, expired, made for another use, or for a client
    /// that is no longer an OpenID Connect client.
    #[error("the access token is not valid")]
    InvalidToken,
    #[error("the UserInfo endpoint is unavailable")]
    Unavailable,
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> TokenError {
    tracing::warn!(error = %e, "the token endpoint could not read what it needs");
    TokenError::Unavailable
}

impl OpenIdProvider {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    /// Answers a token request (RFC 6749 §3.2): the client authenticated its own way, then its
    /// code redeemed ([`Self::redeem`]) or its refresh token used ([`Self::refresh`]).
    ///
    /// Errors: [`TokenError`]; a refused request spends nothing.
    pub async fn token(&self, request: TokenRequest<'_>, now: u64) -> Result<TokenResponse, TokenError> {
        let refresh = match request.grant_type {
            Some("authorization_code") if request.code.is_some() && request.redirect_uri.is_some() => false,
            Some("authorization_code") => return Err(TokenError::InvalidRequest("code and redirect_uri are required")),
            Some("refresh_token") if request.refresh_token.is_some() => true,
            Some("refresh_token") => return Err(TokenError::InvalidRequest("refresh_token is required")),
            Some(_) => return Err(TokenError::UnsupportedGrantType),
            None => return Err(TokenError::InvalidRequest("grant_type is required")),
        };
        if self.ports.issuer.is_empty() {
            return Err(unavailable("the issuer (PublicApiUrl) is not set"));
        }
        let (app, client) = self.client(request.client.id.as_deref()).await?;
        self.authenticate(&app, &client, &request.client, now).await?;
        if refresh { self.refresh(&app, &client, &request, now).await } else { self.redeem(&app, &client, &request, now).await }
    }

    /// Redeems an authorization code (RFC 6749 §4.1.3) for the authenticated `client`: the code
    /// sealed for it, unexpired, with the request's `redirect_uri`, PKCE's verifier when the
    /// request had a challenge (and none when it had not), then spent once. Answers an ID token
    /// signed with our current key of the client's algorithm and an opaque access token for
    /// UserInfo, each living the client's `lifetime_seconds`, and a refresh token when the
    /// sign-in asked for one.
    ///
    /// Errors: `invalid_grant` (also for a code whose bridge session ended since it was issued);
    /// a refused request spends nothing, so the client may try again until the code expires
    /// ([`oidc::CODE_TTL`]).
    async fn redeem(&self, app: &App, client: &OidcTarget, request: &TokenRequest<'_>, now: u64) -> Result<TokenResponse, TokenError> {
        let (code, redirect_uri) = (request.code.unwrap_or_default(), request.redirect_uri.unwrap_or_default());
        let grant: AuthorizationGrant =
            self.open(Purpose::AuthorizationCode, code, now).await?.ok_or(TokenError::InvalidGrant("the code is not valid, or has expired"))?;
        if grant.authentication.client_id != app.id.as_str() {
            return Err(TokenError::InvalidGrant("the code was issued to another client"));
        }
        if grant.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant("redirect_uri is not the authorization request's"));
        }
        let verified = match (&grant.code_challenge, request.code_verifier) {
            (Some(challenge), Some(verifier)) => oidc::pkce_verified(challenge, verifier),
            (None, None) => true,
            // A verifier for a code without a challenge: a downgrade (RFC 9700 §2.1.1).
            _ => false,
        };
        if !verified {
            return Err(TokenError::InvalidGrant("code_verifier does not match the code_challenge"));
        }
        // The tokens (and a refresh token's family) are made before the code is spent: a
        // failure to make them spends nothing.
        let mut response = self.tokens(client, &grant.authentication, now).await?;
        let family = self.open_family(client, &grant, code).await?;
        // Spent beside a read of whether the code's bridge session has ended since (its clients
        // are told; a code exchanged after that opens nothing). That read failing refuses the
        // code, spent or not.
        let ended = async {
            match &grant.authentication.sid {
                Some(sid) => self.ports.refresh.session_ended(sid).await,
                None => Ok(false),
            }
        };
        let once = format!("authorization code {code}");
        let (spent, ended) = tokio::join!(self.ports.use_once(&once, now), ended);
        if ended.map_err(unavailable)? {
            if let Some((family, _)) = &family {
                self.revoke_family(family).await;
            }
            tracing::info!(client = %app.id, "a code exchanged after its bridge session ended: refused");
            return Err(TokenError::InvalidGrant("the code is not valid, or has expired"));
        }
        match spent {
            Ok(true) => {}
            // Not spent now: the family goes too, so that a retry after a failure opens it again.
            not_spent => {
                if let Some((family, _)) = &family {
                    self.revoke_family(family).await;
                }
                return Err(not_spent.map_or_else(unavailable, |_| TokenError::InvalidGrant(family::USED)));
            }
        }
        match family {
            Some((_, token)) => response.refresh_token = Some(token),
            // `offline_access` granted but no family opened (no Cognito user name): not said.
            None => response.scope = response.scope.split(' ').filter(|s| *s != oidc::OFFLINE_ACCESS).collect::<Vec<_>>().join(" "),
        }
        Ok(response)
    }

    /// What `token` holds, sealed for `purpose` by this provider; `None` when it is not one of
    /// ours, was altered, or has expired. Errors: the bridge's key could not be read.
    pub(super) async fn open<T: serde::de::DeserializeOwned>(&self, purpose: Purpose, token: &str, now: u64) -> Result<Option<T>, TokenError> {
        let key = self.ports.secrets.bridge().await.map_err(unavailable)?;
        Ok(flow::open_private(&key.flow_key, purpose, token, now).ok())
    }

    /// An ID token and an access token for `authentication`, as `client` has them made.
    pub(super) async fn tokens(&self, client: &OidcTarget, authentication: &Authentication, now: u64) -> Result<TokenResponse, TokenError> {
        let key = self.ports.secrets.bridge().await.map_err(unavailable)?;
        let signer = self.ports.signers.current(client.algorithm, now).await.map_err(unavailable)?;
        let id_token = client.id_token(authentication, &self.ports.issuer, now, uuid::Uuid::new_v4(), &signer).map_err(unavailable)?;
        let access = AccessGrant { client_id: authentication.client_id.clone(), claims: authentication.claims.clone() };
        let access_token = flow::seal_private(&key.flow_key, Purpose::AccessToken, now + client.lifetime_seconds, &access).map_err(unavailable)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: client.lifetime_seconds,
            id_token,
            refresh_token: None,
            scope: authentication.scope.clone(),
        })
    }

    /// The person's claims for an access token (OpenID Connect Core §5.3): `sub`, those of its
    /// scopes and the client's claim mapping, as they were at sign-in. Refused once the token
    /// expires or its client is removed or is no longer an OpenID Connect client.
    pub async fn userinfo(&self, access_token: &str, now: u64) -> Result<Map<String, Value>, UserInfoError> {
        let grant: AccessGrant =
            self.open(Purpose::AccessToken, access_token, now).await.map_err(|_| UserInfoError::Unavailable)?.ok_or(UserInfoError::InvalidToken)?;
        match self.ports.app(&grant.client_id).await {
            Ok(app) if matches!(app.target, Target::Oidc(_)) => Ok(grant.claims),
            Ok(_) | Err(SignInError::UnknownApp) => Err(UserInfoError::InvalidToken),
            Err(_) => Err(UserInfoError::Unavailable),
        }
    }

    /// Whether a browser page on `origin` may read the token endpoint's answer to `client_id`
    /// (CORS, for a client that runs in the browser): only from one of the app's allowed origins.
    pub async fn web_origin_allowed(&self, client_id: &str, origin: &str) -> bool {
        match self.ports.app(client_id).await {
            Ok(app) => matches!(app.target, Target::Oidc(_)) && app.allowed_origins.iter().any(|o| o.as_str() == origin),
            Err(_) => false,
        }
    }

    /// Where a client's logout returns the person once signed out: its
    /// `post_logout_redirect_uri` (with `state`), which must be one the client registered, or
    /// `None` (the form) when it names none. The client is `client_id`, else the `azp` of the
    /// `id_token_hint`, which must then be an ID token we signed with a key still kept (expired
    /// or not); a hint that verifies must be for the `client_id` given, one that does not is
    /// ignored beside a `client_id`.
    ///
    /// Errors (checked before anything is ended): [`SignInError::ReturnTo`] for a page not
    /// registered or named without a client, a client that is not an OpenID Connect client, a
    /// hint we did not sign or for another client, an unprintable `state`; a store's error.
    pub async fn logout_return(&self, request: LogoutRequest<'_>) -> Result<Option<String>, SignInError> {
        use crate::tokens::return_to::ReturnToRejected;
        let hinted = match request.id_token_hint {
            Some(hint) => {
                let jwks = self.ports.signers.every_jwk().await?;
                let claims = crate::tokens::jws::verified_claims(hint, &jwks).filter(|c| c.get("iss").and_then(Value::as_str) == Some(self.issuer()));
                match (claims.and_then(|c| c.get("azp").and_then(Value::as_str).map(str::to_owned)), request.client_id) {
                    (Some(azp), _) => Some(azp),
                    // A hint we cannot vouch for (its key pruned since): `client_id` alone names
                    // the client, as it would without a hint.
                    (None, Some(_)) => {
                        tracing::info!("a logout's id_token_hint does not verify: the client_id alone is used");
                        None
                    }
                    (None, None) => return Err(ReturnToRejected.into()),
                }
            }
            None => None,
        };
        let client_id = match (request.client_id, hinted.as_deref()) {
            (Some(id), Some(hint)) if id != hint => return Err(ReturnToRejected.into()),
            (Some(id), _) | (None, Some(id)) => Some(id),
            (None, None) => None,
        };
        if request.state.is_some_and(|s| !oidc::printable(s)) {
            return Err(ReturnToRejected.into());
        }
        let client = match client_id {
            Some(id) => match self.ports.app(id).await {
                Ok(app) => match &app.target {
                    Target::Oidc(client) => Some(client.clone()),
                    _ => return Err(ReturnToRejected.into()),
                },
                Err(SignInError::UnknownApp) => return Err(ReturnToRejected.into()),
                Err(e) => return Err(e),
            },
            None => None,
        };
        match (request.post_logout_redirect_uri, client) {
            (None, _) => Ok(None),
            (Some(uri), Some(client)) => oidc::post_logout_url(&client, uri, request.state).map(Some).ok_or_else(|| ReturnToRejected.into()),
            (Some(_), None) => Err(ReturnToRejected.into()),
        }
    }

    /// `url` sealed and encrypted to ride through a company provider's single sign-out (its
    /// `state`), for [`Self::open_after_logout`].
    pub async fn seal_after_logout(&self, url: &str, now: u64) -> Result<String, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        Ok(flow::seal_private(&key.flow_key, Purpose::AfterLogout, now + AFTER_LOGOUT_TTL, &url)?)
    }

    /// The page [`Self::seal_after_logout`] sealed into `state`. Errors: `Invalid` for anything
    /// else (a form's context), `Expired`.
    pub async fn open_after_logout(&self, state: &str, now: u64) -> Result<String, FlowError> {
        let key = self.ports.secrets.bridge().await.map_err(|_| FlowError::Invalid)?;
        flow::open_private(&key.flow_key, Purpose::AfterLogout, state, now)
    }

    /// Our issuer identifier (the API's public URL, `PublicApiUrl`); empty when not configured.
    pub fn issuer(&self) -> &str {
        &self.ports.issuer
    }

    /// The discovery document (OpenID Connect Discovery 1.0 §3), at
    /// `{issuer}/.well-known/openid-configuration`; `None` when the issuer is not configured.
    pub fn discovery(&self) -> Option<Value> {
        use ClientAuthentication::{ClientSecretBasic, ClientSecretPost, PrivateKeyJwt};
        let issuer = &self.ports.issuer;
        if issuer.is_empty() {
            return None;
        }
        let methods = [ClientSecretBasic.as_str(), ClientSecretPost.as_str(), PrivateKeyJwt.as_str(), ClientAuthentication::None.as_str()];
        Some(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
            "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
            "end_session_endpoint": format!("{issuer}/oauth2/logout"),
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "token_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
            "revocation_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": oidc::scopes_supported(),
            "claims_supported": oidc::claims_supported(),
            "prompt_values_supported": ["none", "login"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
        }))
    }
}
