//! OpenID Connect Back-Channel Logout 1.0 against moto: a bridge session's end reaches the
//! session-ends function through the table's stream, and each client that signed in through that
//! session and registered a `backchannel_logout_uri` is posted a logout token (checked by PyJWT),
//! and no one else: not a client without the URI, not another session's, not for a session
//! moved to a new cookie, not for the TTL's deletion.

use std::collections::HashMap;

use base64::Engine;
use http::StatusCode;
use serde_json::{Value, json};
use shared::signin::ports::SessionStore;
use workflows::local_stream::StreamPoller;
use workflows::session_ends::SessionEnds;

use crate::harness::*;
use crate::openid_provider::*;
use crate::workflows::Service;

const TOLD: &str = "told-tool";
const ALSO_TOLD: &str = "also-told";

/// `id`, a confidential client (Basic, `SECRET`) told at `{base}/{id}`.
async fn told_client(test: &TestApp, id: &str, base: &str) {
    let mut app = client(id, "client_secret_basic");
    if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
        target.backchannel_logout_uri = Some(format!("{base}/{id}"));
    }
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    test.apps.create(app, Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
}

/// The session-ends function as the stack deploys it (its IAM policy), with our issuer.
pub(crate) fn session_ends(test: &TestApp) -> SessionEnds {
    let env = HashMap::from([("TABLE_NAME".to_owned(), test.stack.table.clone()), ("PUBLIC_API_URL".to_owned(), format!("{API}/"))]);
    SessionEnds::new(&env, &as_function(&test.sdk, "SessionEndsFunction")).unwrap_or_else(|e| panic!("{e}"))
}

/// Every stream record written since the last call, through the session-ends function; its
/// answer.
pub(crate) async fn deliver(stream: &mut StreamPoller, ends: &SessionEnds) -> Value {
    let batch = stream.next_batch().await.unwrap_or_else(|e| panic!("{e}"));
    workflows::session_ends::handle_json(ends, &batch, now(), None).await.unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) async fn stream(test: &TestApp) -> StreamPoller {
    StreamPoller::new(&test.sdk, &test.stack.table).await.unwrap_or_else(|e| panic!("{e}"))
}

/// The logout token a client was posted: its header and its claims, checked by PyJWT against our
/// JWKS with the client as audience.
async fn logout_token(test: &TestApp, service: &Service, client_id: &str) -> (Value, Value) {
    let posts = service.received(&format!("/{client_id}"));
    assert_eq!(posts.len(), 1, "one post to {client_id}: {posts:?}");
    assert_eq!(posts[0].header("content-type"), Some("application/x-www-form-urlencoded"));
    let form: HashMap<String, String> = url::form_urlencoded::parse(posts[0].body().as_bytes()).into_owned().collect();
    let token = form.get("logout_token").cloned().unwrap_or_default();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap_or_default()).unwrap_or_default();
    let check = json!({"token": token, "algorithms": ["RS256"], "jwks": jwks(test).await, "audience": client_id, "issuer": API});
    (serde_json::from_slice(&header).unwrap_or_default(), verify("jwt", &check).unwrap_or_else(|e| panic!("{e}")))
}

/// The stack of `provider()` with the told clients `clients` (each at `{service}/{id}`), the
/// service they are told at, the session-ends function and a reader of the table's stream.
struct Told {
    test: TestApp,
    sub: String,
    service: Service,
    ends: SessionEnds,
    stream: StreamPoller,
}

async fn told(clients: &[&str]) -> Told {
    let (test, sub) = provider().await;
    let service = Service::default();
    let base = service.start().await;
    for id in clients {
        told_client(&test, id, &base).await;
    }
    let ends = session_ends(&test);
    let stream = stream(&test).await;
    Told { test, sub, service, ends, stream }
}

