//! The attacker's side of sign-in, against moto: each test attacks one guarantee the README's
//! "Security model" states, from every door that leads to it, and fails if the door opens.

use crate::harness::*;
use crate::risk::{app_with, enter, login};
use http::StatusCode;
use serde_json::json;
use shared::risk::RiskPolicy;
use shared::tokens::app::{App, AppId};

/// An app of the stack's that refuses high-risk sign-ins (`deny`).
const GUARDED: &str = "acme-guarded";

/// The `ctx` of a redirect to the form.
fn form_ctx(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert!(reply.header("location").unwrap_or_default().starts_with(FORM), "{:?}", reply.header("location"));
    reply.location_param("ctx").unwrap_or_else(|| panic!("no ctx in {:?}", reply.header("location")))
}

#[tokio::test]
async fn no_way_to_the_password_step_skips_the_new_device_signal() {
    let app = app_with(RiskPolicy::Deny).await;
    let (ctx, device) = enter(&app, None).await;
    assert_eq!(login(&app, &ctx, PASSWORD).await.status, StatusCode::OK, "the baseline");

    // Every door to the form that carries no device (or a cookie too long to be ours) leads to
    // an unknown browser, never a known one.
    let oversized = format!("__Host-bridge_device={}", "A".repeat(300));
    let doors = [
        app.send("GET", &format!("/sso/{APP}/logout"), &[], None).await,
        app.send("GET", &format!("/sso/{APP}/logout?kind=error&message=refused"), &[], None).await,
        app.send("GET", &format!("/sso/{APP}"), &[("cookie", &oversized)], None).await,
        app.send("GET", &format!("/sso/{APP}"), &[("cookie", "__Host-bridge_device=")], None).await,
    ];
    for (i, door) in doors.iter().enumerate() {
        let refused = login(&app, &form_ctx(door), PASSWORD).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("sign_in_denied")), "door {i}: {}", refused.body);
    }
    // The known browser still passes.
    let (ctx, _) = enter(&app, Some(&device)).await;
    assert_eq!(login(&app, &ctx, PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_form_url_carried_to_another_browser_does_not_carry_that_browsers_standing() {
    let app = app_with(RiskPolicy::Deny).await;
    let (ctx, device) = enter(&app, None).await;
    assert_eq!(app.handoff(&login(&app, &ctx, PASSWORD).await).await.status, StatusCode::OK, "the baseline");
    // The person's own browser opens the form again; its URL (history, a shared link, a proxy
    // log) reaches someone who also has the password.
    let (leaked, _) = enter(&app, Some(&device)).await;
    let step = login(&app, &leaked, PASSWORD).await;
    assert_eq!(step.status, StatusCode::OK, "the password step cannot see the browser: {}", step.body);
    let handoff = step.json()["handoff"].as_str().unwrap().to_owned();
    let form = format!("handoff={handoff}");
    for cookie in ["", "__Host-bridge_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let elsewhere = app.post_handoff(&form, cookie).await;
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "{cookie}: {}", elsewhere.body);
        assert!(elsewhere.body.contains("other_browser") && elsewhere.headers.get("set-cookie").is_none(), "{}", elsewhere.body);
    }
    let failed = app.events().await.into_iter().filter(|e| e.detail.get("reason").is_some_and(|r| r == "other_browser")).count();
    assert_eq!(failed, 1, "the refused handoff is a failed sign-in in the audit trail, once");
    // The sign-in it came from is over: not even the person's own browser redeems it now.
    assert_eq!(app.post_handoff(&form, &format!("__Host-bridge_device={device}")).await.status, StatusCode::BAD_REQUEST);
}

/// Login CSRF through the consent step: the attacker's own sign-in, paused at the terms (the
/// form takes the step from its URL, `?consent=`, as a corporate sign-in's answer carries it),
/// is sent to someone else, whose browser answers the terms. It must not plant the attacker's
/// session there. Every door to the form binds its context to the browser that opened it, the
/// app's sign-out address too, so the handoff works only there.
#[tokio::test]
async fn a_consent_step_carried_to_another_browser_plants_no_session() {
    let app = spawn_app().await;
    crate::consent::publish(&app, "terms", true).await;
    let doors = [format!("/sso/{APP}/logout"), format!("/sso/{APP}/logout?kind=error&message=refused"), format!("/sso/{APP}")];
    for (i, door) in doors.iter().enumerate() {
        let attacker = format!("attacker{i}@example.com");
        app.user(&attacker, |_| {}).await;
        let opened = app.send("GET", door, &[], None).await;
        let ctx = form_ctx(&opened);
        let sign_in = || app.post("/login", json!({"ctx": ctx, "email": attacker, "password": PASSWORD}));
        let step = sign_in().await.json();
        assert_eq!(step["status"], "consent", "door {i}: {step}");
        let answered = crate::consent::answer(&app, step["flow"].as_str().unwrap(), &["terms"]).await;
        let form = format!("handoff={}", answered.json()["handoff"].as_str().unwrap_or_else(|| panic!("door {i}: {}", answered.body)));
        let planted = app.post_handoff(&form, "").await;
        assert_eq!(planted.status, StatusCode::FORBIDDEN, "door {i}: {}", planted.body);
        assert!(planted.body.contains("other_browser") && planted.headers.get("set-cookie").is_none(), "door {i}: {}", planted.body);
        // The attacker's own browser (the device cookie the door gave it) still signs in.
        let own = set_cookie(&opened, "__Host-bridge_device").unwrap_or_else(|| panic!("door {i} gave no device cookie"));
        let step = sign_in().await;
        assert_eq!(step.json()["status"], "signed_in", "door {i}: {}", step.body);
        let form = format!("handoff={}", step.json()["handoff"].as_str().unwrap());
        assert_eq!(app.post_handoff(&form, &own).await.status, StatusCode::OK, "door {i}");
    }
}

/// Bodies no JSON endpoint may take: empty, cut short, `null`, a list, and 10,000 levels of
/// nesting (a parser's recursion).
fn malformed_json() -> Vec<String> {
    let nested = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![String::new(), "{".into(), "null".into(), "[]".into(), nested]
}

/// A stack whose demo app lets high-risk sign-ins through (`allow`) beside a `deny` app.
async fn allow_and_deny() -> TestApp {
    let app = spawn_app().await;
    let guarded = App { id: AppId::parse(GUARDED).unwrap(), risk_policy: RiskPolicy::Deny, ..demo_app() };
    app.apps.create(guarded, Some(&app.app_secret.clone().into())).await.unwrap();
    app.user("hanako@example.com", |_| {}).await;
    app
}

/// A password sign-in at the demo app from browser `device` (`None`: a new browser), through
/// the handoff; the session cookie and the device cookie the browser holds afterwards.
async fn signed_in(app: &TestApp, device: Option<&str>) -> (String, String) {
    let (ctx, device) = enter(app, device).await;
    let page = app.handoff(&login(app, &ctx, PASSWORD).await).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (session_cookie(&page), device)
}

#[tokio::test]
async fn a_session_enters_an_app_only_as_far_as_its_sign_in_proved() {
    let app = allow_and_deny().await;
    let visit = |session: String, device: Option<String>, app_id: &'static str| {
        let app = &app;
        async move {
            let cookie = [Some(session), device.map(|d| format!("__Host-bridge_device={d}"))].into_iter().flatten().collect::<Vec<_>>().join("; ");
            app.send("GET", &format!("/sso/{app_id}"), &[("cookie", &cookie)], None).await
        }
    };
    // Browser A: the first sign-in (low risk). Its session opens the deny app at once.
    let (session_a, device_a) = signed_in(&app, None).await;
    let straight = visit(session_a.clone(), Some(device_a.clone()), GUARDED).await;
    assert_eq!(straight.status, StatusCode::OK, "the token's self-submitting form: {}", straight.body);
    assert!(straight.body.contains("/access/jwt"), "{}", straight.body);

    // Browser B: high risk, let through at the allow app and recorded. Its session must not
    // open the deny app: back to the form, where the sign-in is refused.
    let (session_b, device_b) = signed_in(&app, None).await;
    let sent_back = visit(session_b.clone(), Some(device_b.clone()), GUARDED).await;
    let refused = login(&app, &form_ctx(&sent_back), PASSWORD).await;
    assert_eq!(refused.json()["error"], "sign_in_denied", "an allowed risky sign-in does not make its browser known: {}", refused.body);
    // ... and B's session still opens the allow app.
    assert_eq!(visit(session_b, Some(device_b.clone()), APP).await.status, StatusCode::OK);

    // A's session cookie carried off to another browser proves nothing there.
    form_ctx(&visit(session_a.clone(), Some(device_b), GUARDED).await);
    form_ctx(&visit(session_a.clone(), None, GUARDED).await);
    assert_eq!(visit(session_a, Some(device_a), GUARDED).await.status, StatusCode::OK, "at home it still works");
}

