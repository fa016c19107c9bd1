//! Corporate sign-in, in-process: the real router, adapters and SDK clients with the AWS
//! transport replaced by an instant replay, and a company provider on loopback (discovery, JWKS
//! and a token endpoint answering with a pre-signed ID token, in its own thread). Prints the
//! bridge's time for start + go and for the callback, the provider's token round trip on its
//! own, and the AWS and provider calls per step, warm. Run with `make bench-corporate`.
//!
//! The person is already linked to a Cognito user (every sign-in after the first); the
//! organisation creates users on first sign-in (an organisation requiring SCIM adds one
//! `GetItem`, the person's SCIM record).

mod support;

use axum::Router;
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shared::common::hashing::digest;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use support::{API, now, request};

const ITERATIONS: usize = 5_000;
const ORG: &str = "org-bench";
const USER: &str = "5f0c2a9e-1111-4222-8333-944455556666";
const CLIENT_ID: &str = "bridge";
/// The callback's `state` and nonce: fixed, so the replayed `DeleteItem` can hand back the same
/// pending sign-in every time, and the binding cookie (`binding`) can be sealed once.
const STATE: &str = "bench-state";
const NONCE: &str = "bench-nonce";

/// The binding cookie `/corporate/go` sets for `STATE`, sealed with the benches' flow key:
/// what the code exchange needs.
fn binding() -> String {
    let request = json!({"state": digest(STATE), "org": ORG, "app": "bench", "nonce": NONCE, "verifier": "bench-verifier"});
    let key = secrecy::SecretString::from(support::FLOW_KEY);
    shared::signin::flow::seal_private(&key, shared::signin::flow::Purpose::CorporateBinding, now() + 3600, &request).unwrap_or_else(|e| panic!("{e}"))
}

/// The binding cookie of every callback (sealed once: each seal has its own nonce).
static BINDING: std::sync::LazyLock<String> = std::sync::LazyLock::new(binding);

/// Back-channel requests the provider answered: discovery, JWKS, token.
#[derive(Default)]
struct Counts([AtomicUsize; 3]);

impl Counts {
    fn take(&self) -> [usize; 3] {
        self.0.each_ref().map(|c| c.swap(0, Ordering::SeqCst))
    }
}

/// The company's provider on loopback, in its own thread; its issuer.
fn provider(counts: Arc<Counts>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener.set_nonblocking(true).unwrap_or_else(|e| panic!("{e}"));
    let issuer = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let key = EncodingKey::from_rsa_pem(include_bytes!("fixtures/bench-rsa.pem")).unwrap_or_else(|e| panic!("{e}"));
    let claims = json!({"iss": issuer, "aud": CLIENT_ID, "sub": "emp-0001", "email": "taro@corp.example", "name": "山田 太郎",
        "iat": now(), "exp": now() + 3600, "nonce": NONCE});
    let id_token =
        jsonwebtoken::encode(&Header { kid: Some("bench".into()), ..Header::new(Algorithm::RS256) }, &claims, &key).unwrap_or_else(|e| panic!("{e}"));
    let metadata = json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"), "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks")});
    let counted = move |i: usize, answer: String| {
        let counts = counts.clone();
        move || async move {
            counts.0[i].fetch_add(1, Ordering::SeqCst);
            ([("content-type", "application/json")], answer)
        }
    };
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(counted(0, metadata.to_string())))
        .route("/jwks", get(counted(1, include_str!("fixtures/bench-jwks.json").to_owned())))
        .route("/token", post(counted(2, json!({"id_token": id_token, "access_token": "a", "token_type": "Bearer"}).to_string())));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
            axum::serve(listener, router).await
        })
    });
    issuer
}

fn org_item(issuer: &str) -> Value {
    let org = json!({"id": ORG, "name": "Example Corp", "domains": ["corp.example"], "version": 1,
        "connection": {"kind": "oidc", "issuer": issuer, "client_id": CLIENT_ID, "client_secret": "bench/connections/corp", "provisioning": "on_first_sign_in"}});
    json!({"Item": {"pk": {"S": format!("ORG#{ORG}")}, "sk": {"S": "ORG"}, "version": {"N": "1"}, "data": {"S": org.to_string()}}})
}

fn pending_item() -> Value {
    let pending = json!({"ctx": {"app": "bench"}, "binding": digest(&BINDING), "expires_at": now() + 3600});
    json!({"Attributes": {"pk": {"S": format!("OIDCSTATE#{}", digest(STATE))}, "sk": {"S": "STATE"}, "data": {"S": pending.to_string()}}})
}

