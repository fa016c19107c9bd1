//! The SCIM function's HTTP vocabulary: the caller's organisation (bearer authentication), the
//! request's time, query and JSON body, and SCIM responses (`application/scim+json`, `ETag`,
//! `Location`, and the SCIM error format of RFC 7644 §3.12).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::state::Scim;
use shared::directory::org::Organisation;
use shared::directory::scim::error::{Invalid, ScimError};
use shared::directory::scim::schema::ERROR;
use shared::directory::scim::service::{Reply, Tenant};

/// Larger bodies are refused before parsing (a group of 10,000 members fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const CONTENT_TYPE: &str = "application/scim+json";

/// The organisation whose token authenticated the request (set by the router's authentication
/// layer), the service's base URL and the request's time: what every SCIM call is given.
pub struct Caller {
    pub org: Arc<Organisation>,
    pub base: String,
    pub now: u64,
}

impl Caller {
    pub fn tenant(&self) -> Tenant<'_> {
        Tenant { org: &self.org, base: &self.base, now: self.now }
    }
}

impl FromRequestParts<Arc<Scim>> for Caller {
    type Rejection = ScimProblem;

    async fn from_request_parts(parts: &mut Parts, scim: &Arc<Scim>) -> Result<Self, ScimProblem> {
        let org = parts.extensions.get::<Arc<Organisation>>().cloned().ok_or(ScimProblem::Unauthenticated)?;
        Ok(Caller { org, base: base_url(scim, &parts.headers), now: shared::common::time::unix_now() })
    }
}

/// `https://{host}/scim/v2`, or the configured base.
fn base_url(scim: &Scim, headers: &HeaderMap) -> String {
    if let Some(base) = &scim.base_url {
        return base.clone();
    }
    let host = header_text(headers, header::HOST).unwrap_or_else(|| "localhost".into());
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).filter(|s| *s == "http").unwrap_or("https");
    format!("{scheme}://{host}/scim/v2")
}

pub fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Query parameters, names compared without case; a query that does not parse is `invalidSyntax`.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(uri: &Uri) -> Result<Self, ScimError> {
        serde_urlencoded::from_str(uri.query().unwrap_or("")).map(Params).map_err(|_| ScimError::invalid(Invalid::Syntax, "the query string is not valid"))
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ScimProblem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ScimProblem> {
        Params::of(&parts.uri).map_err(ScimProblem::Service)
    }
}

/// The request's JSON body (`application/scim+json` or `application/json`, at most
/// [`MAX_BODY_BYTES`]); refused in the SCIM error format: 415, 413 or 400 `invalidSyntax`.
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimProblem;

    async fn from_request(request: Request, state: &S) -> Result<Self, ScimProblem> {
        if let Some(kind) = header_text(request.headers(), header::CONTENT_TYPE) {
            let media = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if media != CONTENT_TYPE && media != "application/json" {
                return Err(ScimProblem::UnsupportedMediaType);
            }
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|_| ScimProblem::TooLarge)?;
        serde_json::from_slice(&bytes).map(ScimBody).map_err(|e| {
            ScimProblem::Service(ScimError::invalid(Invalid::Syntax, format!("the body is not valid JSON (line {}, column {})", e.line(), e.column())))
        })
    }
}

/// A successful answer as an HTTP response (`application/scim+json`).
pub enum ScimReply {
    /// What the SCIM service did: `201` with `Location`, `200` or `204`, with the resource's `ETag`.
    Service(Reply),
    /// A discovery document (RFC 7644 §4): `200`.
    Document(Value),
    /// The resource still has the version the client holds (`If-None-Match`): `304`.
    NotModified(String),
}

