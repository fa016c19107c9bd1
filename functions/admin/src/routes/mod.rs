//! The admin API as one `axum` router, the same in Lambda and in the dev server. One file per
//! resource: [`apps`], [`consent`], [`hooks`], [`keys`], [`orgs`], [`people`], [`workflows`], [`audit`], [`overview`]; `GET /admin/v1/me` and `POST /admin/v1/me/sign-out` here.
//!
//! Layers: CORS for the console's origin only (`Authorization`, `Content-Type`, `If-Match`;
//! `ETag` and `Retry-After` exposed); any request whose `Origin` is another is refused (`403 origin_not_allowed`)
//! before it is read, so a page elsewhere changes nothing even with a token; nothing cached;
//! `nosniff`; the body limit; a span naming API Gateway's request id. Unknown paths are a JSON
//! `404`, a known path with another method a JSON `405`.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::Admin;
use crate::web::{Caller, MAX_BODY_BYTES, Problem, now};
use shared::admin::AdminError;

pub mod apps;
pub mod audit;
pub mod consent;
pub mod hooks;
pub mod keys;
pub mod orgs;
pub mod overview;
pub mod people;
pub mod workflows;

pub fn router(admin: Arc<Admin>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact(HeaderValue::from_str(&admin.console_origin).unwrap_or_else(|_| HeaderValue::from_static("null"))))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH])
        .expose_headers([header::ETAG, header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600));
    Router::new()
        .route("/admin/v1/me", get(me))
        .route("/admin/v1/me/sign-out", post(sign_out))
        .merge(apps::routes())
        .merge(consent::routes())
        .merge(hooks::routes())
        .merge(keys::routes())
        .merge(orgs::routes())
        .merge(people::routes())
        .merge(workflows::routes())
        .merge(audit::routes())
        .merge(overview::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(admin.clone(), console_origin_only))
        .layer(cors)
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(axum::middleware::from_fn(shared::adapters::lambda_edge::request_span))
        .with_state(admin)
}

/// `GET /admin/v1/me`: who the console is signed in as, and their role.
async fn me(caller: Caller) -> Response {
    axum::Json(caller.0).into_response()
}

/// `POST /admin/v1/me/sign-out`: writes the caller's sign-out mark, so their console tokens
/// issued before this second (and their OpenID Connect apps' refresh tokens from before) end;
/// the console then ends the bridge session. `204`.
async fn sign_out(State(admin): State<Arc<Admin>>, caller: Caller) -> Result<StatusCode, Problem> {
    admin.people.sessions.mark_signed_out(&caller.0.username, now()).await.map_err(AdminError::from)?;
    admin.forget(&caller.0.username);
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a request that says it comes from a page of another origin.
async fn console_origin_only(State(admin): State<Arc<Admin>>, request: Request, next: Next) -> Response {
    match request.headers().get(header::ORIGIN) {
        Some(origin) if origin.as_bytes() != admin.console_origin.as_bytes() => {
            Problem::new(StatusCode::FORBIDDEN, "origin_not_allowed", "this API answers the console's own origin only").into_response()
        }
        _ => next.run(request).await,
    }
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}
