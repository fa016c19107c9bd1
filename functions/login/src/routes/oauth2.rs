//! The OpenID provider of `oidc` apps (`shared::signin::openid_provider`): `GET|POST
//! /oauth2/authorize` (the entry every app has, with the client's request), `POST /oauth2/token`,
//! `POST /oauth2/revoke` (RFC 7009), `GET|POST /oauth2/userinfo`, `GET|POST /oauth2/logout` (the end-session endpoint) and `GET
//! /.well-known/openid-configuration`.
//!
//! Errors follow each endpoint's contract: a request whose `redirect_uri` the client did not
//! register is a page in the person's language (never a redirect); its other faults go back to
//! the client as `error` (RFC 6749 §4.1.2.1); the token endpoint answers RFC 6749 §5.2's JSON,
//! UserInfo RFC 6750 §3's `WWW-Authenticate`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;

use crate::cookies;
use crate::problem;
use crate::routes::sso::{After, keep_device, sign_out_to};
use crate::state::Login;
use crate::web::{
    ApiProblem, Lang, Now, PageProblem, Params, Visitor, body_bytes, deliver, json_response, logged, method_not_allowed, redirect, redirect_to_form,
};
use shared::events::EventContext;
use shared::signin::openid_provider::refresh::RevocationRequest;
use shared::signin::openid_provider::{ClientCredentials, FormCredentials, LogoutRequest, TokenError, TokenRequest, UserInfoError};
use shared::signin::service::{Entered, Entry, SignInError};
use shared::signin::session;
use shared::tokens::targets::oidc::{AuthorizationError, AuthorizationRequest};

/// How long clients may cache the discovery document (seconds).
const DISCOVERY_MAX_AGE: u32 = 3600;

pub fn routes() -> Router<Arc<Login>> {
    Router::new()
        .route("/oauth2/authorize", get(authorize_get).post(authorize_post))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/oauth2/revoke", axum::routing::post(revoke))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo).options(userinfo_preflight))
        .route("/oauth2/logout", get(logout_get).post(logout_post))
        .route("/.well-known/openid-configuration", get(discovery))
        .method_not_allowed_fallback(method_not_allowed)
}

/// A form-encoded body's parameters; `None` when the body is not form-encoded (by its
/// `Content-Type`, in any case), repeats a parameter or does not parse.
pub(crate) async fn form(request: Request) -> Option<HashMap<String, String>> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return None;
    }
    Params::parse(&body_bytes(request, &()).await.ok()?).0
}

/// Parameter `name`, if sent with a value: one sent empty is one not sent (RFC 6749 §3.1).
fn present<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// The 503 page of a provider without an issuer (`PublicApiUrl` not set), if so.
fn without_issuer(login: &Login, lang: Lang) -> Option<Response> {
    login.sign_in.provider.issuer().is_empty().then(|| {
        tracing::error!("the OpenID provider has no issuer: set PublicApiUrl");
        PageProblem(problem::UNAVAILABLE, lang).into_response()
    })
}

async fn authorize_get(
    State(login): State<Arc<Login>>,
    Params(query): Params,
    lang: Lang,
    Visitor(visitor): Visitor,
    headers: HeaderMap,
    Now(now): Now,
) -> Response {
    authorize(&login, query, lang, &visitor, &headers, now).await
}

/// OpenID Connect Core §3.1.2.1: the request may come as a form post too.
async fn authorize_post(State(login): State<Arc<Login>>, lang: Lang, Visitor(visitor): Visitor, Now(now): Now, request: Request) -> Response {
    let headers = request.headers().clone();
    let params = form(request).await;
    authorize(&login, params, lang, &visitor, &headers, now).await
}

