//! The local stand-in for Lambda's Invoke API, for the trigger function: `POST
//! /2015-03-31/functions/{function}/invocations` with a Cognito event as the body runs
//! [`crate::handler::handle`] and answers as Lambda does: `200` with the function's answer, or
//! `200` with `X-Amz-Function-Error: Unhandled` and `{"errorMessage", "errorType"}` when the
//! function fails. The local Cognito (`scripts/moto_server.py`) calls it where a pool names a
//! trigger. Which function the path names does not matter: the event's `userPoolId` chooses the
//! trigger's state (`resolve`), since tests run one pool, and one table, per test.
//!
//! Not for deployment: Cognito invokes the function itself there.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::state::Triggers;

/// The trigger state for a user pool id, or `None` for a pool this stand-in does not serve.
pub type Resolve = Arc<dyn Fn(&str) -> Option<Arc<Triggers>> + Send + Sync>;

/// The Invoke API's one route.
pub fn router(resolve: Resolve) -> Router {
    Router::new().route("/2015-03-31/functions/{function}/invocations", post(invoke)).with_state(resolve)
}

async fn invoke(State(resolve): State<Resolve>, body: axum::body::Bytes) -> Response {
    let event: Value = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": format!("the event is not JSON: {e}")}))).into_response(),
    };
    let pool = event.get("userPoolId").and_then(Value::as_str).unwrap_or_default();
    let Some(triggers) = resolve(pool) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({"message": format!("no trigger function for pool {pool}")}))).into_response();
    };
    match crate::handler::handle(&triggers, event, shared::common::time::unix_now()).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => ([("x-amz-function-error", "Unhandled")], axum::Json(json!({"errorMessage": e.to_string(), "errorType": "TriggerError"}))).into_response(),
    }
}