#[tokio::test]
async fn a_sessions_end_is_told_to_the_clients_signed_in_through_it_and_no_one_else() {
    let Told { test, sub, service, ends, mut stream } = told(&[TOLD, ALSO_TOLD]).await;

    // One session signs in at a told client, then enters the other and an untold one.
    let (code, redirect) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let tokens = token(&test, Some(&basic(TOLD, SECRET)), &exchange(&code)).await.json();
    let cookie = session_cookie(&redirect);
    for client_id in [ALSO_TOLD, CLIENT, ALSO_TOLD] {
        code_of(&test.send("GET", &authorize_path(client_id, &[]), &[("cookie", &cookie)], None).await);
    }
    // Another session, at a told client.
    let (_, other) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty(), "no session has ended");

    // The first session signs out: its two told clients are posted a logout token each.
    let out = test.send("POST", "/logout", &[("cookie", &cookie)], None).await;
    assert!(out.status.is_redirection(), "{}", out.body);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    let check = json!({"token": tokens["id_token"], "algorithms": ["RS256"], "jwks": jwks(&test).await, "audience": TOLD, "issuer": API});
    let sid = verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"))["sid"].clone();
    for client_id in [TOLD, ALSO_TOLD] {
        let (header, claims) = logout_token(&test, &service, client_id).await;
        assert_eq!(header["typ"], "logout+jwt");
        assert_eq!((&claims["sub"], &claims["sid"], &claims["aud"]), (&json!(sub), &sid, &json!(client_id)), "{claims}");
        assert_eq!(claims["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));
        assert!(claims.get("nonce").is_none() && claims["jti"].is_string() && claims["exp"].as_u64() <= claims["iat"].as_u64().map(|t| t + 120));
    }
    assert_eq!(service.received(&format!("/{CLIENT}")).len(), 0, "a client without a back-channel URI");

    // The other session ends on its account page after a moment: one more post to its client,
    // none again to the first session's other client.
    let grant = crate::account::grant(&test, &session_cookie(&other)).await;
    let id = shared::common::hashing::digest(session_cookie(&other).split_once('=').map(|(_, v)| v.split(';').next().unwrap_or_default()).unwrap_or_default());
    let ended = test.post("/account/sessions/end", json!({"grant": grant, "id": id})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    deliver(&mut stream, &ends).await;
    assert_eq!((service.received(&format!("/{TOLD}")).len(), service.received(&format!("/{ALSO_TOLD}")).len()), (2, 1));
}

/// A session moved to a new cookie (a password change) goes on: no client is told. The TTL's
/// deletion of an expired session tells no one either, and a client that fails is not a
/// failure of the batch (nor tried again).
#[tokio::test]
async fn a_moved_session_an_expired_one_and_a_failing_client_hold_nothing_back() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD]).await;
    let (_, redirect) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let (sessions, key, session) = stored(&test, &redirect).await;
    let user_key = session_cookie(&redirect).split_once('=').and_then(|(_, v)| v.split('.').next()).unwrap_or_default().to_owned();
    assert_eq!(session.logout_clients, [TOLD]);

    let moved = shared::common::hashing::digest("a new cookie");
    assert!(sessions.rotate(&key, &moved, &session).await.unwrap_or_else(|e| panic!("{e}")));
    assert!(sessions.get(&key, &user_key).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "the old cookie opens nothing");
    assert_eq!(sessions.end(&key).await.unwrap_or_else(|e| panic!("{e}")), None, "nor does it end the session");
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty(), "a move is not an end");
    assert_eq!(test.items_under("ENDEDSID#").await, 0, "nor is its session recorded as ended");

    // The TTL's deletion, as the stream shows it.
    let data = serde_json::to_string(&session).unwrap_or_default();
    let expired = json!({"Records": [{"eventID": "1", "eventName": "REMOVE", "eventSource": "aws:dynamodb", "awsRegion": "ap-northeast-1",
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {"SequenceNumber": "1", "SizeBytes": 1, "OldImage": {"pk": {"S": format!("SESSION#{moved}")}, "data": {"S": data}, "logout_clients": {"SS": [TOLD]}}}}]});
    assert_eq!(workflows::session_ends::handle_json(&ends, &expired, now(), None).await.unwrap_or_default(), json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty(), "an expiry is not told");

    // The session at its new cookie ends. An invocation whose time is nearly out begins nothing:
    // the record goes back to the stream. Then the client answers 500: told once, the batch done.
    service.then(&format!("/{TOLD}"), 500, json!({}));
    assert!(sessions.end(&moved).await.unwrap_or_else(|e| panic!("{e}")).is_some());
    let batch = stream.next_batch().await.unwrap_or_else(|e| panic!("{e}"));
    let late = workflows::session_ends::handle_json(&ends, &batch, now(), Some(std::time::Instant::now())).await.unwrap_or_default();
    assert_eq!(late["batchItemFailures"].as_array().map(Vec::len), Some(1), "{late}");
    assert!(service.received(&format!("/{TOLD}")).is_empty());
    assert_eq!(workflows::session_ends::handle_json(&ends, &batch, now(), None).await.unwrap_or_default(), json!({"batchItemFailures": []}));
    assert_eq!(service.received(&format!("/{TOLD}")).len(), 1);
    assert_eq!(test.items_under("ENDEDSID#").await, 1);
}

