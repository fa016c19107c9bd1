//! Corporate sign-in end to end: the login function against moto and a real OpenID provider
//! (`oidc-provider`, `demo/company-idp`) standing in for the company. A cookie-keeping HTTP
//! client plays the browser at the provider; our own endpoints are called through the handler.

use crate::harness::*;
use crate::scim_harness::{ScimTest, scim_for};
use bridge_admin::orgs::Orgs;
use http::StatusCode;
use serde_json::{Value, json};
use shared::common::hashing::digest;
use shared::common::secrets::SecretRef;
use shared::directory::org::{Connection, OrgPolicies, Organisation, Provisioning};
use shared::signin::corporate::PendingLogins;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

pub const CLIENT_ID: &str = "bridge";
pub const CLIENT_SECRET: &str = "company-client-secret";
const EMPLOYEE_PASSWORD: &str = "Corp-Passw0rd!";

/// The company's provider, started once per run; its issuer URL.
fn company_idp() -> &'static str {
    static IDP: OnceLock<String> = OnceLock::new();
    IDP.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut child = Command::new("node")
            .args(["demo/company-idp/idp.mjs", "--port", "0", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--exit-with-stdin"])
            .args(["--redirect-uri", &format!("{API}/corporate/callback"), "--post-logout-redirect-uri", &format!("{API}/logout/done")])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the company's provider (run scripts/setup.sh first): {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let issuer = line.trim().strip_prefix("READY issuer=").unwrap_or_else(|| panic!("the provider did not start: {line:?}")).to_owned();
        // Its stdin stays open (`wait` would close it) until this process exits; then it exits too.
        let stdin = child.stdin.take();
        std::thread::spawn(move || {
            let _open = stdin;
            child.wait()
        });
        issuer
    })
}

/// The provider counts back-channel requests for everyone: tests that use it take turns, so
/// one test's counts are its own.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

async fn backchannel() -> Value {
    reqwest::get(format!("{}/__backchannel", company_idp())).await.unwrap().json().await.unwrap()
}

pub struct Company {
    pub app: TestApp,
    pub org: Organisation,
    pub orgs: Orgs,
}

/// A stack with an organisation owning `corp.example`, connected to the company's provider.
async fn connected(provisioning: Provisioning, single_logout: bool) -> Company {
    connect(json!({"kind": "oidc", "issuer": company_idp(), "client_id": CLIENT_ID, "provisioning": provisioning, "single_logout": single_logout})).await
}

/// A stack with an organisation owning `corp.example` and this connection (its client secret
/// is `CLIENT_SECRET`, in Secrets Manager).
pub async fn connect(connection: Value) -> Company {
    let app = spawn_app().await;
    let secret = format!("{}/connections/corp", app.stack.table);
    aws_sdk_secretsmanager::Client::new(&app.sdk).create_secret().name(&secret).secret_string(CLIENT_SECRET).send().await.unwrap();
    let orgs = Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let org = orgs.create("Example Corp", &["corp.example".into()], OrgPolicies::default()).await.unwrap();
    let connection: Connection = serde_json::from_value(connection).unwrap();
    // Under a secret of the test's own name: written to the store directly.
    let connected =
        Organisation { connection: Some(Connection { client_secret: Some(SecretRef(secret)), ..connection }), version: org.version + 1, ..org.clone() };
    shared::directory::ports::OrgStore::update(&*orgs.store, &org, &connected).await.unwrap();
    let org = connected;
    app.calls.take();
    Company { app, org, orgs }
}

/// A browser at the company's provider: keeps cookies, follows nothing by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Follows the provider's pages (signing in as `login` where asked) until it sends the browser
/// back to us; returns that URL.
async fn through_provider(browser: &reqwest::Client, mut url: String, login: &str) -> String {
    for _ in 0..12 {
        if url.starts_with(API) {
            return url;
        }
        let response = browser.get(&url).send().await.unwrap();
        if let Some(next) = response.headers().get("location") {
            url = resolve(&url, next.to_str().unwrap());
            continue;
        }
        let page = response.text().await.unwrap();
        let next = if let Some(action) = attribute_after(&page, "<form method=\"post\" action=\"") {
            // Our login page.
            let form = [("login", login), ("password", EMPLOYEE_PASSWORD)];
            browser.post(resolve(&url, &action)).form(&form).send().await.unwrap()
        } else if let Some(action) = attribute_after(&page, "id=\"op.logoutForm\" method=\"post\" action=\"") {
            // The provider's own sign-out confirmation.
            let xsrf = form_field(&page, "xsrf").unwrap();
            browser.post(resolve(&url, &action)).form(&[("xsrf", xsrf.as_str()), ("logout", "yes")]).send().await.unwrap()
        } else {
            panic!("unexpected page at {url}: {page}");
        };
        let location = next.headers().get("location").unwrap_or_else(|| panic!("no redirect after a form at {url}")).to_str().unwrap().to_owned();
        url = resolve(&url, &location);
    }
    panic!("the provider never sent the browser back");
}

fn resolve(base: &str, location: &str) -> String {
    url::Url::parse(base).unwrap().join(location).unwrap().into()
}

pub fn path_of(url: &str) -> String {
    url.strip_prefix(API).unwrap_or_else(|| panic!("not ours: {url}")).to_owned()
}

