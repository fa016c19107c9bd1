//! Risky sign-ins through the login function against moto: the device cookie `/sso` sets, the
//! person's profile kept with the session, failed attempts counted per address, the app's policy
//! applied before any token, and the events recorded.

use crate::harness::{APP, PASSWORD, Reply, TestApp, spawn_app};
use http::StatusCode;
use serde_json::json;
use shared::risk::RiskPolicy;

/// `/sso` with the browser's device cookie, if it has one; returns the context and the cookie
/// the browser holds afterwards.
pub(crate) async fn enter(app: &TestApp, device: Option<&str>) -> (String, String) {
    let cookie = device.map(|d| format!("__Host-bridge_device={d}"));
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", c.as_str())).collect();
    let reply = app.send("GET", &format!("/sso/{APP}"), &headers, None).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("__Host-bridge_device="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned());
    if device.is_some() {
        assert_eq!(set, None, "a known browser keeps its cookie");
    }
    (reply.location_param("ctx").unwrap(), set.or(device.map(str::to_owned)).unwrap())
}

pub(crate) async fn login(app: &TestApp, ctx: &str, password: &str) -> Reply {
    app.post("/login", json!({"ctx": ctx, "email": "hanako@example.com", "password": password})).await
}

async fn high_risk_events(app: &TestApp) -> Vec<serde_json::Value> {
    let out = aws_sdk_dynamodb::Client::new(&app.sdk)
        .scan()
        .table_name(&app.stack.table)
        .filter_expression("#t = :t")
        .expression_attribute_names("#t", "type")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::S("sign_in.high_risk".into()))
        .send()
        .await
        .unwrap();
    out.items().iter().map(|i| serde_json::from_str(i["data"].as_s().unwrap()).unwrap()).collect()
}

/// A stack whose demo app has `policy`, and its person.
pub(crate) async fn app_with(policy: RiskPolicy) -> TestApp {
    let app = spawn_app().await;
    let mut demo = app.apps.get(&shared::tokens::app::AppId::parse(APP).unwrap()).await.unwrap();
    demo.risk_policy = policy;
    app.apps.update(demo).await.unwrap();
    let app = TestApp { login: crate::harness::login_for(&app.sdk, &app.stack, crate::harness::moto()), ..app };
    app.user("hanako@example.com", |_| {}).await;
    app
}

#[tokio::test]
async fn a_new_browser_is_refused_under_the_deny_policy_and_a_known_one_is_not() {
    let app = app_with(RiskPolicy::Deny).await;

    // The first sign-in: a new device cookie, the baseline.
    let (ctx, device) = enter(&app, None).await;
    assert_eq!(login(&app, &ctx, PASSWORD).await.status, StatusCode::OK);
    // The same browser again: fine.
    let (ctx, _) = enter(&app, Some(&device)).await;
    assert_eq!(login(&app, &ctx, PASSWORD).await.status, StatusCode::OK);
    // Holding its cookie under the name it had before the `__Host-` prefix: still known to the
    // risk engine, but the browser gets a new id (any sibling subdomain can set the old name, so
    // its value is never adopted: a planted one would let its planter's sign-ins hand off there).
    // First a door with no sign-in after it (an app's sign-out): the old cookie is left alone.
    let old = format!("bridge_device={device}");
    let out = app.send("GET", &format!("/sso/{APP}/logout"), &[("cookie", &old)], None).await;
    let set: Vec<&str> = out.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    let renewed = set.iter().find_map(|c| c.strip_prefix("__Host-bridge_device=")).and_then(|c| c.split(';').next()).unwrap_or_default().to_owned();
    assert!(renewed.len() == 43 && renewed != device, "a new id: {set:?}");
    assert!(!set.iter().any(|c| c.starts_with("bridge_device=")), "the old one kept: {set:?}");
    // Then the app, with both cookies: the old one's id makes it a known browser.
    let both = format!("{old}; __Host-bridge_device={renewed}");
    let entered = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &both)], None).await;
    let ctx = entered.location_param("ctx").unwrap();
    let step = login(&app, &ctx, PASSWORD).await;
    assert_eq!(step.status, StatusCode::OK, "a known browser: {}", step.body);
    let form = format!("handoff={}", step.json()["handoff"].as_str().unwrap());
    let planted = app.post_handoff(&form, &old).await;
    assert_eq!(planted.status, StatusCode::FORBIDDEN, "the old name binds nothing: {}", planted.body);
    let step = login(&app, &ctx, PASSWORD).await;
    let form = format!("handoff={}", step.json()["handoff"].as_str().unwrap());
    assert_eq!(app.post_handoff(&form, &format!("__Host-bridge_device={renewed}")).await.status, StatusCode::OK, "the new cookie's browser");
    // It learnt the new id: that browser is known by it from now on.
    let (ctx, _) = enter(&app, Some(&renewed)).await;
    assert_eq!(login(&app, &ctx, PASSWORD).await.status, StatusCode::OK);

    // Another browser: refused before any token, with the reason, and recorded.
    let (ctx, other) = enter(&app, None).await;
    assert_ne!(other, device);
    let refused = login(&app, &ctx, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"], "sign_in_denied");
    assert!(refused.json()["handoff"].is_null());
    let events = high_risk_events(&app).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail"], json!({"signals": ["new_device"], "outcome": "refused"}));
    assert_eq!(events[0]["user"]["email"], "hanako@example.com");

    // Three wrong passwords for the address (counted in the table) make the known browser high risk too.
    for _ in 0..3 {
        let (ctx, _) = enter(&app, Some(&device)).await;
        assert_eq!(login(&app, &ctx, "Wrong-Passw0rd!").await.status, StatusCode::UNAUTHORIZED);
    }
    let (ctx, _) = enter(&app, Some(&device)).await;
    let refused = login(&app, &ctx, PASSWORD).await;
    assert_eq!(refused.json()["error"], "sign_in_denied");
    assert_eq!(high_risk_events(&app).await.iter().filter(|e| e["detail"]["signals"] == json!(["recent_failures"])).count(), 1);
}

