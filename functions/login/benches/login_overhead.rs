//! Bridge overhead per password sign-in, in-process: the real handler, adapters and SDK clients
//! (signing, serialisation, retries and timeouts included), with the AWS transport replaced by an
//! instant replay. Also counts AWS calls per sign-in, cold and warm. Run with `make bench`.
//!
//! What it leaves out: network time to Cognito and the Lambda runtime's own overhead.

use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_types::body::SdkBody;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::Body;
use login::{config::Config, handler, state::Login};
use serde_json::json;
use shared::adapters::jwks::StaticKeys;
use shared::testing::CallLog;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const POOL: &str = "ap-northeast-1_Bench";
const CLIENT: &str = "bench-client";
const ITERATIONS: usize = 20_000;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn id_token() -> String {
    let key = EncodingKey::from_rsa_pem(include_bytes!("fixtures/bench-rsa.pem")).unwrap_or_else(|e| panic!("{e}"));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench".into());
    let claims = json!({
        "sub": "5f0c2a9e-1111-4222-8333-944455556666", "iss": format!("https://cognito-idp.ap-northeast-1.amazonaws.com/{POOL}"),
        "aud": CLIENT, "token_use": "id", "iat": now(), "exp": now() + 3600, "auth_time": now(),
        "email": "hanako@example.com", "email_verified": true, "name": "山田 花子", "custom:company": "Acme",
        "cognito:groups": ["zd-vip", "zendesk-agents"]
    });
    jsonwebtoken::encode(&header, &claims, &key).unwrap_or_else(|e| panic!("{e}"))
}

/// Canned AWS answers, by the operation the request names.
fn replay(request: http::Request<SdkBody>, id_token: &str) -> http::Response<SdkBody> {
    let target = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
    let answer = match target {
        "AWSCognitoIdentityProviderService.InitiateAuth" => json!({"AuthenticationResult": {
            "IdToken": id_token, "AccessToken": "access", "RefreshToken": "refresh", "ExpiresIn": 3600, "TokenType": "Bearer"}, "ChallengeParameters": {}}),
        "DynamoDB_20120810.GetItem" => {
            let app = json!({"id": "bench", "name": "Bench", "target": {"kind": "zendesk", "account_url": "https://acme.zendesk.com"},
                "allowed_origins": ["https://acme.zendesk.com"], "signing_secret": "app-secret",
                "claims": serde_json::from_str::<serde_json::Value>(include_str!("../../../demo/claims.json")).unwrap_or_default()});
            json!({"Item": {"pk": {"S": "APP#bench"}, "sk": {"S": "APP"}, "version": {"N": "1"}, "data": {"S": app.to_string()}}})
        }
        "DynamoDB_20120810.PutItem" => json!({}),
        "secretsmanager.GetSecretValue" if body.contains("bridge") => {
            json!({"SecretString": json!({"flow_key": "k".repeat(48), "cognito_client_secret": "client-secret"}).to_string()})
        }
        "secretsmanager.GetSecretValue" => json!({"SecretString": "zendesk-shared-secret"}),
        other => panic!("unexpected AWS call {other}"),
    };
    http::Response::builder()
        .status(200)
        .header("content-type", "application/x-amz-json-1.1")
        .body(SdkBody::from(answer.to_string()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn request(path: &str, body: Option<String>) -> http::Request<Body> {
    let method = if body.is_some() { "POST" } else { "GET" };
    http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.com{path}"))
        .header("content-type", "application/json")
        .header("origin", "https://login.example.com")
        .body(body.map(Body::Text).unwrap_or(Body::Empty))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(run());
}

async fn run() {
    let token = id_token();
    let calls = CallLog::default();
    let http = calls.wrap(infallible_client_fn(move |r| replay(r, &token)));
    let started = Instant::now();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("ap-northeast-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new("bench", "bench", None, None, "bench"))
        .http_client(http)
        .timeout_config(shared::adapters::aws::timeouts())
        .load()
        .await;
    let env: HashMap<String, String> = [
        ("TABLE_NAME", "bench"),
        ("USER_POOL_ID", POOL),
        ("USER_POOL_CLIENT_ID", CLIENT),
        ("BRIDGE_SECRET_ID", "bridge"),
        ("FORM_URL", "https://login.example.com/index.html"),
        ("PUBLIC_API_URL", "https://api.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
    let oidc = std::sync::Arc::new(shared::adapters::oidc_http::HttpOidc::new().unwrap_or_else(|e| panic!("{e}")));
    let login = Login::with(&config, &sdk, Box::new(StaticKeys(include_str!("fixtures/bench-jwks.json").into())), oidc);
    let init = started.elapsed();

    let sso = handler::handle(&login, request("/sso/bench?return_to=https%3A%2F%2Facme.zendesk.com%2Fhc", None)).await;
    let location = sso.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let ctx = url::Url::parse(&location).ok().and_then(|u| u.query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned())).unwrap_or_default();
    let sso_calls = calls.take();
    let body = json!({"ctx": ctx, "email": "hanako@example.com", "password": "Corr3ct-Horse!"}).to_string();

    let cold = handler::handle(&login, request("/login", Some(body.clone()))).await;
    assert_eq!(cold.status(), 200, "{:?}", cold.body());
    let cold_calls = calls.take();

    for _ in 0..500 {
        handler::handle(&login, request("/login", Some(body.clone()))).await;
    }
    calls.take();
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let req = request("/login", Some(body.clone()));
        let t = Instant::now();
        let response = handler::handle(&login, req).await;
        samples.push(t.elapsed());
        assert_eq!(response.status(), 200);
    }
    let warm_calls = calls.take();
    samples.sort();

    let per = |calls: &[String], prefix: &str| CallLog::count(calls, prefix);
    println!("login_overhead: {ITERATIONS} warm password sign-ins, AWS transport replayed instantly");
    println!(
        "  p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
    println!("  init (SDK config + clients + caches): {init:?}");
    println!("  AWS calls, GET /sso (cold): {sso_calls:?}");
    println!("  AWS calls, first POST /login: {cold_calls:?}");
    println!(
        "  AWS calls per warm sign-in: cognito {:.2}, dynamodb {:.2}, secretsmanager {:.2}",
        per(&warm_calls, "AWSCognito") as f64 / ITERATIONS as f64,
        per(&warm_calls, "DynamoDB") as f64 / ITERATIONS as f64,
        per(&warm_calls, "secretsmanager") as f64 / ITERATIONS as f64
    );
}