#[tokio::test]
async fn the_handoff_is_unreadable_and_redeemed_once() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let step = app.login("hanako@example.com", PASSWORD).await;
    let handoff = step.json()["handoff"].as_str().unwrap().to_owned();
    let page = app.handoff(&step).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cookie = session_cookie(&page);
    let session = cookie.trim_start_matches("__Host-bridge_session=");
    // What the form's script holds: no session value and no token, in any reading of it.
    let b64 = |s: &str| base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s).unwrap_or_default();
    let readings: Vec<String> = handoff.split('.').map(|p| String::from_utf8_lossy(&b64(p)).into_owned()).collect();
    assert_eq!(readings.len(), 3, "header, ciphertext, MAC: {handoff}");
    for text in readings.iter().chain([&handoff]) {
        assert!(!text.contains(session), "the session value is readable in the handoff");
        assert!(!text.contains("access/jwt") && !text.contains("hanako"), "the delivery is readable in the handoff: {text}");
    }
    // Brought a second time (a replay, a leaked handoff): refused, no cookie, no token.
    let again = app.handoff(&step).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(again.body.contains("handoff_used"), "{}", again.body);
    assert!(again.headers.get("set-cookie").is_none());

    // Four tabs racing with one handoff: exactly one gets in.
    let step = app.login("hanako@example.com", PASSWORD).await;
    let (a, b, c, d) = tokio::join!(app.handoff(&step), app.handoff(&step), app.handoff(&step), app.handoff(&step));
    let statuses = [a.status, b.status, c.status, d.status];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count(), 3, "{statuses:?}");
}

