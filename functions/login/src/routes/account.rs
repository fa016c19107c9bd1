//! The account page's routes. `GET /account`: a top-level navigation carrying the session
//! cookie; the page on the form's site with its grant in the URL's fragment (never sent to a
//! server), or the form when there is no live session. The page's JSON calls (from the form's
//! origin, through `api`'s CORS and origin check), each with its grant or its fresh sign-in
//! step's: `POST /account/view`, `/account/sessions/end`, `/account/sessions/end-others`,
//! `/account/reauth`, `/account/reauth/answer`, `/account/passkeys`,
//! `/account/passkeys/start`, `/account/passkeys/add`, `/account/passkeys/remove`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::cookies;
use crate::state::Login;
use crate::web::{
    ApiProblem, JsonBody, Lang, Now, PageProblem, Visitor, check_credential, check_secret, json_response, logged, method_not_allowed, one_time_code, redirect,
    redirect_to_form,
};
use shared::signin::account::Reauth;
use shared::signin::service::SignInError;
use shared::signin::session;

/// `GET /account`.
pub fn page_route() -> Router<Arc<Login>> {
    Router::new().route("/account", get(open)).method_not_allowed_fallback(method_not_allowed)
}

/// The page's JSON calls (mounted by `api` behind its CORS and origin check).
pub fn json_routes() -> Router<Arc<Login>> {
    Router::new()
        .route("/account/view", post(view))
        .route("/account/sessions/end", post(end_session))
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/reauth", post(reauth))
        .route("/account/reauth/answer", post(reauth_answer))
        .route("/account/passkeys", post(passkeys))
        .route("/account/passkeys/start", post(start_passkey))
        .route("/account/passkeys/add", post(add_passkey))
        .route("/account/passkeys/remove", post(remove_passkey))
}

/// `GET /account`: the page with a grant for the live session, or the form to sign in first.
async fn open(State(login): State<Arc<Login>>, lang: Lang, headers: HeaderMap, Now(now): Now) -> Response {
    match login.sign_in.account.open_page(cookies::read(&headers, session::COOKIE), now).await {
        Ok(Some(grant)) => {
            let mut page = login.form_url.join("account.html").unwrap_or_else(|_| login.form_url.clone());
            page.set_fragment(Some(&format!("grant={grant}")));
            redirect(page.as_str())
        }
        Ok(None) => redirect_to_form(&login, &[("notice", "account_sign_in")]),
        Err(e) => PageProblem(logged(&e, "account"), lang).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    grant: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    grant: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReauthBody {
    grant: String,
    password: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    flow: String,
    code: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElevatedBody {
    elevated: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialBody {
    elevated: String,
    credential: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasskeyBody {
    elevated: String,
    id: String,
}

type Answer = Result<Response, ApiProblem>;

fn ok(result: Result<Value, SignInError>, route: &str) -> Answer {
    result.map(|body| json_response(StatusCode::OK, &body)).map_err(|e| ApiProblem(logged(&e, route)))
}

async fn view(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<GrantBody>) -> Answer {
    ok(login.sign_in.account.view(&b.grant, now).await.map(|v| json!(v)), "account/view")
}

async fn end_session(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<SessionBody>) -> Answer {
    ok(login.sign_in.account.end_session(&b.grant, &b.id, now).await.map(|()| json!({"status": "ended"})), "account/sessions/end")
}

async fn end_others(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<GrantBody>) -> Answer {
    ok(login.sign_in.account.end_others(&b.grant, now).await.map(|n| json!({"status": "ended", "ended": n})), "account/sessions/end-others")
}

fn reauth_step(step: Reauth) -> Value {
    match step {
        Reauth::Elevated(elevated) => json!({"status": "elevated", "elevated": elevated}),
        Reauth::Challenge { kind, destination, flow } => json!({"status": "challenge", "challenge": kind, "destination": destination, "flow": flow}),
    }
}

async fn reauth(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ReauthBody>) -> Answer {
    check_secret(&b.password).map_err(ApiProblem)?;
    ok(login.sign_in.account.reauthenticate(&b.grant, &b.password, &visitor, now).await.map(reauth_step), "account/reauth")
}

async fn reauth_answer(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<AnswerBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    ok(login.sign_in.account.reauthenticate_answer(&b.flow, code, now).await.map(reauth_step), "account/reauth/answer")
}

async fn passkeys(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    ok(login.sign_in.account.passkeys(&b.elevated, now).await.map(|p| json!({"passkeys": p})), "account/passkeys")
}

async fn start_passkey(State(login): State<Arc<Login>>, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    ok(login.sign_in.account.start_passkey(&b.elevated, now).await.map(|o| json!({"public_key": o})), "account/passkeys/start")
}

async fn add_passkey(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<CredentialBody>) -> Answer {
    check_credential(&b.credential).map_err(ApiProblem)?;
    ok(login.sign_in.account.add_passkey(&b.elevated, &b.credential, &visitor, now).await.map(|()| json!({"status": "added"})), "account/passkeys/add")
}

async fn remove_passkey(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<PasskeyBody>) -> Answer {
    if b.id.is_empty() || b.id.len() > 1024 {
        return Err(ApiProblem(crate::problem::BAD_REQUEST));
    }
    let removed = login.sign_in.account.remove_passkey(&b.elevated, &b.id, &visitor, now).await;
    ok(removed.map(|ended| json!({"status": "removed", "ended_sessions": ended})), "account/passkeys/remove")
}
