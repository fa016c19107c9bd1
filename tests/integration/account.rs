//! The account page's API against moto: `GET /account` opens it for a live session only; its
//! grant reads the person and their sessions and ends them; every change needs a fresh sign-in
//! step, whose grant adds a passkey (a software authenticator answering WebAuthn, verified by
//! the local Cognito) that then signs in, and removes it, changes the password, the profile and
//! the second factors, and deletes the account, ending the other sessions where the change
//! warrants it (a password change moves this browser's session to a new cookie value too). Every grant is its session's and its purpose's only; a company's people change
//! neither their profile nor delete their account.

use crate::harness::*;
use crate::passwordless::SoftAuthenticator;
use crate::risk::totp;
use http::StatusCode;
use serde_json::json;

const ORIGIN: &str = "http://localhost:8081";

/// A signed-in browser: its session cookie.
pub(crate) async fn signed_in(app: &TestApp, email: &str) -> String {
    session_cookie(&app.handoff(&app.login(email, PASSWORD).await).await)
}

/// The fresh sign-in step of someone without MFA: the password, then the code emailed to them.
pub(crate) async fn elevate(app: &TestApp, grant: &str, email: &str, password: &str) -> String {
    let step = app.post("/account/reauth", json!({"grant": grant, "password": password})).await.json();
    assert_eq!(step["challenge"], "verify_email", "{step}");
    let done = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": app.emailed_code(email)})).await.json();
    assert_eq!(done["status"], "elevated", "{done}");
    done["elevated"].as_str().unwrap().to_owned()
}

/// `GET /account` with `cookie`: the grant in the page's fragment.
pub(crate) async fn grant(app: &TestApp, cookie: &str) -> String {
    let reply = app.send("GET", "/account", &[("cookie", cookie)], None).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let location = reply.header("location").unwrap();
    assert!(location.starts_with(&format!("{FORM}/account.html#grant=")), "{location}");
    location.split_once("#grant=").unwrap().1.to_owned()
}

