//! Password sign-in end to end against moto: tokens, challenges, the reset path, and the number
//! of AWS calls each step costs.

use crate::harness::*;
use http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use shared::testing::CallLog;
use std::time::{SystemTime, UNIX_EPOCH};

const COGNITO: &str = "AWSCognitoIdentityProviderService.";
/// The person's risk history and the address's failed attempts: one read.
const HISTORY: &str = "DynamoDB_20120810.BatchGetItem";
/// The session, its sign-in event and the last sign-in with the risk profile: one transaction.
const PUT: &str = "DynamoDB_20120810.TransactWriteItems";

/// Follows a signed-in step through the handoff to the app; the Zendesk JWT's verified claims
/// and the page that takes the browser there (with the session cookie).
async fn zendesk_claims(app: &TestApp, step: &Reply) -> (Value, Reply) {
    let page = app.handoff(step).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("action=\"{ZENDESK}/access/jwt\"")), "{}", page.body);
    let token = form_field(&page.body, "jwt").unwrap_or_else(|| panic!("no jwt: {}", page.body));
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let key = DecodingKey::from_secret(app.app_secret.as_bytes());
    (jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap_or_else(|e| panic!("{e}")).claims, page)
}

/// AWS calls in name order (calls made side by side have no fixed order).
fn sorted(mut calls: Vec<String>) -> Vec<String> {
    calls.sort();
    calls
}

#[tokio::test]
async fn init_loads_what_no_input_decides_and_the_first_sign_in_does_not_load_it_again() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let login = login_state_for(&app.sdk, &app.stack, moto());
    app.calls.take();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    login.sign_in.prefetch(now).await;
    let init = app.calls.take();
    assert_eq!(CallLog::count(&init, "secretsmanager.GetSecretValue"), 1, "the bridge secret: {init:?}");
    let keys = format!("GET /{}/.well-known/jwks.json", app.stack.user_pool_id);
    assert_eq!(init.iter().filter(|c| **c == keys).count(), 1, "the pool's keys, through the SDK's client: {init:?}");
    assert_eq!(CallLog::count(&init, COGNITO), 0, "no Cognito call: {init:?}");
    assert!(init.iter().any(|c| c.starts_with("DynamoDB_20120810.")), "our signing keys: {init:?}");

    let first = login::routes::router(login);
    let body = json!({"ctx": ctx, "email": "hanako@example.com", "password": PASSWORD}).to_string();
    let reply = send_to(&first, "POST", "/login", &[("content-type", "application/json"), ("origin", FORM)], Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let calls = app.calls.take();
    // Cognito once; the only secret read is the app's own (the bridge's was loaded at init).
    assert_eq!(CallLog::count(&calls, COGNITO), 1, "{calls:?}");
    assert_eq!(CallLog::count(&calls, "secretsmanager.GetSecretValue"), 1, "{calls:?}");
}

