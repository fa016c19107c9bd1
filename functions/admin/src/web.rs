//! The admin API's HTTP vocabulary: the caller ([`Caller`], from the bearer token), JSON bodies
//! ([`JsonBody`]), versions as entity tags ([`etag`], [`IfMatch`]) and problems
//! ([`Problem`]: `{"error": code, "message"}`, never an internal detail).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;

use crate::state::Admin;
use shared::admin::AdminError;
use shared::admin::operator::{Operator, Refusal};
use shared::admin::role::Action;

/// Larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An answer other than success.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (429 and 503 say 2 without one).
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(json!({"error": self.code, "message": self.message}))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if matches!(self.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        response
    }
}

impl From<AdminError> for Problem {
    fn from(e: AdminError) -> Self {
        use shared::common::store::StoreError as S;
        match e {
            AdminError::Invalid(message) => Self::new(StatusCode::BAD_REQUEST, "invalid_request", message),
            AdminError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            AdminError::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            AdminError::Exists(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AdminError::Stale { .. } => Self::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", e.to_string()),
            AdminError::TooMany { message, retry_after } => {
                Self { retry_after: Some(retry_after), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message) }
            }
            AdminError::Store(S::Throttled) => Self::new(StatusCode::TOO_MANY_REQUESTS, "throttled", "too many requests; try again shortly"),
            AdminError::Store(S::Limit(message)) => Self::new(StatusCode::BAD_REQUEST, "invalid_request", message),
            // An app this version cannot read (saved by a newer one): which, not why.
            AdminError::Store(S::Corrupt(what)) if what.starts_with("APP#") => {
                tracing::error!(what, "the admin API read an app it cannot understand");
                let app = what.split_whitespace().next().unwrap_or_default().trim_start_matches("APP#");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unreadable", format!("app `{app}` cannot be read by this version of the bridge; see the logs"))
            }
            AdminError::Store(other) => {
                tracing::error!(error = %other, "the admin API could not reach AWS");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is unavailable; try again shortly")
            }
        }
    }
}

pub type Answer = Result<Response, Problem>;

/// The request's time, in seconds since the Unix epoch.
pub fn now() -> u64 {
    shared::common::time::unix_now()
}

/// The operator calling, from `Authorization: Bearer {console token}`: `401` without a valid
/// token, `403` without a console role or a second factor.
pub struct Caller(pub Operator);

impl Caller {
    /// The operator, if their role may do `action` (`403` otherwise).
    pub fn may(&self, action: Action) -> Result<&Operator, Problem> {
        if self.0.role.may(action) { Ok(&self.0) } else { Err(AdminError::Forbidden.into()) }
    }
}

impl FromRequestParts<Arc<Admin>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, admin: &Arc<Admin>) -> Result<Self, Problem> {
        let unauthorized = || Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in to the console");
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
        let token = header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()).ok_or_else(unauthorized)?;
        let identity = match admin.tokens.verify(token, now()).await {
            Ok(identity) => identity,
            Err(shared::signin::ports::TokenRejected::KeysUnavailable(why)) => {
                tracing::error!(error = %why, "the bridge's key set could not be read");
                return Err(AdminError::Store(shared::common::store::StoreError::Unavailable(why)).into());
            }
            Err(e) => {
                tracing::info!(error = %e, "a console token refused");
                return Err(unauthorized());
            }
        };
        let ip = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        // A read may use a standing up to `ADMIN_ROLE_TTL_SECONDS` old; a change never does.
        let fresh = !matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS);
        match admin.operator(identity, ip, fresh).await? {
            Ok(operator) => Ok(Caller(operator)),
            Err(Refusal::Revoked) => Err(unauthorized()),
            Err(refusal @ Refusal::NoRole) => Err(Problem::new(StatusCode::FORBIDDEN, "no_role", refusal.to_string())),
            Err(refusal @ Refusal::SecondFactorRequired) => Err(Problem::new(StatusCode::FORBIDDEN, "second_factor_required", refusal.to_string())),
        }
    }
}