/// A sign-in whose handoff another browser brings never reaches its own: its session ends, and
/// its client, which got nothing, is not told.
#[tokio::test]
async fn a_sign_in_refused_at_its_handoff_tells_its_client_nothing() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD]).await;
    let step = test.login_at(&authorize_path(TOLD, &[]), "hanako@example.com", PASSWORD).await;
    let form = format!("handoff={}", step.json()["handoff"].as_str().unwrap_or_default());
    assert_eq!(test.post_handoff(&form, "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(test.items_under("SESSION#").await, 0, "its session ended");
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty());
}

/// The `sid` of the ID token in `tokens`, for `client_id`.
async fn sid(test: &TestApp, tokens: &Value, client_id: &str) -> Value {
    let check = json!({"token": tokens["id_token"], "algorithms": ["RS256"], "jwks": jwks(test).await, "audience": client_id, "issuer": API});
    verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"))["sid"].clone()
}

/// A browser that signs in again while its session lives (an app asked for a fresh sign-in)
/// carries its earlier session into the new one: nothing is told then, the earlier cookie opens
/// nothing, and when the new one ends the clients of both are told, each with the `sid` it knows,
/// and both `sid`s are recorded as ended.
#[tokio::test]
async fn a_fresh_sign_in_in_the_same_browser_carries_the_earlier_sessions_clients_along() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD, ALSO_TOLD]).await;
    let (code, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let earlier_tokens = token(&test, Some(&basic(TOLD, SECRET)), &exchange(&code)).await.json();
    let earlier = session_cookie(&first);

    let fresh = test.send("GET", &authorize_path(ALSO_TOLD, &[("prompt", "login")]), &[("cookie", &earlier)], None).await;
    let ctx = fresh.location_param("ctx").unwrap_or_else(|| panic!("no form: {:?}", fresh.header("location")));
    let step = test.post("/login", json!({"ctx": ctx, "email": "hanako@example.com", "password": PASSWORD})).await;
    let second = test.handoff(&step).await;
    let tokens = token(&test, Some(&basic(ALSO_TOLD, SECRET)), &exchange(&code_of(&second))).await.json();
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty(), "carried, not ended");
    let old = test.send("GET", &authorize_path(TOLD, &[]), &[("cookie", &earlier)], None).await;
    assert!(old.location_param("ctx").is_some(), "the earlier cookie opens nothing");

    let out = test.send("POST", "/logout", &[("cookie", &session_cookie(&second))], None).await;
    assert!(out.status.is_redirection(), "{}", out.body);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    let (_, told) = logout_token(&test, &service, TOLD).await;
    let (_, also) = logout_token(&test, &service, ALSO_TOLD).await;
    assert_eq!(told["sid"], sid(&test, &earlier_tokens, TOLD).await);
    assert_eq!(also["sid"], sid(&test, &tokens, ALSO_TOLD).await);
    assert_ne!(told["sid"], also["sid"]);
    assert_eq!(test.items_under("ENDEDSID#").await, 2);
}

