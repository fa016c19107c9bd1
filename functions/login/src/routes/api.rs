//! The JSON calls the form makes, cross-origin from the form's origin only: `POST /login/identify`
//! (the email typed first), `POST /login`, `POST /login/code`, `POST /login/passkey`,
//! `POST /login/challenge`, `POST /password/forgot`, `POST /password/reset`,
//! `POST /corporate/start`, sign-up: `POST /signup`, `POST /signup/confirm`,
//! `POST /signup/resend`, and consent: `GET /consent/documents`, `POST /consent/show`,
//! `POST /consent`. A request from another origin is refused (`403`) before anything else;
//! CORS (`tower-http`) answers the form's preflights and names the form's origin.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::problem;
use crate::state::Login;
use crate::web::{
    ApiProblem, JsonBody, Now, Visitor, check_credential, check_secret, from_form, json_response, logged, logged_corporate, method_not_allowed, one_time_code,
};
use shared::common::language::Language;
use shared::signin::challenge::{ChallengeAnswer, ChallengeKind};
use shared::signin::corporate::Identified;
use shared::signin::passwordless::FirstFactor;
use shared::signin::service::{Outcome, SignInError};
use shared::signin::sign_up::NewAccount;

pub fn routes(login: &Arc<Login>) -> Router<Arc<Login>> {
    form_calls(
        login,
        Router::new()
            .route("/login", post(password))
            .route("/login/challenge", post(challenge))
            .route("/login/code", post(email_code))
            .route("/login/passkey", post(passkey))
            .route("/login/identify", post(identify))
            .route("/password/forgot", post(forgot))
            .route("/password/reset", post(reset))
            .route("/corporate/start", post(corporate_start))
            .route("/signup", post(sign_up))
            .route("/signup/confirm", post(sign_up_confirm))
            .route("/signup/resend", post(sign_up_resend))
            .route("/consent/documents", get(consent_documents))
            .route("/consent/show", post(consent_show))
            .route("/consent", post(consent)),
    )
}

/// `routes` as the form's JSON calls: cross-origin from the form only (CORS for its origin, and
/// any other `Origin` refused), a JSON `405` for another method. The account page's calls take
/// the same layers in the account function.
pub fn form_calls(login: &Arc<Login>, routes: Router<Arc<Login>>) -> Router<Arc<Login>> {
    let cors = CorsLayer::new()
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
        .allow_origin(HeaderValue::from_str(login.form_origin.as_str()).map(AllowOrigin::exact).unwrap_or_else(|_| AllowOrigin::list([])));
    routes.method_not_allowed_fallback(method_not_allowed).layer(cors).layer(middleware::from_fn_with_state(login.clone(), only_from_form))
}