/// A JSON body: `415` for another media type, `400` naming what does not parse.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let json = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json")
        });
        if !json {
            return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send Content-Type: application/json"));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", format!("bodies are at most {MAX_BODY_BYTES} bytes")))?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| invalid_body(&e))
    }
}

/// `400 invalid_request` for a body (or a part of one) that does not read as its type.
pub fn invalid_body(e: &serde_json::Error) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", body_error(e))
}

/// What is wrong with a body, without echoing what it sent: serde's message up to its position,
/// with the quoted parts that come from the body (`invalid type: string "x"`, ``unknown variant
/// `x` ``) left out; what serde expected (our own names) is kept.
fn body_error(e: &serde_json::Error) -> String {
    let what = e.to_string();
    let what = what.split(" at line ").next().unwrap_or_default();
    let (sent, expected) = what.split_once(", expected").map_or((what, None), |(sent, expected)| (sent, Some(expected)));
    let mut said = String::new();
    let mut quote = None;
    for c in sent.chars() {
        match (quote, c) {
            (None, '"' | '`') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None, c) => said.push(c),
            _ => {}
        }
    }
    let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
    match expected {
        Some(expected) => format!("the body is not valid: {said}, expected{expected}"),
        None => format!("the body is not valid: {said}"),
    }
}

/// The version as an entity tag: `"{version}"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// `If-Match: "{version}"`, which every change of a versioned resource needs: `428` without it
/// (or empty), `412` when it is not a version this API gave. Read lazily ([`IfMatch::version`]),
/// so a bad id or body (one that does not parse, or fails its `shared::admin::Check`) is a `400`
/// first, whatever the header says.
pub struct IfMatch(Result<u64, Problem>);

impl IfMatch {
    pub fn version(self) -> Result<u64, Problem> {
        self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok().map(str::trim).map(str::to_owned));
        Ok(Self(match value.as_deref() {
            None | Some("") => Err(Problem::new(StatusCode::PRECONDITION_REQUIRED, "precondition_required", "send If-Match with the ETag you read")),
            Some(tag) => tag
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .and_then(|v| v.parse::<u64>().ok().filter(|n| n.to_string() == v))
                .ok_or_else(|| Problem::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", "If-Match is not a version this API gave")),
        }))
    }
}

/// A resource id in the path (`/apps/{id}`, `/orgs/{id}`), checked before anything else of the
/// request is read: `400` when it cannot be one.
pub struct ResourceId<T>(pub T);

/// Ids a path may carry, parsed as their type parses them.
pub trait PathId: Sized {
    fn parse_id(raw: &str) -> Result<Self, String>;
}

impl PathId for shared::tokens::app::AppId {
    fn parse_id(raw: &str) -> Result<Self, String> {
        Self::parse(raw).map_err(|e| e.to_string())
    }
}

impl PathId for shared::directory::org::OrgId {
    fn parse_id(raw: &str) -> Result<Self, String> {
        Self::parse(raw).map_err(|e| e.to_string())
    }
}

impl PathId for shared::consent::document::DocumentId {
    fn parse_id(raw: &str) -> Result<Self, String> {
        Self::parse(raw).map_err(|e| e.to_string())
    }
}

impl<S: Send + Sync, T: PathId> FromRequestParts<S> for ResourceId<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let invalid = |message: String| Problem::new(StatusCode::BAD_REQUEST, "invalid_request", message);
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| invalid("the path's id is not valid".into()))?;
        T::parse_id(&raw).map(Self).map_err(invalid)
    }
}

/// Path parameters as axum reads them (`Path<T>`), with the API's JSON `400` when the path
/// cannot be read (not UTF-8, not the shape), never axum's plain-text answer.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "the path is not valid"))?;
        Ok(Self(value))
    }
}

/// `value` as JSON with `ETag`.
pub fn with_etag(status: StatusCode, version: u64, value: serde_json::Value) -> Response {
    let mut response = (status, axum::Json(value)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}
