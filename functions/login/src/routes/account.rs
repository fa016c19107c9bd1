//! The account page's routes. `GET /account`: a top-level navigation carrying the session
//! cookie; the page on the form's site with its grant in the URL's fragment (never sent to a
//! server), or the form when there is no live session. The page's JSON calls (from the form's
//! origin, through `api`'s CORS and origin check), each with its grant or its fresh sign-in
//! step's: `POST /account/view`, `/account/sessions/end`, `/account/sessions/end-others`,
//! `/account/consents`, `/account/consents/decide`, `/account/reauth`, `/account/reauth/answer`; after the fresh step `/account/settings`,
//! `/account/profile`, `/account/password`, `/account/authenticator/start`,
//! `/account/authenticator/add`, `/account/email/start`, `/account/email/verify`, `/account/phone/start`, `/account/phone/verify`, `/account/sms/add`, `/account/factors/remove`,
//! `/account/passkeys/start`, `/account/passkeys/add`, `/account/passkeys/remove`,
//! `/account/delete`.

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
use shared::signin::challenge::{ChallengeAnswer, ChallengeKind};
use shared::signin::ports::Factor;
use shared::signin::service::SignInError;
use shared::signin::session;

/// `GET /account`.
pub fn page_route() -> Router<Arc<Login>> {
    Router::new().route("/account", get(open)).method_not_allowed_fallback(method_not_allowed)
}

/// The page's JSON calls (behind `api::form_calls`' CORS and origin check).
pub fn json_routes() -> Router<Arc<Login>> {
    Router::new()
        .route("/account/view", post(view))
        .route("/account/sessions/end", post(end_session))
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/apps/sign-out", post(sign_out_app))
        .route("/account/consents", post(consents))
        .route("/account/consents/decide", post(decide_consent))
        .route("/account/reauth", post(reauth))
        .route("/account/reauth/answer", post(reauth_answer))
        .route("/account/settings", post(settings))
        .route("/account/profile", post(profile))
        .route("/account/password", post(password))
        .route("/account/authenticator/start", post(start_authenticator))
        .route("/account/authenticator/add", post(add_authenticator))
        .route("/account/email/start", post(start_email))
        .route("/account/email/verify", post(verify_email))
        .route("/account/phone/start", post(start_phone))
        .route("/account/phone/verify", post(verify_phone))
        .route("/account/sms/add", post(add_sms))
        .route("/account/factors/remove", post(remove_factor))
        .route("/account/passkeys/start", post(start_passkey))
        .route("/account/passkeys/add", post(add_passkey))
        .route("/account/passkeys/remove", post(remove_passkey))
        .route("/account/delete", post(delete_account))
}

/// `GET /account`: the page with a grant for the live session, or the form to sign in first.
async fn open(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, lang: Lang, headers: HeaderMap, Now(now): Now) -> Response {
    match login.sign_in.account.open_page(cookies::read(&headers, session::COOKIE), &visitor, now).await {
        Ok(Some(grant)) => {
            let mut page = account_page(&login);
            page.set_fragment(Some(&format!("grant={grant}")));
            redirect(page.as_str())
        }
        Ok(None) => redirect_to_form(&login, &[("notice", "account_sign_in")]),
        Err(e) => PageProblem(logged(&e, "account"), lang).into_response(),
    }
}

/// The account page, beside the form.
fn account_page(login: &Login) -> url::Url {
    login.form_url.join("account.html").unwrap_or_else(|_| login.form_url.clone())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    grant: String,
}