#[tokio::test]
async fn password_sign_in_mints_the_zendesk_jwt_with_one_cognito_call() {
    let app = spawn_app().await;
    let sub = app.user("hanako@example.com", |u| u.groups = &["zd-vip", "zendesk-agents"]).await;

    let reply = app.login("Hanako@Example.com", PASSWORD).await;
    let first = app.calls.take();
    let (claims, page) = zendesk_claims(&app, &reply).await;
    assert_eq!(form_field(&page.body, "return_to"), Some(format!("{ZENDESK}/hc/ja")));

    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let iat = claims["iat"].as_u64().unwrap_or_default();
    assert!(now.abs_diff(iat) < 10, "iat {iat} vs now {now}");
    let jti = uuid::Uuid::parse_str(claims["jti"].as_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(jti.get_version_num(), 4);
    let mut rest = claims.clone();
    for k in ["iat", "jti"] {
        rest.as_object_mut().map(|o| o.remove(k));
    }
    assert_eq!(
        rest,
        json!({"email": "hanako@example.com", "name": "Hanako Yamada", "external_id": sub, "organization": "Acme", "tags": ["vip"], "role": "agent"})
    );
    assert_eq!(CallLog::count(&first, COGNITO), 1, "{first:?}");

    // Warm: one call to Cognito, the history read and the session's write; apps and secrets come
    // from the caches. The handoff is redeemed once (one conditional write), beside a read of the
    // session with its user's revocation.
    let again = app.login("hanako@example.com", PASSWORD).await;
    let (second_claims, page) = zendesk_claims(&app, &again).await;
    assert_ne!(second_claims["jti"], claims["jti"], "every token has its own jti");
    let redeem = "DynamoDB_20120810.UpdateItem".to_owned();
    // (Cognito's check and the history read run side by side: their order is not fixed.)
    assert_eq!(sorted(app.calls.take()), vec![format!("{COGNITO}AdminInitiateAuth"), HISTORY.to_owned(), HISTORY.to_owned(), PUT.to_owned(), redeem]);

    // The handoff set the session cookie; it signs the person in to the app again without the
    // form: one read.
    let cookie = session_cookie(&page);
    let sso = app.send("GET", &format!("/sso/{APP}?return_to={ZENDESK}/hc/en-us"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.body);
    assert!(sso.body.contains(&format!("action=\"{ZENDESK}/access/jwt\"")), "{}", sso.body);
    assert_eq!(app.calls.take(), vec!["DynamoDB_20120810.BatchGetItem".to_owned()]);

    // Signing out ends it: the next visit goes to the form.
    let out = app.send("GET", &format!("/sso/{APP}/logout"), &[("cookie", &cookie)], None).await;
    assert_eq!(out.location_param("notice").as_deref(), Some("signed_out"));
    assert!(out.headers.get_all("set-cookie").iter().any(|c| c.to_str().is_ok_and(|c| c.starts_with("__Host-bridge_session=;"))));
    let after = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(after.status, StatusCode::FOUND);
    assert!(after.location_param("ctx").is_some(), "back to the form");
    let forged = app.send("GET", &format!("/sso/{APP}"), &[("cookie", "__Host-bridge_session=forged-value")], None).await;
    assert!(forged.location_param("ctx").is_some(), "a made-up cookie is no session");
}

#[tokio::test]
async fn the_handoff_takes_only_fresh_handoffs_from_the_forms_own_origin() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let step = app.login("hanako@example.com", PASSWORD).await;
    let handoff = step.json()["handoff"].as_str().unwrap_or_default().to_owned();
    let browser = app.browser_cookie();
    let post = |origin: Option<&'static str>, handoff: String| {
        let app = &app;
        async move {
            let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
            headers.extend(origin.map(|o| ("origin", o)));
            app.send("POST", "/session/handoff", &headers, Some(format!("handoff={handoff}"))).await
        }
    };
    // Another site cannot sign this browser in as someone else, nor can a page without an origin.
    for origin in [Some("https://attacker.example"), None] {
        let reply = post(origin, handoff.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin:?}");
        assert!(reply.headers.get("set-cookie").is_none());
    }
    // A tampered handoff, and a sign-in context passed off as one.
    let tampered = format!("{}x", &handoff);
    let ctx = app.ctx().await;
    for bad in [tampered, ctx, String::new()] {
        let reply = post(Some(FORM), bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.headers.get("set-cookie").is_none());
    }
    assert_eq!(app.send("GET", "/session/handoff", &[], None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    // The genuine one from the form works, in the browser that signed in.
    assert_eq!(app.post_handoff(&format!("handoff={handoff}"), &browser).await.status, StatusCode::OK);
    assert_eq!(post(Some(FORM), handoff.clone()).await.status, StatusCode::FORBIDDEN, "not in another browser");
}

#[tokio::test]
async fn people_of_an_organisation_sign_in_with_a_password_only_where_it_allows() {
    use bridge_admin::orgs::Orgs;
    use shared::directory::org::OrgPolicies;

    let app = spawn_app().await;
    let orgs = Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let org = orgs.create("Corp", &["corp.example".to_owned()], OrgPolicies::default()).await.unwrap();
    app.user("taro@corp.example", |u| u.org = Some(org.id.as_str())).await;

    let refused = app.login("taro@corp.example", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"], "password_sign_in_disabled");
    assert!(refused.json()["handoff"].is_null(), "no token");
    // The app's secret (for the mint) and the address's history load beside Cognito's check,
    // before the organisation's policy refuses; the pool's keys check Cognito's answer.
    let expected = [
        format!("{COGNITO}AdminInitiateAuth"),
        HISTORY.to_owned(),
        "DynamoDB_20120810.GetItem".to_owned(),
        format!("GET /{}/.well-known/jwks.json", app.stack.user_pool_id),
        "secretsmanager.GetSecretValue".to_owned(),
    ];
    assert_eq!(sorted(app.calls.take()), expected);
    // Warm: the organisation comes from the cache.
    assert_eq!(app.login("taro@corp.example", PASSWORD).await.status, StatusCode::FORBIDDEN);
    assert_eq!(sorted(app.calls.take()), vec![format!("{COGNITO}AdminInitiateAuth"), HISTORY.to_owned()]);

    let mut allowed = org.clone();
    allowed.policies.password_sign_in = true;
    allowed.version += 1;
    shared::directory::ports::OrgStore::update(&*orgs.store, &org, &allowed).await.unwrap();
    let app = TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..app };
    let reply = app.login("taro@corp.example", PASSWORD).await;
    assert_eq!(zendesk_claims(&app, &reply).await.0["email"], "taro@corp.example");

    // People outside any organisation are not affected, and cost no organisation read. (A
    // person's first sign-in finds no profile kept by their email yet: the history is read
    // again, by username, once.)
    app.user("hanako@example.com", |_| {}).await;
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(sorted(app.calls.take()), vec![format!("{COGNITO}AdminInitiateAuth"), HISTORY.to_owned(), HISTORY.to_owned(), PUT.to_owned()]);
}

/// The table itself refuses a session for an account revoked (disabled or deleted) at most
/// `REVOCATION_WINDOW` before it: a sign-in that read the account just before the revocation
/// (its session stamped earlier still) opens nothing after it. Sessions of other people, of the
/// account once the window has passed, and of the account enabled again, open as before; an
/// enabling that began before a revocation leaves it standing, and one after the window leaves
/// the record (which still refuses a session from before that the sweep missed). Through the
/// login function, the refusal is `403 account_deactivated`.
#[tokio::test]
async fn no_session_opens_for_an_account_within_the_window_after_its_revocation() {
    use shared::common::store::StoreError;
    use shared::signin::ports::SessionStore;
    use shared::signin::session::{Found, Method, REVOCATION_WINDOW, Session, SessionPolicy};
    let app = spawn_app().await;
    let store = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let now = shared::common::time::unix_now() + 1000;
    let session = |user: &str, at: u64| Session::new(user.into(), None, Method::Password, serde_json::Map::new(), SessionPolicy::default(), at);
    let open = |key: &'static str, user: &'static str, at: u64| {
        let store = &store;
        async move { store.create(key, &session(user, at), &[], &Default::default()).await }
    };
    open("live", "taro", now - 1).await.unwrap();
    assert_eq!(store.revoke("taro", now).await.unwrap(), 1, "the live session ends");
    for (key, at) in [("read-before", now - 5), ("at-the-revocation", now), ("within-the-window", now + REVOCATION_WINDOW)] {
        assert_eq!(open(key, "taro", at).await, Err(StoreError::Conflict), "{key}");
    }
    open("someone-else", "hanako", now).await.unwrap();
    // A session moved to a new cookie value (a password change) is refused the same way: it
    // began before the revocation. Nothing moves: the old key is not ended either.
    let hanakos = session("hanako", now - 1);
    store.create("hanakos-old", &hanakos, &[], &Default::default()).await.unwrap();
    assert_eq!(store.rotate("hanakos-old", "hanakos-new", &hanakos).await, Ok(true));
    assert_eq!(store.rotate("hanakos-old", "hanakos-newer", &hanakos).await, Ok(false), "a session gone moves nowhere");
    assert!(store.end("hanakos-new").await.unwrap().is_some());
    store.create("taros-own", &session("taro", now + REVOCATION_WINDOW + 2), &[], &Default::default()).await.unwrap();
    assert_eq!(store.rotate("taros-own", "taros-moved", &session("taro", now)).await, Err(StoreError::Conflict));
    assert!(store.end("taros-own").await.unwrap().is_some() && store.end("taros-moved").await.unwrap().is_none(), "nothing moved");
    open("after-the-window", "taro", now + REVOCATION_WINDOW + 1).await.unwrap();
    // An enabling that began before the revocation does not lift it; one begun after does.
    store.reinstate("taro", now - 1).await.unwrap();
    assert_eq!(open("still-revoked", "taro", now + 1).await, Err(StoreError::Conflict));
    store.reinstate("taro", now).await.unwrap();
    open("reinstated", "taro", now + 1).await.unwrap();
    // (and hanako's old key, marked moved until the TTL removes it: a move is not an end)
    assert_eq!(app.items_under("SESSION#").await, 4);
    // Enabled after the window: the record stays (it goes on refusing the sessions it covers)
    // and refuses no new one.
    let later = now + 100;
    open("missed", "taro", later - 1).await.unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&app.sdk);
    let missed_key = [("pk", "SESSION#missed"), ("sk", "SESSION")].map(|(k, v)| (k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v.into())));
    let missed = dynamo.get_item().table_name(&app.stack.table).set_key(Some(missed_key.into_iter().collect())).send().await.unwrap().item;
    assert_eq!(store.revoke("taro", later).await.unwrap(), 3);
    store.reinstate("taro", later + REVOCATION_WINDOW + 5).await.unwrap();
    assert_eq!(app.items_under("REVOKED#").await, 1);
    open("enabled-after-the-window", "taro", later + REVOCATION_WINDOW + 5).await.unwrap();
    let user = shared::signin::session::user_key("taro");
    assert!(matches!(store.get("enabled-after-the-window", &user).await.unwrap(), Some(Found::Kept(_))));
    // A session from before, which the sweep had missed (put back): still refused, and ended.
    dynamo.put_item().table_name(&app.stack.table).set_item(missed).send().await.unwrap();
    assert!(matches!(store.get("missed", &user).await.unwrap(), Some(Found::Revoked(_))));
    assert!(store.get("missed", &user).await.unwrap().is_none(), "ended by the read that refused it");
    assert_eq!(app.items_under("SESSION#").await, 3, "hanako's, her old key marked moved, and the one enabled");

    // A person whose account is revoked while enabled in Cognito (a sign-in under way): refused.
    let username = app.user("jiro@example.com", |_| {}).await;
    store.revoke(&username, shared::common::time::unix_now()).await.unwrap();
    let refused = app.login("jiro@example.com", PASSWORD).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("account_deactivated")), "{}", refused.body);
    assert_eq!(app.items_under("SESSION#").await, 3);
}

