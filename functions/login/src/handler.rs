//! HTTP in and out for the login function: routing, parsing, CORS, cookies, and turning outcomes
//! and problems into responses. Each route is a few lines around one `SignIn` or `Corporate` call.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cookies;
use crate::pages;
use crate::problem::{self, Problem};
use crate::state::Login;
use shared::events::EventContext;
use shared::signin::challenge::{ChallengeAnswer, ChallengeKind};
use shared::signin::corporate;
use shared::signin::corporate::{Callback, Failure};
use shared::signin::flow;
use shared::signin::flow::SignInContext;
use shared::signin::service::{Entered, Entry, Outcome, SignInError, SignedIn};
use shared::signin::session;
use shared::signin::session::ProviderLogout;
use shared::tokens::signing_keys::JWKS_MAX_AGE;
use shared::tokens::targets::mint::Delivery;

/// Larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Cognito's own limit for a password.
const MAX_SECRET_CHARS: usize = 256;
/// Zendesk's error message is logged cut to this many characters.
const MAX_NOTICE_CHARS: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Password,
    Challenge,
    Forgot,
    Reset,
    CorporateStart,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Password => "login",
            Api::Challenge => "login/challenge",
            Api::Forgot => "password/forgot",
            Api::Reset => "password/reset",
            Api::CorporateStart => "corporate/start",
        }
    }
}

/// Serves one request. Never fails: every error becomes a response.
pub async fn handle(login: &Login, request: Request) -> Response<Body> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let navigation = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = match segments.as_slice() {
        [".well-known", "jwks.json"] if navigation => jwks(login, now).await,
        ["sso", app] if navigation => sso(login, &request, app, now).await,
        ["sso", app, "logout"] if navigation => logout(login, &request, app, now).await,
        ["sso", _] | ["sso", _, "logout"] => problem_json(&problem::METHOD_NOT_ALLOWED),
        ["logout"] if matches!(*request.method(), Method::POST | Method::GET) => sign_out(login, &request, None).await,
        ["logout", "done"] if navigation => logout_done(login, &request),
        ["session", "handoff"] if request.method() == Method::POST => handoff(login, &request, now).await,
        ["corporate", "start"] => api(login, &request, Api::CorporateStart, now).await,
        ["corporate", "go"] if navigation => corporate_go(login, &request, now).await,
        ["corporate", "callback"] if navigation => corporate_callback(login, &request, now).await,
        ["logout"] | ["logout", "done"] | ["corporate", "go" | "callback"] | ["session", "handoff"] | [".well-known", "jwks.json"] => {
            problem_json(&problem::METHOD_NOT_ALLOWED)
        }
        ["login"] => api(login, &request, Api::Password, now).await,
        ["login", "challenge"] => api(login, &request, Api::Challenge, now).await,
        ["password", "forgot"] => api(login, &request, Api::Forgot, now).await,
        ["password", "reset"] => api(login, &request, Api::Reset, now).await,
        _ => problem_json(&problem::NOT_FOUND),
    };
    let headers = response.headers_mut();
    // Nothing is cached unless the route says otherwise (only the public JWKS does).
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /.well-known/jwks.json`: the public keys of our signing keys, for apps that verify our
/// RS256/ES256 tokens. Public and cacheable.
async fn jwks(login: &Login, now: u64) -> Response<Body> {
    match login.sign_in.signers.jwks(now).await {
        Ok(jwks) => {
            let mut response = json_response(StatusCode::OK, &jwks);
            let headers = response.headers_mut();
            if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE}")) {
                headers.insert(header::CACHE_CONTROL, cache);
            }
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "could not read the signing keys");
            problem_json(&problem::Problem::of(&SignInError::Store(e)))
        }
    }
}

/// `GET /sso/{app}`: with a live session, straight to the app with its token; otherwise check
/// the app and its request (`return_to`, or DiscourseConnect's `sso`/`sig`), then on to the form
/// with a sealed context.
async fn sso(login: &Login, request: &Request, app: &str, now: u64) -> Response<Body> {
    let Some(query) = query(request) else {
        return problem_html(request, &problem::BAD_REQUEST);
    };
    let get = |k: &str| query.get(k).map(String::as_str);
    // The browser's device cookie (risk assessment); a browser without one gets one now.
    let known_device = cookies::read(request.headers(), cookies::DEVICE).filter(|d| d.len() == 43).map(str::to_owned);
    let device = known_device.clone().unwrap_or_else(shared::signin::oidc::random_token);
    let entry = Entry { return_to: get("return_to"), sso: get("sso"), sig: get("sig"), device: Some(&device) };
    let mut response = match login.sign_in.enter(app, entry, cookies::read(request.headers(), session::COOKIE), now).await {
        Ok(Entered::App(delivery)) => deliver(delivery),
        Ok(Entered::Form(ctx)) => redirect_to_form(login, &[("ctx", &ctx)]),
        Err(e) => return problem_html(request, &logged(&e, "sso")),
    };
    if let Some(cookie) = known_device.is_none().then(|| cookies::set(cookies::DEVICE, &device, cookies::DEVICE_MAX_AGE)).flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /sso/{app}/logout`: the app's logout URL. Zendesk also sends people here with