/// The fresh step's email code counts against the address as every code does (5 an hour): whoever
/// holds the session and the password cannot mail the person code after code.
#[tokio::test]
async fn the_fresh_steps_email_codes_are_limited_per_address() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;
    let mut answers = Vec::new();
    for _ in 0..=shared::signin::sign_up::CODES_PER_EMAIL {
        let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await;
        answers.push((step.status, step.json()["challenge"].as_str().or(step.json()["error"].as_str()).map(str::to_owned)));
    }
    let sent = answers.iter().filter(|(_, a)| a.as_deref() == Some("verify_email")).count() as u64;
    assert_eq!(sent, shared::signin::sign_up::CODES_PER_EMAIL, "{answers:?}");
    assert_eq!(answers.last().unwrap(), &(StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts".to_owned())));
}

/// The fresh step's emailed code is tried at most twice in one step: its flow answered again is
/// refused, the right code too; a new step (a new code) has tries of its own.
#[tokio::test]
async fn the_fresh_steps_code_is_tried_twice() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let grant = grant(&app, &signed_in(&app, "hanako@example.com").await).await;
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    for _ in 0..shared::signin::password::EMAIL_CODE_TRIES {
        let wrong = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": "000000"})).await;
        assert_eq!(wrong.json()["error"], "code_mismatch");
    }
    let spent = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": app.emailed_code("hanako@example.com")})).await;
    assert_eq!((spent.status, spent.json()["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    elevate(&app, &grant, "hanako@example.com", PASSWORD).await;
    // A step answered right opens once: its flow again, with the same code and a try left, is
    // refused by Cognito (the proof's sign-in is spent).
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    let code = app.emailed_code("hanako@example.com");
    let done = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": code})).await.json();
    assert_eq!(done["status"], "elevated", "{done}");
    let again = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": code})).await;
    assert_eq!((again.status, again.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("challenge_expired")), "{}", again.body);
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
    assert_eq!(app.post("/account/settings", json!({"elevated": grant})).await.json()["error"], "not_signed_in");
    let wrong = app.post("/account/reauth", json!({"grant": grant, "password": "Wrong-Passw0rd!"})).await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    assert!(app.event_types().await.contains(&"user.sign_in_failed".to_owned()), "a wrong password there is recorded");
    // The password alone is not enough (it would let its holder add a passkey, a second
    // factor): a code to the verified email too, for someone without MFA.
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    assert_eq!((step["status"].as_str(), step["challenge"].as_str()), (Some("challenge"), Some("verify_email")), "{step}");
    assert_eq!(app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": "000000"})).await.json()["error"], "code_mismatch");
    let code = app.emailed_code("hanako@example.com");
    let flow = step["flow"].as_str().unwrap().to_owned();
    let step = app.post("/account/reauth/answer", json!({"flow": flow, "code": code})).await.json();
    assert_eq!(step["status"], "elevated", "{step}");
    let elevated = step["elevated"].as_str().unwrap().to_owned();
    // The wrong code was counted and recorded, as at sign-in.
    let events = app.events().await;
    assert!(events.iter().any(|e| e.kind == shared::events::EventType::UserSignInFailed && e.detail["reason"] == "code_mismatch"), "a wrong code is recorded");
    // Each token opens only its own door: the code step is no fresh step, nor the other way
    // round; a code step already answered gives nothing again.
    assert_eq!(app.post("/account/settings", json!({"elevated": flow})).await.json()["error"], "not_signed_in");
    assert_eq!(app.post("/account/reauth/answer", json!({"flow": elevated, "code": code})).await.json()["error"], "not_signed_in");
    let again = app.post("/account/reauth/answer", json!({"flow": flow, "code": code})).await.json();
    assert!(again.get("elevated").is_none(), "a spent code step: {again}");
    assert_eq!(app.post("/account/view", json!({"grant": elevated})).await.json()["error"], "not_signed_in", "a fresh step is not a grant");
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["passkeys"], json!([]));

    // Add one: the creation options, the authenticator's answer, registered.
    let started = app.post("/account/passkeys/start", json!({"elevated": elevated})).await.json();
    assert_eq!(started["public_key"]["rp"]["id"], "localhost", "{started}");
    let mut passkey = SoftAuthenticator::new();
    let added = app.post("/account/passkeys/add", json!({"elevated": elevated, "credential": passkey.create(&started["public_key"], ORIGIN)})).await;
    assert_eq!(added.json()["status"], "added", "{}", added.body);
    let listed = app.post("/account/settings", json!({"elevated": elevated})).await.json();
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
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["error"], "not_signed_in");
}

#[tokio::test]
async fn changing_the_password_asks_for_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let other_browser = signed_in(&app, "hanako@example.com").await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;
    let change = |elevated: &str, previous: &str, proposed: &str| {
        app.post("/account/password", json!({"elevated": elevated, "previous": previous, "proposed": proposed}))
    };
    // The page's grant alone changes nothing.
    let refused = change(&grant, PASSWORD, "Brand-New-Passw0rd").await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")));

    let elevated = elevate(&app, &grant, "hanako@example.com", PASSWORD).await;
    for (previous, proposed, status, error) in [
        (PASSWORD, "short", StatusCode::BAD_REQUEST, "password_policy"),
        (PASSWORD, PASSWORD, StatusCode::BAD_REQUEST, "password_policy"),
        ("Not-The-Passw0rd", "Brand-New-Passw0rd", StatusCode::UNAUTHORIZED, "invalid_credentials"),
    ] {
        let refused = change(&elevated, previous, proposed).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (status, Some(error)), "{}", refused.body);
    }
    let failures = app.events().await.into_iter().filter(|e| e.kind == shared::events::EventType::UserSignInFailed).count();
    assert!(failures >= 1, "a wrong current password is recorded as a failed sign-in");
    let hostile = app.post("/account/password", json!({"elevated": elevated, "previous": PASSWORD, "proposed": "x".repeat(5000)})).await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST, "{}", hostile.body);

    app.calls.take();
    let changed_at = shared::common::time::unix_now();
    let changed = change(&elevated, PASSWORD, "Brand-New-Passw0rd").await;
    assert_eq!((changed.json()["status"].as_str(), changed.json()["ended_sessions"].as_u64()), (Some("changed"), Some(1)), "{}", changed.body);
    let calls = app.calls.take();
    assert_eq!(calls.iter().filter(|c| c.ends_with(".ChangePassword")).count(), 1, "{calls:?}");

    // The other browser is signed out. So is this browser's cookie value, which a thief may have
    // copied: this browser takes up its session's new value with the answer's handoff, from the
    // form's origin only, once, and lands on the account page again with a grant of the new one.
    let device = app.browser_cookie();
    for (old, which) in [(&other_browser, "the other browser's session"), (&cookie, "this browser's old cookie value")] {
        let refused = app.send("GET", &format!("/sso/{APP}"), &[("cookie", old)], None).await;
        assert!(refused.location_param("ctx").is_some(), "{which} opens nothing");
    }
    let form = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", changed.json()["handoff"].as_str().unwrap()).finish();
    let elsewhere = app
        .send("POST", "/session/handoff", &[("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")], Some(form.clone()))
        .await;
    assert!(elsewhere.status.is_client_error() && elsewhere.headers.get("set-cookie").is_none(), "{}", elsewhere.body);
    let taken = app.post_handoff(&form, &device).await;
    assert_eq!(taken.status, StatusCode::FOUND, "{}", taken.body);
    let location = taken.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("{FORM}/account.html#grant=")) && location.ends_with("&changed=password"), "{location}");
    let renewed = session_cookie(&taken);
    assert_ne!(renewed, cookie);
    assert_eq!(app.post_handoff(&form, &device).await.status, StatusCode::BAD_REQUEST, "once");
    assert_eq!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &renewed)], None).await.status, StatusCode::OK, "the new value signs in");
    let new_grant = location.split_once("#grant=").unwrap().1.split('&').next().unwrap().to_owned();
    let view = app.post("/account/view", json!({"grant": new_grant})).await.json();
    assert_eq!(view["sessions"].as_array().map(|s| s.iter().map(|s| s["current"].clone()).collect::<Vec<_>>()), Some(vec![json!(true)]), "{view}");
    for old in [&grant, &elevated] {
        assert_eq!(app.post("/account/view", json!({"grant": old})).await.json()["error"], "not_signed_in", "the old session's grants are over");
    }
    assert!(app.console_not_before("hanako@example.com").await >= Some(changed_at), "the console tokens issued before are revoked (`admin_api.rs`)");
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["error"], "invalid_credentials");
    wait_out_credentials_hold().await;
    assert_eq!(app.login("hanako@example.com", "Brand-New-Passw0rd").await.json()["status"], "signed_in");
    let events = app.events().await;
    let event = events.iter().find(|e| e.kind == shared::events::EventType::UserPasswordChanged).expect("user.password_changed");
    assert_eq!(event.user.email.as_deref(), Some("hanako@example.com"));
    let recorded = serde_json::to_string(&events).unwrap();
    assert!(!recorded.contains("Brand-New-Passw0rd") && !recorded.contains(PASSWORD), "no password in any event");
}

