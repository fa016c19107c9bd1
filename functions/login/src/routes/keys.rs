//! `GET /.well-known/jwks.json`: the public keys of our signing keys, for apps that verify our
//! RS256/ES256 tokens. Public and cacheable, from any origin.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

use crate::problem::Problem;
use crate::state::Login;
use crate::web::{ApiProblem, Now, json_response, method_not_allowed};
use shared::signin::service::SignInError;
use shared::tokens::signing_keys::JWKS_MAX_AGE;

pub fn routes() -> Router<Arc<Login>> {
    Router::new().route("/.well-known/jwks.json", get(jwks)).method_not_allowed_fallback(method_not_allowed)
}

async fn jwks(State(login): State<Arc<Login>>, Now(now): Now) -> Response {
    match login.sign_in.signers.jwks(now).await.map_err(SignInError::from) {
        Ok(jwks) => {
            let mut response = json_response(StatusCode::OK, &jwks);
            let headers = response.headers_mut();
            if let Ok(cache) = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE}")) {
                headers.insert(header::CACHE_CONTROL, cache);
            }
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "could not read the signing keys");
            ApiProblem(Problem::of(&e)).into_response()
        }
    }
}