/// A session the revocation's sweep missed (the sweep finds a user's sessions through `gsi1`,
/// which is eventually consistent) is refused wherever it is used: single sign-on, the account
/// page and a sign-in's handoff; it is ended there, and one no one used is ended when the account
/// is enabled again within the window, so that enabling brings none back. Another person's
/// session goes on. A session opens only for a cookie that names its own user: not one filed under
/// a cookie naming someone else, nor under a value that names no one (as cookies were before).
#[tokio::test]
async fn a_session_the_revocations_sweep_missed_is_refused_wherever_it_is_used() {
    use shared::common::hashing::digest;
    use shared::common::random::token as random_token;
    use shared::signin::ports::SessionStore;
    use shared::signin::session::{COOKIE, Found, new_cookie, parse_cookie, user_key};
    let stack = spawn_app().await;
    let app = &stack;
    let store = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let taro = app.user("taro@example.com", |_| {}).await;
    let hanako = app.user("hanako@example.com", |_| {}).await;
    let signed_in = |email: &'static str| async { session_cookie(&app.handoff(&app.login(email, PASSWORD).await).await) };
    let (cookie, other) = (signed_in("taro@example.com").await, signed_in("hanako@example.com").await);
    let sent = parse_cookie(cookie.strip_prefix(&format!("{COOKIE}="))).expect("a session cookie");
    assert_eq!(sent.user_key, user_key(&taro), "the cookie names Taro by a digest");
    // Taro's session, filed again under four more values.
    let Some(Found::Kept(session)) = store.get(&sent.key, &sent.user_key).await.unwrap() else { panic!("Taro's session") };
    let [second, third, unused, misfiled, unnamed] = [new_cookie(&taro), new_cookie(&taro), new_cookie(&taro), new_cookie(&hanako), random_token()];
    for value in [&second, &third, &unused, &misfiled, &unnamed] {
        store.create(&digest(value), &session, &[], &Default::default()).await.unwrap();
    }
    let values = [&cookie, &second, &third].map(|c| c.strip_prefix(&format!("{COOKIE}=")).unwrap_or(c).to_owned());
    let [second, third, unused, misfiled, unnamed] = [second, third, unused, misfiled, unnamed].map(|value| format!("{COOKIE}={value}"));

    let enters = |cookie: String| async move {
        let reply = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
        match reply.status {
            StatusCode::OK => true,
            StatusCode::FOUND if reply.location_param("ctx").is_some() => false,
            _ => panic!("{cookie}: {} {}", reply.status, reply.body),
        }
    };
    let account = |cookie: String| async move {
        let reply = app.send("GET", "/account", &[("cookie", &cookie)], None).await;
        reply.location_param("notice").as_deref() != Some("account_sign_in")
    };
    for c in [&cookie, &second, &other] {
        assert!(enters(c.clone()).await && account(c.clone()).await, "{c}: before the revocation");
    }
    // An account page opened before: each of its calls checks the session live.
    let grant = crate::account::grant(app, &third).await;
    assert_eq!(app.post("/account/view", json!({"grant": grant})).await.status, StatusCode::OK);
    for c in [&misfiled, &unnamed] {
        assert!(!enters(c.clone()).await && !account(c.clone()).await, "{c}: a cookie not naming the session's user");
    }

    // A sign-in whose handoff the browser has not brought back yet.
    let pending = app.login("taro@example.com", PASSWORD).await.json();
    let pending = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", pending["handoff"].as_str().unwrap()).finish();
    let pending_browser = app.browser_cookie();

    // The revocation's record, as if its sweep had missed Taro's sessions.
    let now = shared::common::time::unix_now();
    app.revoke_without_sweep(&taro).await;
    app.calls.take();
    assert!(!enters(cookie.clone()).await, "single sign-on refused");
    let dynamodb: Vec<String> = app.calls.take().into_iter().filter(|c| c.starts_with("DynamoDB_")).collect();
    assert_eq!(
        dynamodb,
        ["DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.DeleteItem", "DynamoDB_20120810.PutItem"],
        "the session with the revocation in one round trip, then its end and the failed sign-in's event"
    );
    assert!(!account(second.clone()).await, "the account page refused");
    let view = app.post("/account/view", json!({"grant": grant})).await;
    assert_eq!((view.status, view.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_signed_in")), "the open page's grant refused: {}", view.body);
    let handoff = app.post_handoff(&pending, &pending_browser).await;
    assert!(set_cookie(&handoff, COOKIE).is_none(), "the handoff refused: {} {}", handoff.status, handoff.body);
    // (`handoff_used` only if the session's end lands before the redeem.)
    assert!(["account_deactivated", "handoff_used"].iter().any(|e| handoff.body.contains(e)), "{}", handoff.body);
    for c in [&cookie, &second] {
        assert!(!enters(c.clone()).await && !account(c.clone()).await, "{c}: ended");
    }
    // Each refusal is on the audit trail once, as Taro's: single sign-on and the handoff (each
    // with its app; the handoff's sign-in was recorded as signed in, and its refusal is recorded
    // whichever of the redeem and the session's end came first), and the account page (opening
    // it, and a page opened before).
    let refused: Vec<_> = app.events().await.into_iter().filter(|e| e.detail.get("reason").is_some_and(|r| r == "account_revoked")).collect();
    assert_eq!(refused.len(), 4, "{refused:?}");
    for event in &refused {
        let value = event.to_value();
        assert_eq!((value["type"].as_str(), event.user.username.as_deref()), (Some("user.sign_in_failed"), Some(taro.as_str())), "{value}");
        assert_eq!(event.context.method.as_deref(), Some("password"), "{value}");
        let text = value.to_string();
        for value in &values {
            assert!(!text.contains(value.as_str()) && !text.contains(&digest(value)[..32]), "the event names no cookie nor session key: {text}");
        }
    }
    assert_eq!(refused.iter().filter(|e| e.context.app.as_deref() == Some(APP)).count(), 2, "single sign-on and the handoff name the app");
    assert!(enters(other.clone()).await && account(other.clone()).await, "Hanako goes on");
    assert_eq!(app.items_under("SESSION#").await, 4, "Taro's used sessions ended at their use: Hanako's and three unused ones are left ({hanako})");
    store.reinstate(&taro, now).await.unwrap();
    assert_eq!(app.items_under("SESSION#").await, 1, "the unused ones ended with the enabling");
    assert!(!enters(unused).await, "enabling the account again brings no session back");
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_user_read_the_same() {
    let app = spawn_app().await;
    app.user("real@example.com", |_| {}).await;
    app.user("disabled@example.com", |_| {}).await;
    aws_sdk_cognitoidentityprovider::Client::new(&app.sdk)
        .admin_disable_user()
        .user_pool_id(&app.stack.user_pool_id)
        .username("disabled@example.com")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let replies = [
        app.login("real@example.com", "Wrong-Passw0rd!").await,
        app.login("nobody@example.com", PASSWORD).await,
        app.login("disabled@example.com", PASSWORD).await,
    ];
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.json(), json!({"error": "invalid_credentials", "message": "Incorrect email or password."}));
    }
}

#[tokio::test]
async fn sms_mfa_then_the_code_signs_in() {
    let app = spawn_app().await;
    app.user("mfa@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;

    let reply = app.login("mfa@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], "challenge");
    assert_eq!(body["challenge"], "sms_mfa");
    let flow = body["flow"].as_str().unwrap_or_default().to_owned();

    // The sign-in client's challenge, answered by the admin flow; moto accepts any SMS code.
    let answered = app.post("/login/challenge", json!({"flow": flow, "code": "123456"})).await;
    zendesk_claims(&app, &answered).await;
    let calls = app.calls.take();
    assert_eq!(CallLog::count(&calls, &format!("{COGNITO}AdminRespondToAuthChallenge")), 1, "{calls:?}");
    assert_eq!(CallLog::count(&calls, COGNITO), 2, "{calls:?}");

    // The answer's flow token is single-purpose: it is not a context.
    let misuse = app.post("/login", json!({"ctx": flow, "email": "mfa@example.com", "password": PASSWORD})).await;
    assert_eq!((misuse.status, misuse.json()["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_flow")));
}

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_first() {
    let app = spawn_app().await;
    app.user("new@example.com", |u| u.permanent_password = false).await;

    let reply = app.login("new@example.com", PASSWORD).await;
    assert_eq!(reply.json()["challenge"], "new_password", "{}", reply.body);
    let flow = reply.json()["flow"].as_str().unwrap_or_default().to_owned();
    let wrong_answer = app.post("/login/challenge", json!({"flow": flow, "code": "123456"})).await;
    assert_eq!(wrong_answer.status, StatusCode::BAD_REQUEST);

    let answered = app.post("/login/challenge", json!({"flow": flow, "new_password": "Brand-New-Passw0rd!"})).await;
    zendesk_claims(&app, &answered).await;
    zendesk_claims(&app, &app.login("new@example.com", "Brand-New-Passw0rd!").await).await;
}

#[tokio::test]
async fn forgot_password_then_reset_signs_in_with_the_new_password() {
    let app = spawn_app().await;
    app.user("forgetful@example.com", |_| {}).await;
    let ctx = app.ctx().await;

    for email in ["forgetful@example.com", "nobody@example.com"] {
        let reply = app.post("/password/forgot", json!({"ctx": ctx, "email": email})).await;
        assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!({"status": "code_sent"})), "{email}");
    }
    let email = app.last_email("forgetful@example.com");
    assert_eq!((email["kind"].as_str(), email["subject"].as_str()), (Some("CustomMessage_ForgotPassword"), Some("Reset your Acme Help password")));
    let code = email["code"].as_str().unwrap_or_default().to_owned();
    assert!(email["html"].as_str().unwrap_or_default().contains(&format!("<strong>{code}</strong>")), "{email}");
    let wrong = app.post("/password/reset", json!({"ctx": ctx, "email": "forgetful@example.com", "code": "000000", "new_password": "Reset-Passw0rd!"})).await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("code_mismatch")), "{}", wrong.body);
    let reset = app.post("/password/reset", json!({"ctx": ctx, "email": "forgetful@example.com", "code": code, "new_password": "Reset-Passw0rd!"})).await;
    zendesk_claims(&app, &reset).await;
    assert_eq!(app.login("forgetful@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_app_clients_secret_is_required_on_a_password_sign_in_as_cognito_requires_it() {
    use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
    let app = spawn_app().await;
    app.user("hashed@example.com", |_| {}).await;
    let secret = app.client_secret().await;
    let sign_in = |hash: Option<String>| {
        let call = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk)
            .initiate_auth()
            .client_id(&app.stack.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "hashed@example.com")
            .auth_parameters("PASSWORD", PASSWORD);
        match hash {
            Some(hash) => call.auth_parameters("SECRET_HASH", hash),
            None => call,
        }
        .send()
    };
    let hash = |secret: &str| shared::adapters::cognito::auth::secret_hash(&secret.to_owned().into(), "hashed@example.com", &app.stack.client_id);
    for (hash, what) in [(None, "none"), (Some(hash("another secret")), "another secret's")] {
        let refused = sign_in(hash).await.map(drop).map_err(|e| e.into_service_error().meta().code().map(str::to_owned));
        assert_eq!(refused, Err(Some("NotAuthorizedException".to_owned())), "{what}");
    }
    let signed_in = sign_in(Some(hash(&secret))).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(signed_in.authentication_result.is_some());
}

