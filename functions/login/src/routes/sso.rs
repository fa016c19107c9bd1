//! Entering an app and leaving it: `GET /sso/{app}` (straight to the app with a live session,
//! else on to the form), `GET /sso/{app}/logout` (the app's logout and error URL), `GET|POST
//! /logout` and `GET /logout/done` (back from a company's single sign-out).

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;

use crate::cookies;
use crate::problem;
use crate::state::Login;
use crate::web::{Lang, Now, PageProblem, Params, Visitor, deliver, logged, method_not_allowed, redirect, redirect_to_form, set_cookie};
use shared::adapters::lambda_edge::Segments;
use shared::common::time::unix_now;
use shared::signin::flow::FlowError;
use shared::signin::service::{Entered, Entry, SignInError};
use shared::signin::session::{self, ProviderLogout};
use shared::tokens::saml::authn_request;

/// Zendesk's error message is logged cut to this many characters.
const MAX_NOTICE_CHARS: usize = 300;

pub fn routes() -> Router<Arc<Login>> {
    Router::new()
        .route("/sso/{app}", get(sso).post(sso_post))
        .route("/sso/{app}/logout", get(app_logout))
        .route("/sso/{app}/metadata", get(saml_metadata))
        .route("/logout", get(logout).post(logout))
        .route("/logout/done", get(logout_done))
        .method_not_allowed_fallback(method_not_allowed)
}

/// `GET /sso/{app}`: with a live session, straight to the app with its token; otherwise check
/// the app and its request (`return_to`, or DiscourseConnect's `sso`/`sig`), then on to the form
/// with a sealed context. A browser without a device cookie (risk assessment) gets one now.
async fn sso(
    State(login): State<Arc<Login>>,
    path: Segments,
    Params(query): Params,
    lang: Lang,
    Visitor(visitor): Visitor,
    headers: HeaderMap,
    Now(now): Now,
) -> Response {
    let Some(query) = query else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    let get = |k: &str| query.get(k).map(String::as_str);
    let device = cookies::BrowserDevice::of(&headers, now);
    let entry = Entry {
        return_to: get("return_to"),
        sso: get("sso"),
        sig: get("sig"),
        saml_request: get("SAMLRequest"),
        relay_state: get("RelayState"),
        device: Some(&device.id),
        legacy_device: device.legacy,
        ..Entry::default()
    };
    let mut response = match login.sign_in.entry.enter(path.get(1), entry, cookies::read(&headers, session::COOKIE), &visitor, now).await {
        Ok(Entered::App(delivery)) => deliver(delivery),
        Ok(Entered::Form { ctx, sign_up: false }) => redirect_to_form(&login, &[("ctx", &ctx)]),
        // The form offers "Create an account" (the API checks the app again).
        Ok(Entered::Form { ctx, sign_up: true }) => redirect_to_form(&login, &[("ctx", &ctx), ("sign_up", "open")]),
        Err(e) => return PageProblem(logged(&e, "sso"), lang).into_response(),
    };
    // A browser without the device cookie gets one.
    keep_device(&mut response, &device);
    response
}