#[tokio::test]
async fn a_password_reset_ends_the_sessions_the_old_password_opened() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let page = app.handoff(&app.login("hanako@example.com", PASSWORD).await).await;
    let cookie = session_cookie(&page);
    let ctx = app.ctx().await;
    assert_eq!(app.post("/password/forgot", json!({"ctx": ctx, "email": "hanako@example.com"})).await.status, StatusCode::OK);
    let code = app.emailed_code("hanako@example.com");
    let reset = app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": "N3w-Passw0rd!x"})).await;
    assert_eq!(reset.json()["status"], "signed_in", "{}", reset.body);
    let after = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    form_ctx(&after);
}

#[tokio::test]
async fn hostile_input_on_every_route_is_a_clear_refusal_never_a_server_error() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let big = "x".repeat(64 * 1024);
    // Malformed JSON first, then well-formed JSON with hostile fields.
    let mut json_bodies = malformed_json();
    json_bodies.extend([
        format!("{{\"ctx\": \"{big}\", \"email\": \"a@b.co\", \"password\": \"p\"}}"),
        json!({"ctx": ctx, "email": "a@b.co", "password": "p", "extra": 1}).to_string(),
        json!({"ctx": ctx, "email": "\u{0}\u{202e}@\u{fffd}", "password": "p"}).to_string(),
        json!({"ctx": ctx, "email": "a@b.co", "password": "x".repeat(5000)}).to_string(),
        json!({"ctx": 7, "email": ["a"], "password": {"$gt": ""}}).to_string(),
        json!({"flow": ctx, "code": "123456"}).to_string(),
        json!({"flow": "a.b", "code": "1", "new_password": "x"}).to_string(),
        json!({"flow": "a.b", "choice": "totp_setup"}).to_string(),
        json!({"ctx": ctx, "email": "a@b.co", "code": "1", "new_password": ""}).to_string(),
        json!({"ctx": ctx, "email": "a@b.co", "password": "Corr3ct-Horse!", "name": "\u{0}", "language": "ja"}).to_string(),
        json!({"ctx": ctx, "email": "a@b.co", "password": "Corr3ct-Horse!", "name": "x".repeat(5000), "language": "ja-JP"}).to_string(),
        json!({"flow": "a.b", "code": "1", "password": "x"}).to_string(),
        json!({"flow": ctx}).to_string(),
        json!({"ctx": ctx, "email": "a\u{200b}@b.co", "password": "Corr3ct-Horse!", "name": "x", "language": "ja"}).to_string(),
        json!({"ctx": ctx, "email": "a@b.co", "password": " Corr3ct-Horse1 ", "name": "x", "language": "ja"}).to_string(),
        json!({"ctx": ctx, "email": "\u{feff}hanako@example.com"}).to_string(),
        json!({"ctx": ctx, "accepted": ["terms"], "flow": "a.b"}).to_string(),
        json!({"consent": "a.b", "accepted": [7]}).to_string(),
    ]);
    let mut replies = Vec::new();
    for path in [
        "/login/identify",
        "/login",
        "/login/challenge",
        "/password/forgot",
        "/password/reset",
        "/corporate/start",
        "/signup",
        "/signup/confirm",
        "/signup/resend",
        "/login/code",
        "/login/passkey",
        "/consent/show",
        "/consent",
    ] {
        for body in &json_bodies {
            for content_type in ["application/json", "text/plain", "application/json; charset=utf-8"] {
                let headers = [("content-type", content_type), ("origin", FORM)];
                replies.push((format!("POST {path} ({content_type}, {} bytes)", body.len()), app.send("POST", path, &headers, Some(body.clone())).await));
            }
        }
        let hostile_origin = [("content-type", "application/json"), ("origin", "https://attacker.example")];
        replies.push((format!("POST {path} from another origin"), app.send("POST", path, &hostile_origin, Some(json_bodies[6].clone())).await));
        for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
            replies.push((format!("{method} {path}"), app.send(method, path, &[("origin", FORM)], None).await));
        }
    }
    // The account page's calls: every route, with bodies of its own shapes gone wrong.
    let long = "a".repeat(10_000);
    let account_bodies = [
        json!({"grant": "a.b"}),
        json!({"grant": null}),
        json!({"elevated": "a.b"}),
        json!({"elevated": ["a.b"]}),
        json!({"elevated": "a.b", "code": "1".repeat(5000)}),
        json!({"elevated": "a.b", "phone": "\u{0}+81"}),
        json!({"elevated": "a.b", "email": long}),
        json!({"elevated": "a.b", "change": long, "code": "123456"}),
        json!({"elevated": "a.b", "factor": "password"}),
        json!({"elevated": "a.b", "confirm": long}),
        json!({"elevated": "a.b", "name": long, "language": "ja"}),
        json!({"elevated": "a.b", "previous": "x", "proposed": long}),
        json!({"grant": "a.b", "document": "terms", "accepted": 1}),
        json!({"flow": "a.b", "choice": "sms_mfa", "code": "1"}),
        json!({"grant": ctx, "id": long}),
        json!([]),
        json!("x"),
    ];
    let account_paths = [
        "/account/view",
        "/account/sessions/end",
        "/account/sessions/end-others",
        "/account/apps/sign-out",
        "/account/consents",
        "/account/consents/decide",
        "/account/reauth",
        "/account/reauth/answer",
        "/account/settings",
        "/account/profile",
        "/account/password",
        "/account/authenticator/start",
        "/account/authenticator/add",
        "/account/email/start",
        "/account/email/verify",
        "/account/phone/start",
        "/account/phone/verify",
        "/account/sms/add",
        "/account/factors/remove",
        "/account/passkeys/start",
        "/account/passkeys/add",
        "/account/passkeys/remove",
        "/account/delete",
    ];
    for path in account_paths {
        for body in &account_bodies {
            let reply = app.send("POST", path, &[("content-type", "application/json"), ("origin", FORM)], Some(body.to_string())).await;
            replies.push((format!("POST {path} {}", &body.to_string()[..body.to_string().len().min(60)]), reply));
        }
        replies.push((format!("POST {path} as text"), app.send("POST", path, &[("content-type", "text/plain"), ("origin", FORM)], Some("{".into())).await));
    }
    let navigations = [
        format!("/sso/{APP}?return_to=javascript:alert(1)"),
        format!("/sso/{APP}?return_to=//evil.example.com/"),
        format!("/sso/{APP}?return_to={ZENDESK}.evil.example.com/"),
        format!("/sso/{APP}?return_to={ZENDESK}@evil.example.com/"),
        format!("/sso/{APP}?return_to=%00%ff"),
        format!("/sso/{APP}?return_to={long}"),
        format!("/sso/{long}"),
        "/sso/%2e%2e%2f%2e%2e%2fetc%2fpasswd".into(),
        format!("/sso/{APP}/logout?kind=error&message={long}"),
        "/logout/done?state=%00".into(),
        format!("/logout/done?state={long}"),
        "/corporate/go?flow=%ff%fe".into(),
        format!("/corporate/go?flow={long}"),
        "/corporate/callback?state=x&code=y".into(),
        format!("/corporate/callback?state={long}&code={long}"),
        "/corporate/callback?error=access_denied&state=".into(),
        "/.well-known/jwks.json?x=%ff".into(),
        "/.well-known/openid-configuration?x=%ff".into(),
        "/oauth2/authorize?client_id=%ff%fe".into(),
        format!("/oauth2/authorize?client_id={APP}&client_id={APP}"),
        format!("/oauth2/authorize?client_id={APP}&redirect_uri={long}&response_type=code&scope=openid"),
        format!("/oauth2/authorize?client_id={long}&prompt=none&redirect_uri=https://evil.example/"),
        "/oauth2/userinfo".into(),
        "/nothing/here".into(),
    ];
    for path in &navigations {
        let cookies = [("cookie", "__Host-bridge_session=%00%ff; __Host-bridge_device=; __Host-bridge_corporate=\"x; __Host-bridge_session=second")];
        replies.push((format!("GET {}", &path[..path.len().min(80)]), app.send("GET", path, &cookies, None).await));
    }
    // The OpenID provider's token and revocation endpoints and UserInfo: hostile forms and
    // credentials.
    let b64 = |raw: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw);
    let forms = [
        "".to_owned(),
        "%ff%fe".into(),
        format!("code={long}"),
        "grant_type=authorization_code&code=a.b.c&redirect_uri=x".into(),
        format!("grant_type=authorization_code&code={ctx}&redirect_uri=x&client_id={APP}"),
        "a=1&a=2".into(),
        format!("grant_type=refresh_token&refresh_token={long}"),
        format!("grant_type=refresh_token&refresh_token={ctx}&scope=%00%20openid"),
        format!("token={long}&token_type_hint=refresh_token"),
        format!("token={ctx}&client_id={APP}"),
    ];
    let credentials = [
        "".to_owned(),
        "Basic %%%".into(),
        format!("Basic {}", b64(b"no-colon")),
        format!("Basic {}", b64(&[0xff, b':', 0xfe])),
        format!("Basic {}", b64(format!("{APP}:{long}").as_bytes())),
        format!("Bearer {long}"),
    ];
    for form in &forms {
        for authorization in &credentials {
            for (content_type, path) in
                ["application/x-www-form-urlencoded", "application/json"].into_iter().flat_map(|c| [(c, "/oauth2/token"), (c, "/oauth2/revoke")])
            {
                let mut headers = vec![("content-type", content_type)];
                headers.extend(Some(("authorization", authorization.as_str())).filter(|(_, v)| !v.is_empty()));
                let what = format!("POST {path} ({content_type}, {} bytes, {})", form.len(), &authorization[..authorization.len().min(20)]);
                replies.push((what, app.send("POST", path, &headers, Some(form.clone())).await));
            }
        }
    }
    for bearer in [format!("Bearer {long}"), "Bearer a.b.c".into(), format!("Bearer {ctx}"), "Basic abc".into(), "Bearer \t".into()] {
        replies.push((
            format!("GET /oauth2/userinfo {}", &bearer[..bearer.len().min(30)]),
            app.send("GET", "/oauth2/userinfo", &[("authorization", &bearer)], None).await,
        ));
    }
    for handoff in ["", "%ff", "a.b", &long, &ctx] {
        let reply = app.post_handoff(&format!("handoff={handoff}"), "").await;
        replies.push((format!("POST /session/handoff {}", &handoff[..handoff.len().min(40)]), reply));
    }
    for (what, reply) in &replies {
        assert!(!reply.status.is_server_error(), "{what}: {} {}", reply.status, reply.body);
        // Only the public keys and a CORS preflight's answer (headers, no body) may succeed.
        let preflight = what.starts_with("OPTIONS") && reply.body.is_empty();
        let public = what.contains("jwks.json") || what.contains("openid-configuration");
        assert!(reply.status != StatusCode::OK || public || preflight, "{what}: {} {}", reply.status, reply.body);
        for secret in ["dynamodb", "cognito", "panicked", "Exception", "arn:aws", "stack backtrace"] {
            assert!(!reply.body.to_lowercase().contains(&secret.to_lowercase()), "{what} says {secret}: {}", reply.body);
        }
        if let Some(location) = reply.header("location") {
            assert!(location.starts_with(FORM) || location.starts_with(ZENDESK), "{what}: a redirect to {location}");
        }
    }
    assert_eq!(app.items_under("SESSION#").await, 0, "no hostile request opened a session");
}

