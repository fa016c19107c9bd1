//! The company's identity provider, there and back: `GET /corporate/go` (a pending sign-in bound
//! to this browser, then the provider) and `GET /corporate/callback` (the provider's answer: the
//! app's token and a session, or back to the form with the reason).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

use crate::cookies;
use crate::problem::{self, Problem};
use crate::routes::handoff::into_session;
use crate::state::Login;
use crate::web::{Lang, Now, PageProblem, Params, Visitor, logged, logged_corporate, method_not_allowed, redirect, redirect_to_form, set_cookie};
use shared::signin::corporate::{self, Callback, Failure};
use shared::signin::flow::{self, SignInContext};
use shared::signin::service::Arrived;

pub fn routes() -> Router<Arc<Login>> {
    Router::new().route("/corporate/go", get(go)).route("/corporate/callback", get(callback)).method_not_allowed_fallback(method_not_allowed)
}

/// `GET /corporate/go?flow=`: a new pending sign-in bound to this browser, then the provider.
/// Only in the browser whose form asked for it (its device cookie); elsewhere, or a flow that is
/// not valid, an error page.
async fn go(State(login): State<Arc<Login>>, query: Params, lang: Lang, headers: HeaderMap, Now(now): Now) -> Response {
    let query = query.or_empty();
    let Some(flow) = query.get("flow") else { return PageProblem(problem::BAD_REQUEST, lang).into_response() };
    let start = match login.corporate.open(flow, cookies::device(&headers), now).await {
        Ok(start) => start,
        Err(e) => return PageProblem(logged_corporate(&e, "corporate/go"), lang).into_response(),
    };
    let ctx = start.ctx.clone();
    match login.corporate.begin(start, now).await {
        Ok(started) => {
            let mut response = redirect(&started.url);
            set_cookie(&mut response, cookies::set(corporate::BINDING_COOKIE, &started.binding, corporate::PENDING_TTL));
            response
        }
        // Past the device check, any failure (the organisation lost its connection since the form
        // asked, its provider cannot be reached, an outage) goes back to the form for the same
        // app, which says why and offers the other ways in.
        Err(e) => back_to_form(&login, lang, &ctx, &logged_corporate(&e, "corporate/go"), now).await,
    }
}

/// `GET /corporate/callback`: the provider's answer. Success: the app's token and a session (or
/// the form's consent step first).
/// A failure after the state checked out goes back to the form for the same app, with the reason.
async fn callback(State(login): State<Arc<Login>>, query: Params, lang: Lang, headers: HeaderMap, Visitor(visitor): Visitor, Now(now): Now) -> Response {
    let query = query.or_empty();
    let get = |k: &str| query.get(k).map(String::as_str);
    let callback =
        Callback { state: get("state").unwrap_or(""), code: get("code"), error: get("error"), binding: cookies::read(&headers, corporate::BINDING_COOKIE) };
    // The binding cookie shows that this browser began the sign-in: its context is bound to this
    // browser's device (a new one if it shows none), whatever device it claimed (the standing of
    // another browser is not carried here).
    let device = cookies::BrowserDevice::of(&headers, now);
    let bind = |ctx: &mut SignInContext| {
        if !flow::device_shown(ctx.device.as_deref(), Some(&device.id)) {
            ctx.device = flow::device_digest(Some(&device.id));
        }
    };
    let mut response = match login.corporate.finish(callback, now).await {
        Ok(mut done) => {
            bind(&mut done.ctx);
            let ctx = done.ctx.clone();
            match login.sign_in.arrival.complete(done, &visitor, now).await {
                Ok(Arrived::SignedIn(signed_in)) => into_session(&login, signed_in),
                // The form asks for consent, then hands the sign-in off as a password one does.
                Ok(Arrived::Consent(asked)) => redirect_to_form(&login, &[("consent", &asked.flow)]),
                Err(e) => back_to_form(&login, lang, &ctx, &logged(&e, "corporate/callback"), now).await,
            }
        }
        // Back to the form bound to this browser too: its next sign-in hands off here.
        Err(Failure { ctx: Some(mut ctx), error }) => {
            bind(&mut ctx);
            back_to_form(&login, lang, &ctx, &logged_corporate(&error, "corporate/callback"), now).await
        }
        Err(Failure { ctx: None, error }) => PageProblem(logged_corporate(&error, "corporate/callback"), lang).into_response(),
    };
    response.headers_mut().append(header::SET_COOKIE, cookies::clear(corporate::BINDING_COOKIE));
    super::sso::keep_device(&mut response, &device);
    response
}

/// Back to the form for the same app, with the problem's code; a page if the context cannot be sealed.
async fn back_to_form(login: &Login, lang: Lang, ctx: &SignInContext, problem: &Problem, now: u64) -> Response {
    match login.sign_in.entry.seal_context(ctx, now).await {
        Ok(ctx) => redirect_to_form(login, &[("ctx", &ctx), ("error", problem.code)]),
        Err(_) => PageProblem(*problem, lang).into_response(),
    }
}
