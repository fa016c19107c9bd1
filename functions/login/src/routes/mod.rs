//! The login function's API as one `axum` router, and the account function's as another (the
//! account page: [`account_router`]), the same in Lambda (`lambda_http::run`), in the dev server
//! and in the tests. One file per route group:
//!
//! - [`sso`]: `GET|POST /sso/{app}`, `GET /sso/{app}/logout`, `GET /sso/{app}/metadata` (a
//!   SAML app's), `GET|POST /logout`, `GET /logout/done`.
//! - [`api`]: the form's JSON calls, cross-origin from the form only: `POST /login`,
//!   `/login/challenge`, `/password/forgot`, `/password/reset`, `/corporate/start`.
//! - [`corporate`]: `GET /corporate/go`, `GET /corporate/callback`.
//! - [`handoff`]: `POST /session/handoff`.
//! - [`keys`]: `GET /.well-known/jwks.json`.
//! - [`oauth2`]: the OpenID provider of `oidc` apps: `/oauth2/authorize`, `/oauth2/token`,
//!   `/oauth2/userinfo`, `/oauth2/logout`, `GET /.well-known/openid-configuration`.
//! - [`account`]: `GET /account` (the account page) and its JSON calls (under `api`'s layers):
//!   the account function's.
//!
//! Layers on every route of both: a span naming API Gateway's request id, nothing cached unless the
//! route says so, `nosniff`, no referrer, and the body limit. Unknown paths (a trailing slash
//! too) are a JSON `404`, a known path with another method a JSON `405`.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::Login;
use crate::web::{MAX_BODY_BYTES, not_found};

pub mod account;
pub mod api;
pub mod corporate;
pub mod handoff;
pub mod keys;
pub mod oauth2;
pub mod sso;

/// The login function's router, its state set: a `tower` service of `http::Request`s.
pub fn router(login: Arc<Login>) -> Router {
    let routes = Router::new()
        .merge(sso::routes())
        .merge(api::routes(&login))
        .merge(corporate::routes())
        .merge(handoff::routes())
        .merge(keys::routes())
        .merge(oauth2::routes());
    with_layers(routes, login)
}

/// The account function's router (`GET /account` and the page's JSON calls): its own function,
/// so the login function's package keeps room under the 4 MB limit (the account page's code is
/// about 120 KB of it zipped).
pub fn account_router(login: Arc<Login>) -> Router {
    let routes = account::page_route().merge(api::form_calls(&login, account::json_routes()));
    with_layers(routes, login)
}

/// The layers every route of both functions has (see the module's documentation).
fn with_layers(routes: Router<Arc<Login>>, login: Arc<Login>) -> Router {
    routes
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(axum::middleware::from_fn(shared::adapters::lambda_edge::request_span))
        .with_state(login)
}
