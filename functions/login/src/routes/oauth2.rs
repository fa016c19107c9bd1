//! The OpenID provider of `oidc` apps (`shared::signin::openid_provider`): `GET|POST
//! /oauth2/authorize` (the entry every app has, with the client's request), `POST /oauth2/token`,
//! `GET|POST /oauth2/userinfo` and `GET /.well-known/openid-configuration`.
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
use base64::Engine;
use std::collections::HashMap;
use std::sync::Arc;

use crate::cookies;
use crate::problem;
use crate::routes::sso::keep_device;
use crate::state::Login;
use crate::web::{Lang, Now, PageProblem, Params, Visitor, body_bytes, deliver, json_response, logged, method_not_allowed, redirect, redirect_to_form};
use shared::signin::openid_provider::{ClientCredentials, TokenError, TokenRequest, UserInfoError};
use shared::signin::service::{Entered, Entry, SignInError};
use shared::signin::session;
use shared::tokens::return_to::ReturnTo;
use shared::tokens::targets::oidc::{AuthorizationError, AuthorizationRequest, ClientAuthentication, ErrorResponse};

/// How long clients may cache the discovery document (seconds).
const DISCOVERY_MAX_AGE: u32 = 3600;

pub fn routes() -> Router<Arc<Login>> {
    Router::new()
        .route("/oauth2/authorize", get(authorize_get).post(authorize_post))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo).options(userinfo_preflight))
        .route("/.well-known/openid-configuration", get(discovery))
        .method_not_allowed_fallback(method_not_allowed)
}

/// The parameters of a form-encoded body; `None` when one is repeated or it does not parse.
async fn form(request: Request) -> Option<HashMap<String, String>> {
    let body = body_bytes(request, &()).await.ok()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).ok()?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k, v).is_some() {
            return None;
        }
    }
    Some(map)
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
/// form signs the person in first. `prompt=none` without a session that qualifies answers
/// `login_required`; `prompt=login` and `max_age` ask for a fresh sign-in.
async fn authorize(
    login: &Login,
    params: Option<HashMap<String, String>>,
    lang: Lang,
    visitor: &shared::events::EventContext,
    headers: &HeaderMap,
    now: u64,
) -> Response {
    let Some(params) = params else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    let prompts: Vec<&str> = get("prompt").unwrap_or_default().split(' ').collect();
    let silent = prompts.contains(&"none");
    let request = AuthorizationRequest {
        response_type: get("response_type"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        response_mode: get("response_mode"),
        fresh: prompts.contains(&"login") || get("max_age").is_some(),
        request_object: get("request").is_some() || get("request_uri").is_some(),
    };
    let device = cookies::BrowserDevice::of(headers, now);
    let entry = Entry { authorization: Some(request), device: Some(&device.id), legacy_device: device.legacy, ..Entry::default() };
    let cookie = if request.fresh { None } else { cookies::read(headers, session::COOKIE) };
    let client_id = get("client_id").unwrap_or_default();
    let mut response = match login.sign_in.entry.enter(client_id, entry, cookie, visitor, now).await {
        Ok(Entered::App(delivery)) => deliver(delivery),
        // `prompt=none`: the client learns that the person must sign in (OpenID Connect Core
        // §3.1.2.6); the request was checked, so its redirect_uri is registered.
        Ok(Entered::Form { .. }) if silent => {
            let redirect_uri = request.redirect_uri.and_then(|r| ReturnTo::registered(r, &[r.to_owned()]).ok());
            let error = redirect_uri.map(|redirect_uri| ErrorResponse {
                redirect_uri,
                error: "login_required",
                description: "the person must sign in",
                state: request.state.map(str::to_owned),
            });
            match error {
                Some(error) => redirect(&error.url(&login.api_url)),
                None => PageProblem(problem::BAD_REQUEST, lang).into_response(),
            }
        }
        Ok(Entered::Form { ctx, sign_up: false }) => redirect_to_form(login, &[("ctx", &ctx)]),
        Ok(Entered::Form { ctx, sign_up: true }) => redirect_to_form(login, &[("ctx", &ctx), ("sign_up", "open")]),
        Err(SignInError::Authorization(AuthorizationError::Redirect(error))) => {
            tracing::info!(app = client_id, error = %error, "refused an authorization request");
            redirect(&error.url(&login.api_url))
        }
        Err(e) => return PageProblem(logged(&e, "oauth2/authorize"), lang).into_response(),
    };
    keep_device(&mut response, &device);
    response
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1: each part form-encoded, then Base64)
/// or `client_id`/`client_secret` in the form; both at once, or a Basic header that does not
/// decode, is `None` (`invalid_request`).
fn credentials<'a>(headers: &HeaderMap, params: &'a HashMap<String, String>, basic: &'a mut Option<(String, String)>) -> Option<ClientCredentials<'a>> {
    let form_id = params.get("client_id").map(String::as_str);
    let form_secret = params.get("client_secret").map(String::as_str);
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        let method = if form_secret.is_some() { ClientAuthentication::ClientSecretPost } else { ClientAuthentication::None };
        return Some(ClientCredentials { id: form_id, secret: form_secret, method: Some(method) });
    };
    let encoded = authorization.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unform = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    *basic = Some((unform(id)?, unform(secret)?));
    let (id, secret) = basic.as_ref()?;
    if form_secret.is_some() || form_id.is_some_and(|f| f != id) {
        return None;
    }
    Some(ClientCredentials { id: Some(id), secret: Some(secret), method: Some(ClientAuthentication::ClientSecretBasic) })
}

/// `POST /oauth2/token` (form-encoded): a code for an ID token and an access token.
async fn token(State(login): State<Arc<Login>>, Now(now): Now, request: Request) -> Response {
    let headers = request.headers().clone();
    let form_encoded = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let params = if form_encoded { form(request).await } else { None };
    let Some(params) = params else {
        return token_error(&TokenError::InvalidRequest("the body must be form-encoded, each parameter once"));
    };
    let mut basic = None;
    let Some(client) = credentials(&headers, &params, &mut basic) else {
        return token_error(&TokenError::InvalidRequest("authenticate one way: HTTP Basic or client_secret in the form"));
    };
    let get = |k: &str| params.get(k).map(String::as_str);
    let request =
        TokenRequest { grant_type: get("grant_type"), code: get("code"), redirect_uri: get("redirect_uri"), code_verifier: get("code_verifier"), client };
    let mut response = match login.sign_in.provider.token(request, now).await {
        Ok(tokens) => {
            let mut response = json_response(StatusCode::OK, &serde_json::to_value(&tokens).unwrap_or_default());
            response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(e) => {
            tracing::info!(client = client.id.unwrap_or_default(), error = %e, "refused a token request");
            token_error(&e)
        }
    };
    // A client in the browser (a form post needs no preflight) reads the answer only from one
    // of its app's allowed origins.
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if let (Some(origin), Some(id)) = (origin, client.id)
        && login.sign_in.provider.web_origin_allowed(id, origin).await
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    response
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
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
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

/// `401` with RFC 6750 §3's challenge (no error code when no token was given).
fn bearer_challenge(challenge: &'static str, error: &str) -> Response {
    let body = serde_json::json!({"error": error, "error_description": "a valid Bearer access token is required"});
    let mut response = json_response(StatusCode::UNAUTHORIZED, &body);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

/// `GET /.well-known/openid-configuration`: public and cacheable, from any origin.
async fn discovery(State(login): State<Arc<Login>>) -> Response {
    let mut response = json_response(StatusCode::OK, &login.sign_in.provider.discovery());
    let headers = response.headers_mut();
    if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={DISCOVERY_MAX_AGE}")) {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