#[tokio::test]
async fn id_tokens_are_checked_against_the_pools_published_keys() {
    use shared::adapters::http::jwks::{HttpKeys, JwksVerifier};
    use shared::signin::ports::{IdTokenVerifier, TokenRejected};

    let app = spawn_app().await;
    app.user("keys@example.com", |_| {}).await;
    // As the bridge signs in: through its sign-in client, by the admin flow.
    let out = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk)
        .admin_initiate_auth()
        .user_pool_id(&app.stack.user_pool_id)
        .client_id(&app.stack.sign_in_client_id)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "keys@example.com")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters(
            "SECRET_HASH",
            shared::adapters::cognito::auth::secret_hash(&app.stack.sign_in_client_secret.clone().into(), "keys@example.com", &app.stack.sign_in_client_id),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let result = out.authentication_result.unwrap_or_else(|| panic!("no tokens"));
    let id_token = result.id_token.unwrap_or_default();
    let access_token = result.access_token.unwrap_or_default();

    let pool = &app.stack.user_pool_id;
    let issuer = format!("https://cognito-idp.ap-northeast-1.amazonaws.com/{pool}");
    let verifier = |aud: &str, iss: &str| {
        let keys = HttpKeys::new(format!("{}/{pool}/.well-known/jwks.json", moto()), &app.sdk);
        JwksVerifier::new(iss, vec![aud.to_owned()], Box::new(keys))
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let good = verifier(&app.stack.sign_in_client_id, &issuer);
    let claims = good.verify(&id_token, now).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims["email"], "keys@example.com");

    for other in ["another-client", app.stack.client_id.as_str()] {
        assert_eq!(verifier(other, &issuer).verify(&id_token, now).await, Err(TokenRejected::Invalid("audience")), "{other}");
    }
    assert_eq!(verifier(&app.stack.sign_in_client_id, &format!("{issuer}x")).verify(&id_token, now).await, Err(TokenRejected::Invalid("issuer")));
    assert_eq!(good.verify(&id_token, now + 2 * 3600).await, Err(TokenRejected::Invalid("expired")));
    assert!(good.verify(&access_token, now).await.is_err(), "an access token is not an ID token");

    // Altered payload, `alg: none`, HS256 signed with the public key's bytes, and an unknown kid.
    let parts: Vec<&str> = id_token.split('.').collect();
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let mut forged = claims.clone();
    forged["email"] = "ceo@example.com".into();
    let forged_payload = b64(&Value::Object(forged));
    for token in [
        format!("{}.{forged_payload}.{}", parts[0], parts[2]),
        format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": "dummy"})), parts[1]),
        format!("{}.{}.{}", b64(&json!({"alg": "HS256", "typ": "JWT", "kid": "dummy"})), parts[1], parts[2]),
        format!("{}.{}.{}", b64(&json!({"alg": "RS256", "typ": "JWT", "kid": "rotated-away"})), parts[1], parts[2]),
        "not.a.token".to_owned(),
    ] {
        assert!(matches!(good.verify(&token, now).await, Err(TokenRejected::Invalid(_))), "{token}");
    }
}

