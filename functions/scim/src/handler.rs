//! HTTP in and out for the SCIM function: bearer authentication, routing, body and query
//! parsing, and SCIM responses (`application/scim+json`, `ETag`, `Location`, the SCIM error
//! format). Each route is one `ScimService` call.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::state::Scim;
use shared::directory::scim::error::{ScimError, ScimType};
use shared::directory::scim::query::{ListQuery, list_response};
use shared::directory::scim::resource::{Kind, Projection};
use shared::directory::scim::schema;
use shared::directory::scim::schema::ERROR;
use shared::directory::scim::service::{Reply, Tenant, store_error};

/// Larger bodies are refused before parsing (a group of 10,000 members fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const CONTENT_TYPE: &str = "application/scim+json";
const DOCS: &str = "https://github.com/identity-bridge/identity-bridge#scim-provisioning";

/// Serves one request. Never fails: every error becomes a SCIM error response.
pub async fn handle(scim: &Scim, request: Request) -> Response<Body> {
    let response = match serve(scim, &request).await {
        Ok(reply) => reply_response(reply),
        Err(e) => error_response(&e),
    };
    tracing::info!(method = %request.method(), path = %request.uri().path(), status = response.status().as_u16(), "scim");
    response
}

async fn serve(scim: &Scim, request: &Request) -> Result<Reply, ScimError> {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix("/scim/v2") else {
        return Err(ScimError::new(404, None, "not a SCIM endpoint"));
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let Some(org) = authenticate(scim, request).await? else {
        return Err(ScimError::new(401, None, "a valid SCIM bearer token is required"));
    };
    let base = base_url(scim, request);
    let now = shared::common::time::unix_now();
    let t = Tenant { org: &org, base: &base, now };
    let method = request.method().clone();
    let get = method == Method::GET || method == Method::HEAD;
    let service = &scim.service;
    match (segments.as_slice(), method) {
        (["ServiceProviderConfig"], _) if get => Ok(ok(schema::service_provider_config(&base, DOCS))),
        (["ResourceTypes"], _) if get => Ok(ok(list_response(schema::resource_types(&base), 2, 1))),
        (["ResourceTypes", id], _) if get => one(schema::resource_types(&base), id, "resource type"),
        (["Schemas"], _) if get => Ok(ok(list_response(schema::schemas(&base), 3, 1))),
        (["Schemas", id], _) if get => one(schema::schemas(&base), id, "schema"),
        (["ServiceProviderConfig" | "ResourceTypes" | "Schemas", ..], _) => Err(method_not_allowed()),
        (["Me", ..], _) => Err(ScimError::new(501, None, "/Me is not supported: SCIM tokens belong to organisations, not people")),
        (["Bulk"], _) => Err(ScimError::new(501, None, "bulk operations are not supported (see /ServiceProviderConfig)")),
        ([".search"], _) => Err(ScimError::new(501, None, "search /Users/.search or /Groups/.search")),
        ([collection, rest @ ..], method) => {
            let kind = match *collection {
                "Users" => Kind::User,
                "Groups" => Kind::Group,
                _ => return Err(ScimError::new(404, None, format!("no endpoint /{collection}"))),
            };
            let rt = kind.resource_type();
            let params = Params::of(request)?;
            let projection = || Projection::parse(rt, params.get("attributes").as_deref(), params.get("excludedAttributes").as_deref());
            let if_match = header_text(request, header::IF_MATCH);
            match (rest, method) {
                ([], Method::GET) => service.list(t, kind, &ListQuery::from_params(rt, |n| params.get(n))?).await,
                ([], Method::POST) => service.create(t, kind, &body(request)?, &projection()).await,
                ([".search"], Method::POST) => service.list(t, kind, &ListQuery::from_search(rt, &body(request)?)?).await,
                ([id], Method::GET) => {
                    let reply = service.get(t, kind, id, &projection()).await?;
                    let unchanged = header_text(request, header::IF_NONE_MATCH).is_some_and(|v| reply.etag.as_deref().is_some_and(|e| etag_listed(&v, e)));
                    Ok(if unchanged { Reply { status: 304, body: None, ..reply } } else { reply })
                }
                ([id], Method::PUT) => service.replace(t, kind, id, &body(request)?, if_match.as_deref(), &projection()).await,
                ([id], Method::PATCH) => service.patch(t, kind, id, &body(request)?, if_match.as_deref(), &projection()).await,
                ([id], Method::DELETE) => service.delete(t, kind, id, if_match.as_deref()).await,
                ([] | [".search"] | [_], _) => Err(method_not_allowed()),
                _ => Err(ScimError::new(404, None, "no such endpoint")),
            }
        }
        ([], _) => Err(ScimError::new(404, None, "see /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users and /Groups")),
    }
}

fn ok(body: Value) -> Reply {
    Reply { status: 200, body: Some(body), etag: None }
}

fn one(items: Vec<Value>, id: &str, what: &str) -> Result<Reply, ScimError> {
    items.into_iter().find(|i| i.get("id").and_then(Value::as_str) == Some(id)).map(ok).ok_or_else(|| ScimError::not_found(what, id))
}

fn method_not_allowed() -> ScimError {
    ScimError::new(405, None, "this method is not allowed here")
}

async fn authenticate(scim: &Scim, request: &Request) -> Result<Option<std::sync::Arc<shared::directory::org::Organisation>>, ScimError> {
    let Some(value) = header_text(request, header::AUTHORIZATION) else { return Ok(None) };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else { return Ok(None) };
    scim.authenticate(token.trim()).await.map_err(store_error)
}

fn header_text(request: &Request, name: header::HeaderName) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|v| v == "*" || v.trim_start_matches("W/") == etag.trim_start_matches("W/"))
}

