//! The account page's API against moto: `GET /account` opens it for a live session only; its
//! grant reads the person and their sessions and ends them; passkeys need a fresh sign-in step,
//! whose grant adds one (a software authenticator answering WebAuthn, verified by the local
//! Cognito) that then signs in, and removes it, ending the other sessions. Every grant is its
//! session's and its purpose's only.

use crate::harness::*;
use crate::passwordless::SoftAuthenticator;
use http::StatusCode;
use serde_json::json;

const ORIGIN: &str = "http://localhost:8081";

/// A signed-in browser: its session cookie.
async fn signed_in(app: &TestApp, email: &str) -> String {
    session_cookie(&app.handoff(&app.login(email, PASSWORD).await).await)
}

/// `GET /account` with `cookie`: the grant in the page's fragment.
async fn grant(app: &TestApp, cookie: &str) -> String {
    let reply = app.send("GET", "/account", &[("cookie", cookie)], None).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let location = reply.header("location").unwrap();
    assert!(location.starts_with(&format!("{FORM}/account.html#grant=")), "{location}");
    location.split_once("#grant=").unwrap().1.to_owned()
}

#[tokio::test]
async fn the_account_page_shows_the_person_and_ends_their_other_sessions() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    app.user("haruka@example.com", |_| {}).await;
    let without = app.send("GET", "/account", &[], None).await;
    assert_eq!(without.location_param("notice").as_deref(), Some("account_sign_in"), "no session: to the form");

    let first = signed_in(&app, "hanako@example.com").await;
    let second = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &second).await;
    let view = app.post("/account/view", json!({"grant": grant})).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let view = view.json();
    assert_eq!((view["name"].as_str(), view["email"].as_str()), (Some("Hanako Yamada"), Some("hanako@example.com")));
    let sessions = view["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["method"], "password");

    // Someone else's grant cannot end this person's session, nor can a made-up id.
    let other = signed_in(&app, "haruka@example.com").await;
    let theirs = self::grant(&app, &other).await;
    let id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    for (grant, id) in [(&theirs, id.as_str()), (&grant, "not-a-session")] {
        let refused = app.post("/account/sessions/end", json!({"grant": grant, "id": id})).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    }
    let ended = app.post("/account/sessions/end-others", json!({"grant": grant})).await;
    assert_eq!(ended.json()["ended"], 1, "{}", ended.body);
    let after = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &first)], None).await;
    assert!(after.location_param("ctx").is_some(), "the first browser's session is over");
    assert_eq!(app.post("/account/view", json!({"grant": grant})).await.json()["sessions"].as_array().unwrap().len(), 1);

    // Signed out: the grant is over; a grant altered, or of another purpose, opens nothing.
    app.send("POST", "/logout", &[("cookie", &second)], None).await;
    for bad in [grant.clone(), format!("{grant}x"), String::from("a.b")] {
        let refused = app.post("/account/view", json!({"grant": bad})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")), "{}", refused.body);
    }
    // From another origin: refused before anything.
    let elsewhere = app
        .send("POST", "/account/view", &[("content-type", "application/json"), ("origin", "https://evil.example")], Some(json!({"grant": theirs}).to_string()))
        .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_passkey_added_after_a_fresh_sign_in_step_signs_in_and_removing_it_ends_other_sessions() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let other_browser = signed_in(&app, "hanako@example.com").await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;

    // Without the fresh step, no passkey call; a wrong password is refused; the grant itself is
    // not a fresh step.
    assert_eq!(app.post("/account/passkeys", json!({"elevated": grant})).await.json()["error"], "not_signed_in");
    let wrong = app.post("/account/reauth", json!({"grant": grant, "password": "Wrong-Passw0rd!"})).await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    assert!(app.event_types().await.contains(&"user.sign_in_failed".to_owned()), "a wrong password there is recorded");
    // The password alone is not enough (it would let its holder add a passkey, a second
    // factor): a code to the verified email too, for someone without MFA.
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    assert_eq!((step["status"].as_str(), step["challenge"].as_str()), (Some("challenge"), Some("verify_email")), "{step}");
    assert_eq!(app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": "000000"})).await.json()["error"], "code_mismatch");
    let code = app.emailed_code("hanako@example.com");
    let step = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": code})).await.json();
    assert_eq!(step["status"], "elevated", "{step}");
    let elevated = step["elevated"].as_str().unwrap().to_owned();
    assert_eq!(app.post("/account/view", json!({"grant": elevated})).await.json()["error"], "not_signed_in", "a fresh step is not a grant");
    assert_eq!(app.post("/account/passkeys", json!({"elevated": elevated})).await.json()["passkeys"], json!([]));

    // Add one: the creation options, the authenticator's answer, registered.
    let started = app.post("/account/passkeys/start", json!({"elevated": elevated})).await.json();
    assert_eq!(started["public_key"]["rp"]["id"], "localhost", "{started}");
    let mut passkey = SoftAuthenticator::new();
    let added = app.post("/account/passkeys/add", json!({"elevated": elevated, "credential": passkey.create(&started["public_key"], ORIGIN)})).await;
    assert_eq!(added.json()["status"], "added", "{}", added.body);
    let listed = app.post("/account/passkeys", json!({"elevated": elevated})).await.json();
    assert_eq!(listed["passkeys"][0]["id"], json!(passkey.id()));
    assert!(app.event_types().await.contains(&"user.passkey_added".to_owned()));
    // A second answer to the same options is refused (they are spent); answers that are not
    // WebAuthn's shape, or too large, are refused before Cognito.
    let again =
        app.post("/account/passkeys/add", json!({"elevated": elevated, "credential": SoftAuthenticator::new().create(&started["public_key"], ORIGIN)})).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.body);
    for hostile in [
        json!("x"),
        json!({}),
        json!({"id": "a", "type": "password", "response": {}}),
        json!({"id": "a".repeat(2000), "type": "public-key", "response": {}}),
        json!({"id": "a", "type": "public-key", "response": {"clientDataJSON": "A".repeat(9000)}}),
    ] {
        let refused = app.post("/account/passkeys/add", json!({"elevated": elevated, "credential": hostile})).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    }
    let refused = app.post("/account/passkeys/remove", json!({"elevated": elevated, "id": "x".repeat(2000)})).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // It signs in, as a second factor.
    let ctx = app.ctx().await;
    let step = app.post("/login/passkey", json!({"ctx": ctx, "email": "hanako@example.com"})).await.json();
    let signed_in = app.post("/login/challenge", json!({"flow": step["flow"], "credential": passkey.get(&step["public_key"], ORIGIN)})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
    app.handoff(&signed_in).await;

    // Removed: listed no more, the other sessions end, this one stays.
    let removed = app.post("/account/passkeys/remove", json!({"elevated": elevated, "id": passkey.id()})).await;
    assert_eq!(removed.json()["status"], "removed", "{}", removed.body);
    assert!(removed.json()["ended_sessions"].as_u64().unwrap() >= 1);
    assert!(app.event_types().await.contains(&"user.passkey_removed".to_owned()));
    let gone = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &other_browser)], None).await;
    assert!(gone.location_param("ctx").is_some(), "another browser's session ended");
    assert_eq!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.status, StatusCode::OK, "this one stays");
    let step = app.post("/login/passkey", json!({"ctx": ctx, "email": "hanako@example.com"})).await.json();
    let refused = app.post("/login/challenge", json!({"flow": step["flow"], "credential": passkey.get(&step["public_key"], ORIGIN)})).await;
    assert_eq!(refused.json()["error"], "invalid_credentials");
    // The fresh step ends with its session.
    app.send("POST", "/logout", &[("cookie", &cookie)], None).await;
    assert_eq!(app.post("/account/passkeys", json!({"elevated": elevated})).await.json()["error"], "not_signed_in");
}