/// The `jwt` field of a self-submitting form page, decoded without checks (the login tests
/// verify signatures; here the person matters).
pub fn jwt_claims(page: &str) -> Value {
    let jwt = form_field(page, "jwt").unwrap_or_else(|| panic!("no token in {page}"));
    let payload = jwt.split('.').nth(1).unwrap();
    use base64::Engine;
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Everything up to the provider's redirect back: start, the binding cookie, the provider.
async fn to_callback(app: &TestApp, email: &str, login: &str) -> (String, String, reqwest::Client) {
    let ctx = app.ctx().await;
    // The form's first step: the email alone sends the person on to their company.
    let started = app.post("/login/identify", json!({"ctx": ctx, "email": email})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.json()["status"], "redirect", "{}", started.body);
    // The browser that opened the form (its device cookie) goes on to the provider.
    let go = app.send("GET", &path_of(started.json()["url"].as_str().unwrap()), &[("cookie", &app.browser_cookie())], None).await;
    assert_eq!(go.status, StatusCode::FOUND, "{}", go.body);
    let binding = set_cookie(&go, "__Host-bridge_corporate").expect("a binding cookie");
    let authorize = go.header("location").unwrap().to_owned();
    assert!(authorize.starts_with(company_idp()), "{authorize}");
    let browser = browser();
    let callback = through_provider(&browser, authorize, login).await;
    (callback, binding, browser)
}

async fn corporate_sign_in(app: &TestApp, email: &str) -> (Reply, reqwest::Client) {
    let (callback, binding, browser) = to_callback(app, email, email).await;
    // The browser that opened the form brings its device cookie back too.
    let cookies = [binding, app.browser_cookie()].into_iter().filter(|c| !c.is_empty()).collect::<Vec<_>>().join("; ");
    (app.send("GET", &path_of(&callback), &[("cookie", &cookies)], None).await, browser)
}

#[tokio::test]
async fn a_new_employee_signs_in_at_the_company_and_opens_a_second_app_without_a_prompt() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, true).await;
    let app = &company.app;

    let (reply, browser) = corporate_sign_in(app, "Taro@Corp.Example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let claims = jwt_claims(&reply.body);
    assert_eq!((claims["email"].as_str(), claims["name"].as_str()), (Some("taro@corp.example"), Some("山田 太郎")));
    let cookie = set_cookie(&reply, "__Host-bridge_session").expect("a session");
    assert!(reply.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("__Host-bridge_corporate=;")), "binding cleared");

    // The person is a Cognito user of the organisation now.
    let user = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk)
        .admin_get_user()
        .user_pool_id(&app.stack.user_pool_id)
        .username("taro@corp.example")
        .send()
        .await
        .unwrap();
    let org_attr = user.user_attributes().iter().find(|a| a.name() == "custom:org_id").and_then(|a| a.value().map(str::to_owned));
    assert_eq!(org_attr.as_deref(), Some(company.org.id.as_str()));

    // Warm: the provider sees exactly one back-channel request (the token exchange).
    let before = backchannel().await;
    let (again, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let after = backchannel().await;
    let delta = |k: &str| after[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert_eq!((delta("discovery"), delta("jwks"), delta("token")), (0, 0, 1));

    // A second app opens from the session, without a prompt.
    let community = "https://community.example.com";
    let origin = shared::tokens::return_to::Origin::parse(community).unwrap();
    let second = shared::tokens::app::App {
        id: shared::tokens::app::AppId::parse("acme-community").unwrap(),
        name: "Acme Community".into(),
        target: shared::tokens::targets::Target::Zendesk(shared::tokens::targets::zendesk::ZendeskTarget {
            account_url: origin.clone(),
            delivery: shared::tokens::targets::zendesk::DeliveryMethod::Post,
        }),
        allowed_origins: vec![origin],
        ..demo_app()
    };
    app.apps.create(second, Some(&"community-secret".to_owned().into())).await.unwrap();
    let sso = app.send("GET", "/sso/acme-community", &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.body);
    assert!(sso.body.contains(&format!("action=\"{community}/access/jwt\"")), "{}", sso.body);
    assert_eq!(jwt_claims(&sso.body)["email"], "taro@corp.example");
    // Warm, an app costs one DynamoDB read (the session with its user's revocation) and no
    // Cognito call.
    app.calls.take();
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.body);
    assert_eq!(jwt_claims(&sso.body)["email"], "taro@corp.example");
    assert_eq!(app.calls.take(), vec!["DynamoDB_20120810.BatchGetItem".to_owned()]);

    // Single sign-out: our session ends, then the provider's, then back to the form.
    let out = app.send("GET", &format!("/sso/{APP}/logout"), &[("cookie", &cookie)], None).await;
    let end_session = out.header("location").unwrap().to_owned();
    assert!(end_session.starts_with(&format!("{}/session/end", company_idp())), "{end_session}");
    let done = through_provider(&browser, end_session, "").await;
    assert!(done.starts_with(&format!("{API}/logout/done")), "{done}");
    let form = app.send("GET", &path_of(&done), &[], None).await;
    assert_eq!(form.location_param("notice").as_deref(), Some("signed_out"));
    assert!(form.location_param("ctx").is_some());
    let after_logout = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert!(after_logout.location_param("ctx").is_some(), "the session is over");
}

/// An app that admits only the organisation's people lets a new employee in at their first
/// sign-in (the organisation they were just taken into counts at once); an app that admits only
/// a group they are not in refuses them at the callback: back to the form with `not_assigned`
/// (which the form says in the person's language), recorded, and no session.
#[tokio::test]
async fn an_apps_access_counts_at_a_corporate_sign_in_the_organisation_taken_into_at_once() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let id = shared::tokens::app::AppId::parse(APP).unwrap();
    let restrict = |access: shared::tokens::app::Access| {
        let (app, id) = (&company.app, id.clone());
        async move {
            let mut demo = app.apps.get(&id).await.unwrap();
            demo.access = access;
            app.apps.update(demo).await.unwrap();
            app.another_instance()
        }
    };
    // An account of the pool's own, from before the company came: its first corporate sign-in
    // takes it into the organisation.
    company.app.user("taro@corp.example", |_| {}).await;
    let org_only = restrict(shared::tokens::app::Access { groups: vec![], organisations: vec![company.org.id.clone()] }).await;
    let (first, _) = corporate_sign_in(&org_only, "taro@corp.example").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let agents_only = restrict(shared::tokens::app::Access { groups: vec!["agents".into()], organisations: vec![] }).await;
    let sessions = agents_only.items_under("SESSION#").await;
    let (refused, _) = corporate_sign_in(&agents_only, "taro@corp.example").await;
    assert_eq!(refused.location_param("error").as_deref(), Some("not_assigned"), "back to the form, which says why: {:?}", refused.header("location"));
    assert!(set_cookie(&refused, "__Host-bridge_session").is_none_or(|c| c.starts_with("__Host-bridge_session=;")), "no session cookie");
    assert_eq!(agents_only.items_under("SESSION#").await, sessions, "no session");
    let refusal = agents_only.events().await.into_iter().find(|e| e.detail.get("reason").is_some_and(|r| r == "not_assigned")).expect("recorded");
    assert_eq!((refusal.context.method.as_deref(), refusal.user.email.as_deref()), (Some("corporate"), Some("taro@corp.example")));
}