/// `https://{host}/scim/v2`, or the configured base.
fn base_url(scim: &Scim, request: &Request) -> String {
    if let Some(base) = &scim.base_url {
        return base.clone();
    }
    let host = header_text(request, header::HOST).unwrap_or_else(|| "localhost".into());
    let scheme = request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).filter(|s| *s == "http").unwrap_or("https");
    format!("{scheme}://{host}/scim/v2")
}

/// Query parameters, names compared without case.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(request: &Request) -> Result<Self, ScimError> {
        serde_urlencoded::from_str(request.uri().query().unwrap_or(""))
            .map(Params)
            .map_err(|_| ScimError::bad(ScimType::InvalidSyntax, "the query string is not valid"))
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

fn body(request: &Request) -> Result<Value, ScimError> {
    if let Some(kind) = header_text(request, header::CONTENT_TYPE) {
        let media = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if media != CONTENT_TYPE && media != "application/json" {
            return Err(ScimError::new(415, None, format!("send {CONTENT_TYPE} (or application/json)")));
        }
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ScimError::new(413, None, format!("the body is larger than {MAX_BODY_BYTES} bytes")));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("the body is not valid JSON (line {}, column {})", e.line(), e.column())))
}

fn reply_response(reply: Reply) -> Response<Body> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let location = (reply.status == 201).then(|| reply.body.as_ref().and_then(|b| b["meta"]["location"].as_str()).map(str::to_owned)).flatten();
    let body = reply.body.map_or(Body::Empty, |b| Body::Text(b.to_string()));
    let mut response = Response::builder().status(status).body(body).unwrap_or_default();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(etag) = reply.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}

pub fn error_response(e: &ScimError) -> Response<Body> {
    let mut body = json!({"schemas": [ERROR], "status": e.status.to_string(), "detail": e.detail});
    if let Some(t) = e.scim_type {
        body["scimType"] = Value::from(t.as_str());
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::builder().status(status).body(Body::Text(body.to_string())).unwrap_or_default();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match e.status {
        401 => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
        }
        429 | 503 => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}
