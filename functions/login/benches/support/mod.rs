//! What the login benchmarks share: the SDK with its AWS transport replaced by an instant replay
//! (calls counted), the function's environment, requests and percentiles.

#![allow(dead_code)]

use lambda_http::Body;
use login::config::Config;
use serde_json::{Value, json};
use shared::testing::CallLog;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const POOL: &str = "ap-northeast-1_Bench";
pub const CLIENT: &str = "bench-client";
pub const API: &str = "https://api.example.com";

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

pub use shared::testing::replayed_sdk;

/// The login function's configuration, as Lambda would read it.
pub fn config() -> Config {
    let env: HashMap<String, String> = [
        ("TABLE_NAME", "bench"),
        ("USER_POOL_ID", POOL),
        ("USER_POOL_CLIENT_ID", CLIENT),
        ("BRIDGE_SECRET_ID", "bridge"),
        ("FORM_URL", "https://login.example.com/index.html"),
        ("PUBLIC_API_URL", API),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"))
}

/// The login function's router as Lambda builds it, over `sdk`, with the pool's keys fixed
/// (`fixtures/bench-jwks.json`) and the companies' providers reached over HTTPS.
pub fn login(sdk: &aws_config::SdkConfig) -> axum::Router {
    let oidc = std::sync::Arc::new(shared::adapters::http::oidc::HttpOidc::new().unwrap_or_else(|e| panic!("{e}")));
    let keys = Box::new(shared::adapters::http::jwks::StaticKeys(include_str!("../fixtures/bench-jwks.json").into()));
    login::routes::router(std::sync::Arc::new(login::state::Login::with(&config(), sdk, login::state::Login::secrets(&config(), sdk), keys, oidc, None)))
}

/// The bridge's flow key in the benches' bridge secret.
pub const FLOW_KEY: &str = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

/// The bridge secret, a connection's or an app's secret, by the secret id in the request.
pub fn secret(body: &str) -> Value {
    if body.contains("\"bridge\"") {
        json!({"SecretString": json!({"flow_key": FLOW_KEY, "cognito_client_secret": "client-secret"}).to_string()})
    } else {
        json!({"SecretString": "shared-secret"})
    }
}

/// The Zendesk app `bench`, as its DynamoDB item.
pub fn app_item() -> Value {
    let app = json!({"id": "bench", "name": "Bench", "target": {"kind": "zendesk", "account_url": "https://acme.zendesk.com"},
        "allowed_origins": ["https://acme.zendesk.com"], "signing_secret": "app-secret",
        "claims": serde_json::from_str::<Value>(include_str!("../../../../demo/claims.json")).unwrap_or_default()});
    json!({"Item": {"pk": {"S": "APP#bench"}, "sk": {"S": "APP"}, "version": {"N": "1"}, "data": {"S": app.to_string()}}})
}

pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<String>) -> http::Request<Body> {
    let mut request = http::Request::builder().method(method).uri(format!("{API}{path}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.body(body.map(Body::Text).unwrap_or(Body::Empty)).unwrap_or_else(|e| panic!("{e}"))
}

/// The bench browser's device cookie: [`ctx`]'s context names it, and the steps that must come
/// from that browser (`/corporate/go`) send it.
pub const DEVICE: &str = "__Host-bridge_device=VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV";

/// The sealed sign-in context the form would carry, from `GET /sso/bench` in that browser.
pub async fn ctx(login: &axum::Router) -> String {
    let sso = shared::testing::oneshot(login, request("GET", "/sso/bench?return_to=https%3A%2F%2Facme.zendesk.com%2Fhc", &[("cookie", DEVICE)], None)).await;
    let location = sso.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    url::Url::parse(&location).ok().and_then(|u| u.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned())).unwrap_or_default()
}

/// `p50 .. max` of `samples`, sorted in place.
pub fn percentiles(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    format!("p50 {:?}  p90 {:?}  p99 {:?}  max {:?}", at(0.5), at(0.9), at(0.99), samples[samples.len() - 1])
}

/// Calls per operation for each service, over `n` operations.
pub fn per_operation(calls: &[String], n: usize) -> String {
    let per = |prefix: &str| CallLog::count(calls, prefix) as f64 / n as f64;
    format!("cognito {:.2}, dynamodb {:.2}, secretsmanager {:.2}", per("AWSCognito"), per("DynamoDB"), per("secretsmanager"))
}
