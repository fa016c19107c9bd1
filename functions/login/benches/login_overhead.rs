//! Bridge overhead per password sign-in, in-process: the real router, adapters and SDK clients
//! (signing, serialisation, retries and timeouts included), with the AWS transport replaced by an
//! instant replay. Also counts AWS calls per sign-in, cold and warm; then the same for the email
//! typed first (`/login/identify`) and for each step of a sign-in without a password (an email
//! code, a passkey). Run with `make bench`.
//!
//! What it leaves out: network time to Cognito and the Lambda runtime's own overhead.

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::time::Instant;
use support::{CLIENT, POOL, now, request};

const ITERATIONS: usize = 20_000;

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
fn replay(target: &str, body: &str, id_token: &str) -> Value {
    match target {
        "AWSCognitoIdentityProviderService.InitiateAuth" if body.contains("\"USER_AUTH\"") && body.contains("WEB_AUTHN") => json!({
            "ChallengeName": "WEB_AUTHN", "Session": "s".repeat(900), "ChallengeParameters": {"USERNAME": "hanako@example.com",
            "CREDENTIAL_REQUEST_OPTIONS": r#"{"challenge":"ZmFrZS1jaGFsbGVuZ2UtZm9yLXRoZS1iZW5jaG1hcmstMzI","timeout":300000,"rpId":"login.example.com","allowCredentials":[],"userVerification":"preferred"}"#}}),
        "AWSCognitoIdentityProviderService.InitiateAuth" if body.contains("\"USER_AUTH\"") => json!({
            "ChallengeName": "EMAIL_OTP", "Session": "s".repeat(900),
            "ChallengeParameters": {"USERNAME": "hanako@example.com", "CODE_DELIVERY_DESTINATION": "h***@e***", "CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL"}}),
        "AWSCognitoIdentityProviderService.InitiateAuth" | "AWSCognitoIdentityProviderService.RespondToAuthChallenge" => json!({"AuthenticationResult": {
            "IdToken": id_token, "AccessToken": "access", "RefreshToken": "refresh", "ExpiresIn": 3600, "TokenType": "Bearer"}, "ChallengeParameters": {}}),
        "DynamoDB_20120810.GetItem" => support::app_item(),
        "DynamoDB_20120810.PutItem" | "DynamoDB_20120810.TransactWriteItems" | "DynamoDB_20120810.UpdateItem" => json!({}),
        "DynamoDB_20120810.BatchGetItem" => json!({"Responses": {}}),
        // No consent documents published.
        "DynamoDB_20120810.Query" => json!({"Items": [], "Count": 0}),
        "secretsmanager.GetSecretValue" => support::secret(body),
        other => panic!("unexpected AWS call {other}"),
    }
}

fn login_request(body: &str) -> http::Request<lambda_http::Body> {
    request("POST", "/login", &[("content-type", "application/json"), ("origin", "https://login.example.com")], Some(body.to_owned()))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(run());
}

async fn run() {
    let token = id_token();
    let started = Instant::now();
    let (sdk, calls) = support::replayed_sdk(move |target, body| replay(target, body, &token)).await;
    let login = support::login(&sdk);
    let init = started.elapsed();

    let ctx = support::ctx(&login).await;
    let sso_calls = calls.take();
    let body = json!({"ctx": ctx, "email": "hanako@example.com", "password": "Corr3ct-Horse!"}).to_string();

    let cold = shared::testing::oneshot(&login, login_request(&body)).await;
    assert_eq!(cold.status(), 200, "{:?}", cold.body());
    let cold_calls = calls.take();

    for _ in 0..500 {
        shared::testing::oneshot(&login, login_request(&body)).await;
    }
    calls.take();
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let req = login_request(&body);
        let t = Instant::now();
        let response = shared::testing::oneshot(&login, req).await;
        samples.push(t.elapsed());
        assert_eq!(response.status(), 200);
    }
    let warm_calls = calls.take();

    println!("login_overhead: {ITERATIONS} warm password sign-ins, AWS transport replayed instantly");
    println!("  {}", support::percentiles(&mut samples));
    println!("  init (SDK config + clients + caches): {init:?}");
    println!("  AWS calls, GET /sso (cold): {sso_calls:?}");
    println!("  AWS calls, first POST /login: {cold_calls:?}");
    println!("  AWS calls per warm sign-in: {}", support::per_operation(&warm_calls, ITERATIONS));

    // The email typed first (identifier-first), for an address outside every organisation.
    let typed = json!({"ctx": ctx, "email": "someone@mail.example"}).to_string();
    let mut identified = Vec::with_capacity(ITERATIONS / 4);
    for i in 0..ITERATIONS / 4 + 200 {
        let t = Instant::now();
        let response = shared::testing::oneshot(&login, json_request("/login/identify", &typed)).await;
        if i >= 200 {
            identified.push(t.elapsed());
        }
        assert_eq!(response.status(), 200, "{:?}", response.body());
    }
    let identify_calls = calls.take();
    println!("/login/identify: {} warm", ITERATIONS / 4);
    println!("  {}", support::percentiles(&mut identified));
    println!("  AWS calls per identify: {}", support::per_operation(&identify_calls, ITERATIONS / 4 + 200));

    // Without a password: each step, warm.
    let credential = json!({"id": "Y3JlZA", "rawId": "Y3JlZA", "type": "public-key", "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        "response": {"clientDataJSON": "e30".repeat(60), "authenticatorData": "AAAA".repeat(10), "signature": "MEUC".repeat(18), "userHandle": "dXNlcg"}});
    for (route, answer) in [("/login/code", json!({"code": "123456"})), ("/login/passkey", json!({"credential": credential}))] {
        let start = json!({"ctx": ctx, "email": "hanako@example.com"}).to_string();
        let (mut started, mut answered) = (Vec::with_capacity(ITERATIONS / 4), Vec::with_capacity(ITERATIONS / 4));
        for i in 0..ITERATIONS / 4 + 200 {
            let t = Instant::now();
            let response = shared::testing::oneshot(&login, json_request(route, &start)).await;
            let elapsed = t.elapsed();
            let step: Value = serde_json::from_slice(response.body()).unwrap_or_else(|e| panic!("{e}"));
            let mut body = answer.clone();
            body["flow"] = step["flow"].clone();
            let t = Instant::now();
            let response = shared::testing::oneshot(&login, json_request("/login/challenge", &body.to_string())).await;
            assert_eq!(response.status(), 200, "{:?}", response.body());
            if i >= 200 {
                started.push(elapsed);
                answered.push(t.elapsed());
            }
        }
        let calls = calls.take();
        println!("{route}: {} warm sign-ins", ITERATIONS / 4);
        println!("  {route}: {}", support::percentiles(&mut started));
        println!("  /login/challenge: {}", support::percentiles(&mut answered));
        println!("  AWS calls per sign-in (both steps): {}", support::per_operation(&calls, ITERATIONS / 4 + 200));
    }
}

fn json_request(path: &str, body: &str) -> http::Request<lambda_http::Body> {
    request("POST", path, &[("content-type", "application/json"), ("origin", "https://login.example.com")], Some(body.to_owned()))
}
