//! The login function's HTTP vocabulary, shared by its routes: extractors for the request's
//! time, query, JSON body, caller and language, and the responses (redirects, the way to an app,
//! JSON and HTML problems). Routes stay a few lines around one domain call.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use crate::cookies;
use crate::pages;
use crate::problem::{self, Problem};
use crate::state::Login;
use shared::events::EventContext;
use shared::signin::corporate::CorporateError;
use shared::signin::flow;
use shared::signin::service::SignInError;
use shared::tokens::targets::mint::Delivery;

/// Larger bodies are refused before parsing (the router's body limit).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Cognito's own limit for a password.
const MAX_SECRET_CHARS: usize = 256;

/// The request's time, in seconds since the Unix epoch: the one place the function reads the
/// clock; everything below is given `now`.
pub struct Now(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for Now {
    type Rejection = Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Now(shared::common::time::unix_now()))
    }
}

/// Query parameters; `None` when one is repeated (which one would the app have meant?) or the
/// query does not parse.
pub struct Params(pub Option<HashMap<String, String>>);

impl Params {
    pub fn of(uri: &Uri) -> Self {
        Self::parse(uri.query().unwrap_or("").as_bytes())
    }

    /// Form-encoded parameters (a query, or an `application/x-www-form-urlencoded` body).
    pub fn parse(form: &[u8]) -> Self {
        let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(form) else { return Params(None) };
        let mut map = HashMap::new();
        for (k, v) in pairs {
            if map.insert(k, v).is_some() {
                return Params(None);
            }
        }
        Params(Some(map))
    }

    /// The parameters, with a malformed query read as none.
    pub fn or_empty(self) -> HashMap<String, String> {
        self.0.unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Params::of(&parts.uri))
    }
}

/// The language of the person's browser (`Accept-Language`), for HTML pages: `"ja"` or `"en"`.
#[derive(Clone, Copy)]
pub struct Lang(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Lang(pages::language(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))))
    }
}

/// What the request says about where it came from, for the sign-in's events: the source IP
/// API Gateway saw, the user agent, the country only from the configured trusted header, and the
/// device cookie's digest (`flow::device_digest`) when the browser sent it. A door whose sealed
/// context claims a device (a sign-in begun at `/sso`) names that one instead.
pub struct Visitor(pub EventContext);

impl FromRequestParts<Arc<Login>> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, login: &Arc<Login>) -> Result<Self, Infallible> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect::<String>());
        let ip = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        let country = login.country_header.as_deref().and_then(header).filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
        let device = flow::device_digest(cookies::device(&parts.headers));
        Ok(Visitor(EventContext { ip, user_agent: header("user-agent"), country: country.map(|c| c.to_ascii_uppercase()), device, ..EventContext::default() }))
    }
}

/// Largest WebAuthn answer accepted (bytes of JSON): a passkey's is well under 4 KiB.
pub const MAX_CREDENTIAL_BYTES: usize = 8 * 1024;

/// A WebAuthn answer (`AuthenticationResponseJSON`, `RegistrationResponseJSON`) in its shape:
/// an object with a string `id` (at most 1,024 characters), `type: "public-key"` and an object
/// `response`, at most [`MAX_CREDENTIAL_BYTES`]; else 400. What it proves is Cognito's to check.
pub fn check_credential(credential: &serde_json::Value) -> Result<String, Problem> {
    let id_ok = credential.get("id").and_then(serde_json::Value::as_str).is_some_and(|id| !id.is_empty() && id.len() <= 1024);
    let shaped = id_ok
        && credential.get("type").and_then(serde_json::Value::as_str) == Some("public-key")
        && credential.get("response").is_some_and(serde_json::Value::is_object);
    let raw = credential.to_string();
    if shaped && raw.len() <= MAX_CREDENTIAL_BYTES { Ok(raw) } else { Err(problem::BAD_REQUEST) }
}

/// A JSON body (`Content-Type: application/json`, at most [`MAX_BODY_BYTES`]) of type `T`;
/// refused as a JSON problem: 415, 413 or 400.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiProblem;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiProblem> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiProblem(problem::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = body_bytes(request, state).await.map_err(|_| ApiProblem(problem::TOO_LARGE))?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|_| ApiProblem(problem::BAD_REQUEST))
    }
}