/// `POST /sso/{app}`: a SAML request by the HTTP-POST binding (`SAMLRequest`, `RelayState`). A
/// post from the provider's site carries no session cookie (`SameSite=Lax`), so it is answered
/// with the same request by the HTTP-Redirect binding (deflated), a `303` to this path: a
/// top-level navigation that does.
async fn sso_post(lang: Lang, request: axum::extract::Request) -> Response {
    let Some(params) = super::oauth2::form(request).await else {
        return PageProblem(problem::BAD_REQUEST, lang).into_response();
    };
    let redirected = match params.get("SAMLRequest").map(|r| authn_request::post_to_redirect(r)) {
        Some(Ok(redirected)) => redirected,
        Some(Err(e)) => return PageProblem(logged(&SignInError::SamlRequest(e), "sso"), lang).into_response(),
        None => return PageProblem(problem::BAD_REQUEST, lang).into_response(),
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("SAMLRequest", &redirected);
    if let Some(relay_state) = params.get("RelayState") {
        query.append_pair("RelayState", relay_state);
    }
    // A reference with a query only: this very path, as a GET.
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("?{}", query.finish())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `GET /sso/{app}/metadata`: a SAML app's identity provider metadata (what its service
/// provider is configured from: our entity id, certificates and single sign-on service).
async fn saml_metadata(State(login): State<Arc<Login>>, path: Segments, lang: Lang, Now(now): Now) -> Response {
    match login.sign_in.entry.saml_metadata(path.get(1), now).await {
        Ok(xml) => {
            let mut response = Response::new(axum::body::Body::from(xml));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            response
        }
        Err(e) => PageProblem(logged(&e, "saml_metadata"), lang).into_response(),
    }
}

/// Gives the browser the device cookie its sign-in's context is bound to, if it lacks it.
pub(crate) fn keep_device(response: &mut Response, device: &cookies::BrowserDevice<'_>) {
    set_cookie(response, device.set_cookie());
}

/// `GET /sso/{app}/logout`: the app's logout URL. Zendesk also sends people here with
/// `kind=error&message=...` when it refuses a token; the form shows its own notice for that.
async fn app_logout(State(login): State<Arc<Login>>, path: Segments, query: Params, lang: Lang, headers: HeaderMap, Now(now): Now) -> Response {
    let app = path.get(1);
    let query = query.or_empty();
    // The form's context is bound to this browser, as from `/sso/{app}`: a sign-in begun from it
    // is good only here.
    let device = cookies::BrowserDevice::of(&headers, now);
    let entry = Entry { device: Some(&device.id), legacy_device: device.legacy, ..Entry::default() };
    // A return_to the app does not allow is dropped rather than failing the logout.
    let started = match login.sign_in.entry.start(app, Entry { return_to: query.get("return_to").map(String::as_str), ..entry }, now).await {
        Err(SignInError::ReturnTo(_)) => login.sign_in.entry.start(app, entry, now).await,
        other => other,
    };
    // An app entered only with its own request (a forum, an OpenID Connect client) cannot be
    // started again from here: the sign-out ends on the form without a way back.
    let ctx = match started {
        Ok(ctx) => Some(ctx),
        Err(SignInError::AppRequest(_) | SignInError::Authorization(_)) => None,
        Err(e) => return PageProblem(logged(&e, "logout"), lang).into_response(),
    };
    let mut response = if query.get("kind").map(String::as_str) != Some("error") {
        sign_out(&login, &headers, lang, ctx.as_deref()).await
    } else {
        app_refused(&login, &query, app, ctx.as_deref())
    };
    keep_device(&mut response, &device);
    response
}

/// Zendesk's refusal of a sign-in: logged for the operator, the form's own notice for the person.
fn app_refused(login: &Login, query: &HashMap<String, String>, app: &str, ctx: Option<&str>) -> Response {
    // The app's message is for the operator's log: anyone can link here with any `message`, so
    // the form never repeats it (it shows its own localised notice).
    let detail: String = query.get("message").map(String::as_str).unwrap_or("").chars().filter(|c| !c.is_control()).take(MAX_NOTICE_CHARS).collect();
    tracing::info!(app, detail, "app refused a sign-in");
    let mut params = vec![("notice", "app_error")];
    params.extend(ctx.map(|ctx| ("ctx", ctx)));
    redirect_to_form(login, &params)
}

/// `GET|POST /logout`: ends the bridge session, then the company's sign-out or the form.
async fn logout(State(login): State<Arc<Login>>, lang: Lang, headers: HeaderMap) -> Response {
    sign_out(&login, &headers, lang, None).await
}

/// Where a sign-out ends.
pub(crate) enum After<'a> {
    /// The form, saying so; with a sealed context, back to that app's sign-in.
    Form(Option<&'a str>),
    /// An OpenID Connect client's page (its checked `post_logout_redirect_uri`).
    Client(String),
}

async fn sign_out(login: &Login, headers: &HeaderMap, lang: Lang, ctx: Option<&str>) -> Response {
    sign_out_to(login, headers, lang, After::Form(ctx), unix_now()).await
}

/// Ends the bridge session (and the person's Cognito refresh tokens); then on to the company's
/// provider for single sign-out where the session has one, and to `after`.
pub(crate) async fn sign_out_to(login: &Login, headers: &HeaderMap, lang: Lang, after: After<'_>, now: u64) -> Response {
    let provider = match login.sign_in.entry.logout(cookies::read(headers, session::COOKIE)).await {
        Ok(provider) => provider,
        Err(e) => return PageProblem(logged(&e, "logout"), lang).into_response(),
    };
    // Through the provider, `state` brings back the form's context or the client's page, sealed.
    let state = match (&provider, &after) {
        (Some(_), After::Client(url)) => match login.sign_in.provider.seal_after_logout(url, now).await {
            Ok(sealed) => Some(sealed),
            Err(e) => {
                tracing::warn!(error = %e, "the client's page could not ride through the provider's sign-out: the form instead");
                None
            }
        },
        (_, After::Form(ctx)) => ctx.map(str::to_owned),
        (None, After::Client(_)) => None,
    };
    let through_provider = provider.and_then(|p| provider_logout_url(login, &p, state.as_deref()));
    let mut response = match (through_provider, after) {
        (Some(url), _) => redirect(&url),
        (None, After::Client(url)) => redirect(&url),
        (None, After::Form(Some(ctx))) => redirect_to_form(login, &[("ctx", ctx), ("notice", "signed_out")]),
        (None, After::Form(None)) => redirect_to_form(login, &[("notice", "signed_out")]),
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

/// `GET /logout/done`: back from the provider's sign-out, on to the OpenID Connect client's page
/// that asked for it, or to the form.
async fn logout_done(State(login): State<Arc<Login>>, query: Params, Now(now): Now) -> Response {
    let query = query.or_empty();
    let state = query.get("state").filter(|s| s.len() <= shared::signin::flow::MAX_TOKEN_LEN);
    if let Some(state) = state {
        match login.sign_in.provider.open_after_logout(state, now).await {
            Ok(url) => return redirect(&url),
            // The client's page, too late (a provider's "sign out?" page left open): signed out.
            Err(FlowError::Expired) => return redirect_to_form(&login, &[("notice", "signed_out")]),
            Err(_) => {}
        }
    }
    match state {
        Some(ctx) => redirect_to_form(&login, &[("ctx", ctx), ("notice", "signed_out")]),
        None => redirect_to_form(&login, &[("notice", "signed_out")]),
    }
}