#[tokio::test]
async fn scim_decides_who_may_sign_in_and_deactivation_ends_it() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::Scim, false).await;
    let app = &company.app;

    // Not provisioned yet: refused, back on the form with the reason; no session.
    let (refused, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(refused.location_param("error").as_deref(), Some("not_provisioned"), "{:?}", refused.header("location"));
    assert!(refused.location_param("ctx").is_some());
    assert_eq!(app.items_under("SESSION#").await, 0);

    // The company provisions Jiro through SCIM; now the sign-in works.
    let (token, _) = company.orgs.issue_token(company.org.id.as_str(), "okta", 0).await.unwrap();
    let scim = ScimTest { scim: scim_for(app, &[]), org: company.org.clone(), token, app: app.another_instance() };
    let id = scim.create_user("jiro@corp.example", json!({"name": {"givenName": "Jiro", "familyName": "Sato"}})).await;
    let (reply, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = set_cookie(&reply, "__Host-bridge_session").unwrap();

    // Deactivated through SCIM: the provider still vouches for Jiro, the bridge refuses.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let deactivated_at = shared::common::time::unix_now();
    assert_eq!(scim.call("PATCH", &format!("/Users/{id}"), Some(patch)).await.status, StatusCode::OK);
    let (refused, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(refused.location_param("error").as_deref(), Some("account_deactivated"));
    // And the session from before stopped working at once.
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert!(sso.location_param("ctx").is_some(), "{}", sso.body);
    // So did any console token of Jiro's (`admin_api.rs` shows the mark refusing them).
    assert!(app.console_not_before("jiro@corp.example").await >= Some(deactivated_at), "the console tokens' mark");
}

#[tokio::test]
async fn a_person_deleted_and_provisioned_again_signs_in_as_the_new_user() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::Scim, false).await;
    let app = &company.app;
    let (token, _) = company.orgs.issue_token(company.org.id.as_str(), "okta", 0).await.unwrap();
    let scim = ScimTest { scim: scim_for(app, &[]), org: company.org.clone(), token, app: app.another_instance() };
    let id = scim.create_user("jiro@corp.example", json!({})).await;
    let (reply, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let first = jwt_claims(&reply.body)["external_id"].clone();

    // Offboarded: the company deletes Jiro, and the Cognito user goes (as `scim-sync` deletes it).
    assert_eq!(scim.call("DELETE", &format!("/Users/{id}"), None).await.status, StatusCode::NO_CONTENT);
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    pool.admin_delete_user().user_pool_id(&app.stack.user_pool_id).username("jiro@corp.example").send().await.unwrap();
    let (refused, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(refused.location_param("error").as_deref(), Some("not_provisioned"), "{:?}", refused.header("location"));

    // Hired again: a new Cognito user. The provider's subject is the same, the old link leads
    // nowhere; the sign-in finds the new user by email as a first one does, and links it.
    scim.create_user("jiro@corp.example", json!({})).await;
    let (reply, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = jwt_claims(&reply.body)["external_id"].clone();
    assert_ne!(first, second, "the new user, not the old one");
    let (again, _) = corporate_sign_in(app, "jiro@corp.example").await;
    assert_eq!(jwt_claims(&again.body)["external_id"], second);
}

#[tokio::test]
async fn on_first_sign_in_a_person_whose_user_was_deleted_gets_a_new_one() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let (reply, _) = corporate_sign_in(app, "taro@corp.example").await;
    let first = jwt_claims(&reply.body)["external_id"].clone();
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    pool.admin_delete_user().user_pool_id(&app.stack.user_pool_id).username("taro@corp.example").send().await.unwrap();
    // The company's provider decides who signs in: the old link leads nowhere, a new user is made.
    let (reply, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_ne!(jwt_claims(&reply.body)["external_id"], first);
}

/// Saving a connection the operators' way reads the provider's discovery document and keeps it:
/// a cold instance then signs in with no discovery request at all. A save that cannot read it
/// drops the old one (it was another issuer's).
#[tokio::test]
async fn a_connection_keeps_its_providers_metadata_so_sign_in_skips_discovery() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let settings =
        |issuer: &str| serde_json::from_value(json!({"kind": "oidc", "issuer": issuer, "client_id": CLIENT_ID, "provisioning": "on_first_sign_in"})).unwrap();
    let before = backchannel().await;
    let saved = company.orgs.connect(company.org.id.as_str(), settings(company_idp())).await.unwrap();
    let delta = |after: &Value, before: &Value, k: &str| after[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert_eq!(delta(&backchannel().await, &before, "discovery"), 1, "read once, when saved");
    let kept = company.orgs.get(company.org.id.as_str()).await.unwrap().connection.and_then(|c| c.metadata);
    assert_eq!(kept.as_ref().map(|m| m.issuer.as_str()), Some(company_idp()), "kept in the table");
    assert_eq!(kept, saved.connection.and_then(|c| c.metadata));

    // A fresh instance: nothing cached, yet no discovery.
    let app = company.app.another_instance();
    let before = backchannel().await;
    let (reply, _) = corporate_sign_in(&app, "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    let after = backchannel().await;
    assert_eq!((delta(&after, &before, "discovery"), delta(&after, &before, "jwks"), delta(&after, &before, "token")), (0, 1, 1));

    // Other changes keep it: the settings, a SCIM token.
    let id = company.org.id.as_str();
    company
        .orgs
        .change(id, |s| {
            s.name = "Example Corp KK".into();
            Ok(())
        })
        .await
        .unwrap();
    company.orgs.issue_token(id, "kept", 1).await.unwrap();
    assert_eq!(company.orgs.get(id).await.unwrap().connection.and_then(|c| c.metadata), kept);

    // Another issuer whose document cannot be read (its client secret entered again, as a new
    // issuer needs): saved, with no metadata (sign-in reads it), and the first issuer's document
    // is gone from the item.
    let elsewhere = json!({"kind": "oidc", "issuer": "https://idp.unreachable.example", "client_id": CLIENT_ID, "client_secret": "another-secret"});
    let moved = company.orgs.connect(id, serde_json::from_value(elsewhere).unwrap()).await.unwrap();
    assert_eq!(moved.connection.as_ref().map(|c| (c.issuer.as_str(), c.metadata.is_none())), Some(("https://idp.unreachable.example", true)));
    let item = aws_sdk_dynamodb::Client::new(&company.app.sdk)
        .get_item()
        .table_name(&company.app.stack.table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{id}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("ORG".into()))
        .send()
        .await
        .unwrap();
    let item = item.item().expect("the organisation's item");
    assert!(item.contains_key("data") && !item.contains_key("provider_metadata"), "{:?}", item.keys().collect::<Vec<_>>());
}

/// A save whose read of the document fails keeps the document kept for the same issuer.
#[tokio::test]
async fn a_save_that_cannot_read_the_document_keeps_the_one_kept_for_that_issuer() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // A provider whose discovery answers once, then fails.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let answered = Arc::new(AtomicBool::new(false));
    let document = json!({"issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"), "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks")});
    let route = axum::routing::get({
        let answered = answered.clone();
        move || async move {
            match answered.swap(true, Ordering::SeqCst) {
                false => (StatusCode::OK, axum::Json(document)),
                true => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({}))),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/.well-known/openid-configuration", route)).await });

    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let id = company.org.id.as_str();
    // (Its client secret given each time: the company's connection had another issuer.)
    let settings = || serde_json::from_value(json!({"kind": "oidc", "issuer": issuer, "client_id": CLIENT_ID, "client_secret": "local-secret"})).unwrap();
    let first = company.orgs.connect(id, settings()).await.unwrap().connection.and_then(|c| c.metadata);
    assert_eq!(first.as_ref().map(|m| m.token_endpoint.clone()), Some(format!("{issuer}/token")));
    let again = company.orgs.connect(id, settings()).await.unwrap().connection.and_then(|c| c.metadata);
    assert!(answered.load(Ordering::SeqCst));
    assert_eq!(again, first, "the provider failed the second read: the first document stays");
    assert_eq!(company.orgs.get(id).await.unwrap().connection.and_then(|c| c.metadata), first);
}

/// The email typed on the form only finds the organisation (and is the provider's `login_hint`):
/// whoever the company's provider vouches for is who signs in, linked or not, whatever was typed.
/// A callback that brings no identity reads nothing from the user pool.
#[tokio::test]
async fn the_typed_email_does_not_decide_who_signs_in() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let (taro, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(jwt_claims(&taro.body)["email"], "taro@corp.example", "{}", taro.body);

    // Jiro types Taro's address, then signs in at the company as himself: first as a new person
    // (no link yet), then again (linked).
    for round in ["first", "linked"] {
        let (callback, binding, _) = to_callback(app, "taro@corp.example", "jiro@corp.example").await;
        let reply = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{round}: {}", reply.body);
        assert_eq!(jwt_claims(&reply.body)["email"], "jiro@corp.example", "{round}");
    }
    // Taro types Jiro's address: Taro.
    let (callback, binding, _) = to_callback(app, "jiro@corp.example", "taro@corp.example").await;
    let reply = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(jwt_claims(&reply.body)["email"], "taro@corp.example");

    // The provider says no: the state is spent, and the user pool is not read.
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let state = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    app.calls.take();
    let denied = app.send("GET", &format!("/corporate/callback?state={state}&error=access_denied"), &[("cookie", &binding)], None).await;
    assert_eq!(denied.location_param("error").as_deref(), Some("corporate_denied"));
    let calls = app.calls.take();
    assert!(!calls.iter().any(|c| c.starts_with("AWSCognitoIdentityProviderService.")), "{calls:?}");
    // Back on the form in the browser the callback answered (it showed no device cookie, and got
    // one): a password sign-in from there hands off in that browser.
    let device = set_cookie(&denied, "__Host-bridge_device").expect("a device cookie");
    app.user("hanako@example.com", |_| {}).await;
    let ctx = denied.location_param("ctx").expect("the form's context");
    let step = app.post("/login", json!({"ctx": ctx, "email": "hanako@example.com", "password": PASSWORD})).await;
    let form = format!("handoff={}", step.json()["handoff"].as_str().unwrap_or_else(|| panic!("{}", step.body)));
    assert_eq!(app.post_handoff(&form, &device).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_callback_refuses_other_browsers_reused_states_and_foreign_emails() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;

    // The provider's answer in a browser that did not start the sign-in (login CSRF).
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let other = app.send("GET", &path_of(&callback), &[("cookie", "__Host-bridge_corporate=someone-elses")], None).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.body);
    assert!(other.body.contains("corporate_state"));
    // The state was spent by that attempt: the right browser cannot replay it either.
    let replay = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    // A state we never issued.
    let made_up = app.send("GET", "/corporate/callback?state=made-up&code=x", &[("cookie", &binding)], None).await;
    assert_eq!(made_up.status, StatusCode::BAD_REQUEST);
    // The organisation leading a state is a hint for loading ahead, never trusted: another one
    // put in front (a made-up id, another company's, none) or the random part changed finds
    // nothing, and spends nothing: the real state still signs the person in once.
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let state = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let (org, random) = state.split_once('.').expect("the organisation, a dot, the random part");
    assert_eq!(org, company.org.id.as_str());
    let code = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let other_org = company.orgs.create("Other Inc", &["other.example".into()], OrgPolicies::default()).await.unwrap().id;
    let before = backchannel().await;
    for forged in [format!("org-made-up.{random}"), format!("{other_org}.{random}"), random.to_owned(), format!("{org}.{random}x"), format!("{org}.")] {
        let reply = app.send("GET", &format!("/corporate/callback?state={forged}&code={code}"), &[("cookie", &binding)], None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{forged}: {}", reply.body);
        assert!(reply.body.contains("corporate_state"), "{forged}: {}", reply.body);
    }
    // Nor does it make us call the company's provider (its keys, not loaded yet, included).
    assert_eq!(backchannel().await, before, "a forged state spends no code and calls nothing outside the table");
    let real = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.body);
    // Shown again with its own cookie, the spent state is refused; its code, exchanged beside
    // the take, reaches the provider once more (which refuses a code used before).
    let before = backchannel().await;
    let again = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(backchannel().await["token"].as_u64(), before["token"].as_u64().map(|n| n + 1));
    // A binding cookie made for another of this browser's states, or changed by one character,
    // exchanges no code; each spends the state it was shown with.
    let (first, first_binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let (second, second_binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let before = backchannel().await;
    let crossed = app.send("GET", &path_of(&second), &[("cookie", &first_binding)], None).await;
    assert_eq!(crossed.status, StatusCode::BAD_REQUEST, "{}", crossed.body);
    let (name, value) = first_binding.split_once('=').unwrap();
    let flipped = if value.as_bytes()[40] == b'A' { 'B' } else { 'A' };
    let tampered = format!("{name}={}{flipped}{}", &value[..40], &value[41..]);
    let reply = app.send("GET", &path_of(&first), &[("cookie", &tampered)], None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(backchannel().await["token"], before["token"], "no code was exchanged");
    for (callback, binding) in [(&first, &first_binding), (&second, &second_binding)] {
        assert_eq!(app.send("GET", &path_of(callback), &[("cookie", binding)], None).await.status, StatusCode::BAD_REQUEST, "spent");
    }
    // Nor does a pending sign-in moved under a state that names another organisation complete:
    // the binding cookie names the state it was made for, and its organisation.
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let param = |name: &str| url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == name).unwrap().1.into_owned();
    let pending_logins = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let pending = PendingLogins::take(&pending_logins, &digest(&param("state"))).await.unwrap().expect("the pending sign-in");
    let moved = format!("{other_org}.{}", param("state").split_once('.').unwrap().1);
    PendingLogins::put(&pending_logins, &digest(&moved), &pending).await.unwrap();
    let reply = app.send("GET", &format!("/corporate/callback?state={moved}&code={}", param("code")), &[("cookie", &binding)], None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("corporate_state"), "{}", reply.body);

    // The company vouches for someone whose email is not one of the organisation's domains.
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "ken@elsewhere.example").await;
    let foreign = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(foreign.location_param("error").as_deref(), Some("corporate_outside_domain"));

    // The provider says no.
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let state = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let denied = app.send("GET", &format!("/corporate/callback?state={state}&error=access_denied"), &[("cookie", &binding)], None).await;
    assert_eq!(denied.location_param("error").as_deref(), Some("corporate_denied"));

    // An unknown domain reads like any other: no company sign-in for it.
    let ctx = app.ctx().await;
    let unknown = app.post("/corporate/start", json!({"ctx": ctx, "email": "a@unknown.example"})).await;
    assert_eq!((unknown.status, unknown.json()["error"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_domain")));
    // Typed first, any address outside an organisation reads the same, account or not.
    let identify = |email: &str| app.post("/login/identify", json!({"ctx": ctx, "email": email}));
    let known = app.user("kazu@example.com", |_| {}).await;
    assert!(!known.is_empty());
    let someone = identify("kazu@example.com").await;
    assert_eq!((someone.status, someone.body.as_str()), (StatusCode::OK, r#"{"status":"sign_in"}"#));
    for email in ["nobody@unknown.example", "Nobody@Example.COM"] {
        let reply = identify(email).await;
        assert_eq!((reply.status, &reply.body), (someone.status, &someone.body), "{email}");
    }
    let not_an_email = identify("taro at corp.example").await;
    assert_eq!((not_an_email.status, not_an_email.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_email")));
    let forged = app.post("/login/identify", json!({"ctx": "a.b", "email": "taro@corp.example"})).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);

    assert_eq!(app.items_under("SESSION#").await, 1, "no refused attempt left a session behind (the one is the real sign-in's)");
}

/// A callback reaching an instance that cannot load the bridge's key (Secrets Manager failing):
/// the state is spent, no code is exchanged, and the person gets a page saying to try again, not
/// a server error.
#[tokio::test]
async fn a_callback_on_an_instance_without_its_key_spends_the_state_and_exchanges_nothing() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    let broken = shared::adapters::local_stack::LocalStack { bridge_secret_id: format!("{}-missing", app.stack.bridge_secret_id), ..app.stack.clone() };
    let without_key = login_for(&app.sdk, &broken, moto());
    let before = backchannel().await;
    let reply = send_to(&without_key, "GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{:?} {}", reply.header("location"), reply.body);
    assert!(reply.body.contains("<html") && !reply.body.to_lowercase().contains("secretsmanager"), "{}", reply.body);
    assert_eq!(backchannel().await["token"], before["token"], "no code was exchanged");
    // The state was good once: the healthy instance refuses it now.
    let again = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert_eq!(app.items_under("SESSION#").await, 0);
}

#[tokio::test]
async fn a_corporate_sign_in_asks_for_the_terms_on_the_form_then_hands_off_like_a_password_one() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let store = shared::adapters::dynamo::consents::DynamoConsents::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let pool = shared::adapters::cognito::directory::CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&app.sdk), &app.stack.user_pool_id);
    let audit = shared::adapters::dynamo::audit::DynamoAudit::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let admin = shared::admin::consent::ConsentAdmin { store: std::sync::Arc::new(store), audit: std::sync::Arc::new(audit), pool: std::sync::Arc::new(pool) };
    let terms = shared::consent::document::Localized { ja: "利用規約".into(), en: "Terms".into() };
    let url = shared::consent::document::Localized { ja: "https://acme.example.com/ja/terms".into(), en: "https://acme.example.com/en/terms".into() };
    let draft = shared::admin::consent::Draft {
        id: shared::consent::document::DocumentId::parse("terms").unwrap(),
        version: None,
        required: Some(true),
        title: terms,
        url,
    };
    admin.publish(&shared::admin::audit::Actor::cli(), draft, 1).await.unwrap();

    let (reply, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert!(reply.header("location").unwrap().starts_with(FORM), "to the form");
    assert!(set_cookie(&reply, "__Host-bridge_session").is_none(), "no session before consent");
    let flow = reply.location_param("consent").expect("the consent step");
    assert_eq!(reply.location_param("ctx"), None);
    let step = app.post("/consent/show", json!({"flow": flow})).await;
    assert_eq!(step.json()["documents"][0]["id"], "terms", "{}", step.body);
    let declined = app.post("/consent", json!({"flow": flow, "accepted": []})).await;
    assert_eq!(declined.json()["error"], "consent_required");
    let accepted = app.post("/consent", json!({"flow": flow, "accepted": ["terms"]})).await;
    let page = app.handoff(&accepted).await;
    assert_eq!(jwt_claims(&page.body)["email"], "taro@corp.example");
    let cookie = session_cookie(&page);
    let person = admin.of_person("taro@corp.example").await.unwrap();
    assert_eq!(person.records.len(), 1);
    // The next corporate sign-in is not asked again; nor is single sign-on.
    let (again, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.body);
}

/// Login CSRF through a corporate sign-in's consent step (`attacks.rs` tries the form's doors):
/// the attacker's browser drops its device cookie before the callback, and sends the step the
/// callback leads to to someone else. The callback binds the step to the device cookie it gives
/// the browser it answers, so the handoff plants no session elsewhere, and works there.
#[tokio::test]
async fn a_corporate_consent_step_carried_to_another_browser_plants_no_session() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    crate::consent::publish(app, "terms", true).await;
    for (person, browser) in [("taro@corp.example", None), ("jiro@corp.example", Some(()))] {
        let (callback, binding, _) = to_callback(app, person, person).await;
        let reply = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
        let flow = reply.location_param("consent").unwrap_or_else(|| panic!("{person}: {:?}", reply.header("location")));
        let accepted = crate::consent::answer(app, &flow, &["terms"]).await;
        let form = format!("handoff={}", accepted.json()["handoff"].as_str().unwrap_or_else(|| panic!("{}", accepted.body)));
        match browser {
            // Someone else's browser, without a device cookie or with its own.
            None => {
                for elsewhere in ["", "__Host-bridge_device=VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"] {
                    let planted = app.post_handoff(&form, elsewhere).await;
                    assert_eq!(planted.status, StatusCode::FORBIDDEN, "{elsewhere}: {}", planted.body);
                    assert!(planted.body.contains("other_browser") && planted.headers.get("set-cookie").is_none(), "{}", planted.body);
                }
            }
            Some(()) => {
                let device = set_cookie(&reply, "__Host-bridge_device").expect("the callback gives the browser a device cookie");
                assert_eq!(app.post_handoff(&form, &device).await.status, StatusCode::OK, "the browser the callback answered");
            }
        }
    }
}

/// Taro's form step at the demo app: the `/corporate/go` link it answers, and the cookie of the
/// browser that asked for it.
async fn link_to_provider(app: &TestApp) -> (String, String) {
    let ctx = app.ctx().await;
    let own = app.browser_cookie();
    let started = app.post("/login/identify", json!({"ctx": ctx, "email": "taro@corp.example"})).await;
    (path_of(started.json()["url"].as_str().unwrap_or_else(|| panic!("{}", started.body))), own)
}

/// Login CSRF through the door to the provider: someone starts a corporate sign-in for their own
/// account and sends the `/corporate/go` link to another browser. Opened there, it would bind the
/// sign-in to that browser (the binding cookie), and a provider that signs its own user in without
/// a prompt would plant their session in it. The link works only in the browser whose form asked
/// for it.
#[tokio::test]
async fn the_link_to_the_provider_works_only_in_the_browser_that_asked_for_it() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let (go, own) = link_to_provider(app).await;
    let before = backchannel().await;
    for elsewhere in ["", "__Host-bridge_device=VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV"] {
        let reply = app.send("GET", &go, &[("cookie", elsewhere)], None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{elsewhere}: {}", reply.body);
        assert!(reply.body.contains("other_browser"), "{}", reply.body);
        assert!(reply.headers.get("set-cookie").is_none() && reply.header("location").is_none(), "no binding, no provider: {:?}", reply.headers);
    }
    assert_eq!(backchannel().await, before, "nothing reached the provider");
    // The browser that asked still goes on, with the same link.
    let reply = app.send("GET", &go, &[("cookie", &own)], None).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert!(set_cookie(&reply, "__Host-bridge_corporate").is_some());
}

/// An OpenID Connect client that asks for a fresh sign-in (`prompt=login`, `max_age`) has the
/// company's provider asked for one too: its own session must not answer for the person.
#[tokio::test]
async fn a_fresh_sign_in_asked_by_an_openid_connect_client_is_asked_of_the_company_too() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let target = json!({"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"], "client_authentication": "none"});
    let client = serde_json::from_value(json!({"id": "tool", "name": "tool", "target": target, "allowed_origins": ["https://tool.example.com"]}));
    app.apps.create(client.unwrap_or_else(|e| panic!("{e}")), None).await.unwrap_or_else(|e| panic!("{e:#}"));
    for (extra, fresh) in [("", false), ("&prompt=login", true), ("&max_age=600", true)] {
        let authorize = format!(
            "/oauth2/authorize?client_id=tool&response_type=code&scope=openid&redirect_uri=https://tool.example.com/cb\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256{extra}"
        );
        let reply = app.send("GET", &authorize, &[], None).await;
        let ctx = reply.location_param("ctx").unwrap_or_else(|| panic!("{extra}: {:?}", reply.header("location")));
        let own = app.browser_cookie();
        let started = app.post("/login/identify", json!({"ctx": ctx, "email": "taro@corp.example"})).await;
        let go = path_of(started.json()["url"].as_str().unwrap_or_else(|| panic!("{}", started.body)));
        let to_provider = app.send("GET", &go, &[("cookie", &own)], None).await;
        assert_eq!(to_provider.status, StatusCode::FOUND, "{}", to_provider.body);
        let asked = (to_provider.location_param("prompt"), to_provider.location_param("max_age"));
        let expected = if fresh { (Some("login".to_owned()), Some("0".to_owned())) } else { (None, None) };
        assert_eq!(asked, expected, "{extra}");
    }
}

/// An OpenID Connect client's logout of a person who signed in at their company goes through the
/// company's single sign-out, then back to the client's page with its state.
#[tokio::test]
async fn a_clients_logout_goes_through_the_companys_sign_out_and_back_to_the_client() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, true).await;
    let app = &company.app;
    let target = json!({"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"], "post_logout_redirect_uris": ["https://tool.example.com/bye"],
                        "client_authentication": "none"});
    let client = serde_json::from_value(json!({"id": "tool", "name": "tool", "target": target, "allowed_origins": ["https://tool.example.com"]}));
    app.apps.create(client.unwrap_or_else(|e| panic!("{e}")), None).await.unwrap_or_else(|e| panic!("{e:#}"));
    let (reply, browser) = corporate_sign_in(app, "taro@corp.example").await;
    let cookie = set_cookie(&reply, "__Host-bridge_session").unwrap_or_else(|| panic!("a session: {}", reply.body));

    let out =
        app.send("GET", "/oauth2/logout?client_id=tool&post_logout_redirect_uri=https://tool.example.com/bye&state=s-1", &[("cookie", &cookie)], None).await;
    let end_session = out.header("location").unwrap_or_default().to_owned();
    assert!(end_session.starts_with(&format!("{}/session/end", company_idp())), "{end_session}");
    // The client's page rides encrypted: no part of the provider's `state` reads it.
    let state = url::Url::parse(&end_session).ok().and_then(|u| u.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned())).unwrap_or_default();
    for part in state.split('.') {
        let read = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&read).contains("tool.example.com"), "{state}");
    }
    let done = through_provider(&browser, end_session, "").await;
    assert!(done.starts_with(&format!("{API}/logout/done")), "{done}");
    let back = app.send("GET", &path_of(&done), &[], None).await;
    assert_eq!(back.header("location"), Some("https://tool.example.com/bye?state=s-1"));
    let after_logout = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert!(after_logout.location_param("ctx").is_some(), "the session is over");
}