/// A browser that switches accounts (another person signs in afresh while the first one's
/// session lives) ends the first session: its clients are told at once.
#[tokio::test]
async fn a_browser_switching_accounts_ends_the_earlier_persons_session() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD, ALSO_TOLD]).await;
    test.user("taro@example.com", |_| {}).await;
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let fresh = test.send("GET", &authorize_path(ALSO_TOLD, &[("prompt", "login")]), &[("cookie", &session_cookie(&first))], None).await;
    let ctx = fresh.location_param("ctx").unwrap_or_else(|| panic!("no form: {:?}", fresh.header("location")));
    let step = test.post("/login", json!({"ctx": ctx, "email": "taro@example.com", "password": PASSWORD})).await;
    code_of(&test.handoff(&step).await);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    let (_, told) = logout_token(&test, &service, TOLD).await;
    assert!(told["sid"].is_string(), "{told}");
    assert!(service.received(&format!("/{ALSO_TOLD}")).is_empty(), "taro's session goes on");
}

/// The `ctx` of a fresh sign-in (`prompt=login`) at `client_id` asked by the browser holding
/// the session `cookie` (and the device cookie of the last sign-in): the form's context, naming
/// that session as the one it replaces.
async fn fresh_sign_in_form(test: &TestApp, client_id: &str, cookie: &str) -> String {
    let cookies = format!("{cookie}; {}", test.browser_cookie());
    let fresh = test.send("GET", &authorize_path(client_id, &[("prompt", "login")]), &[("cookie", &cookies)], None).await;
    fresh.location_param("ctx").unwrap_or_else(|| panic!("no form: {:?}", fresh.header("location")))
}

/// Two tabs of one browser both asked for a fresh sign-in while its session lived, and both sign
/// in: the second tab's form names a session the first tab's sign-in already carried along, so
/// its carry follows that move, and the last session holds every earlier one's clients and `sid`s.
#[tokio::test]
async fn two_tabs_signing_in_afresh_carry_every_earlier_session_along() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD, ALSO_TOLD]).await;
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let earlier = session_cookie(&first);
    let tabs = [fresh_sign_in_form(&test, ALSO_TOLD, &earlier).await, fresh_sign_in_form(&test, ALSO_TOLD, &earlier).await];
    let mut last = None;
    for ctx in tabs {
        let step = test.post("/login", json!({"ctx": ctx, "email": "hanako@example.com", "password": PASSWORD})).await;
        let reply = test.handoff(&step).await;
        code_of(&reply);
        last = Some(session_cookie(&reply));
    }
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty() && service.received(&format!("/{ALSO_TOLD}")).is_empty(), "carried, not ended");
    let out = test.send("POST", "/logout", &[("cookie", &last.unwrap_or_default())], None).await;
    assert!(out.status.is_redirection(), "{}", out.body);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert_eq!((service.received(&format!("/{TOLD}")).len(), service.received(&format!("/{ALSO_TOLD}")).len()), (1, 2), "each sign-in's client told once");
    assert_eq!(test.items_under("ENDEDSID#").await, 3);
}

/// The store and the key and `sid` of the session `redirect` opened.
async fn stored(test: &TestApp, redirect: &Reply) -> (shared::adapters::dynamo::sessions::DynamoSessions, String, shared::signin::session::Session) {
    let value = session_cookie(redirect).split_once('=').map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned()).unwrap_or_default();
    let sessions = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table);
    let key = shared::common::hashing::digest(&value);
    let user_key = value.split('.').next().unwrap_or_default().to_owned();
    let Some(shared::signin::session::Found::Kept(session)) = sessions.get(&key, &user_key).await.unwrap_or_else(|e| panic!("{e}")) else {
        panic!("no session")
    };
    (sessions, key, session)
}

