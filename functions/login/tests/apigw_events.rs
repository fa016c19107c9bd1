//! The router behind `lambda_http`'s own adapter, fed API Gateway HTTP API (payload 2.0) events
//! as JSON, the way Lambda delivers them; the ports are the in-memory doubles.
#![allow(clippy::unwrap_used)]

use lambda_http::lambda_runtime::LambdaEvent;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, Service};
use login::{routes, state::Login};
use serde_json::{Value, json};
use shared::testing::{DEMO_APP, MemoryEvents, ScriptedAuth, corporate_service, sign_in_service_recording};
use shared::tokens::return_to::Origin;
use std::sync::Arc;

fn login(auth: Arc<ScriptedAuth>) -> Arc<Login> {
    recording_login(auth).0
}

/// A login function whose events can be read, trusting CloudFront's country header.
fn recording_login(auth: Arc<ScriptedAuth>) -> (Arc<Login>, Arc<MemoryEvents>) {
    let (sign_in, events) = sign_in_service_recording(auth);
    (login_with(sign_in), events)
}

/// A login function on `sign_in`'s ports, trusting CloudFront's country header.
fn login_with(sign_in: shared::signin::SignIn) -> Arc<Login> {
    Arc::new(Login {
        sign_in,
        corporate: corporate_service(Default::default()),
        api_url: "https://api.example.com".into(),
        form_url: url::Url::parse("https://login.example.com/index.html").unwrap(),
        form_origin: Origin::parse("https://login.example.com").unwrap(),
        country_header: Some("cloudfront-viewer-country".into()),
    })
}

fn event(method: &str, path: &str, query: &str, body: Option<Value>) -> LambdaRequest {
    serde_json::from_value(event_json(method, path, query, body)).unwrap()
}

