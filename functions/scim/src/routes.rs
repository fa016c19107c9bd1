//! The SCIM function's API as one `axum` router, the same in Lambda, in the dev server and in
//! the tests: the discovery endpoints (RFC 7644 §4), `/Users` and `/Groups` (list, `.search`,
//! create, read, replace, patch, delete), and clear refusals for `/Me` and `/Bulk`.
//!
//! Every `/scim/v2` request is authenticated first (an organisation's bearer token), so an
//! unknown path and a known one look alike to a caller without a token. Errors are in the SCIM
//! format on every route, unknown paths and methods included.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::Scim;
use crate::web::{Answer, Caller, MAX_BODY_BYTES, Params, ScimBody, ScimProblem, ScimReply, header_text};
use shared::adapters::lambda_edge::{Segments, request_span};
use shared::directory::scim::error::ScimError;
use shared::directory::scim::query::{ListQuery, list_response};
use shared::directory::scim::resource::{Kind, Projection};
use shared::directory::scim::schema;
use shared::directory::scim::service::Reply;

const DOCS: &str = "https://github.com/identity-bridge/identity-bridge#scim-provisioning";

/// The router, its state set.
pub fn router(scim: Arc<Scim>) -> Router {
    let unsupported = |detail: &'static str| any(move || async move { ScimProblem::NotSupported(detail) });
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(|caller: Caller| async move { ok(schema::service_provider_config(&caller.base, DOCS)) }))
        .route("/scim/v2/ResourceTypes", get(|caller: Caller| async move { ok(list_response(schema::resource_types(&caller.base), 2, 1)) }))
        .route(
            "/scim/v2/ResourceTypes/{id}",
            get(|caller: Caller, path: Segments| async move { one(schema::resource_types(&caller.base), &path, "resource type") }),
        )
        .route("/scim/v2/Schemas", get(|caller: Caller| async move { ok(list_response(schema::schemas(&caller.base), 3, 1)) }))
        .route("/scim/v2/Schemas/{id}", get(|caller: Caller, path: Segments| async move { one(schema::schemas(&caller.base), &path, "schema") }))
        .route("/scim/v2/Me", unsupported("/Me is not supported: SCIM tokens belong to organisations, not people"))
        .route("/scim/v2/Me/{*rest}", unsupported("/Me is not supported: SCIM tokens belong to organisations, not people"))
        .route("/scim/v2/Bulk", unsupported("bulk operations are not supported (see /ServiceProviderConfig)"))
        .route("/scim/v2/.search", unsupported("search /Users/.search or /Groups/.search"))
        .route("/scim/v2/{collection}", get(list).post(create))
        .route("/scim/v2/{collection}/.search", post(search))
        .route("/scim/v2/{collection}/{id}", get(read).put(replace).patch(patch).delete(delete))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { ScimProblem::MethodNotAllowed })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(scim.clone(), authenticate))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(middleware::from_fn(log))
        .layer(middleware::from_fn(request_span))
        .with_state(scim)
}

/// One line per request: method, path and status (inside `request_span`, so it names the
/// request id).
async fn log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    tracing::info!(%method, path, status = response.status().as_u16(), "scim");
    response
}

/// The organisation whose bearer token the request carries, into the request's extensions; a
/// `/scim/v2` request without a valid one is a `401`. Other paths go on to the `404`.
async fn authenticate(State(scim): State<Arc<Scim>>, mut request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/scim/v2") {
        return next.run(request).await;
    }
    match organisation(&scim, request.headers()).await {
        Ok(Some(org)) => {
            request.extensions_mut().insert(org);
            next.run(request).await
        }
        Ok(None) => ScimProblem::Unauthenticated.into_response(),
        Err(e) => ScimProblem::Service(e).into_response(),
    }
}

async fn organisation(scim: &Scim, headers: &HeaderMap) -> Result<Option<Arc<shared::directory::org::Organisation>>, ScimError> {
    let Some(value) = header_text(headers, header::AUTHORIZATION) else { return Ok(None) };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else { return Ok(None) };
    Ok(scim.authenticate(token.trim()).await?)
}