/// The handoff of a password change's new session value, carried to another browser (a
/// different device cookie, or none): refused, and the session it would have opened ends, as a
/// sign-in's handoff does (`attacks.rs`): the person signs in again, with the new password.
#[tokio::test]
async fn a_password_changes_new_session_value_opens_only_in_its_own_browser() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let elevated = elevate(&app, &grant(&app, &cookie).await, "hanako@example.com", PASSWORD).await;
    let changed = app.post("/account/password", json!({"elevated": elevated, "previous": PASSWORD, "proposed": "Brand-New-Passw0rd"})).await.json();
    let form = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", changed["handoff"].as_str().unwrap()).finish();
    for other in ["", "__Host-bridge_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let refused = app.post_handoff(&form, other).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{other}: {}", refused.body);
        assert!(refused.body.contains("other_browser") && refused.headers.get("set-cookie").is_none(), "{}", refused.body);
    }
    assert_eq!(app.post_handoff(&form, &app.browser_cookie()).await.status, StatusCode::BAD_REQUEST, "spent: not even its own browser");
    assert!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.location_param("ctx").is_some(), "the old value opens nothing");
    wait_out_credentials_hold().await;
    assert_eq!(app.login("hanako@example.com", "Brand-New-Passw0rd").await.json()["status"], "signed_in");
}

