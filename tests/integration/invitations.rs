//! Inviting a person from the console against moto (whose Cognito the local launcher gives
//! Cognito's invitations: a temporary password made and mailed, `RESEND`): the invited person
//! signs in with the mailed password and chooses their own; an invitation not taken up is sent
//! again, the old password then opening nothing. Refused: an operator, a malformed body, an
//! organisation's domain, an address with an account, a second invitation to one taken up.

use crate::admin_api::Console;
use crate::harness::*;
use http::StatusCode;
use serde_json::{Value, json};

async fn invite(console: &Console, token: &str, body: Value) -> Reply {
    console.call(token, "POST", "/admin/v1/people", &[], Some(body)).await
}

async fn resend(console: &Console, token: &str, who: &str) -> Reply {
    console.call(token, "POST", &format!("/admin/v1/people/{who}/invitation"), &[], None).await
}

#[tokio::test]
async fn an_admin_invites_a_person_who_chooses_a_password_at_the_first_sign_in() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let (boss_t, ops_t) = (console.token(&boss, json!({})), console.token(&ops, json!({})));
    let app = &console.test;
    app.user("taken@example.com", |_| {}).await;
    bridge_admin::orgs::Orgs::new(&app.sdk, &app.stack.table, "bridge-test")
        .create("Example Corp", &["corp.example".into()], Default::default())
        .await
        .unwrap();

    let person = json!({"email": "Invited@Example.com", "name": "招待 花子", "language": "ja"});
    assert_eq!(invite(&console, &ops_t, person.clone()).await.status, StatusCode::FORBIDDEN, "admins only");
    for (body, status) in [
        (json!({"email": "invited"}), StatusCode::BAD_REQUEST),
        (json!({"email": "taro@Corp.Example"}), StatusCode::BAD_REQUEST),
        (json!({"email": "Taken@example.com"}), StatusCode::CONFLICT),
        (json!({"email": "invited@example.com", "language": "fr"}), StatusCode::BAD_REQUEST),
        (json!({"email": "invited@example.com", "name": "a\u{0}b"}), StatusCode::BAD_REQUEST),
        (json!({"email": "invited@example.com", "role": "admin"}), StatusCode::BAD_REQUEST),
    ] {
        let refused = invite(&console, &boss_t, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
    }
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    assert!(idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("taro@corp.example").send().await.is_err(), "nothing made");

    let invited = invite(&console, &boss_t, person.clone()).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let invited = invited.json();
    assert_eq!((&invited["email"], &invited["status"], &invited["role"]), (&json!("invited@example.com"), &json!("FORCE_CHANGE_PASSWORD"), &json!(null)));
    let username = invited["username"].as_str().unwrap().to_owned();
    assert_eq!(invite(&console, &boss_t, person).await.status, StatusCode::CONFLICT, "invited once");
    let mail = app.last_email("invited@example.com");
    assert_eq!(mail["kind"], "CustomMessage_AdminCreateUser");
    assert!(mail["subject"].as_str().is_some_and(|s| s.ends_with("アカウントのご案内")), "in Japanese: {mail}");
    let first = mail["code"].as_str().unwrap().to_owned();

    // Sent again: a new temporary password, and the first opens nothing.
    assert_eq!(resend(&console, &ops_t, &username).await.status, StatusCode::FORBIDDEN);
    let again = resend(&console, &boss_t, &username).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let second = app.emailed_code("invited@example.com");
    assert_ne!(first, second);
    assert_eq!(app.login("invited@example.com", &first).await.json()["error"], "invalid_credentials");

    // The first sign-in asks for a password of their own (the pool's rules), then lands in the app.
    let step = app.login("invited@example.com", &second).await.json();
    assert_eq!(step["challenge"], "new_password", "{step}");
    let chosen = app.post("/login/challenge", json!({"flow": step["flow"], "new_password": "Invited-Passw0rd-2026"})).await;
    assert_eq!(chosen.json()["status"], "signed_in", "{}", chosen.body);
    assert_eq!(app.login("invited@example.com", "Invited-Passw0rd-2026").await.json()["status"], "signed_in");

    // Taken up: nothing to send again; nor to someone who signed up with a password of their own,
    // a company's person (no password of their own either: they sign in through their company)
    // or a disabled invitation.
    assert_eq!(resend(&console, &boss_t, &username).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(resend(&console, &boss_t, "taken@example.com").await.status, StatusCode::BAD_REQUEST);
    app.user("jiro@corp.example", |u| {
        u.org = Some("org-1");
        u.permanent_password = false;
    })
    .await;
    let company = resend(&console, &boss_t, "jiro@corp.example").await;
    assert_eq!(company.status, StatusCode::BAD_REQUEST, "{}", company.body);
    let off = invite(&console, &boss_t, json!({"email": "off@example.com"})).await.json();
    let off = off["username"].as_str().unwrap().to_owned();
    assert_eq!(console.call(&boss_t, "POST", &format!("/admin/v1/people/{off}/disable"), &[], None).await.status, StatusCode::OK);
    assert_eq!(resend(&console, &boss_t, &off).await.status, StatusCode::BAD_REQUEST, "disabled");
    // An address's emails are counted as the form's codes, per clock hour: the sixth resend this
    // hour waits for the hour to turn (429, with how long). Not across an hour's turn.
    let into_hour = shared::common::time::unix_now() % 3600;
    if into_hour > 3580 {
        tokio::time::sleep(std::time::Duration::from_secs(3601 - into_hour)).await;
    }
    let flood = invite(&console, &boss_t, json!({"email": "flood@example.com"})).await.json();
    let flood = flood["username"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        assert_eq!(resend(&console, &boss_t, &flood).await.status, StatusCode::OK);
    }
    let sixth = resend(&console, &boss_t, &flood).await;
    assert_eq!((sixth.status, sixth.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests")), "{}", sixth.body);
    let wait: u64 = sixth.header("retry-after").and_then(|s| s.parse().ok()).unwrap_or_default();
    assert!((1..=3600).contains(&wait), "Retry-After: {wait}");
    let trail = console.call(&boss_t, "GET", &format!("/admin/v1/audit?target=user:{username}"), &[], None).await.json();
    let kinds: Vec<&str> = trail["records"].as_array().unwrap().iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(kinds, ["admin.user.invitation_resent", "admin.user.invited"], "{trail}");
    assert_eq!(trail["records"][1]["after"], json!({"email": "invited@example.com", "language": "ja"}));
    // The event flows read names the person by their `sub`, as Cognito made it.
    let events = app.events().await;
    let event = events.iter().find(|e| e.kind == shared::events::EventType::AdminUserInvited).expect("admin.user.invited");
    assert_eq!((event.user.sub.as_str(), event.user.email.as_deref()), (invited["sub"].as_str().unwrap(), Some("invited@example.com")));
}