/// The authorization endpoint: the client (`client_id`, an `oidc` app) and its request are
/// checked, then, as at `/sso/{app}`, a live session gives the code at once and otherwise the
/// form signs the person in first (`SessionEntry::enter`, which also answers `prompt`).
async fn authorize(login: &Login, params: Option<HashMap<String, String>>, lang: Lang, visitor: &EventContext, headers: &HeaderMap, now: u64) -> Response {
    let Some(params) = params else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    if let Some(unavailable) = without_issuer(login, lang) {
        return unavailable;
    }
    let issuer = login.sign_in.provider.issuer();
    let get = |k: &str| present(&params, k);
    let request = AuthorizationRequest {
        response_type: get("response_type"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        response_mode: get("response_mode"),
        prompt: get("prompt"),
        max_age: get("max_age"),
        request: get("request"),
        request_uri: get("request_uri"),
    };
    let device = cookies::BrowserDevice::of(headers, now);
    let entry = Entry { authorization: Some(request), device: Some(&device.id), legacy_device: device.legacy, ..Entry::default() };
    let client_id = get("client_id").unwrap_or_default();
    let mut response = match login.sign_in.entry.enter(client_id, entry, cookies::read(headers, session::COOKIE), visitor, now).await {
        Ok(Entered::App(delivery)) => deliver(delivery),
        Ok(Entered::Form { ctx, sign_up: false }) => redirect_to_form(login, &[("ctx", &ctx)]),
        Ok(Entered::Form { ctx, sign_up: true }) => redirect_to_form(login, &[("ctx", &ctx), ("sign_up", "open")]),
        Err(SignInError::Authorization(AuthorizationError::Redirect(error))) => {
            tracing::info!(client = client_id, error = %error, "answered an authorization request with an error");
            redirect(&error.url(issuer))
        }
        Err(e) => return PageProblem(logged(&e, "oauth2/authorize"), lang).into_response(),
    };
    keep_device(&mut response, &device);
    response
}

/// `POST /oauth2/token` (form-encoded): a code or a refresh token for an ID token, an access
/// token and, where asked for, a refresh token.
async fn token(State(login): State<Arc<Login>>, Now(now): Now, Visitor(visitor): Visitor, request: Request) -> Response {
    client_endpoint(&login, Endpoint::Token(visitor), request, now).await
}

/// `POST /oauth2/revoke` (form-encoded `token`, RFC 7009): a refresh token's sign-in ends for
/// its client; `200` with no body, also for a token that is not valid.
async fn revoke(State(login): State<Arc<Login>>, Now(now): Now, request: Request) -> Response {
    client_endpoint(&login, Endpoint::Revocation, request, now).await
}

enum Endpoint {
    /// With where the request came from, for the events a refresh records.
    Token(EventContext),
    Revocation,
}

/// An endpoint where the client authenticates: a page in the browser (a form post needs no
/// preflight) reads any answer only from one of the allowed origins of the app its form's
/// `client_id` names.
async fn client_endpoint(login: &Login, endpoint: Endpoint, request: Request, now: u64) -> Response {
    let headers = request.headers().clone();
    let params = form(request).await;
    let form_client = params.as_ref().and_then(|p| p.get("client_id")).cloned().unwrap_or_default();
    let mut response = match params {
        Some(params) => answer(login, endpoint, &headers, &params, now).await,
        None => token_error(&TokenError::InvalidRequest("the body must be form-encoded, each parameter once")),
    };
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(origin) = origin
        && login.sign_in.provider.web_origin_allowed(&form_client, origin).await
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The request `params` (with the client's credentials in `headers`), answered.
async fn answer(login: &Login, endpoint: Endpoint, headers: &HeaderMap, params: &HashMap<String, String>, now: u64) -> Response {
    let get = |k: &str| present(params, k);
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default());
    let form = FormCredentials {
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        client_assertion_type: get("client_assertion_type"),
        client_assertion: get("client_assertion"),
    };
    let client = match ClientCredentials::presented(authorization, form) {
        Ok(client) => client,
        Err(e) => return token_error(&e),
    };
    let client_id = client.id.clone().unwrap_or_default();
    let provider = &login.sign_in.provider;
    let answered = match endpoint {
        Endpoint::Token(visitor) => {
            let request = TokenRequest {
                grant_type: get("grant_type"),
                code: get("code"),
                redirect_uri: get("redirect_uri"),
                code_verifier: get("code_verifier"),
                refresh_token: get("refresh_token"),
                scope: get("scope"),
                client,
                visitor,
            };
            provider.token(request, now).await.map(|tokens| json_response(StatusCode::OK, &serde_json::to_value(&tokens).unwrap_or_default()))
        }
        Endpoint::Revocation => provider.revoke(RevocationRequest { token: get("token"), client }, now).await.map(|()| StatusCode::OK.into_response()),
    };
    match answered {
        Ok(mut response) => {
            response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => {
            tracing::info!(client = client_id, error = %e, "refused a client's request");
            token_error(&e)
        }
    }
}

async fn logout_get(State(login): State<Arc<Login>>, Params(query): Params, lang: Lang, headers: HeaderMap, Now(now): Now) -> Response {
    logout(&login, query, lang, &headers, now).await
}

/// RP-Initiated Logout 1.0 §2: the request may come as a form post too. A post from the client's
/// site carries no session cookie (`SameSite=Lax`), so it is answered with the same request as
/// a `GET` (`303`), a top-level navigation that does.
async fn logout_post(State(login): State<Arc<Login>>, lang: Lang, request: Request) -> Response {
    let Some(params) = form(request).await else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    if let Some(unavailable) = without_issuer(&login, lang) {
        return unavailable;
    }
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().collect::<std::collections::BTreeMap<_, _>>()).finish();
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{}/oauth2/logout?{query}", login.sign_in.provider.issuer())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `GET|POST /oauth2/logout` (the `end_session_endpoint`): a client signs the person out of the
/// bridge as `/logout` does (the company's single sign-out included), then back to its
/// registered `post_logout_redirect_uri`, or to the form. A page it did not register ends
/// nothing: a page says so.
async fn logout(login: &Login, params: Option<HashMap<String, String>>, lang: Lang, headers: &HeaderMap, now: u64) -> Response {
    let Some(params) = params else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    if let Some(unavailable) = without_issuer(login, lang) {
        return unavailable;
    }
    let get = |k: &str| present(&params, k);
    let request = LogoutRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    };
    match login.sign_in.provider.logout_return(request).await {
        Ok(Some(url)) => sign_out_to(login, headers, lang, After::Client(url), now).await,
        Ok(None) => sign_out_to(login, headers, lang, After::Form(None), now).await,
        Err(e) => PageProblem(logged(&e, "oauth2/logout"), lang).into_response(),
    }
}

/// RFC 6749 §5.2's answer; `401` with a Basic challenge for `invalid_client`.
fn token_error(error: &TokenError) -> Response {
    let status = match error {
        TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
        TokenError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = json_response(status, &serde_json::json!({"error": error.code(), "error_description": error.to_string()}));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"token\""));
    }
    response
}