#[tokio::test]
async fn the_profile_and_second_factors_change_after_a_fresh_step() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let other_browser = signed_in(&app, "hanako@example.com").await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;
    let refused = app.post("/account/profile", json!({"elevated": grant, "name": "X", "language": "ja"})).await;
    assert_eq!(refused.json()["error"], "not_signed_in", "the page's grant alone changes nothing");
    let elevated = elevate(&app, &grant, "hanako@example.com", PASSWORD).await;

    let settings = app.post("/account/settings", json!({"elevated": elevated})).await.json();
    assert_eq!((settings["name"].as_str(), &settings["factors"], &settings["managed"]), (Some("Hanako Yamada"), &json!([]), &json!(false)), "{settings}");
    assert_eq!(settings["phone"], json!(null));

    // Name and language: checked, then Cognito's own UpdateUserAttributes.
    for (body, error) in [
        (json!({"elevated": elevated, "name": "", "language": "ja"}), "invalid_name"),
        (json!({"elevated": elevated, "name": "x".repeat(101), "language": "ja"}), "invalid_name"),
        (json!({"elevated": elevated, "name": "a\u{7}b", "language": "ja"}), "invalid_name"),
        (json!({"elevated": elevated, "name": "Hanako", "language": "fr"}), "invalid_language"),
        (json!({"elevated": elevated, "name": "Hanako", "language": "ja", "custom:org_id": "org-1"}), "invalid_request"),
    ] {
        let refused = app.post("/account/profile", body).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{}", refused.body);
    }
    let updated = app.post("/account/profile", json!({"elevated": elevated, "name": " 山田 花子 ", "language": "ja"})).await;
    assert_eq!(updated.json()["status"], "updated", "{}", updated.body);
    let settings = app.post("/account/settings", json!({"elevated": elevated})).await.json();
    assert_eq!((settings["name"].as_str(), settings["language"].as_str()), (Some("山田 花子"), Some("ja")));
    assert!(app.event_types().await.contains(&"user.profile_updated".to_owned()));

    // An authenticator app: its secret, a wrong code refused, the right one turns it on.
    let setup = app.post("/account/authenticator/start", json!({"elevated": elevated})).await.json();
    assert!(setup["uri"].as_str().unwrap().starts_with("otpauth://totp/api.example.com:hanako%40example.com?secret="), "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let wrong = app.post("/account/authenticator/add", json!({"elevated": elevated, "code": "000000"})).await;
    assert_eq!(wrong.json()["error"], "code_mismatch", "{}", wrong.body);
    let added = app.post("/account/authenticator/add", json!({"elevated": elevated, "code": totp(&secret)})).await;
    assert_eq!(added.json()["status"], "added", "{}", added.body);
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["factors"], json!(["software_token_mfa"]));
    assert!(app.event_types().await.contains(&"user.factor_added".to_owned()));
    // From now on the password asks for the app's code.
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["challenge"], "software_token_mfa");
    // No verified phone: no SMS codes.
    let refused = app.post("/account/sms/add", json!({"elevated": elevated})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::CONFLICT, Some("phone_not_verified")));

    // Turned off: the other sessions end, and the password alone signs in again.
    let removed = app.post("/account/factors/remove", json!({"elevated": elevated, "factor": "software_token_mfa"})).await;
    assert_eq!((removed.json()["status"].as_str(), removed.json()["ended_sessions"].as_u64()), (Some("removed"), Some(1)), "{}", removed.body);
    assert!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &other_browser)], None).await.location_param("ctx").is_some());
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["factors"], json!([]));
    wait_out_credentials_hold().await;
    let again = app.login("hanako@example.com", PASSWORD).await.json();
    assert_eq!(again["status"], "signed_in", "{again}");
    assert!(app.event_types().await.contains(&"user.factor_removed".to_owned()));
    let hostile = app.post("/account/factors/remove", json!({"elevated": elevated, "factor": "password"})).await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST);

    // A phone number: checked, sent a code, unverified until the code comes back; then SMS
    // codes can be turned on.
    for bad in ["090-1234-5678", "+81", "+81 90 1234 abcd", &"9".repeat(500)] {
        let refused = app.post("/account/phone/start", json!({"elevated": elevated, "phone": bad})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_phone")), "{bad}");
    }
    // Outside the operator's SMS destinations (the harness allows +81): refused, no code sent.
    for abroad in ["+1 876 555 0100", "+882 1234 5678"] {
        let refused = app.post("/account/phone/start", json!({"elevated": elevated, "phone": abroad})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("phone_country_not_allowed")), "{abroad}");
    }
    let sent = app.post("/account/phone/start", json!({"elevated": elevated, "phone": "+81 90-1111-2222"})).await.json();
    assert_eq!((sent["status"].as_str(), sent["destination"].as_str()), (Some("code_sent"), Some("+********2222")), "{sent}");
    let settings = app.post("/account/settings", json!({"elevated": elevated})).await.json();
    assert_eq!((settings["phone"].as_str(), &settings["phone_verified"]), (Some("+81********22"), &json!(false)), "{settings}");
    assert_eq!(app.post("/account/sms/add", json!({"elevated": elevated})).await.json()["error"], "phone_not_verified");
    let wrong = app.post("/account/phone/verify", json!({"elevated": elevated, "code": "000000"})).await;
    assert_eq!(wrong.json()["error"], "code_mismatch", "{}", wrong.body);
    let texted = app.last_email("+819011112222");
    assert_eq!(texted["medium"], "SMS", "{texted}");
    let verified = app.post("/account/phone/verify", json!({"elevated": elevated, "code": texted["code"]})).await;
    assert_eq!(verified.json()["status"], "verified", "{}", verified.body);
    // A number verified before the operator's list (set here as an administrator would) cannot
    // become the factor: no code would reach it at sign-in.
    let pool = (&app.sdk, app.stack.user_pool_id.as_str());
    let set_phone = |phone: &'static str| async move {
        let idp = aws_sdk_cognitoidentityprovider::Client::new(pool.0);
        let attribute = |name: &str, value: &str| aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name(name).value(value).build().unwrap();
        let update = idp.admin_update_user_attributes().user_pool_id(pool.1).username("hanako@example.com");
        update.user_attributes(attribute("phone_number", phone)).user_attributes(attribute("phone_number_verified", "true")).send().await.unwrap();
    };
    set_phone("+18765550100").await;
    let refused = app.post("/account/sms/add", json!({"elevated": elevated})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("phone_country_not_allowed")), "{}", refused.body);
    set_phone("+819011112222").await;
    assert_eq!(app.post("/account/sms/add", json!({"elevated": elevated})).await.json()["status"], "added");
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["challenge"], "sms_mfa");
    // Another number while SMS codes are the factor: refused (turning them off is a factor
    // removed, with its event and the other sessions ended); after that, the new number stays
    // unverified and no code goes to it at sign-in.
    let refused = app.post("/account/phone/start", json!({"elevated": elevated, "phone": "+819033334444"})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::CONFLICT, Some("sms_on")));
    app.post("/account/factors/remove", json!({"elevated": elevated, "factor": "sms_mfa"})).await;
    app.post("/account/phone/start", json!({"elevated": elevated, "phone": "+819033334444"})).await;
    let settings = app.post("/account/settings", json!({"elevated": elevated})).await.json();
    assert_eq!((&settings["factors"], &settings["phone_verified"]), (&json!([]), &json!(false)), "{settings}");
    wait_out_credentials_hold().await;
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in");
    // Codes count with the address's others: one fresh step cannot text number after number.
    let mut limited = None;
    for i in 0..6 {
        let reply = app.post("/account/phone/start", json!({"elevated": elevated, "phone": format!("+8190555500{i:02}")})).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(i);
            break;
        }
    }
    assert!(limited.is_some(), "a limit on codes sent");
    // Hostile bodies with a real fresh step reach the checks behind it: clear 4xx, never 5xx.
    for body in [
        json!({"elevated": elevated, "phone": "\u{0}+819012345678"}),
        json!({"elevated": elevated, "code": "1".repeat(5000)}),
        json!({"elevated": elevated, "factor": "password"}),
        json!({"elevated": elevated, "name": "x".repeat(10_000), "language": "ja"}),
        json!({"elevated": elevated, "confirm": "x".repeat(10_000)}),
        json!({"elevated": elevated, "previous": "x", "proposed": "y".repeat(10_000)}),
        json!({"elevated": elevated, "id": "x".repeat(10_000)}),
        json!({"elevated": elevated, "credential": {"id": 1}}),
    ] {
        for path in [
            "/account/phone/start",
            "/account/phone/verify",
            "/account/authenticator/add",
            "/account/factors/remove",
            "/account/profile",
            "/account/delete",
            "/account/password",
            "/account/passkeys/remove",
            "/account/passkeys/add",
        ] {
            let reply = app.post(path, body.clone()).await;
            assert!(reply.status.is_client_error(), "{path} {}: {} {}", &body.to_string()[..60.min(body.to_string().len())], reply.status, reply.body);
        }
    }
}