/// `kind=error&message=...` when it refuses a token; the form shows that message.
async fn logout(login: &Login, request: &Request, app: &str, now: u64) -> Response<Body> {
    let query = query(request).unwrap_or_default();
    // A return_to the app does not allow is dropped rather than failing the logout.
    let entry = Entry { return_to: query.get("return_to").map(String::as_str), ..Entry::default() };
    let started = match login.sign_in.start(app, entry, now).await {
        Err(SignInError::ReturnTo(_)) => login.sign_in.start(app, Entry::default(), now).await,
        other => other,
    };
    // An app entered only with its own signed request (a forum) cannot be started again from
    // here: the sign-out ends on the form without a way back.
    let ctx = match started {
        Ok(ctx) => Some(ctx),
        Err(SignInError::AppRequest(_)) => None,
        Err(e) => return problem_html(request, &logged(&e, "logout")),
    };
    if query.get("kind").map(String::as_str) != Some("error") {
        return sign_out(login, request, ctx.as_deref()).await;
    }
    // The app's message is for the operator's log: anyone can link here with any `message`, so
    // the form never repeats it (it shows its own localised notice).
    let detail: String = query.get("message").map(String::as_str).unwrap_or("").chars().filter(|c| !c.is_control()).take(MAX_NOTICE_CHARS).collect();
    tracing::info!(app, detail, "app refused a sign-in");
    let mut params = vec![("notice", "app_error")];
    params.extend(ctx.as_deref().map(|ctx| ("ctx", ctx)));
    redirect_to_form(login, &params)
}

/// Ends the bridge session (and the person's Cognito refresh tokens); then on to the company's
/// provider for single sign-out where the session has one, else to the form. `ctx` brings the
/// person back to the app's sign-in afterwards.
async fn sign_out(login: &Login, request: &Request, ctx: Option<&str>) -> Response<Body> {
    let provider = match login.sign_in.logout(cookies::read(request.headers(), session::COOKIE)).await {
        Ok(provider) => provider,
        Err(e) => return problem_html(request, &logged(&e, "logout")),
    };
    let mut response = match provider.and_then(|p| provider_logout_url(login, &p, ctx)) {
        Some(url) => redirect(&url),
        None => match ctx {
            Some(ctx) => redirect_to_form(login, &[("ctx", ctx), ("notice", "signed_out")]),
            None => redirect_to_form(login, &[("notice", "signed_out")]),
        },
    };
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(session::COOKIE));
    response
}

/// The provider's `end_session_endpoint` with `id_token_hint`, our `/logout/done` to come back
/// to, and the sign-in context as `state`.
fn provider_logout_url(login: &Login, provider: &ProviderLogout, ctx: Option<&str>) -> Option<String> {
    let mut url = url::Url::parse(&provider.end_session_endpoint).ok()?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("id_token_hint", &provider.id_token_hint)
            .append_pair("client_id", &provider.client_id)
            .append_pair("post_logout_redirect_uri", &format!("{}/logout/done", login.api_url));
        if let Some(ctx) = ctx {
            q.append_pair("state", ctx);
        }
    }
    Some(url.into())
}