/// An organisation that loses its connection between the form's step and the link to the
/// provider: the link sends the browser back to the form for the same app, which says so and
/// offers the other ways in (not a dead end), and nothing reaches a provider.
#[tokio::test]
async fn a_link_to_a_provider_the_organisation_no_longer_has_goes_back_to_the_form() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let before = backchannel().await;
    let app = &company.app;
    let (go, own) = link_to_provider(app).await;
    let unconnected = Organisation { connection: None, version: company.org.version + 1, ..company.org.clone() };
    shared::directory::ports::OrgStore::update(&*company.orgs.store, &company.org, &unconnected).await.unwrap();
    let app = TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..company.app };
    let reply = app.send("GET", &go, &[("cookie", &own)], None).await;
    assert_eq!((reply.status, reply.location_param("error").as_deref()), (StatusCode::FOUND, Some("unknown_domain")), "{}", reply.body);
    assert!(reply.header("location").unwrap().starts_with(FORM) && reply.location_param("ctx").is_some(), "{:?}", reply.header("location"));
    assert!(set_cookie(&reply, "__Host-bridge_corporate").is_none(), "no binding");
    assert_eq!(backchannel().await, before, "nothing reached the provider");
    // The form's context still names the app: its sign-in goes on with a password.
    let again = app.post("/login/identify", json!({"ctx": reply.location_param("ctx").unwrap(), "email": "taro@corp.example"})).await;
    assert_eq!(again.json()["status"], "sign_in", "{}", again.body);
}