#[tokio::test]
async fn sms_codes_turn_off_and_on_for_a_verified_phone() {
    let app = spawn_app().await;
    app.user("sms@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    let step = app.login("sms@example.com", PASSWORD).await.json();
    let done = app.post("/login/challenge", json!({"flow": step["flow"], "code": "123456"})).await;
    let cookie = session_cookie(&app.handoff(&done).await);
    let grant = grant(&app, &cookie).await;
    // The fresh step of someone with MFA: the password, then their SMS code.
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    assert_eq!(step["challenge"], "sms_mfa", "{step}");
    let done = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": "123456"})).await.json();
    let elevated = done["elevated"].as_str().unwrap().to_owned();
    let settings = app.post("/account/settings", json!({"elevated": elevated})).await.json();
    assert_eq!((&settings["factors"], settings["phone"].as_str()), (&json!(["sms_mfa"]), Some("+81********78")), "{settings}");

    let removed = app.post("/account/factors/remove", json!({"elevated": elevated, "factor": "sms_mfa"})).await;
    assert_eq!(removed.json()["status"], "removed", "{}", removed.body);
    wait_out_credentials_hold().await;
    assert_eq!(app.login("sms@example.com", PASSWORD).await.json()["status"], "signed_in", "no code asked");
    let added = app.post("/account/sms/add", json!({"elevated": elevated})).await;
    assert_eq!(added.json()["status"], "added", "{}", added.body);
    assert_eq!(app.login("sms@example.com", PASSWORD).await.json()["challenge"], "sms_mfa");
}

#[tokio::test]
async fn deleting_the_account_ends_every_session_and_a_companys_people_cannot() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let other_browser = signed_in(&app, "hanako@example.com").await;
    let cookie = signed_in(&app, "hanako@example.com").await;
    let grant = grant(&app, &cookie).await;
    let refused = app.post("/account/delete", json!({"elevated": grant, "confirm": "hanako@example.com"})).await;
    assert_eq!(refused.json()["error"], "not_signed_in", "the page's grant alone deletes nothing");
    let elevated = elevate(&app, &grant, "hanako@example.com", PASSWORD).await;
    for confirm in ["", "haruka@example.com", "hanako"] {
        let refused = app.post("/account/delete", json!({"elevated": elevated, "confirm": confirm})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("confirm_mismatch")));
    }
    let deleted = app.post("/account/delete", json!({"elevated": elevated, "confirm": "Hanako@Example.com"})).await;
    assert_eq!(deleted.json()["status"], "deleted", "{}", deleted.body);
    for browser in [&other_browser, &cookie] {
        assert!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", browser)], None).await.location_param("ctx").is_some(), "every session ended");
    }
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["error"], "invalid_credentials", "the account is gone");
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["error"], "not_signed_in");
    let events = app.events().await;
    let event = events.iter().find(|e| e.kind == shared::events::EventType::UserDeleted).expect("user.deleted");
    assert_eq!((event.user.email.as_deref(), event.detail["via"].as_str()), (Some("hanako@example.com"), Some("account")));

    // Someone a company manages (and lets sign in with a password): neither profile changes nor
    // deletion, and nothing ends.
    let orgs = bridge_admin::orgs::Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let policies = shared::directory::org::OrgPolicies { password_sign_in: true, ..Default::default() };
    let org = orgs.create("Example Corp", &["corp.example".into()], policies).await.unwrap();
    app.user("taro@corp.example", |u| u.org = Some(org.id.as_str())).await;
    let cookie = signed_in(&app, "taro@corp.example").await;
    let grant = self::grant(&app, &cookie).await;
    let elevated = elevate(&app, &grant, "taro@corp.example", PASSWORD).await;
    assert_eq!(app.post("/account/settings", json!({"elevated": elevated})).await.json()["managed"], true);
    let refused = app.post("/account/delete", json!({"elevated": elevated, "confirm": "taro@corp.example"})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("managed_by_company")));
    let refused = app.post("/account/profile", json!({"elevated": elevated, "name": "Taro", "language": "en"})).await;
    assert_eq!(refused.json()["error"], "managed_by_company");
    let refused = app.post("/account/email/start", json!({"elevated": elevated, "email": "taro@example.com"})).await;
    assert_eq!(refused.json()["error"], "managed_by_company");
    assert_eq!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.status, StatusCode::OK, "still signed in");
    assert_eq!(app.post("/account/view", json!({"grant": grant})).await.json()["organisation"], "Example Corp", "the linked company account");
}