/// The pool's keys are on Cognito's own host, and the login function fetches them through the
/// SDK's client at init: the connection that opens is the one the first `InitiateAuth` takes.
/// Against a stand-in for that host which keeps connections open (moto closes each one), the
/// keys and then a Cognito call use one connection.
#[tokio::test]
async fn the_pools_keys_open_the_connection_cognito_calls_take() {
    use axum::routing::{get, post};
    use axum::serve::ListenerExt;
    use shared::adapters::http::jwks::{HttpKeys, KeySource};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let host = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let listener = listener.tap_io(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let cognito = axum::Router::new()
        .route("/{pool}/.well-known/jwks.json", get(|| async { axum::Json(json!({"keys": []})) }))
        .route("/", post(|| async { ([("content-type", "application/x-amz-json-1.1")], "{}") }));
    tokio::spawn(async move { axum::serve(listener, cognito).await });

    let sdk = shared::testing::moto_sdk(&host, &CallLog::default()).await;
    let keys = HttpKeys::new(format!("{host}/ap-northeast-1_pool/.well-known/jwks.json"), &sdk).fetch().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(keys, r#"{"keys":[]}"#);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    // As at cold start, the call comes once the keys are in: hyper gives the connection back to
    // its pool from a task of its own, just after the body is read.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    aws_sdk_cognitoidentityprovider::Client::new(&sdk).describe_user_pool().user_pool_id("ap-northeast-1_pool").send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(connections.load(Ordering::SeqCst), 1, "the Cognito call took the connection the keys opened");
}