/// RFC 6238 (SHA-1, 30 s, 6 digits) for a base32 `secret`, as authenticator apps compute it.
pub fn totp(secret: &str) -> String {
    let mut bits = 0u64;
    let mut count = 0;
    let mut key = Vec::new();
    for c in secret.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".find(c.to_ascii_uppercase()).unwrap() as u64;
        bits = (bits << 5) | v;
        count += 5;
        if count >= 8 {
            count -= 8;
            key.push((bits >> count) as u8);
        }
    }
    // Stay clear of the end of a 30-second step (Cognito checks the current step only).
    let mut now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    if now % 30 > 26 {
        std::thread::sleep(std::time::Duration::from_secs(30 - now % 30));
        now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    }
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key);
    let mac = aws_lc_rs::hmac::sign(&key, &(now / 30).to_be_bytes());
    let mac = mac.as_ref();
    let offset = (mac[19] & 0x0f) as usize;
    let code = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]) % 1_000_000;
    format!("{code:06}")
}

/// Codes a stranger asks for by typing the address (email sign-in codes here) use up their own
/// count, never the codes only the password opens: the person still proves their email at a
/// `require_mfa` app from a new browser.
#[tokio::test]
async fn a_stranger_spending_the_addresss_codes_does_not_lock_the_person_out() {
    let app = app_with(RiskPolicy::RequireMfa).await;
    let (ctx, _) = enter(&app, None).await;
    assert_eq!(app.handoff(&login(&app, &ctx, PASSWORD).await).await.status, StatusCode::OK, "the first browser is the baseline");
    let (ctx, _) = enter(&app, None).await;
    let mut answers = Vec::new();
    for _ in 0..=shared::signin::sign_up::CODES_PER_EMAIL {
        answers.push(app.post("/login/code", json!({"ctx": ctx, "email": "hanako@example.com"})).await.status);
    }
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{answers:?}");
    let (ctx, _) = enter(&app, None).await;
    let step = login(&app, &ctx, PASSWORD).await.json();
    assert_eq!(step["challenge"], "verify_email", "{step}");
    let done = app.post("/login/challenge", json!({"flow": step["flow"], "code": app.emailed_code("hanako@example.com")})).await.json();
    assert_eq!(done["challenge"], "totp_setup", "{done}");
}