/// The page's grant and the id of one of its items (a session, a connected app).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    grant: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    grant: String,
    document: String,
    accepted: bool,
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
    /// Exactly one of a code and a factor chosen.
    code: Option<SecretString>,
    choice: Option<ChallengeKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElevatedBody {
    elevated: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    elevated: String,
    name: String,
    language: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    elevated: String,
    previous: SecretString,
    proposed: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    elevated: String,
    code: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    elevated: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailCodeBody {
    elevated: String,
    change: String,
    code: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    elevated: String,
    phone: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorBody {
    elevated: String,
    factor: Factor,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteBody {
    elevated: String,
    /// The person typed their email to confirm (the page asks).
    confirm: String,
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

async fn view(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<GrantBody>) -> Answer {
    ok(login.sign_in.account.view(&b.grant, &visitor, now).await.map(|v| json!(v)), "account/view")
}

async fn end_session(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ItemBody>) -> Answer {
    ok(login.sign_in.account.end_session(&b.grant, &b.id, &visitor, now).await.map(|()| json!({"status": "ended"})), "account/sessions/end")
}

async fn sign_out_app(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ItemBody>) -> Answer {
    ok(login.sign_in.account.sign_out_app(&b.grant, &b.id, &visitor, now).await.map(|()| json!({"status": "signed_out"})), "account/apps/sign-out")
}

async fn end_others(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<GrantBody>) -> Answer {
    ok(login.sign_in.account.end_others(&b.grant, &visitor, now).await.map(|n| json!({"status": "ended", "ended": n})), "account/sessions/end-others")
}

async fn consents(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<GrantBody>) -> Answer {
    ok(login.sign_in.account.consents(&b.grant, &visitor, now).await.map(|d| json!({"documents": d})), "account/consents")
}

async fn decide_consent(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ConsentBody>) -> Answer {
    let decided = login.sign_in.account.decide_consent(&b.grant, &b.document, b.accepted, &visitor, now).await;
    ok(decided.map(|()| json!({"status": "recorded"})), "account/consents/decide")
}

fn reauth_step(step: Reauth) -> Value {
    match step {
        Reauth::Elevated(elevated) => json!({"status": "elevated", "elevated": elevated}),
        Reauth::Challenge { kind, destination, options, flow } => {
            json!({"status": "challenge", "challenge": kind, "destination": destination, "options": options, "flow": flow})
        }
    }
}

async fn reauth(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ReauthBody>) -> Answer {
    check_secret(&b.password).map_err(ApiProblem)?;
    ok(login.sign_in.account.reauthenticate(&b.grant, &b.password, &visitor, now).await.map(reauth_step), "account/reauth")
}

async fn reauth_answer(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<AnswerBody>) -> Answer {
    let answer = match (b.code, b.choice) {
        (Some(code), None) => ChallengeAnswer::Code(one_time_code(&code).map_err(ApiProblem)?),
        (None, Some(choice)) => ChallengeAnswer::Choose(choice),
        _ => return Err(ApiProblem(crate::problem::BAD_REQUEST)),
    };
    ok(login.sign_in.account.reauthenticate_answer(&b.flow, answer, &visitor, now).await.map(reauth_step), "account/reauth/answer")
}

async fn settings(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    ok(login.sign_in.account.settings(&b.elevated, &visitor, now).await.map(|s| json!(s)), "account/settings")
}

async fn profile(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ProfileBody>) -> Answer {
    let updated = login.sign_in.account.update_profile(&b.elevated, &b.name, &b.language, &visitor, now).await;
    ok(updated.map(|()| json!({"status": "updated"})), "account/profile")
}

async fn password(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<PasswordBody>) -> Answer {
    check_secret(&b.previous).map_err(ApiProblem)?;
    check_secret(&b.proposed).map_err(ApiProblem)?;
    let page = account_page(&login);
    let changed = login.sign_in.account.change_password(&b.elevated, &b.previous, &b.proposed, page.as_str(), &visitor, now).await;
    ok(changed.map(|c| json!({"status": "changed", "ended_sessions": c.ended_sessions, "handoff": c.handoff})), "account/password")
}

async fn start_authenticator(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    let setup = login.sign_in.account.start_authenticator(&b.elevated, &visitor, now).await;
    ok(setup.map(|s| json!({"secret": s.secret, "uri": s.uri})), "account/authenticator/start")
}

async fn add_authenticator(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<CodeBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    ok(login.sign_in.account.add_authenticator(&b.elevated, &code, &visitor, now).await.map(|()| json!({"status": "added"})), "account/authenticator/add")
}

/// `change`: the change, sealed, to carry back with the code.
async fn start_email(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<EmailBody>) -> Answer {
    let sent = login.sign_in.account.start_email(&b.elevated, &b.email, &visitor, now).await;
    ok(sent.map(|s| json!({"status": "code_sent", "destination": s.destination, "change": s.change})), "account/email/start")
}

/// The new address is the person's: every session has ended, this one too (sign in with it).
async fn verify_email(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<EmailCodeBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    let changed = login.sign_in.account.verify_email(&b.elevated, &b.change, &code, &visitor, now).await;
    ok(changed.map(|email| json!({"status": "changed", "email": email})), "account/email/verify")
}

async fn start_phone(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<PhoneBody>) -> Answer {
    let sent = login.sign_in.account.start_phone(&b.elevated, &b.phone, &visitor, now).await;
    ok(sent.map(|destination| json!({"status": "code_sent", "destination": destination})), "account/phone/start")
}

async fn verify_phone(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<CodeBody>) -> Answer {
    let code = one_time_code(&b.code).map_err(ApiProblem)?;
    ok(login.sign_in.account.verify_phone(&b.elevated, &code, &visitor, now).await.map(|()| json!({"status": "verified"})), "account/phone/verify")
}

async fn add_sms(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    ok(login.sign_in.account.add_sms(&b.elevated, &visitor, now).await.map(|()| json!({"status": "added"})), "account/sms/add")
}

async fn remove_factor(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<FactorBody>) -> Answer {
    let removed = login.sign_in.account.remove_factor(&b.elevated, b.factor, &visitor, now).await;
    ok(removed.map(|ended| json!({"status": "removed", "ended_sessions": ended})), "account/factors/remove")
}

async fn delete_account(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<DeleteBody>) -> Answer {
    let deleted = login.sign_in.account.delete_account(&b.elevated, &b.confirm, &visitor, now).await;
    ok(deleted.map(|()| json!({"status": "deleted"})), "account/delete")
}

async fn start_passkey(State(login): State<Arc<Login>>, Visitor(visitor): Visitor, Now(now): Now, JsonBody(b): JsonBody<ElevatedBody>) -> Answer {
    ok(login.sign_in.account.start_passkey(&b.elevated, &visitor, now).await.map(|o| json!({"public_key": o})), "account/passkeys/start")
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
