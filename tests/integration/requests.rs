//! What the login function answers to malformed, hostile and cross-origin requests: the right
//! status, a helpful body, and no call to Cognito.

use crate::harness::*;
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn sso_refuses_unknown_apps_and_foreign_return_to_with_a_readable_page() {
    let app = spawn_app().await;
    let unknown = app.send("GET", "/sso/no-such-app", &[("accept-language", "ja,en;q=0.5")], None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    assert!(unknown.body.contains("登録されていないアプリ"), "{}", unknown.body);

    for hostile in [
        "https://evil.example.com/",
        "//evil.example.com/",
        "https:%2F%2Fevil.example.com",
        "https://acme.zendesk.com@evil.example.com/",
        "https://acme.zendesk.com.evil.example.com/",
        "https:/%5Cevil.example.com",
        "javascript:alert(1)",
        "https://acme.zendesk.com%0d%0aSet-Cookie:x=1/",
    ] {
        let reply = app.send("GET", &format!("/sso/{APP}?return_to={}", url_encode(hostile)), &[], None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{hostile}");
        assert!(reply.header("location").is_none(), "{hostile}");
        assert!(reply.body.contains("return_to_not_allowed"), "{hostile}");
    }
    let twice = app.send("GET", &format!("/sso/{APP}?return_to={ZENDESK}/a&return_to=https://evil.example.com/"), &[], None).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);

    let plain = app.send("GET", &format!("/sso/{APP}"), &[], None).await;
    assert_eq!(plain.status, StatusCode::FOUND);
    assert!(plain.header("location").is_some_and(|l| l.starts_with(&format!("{FORM}/index.html?ctx="))));
}

#[tokio::test]
async fn zendesk_errors_and_logouts_return_to_the_form() {
    let app = spawn_app().await;
    let refused = app.send("GET", &format!("/sso/{APP}/logout?kind=error&message=Invalid+iat+parameter&brand_id=1"), &[], None).await;
    assert_eq!(refused.status, StatusCode::FOUND);
    assert_eq!(refused.location_param("notice").as_deref(), Some("app_error"));
    assert_eq!(refused.location_param("detail"), None, "the app's (anyone's) message is logged, never shown");
    assert!(refused.location_param("ctx").is_some());

    let logout = app.send("GET", &format!("/sso/{APP}/logout?email=a%40b.co&return_to=https://evil.example.com/"), &[], None).await;
    assert_eq!(logout.status, StatusCode::FOUND);
    assert_eq!(logout.location_param("notice").as_deref(), Some("signed_out"));

    let unknown = app.send("GET", "/sso/nope/logout?kind=error&message=x", &[], None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // An app segment that is not UTF-8 once decoded is an unknown app: our page, not a framework's text.
    for path in ["/sso/%FF", "/sso/%FF/logout"] {
        let page = app.send("GET", path, &[("accept-language", "en")], None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"), "{path}");
        assert!(page.header("content-security-policy").is_some(), "{path}");
    }
}

#[tokio::test]
async fn only_the_form_origin_may_call_the_api() {
    let app = spawn_app().await;
    let preflight = app.send("OPTIONS", "/login", &[("origin", FORM), ("access-control-request-method", "POST")], None).await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(FORM));
    assert_eq!(preflight.header("access-control-allow-methods"), Some("POST"));

    let evil = "https://evil.example.com";
    let evil_preflight = app.send("OPTIONS", "/login", &[("origin", evil)], None).await;
    assert_eq!(evil_preflight.status, StatusCode::FORBIDDEN);
    assert!(evil_preflight.header("access-control-allow-origin").is_none());

    let ctx = app.ctx().await;
    app.calls.take();
    let body = json!({"ctx": ctx, "email": "a@example.com", "password": PASSWORD}).to_string();
    let evil_post = app.send("POST", "/login", &[("origin", evil), ("content-type", "application/json")], Some(body)).await;
    assert_eq!((evil_post.status, evil_post.json()["error"].clone()), (StatusCode::FORBIDDEN, json!("origin_not_allowed")));
    assert!(app.calls.take().is_empty());
}

#[tokio::test]
async fn malformed_requests_get_clear_errors_and_cost_no_cognito_call() {
    let app = spawn_app().await;
    let ctx = app.ctx().await;
    app.calls.take();
    let json_ct = [("content-type", "application/json")];
    let cases: Vec<Case> = vec![
        ("POST", "/login", vec![("content-type", "text/plain")], Some("{}".into()), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("POST", "/login", json_ct.to_vec(), Some("{not json".into()), StatusCode::BAD_REQUEST, "invalid_request"),
        ("POST", "/login", json_ct.to_vec(), Some(json!({"ctx": ctx, "email": "a@b.co"}).to_string()), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "POST",
            "/login",
            json_ct.to_vec(),
            Some(json!({"ctx": ctx, "email": "a@b.co", "password": "x", "admin": true}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/login",
            json_ct.to_vec(),
            Some(json!({"ctx": ctx, "email": "a@b.co", "password": ""}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/login",
            json_ct.to_vec(),
            Some(json!({"ctx": ctx, "email": "a@b.co", "password": "x".repeat(257)}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/login",
            json_ct.to_vec(),
            Some(json!({"ctx": ctx, "email": "not-an-email", "password": "x"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_email",
        ),
        (
            "POST",
            "/login",
            json_ct.to_vec(),
            Some(json!({"ctx": format!("{ctx}x"), "email": "a@b.co", "password": "x"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_flow",
        ),
        ("POST", "/login", json_ct.to_vec(), Some(json!({"ctx": "", "email": "a@b.co", "password": "x"}).to_string()), StatusCode::BAD_REQUEST, "invalid_flow"),
        ("POST", "/login", json_ct.to_vec(), Some("x".repeat(20_000)), StatusCode::PAYLOAD_TOO_LARGE, "request_too_large"),
        (
            "POST",
            "/login/challenge",
            json_ct.to_vec(),
            Some(json!({"flow": ctx, "code": "1", "new_password": "y"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("POST", "/login/challenge", json_ct.to_vec(), Some(json!({"flow": ctx, "code": "123456"}).to_string()), StatusCode::BAD_REQUEST, "invalid_flow"),
        (
            "POST",
            "/login/challenge",
            json_ct.to_vec(),
            Some(json!({"flow": ctx, "choice": "carrier_pigeon"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/password/reset",
            json_ct.to_vec(),
            Some(json!({"ctx": ctx, "email": "a@b.co", "code": "", "new_password": "y"}).to_string()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("GET", "/login", vec![], None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ("DELETE", "/sso/acme-help", vec![], None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ("GET", "/admin", vec![], None, StatusCode::NOT_FOUND, "not_found"),
        ("GET", "/sso/a/b/c", vec![], None, StatusCode::NOT_FOUND, "not_found"),
    ];
    for (method, path, headers, body, status, code) in cases {
        let reply = app.send(method, path, &headers, body).await;
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(reply.json()["error"], code, "{method} {path}");
        assert!(reply.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    assert!(app.calls.take().is_empty(), "no AWS call for malformed input");
}

#[tokio::test]
async fn an_expired_context_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    // A context sealed with the right key but an expiry in the past.
    let secret = aws_sdk_secretsmanager::Client::new(&app.sdk).get_secret_value().secret_id(&app.stack.bridge_secret_id).send().await;
    let raw: serde_json::Value = serde_json::from_str(secret.ok().and_then(|s| s.secret_string).as_deref().unwrap_or("{}")).unwrap_or_default();
    let key = secrecy::SecretString::from(raw["flow_key"].as_str().unwrap_or_default().to_owned());
    let ctx = shared::signin::flow::seal(&key, shared::signin::flow::Purpose::Context, 1, &json!({"app": APP}));
    let reply = app.post("/login", json!({"ctx": ctx, "email": "a@b.co", "password": "x"})).await;
    assert_eq!((reply.status, reply.json()["error"].clone()), (StatusCode::BAD_REQUEST, json!("flow_expired")));
}

/// Method, path, headers, body, expected status, expected error code.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<String>, StatusCode, &'a str);

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
