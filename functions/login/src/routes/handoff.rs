//! `POST /session/handoff`: a sealed session value brought by the form's browser on a top-level
//! navigation (from the form's origin only, so no other site can sign a browser in as someone
//! else): a password sign-in's, which goes on to the app, or a password change's new value for
//! its session, which goes back to the account page. Sets the session cookie either way.

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;

use crate::cookies;
use crate::problem;
use crate::state::Login;
use crate::web::{Lang, Now, PageProblem, Visitor, body_bytes, deliver, from_form, logged, method_not_allowed, set_cookie};
use shared::signin::service::SignedIn;
use shared::signin::session;

pub fn routes() -> Router<Arc<Login>> {
    Router::new().route("/session/handoff", post(handoff)).method_not_allowed_fallback(method_not_allowed)
}

async fn handoff(State(login): State<Arc<Login>>, lang: Lang, Visitor(visitor): Visitor, Now(now): Now, request: Request) -> Response {
    if !from_form(&login, request.headers()) {
        return PageProblem(problem::ORIGIN_NOT_ALLOWED, lang).into_response();
    }
    let device = cookies::device(request.headers()).map(str::to_owned);
    let body = match body_bytes(request, &()).await {
        Ok(body) if !body.is_empty() => body,
        _ => return PageProblem(problem::BAD_REQUEST, lang).into_response(),
    };
    let token = url::form_urlencoded::parse(&body).find(|(k, _)| k == "handoff").map(|(_, v)| v.into_owned()).unwrap_or_default();
    match login.sign_in.arrival.open_handoff(&token, device.as_deref(), &visitor, now).await {
        Ok(signed_in) => into_session(&login, signed_in),
        Err(e) => PageProblem(logged(&e, "session/handoff"), lang).into_response(),
    }
}

/// The way to the app, with the new session's cookie.
pub fn into_session(login: &Login, signed_in: SignedIn) -> Response {
    let mut response = deliver(signed_in.delivery);
    set_cookie(&mut response, cookies::set(session::COOKIE, &signed_in.session, login.sign_in.arrival.session_ttl()));
    response
}
