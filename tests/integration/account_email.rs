//! The account page's email change against moto (whose Cognito the local launcher extends with
//! `AttributesRequireVerificationBeforeUpdate`): a new address is the person's only once its
//! mailed code is entered, with the change this session started; then every session ends. The
//! attacks: the page's grant alone, a company's address or account, another account's address,
//! a change carried to another session or altered, a domain claimed between the two steps, a
//! fresh step (whose email proof must go to the current address and leave the change pending),
//! a mistyped address, and codes pumped to someone else's address.

use crate::account::{elevate, grant, signed_in};
use crate::harness::*;
use http::StatusCode;
use serde_json::json;

fn orgs(app: &TestApp) -> bridge_admin::orgs::Orgs {
    bridge_admin::orgs::Orgs::new(&app.sdk, &app.stack.table, "bridge-test")
}

/// A new email, after the fresh step: Cognito keeps it pending and mails a code to it; until
/// the code is entered the current address stays and signs in, the new one does not. Then the
/// new one is the person's, every session ends, and the event names both. Refused: not an
/// address, the same one, one on a company's domain, one another account has; a wrong code
/// changes nothing.
#[tokio::test]
async fn a_new_email_is_the_persons_only_once_its_code_is_entered_then_every_session_ends() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    app.user("taken@example.com", |_| {}).await;
    orgs(&app).create("Example Corp", &["corp.example".into()], Default::default()).await.unwrap();
    let other_browser = signed_in(&app, "hanako@example.com").await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;
    let refused = app.post("/account/email/start", json!({"elevated": grant, "email": "hanako.new@example.com"})).await;
    assert_eq!(refused.json()["error"], "not_signed_in", "the page's grant alone changes nothing");
    let elevated = elevate(&app, &grant, "hanako@example.com", PASSWORD).await;
    for (email, status, error) in [
        ("hanako", StatusCode::BAD_REQUEST, "invalid_email"),
        ("Hanako@Example.com", StatusCode::BAD_REQUEST, "email_unchanged"),
        ("hanako@Corp.Example", StatusCode::CONFLICT, "email_domain_managed"),
        ("Taken@example.com", StatusCode::CONFLICT, "email_in_use"),
    ] {
        let refused = app.post("/account/email/start", json!({"elevated": elevated, "email": email})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (status, Some(error)), "{email}: {}", refused.body);
    }
    let started = app.post("/account/email/start", json!({"elevated": elevated, "email": "Hanako.New@example.com"})).await.json();
    assert_eq!(started["status"], "code_sent", "{started}");
    assert!(started["destination"].as_str().is_some_and(|d| d.contains('*') && !d.contains("hanako.new")), "masked: {started}");
    assert!(!started["change"].as_str().unwrap_or_default().contains("hanako"), "the change travels encrypted");
    assert_eq!(app.last_email("hanako.new@example.com")["kind"], "CustomMessage_UpdateUserAttribute");
    // Pending: the current address signs in, the new one does not.
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in");
    assert_eq!(app.login("hanako.new@example.com", PASSWORD).await.json()["error"], "invalid_credentials");
    let code = app.emailed_code("hanako.new@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = |code: &str| json!({"elevated": elevated, "change": started["change"], "code": code});
    let refused = app.post("/account/email/verify", body(wrong)).await;
    assert_eq!(refused.json()["error"], "code_mismatch", "{}", refused.body);
    assert_eq!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.status, StatusCode::OK, "nothing ended");

    let changed = app.post("/account/email/verify", body(&code)).await.json();
    assert_eq!((changed["status"].as_str(), changed["email"].as_str()), (Some("changed"), Some("hanako.new@example.com")), "{changed}");
    for browser in [&other_browser, &cookie] {
        assert!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", browser)], None).await.location_param("ctx").is_some(), "every session ended");
    }
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["error"], "not_signed_in");
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["error"], "invalid_credentials", "the old address signs in no more");
    wait_out_credentials_hold().await;
    let signed_in = app.login("hanako.new@example.com", PASSWORD).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
    let events = app.events().await;
    let event = events.iter().find(|e| e.kind == shared::events::EventType::UserProfileUpdated).expect("user.profile_updated");
    assert_eq!((event.user.email.as_deref(), &event.detail["changed"]), (Some("hanako@example.com"), &json!(["email"])));
    assert_eq!(event.detail["email"], json!({"before": "hanako@example.com", "after": "hanako.new@example.com"}));
    // The code again, with its change: Cognito has spent it.
    assert_eq!(app.post("/account/email/verify", body(&code)).await.json()["error"], "not_signed_in", "this session has ended");
}