/// A provider whose configuration cannot be read when the link is followed: back to the form,
/// which says company sign-in is unavailable for a moment.
#[tokio::test]
async fn a_link_to_a_provider_that_cannot_be_reached_goes_back_to_the_form() {
    // Nothing listens on the discard port.
    let company = connect(json!({"kind": "oidc", "issuer": "http://127.0.0.1:9", "client_id": CLIENT_ID, "provisioning": "on_first_sign_in"})).await;
    let (go, own) = link_to_provider(&company.app).await;
    let reply = company.app.send("GET", &go, &[("cookie", &own)], None).await;
    assert_eq!((reply.status, reply.location_param("error").as_deref()), (StatusCode::FOUND, Some("corporate_unavailable")), "{}", reply.body);
    assert!(reply.header("location").unwrap().starts_with(FORM) && reply.location_param("ctx").is_some());
}

#[tokio::test]
async fn an_organisation_that_also_allows_passwords_is_offered_first_not_forced() {
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let policies = OrgPolicies { password_sign_in: true, ..company.org.policies.clone() };
    let both = Organisation { policies, version: company.org.version + 1, ..company.org.clone() };
    shared::directory::ports::OrgStore::update(&*company.orgs.store, &company.org, &both).await.unwrap();
    let ctx = app.ctx().await;
    let offered = app.post("/login/identify", json!({"ctx": ctx, "email": "taro@corp.example"})).await.json();
    assert_eq!(offered["status"], "sign_in", "{offered}");
    assert!(offered["corporate"]["url"].as_str().unwrap().starts_with(&format!("{API}/corporate/go?flow=")), "{offered}");
    // The same for anyone on the domain: nothing about the person.
    let other = app.post("/login/identify", json!({"ctx": ctx, "email": "nobody@corp.example"})).await.json();
    assert_eq!((&other["status"], other.as_object().map(|o| o.len())), (&offered["status"], Some(2)), "{other}");
    assert!(other["corporate"]["url"].as_str().unwrap().starts_with(&format!("{API}/corporate/go?flow=")));
}