async fn not_found(request: Request) -> ScimProblem {
    let path = request.uri().path();
    let detail = match path.strip_prefix("/scim/v2") {
        None => "not a SCIM endpoint".to_owned(),
        Some("" | "/") => "see /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users and /Groups".to_owned(),
        Some(_) => "no such endpoint".to_owned(),
    };
    ScimProblem::NoEndpoint(detail)
}

fn ok(body: Value) -> Answer {
    Ok(ScimReply::Document(body))
}

fn one(items: Vec<Value>, path: &Segments, what: &str) -> Answer {
    let id = path.get(3);
    items.into_iter().find(|i| i.get("id").and_then(Value::as_str) == Some(id)).map_or_else(|| Err(ScimError::not_found(what, id).into()), ok)
}

/// `Users` or `Groups` (the segment after `/scim/v2`); any other collection is a `404`.
fn kind(path: &Segments) -> Result<Kind, ScimProblem> {
    match path.get(2) {
        "Users" => Ok(Kind::User),
        "Groups" => Ok(Kind::Group),
        other => Err(ScimProblem::NoEndpoint(format!("no endpoint /{other}"))),
    }
}

fn projection(kind: Kind, params: &Params) -> Projection {
    Projection::parse(kind.resource_type(), params.get("attributes").as_deref(), params.get("excludedAttributes").as_deref())
}

async fn list(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, params: Params) -> Answer {
    let kind = kind(&path)?;
    let query = ListQuery::from_params(kind.resource_type(), |n| params.get(n))?;
    Ok(ScimReply::Service(scim.service.list(caller.tenant(), kind, &query).await?))
}

async fn search(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, ScimBody(body): ScimBody) -> Answer {
    let kind = kind(&path)?;
    let query = ListQuery::from_search(kind.resource_type(), &body)?;
    Ok(ScimReply::Service(scim.service.list(caller.tenant(), kind, &query).await?))
}

async fn create(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, params: Params, ScimBody(body): ScimBody) -> Answer {
    let kind = kind(&path)?;
    Ok(ScimReply::Service(scim.service.create(caller.tenant(), kind, &body, &projection(kind, &params)).await?))
}

async fn read(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, params: Params, headers: HeaderMap) -> Answer {
    let kind = kind(&path)?;
    let reply = scim.service.get(caller.tenant(), kind, path.get(3), &projection(kind, &params)).await?;
    if let Reply::Current(resource) = &reply
        && header_text(&headers, header::IF_NONE_MATCH).is_some_and(|v| etag_listed(&v, &resource.etag))
    {
        return Ok(ScimReply::NotModified(resource.etag.clone()));
    }
    Ok(ScimReply::Service(reply))
}

async fn replace(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, params: Params, headers: HeaderMap, ScimBody(body): ScimBody) -> Answer {
    let kind = kind(&path)?;
    let if_match = header_text(&headers, header::IF_MATCH);
    Ok(ScimReply::Service(scim.service.replace(caller.tenant(), kind, path.get(3), &body, if_match.as_deref(), &projection(kind, &params)).await?))
}

async fn patch(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, params: Params, headers: HeaderMap, ScimBody(body): ScimBody) -> Answer {
    let kind = kind(&path)?;
    let if_match = header_text(&headers, header::IF_MATCH);
    Ok(ScimReply::Service(scim.service.patch(caller.tenant(), kind, path.get(3), &body, if_match.as_deref(), &projection(kind, &params)).await?))
}

async fn delete(State(scim): State<Arc<Scim>>, caller: Caller, path: Segments, headers: HeaderMap) -> Answer {
    let kind = kind(&path)?;
    let if_match = header_text(&headers, header::IF_MATCH);
    Ok(ScimReply::Service(scim.service.delete(caller.tenant(), kind, path.get(3), if_match.as_deref()).await?))
}

fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|v| v == "*" || v.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}