/// `GET|POST /oauth2/userinfo` with `Authorization: Bearer {access token}`, from any origin:
/// the token is the credential (no cookie is read).
async fn userinfo(State(login): State<Arc<Login>>, headers: HeaderMap, Now(now): Now) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    let token = token.map(|(_, token)| token);
    let mut response = match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => bearer_challenge("Bearer", "invalid_request"),
        Some(token) => match login.sign_in.provider.userinfo(token, now).await {
            Ok(claims) => json_response(StatusCode::OK, &serde_json::Value::Object(claims)),
            Err(UserInfoError::InvalidToken) => bearer_challenge("Bearer error=\"invalid_token\"", "invalid_token"),
            Err(UserInfoError::Unavailable) => json_response(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!({"error": "temporarily_unavailable"})),
        },
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The browser's preflight of a UserInfo call (its `Authorization` header needs one).
async fn userinfo_preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// `401` with RFC 6750 §3's challenge (with no error code in it when no token was given).
fn bearer_challenge(challenge: &'static str, error: &str) -> Response {
    let body = serde_json::json!({"error": error, "error_description": "a valid Bearer access token is required"});
    let mut response = json_response(StatusCode::UNAUTHORIZED, &body);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

/// `GET /.well-known/openid-configuration`: public and cacheable, from any origin.
async fn discovery(State(login): State<Arc<Login>>) -> Response {
    let Some(document) = login.sign_in.provider.discovery() else {
        tracing::error!("the OpenID provider has no issuer: set PublicApiUrl");
        return ApiProblem(problem::UNAVAILABLE).into_response();
    };
    let mut response = json_response(StatusCode::OK, &document);
    let headers = response.headers_mut();
    if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={DISCOVERY_MAX_AGE}")) {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