/// A disabled account stays disabled through a first corporate sign-in, whatever the case of the
/// email it was made with: signing in never re-enables anyone.
#[tokio::test]
async fn a_first_corporate_sign_in_never_enables_a_disabled_account() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    for email in ["taro@corp.example", "Jiro@Corp.Example"] {
        let username = app.user(email, |_| {}).await;
        pool.admin_disable_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await.unwrap();
        let (reply, _) = corporate_sign_in(app, &email.to_lowercase()).await;
        assert_eq!(reply.location_param("error").as_deref(), Some("account_deactivated"), "{email}: {} {}", reply.status, reply.body);
        let user = pool.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await.unwrap();
        assert!(!user.enabled(), "{email}: still disabled");
        assert!(!user.user_attributes().iter().any(|a| a.name() == "custom:org_id"), "{email}: not moved into the organisation");
    }
}

/// An operator's own account (a console role) is never taken into a company by its provider:
/// the first corporate sign-in is refused and the account stays out of the organisation.
#[tokio::test]
async fn a_first_corporate_sign_in_never_takes_an_operators_account() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let username = app.user("taro@corp.example", |u| u.groups = &["bridge-admin"]).await;
    let (reply, _) = corporate_sign_in(app, "taro@corp.example").await;
    assert_eq!(reply.location_param("error").as_deref(), Some("corporate_outside_domain"), "{} {}", reply.status, reply.body);
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let user = pool.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await.unwrap();
    assert!(!user.user_attributes().iter().any(|a| a.name() == "custom:org_id"), "not moved into the organisation");
    assert_eq!(app.items_under("SESSION#").await, 0, "no session");
}

