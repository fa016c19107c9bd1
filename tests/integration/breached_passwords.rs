//! Breached passwords against a loopback stand-in of Have I Been Pwned's range API: a password
//! known from breaches is refused wherever a new one is chosen (sign-up, the account page, the
//! form's reset), before Cognito is called, the same for an address with an account and one
//! without; only a 5-character prefix of its SHA-1 leaves, with padding asked for; a service
//! that is down, slow, redirects or answers too much lets the password through.

use crate::account::{elevate, grant, signed_in};
use crate::harness::*;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use http::StatusCode;
use serde_json::json;
use shared::tokens::app::{AppId, SignUp};
use std::sync::{Arc, Mutex};

/// SHA-1 of `BREACHED` ("Password123!", which the pool's rules allow), upper-case hexadecimal.
const BREACHED: &str = "Password123!";
const BREACHED_SHA1: &str = "49EFEF5F70D47ADC2DB2EB397FBEF5F7BC560E29";

/// The requests the range service received: path and `Add-Padding`.
type Asked = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn range(State(asked): State<Asked>, Path(prefix): Path<String>, headers: HeaderMap) -> String {
    let padding = headers.get("add-padding").and_then(|v| v.to_str().ok()).map(str::to_owned);
    asked.lock().unwrap().push((prefix.clone(), padding));
    let (known_prefix, known_suffix) = BREACHED_SHA1.split_at(5);
    // As the API answers: every suffix under the prefix, and padding with a count of 0.
    let mut lines = vec![format!("{}:0", "A".repeat(35)), format!("{}:3", "B".repeat(35))];
    if prefix == known_prefix {
        lines.push(format!("{known_suffix}:110"));
    }
    lines.join("\r\n")
}

/// The range API on loopback, and what it was asked.
async fn range_service() -> (String, Asked) {
    let asked = Asked::default();
    let router = axum::Router::new().route("/range/{prefix}", axum::routing::get(range)).with_state(asked.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, asked)
}

/// The test stack, its app open to sign-up, its login function looking new passwords up at `url`.
async fn app_with_breaches(url: &str) -> TestApp {
    let mut app = spawn_app().await;
    let mut demo = app.apps.get(&AppId::parse(APP).unwrap()).await.unwrap();
    demo.sign_up = SignUp::Open;
    app.apps.update(demo).await.unwrap();
    app.login = api_with(&app.sdk, &app.stack, moto(), &[("BREACHED_PASSWORDS_URL", url)]);
    app
}

fn refused_as_breached(reply: &Reply) -> bool {
    reply.status == StatusCode::BAD_REQUEST && reply.json()["error"] == "password_breached"
}

#[tokio::test]
async fn a_breached_password_is_refused_wherever_one_is_chosen_and_only_a_prefix_leaves() {
    let (url, asked) = range_service().await;
    let app = app_with_breaches(&url).await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;

    // Sign-up: refused alike for an address with an account and one without; nothing is made.
    for email in ["new.person@example.com", "hanako@example.com"] {
        let body = json!({"ctx": ctx, "email": email, "password": BREACHED, "name": "山田 花子", "language": "ja"});
        let reply = app.post("/signup", body).await;
        assert!(refused_as_breached(&reply), "{email}: {} {}", reply.status, reply.body);
    }
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    assert!(idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("new.person@example.com").send().await.is_err(), "no account made");
    let fine = json!({"ctx": ctx, "email": "new.person@example.com", "password": "Corr3ct-Horse-Battery", "name": "山田 花子", "language": "ja"});
    assert_eq!(app.post("/signup", fine).await.json()["status"], "confirm_sign_up");

    // The account page: refused, and the current password still signs in.
    let cookie = signed_in(&app, "hanako@example.com").await;
    let elevated = elevate(&app, &grant(&app, &cookie).await, "hanako@example.com", PASSWORD).await;
    let change = app.post("/account/password", json!({"elevated": elevated, "previous": PASSWORD, "proposed": BREACHED})).await;
    assert!(refused_as_breached(&change), "{}", change.body);
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in");

    // The form's reset: refused before the code is tried, so the same code then takes a good one.
    assert_eq!(app.post("/password/forgot", json!({"ctx": ctx, "email": "hanako@example.com"})).await.json()["status"], "code_sent");
    let code = app.emailed_code("hanako@example.com");
    let reset = |password: &str| app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": password}));
    for _ in 0..5 {
        assert!(refused_as_breached(&reset(BREACHED).await), "as often as asked: no try of the code is spent");
    }
    let done = reset("Reset-Passw0rd-2026").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    // Only the prefix left, padding asked for each time.
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2 + 1 + 1 + 5 + 1, "{asked:?}");
    assert!(asked.iter().all(|(p, pad)| p.len() == 5 && p.chars().all(|c| c.is_ascii_hexdigit()) && pad.as_deref() == Some("true")), "{asked:?}");
    assert!(asked.iter().any(|(p, _)| p == &BREACHED_SHA1[..5]));
}

/// Range services that fail in each way: slower than the check waits, redirecting to one that
/// lists the password (a redirect is not followed), answering more than is read, answering 503.
async fn failing_services(listing: String) -> String {
    use axum::response::IntoResponse;
    let router = axum::Router::new()
        .route(
            "/slow/range/{prefix}",
            axum::routing::get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                format!("{}:110", &BREACHED_SHA1[5..])
            }),
        )
        .route(
            "/redirect/range/{prefix}",
            axum::routing::get(move |Path(prefix): Path<String>| async move { axum::response::Redirect::temporary(&format!("{listing}/range/{prefix}")) }),
        )
        .route("/huge/range/{prefix}", axum::routing::get(|| async { format!("{}:110\r\n", &BREACHED_SHA1[5..]).repeat(8_000) }))
        .route("/down/range/{prefix}", axum::routing::get(|| async { StatusCode::SERVICE_UNAVAILABLE.into_response() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn a_range_service_that_fails_lets_the_password_through() {
    let (listing, asked) = range_service().await;
    let failing = failing_services(listing).await;
    // A port nothing listens on, too.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nothing = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for base in [nothing, format!("{failing}/slow"), format!("{failing}/redirect"), format!("{failing}/huge"), format!("{failing}/down")] {
        let app = app_with_breaches(&base).await;
        let ctx = app.ctx().await;
        let body = json!({"ctx": ctx, "email": "new.person@example.com", "password": BREACHED, "name": "山田 花子", "language": "ja"});
        let reply = app.post("/signup", body).await;
        assert_eq!((reply.status, reply.json()["status"].as_str()), (StatusCode::OK, Some("confirm_sign_up")), "{base}: {}", reply.body);
    }
    assert!(asked.lock().unwrap().is_empty(), "the redirect was not followed");
}