/// Canned AWS answers, by the operation and the key the request names.
fn replay(target: &str, body: &str, issuer: &str) -> Value {
    match target {
        "DynamoDB_20120810.GetItem" if body.contains("DOMAIN#") => {
            json!({"Item": {"pk": {"S": "DOMAIN#corp.example"}, "sk": {"S": "DOMAIN"}, "org": {"S": ORG}}})
        }
        "DynamoDB_20120810.GetItem" if body.contains("ORG#") => org_item(issuer),
        "DynamoDB_20120810.GetItem" if body.contains("IDLINK#") => json!({"Item": {"pk": {"S": "IDLINK"}, "sk": {"S": "x"}, "username": {"S": USER}}}),
        "DynamoDB_20120810.GetItem" => support::app_item(),
        "DynamoDB_20120810.DeleteItem" => pending_item(),
        // (`UpdateItem`: the client secret kept sealed in the organisation's record.)
        "DynamoDB_20120810.PutItem" | "DynamoDB_20120810.UpdateItem" | "DynamoDB_20120810.TransactWriteItems" => json!({}),
        "DynamoDB_20120810.BatchGetItem" => json!({"Responses": {}}),
        // No consent documents published.
        "DynamoDB_20120810.Query" => json!({"Items": [], "Count": 0}),
        "AWSCognitoIdentityProviderService.AdminGetUser" => json!({"Username": USER, "Enabled": true, "UserStatus": "CONFIRMED", "UserAttributes": [
            {"Name": "sub", "Value": USER}, {"Name": "email", "Value": "taro@corp.example"}, {"Name": "email_verified", "Value": "true"}, {"Name": "name", "Value": "山田 太郎"},
            {"Name": "custom:org_id", "Value": ORG}]}),
        "AWSCognitoIdentityProviderService.AdminListGroupsForUser" => json!({"Groups": []}),
        "secretsmanager.GetSecretValue" => support::secret(body),
        other => panic!("unexpected AWS call {other}"),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(run());
}

async fn run() {
    let counts = Arc::new(Counts::default());
    let issuer = provider(counts.clone());
    let replay_issuer = issuer.clone();
    let (sdk, calls) = support::replayed_sdk(move |target, body| replay(target, body, &replay_issuer)).await;
    let login = support::login(&sdk);
    let ctx = support::ctx(&login).await;
    let start_body = json!({"ctx": ctx, "email": "taro@corp.example"}).to_string();
    let start_headers = [("content-type", "application/json"), ("origin", "https://login.example.com")];
    let cookie = format!("__Host-bridge_corporate={}", *BINDING);
    let callback = || request("GET", &format!("/corporate/callback?state={STATE}&code=bench-code"), &[("cookie", &cookie)], None);

    // Start and go: the organisation by domain, then the pending sign-in and the redirect.
    let start_and_go = || async {
        let started = shared::testing::oneshot(&login, request("POST", "/corporate/start", &start_headers, Some(start_body.clone()))).await;
        let body: Value = serde_json::from_slice(started.body().as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let path = body["url"].as_str().and_then(|u| u.strip_prefix(API)).unwrap_or_else(|| panic!("{body}")).to_owned();
        let go = shared::testing::oneshot(&login, request("GET", &path, &[("cookie", support::DEVICE)], None)).await;
        assert_eq!(go.status(), 302);
    };
    calls.take();
    counts.take();
    start_and_go().await;
    let (cold_start_calls, cold_start_provider) = (calls.take(), counts.take());
    let cold = shared::testing::oneshot(&login, callback()).await;
    assert_eq!(cold.status(), 200, "{:?} {:?}", cold.headers().get("location"), cold.body());
    let (cold_callback_calls, cold_callback_provider) = (calls.take(), counts.take());

    for _ in 0..200 {
        start_and_go().await;
        shared::testing::oneshot(&login, callback()).await;
    }
    calls.take();
    counts.take();
    let mut start_samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        start_and_go().await;
        start_samples.push(t.elapsed());
    }
    let (start_calls, start_provider) = (calls.take(), counts.take());
    let mut callback_samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let req = callback();
        let t = Instant::now();
        let response = shared::testing::oneshot(&login, req).await;
        callback_samples.push(t.elapsed());
        assert_eq!(response.status(), 200);
    }
    let (callback_calls, callback_provider) = (calls.take(), counts.take());

    // The provider's token round trip alone, over a client like the adapter's.
    let http = reqwest::Client::new();
    let mut token_samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        let answer = http.post(format!("{issuer}/token")).body("grant_type=authorization_code").send().await.and_then(|r| r.error_for_status());
        answer.unwrap_or_else(|e| panic!("{e}")).bytes().await.unwrap_or_else(|e| panic!("{e}"));
        token_samples.push(t.elapsed());
    }

    let per_op = |provider: [usize; 3]| provider.map(|n| n as f64 / ITERATIONS as f64);
    println!("corporate_callback: {ITERATIONS} warm corporate sign-ins, AWS replayed instantly, the provider on loopback");
    println!("  start + go:  {}", support::percentiles(&mut start_samples));
    println!("  callback:    {}", support::percentiles(&mut callback_samples));
    println!("  provider token round trip alone: {}", support::percentiles(&mut token_samples));
    println!("  cold start + go: AWS {cold_start_calls:?}; provider [discovery, jwks, token] {cold_start_provider:?}");
    println!("  cold callback:   AWS {cold_callback_calls:?}; provider {cold_callback_provider:?}");
    println!("  warm start + go per sign-in: {}; provider {:?}", support::per_operation(&start_calls, ITERATIONS), per_op(start_provider));
    println!("  warm callback per sign-in:   {}; provider {:?}", support::per_operation(&callback_calls, ITERATIONS), per_op(callback_provider));
    println!("  warm callback calls (one sign-in): {:?}", &callback_calls[..callback_calls.len() / ITERATIONS]);
}