/// `GET /logout/done`: back from the provider's sign-out, on to the form.
fn logout_done(login: &Login, request: &Request) -> Response<Body> {
    let query = query(request).unwrap_or_default();
    match query.get("state").filter(|s| s.len() <= shared::signin::flow::MAX_TOKEN_LEN) {
        Some(ctx) => redirect_to_form(login, &[("ctx", ctx), ("notice", "signed_out")]),
        None => redirect_to_form(login, &[("notice", "signed_out")]),
    }
}

/// `GET /corporate/go?flow=`: a new pending sign-in bound to this browser, then the provider.
async fn corporate_go(login: &Login, request: &Request, now: u64) -> Response<Body> {
    let query = query(request).unwrap_or_default();
    let Some(flow) = query.get("flow") else { return problem_html(request, &problem::BAD_REQUEST) };
    match login.corporate.begin(flow, now).await {
        Ok(started) => {
            let mut response = redirect(&started.url);
            if let Some(cookie) = cookies::set(corporate::BINDING_COOKIE, &started.binding, corporate::PENDING_TTL) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => problem_html(request, &logged_corporate(&e, "corporate/go")),
    }
}

/// `GET /corporate/callback`: the provider's answer. Success: the app's token and a session.
/// A failure after the state checked out goes back to the form for the same app, with the reason.
async fn corporate_callback(login: &Login, request: &Request, now: u64) -> Response<Body> {
    let query = query(request).unwrap_or_default();
    let get = |k: &str| query.get(k).map(String::as_str);
    let callback = Callback {
        state: get("state").unwrap_or(""),
        code: get("code"),
        error: get("error"),
        binding: cookies::read(request.headers(), corporate::BINDING_COOKIE),
    };
    let mut response = match login.corporate.finish(callback, now).await {
        Ok(mut done) => {
            // The device the context claims counts only if this browser holds its cookie.
            if !flow::device_shown(done.ctx.device.as_deref(), cookies::read(request.headers(), cookies::DEVICE)) {
                done.ctx.device = None;
            }
            let ctx = done.ctx.clone();
            match login.sign_in.complete(done, &visitor(login, request), now).await {
                Ok(signed_in) => into_session(login, signed_in),
                Err(e) => back_to_form(login, request, &ctx, &logged(&e, "corporate/callback"), now).await,
            }
        }
        Err(Failure { ctx: Some(ctx), error }) => back_to_form(login, request, &ctx, &logged_corporate(&error, "corporate/callback"), now).await,
        Err(Failure { ctx: None, error }) => problem_html(request, &logged_corporate(&error, "corporate/callback")),
    };
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(corporate::BINDING_COOKIE));
    response
}

/// `POST /session/handoff`: a password sign-in's sealed result, brought by the form's browser on
/// a top-level navigation (from the form's origin only, so no other site can sign a browser in
/// as someone else): sets the session cookie and goes on to the app.
async fn handoff(login: &Login, request: &Request, now: u64) -> Response<Body> {
    if !request.headers().get(header::ORIGIN).is_some_and(|o| from_form(login, o)) {
        return problem_html(request, &problem::ORIGIN_NOT_ALLOWED);
    }
    let body: &[u8] = request.body().as_ref();
    if body.is_empty() || body.len() > MAX_BODY_BYTES {
        return problem_html(request, &problem::BAD_REQUEST);
    }
    let token = url::form_urlencoded::parse(body).find(|(k, _)| k == "handoff").map(|(_, v)| v.into_owned()).unwrap_or_default();
    match login.sign_in.open_handoff(&token, cookies::read(request.headers(), cookies::DEVICE), now).await {
        Ok(signed_in) => into_session(login, signed_in),
        Err(e) => problem_html(request, &logged(&e, "session/handoff")),
    }
}