/// The fresh step is a password sign-in: a company that allows none (here, not any more) gives
/// its people no way to it with a password they may still have, as `POST /login` gives none.
#[tokio::test]
async fn the_fresh_step_by_password_is_refused_where_the_company_allows_no_password() {
    let app = spawn_app().await;
    let orgs = bridge_admin::orgs::Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let policies = shared::directory::org::OrgPolicies { password_sign_in: true, ..Default::default() };
    let org = orgs.create("Example Corp", &["corp.example".into()], policies).await.unwrap();
    app.user("taro@corp.example", |u| u.org = Some(org.id.as_str())).await;
    let cookie = signed_in(&app, "taro@corp.example").await;
    let grant = grant(&app, &cookie).await;

    let mut closed = org.clone();
    closed.policies.password_sign_in = false;
    closed.version += 1;
    shared::directory::ports::OrgStore::update(&*orgs.store, &org, &closed).await.unwrap();
    let app = TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..app };
    // The session's organisation refuses before the password is tried (Cognito would send an
    // MFA code at once): right or wrong, the same answer, and no call to Cognito.
    app.calls.take();
    for password in [PASSWORD, "Wrong-password-1"] {
        let refused = app.post("/account/reauth", json!({"grant": grant, "password": password})).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("password_sign_in_disabled")), "{}", refused.body);
    }
    assert!(!app.calls.take().iter().any(|c| c.contains("InitiateAuth")), "no password tried");

    // Someone whose session began outside any organisation, whose account a company has taken
    // in since: refused once the password checks out (the account's organisation now).
    app.user("jiro@corp.example", |_| {}).await;
    let cookie = signed_in(&app, "jiro@corp.example").await;
    let grant = self::grant(&app, &cookie).await;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let org_id = aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name("custom:org_id").value(org.id.as_str()).build().unwrap();
    idp.admin_update_user_attributes().user_pool_id(&app.stack.user_pool_id).username("jiro@corp.example").user_attributes(org_id).send().await.unwrap();
    let refused = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("password_sign_in_disabled")), "{}", refused.body);
    let wrong = app.post("/account/reauth", json!({"grant": grant, "password": "Wrong-password-1"})).await;
    assert_eq!(wrong.json()["error"], "invalid_credentials", "a wrong password is still one");
}