/// Browsers always send `Origin` on these cross-origin calls; tools may send none. Any other
/// origin is refused, preflights included.
async fn only_from_form(State(login): State<Arc<Login>>, request: Request, next: Next) -> Response {
    if request.headers().contains_key(header::ORIGIN) && !from_form(&login, request.headers()) {
        return ApiProblem(problem::ORIGIN_NOT_ALLOWED).into_response();
    }
    next.run(request).await
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
    /// A passkey's answer: the browser's `AuthenticationResponseJSON`.
    #[serde(default)]
    credential: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUpBody {
    ctx: String,
    email: String,
    password: SecretString,
    name: String,
    /// `ja` or `en`: the language of the person's emails.
    language: String,
    /// The consent documents ticked, by name.
    #[serde(default)]
    accepted: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    flow: String,
    code: SecretString,
    password: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowBody {
    flow: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    flow: String,
    /// The documents ticked, by name; required ones not named decline.
    accepted: Vec<String>,
}

type Answer = Result<Response, ApiProblem>;

fn answer(result: Result<Outcome, SignInError>, route: &str) -> Answer {
    result.map(|o| json_response(StatusCode::OK, &outcome(o))).map_err(|e| ApiProblem(logged(&e, route)))
}

/// `POST /login`: email and password; the handoff to `/session/handoff`, or the next challenge.
async fn password(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<PasswordBody>) -> Answer {
    check_secret(&b.password).map_err(ApiProblem)?;
    answer(login.sign_in.password.sign_in(&b.ctx, &b.email, &b.password, &visitor, now).await, "login")
}

/// `POST /login/challenge`: exactly one of a code, a new password or a choice of factor.
async fn challenge(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ChallengeBody>) -> Answer {
    let answer_of = match (b.code, b.new_password, b.choice, b.credential) {
        (Some(code), None, None, None) => ChallengeAnswer::Code(one_time_code(&code).map_err(ApiProblem)?),
        (None, Some(password), None, None) => ChallengeAnswer::NewPassword(check_secret(&password).map(|_| password).map_err(ApiProblem)?),
        (None, None, Some(choice), None) => ChallengeAnswer::Choose(choice),
        (None, None, None, Some(credential)) => ChallengeAnswer::Credential(check_credential(&credential).map_err(ApiProblem)?),
        _ => return Err(ApiProblem(problem::BAD_REQUEST)),
    };
    answer(login.sign_in.password.answer(&b.flow, answer_of, &visitor, now).await, "login/challenge")
}

/// `POST /login/code`: a code sent to the email instead of a password; the code step (the same
/// for any address).
async fn email_code(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    answer(login.sign_in.passwordless.start(&b.ctx, &b.email, FirstFactor::EmailCode, now).await, "login/code")
}

/// `POST /login/passkey`: the passkey step, with the request options for the browser (the same
/// shape for any address).
async fn passkey(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    answer(login.sign_in.passwordless.start(&b.ctx, &b.email, FirstFactor::Passkey, now).await, "login/passkey")
}

/// `POST /password/forgot`: sends a reset code (the same answer whether or not the account exists).
async fn forgot(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    match login.sign_in.password.forgot_password(&b.ctx, &b.email, now).await {
        Ok(()) => Ok(json_response(StatusCode::OK, &json!({"status": "code_sent"}))),
        Err(e) => Err(ApiProblem(logged(&e, "password/forgot"))),
    }
}

/// `POST /password/reset`: the code and a new password; then signed in like `POST /login`.
async fn reset(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ResetBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    check_secret(&b.new_password).map_err(ApiProblem)?;
    answer(login.sign_in.password.reset_password(&b.ctx, &b.email, &code, &b.new_password, &visitor, now).await, "password/reset")
}

/// `POST /signup`: a new account for the app the context names; the code step (the same answer
/// whether or not the email has an account).
async fn sign_up(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<SignUpBody>) -> Answer {
    check_secret(&b.password).map_err(ApiProblem)?;
    let language = Language::parse(&b.language).ok_or(ApiProblem(problem::BAD_REQUEST))?;
    let account = NewAccount { email: &b.email, password: &b.password, name: &b.name, language, accepted: &b.accepted };
    match login.sign_in.sign_up.start(&b.ctx, account, &visitor, now).await {
        Ok(sent) => Ok(json_response(StatusCode::OK, &outcome(Outcome::ConfirmSignUp(sent)))),
        Err(e) => Err(ApiProblem(logged(&e, "signup"))),
    }
}

/// `POST /signup/confirm`: the emailed code and the password chosen; then signed in like `POST /login`.
async fn sign_up_confirm(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ConfirmBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    check_secret(&b.password).map_err(ApiProblem)?;
    answer(login.sign_in.sign_up.confirm(&b.flow, &code, &b.password, &visitor, now).await, "signup/confirm")
}

/// `POST /signup/resend`: a new code (the same answer for any address).
async fn sign_up_resend(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<FlowBody>) -> Answer {
    match login.sign_in.sign_up.resend(&b.flow, now).await {
        Ok(()) => Ok(json_response(StatusCode::OK, &json!({"status": "code_sent"}))),
        Err(e) => Err(ApiProblem(logged(&e, "signup/resend"))),
    }
}

/// `GET /consent/documents`: the current documents, as sign-up shows them.
async fn consent_documents(State(login): State<Arc<Login>>) -> Answer {
    match login.sign_in.consent.documents().await {
        Ok(documents) => Ok(json_response(StatusCode::OK, &json!({"documents": documents}))),
        Err(e) => Err(ApiProblem(logged(&e, "consent/documents"))),
    }
}

/// `POST /consent/show`: the consent step a flow is for (the form arrives with it from a
/// corporate sign-in).
async fn consent_show(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<FlowBody>) -> Answer {
    match login.sign_in.consent.show(&b.flow, now).await {
        Ok(asked) => Ok(json_response(StatusCode::OK, &outcome(Outcome::Consent(asked)))),
        Err(e) => Err(ApiProblem(logged(&e, "consent/show"))),
    }
}

/// `POST /consent`: the documents ticked; then the sign-in goes on like `POST /login`.
async fn consent(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ConsentBody>) -> Answer {
    answer(login.sign_in.consent.answer(&b.flow, &b.accepted, &visitor, now).await, "consent")
}

/// `POST /corporate/start`: the email's organisation; where the browser goes next (`/corporate/go`).
async fn corporate_start(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    let flow = login.corporate.start(&b.ctx, &b.email, now).await.map_err(|e| ApiProblem(logged_corporate(&e, "corporate/start")))?;
    to_provider(&login, &flow)
}

/// The email typed first: an organisation's domain whose people sign in only there goes on to
/// its provider (as `/corporate/start`); one whose policy also allows a password gets
/// `{"status": "sign_in", "corporate": {...}}` (the provider offered first); every other
/// address gets `{"status": "sign_in"}`, the same bytes whether or not an account exists
/// (nothing about the person is read).
async fn identify(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    match login.corporate.identify(&b.ctx, &b.email, now).await.map_err(|e| ApiProblem(logged_corporate(&e, "login/identify")))? {
        Identified::Corporate(flow) => to_provider(&login, &flow),
        Identified::Either(flow) => {
            Ok(json_response(StatusCode::OK, &json!({"status": "sign_in", "corporate": {"method": "GET", "url": provider_url(&login, &flow)?.as_str()}})))
        }
        Identified::Local => Ok(json_response(StatusCode::OK, &json!({"status": "sign_in"}))),
    }
}

/// `/corporate/go` with the sealed corporate flow (a top-level navigation).
fn provider_url(login: &Login, flow: &str) -> Result<url::Url, ApiProblem> {
    let mut url = url::Url::parse(&format!("{}/corporate/go", login.api_url)).map_err(|_| ApiProblem(problem::BAD_REQUEST))?;
    url.query_pairs_mut().append_pair("flow", flow);
    Ok(url)
}

/// On to the organisation's provider.
fn to_provider(login: &Login, flow: &str) -> Answer {
    Ok(json_response(StatusCode::OK, &json!({"status": "redirect", "method": "GET", "url": provider_url(login, flow)?.as_str()})))
}

fn outcome(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Handoff(handoff) => json!({"status": "signed_in", "handoff": handoff}),
        Outcome::Challenge { kind, destination, options, flow, setup, public_key } => {
            let mut body = json!({"status": "challenge", "challenge": kind, "destination": destination, "options": options, "flow": flow});
            if let Some(setup) = setup {
                body["setup"] = json!({"secret": setup.secret, "uri": setup.uri});
            }
            if let Some(public_key) = public_key {
                body["public_key"] = public_key;
            }
            body
        }
        Outcome::ConfirmSignUp(sent) => json!({"status": "confirm_sign_up", "flow": sent.flow, "destination": sent.destination}),
        Outcome::Consent(asked) => json!({"status": "consent", "flow": asked.flow, "documents": asked.documents}),
    }
}