/// Whether an `Origin` header names the form's origin, exactly.
fn from_form(login: &Login, origin: &HeaderValue) -> bool {
    origin.as_bytes() == login.form_origin.as_str().as_bytes()
}

/// The way to the app, with the new session's cookie.
fn into_session(login: &Login, signed_in: SignedIn) -> Response<Body> {
    let mut response = deliver(signed_in.delivery);
    if let Some(cookie) = cookies::set(session::COOKIE, &signed_in.session, login.sign_in.session_policy.ttl) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn back_to_form(login: &Login, request: &Request, ctx: &SignInContext, problem: &Problem, now: u64) -> Response<Body> {
    match login.sign_in.seal_context(ctx, now).await {
        Ok(ctx) => redirect_to_form(login, &[("ctx", &ctx), ("error", problem.code)]),
        Err(_) => problem_html(request, problem),
    }
}

fn logged_corporate(error: &corporate::CorporateError, route: &str) -> Problem {
    log(Problem::of_corporate(error), error, route)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    ctx: String,
    email: String,
    password: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeBody {
    flow: String,
    #[serde(default)]
    code: Option<SecretString>,
    #[serde(default)]
    new_password: Option<SecretString>,
    #[serde(default)]
    choice: Option<ChallengeKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgotBody {
    ctx: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorporateBody {
    ctx: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    ctx: String,
    email: String,
    code: SecretString,
    new_password: SecretString,
}

/// The JSON endpoints the form calls, cross-origin, from `form_origin` only.
async fn api(login: &Login, request: &Request, route: Api, now: u64) -> Response<Body> {
    // Browsers always send Origin on these cross-origin calls; tools may send none.
    let origin = request.headers().get(header::ORIGIN);
    if origin.is_some_and(|o| !from_form(login, o)) {
        return problem_json(&problem::ORIGIN_NOT_ALLOWED);
    }
    let mut response = if request.method() == Method::OPTIONS {
        preflight()
    } else if request.method() != Method::POST {
        problem_json(&problem::METHOD_NOT_ALLOWED)
    } else {
        match serve(login, request, route, now).await {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(problem) => problem_json(&problem),
        }
    };
    if origin.is_some() {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(login.form_origin.as_str()) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Runs one JSON call.
async fn serve(login: &Login, request: &Request, route: Api, now: u64) -> Result<Value, Problem> {
    let sign_in = &login.sign_in;
    let result = match route {
        Api::Password => {
            let b: PasswordBody = body(request)?;
            check_secret(&b.password)?;
            sign_in.password(&b.ctx, &b.email, &b.password, &visitor(login, request), now).await.map(outcome)
        }
        Api::Challenge => {
            let b: ChallengeBody = body(request)?;
            let answer = match (b.code, b.new_password, b.choice) {
                (Some(code), None, None) => ChallengeAnswer::Code(one_time_code(&code)?),
                (None, Some(password), None) => ChallengeAnswer::NewPassword(check_secret(&password).map(|_| password)?),
                (None, None, Some(choice)) => ChallengeAnswer::Choose(choice),
                _ => return Err(problem::BAD_REQUEST),
            };
            sign_in.answer(&b.flow, answer, &visitor(login, request), now).await.map(outcome)
        }
        Api::Forgot => {
            let b: ForgotBody = body(request)?;
            sign_in.forgot_password(&b.ctx, &b.email, now).await.map(|()| json!({"status": "code_sent"}))
        }
        Api::CorporateStart => {
            let b: CorporateBody = body(request)?;
            let flow = login.corporate.start(&b.ctx, &b.email, now).await.map_err(|e| logged_corporate(&e, route.name()))?;
            let mut url = url::Url::parse(&format!("{}/corporate/go", login.api_url)).map_err(|_| problem::BAD_REQUEST)?;
            url.query_pairs_mut().append_pair("flow", &flow);
            return Ok(json!({"status": "redirect", "method": "GET", "url": url.as_str()}));
        }
        Api::Reset => {
            let b: ResetBody = body(request)?;
            let code = one_time_code(&b.code)?;
            check_secret(&b.new_password)?;
            sign_in.reset_password(&b.ctx, &b.email, &code, &b.new_password, &visitor(login, request), now).await.map(outcome)
        }
    };
    result.map_err(|e| logged(&e, route.name()))
}

/// What the request says about where it came from, for the sign-in's events: the source IP
/// API Gateway saw, the user agent, and the country only from the configured trusted header.
fn visitor(login: &Login, request: &Request) -> EventContext {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect::<String>());
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    };
    let country = login.country_header.as_deref().and_then(header).filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()));
    EventContext { ip, user_agent: header("user-agent"), country: country.map(|c| c.to_ascii_uppercase()), ..EventContext::default() }
}

fn outcome(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Handoff(handoff) => json!({"status": "signed_in", "handoff": handoff}),
        Outcome::Challenge { kind, destination, options, flow, setup } => {
            let mut body = json!({"status": "challenge", "challenge": kind, "destination": destination, "options": options, "flow": flow});
            if let Some(setup) = setup {
                body["setup"] = json!({"secret": setup.secret, "uri": setup.uri});
            }
            body
        }
    }
}

/// A navigation straight to the app: a redirect for GET delivery, a self-submitting form for POST.
fn deliver(delivery: Delivery) -> Response<Body> {
    match delivery {
        Delivery::Get { url } => redirect(&url),
        Delivery::Post { action, fields } => {
            let mut response = Response::new(Body::Text(pages::auto_post(&action, &fields)));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            if let Ok(csp) = HeaderValue::from_str(&pages::auto_post_csp()) {
                headers.insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            response
        }
    }
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn logged(error: &SignInError, route: &str) -> Problem {
    log(Problem::of(error), error, route)
}

/// Logs a failure (as an error when it is ours) and returns what the browser is told.
fn log(problem: Problem, error: &dyn std::fmt::Display, route: &str) -> Problem {
    if problem.is_server_side() {
        tracing::error!(route, code = problem.code, error = %error, "sign-in failed on our side");
    } else {
        tracing::info!(route, code = problem.code, error = %error, "sign-in refused");
    }
    problem
}

fn body<T: DeserializeOwned>(request: &Request) -> Result<T, Problem> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(problem::UNSUPPORTED_MEDIA_TYPE);
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(problem::TOO_LARGE);
    }
    serde_json::from_slice(bytes).map_err(|_| problem::BAD_REQUEST)
}

/// A one-time code as typed: full-width digits (a Japanese input method's) become ASCII and
/// spaces go; what is left must be 1 to 32 ASCII letters or digits, or it is a wrong code
/// without asking Cognito (nothing at all is a malformed request).
fn one_time_code(code: &SecretString) -> Result<SecretString, Problem> {
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

fn check_secret(secret: &SecretString) -> Result<(), Problem> {
    let chars = secret.expose_secret().chars().count();
    if (1..=MAX_SECRET_CHARS).contains(&chars) { Ok(()) } else { Err(problem::BAD_REQUEST) }
}

/// Query parameters; `None` when one is repeated (which one would the app have meant?).
fn query(request: &Request) -> Option<HashMap<String, String>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(request.uri().query().unwrap_or("")).ok()?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k, v).is_some() {
            return None;
        }
    }
    Some(map)
}

fn redirect_to_form(login: &Login, params: &[(&str, &str)]) -> Response<Body> {
    let mut url = login.form_url.clone();
    url.query_pairs_mut().extend_pairs(params);
    redirect(url.as_str())
}

fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn problem_json(problem: &Problem) -> Response<Body> {
    let mut response = json_response(problem.status, &json!({"error": problem.code, "message": problem.message}));
    if let Some(seconds) = problem.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn problem_html(request: &Request, problem: &Problem) -> Response<Body> {
    let lang = pages::language(request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let mut response = Response::new(Body::Text(pages::error_page(problem, lang)));
    *response.status_mut() = problem.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"));
    if let Some(seconds) = problem.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
