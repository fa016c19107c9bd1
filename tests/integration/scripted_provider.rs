//! A scripted OpenID provider on loopback: real discovery, JWKS and token endpoints over HTTP,
//! but the ID token for each code is written by the test, forged ones included. It plays a
//! company provider that lies, and a Cognito user pool's hosted endpoints (which moto lacks).
//!
//! Keys are fixtures (`tests/fixtures`): `rsa-1` and `ec-1` are published in its JWKS;
//! `other-rsa.pem` is a key it never published.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/", $name))
    };
}

/// A key to sign with.
#[derive(Clone, Copy)]
pub enum Key {
    /// Published as `rsa-1`.
    Rsa,
    /// Published as `ec-1` (P-256).
    Ec,
    /// Never published.
    OtherRsa,
}

/// `claims` signed with `key` under `alg`, naming `kid`.
pub fn sign(key: Key, alg: Algorithm, kid: &str, claims: &Value) -> String {
    let encoding = match key {
        Key::Rsa => EncodingKey::from_rsa_pem(fixture!("provider-rsa.pem").as_bytes()),
        Key::Ec => EncodingKey::from_ec_pem(fixture!("provider-ec.pem").as_bytes()),
        Key::OtherRsa => EncodingKey::from_rsa_pem(fixture!("other-rsa.pem").as_bytes()),
    };
    let header = Header { kid: Some(kid.to_owned()), ..Header::new(alg) };
    jsonwebtoken::encode(&header, claims, &encoding.unwrap()).unwrap()
}

/// `claims` with `alg: none` and no signature.
pub fn unsigned(claims: &Value) -> String {
    let part = |v: &Value| B64.encode(v.to_string());
    format!("{}.{}.", part(&json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"})), part(claims))
}

/// `claims` under HS256 keyed with the provider's public key (the classic key-confusion forgery).
pub fn hmac_with_public_key(claims: &Value) -> String {
    let header = Header { kid: Some("rsa-1".into()), ..Header::new(Algorithm::HS256) };
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(fixture!("provider-rsa.pub.pem").as_bytes())).unwrap()
}

/// One token request as the provider received it.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub form: HashMap<String, String>,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Script {
    issuer: String,
    answers: Mutex<HashMap<String, String>>,
    requests: Mutex<Vec<TokenRequest>>,
}

pub struct ScriptedProvider {
    pub issuer: String,
    script: Arc<Script>,
}

impl ScriptedProvider {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Script { issuer: issuer.clone(), ..Script::default() });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(|| async { ([("content-type", "application/json")], fixture!("provider-jwks.json")) }))
            .route("/token", post(token))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { issuer, script }
    }

    /// The token endpoint answers `code` with this ID token (once).
    pub fn answer(&self, code: &str, id_token: String) {
        self.script.answers.lock().unwrap().insert(code.to_owned(), id_token);
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.script.requests.lock().unwrap().clone()
    }
}

async fn discovery(State(script): State<Arc<Script>>) -> axum::Json<Value> {
    let issuer = &script.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
}

async fn token(State(script): State<Arc<Script>>, headers: HeaderMap, body: String) -> (StatusCode, axum::Json<Value>) {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    script.requests.lock().unwrap().push(TokenRequest { form: form.clone(), authorization });
    let answer = form.get("code").and_then(|code| script.answers.lock().unwrap().remove(code));
    match answer {
        Some(id_token) => (StatusCode::OK, axum::Json(json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}))),
        None => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"}))),
    }
}