/// The fresh step's email proof is a sign-in by a code to the current address: with a change
/// pending it neither mails the new address nor completes the change. A mistyped address locks
/// nobody out: the proof still reaches the person, and a change to the right address replaces
/// it (the mistyped one's code opens nothing).
#[tokio::test]
async fn the_email_proof_leaves_a_pending_change_alone_and_a_mistyped_address_locks_nobody_out() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let grant = grant(&app, &signed_in(&app, "hanako@example.com").await).await;
    let elevated = elevate(&app, &grant, "hanako@example.com", PASSWORD).await;
    let typo = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako@exmaple.com"})).await.json();
    assert_eq!(typo["status"], "code_sent", "{typo}");
    let typo_code = app.emailed_code("hanako@exmaple.com");

    // A new fresh step: its code goes to the current address, and answering it changes nothing.
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    assert_eq!(step["challenge"], "verify_email", "{step}");
    assert_eq!(app.last_email("hanako@example.com")["kind"], "CustomMessage_Authentication");
    assert_eq!(app.emailed_code("hanako@exmaple.com"), typo_code, "nothing more to the pending address");
    let done = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": app.emailed_code("hanako@example.com")})).await.json();
    assert_eq!(done["status"], "elevated", "{done}");
    let elevated = done["elevated"].as_str().unwrap();
    assert_eq!(app.login("hanako@exmaple.com", PASSWORD).await.json()["error"], "invalid_credentials", "still pending");
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in");
    assert!(app.events().await.iter().all(|e| e.kind != shared::events::EventType::UserProfileUpdated));

    // The right address replaces the mistyped one: the mistyped one's code opens nothing.
    let right = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako.new@example.com"})).await.json();
    let refused = app.post("/account/email/verify", json!({"elevated": elevated, "change": right["change"], "code": typo_code})).await;
    assert_eq!(refused.json()["error"], "code_mismatch", "{}", refused.body);
    let code = app.emailed_code("hanako.new@example.com");
    let changed = app.post("/account/email/verify", json!({"elevated": elevated, "change": right["change"], "code": code})).await.json();
    assert_eq!(changed["email"], "hanako.new@example.com", "{changed}");
    assert_eq!(app.login("hanako@exmaple.com", PASSWORD).await.json()["error"], "invalid_credentials");
}

/// A change is its session's: carried to another session of the same person, or altered, it
/// opens nothing. Its address is checked again at the code: a domain an organisation claimed
/// meanwhile is refused, and nothing changes.
#[tokio::test]
async fn a_change_opens_only_in_its_session_and_a_domain_claimed_meanwhile_is_refused() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let grant_a = grant(&app, &signed_in(&app, "hanako@example.com").await).await;
    let elevated_a = elevate(&app, &grant_a, "hanako@example.com", PASSWORD).await;
    let grant_b = grant(&app, &signed_in(&app, "hanako@example.com").await).await;
    let elevated_b = elevate(&app, &grant_b, "hanako@example.com", PASSWORD).await;
    let started = app.post("/account/email/start", json!({"elevated": elevated_a, "email": "hanako@later.example"})).await.json();
    let code = app.emailed_code("hanako@later.example");
    let change = started["change"].as_str().unwrap();
    let mut altered = change.to_owned();
    altered.replace_range(10..11, if &change[10..11] == "A" { "B" } else { "A" });
    for (elevated, change) in [(&elevated_b, change), (&elevated_a, altered.as_str()), (&elevated_a, "")] {
        let refused = app.post("/account/email/verify", json!({"elevated": elevated, "change": change, "code": code})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")), "{}", refused.body);
    }
    orgs(&app).create("Later Corp", &["later.example".into()], Default::default()).await.unwrap();
    let refused = app.post("/account/email/verify", json!({"elevated": elevated_a, "change": change, "code": code})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::CONFLICT, Some("email_domain_managed")), "{}", refused.body);
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in", "nothing changed");
    assert_eq!(app.login("hanako@later.example", PASSWORD).await.json()["error"], "invalid_credentials");
}

/// Codes to the new address count as codes anyone may ask for: a stranger who used them up
/// (typing the address into the form) stops a change to it, and whoever holds an account cannot
/// pump codes to someone else's address past that. Each change counts against the person's own
/// address too.
#[tokio::test]
async fn codes_to_a_new_address_count_against_it() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let elevated = elevate(&app, &grant(&app, &signed_in(&app, "hanako@example.com").await).await, "hanako@example.com", PASSWORD).await;
    for _ in 0..shared::signin::sign_up::CODES_PER_EMAIL {
        let ctx = app.ctx().await;
        assert_eq!(app.post("/login/code", json!({"ctx": ctx, "email": "victim@example.org"})).await.status, StatusCode::OK);
    }
    let refused = app.post("/account/email/start", json!({"elevated": elevated, "email": "victim@example.org"})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    // The person's own count: the fresh step's code was one; each change is another.
    let mut answers = Vec::new();
    for n in 0..shared::signin::sign_up::CODES_PER_EMAIL {
        let reply = app.post("/account/email/start", json!({"elevated": elevated, "email": format!("hanako.{n}@example.com")})).await;
        answers.push(reply.status);
    }
    let sent = answers.iter().filter(|s| **s == StatusCode::OK).count() as u64;
    assert_eq!(sent, shared::signin::sign_up::CODES_PER_EMAIL - 1, "{answers:?}");
}

