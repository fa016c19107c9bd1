//! The login function's API as one `axum` router, the same in Lambda (`lambda_http::run`), in the
//! dev server and in the tests. One file per route group:
//!
//! - [`sso`]: `GET /sso/{app}`, `GET /sso/{app}/logout`, `GET|POST /logout`, `GET /logout/done`.
//! - [`api`]: the form's JSON calls, cross-origin from the form only: `POST /login`,
//!   `/login/challenge`, `/password/forgot`, `/password/reset`, `/corporate/start`.
//! - [`corporate`]: `GET /corporate/go`, `GET /corporate/callback`.
//! - [`handoff`]: `POST /session/handoff`.
//! - [`keys`]: `GET /.well-known/jwks.json`.
//! - [`oauth2`]: the OpenID provider of `oidc` apps: `/oauth2/authorize`, `/oauth2/token`,
//!   `/oauth2/userinfo`, `/oauth2/logout`, `GET /.well-known/openid-configuration`.
//! - [`account`]: `GET /account` (the account page) and its JSON calls (under `api`'s layers).
//!
//! Layers on every route: a span naming API Gateway's request id, nothing cached unless the
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

/// The router, its state set: a `tower` service of `http::Request`s.
pub fn router(login: Arc<Login>) -> Router {
    Router::new()
        .merge(sso::routes())
        .merge(api::routes(&login))
        .merge(corporate::routes())
        .merge(handoff::routes())
        .merge(keys::routes())
        .merge(oauth2::routes())
        .merge(account::page_route())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(axum::middleware::from_fn(shared::adapters::lambda_edge::request_span))
        .with_state(login)
}