/// A linked person's user is read beside the link, by the email the company's provider gives,
/// and taken only when the link leads to that very user. Agreeing, a callback reads the user pool
/// no more than before (one `AdminGetUser`, one `AdminListGroupsForUser`). When that email now
/// names a colleague's user, the link still decides, and the person's own user is read after it.
#[tokio::test]
async fn the_link_decides_who_signs_in_when_the_providers_email_names_a_colleague() {
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let app = &company.app;
    let pool = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let username_of = |email: &'static str| {
        let pool = pool.clone();
        async move { pool.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(email).send().await.unwrap().username().to_owned() }
    };
    let cognito_calls = |calls: Vec<String>| {
        let mut calls: Vec<String> = calls.into_iter().filter_map(|c| c.strip_prefix("AWSCognitoIdentityProviderService.").map(str::to_owned)).collect();
        calls.sort();
        calls
    };
    for email in ["taro@corp.example", "jiro@corp.example"] {
        assert_eq!(corporate_sign_in(app, email).await.0.status, StatusCode::OK);
    }
    let (taro, jiro) = (username_of("taro@corp.example").await, username_of("jiro@corp.example").await);

    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    app.calls.take();
    let linked = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(jwt_claims(&linked.body)["email"], "taro@corp.example", "{}", linked.body);
    assert_eq!(cognito_calls(app.calls.take()), ["AdminGetUser", "AdminListGroupsForUser"]);

    // Taro's user takes another address, and Jiro's, an administrator's, takes Taro's old one;
    // the provider still vouches for Taro as taro@corp.example.
    let group = "zendesk-admins";
    let pool_id = &app.stack.user_pool_id;
    pool.create_group().user_pool_id(pool_id).group_name(group).send().await.unwrap();
    pool.admin_add_user_to_group().user_pool_id(pool_id).username(&jiro).group_name(group).send().await.unwrap();
    for (username, email) in [(&taro, "taro.yamada@corp.example"), (&jiro, "taro@corp.example")] {
        let attributes = [("email", email), ("email_verified", "true")]
            .map(|(n, v)| aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name(n).value(v).build().unwrap());
        pool.admin_update_user_attributes()
            .user_pool_id(&app.stack.user_pool_id)
            .username(username)
            .set_user_attributes(Some(attributes.to_vec()))
            .send()
            .await
            .unwrap();
    }
    let (callback, binding, _) = to_callback(app, "taro@corp.example", "taro@corp.example").await;
    app.calls.take();
    let reply = app.send("GET", &path_of(&callback), &[("cookie", &binding)], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let claims = jwt_claims(&reply.body);
    assert_eq!((claims["email"].as_str(), claims["role"].as_str()), (Some("taro.yamada@corp.example"), Some("user")), "Taro's own user and groups");
    let cognito = cognito_calls(app.calls.take());
    assert_eq!(cognito, ["AdminGetUser", "AdminGetUser", "AdminListGroupsForUser", "AdminListGroupsForUser"], "the guess, then Taro's own");
}

