//! What the login and SCIM functions' routers share at the Lambda edge: the request path's
//! segments as sent, and a span naming API Gateway's request id around each request. Not a web
//! framework: routing, bodies and answers stay in each function.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::convert::Infallible;
use tracing::Instrument;

/// The request path's segments as sent (not percent-decoded: an id is plain ASCII, and a
/// segment that is not valid UTF-8 once decoded is simply an unknown one, answered in the
/// function's own format).
pub struct Segments(pub Vec<String>);

impl Segments {
    /// The `n`th segment, or `""`.
    pub fn get(&self, n: usize) -> &str {
        self.0.get(n).map(String::as_str).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Segments {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Segments(parts.uri.path().split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()))
    }
}

/// Middleware: runs the request inside a `request{id}` span naming API Gateway's request id, so
/// every log line of the request (its 5xx cause included) carries it.
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    };
    next.run(request).instrument(tracing::info_span!("request", id)).await
}