#[tokio::test]
async fn a_new_browser_sets_up_an_authenticator_app_under_the_require_mfa_policy() {
    let app = app_with(RiskPolicy::RequireMfa).await;
    let (ctx, device) = enter(&app, None).await;
    let first = app.handoff(&login(&app, &ctx, PASSWORD).await).await;
    assert_eq!(first.status, StatusCode::OK, "the first browser is the baseline");
    let first_browser = format!("{}; __Host-bridge_device={device}", crate::harness::session_cookie(&first));
    let again = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &first_browser)], None).await;
    assert_eq!(again.status, StatusCode::OK, "its session opens the app: {}", again.body);

    // A new browser: first a code to the verified email (whoever holds only the password
    // cannot enrol a factor), then an authenticator app (Cognito's secret), proved with a code.
    let (ctx, _) = enter(&app, None).await;
    let step = login(&app, &ctx, PASSWORD).await.json();
    assert_eq!((step["challenge"].as_str(), step["destination"].as_str()), (Some("verify_email"), Some("h***@e***")), "{step}");
    assert!(step["setup"].is_null(), "no authenticator secret before the email is proved");
    let flow = step["flow"].as_str().unwrap();
    // Refused at the door (never a code) and then two wrong codes, the step's tries.
    for guessed in ["😀", &"9".repeat(40), "000000", "111111"] {
        let refused = app.post("/login/challenge", json!({"flow": flow, "code": guessed})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("code_mismatch")), "{guessed}");
    }
    // The step's tries are spent: its flow answered again is refused, the emailed code too.
    let spent = app.post("/login/challenge", json!({"flow": flow, "code": app.emailed_code("hanako@example.com")})).await;
    assert_eq!((spent.status, spent.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    // A new step sends a new code, with tries of its own.
    let (ctx, _) = enter(&app, None).await;
    let step = login(&app, &ctx, PASSWORD).await.json();
    let flow = step["flow"].as_str().unwrap();
    let refused = app.post("/login/challenge", json!({"flow": flow, "code": "１２３ "})).await;
    assert_eq!(refused.json()["error"], "code_mismatch");
    // Typed with a Japanese input method: full-width digits and a space.
    let code = app.emailed_code("hanako@example.com");
    let typed: String = code.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect::<String>() + " ";
    let email_step = flow;
    let step = app.post("/login/challenge", json!({"flow": flow, "code": typed})).await.json();
    assert_eq!(step["challenge"], "totp_setup", "{step}");
    let secret = step["setup"]["secret"].as_str().unwrap().to_owned();
    assert!(step["setup"]["uri"].as_str().unwrap().starts_with("otpauth://totp/api.example.com:hanako%40example.com?secret="));
    let flow = step["flow"].as_str().unwrap();
    let wrong = app.post("/login/challenge", json!({"flow": flow, "code": "000000"})).await;
    assert_eq!(wrong.json()["error"], "code_mismatch");
    let enrolled_at = shared::common::time::unix_now();
    let done = app.post("/login/challenge", json!({"flow": flow, "code": totp(&secret)})).await;
    assert_eq!(done.json()["status"], "signed_in", "{}", done.body);
    // Each step completes once: replayed, the set-up opens no second session (the bridge
    // refuses its flow: Cognito would take its code again), and the email step hands out no new
    // authenticator secret (its tries are spent; Cognito ended its sign-in besides).
    let sessions = app.items_under("SESSION#").await;
    for (step, code, refusal) in
        [(flow, totp(&secret), (StatusCode::BAD_REQUEST, "flow_expired")), (email_step, code.clone(), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"))]
    {
        let replayed = app.post("/login/challenge", json!({"flow": step, "code": code})).await;
        assert_eq!((replayed.status, replayed.json()["error"].as_str()), (refusal.0, Some(refusal.1)), "{}", replayed.body);
    }
    // (The set-up's replay ends the person's other sessions again, as the step does before it
    // completes: only the holder of the authenticator can make it.)
    assert!(app.items_under("SESSION#").await <= sessions, "no session opened");

    // From now on Cognito asks for the app's code, and a new browser passes with it.
    let (ctx, _) = enter(&app, None).await;
    let step = login(&app, &ctx, PASSWORD).await.json();
    assert_eq!(step["challenge"], "software_token_mfa", "{step}");
    let done = app.post("/login/challenge", json!({"flow": step["flow"], "code": totp(&secret)})).await;
    assert_eq!(done.json()["status"], "signed_in", "{}", done.body);
    let outcomes: Vec<serde_json::Value> = high_risk_events(&app).await.iter().map(|e| e["detail"]["outcome"].clone()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "second_factor_required").count(), 2, "two steps: {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "allowed").count(), 2, "{outcomes:?}");
    assert_eq!(app.event_types().await.iter().filter(|t| *t == "user.mfa_enrolled").count(), 1, "the enrolment is an identity event");
    // The person's factors changed: the sessions opened before it are over.
    let before = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &first_browser)], None).await;
    assert!(before.location_param("ctx").is_some(), "back to the form: {:?}", before.header("location"));
    assert!(app.console_not_before("hanako@example.com").await >= Some(enrolled_at), "and the console tokens issued before");
}