impl IntoResponse for ScimReply {
    fn into_response(self) -> Response {
        let (status, body, etag, location) = match self {
            ScimReply::Service(Reply::Created(r)) => {
                let location = r.body["meta"]["location"].as_str().map(str::to_owned);
                (StatusCode::CREATED, Some(r.body), Some(r.etag), location)
            }
            ScimReply::Service(Reply::Current(r)) => (StatusCode::OK, Some(r.body), Some(r.etag), None),
            ScimReply::Service(Reply::Listed(body)) | ScimReply::Document(body) => (StatusCode::OK, Some(body), None, None),
            ScimReply::Service(Reply::Deleted) => (StatusCode::NO_CONTENT, None, None, None),
            ScimReply::NotModified(etag) => (StatusCode::NOT_MODIFIED, None, Some(etag), None),
        };
        let mut response = match body {
            Some(body) => (status, body.to_string()).into_response(),
            None => status.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// Why a request was not done, as a SCIM error (RFC 7644 §3.12): the service's refusals and
/// failures, and the ones the HTTP layer finds before the service is asked.
#[derive(Debug)]
pub enum ScimProblem {
    /// The SCIM service refused or failed the request.
    Service(ScimError),
    /// No valid bearer token: `401` with `WWW-Authenticate`.
    Unauthenticated,
    /// No endpoint at this path; the detail says where to look.
    NoEndpoint(String),
    MethodNotAllowed,
    /// An endpoint of RFC 7644 this service does not offer (`/Me`, `/Bulk`): `501`.
    NotSupported(&'static str),
    /// A body that is not JSON by its `Content-Type`: `415`.
    UnsupportedMediaType,
    /// A body over [`MAX_BODY_BYTES`]: `413`.
    TooLarge,
}

/// The `scimType` of each broken rule (RFC 7644 §3.12, table 9).
fn scim_type(rule: Invalid) -> &'static str {
    match rule {
        Invalid::Filter => "invalidFilter",
        Invalid::TooMany => "tooMany",
        Invalid::Mutability => "mutability",
        Invalid::Syntax => "invalidSyntax",
        Invalid::Path => "invalidPath",
        Invalid::NoTarget => "noTarget",
        Invalid::Value => "invalidValue",
    }
}

impl ScimProblem {
    /// The status, `scimType` and detail the client is sent: every error's one mapping.
    fn answer(&self) -> (StatusCode, Option<&'static str>, String) {
        let e = match self {
            ScimProblem::Service(e) => e,
            ScimProblem::Unauthenticated => return (StatusCode::UNAUTHORIZED, None, "a valid SCIM bearer token is required".into()),
            ScimProblem::NoEndpoint(detail) => return (StatusCode::NOT_FOUND, None, detail.clone()),
            ScimProblem::MethodNotAllowed => return (StatusCode::METHOD_NOT_ALLOWED, None, "this method is not allowed here".into()),
            ScimProblem::NotSupported(detail) => return (StatusCode::NOT_IMPLEMENTED, None, (*detail).into()),
            ScimProblem::UnsupportedMediaType => return (StatusCode::UNSUPPORTED_MEDIA_TYPE, None, format!("send {CONTENT_TYPE} (or application/json)")),
            ScimProblem::TooLarge => return (StatusCode::PAYLOAD_TOO_LARGE, None, format!("the body is larger than {MAX_BODY_BYTES} bytes")),
        };
        let (status, scim_type) = match e {
            ScimError::Invalid { rule, .. } => (StatusCode::BAD_REQUEST, Some(scim_type(*rule))),
            ScimError::NotFound { .. } => (StatusCode::NOT_FOUND, None),
            ScimError::Taken { .. } => (StatusCode::CONFLICT, Some("uniqueness")),
            ScimError::Stale => (StatusCode::PRECONDITION_FAILED, None),
            ScimError::Busy => (StatusCode::CONFLICT, None),
            ScimError::Throttled => (StatusCode::TOO_MANY_REQUESTS, None),
            ScimError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, None),
            ScimError::Corrupt { .. } => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        (status, scim_type, e.to_string())
    }
}

impl IntoResponse for ScimProblem {
    /// The error body; `WWW-Authenticate` on 401, `Retry-After` on 429 and 503. A failure on
    /// our side is logged here, once, with its cause (inside the request's span).
    fn into_response(self) -> Response {
        let (status, scim_type, detail) = self.answer();
        if let ScimProblem::Service(e) = &self
            && let Some(cause) = e.cause()
        {
            tracing::error!(status = status.as_u16(), detail, cause, "SCIM request failed on our side");
        }
        let mut body = json!({"schemas": [ERROR], "status": status.as_u16().to_string(), "detail": detail});
        if let Some(t) = scim_type {
            body["scimType"] = Value::from(t);
        }
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
            }
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<ScimError> for ScimProblem {
    fn from(e: ScimError) -> Self {
        ScimProblem::Service(e)
    }
}

/// A route's result: a SCIM answer or a SCIM error.
pub type Answer = Result<ScimReply, ScimProblem>;