/// An entry into a told client with the earlier cookie, read just before the browser's fresh
/// sign-in carried that session along and recorded just after: the client is recorded on the
/// session it was carried into, with the `sid` it was given, and told when that one ends.
#[tokio::test]
async fn a_client_recorded_on_a_session_just_carried_along_follows_it() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD, ALSO_TOLD]).await;
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let (sessions, key, read) = stored(&test, &first).await;
    let step = test
        .post("/login", json!({"ctx": fresh_sign_in_form(&test, TOLD, &session_cookie(&first)).await, "email": "hanako@example.com", "password": PASSWORD}))
        .await;
    let second = test.handoff(&step).await;
    code_of(&second);
    let sid = read.sid.clone().unwrap_or_default();
    sessions.add_logout_client(&key, ALSO_TOLD, &sid).await.unwrap_or_else(|e| panic!("{e}"));

    let out = test.send("POST", "/logout", &[("cookie", &session_cookie(&second))], None).await;
    assert!(out.status.is_redirection(), "{}", out.body);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    let (_, also) = logout_token(&test, &service, ALSO_TOLD).await;
    assert_eq!(also["sid"], json!(sid), "with the sid its entry gave it");
    assert_eq!(service.received(&format!("/{TOLD}")).len(), 2, "its two sign-ins");
}

/// A move to a new cookie made from a read of the session taken before a client was recorded on
/// it keeps that client: the move is conditioned on the clients it read, and made again from a
/// new read.
#[tokio::test]
async fn a_move_made_from_an_earlier_read_keeps_the_clients_recorded_since() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD, ALSO_TOLD]).await;
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let (sessions, key, read) = stored(&test, &first).await;
    code_of(&test.send("GET", &authorize_path(ALSO_TOLD, &[]), &[("cookie", &session_cookie(&first))], None).await);
    let moved = shared::common::hashing::digest("a new cookie");
    assert!(sessions.rotate(&key, &moved, &read).await.unwrap_or_else(|e| panic!("{e}")));
    assert!(sessions.end(&moved).await.unwrap_or_else(|e| panic!("{e}")).is_some());
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert_eq!((service.received(&format!("/{TOLD}")).len(), service.received(&format!("/{ALSO_TOLD}")).len()), (1, 1));
}

/// A `backchannel_logout_uri` the bridge would post to elsewhere than a client's own HTTPS page
/// is refused when the app is made or changed, and nothing is written.
#[tokio::test]
async fn a_hostile_backchannel_logout_uri_is_refused() {
    let Told { test, .. } = told(&[TOLD]).await;
    let long = format!("https://tool.example.com/{}", "a".repeat(500));
    let hostile = [
        "http://tool.example.com/logout",
        "http://10.0.0.1/logout",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/logout",
        "//tool.example.com/logout",
        "https://tool.example.com/logout#x",
        "https://me:pw@tool.example.com/logout",
        "https://Tool.example.com/logout",
        "https://tool.example.com:443/logout",
        "https://tool.example.com/a/../logout",
        "https://tool.example.com/log out",
        "https://tool.example.com\\@evil.example/logout",
        &long,
    ];
    let with = |id: &str, uri: &str| {
        let mut app = client(id, "client_secret_basic");
        if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
            target.backchannel_logout_uri = Some(uri.to_owned());
        }
        app
    };
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    let stored = test.apps.get(&shared::tokens::app::AppId::parse(TOLD).unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e:#}"));
    for uri in hostile {
        assert!(test.apps.create(with("hostile", uri), Some(&secret)).await.is_err(), "made with {uri}");
        let changed = shared::tokens::app::App { version: stored.version, ..with(TOLD, uri) };
        assert!(test.apps.update(changed).await.is_err(), "changed to {uri}");
    }
    assert!(test.apps.get(&shared::tokens::app::AppId::parse("hostile").unwrap_or_else(|e| panic!("{e}"))).await.is_err(), "nothing made");
    let kept = test.apps.get(&stored.id).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((kept.version, kept.target), (stored.version, stored.target.clone()), "nothing changed");
    // The same doors take a client's own page.
    let good = "https://tool.example.com/logout";
    test.apps.create(with("hostile", good), Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
    test.apps.update(shared::tokens::app::App { version: stored.version, ..with(TOLD, good) }).await.unwrap_or_else(|e| panic!("{e:#}"));
}

/// A form opened in another browser with a copied session cookie, after the person's password
/// change moved that session to a new cookie: the other browser's sign-in (as anyone) does not
/// follow the move, so it neither ends nor carries off the person's session.
#[tokio::test]
async fn a_copied_cookies_form_does_not_reach_the_session_a_password_change_moved() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD]).await;
    test.user("taro@example.com", |_| {}).await;
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    let (sessions, key, session) = stored(&test, &first).await;
    // Another browser (no device cookie of hanako's) brings the copied cookie.
    let copied = test.send("GET", &authorize_path(TOLD, &[("prompt", "login")]), &[("cookie", &session_cookie(&first))], None).await;
    let ctx = copied.location_param("ctx").unwrap_or_else(|| panic!("no form: {:?}", copied.header("location")));
    let moved = shared::common::hashing::digest("hanako's new cookie");
    assert!(sessions.rotate(&key, &moved, &session).await.unwrap_or_else(|e| panic!("{e}")));
    let step = test.post("/login", json!({"ctx": ctx, "email": "taro@example.com", "password": PASSWORD})).await;
    code_of(&test.handoff(&step).await);
    assert_eq!(deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    assert!(service.received(&format!("/{TOLD}")).is_empty(), "hanako's session was not ended");
    assert!(sessions.end(&moved).await.unwrap_or_else(|e| panic!("{e}")).is_some_and(|s| s.carried_sids.is_empty()), "nor carried off");
}