fn event_json(method: &str, path: &str, query: &str, body: Option<Value>) -> Value {
    json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": query,
        "headers": {"content-type": "application/json", "origin": "https://login.example.com", "host": "abc123.execute-api.ap-northeast-1.amazonaws.com"},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.ap-northeast-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "r-1", "routeKey": format!("{method} {path}"), "stage": "$default", "time": "21/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_240_800_000u64, "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"}},
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// `request` through the function API Gateway routes it to: the account function for
/// `/account...`, else the login function.
async fn call(login: &Arc<Login>, request: LambdaRequest) -> Value {
    let account = matches!(&request, LambdaRequest::ApiGatewayV2(r) if r.raw_path.as_deref().is_some_and(|p| p == "/account" || p.starts_with("/account/")));
    let router = if account { routes::account_router(login.clone()) } else { routes::router(login.clone()) };
    let mut adapter = Adapter::from(router);
    let response = adapter.call(LambdaEvent::new(request, Context::default())).await.unwrap();
    serde_json::to_value(response).unwrap()
}

#[tokio::test]
async fn sso_then_login_through_api_gateway_events() {
    let login = login(Arc::new(ScriptedAuth::with_user("hanako@example.com", "Corr3ct-Horse!", None)));
    let sso = call(&login, event("GET", &format!("/sso/{DEMO_APP}"), "return_to=https%3A%2F%2Facme.zendesk.com%2Fhc&brand_id=1", None)).await;
    assert_eq!(sso["statusCode"], 302);
    let location = sso["headers"]["location"].as_str().unwrap();
    let ctx = url::Url::parse(location).unwrap().query_pairs().find(|(k, _)| k == "ctx").map(|(_, v)| v.into_owned()).unwrap();

    let signed_in = call(&login, event("POST", "/login", "", Some(json!({"ctx": ctx, "email": "hanako@example.com", "password": "Corr3ct-Horse!"})))).await;
    assert_eq!(signed_in["statusCode"], 200);
    assert_eq!(signed_in["headers"]["access-control-allow-origin"], "https://login.example.com");
    let body: Value = serde_json::from_str(signed_in["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "signed_in");

    // The form posts the handoff on a top-level navigation; HTTP APIs hand form bodies to Lambda
    // base64-encoded.
    use base64::Engine;
    let form = format!("handoff={}", body["handoff"].as_str().unwrap());
    let mut handoff = event_json("POST", "/session/handoff", "", None);
    handoff["headers"]["content-type"] = "application/x-www-form-urlencoded".into();
    handoff["body"] = base64::engine::general_purpose::STANDARD.encode(form).into();
    handoff["isBase64Encoded"] = true.into();
    // The browser brings the device cookie `/sso` set (payload 2.0 hands request cookies over
    // in `cookies`): the handoff is good only where the sign-in's device is.
    let device = sso["cookies"].as_array().unwrap().iter().filter_map(|c| c.as_str()).find(|c| c.starts_with("__Host-bridge_device=")).unwrap();
    assert!(device.contains("SameSite=None"), "{device}");
    handoff["cookies"] = json!([device.split(';').next().unwrap()]);
    let page = call(&login, serde_json::from_value(handoff).unwrap()).await;
    assert_eq!(page["statusCode"], 200, "{page}");
    let html = page["body"].as_str().unwrap();
    assert!(html.contains("action=\"https://acme.zendesk.com/access/jwt\""), "{html}");
    assert!(html.contains("name=\"return_to\" value=\"https://acme.zendesk.com/hc\""), "{html}");
    // API Gateway (payload 2.0) takes response cookies from `cookies`, not from the headers.
    let cookies = page["cookies"].as_array().unwrap();
    assert!(cookies.iter().any(|c| c.as_str().unwrap().starts_with("__Host-bridge_session=")), "{page}");
}

#[tokio::test]
async fn sign_in_events_carry_the_source_ip_user_agent_and_trusted_country() {
    let (login, events) = recording_login(Arc::new(ScriptedAuth::with_user("hanako@example.com", "Corr3ct-Horse!", None)));
    let sso = call(&login, event("GET", &format!("/sso/{DEMO_APP}"), "", None)).await;
    let ctx = url::Url::parse(sso["headers"]["location"].as_str().unwrap()).unwrap().query_pairs().find(|(k, _)| k == "ctx").unwrap().1.into_owned();
    for (password, country) in [("wrong", "jp"), ("Corr3ct-Horse!", "not a country")] {
        let mut attempt = event_json("POST", "/login", "", Some(json!({"ctx": ctx, "email": "hanako@example.com", "password": password})));
        attempt["headers"]["cloudfront-viewer-country"] = country.into();
        call(&login, serde_json::from_value(attempt).unwrap()).await;
    }
    let recorded = events.0.lock().unwrap().clone();
    let seen: Vec<Value> = recorded.iter().map(|e| json!([e.kind, e.context.ip, e.context.user_agent, e.context.country])).collect();
    // "not a country" is no country code: none.
    assert_eq!(seen, [json!(["user.sign_in_failed", "203.0.113.7", null, "JP"]), json!(["user.signed_in", "203.0.113.7", null, null])]);
}

#[tokio::test]
async fn throttling_and_outages_reach_the_browser_as_429_and_503() {
    use shared::signin::challenge::AuthError;
    let auth = Arc::new(ScriptedAuth::with_user("hanako@example.com", "pw", None));
    let login = login(auth.clone());
    let sso = call(&login, event("GET", &format!("/sso/{DEMO_APP}"), "", None)).await;
    let ctx = url::Url::parse(sso["headers"]["location"].as_str().unwrap()).unwrap().query_pairs().find(|(k, _)| k == "ctx").unwrap().1.into_owned();
    let attempt = || event("POST", "/login", "", Some(json!({"ctx": ctx, "email": "hanako@example.com", "password": "pw"})));

    for (failure, status, code, retry_after) in [
        (AuthError::Throttled, 429, "throttled", "2"),
        (AuthError::TooManyAttempts, 429, "too_many_attempts", "60"),
        (AuthError::Unavailable("InternalErrorException".into()), 503, "unavailable", "5"),
        (AuthError::Misconfigured("ResourceNotFoundException".into()), 503, "unavailable", "5"),
        (AuthError::PasswordResetRequired, 403, "password_reset_required", ""),
    ] {
        *auth.failure.lock().unwrap() = Some(failure);
        let reply = call(&login, attempt()).await;
        assert_eq!(reply["statusCode"], status, "{code}");
        assert_eq!(reply["headers"]["retry-after"].as_str().unwrap_or(""), retry_after, "{code}");
        let body: Value = serde_json::from_str(reply["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"], code);
        assert!(!reply["body"].as_str().unwrap().contains("Exception"), "no AWS detail reaches the browser");
    }
}

/// A session its account's revocation refuses is recorded with the request's visitor context
/// at every door: single sign-on, opening the account page, a call under a page's grant, and the
/// handoff (which, like single sign-on, names the app).
#[tokio::test]
async fn a_revoked_accounts_session_is_recorded_with_the_visitor_at_every_door() {
    use base64::Engine;
    use shared::signin::SignIn;
    use shared::signin::service::SignInPorts;
    use shared::testing::{MemorySessions, sign_in_ports_recording};
    let (ports, events) = sign_in_ports_recording(Arc::new(ScriptedAuth::with_user("hanako@example.com", "Corr3ct-Horse!", None)));
    let sessions = Arc::new(MemorySessions { events: events.clone(), ..Default::default() });
    let login = login_with(SignIn::new(SignInPorts { sessions: sessions.clone(), ..ports }));
    // Each request as a browser in Japan sends it.
    let visited = |mut event: Value, cookies: &[&str]| {
        event["headers"]["user-agent"] = "Door-Test/1.0".into();
        event["headers"]["cloudfront-viewer-country"] = "jp".into();
        event["cookies"] = json!(cookies);
        serde_json::from_value::<LambdaRequest>(event).unwrap()
    };
    let cookie = |reply: &Value, name: &str| -> Option<String> {
        let set = reply["cookies"].as_array()?.iter().filter_map(Value::as_str).find(|c| c.starts_with(&format!("{name}=")))?;
        Some(set.split(';').next()?.to_owned())
    };
    let sso = call(&login, visited(event_json("GET", &format!("/sso/{DEMO_APP}"), "", None), &[])).await;
    let device = cookie(&sso, "__Host-bridge_device").unwrap();
    let ctx = url::Url::parse(sso["headers"]["location"].as_str().unwrap()).unwrap().query_pairs().find(|(k, _)| k == "ctx").unwrap().1.into_owned();
    let handoff = || async {
        let signed_in = call(&login, event("POST", "/login", "", Some(json!({"ctx": ctx, "email": "hanako@example.com", "password": "Corr3ct-Horse!"})))).await;
        let body: Value = serde_json::from_str(signed_in["body"].as_str().unwrap()).unwrap();
        let mut handoff = event_json("POST", "/session/handoff", "", None);
        handoff["headers"]["content-type"] = "application/x-www-form-urlencoded".into();
        handoff["body"] = base64::engine::general_purpose::STANDARD.encode(format!("handoff={}", body["handoff"].as_str().unwrap())).into();
        handoff["isBase64Encoded"] = true.into();
        handoff
    };
    let mut held = Vec::new();
    for _ in 0..3 {
        let page = call(&login, visited(handoff().await, &[&device])).await;
        held.push(cookie(&page, "__Host-bridge_session").unwrap_or_else(|| panic!("a session: {page}")));
    }
    let opened = call(&login, visited(event_json("GET", "/account", "", None), &[&held[2]])).await;
    let page = url::Url::parse(opened["headers"]["location"].as_str().unwrap()).unwrap();
    let grant = page.fragment().and_then(|f| f.strip_prefix("grant=")).unwrap_or_else(|| panic!("a grant: {opened}")).to_owned();
    let pending = handoff().await;
    // A handoff brought by another browser (no device cookie) is refused and recorded too.
    let elsewhere = call(&login, visited(handoff().await, &[])).await;
    assert!(cookie(&elsewhere, "__Host-bridge_session").is_none(), "another browser's handoff refused: {elsewhere}");

    // The revocation's sweep missed every session of hers.
    let username = sessions.sessions.lock().unwrap().values().next().unwrap().username.clone();
    sessions.revoked.lock().unwrap().insert(username.clone(), shared::common::time::unix_now());
    let entered = call(&login, visited(event_json("GET", &format!("/sso/{DEMO_APP}"), "", None), &[&held[0], &device])).await;
    assert!(entered["headers"]["location"].as_str().is_some_and(|l| l.contains("ctx=")), "single sign-on refused: {entered}");
    let account = call(&login, visited(event_json("GET", "/account", "", None), &[&held[1], &device])).await;
    assert!(account["headers"]["location"].as_str().is_some_and(|l| l.contains("notice=account_sign_in")), "the account page refused: {account}");
    let view = call(&login, visited(event_json("POST", "/account/view", "", Some(json!({"grant": grant}))), &[&device])).await;
    assert_eq!(view["statusCode"], 401, "the open page's grant refused: {view}");
    let brought = call(&login, visited(pending, &[&device])).await;
    assert!(cookie(&brought, "__Host-bridge_session").is_none(), "the handoff refused: {brought}");

    let recorded = events.0.lock().unwrap().clone();
    let refused = |reason: &str| -> Vec<Value> {
        recorded
            .iter()
            .filter(|e| e.detail.get("reason").is_some_and(|r| r == reason))
            .map(|e| json!([e.user.username, e.context.app, e.context.method, e.context.ip, e.context.user_agent, e.context.country, e.context.device]))
            .collect()
    };
    // The device by its digest, wherever the browser shows the device cookie.
    let digest = shared::common::hashing::digest(device.split_once('=').unwrap().1);
    let seen = |app: Option<&str>, device: Option<&str>| json!([username, app, "password", "203.0.113.7", "Door-Test/1.0", "JP", device]);
    assert_eq!(refused("other_browser"), [seen(Some(DEMO_APP), None)], "no device cookie shown");
    assert_eq!(
        refused("account_revoked"),
        [seen(Some(DEMO_APP), Some(&digest)), seen(None, Some(&digest)), seen(None, Some(&digest)), seen(Some(DEMO_APP), Some(&digest))],
        "single sign-on, the page, its grant, the handoff"
    );
}