#[tokio::test]
async fn a_person_with_two_factors_and_no_preferred_one_chooses_at_sign_in_and_at_the_fresh_step() {
    use aws_sdk_cognitoidentityprovider::types::{SmsMfaSettingsType, SoftwareTokenMfaSettingsType};
    let app = spawn_app().await;
    app.user("two@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    let step = app.login("two@example.com", PASSWORD).await.json();
    let done = app.post("/login/challenge", json!({"flow": step["flow"], "code": "123456"})).await;
    let cookie = session_cookie(&app.handoff(&done).await);
    let grant = grant(&app, &cookie).await;
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    let elevated = app.post("/account/reauth/answer", json!({"flow": step["flow"], "code": "123456"})).await.json()["elevated"].as_str().unwrap().to_owned();
    let setup = app.post("/account/authenticator/start", json!({"elevated": elevated})).await.json();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    app.post("/account/authenticator/add", json!({"elevated": elevated, "code": totp(&secret)})).await;
    // Both on, neither preferred (as an operator may leave them).
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    idp.admin_set_user_mfa_preference()
        .user_pool_id(&app.stack.user_pool_id)
        .username("two@example.com")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(false).build())
        .software_token_mfa_settings(SoftwareTokenMfaSettingsType::builder().enabled(true).preferred_mfa(false).build())
        .send()
        .await
        .unwrap();

    // At sign-in: Cognito's SELECT_MFA_TYPE, the choice, then that factor's code.
    let step = app.login("two@example.com", PASSWORD).await.json();
    assert_eq!((step["challenge"].as_str(), &step["options"]), (Some("select_mfa_type"), &json!(["sms_mfa", "software_token_mfa"])), "{step}");
    let chosen = app.post("/login/challenge", json!({"flow": step["flow"], "choice": "software_token_mfa"})).await.json();
    assert_eq!(chosen["challenge"], "software_token_mfa", "{chosen}");
    let done = app.post("/login/challenge", json!({"flow": chosen["flow"], "code": totp(&secret)})).await.json();
    assert_eq!(done["status"], "signed_in", "{done}");

    // At the account page's fresh step: the same choice; a factor not offered, or a code in
    // place of the choice, is refused.
    let step = app.post("/account/reauth", json!({"grant": grant, "password": PASSWORD})).await.json();
    assert_eq!((step["challenge"].as_str(), &step["options"]), (Some("select_mfa_type"), &json!(["sms_mfa", "software_token_mfa"])), "{step}");
    for refused in [json!({"flow": step["flow"], "choice": "email_otp"}), json!({"flow": step["flow"], "code": "123456"}), json!({"flow": step["flow"]})] {
        let reply = app.post("/account/reauth/answer", refused.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{refused}: {}", reply.body);
    }
    let chosen = app.post("/account/reauth/answer", json!({"flow": step["flow"], "choice": "sms_mfa"})).await.json();
    assert_eq!((chosen["status"].as_str(), chosen["challenge"].as_str()), (Some("challenge"), Some("sms_mfa")), "{chosen}");
    let done = app.post("/account/reauth/answer", json!({"flow": chosen["flow"], "code": "123456"})).await.json();
    assert_eq!(done["status"], "elevated", "{done}");
}