/// The new address's code is tried at most twice per change: the right code after two wrong
/// ones is refused and nothing changes; a new change sends a new code with tries of its own.
/// A change's seal that a newer change replaced commits the newer address (Cognito keeps only
/// the latest), and the page and the event say so.
#[tokio::test]
async fn a_changes_code_is_tried_twice_and_the_latest_change_is_what_is_recorded() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let elevated = elevate(&app, &grant(&app, &signed_in(&app, "hanako@example.com").await).await, "hanako@example.com", PASSWORD).await;
    let first = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako.a@example.com"})).await.json();
    let code = app.emailed_code("hanako.a@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..shared::signin::password::EMAIL_CODE_TRIES {
        let refused = app.post("/account/email/verify", json!({"elevated": elevated, "change": first["change"], "code": wrong})).await;
        assert_eq!(refused.json()["error"], "code_mismatch", "{}", refused.body);
    }
    let spent = app.post("/account/email/verify", json!({"elevated": elevated, "change": first["change"], "code": code})).await;
    assert_eq!((spent.status, spent.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    assert_eq!(app.login("hanako.a@example.com", PASSWORD).await.json()["error"], "invalid_credentials", "nothing changed");

    let second = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako.b@example.com"})).await.json();
    assert_eq!(second["status"], "code_sent", "{second}");
    let third = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako.c@example.com"})).await.json();
    assert_eq!(third["status"], "code_sent", "{third}");
    // The second change's seal with the third's code: Cognito commits the third address.
    let code = app.emailed_code("hanako.c@example.com");
    let changed = app.post("/account/email/verify", json!({"elevated": elevated, "change": second["change"], "code": code})).await.json();
    assert_eq!(changed["email"], "hanako.c@example.com", "{changed}");
    let events = app.events().await;
    let event = events.iter().find(|e| e.kind == shared::events::EventType::UserProfileUpdated).expect("user.profile_updated");
    assert_eq!(event.detail["email"]["after"], "hanako.c@example.com");
}

/// The person's risk profile follows them to the new address: after the change the browser they
/// used signs in with it, and a new browser is refused by an app that denies risky sign-ins
/// (without the profile, the new address's first sign-in would have been its baseline).
#[tokio::test]
async fn the_risk_profile_follows_the_new_address() {
    let app = crate::risk::app_with(shared::risk::RiskPolicy::Deny).await;
    let (ctx, device) = crate::risk::enter(&app, None).await;
    let step = crate::risk::login(&app, &ctx, PASSWORD).await;
    let cookie = session_cookie(&app.handoff(&step).await);
    let elevated = elevate(&app, &grant(&app, &cookie).await, "hanako@example.com", PASSWORD).await;
    let started = app.post("/account/email/start", json!({"elevated": elevated, "email": "hanako.new@example.com"})).await.json();
    let code = app.emailed_code("hanako.new@example.com");
    let changed = app.post("/account/email/verify", json!({"elevated": elevated, "change": started["change"], "code": code})).await.json();
    assert_eq!(changed["status"], "changed", "{changed}");
    wait_out_credentials_hold().await;
    let sign_in = |ctx: String| app.post("/login", json!({"ctx": ctx, "email": "hanako.new@example.com", "password": PASSWORD}));
    // A new browser first (without the profile it would be the new address's baseline).
    let (ctx, _) = crate::risk::enter(&app, None).await;
    let refused = sign_in(ctx).await;
    assert_eq!(refused.json()["error"], "sign_in_denied", "a new browser is a new device for the new address too: {}", refused.body);
    let (ctx, _) = crate::risk::enter(&app, Some(&device)).await;
    let known = sign_in(ctx).await;
    assert_eq!(known.status, StatusCode::OK, "the browser the person used: {}", known.body);
    // Moved: nothing is kept for the old address.
    let old = shared::adapters::dynamo::activity::risk_key("hanako@example.com");
    let item = aws_sdk_dynamodb::Client::new(&app.sdk).get_item().table_name(&app.stack.table).set_key(Some(old)).send().await.unwrap();
    assert!(item.item.is_none(), "the old address keeps no profile");
}