#[tokio::test]
async fn a_session_value_planted_before_sign_in_is_never_adopted() {
    // Fixation: the attacker sets a session cookie of their choosing in the victim's browser
    // (or their own, known to them), then the victim signs in.
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let planted = "__Host-bridge_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", planted)], None).await;
    let step = login(&app, &form_ctx(&sso), PASSWORD).await;
    let handoff = step.json()["handoff"].as_str().unwrap().to_owned();
    let page = app.post_handoff(&format!("handoff={handoff}"), &format!("{planted}; {}", app.browser_cookie())).await;
    let issued = session_cookie(&page);
    assert_ne!(issued, planted, "a fresh value at every sign-in");
    let value = issued.strip_prefix("__Host-bridge_session=").unwrap_or_default();
    assert!(shared::signin::session::parse_cookie(Some(value)).is_some(), "a user key and 256 random bits: {issued}");
    form_ctx(&app.send("GET", &format!("/sso/{APP}"), &[("cookie", planted)], None).await);
}

#[tokio::test]
async fn refusals_do_not_tell_who_has_an_account() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let wrong = app.post("/login", json!({"ctx": ctx, "email": "hanako@example.com", "password": "Wrong-Passw0rd!"})).await;
    let nobody = app.post("/login", json!({"ctx": ctx, "email": "nobody@example.com", "password": "Wrong-Passw0rd!"})).await;
    assert_eq!((wrong.status, &wrong.body), (nobody.status, &nobody.body), "a wrong password and an unknown account read the same");
    let known = app.post("/password/forgot", json!({"ctx": ctx, "email": "hanako@example.com"})).await;
    let unknown = app.post("/password/forgot", json!({"ctx": ctx, "email": "nobody@example.com"})).await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "a reset code is asked for either way");
    let reset = |email: &'static str| app.post("/password/reset", json!({"ctx": ctx, "email": email, "code": "000000", "new_password": "N3w-Passw0rd!x"}));
    let (known, unknown) = (reset("hanako@example.com").await, reset("nobody@example.com").await);
    assert_eq!((known.status, known.json()["error"].clone()), (unknown.status, unknown.json()["error"].clone()), "a wrong code reads the same for both");
    // A weak new password reads the same for both (checked before Cognito looks at the account).
    let weak = |email: &'static str| app.post("/password/reset", json!({"ctx": ctx, "email": email, "code": "123456", "new_password": "a"}));
    let (known, unknown) = (weak("hanako@example.com").await, weak("nobody@example.com").await);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body), "a weak password reads the same for both");
    assert_eq!(known.json()["error"], "password_policy");
    // Reset codes: 4 tries per code sent, then `too_many_attempts` for both alike, the right code
    // included (no guessing past it; Cognito's own lock would tell the two apart).
    for _ in 1..shared::signin::password_reset::RESET_CODE_TRIES {
        let (known, unknown) = (reset("hanako@example.com").await, reset("nobody@example.com").await);
        assert_eq!((known.status, unknown.status), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    }
    let code = app.last_email("hanako@example.com")["code"].as_str().unwrap_or_default().to_owned();
    let spent = app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": "N3w-Passw0rd!x"})).await;
    let (unknown, nobody) = (reset("nobody@example.com").await, "nobody");
    assert_eq!((spent.status, &spent.body), (unknown.status, &unknown.body), "{nobody}: the same refusal");
    assert_eq!(spent.json()["error"], "too_many_attempts");
    // A new code has tries of its own: the person is not locked out until the hour ends.
    assert_eq!(app.post("/password/forgot", json!({"ctx": ctx, "email": "hanako@example.com"})).await.status, StatusCode::OK);
    let code = app.last_email("hanako@example.com")["code"].as_str().unwrap_or_default().to_owned();
    let reset_now = app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": "N3w-Passw0rd!x"})).await;
    assert_eq!(reset_now.status, StatusCode::OK, "{}", reset_now.body);
    // Asking for codes: 5 an hour per address (each sends an email), then 429 for both alike.
    for _ in 1..shared::signin::sign_up::CODES_PER_EMAIL {
        app.post("/password/forgot", json!({"ctx": ctx, "email": "nobody@example.com"})).await;
    }
    let over = app.post("/password/forgot", json!({"ctx": ctx, "email": "nobody@example.com"})).await;
    assert_eq!((over.status, over.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
}

#[tokio::test]
async fn hostile_scim_requests_get_scim_errors_never_a_server_error() {
    use crate::scim_harness::{SCIM_JSON, spawn_scim};
    let t = spawn_scim().await;
    let id = t.create_user("mika@example.com", json!({})).await;
    let (_, other_token) = t.other_org().await;
    let auth = format!("Bearer {}", t.token);
    let long = "a".repeat(10_000);
    let mut bodies = malformed_json();
    bodies.extend([
        json!({"userName": long}).to_string(),
        json!({"userName": "a@example.com", "emails": "not a list"}).to_string(),
        json!({"userName": "a@example.com", "name": [1, 2]}).to_string(),
        json!({"userName": {"$ne": null}}).to_string(),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": long, "value": 1}]}).to_string(),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "emails[value eq \"a\" or (value eq \"b\""}]}).to_string(),
        json!({"members": [{"value": "../../etc"}], "displayName": "g"}).to_string(),
        json!({"members": [{"value": "m".repeat(1030)}], "displayName": "g2"}).to_string(),
        json!({"userName": "b@example.com", "emails": [{"value": format!("{}@example.com", "x".repeat(2100))}]}).to_string(),
        json!({"userName": "c@example.com", "displayName": "d".repeat(500_000)}).to_string(),
        json!({"userName": "😀".repeat(700)}).to_string(),
        json!({"userName": "😀".repeat(256)}).to_string(),
        json!({"userName": "d@example.com", "externalId": "😀".repeat(256)}).to_string(),
    ]);
    let mut replies = Vec::new();
    for (method, path) in [
        ("POST", "/Users".to_owned()),
        ("PUT", format!("/Users/{id}")),
        ("PATCH", format!("/Users/{id}")),
        ("POST", "/Groups".into()),
        ("POST", "/Users/.search".into()),
    ] {
        for body in &bodies {
            let reply = t.send_with(&t.scim, method, &path, &[("authorization", &auth), ("content-type", SCIM_JSON)], Some(body.clone())).await;
            replies.push((format!("{method} {path} ({} bytes)", body.len()), reply));
        }
    }
    for path in [
        format!("/Users?filter={long}"),
        "/Users?filter=userName%20eq%20%22a%22)".into(),
        "/Users?startIndex=-1&count=99999999999999999999".into(),
        "/Users?sortBy=%00&attributes=..,,".into(),
        format!("/Users/{long}"),
        "/Users/%2e%2e%2fGroups".into(),
        "/Schemas/urn:evil".into(),
    ] {
        let reply = t.send_with(&t.scim, "GET", &path, &[("authorization", &auth)], None).await;
        replies.push((format!("GET {}", &path[..path.len().min(60)]), reply));
    }
    // Another organisation's token: the user is not there for it, whatever it asks.
    for (method, body) in [
        ("GET", None),
        (
            "PATCH",
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]})),
        ),
        ("DELETE", None),
    ] {
        let reply = t.call_as(&other_token, method, &format!("/Users/{id}"), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} across organisations: {}", reply.body);
    }
    for (what, reply) in &replies {
        assert!(reply.status.is_client_error(), "{what}: {} {}", reply.status, reply.body);
        let (status, _) = crate::scim_harness::scim_error(reply);
        assert_eq!(status, reply.status.as_str(), "{what}");
        for secret in ["dynamodb", "cognito", "panicked", "exception", "arn:aws"] {
            assert!(!reply.body.to_lowercase().contains(secret), "{what} says {secret}: {}", reply.body);
        }
    }
    // A group named as its own member (one transaction would write its item twice).
    let group = t.call("POST", "/Groups", Some(json!({"displayName": "Self"}))).await.json()["id"].as_str().unwrap().to_owned();
    let itself = json!([{"value": group, "type": "Group"}]);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": itself}]});
    for (method, body) in [("PATCH", patch), ("PUT", json!({"displayName": "Self", "members": itself}))] {
        let reply = t.call(method, &format!("/Groups/{group}"), Some(body)).await;
        assert_eq!(crate::scim_harness::scim_error(&reply), ("400".to_owned(), Some("invalidValue".to_owned())), "{method}: {}", reply.body);
    }
    let user = t.call("GET", &format!("/Users/{id}"), None).await.json();
    assert_eq!((user["userName"].as_str(), user["active"].as_bool()), (Some("mika@example.com"), Some(true)), "nothing hostile changed the user");
}
