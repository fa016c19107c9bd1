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
use shared::directory::scim::error::{ScimError, ScimType};
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
        let org = parts.extensions.get::<Arc<Organisation>>().cloned().ok_or_else(unauthenticated)?;
        Ok(Caller { org, base: base_url(scim, &parts.headers), now: shared::common::time::unix_now() })
    }
}

pub fn unauthenticated() -> ScimProblem {
    ScimProblem(ScimError::new(401, None, "a valid SCIM bearer token is required"))
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
        serde_urlencoded::from_str(uri.query().unwrap_or("")).map(Params).map_err(|_| ScimError::bad(ScimType::InvalidSyntax, "the query string is not valid"))
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ScimProblem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ScimProblem> {
        Params::of(&parts.uri).map_err(ScimProblem)
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
                return Err(ScimProblem(ScimError::new(415, None, format!("send {CONTENT_TYPE} (or application/json)"))));
            }
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ScimProblem(ScimError::new(413, None, format!("the body is larger than {MAX_BODY_BYTES} bytes"))))?;
        serde_json::from_slice(&bytes)
            .map(ScimBody)
            .map_err(|e| ScimProblem(ScimError::bad(ScimType::InvalidSyntax, format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()))))
    }
}

/// A SCIM service answer as an HTTP response.
pub struct ScimReply(pub Reply);

impl IntoResponse for ScimReply {
    fn into_response(self) -> Response {
        let reply = self.0;
        let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
        let location = (reply.status == 201).then(|| reply.body.as_ref().and_then(|b| b["meta"]["location"].as_str()).map(str::to_owned)).flatten();
        let mut response = match reply.body {
            Some(body) => (status, body.to_string()).into_response(),
            None => status.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(etag) = reply.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        response
    }
}

/// A SCIM error (RFC 7644 §3.12) as an HTTP response: `WWW-Authenticate` on 401, `Retry-After`
/// on 429 and 503.
pub struct ScimProblem(pub ScimError);

impl IntoResponse for ScimProblem {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.status >= 500 && e.status != 501 {
            tracing::error!(status = e.status, detail = e.detail, cause = e.cause.as_deref().unwrap_or(""), "SCIM request failed on our side");
        }
        let mut body = json!({"schemas": [ERROR], "status": e.status.to_string(), "detail": e.detail});
        if let Some(t) = e.scim_type {
            body["scimType"] = Value::from(t.as_str());
        }
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
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
}

impl From<ScimError> for ScimProblem {
    fn from(e: ScimError) -> Self {
        ScimProblem(e)
    }
}

/// A route's result: a SCIM answer or a SCIM error.
pub type Answer = Result<ScimReply, ScimProblem>;