/// The first callback reads the connection's client secret from Secrets Manager and keeps it,
/// sealed, in the organisation's record: a fresh instance signs in without reading Secrets
/// Manager for it (here shown by changing the value there, which it does not see). Any change
/// of the organisation drops the sealed copy, and the next callback reads Secrets Manager again.
#[tokio::test]
async fn the_client_secret_is_kept_sealed_for_the_next_cold_start_until_the_organisation_changes() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let _turn = exclusive().await;
    let company = connected(Provisioning::OnFirstSignIn, false).await;
    let id = company.org.id.as_str().to_owned();
    let sealed = || async {
        let item = aws_sdk_dynamodb::Client::new(&company.app.sdk)
            .get_item()
            .table_name(&company.app.stack.table)
            .key("pk", AttributeValue::S(format!("ORG#{id}")))
            .key("sk", AttributeValue::S("ORG".into()))
            .send()
            .await
            .unwrap();
        item.item().and_then(|i| i.get("sealed_secret")).and_then(|v| v.as_s().ok()).cloned()
    };
    assert_eq!(sealed().await, None);
    let (reply, _) = corporate_sign_in(&company.app, "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    let kept = sealed().await.expect("the secret kept, sealed, after the first callback");
    assert!(!kept.contains(CLIENT_SECRET), "never in plain text: {kept}");
    let view = company.orgs.get(&id).await.unwrap();
    assert!(!serde_json::to_string(&view).unwrap().contains(&kept), "not in the organisation as operators read it");

    // The value in Secrets Manager changes behind the bridge's back: a fresh instance still signs
    // in, with the sealed copy, so it did not read Secrets Manager.
    let secrets = aws_sdk_secretsmanager::Client::new(&company.app.sdk);
    let secret = company.org.connection.as_ref().and_then(|c| c.client_secret.clone()).unwrap().0;
    secrets.put_secret_value().secret_id(&secret).secret_string("not-the-client-secret").send().await.unwrap();
    let (reply, _) = corporate_sign_in(&company.app.another_instance(), "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);

    // Any change of the organisation drops it: a fresh instance reads Secrets Manager again (the
    // wrong value, which the provider refuses), and keeps nothing it could not use.
    company
        .orgs
        .change(&id, |s| {
            s.name = "Example Corp KK".into();
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(sealed().await, None, "dropped with the change");
    let (reply, _) = corporate_sign_in(&company.app.another_instance(), "taro@corp.example").await;
    assert_ne!(reply.status, StatusCode::OK, "Secrets Manager's value, read again: {}", reply.body);
    assert_eq!(sealed().await, None, "a value the provider refused is not kept");
    secrets.put_secret_value().secret_id(&secret).secret_string(CLIENT_SECRET).send().await.unwrap();
    let (reply, _) = corporate_sign_in(&company.app.another_instance(), "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    // Sealed anew, for the organisation's new version: used by the next fresh instance.
    secrets.put_secret_value().secret_id(&secret).secret_string("not-the-client-secret").send().await.unwrap();
    let (reply, _) = corporate_sign_in(&company.app.another_instance(), "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    secrets.put_secret_value().secret_id(&secret).secret_string(CLIENT_SECRET).send().await.unwrap();

    // A sealed copy the provider refuses (its client secret changed there and in Secrets Manager
    // directly): that callback fails and drops it, and the next reads Secrets Manager.
    let bridge = secrets.get_secret_value().secret_id(&company.app.stack.bridge_secret_id).send().await.unwrap();
    let bridge = shared::common::secrets::BridgeSecrets::parse(&bridge.secret_string().unwrap().to_owned().into()).unwrap();
    let org = company.orgs.get(&id).await.unwrap();
    let now = shared::common::time::unix_now();
    let stale =
        shared::signin::corporate::client_secret::seal(&bridge.flow_key, &org, &SecretRef(secret.clone()), &"the-old-one".to_owned().into(), now).unwrap();
    aws_sdk_dynamodb::Client::new(&company.app.sdk)
        .update_item()
        .table_name(&company.app.stack.table)
        .key("pk", AttributeValue::S(format!("ORG#{id}")))
        .key("sk", AttributeValue::S("ORG".into()))
        .update_expression("SET sealed_secret = :s")
        .expression_attribute_values(":s", AttributeValue::S(stale))
        .send()
        .await
        .unwrap();
    let instance = company.app.another_instance();
    let (reply, _) = corporate_sign_in(&instance, "taro@corp.example").await;
    assert_ne!(reply.status, StatusCode::OK, "the provider refuses the sealed value: {}", reply.body);
    assert_eq!(sealed().await, None, "dropped");
    // The same instance, whose cached organisation held that copy, reads Secrets Manager now.
    let (reply, _) = corporate_sign_in(&instance, "taro@corp.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    assert!(sealed().await.is_some(), "kept again, from Secrets Manager");
}