/// The body's bytes; `Err` when it is past the router's body limit (or could not be read).
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ()> {
    Bytes::from_request(request, state).await.map_err(|_| ())
}

/// A problem told as JSON (`{"error", "message"}`), for the form's API calls.
pub struct ApiProblem(pub Problem);

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let problem = self.0;
        let mut response = json_response(problem.status, &json!({"error": problem.code, "message": problem.message}));
        retry_after(&mut response, &problem);
        response
    }
}

/// A problem told as a page in the person's language, for navigations.
pub struct PageProblem(pub Problem, pub Lang);

impl IntoResponse for PageProblem {
    fn into_response(self) -> Response {
        let PageProblem(problem, Lang(lang)) = self;
        let mut response = (problem.status, pages::error_page(&problem, lang)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"));
        retry_after(&mut response, &problem);
        response
    }
}

fn retry_after(response: &mut Response, problem: &Problem) {
    if let Some(seconds) = problem.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `302 Found` to `location`.
pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// To the form, with `params` in its query.
pub fn redirect_to_form(login: &Login, params: &[(&str, &str)]) -> Response {
    let mut url = login.form_url.clone();
    url.query_pairs_mut().extend_pairs(params);
    redirect(url.as_str())
}

/// A navigation straight to the app: a redirect for GET delivery, a self-submitting form for POST.
pub fn deliver(delivery: Delivery) -> Response {
    match delivery {
        Delivery::Get { url } => redirect(&url),
        Delivery::Post { action, fields } => {
            let mut response = Response::new(Body::from(pages::auto_post(&action, &fields)));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            if let Ok(csp) = HeaderValue::from_str(&pages::auto_post_csp()) {
                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            response
        }
    }
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(response: &mut Response, cookie: Option<HeaderValue>) {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Whether an `Origin` header names the form's origin, exactly.
pub fn from_form(login: &Login, headers: &HeaderMap) -> bool {
    headers.get(header::ORIGIN).is_some_and(|o| o.as_bytes() == login.form_origin.as_str().as_bytes())
}

/// Logs a failure (as an error with its whole cause chain when it is ours, once) and returns
/// what the browser is told (never the cause).
pub fn log(problem: Problem, error: &dyn std::error::Error, route: &str) -> Problem {
    if problem.is_server_side() {
        tracing::error!(route, code = problem.code, error = %shared::common::errors::chain(error), "sign-in failed on our side");
    } else {
        tracing::info!(route, code = problem.code, error = %error, "sign-in refused");
    }
    problem
}

/// A one-time code as typed: full-width digits (a Japanese input method's) become ASCII and
/// spaces go; what is left must be 1 to 32 ASCII letters or digits, or it is a wrong code
/// without asking Cognito (nothing at all is a malformed request).
pub fn one_time_code(code: &SecretString) -> Result<SecretString, Problem> {
    if code.expose_secret().trim().is_empty() {
        return Err(problem::BAD_REQUEST);
    }
    let typed: String = code
        .expose_secret()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if ('０'..='９').contains(&c) { char::from(b'0' + (c as u32 - '０' as u32) as u8) } else { c })
        .collect();
    if (1..=32).contains(&typed.len()) && typed.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(SecretString::from(typed))
    } else {
        Err(problem::CODE_MISMATCH)
    }
}

/// A password as typed: 1 to 256 characters (Cognito's limit), else a malformed request.
pub fn check_secret(secret: &SecretString) -> Result<(), Problem> {
    let chars = secret.expose_secret().chars().count();
    if (1..=MAX_SECRET_CHARS).contains(&chars) { Ok(()) } else { Err(problem::BAD_REQUEST) }
}

/// A sign-in error, logged, as the browser is told it.
pub fn logged(error: &SignInError, route: &str) -> Problem {
    log(Problem::of(error), error, route)
}

/// A corporate sign-in error, logged, as the browser is told it.
pub fn logged_corporate(error: &CorporateError, route: &str) -> Problem {
    log(Problem::of_corporate(error), error, route)
}

/// A known path asked with a method it does not take: a JSON `405`.
pub async fn method_not_allowed() -> ApiProblem {
    ApiProblem(problem::METHOD_NOT_ALLOWED)
}

/// No such path: a JSON `404`.
pub async fn not_found() -> ApiProblem {
    ApiProblem(problem::NOT_FOUND)
}
