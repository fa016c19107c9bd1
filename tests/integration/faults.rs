//! When AWS cannot be reached: a 503 with `Retry-After` and a friendly body, within the
//! configured timeouts, never a 500 or a hang.

use crate::harness::*;
use http::StatusCode;
use serde_json::json;
use shared::testing::CallLog;

#[tokio::test]
async fn unreachable_aws_is_a_clear_503() {
    let app = spawn_app().await;
    // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    let down = sdk_config("http://127.0.0.1:9", &CallLog::default()).await;
    let login = login_for(&down, &app.stack, "http://127.0.0.1:9");
    let broken = TestApp { login, ..app };

    let sso = broken.send("GET", &format!("/sso/{APP}"), &[("accept-language", "en")], None).await;
    assert_eq!(sso.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sso.header("retry-after"), Some("5"));
    assert!(sso.body.contains("temporarily unavailable"));

    let post = broken.post("/login", json!({"ctx": "x.y", "email": "a@b.co", "password": "x"})).await;
    assert_eq!(post.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(post.json(), json!({"error": "unavailable", "message": "Sign-in is temporarily unavailable. Please try again in a moment."}));
    assert!(!post.body.contains("dispatch"), "no internal detail");
}