/// Apps whose first read answers that the store is unavailable.
struct FlakyApps {
    inner: std::sync::Arc<dyn shared::tokens::ports::AppDirectory>,
    failed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl shared::tokens::ports::AppDirectory for FlakyApps {
    async fn app(&self, id: &shared::tokens::app::AppId) -> Result<Option<std::sync::Arc<shared::tokens::app::App>>, shared::common::store::StoreError> {
        if !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(shared::common::store::StoreError::Unavailable("no answer".into()));
        }
        self.inner.app(id).await
    }
    async fn list(&self) -> Result<Vec<shared::tokens::app::App>, shared::common::store::StoreError> {
        self.inner.list().await
    }
}

/// A client whose app cannot be read just then is told when the stream delivers the record again:
/// the record goes back (its end recorded already), and the next delivery tells it.
#[tokio::test]
async fn a_client_whose_app_could_not_be_read_is_told_at_the_next_delivery() {
    let Told { test, service, ends, mut stream, .. } = told(&[TOLD]).await;
    let apps = ends.logouts.apps.clone();
    let ends = SessionEnds {
        logouts: shared::signin::openid_provider::backchannel::BackchannelLogout {
            apps: std::sync::Arc::new(FlakyApps { inner: apps, failed: false.into() }),
            ..ends.logouts
        },
        ..ends
    };
    let (_, first) = sign_in_for_code(&test, &authorize_path(TOLD, &[])).await;
    deliver(&mut stream, &ends).await;
    let out = test.send("POST", "/logout", &[("cookie", &session_cookie(&first))], None).await;
    assert!(out.status.is_redirection(), "{}", out.body);
    let batch = stream.next_batch().await.unwrap_or_else(|e| panic!("{e}"));
    let first_try = workflows::session_ends::handle_json(&ends, &batch, now(), None).await.unwrap_or_default();
    assert_eq!(first_try["batchItemFailures"].as_array().map(Vec::len), Some(1), "{first_try}");
    assert!(service.received(&format!("/{TOLD}")).is_empty());
    assert_eq!(test.items_under("ENDEDSID#").await, 1, "its end is recorded all the same");
    assert_eq!(workflows::session_ends::handle_json(&ends, &batch, now(), None).await.unwrap_or_default(), json!({"batchItemFailures": []}));
    assert_eq!(service.received(&format!("/{TOLD}")).len(), 1);
}
