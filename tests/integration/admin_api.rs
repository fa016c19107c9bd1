//! The admin API against moto: who gets in (a console token from the bridge, a console role now,
//! a second factor), what each role may do, versions, the audit trail, other origins, secrets,
//! and hostile input. Tokens are minted by the bridge's own sign-in where the path matters, and
//! otherwise signed with the stack's published key (what the bridge's mint would sign).

use crate::harness::*;
use http::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use shared::tokens::jws::{Algorithm, SigningKey};
use shared::tokens::signing_keys::MIN_LEAD;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const CONSOLE: &str = "https://console.example.com";
const AUDIENCE: &str = "bridge-console";

fn now() -> u64 {
    shared::common::time::unix_now()
}

pub(crate) struct Console {
    pub(crate) test: TestApp,
    admin: axum::Router,
    key: SigningKey,
    config: admin::config::Config,
}

impl Console {
    pub(crate) async fn new() -> Self {
        let test = spawn_app().await;
        let published = test.keys().rotate(Algorithm::ES256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
        let secrets = shared::adapters::secrets_manager::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&test.sdk));
        let pem = shared::common::secrets::SecretStore::secret(&secrets, &published.private_key).await.unwrap().unwrap();
        let key = SigningKey::from_pem(Algorithm::ES256, &published.kid, pem.expose_secret()).unwrap();
        let env: HashMap<String, String> = HashMap::from([
            ("TABLE_NAME".into(), test.stack.table.clone()),
            ("USER_POOL_ID".into(), test.stack.user_pool_id.clone()),
            ("PUBLIC_API_URL".into(), API.into()),
            ("CONSOLE_ORIGIN".into(), CONSOLE.into()),
            ("SECRET_PREFIX".into(), test.apps.prefix().to_owned()),
        ]);
        let config = admin::config::Config::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        let admin = admin::routes::router(Arc::new(admin::state::Admin::new(&config, &crate::harness::as_function(&test.sdk, "AdminFunction")).unwrap()));
        Self { test, admin, key, config }
    }

    /// Another instance of the admin function (nothing cached), over the same stack.
    fn other_instance(&self) -> axum::Router {
        admin::routes::router(Arc::new(admin::state::Admin::new(&self.config, &crate::harness::as_function(&self.test.sdk, "AdminFunction")).unwrap()))
    }

    /// A person with `groups`; their Cognito user name (not their email alias) and `sub`.
    pub(crate) async fn person(&self, email: &'static str, groups: &'static [&'static str]) -> (String, String) {
        let sub = self.test.user(email, |u| u.groups = groups).await;
        let idp = aws_sdk_cognitoidentityprovider::Client::new(&self.test.sdk);
        let user = idp.admin_get_user().user_pool_id(&self.test.stack.user_pool_id).username(email).send().await.unwrap();
        (user.username().to_owned(), sub)
    }

    /// A console token for `(username, sub)` as the bridge mints it, with `change` applied.
    pub(crate) fn token(&self, who: &(String, String), change: Value) -> String {
        let mut claims: Map<String, Value> = json!({"iss": API, "aud": AUDIENCE, "azp": "console", "sub": who.1, "cognito:username": who.0,
                                                     "iat": now(), "exp": now() + 300, "jti": uuid::Uuid::new_v4().to_string(), "amr": ["pwd", "mfa"]})
        .as_object()
        .cloned()
        .unwrap();
        for (k, v) in change.as_object().cloned().unwrap_or_default() {
            if v.is_null() {
                claims.remove(&k)
            } else {
                claims.insert(k, v)
            };
        }
        self.key.sign(&claims).unwrap()
    }

    pub(crate) async fn call(&self, token: &str, method: &str, path: &str, extra: &[(&str, &str)], body: Option<Value>) -> Reply {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![("authorization", bearer.as_str()), ("origin", CONSOLE), ("content-type", "application/json")];
        headers.extend_from_slice(extra);
        send_to(&self.admin, method, path, &headers, body.map(|b| b.to_string())).await
    }
}

/// The calls every change makes first, whatever the cache holds: the caller's standing
/// (`AdminGetUser`, `AdminListGroupsForUser`, the console sign-out mark's `GetItem`).
const STANDING: usize = 3;

impl Console {
    /// The secrets under `{prefix}/{path}` (`apps/tool/signing/`): how many there are, and the
    /// value of each one that is not scheduled for deletion.
    async fn vault(&self, path: &str) -> (usize, Vec<String>) {
        let client = aws_sdk_secretsmanager::Client::new(&self.test.sdk);
        // Every page: the emulator holds every test's secrets, more than one page of them.
        let pages: Vec<_> = client.list_secrets().include_planned_deletion(true).into_paginator().send().collect::<Result<_, _>>().await.unwrap();
        let under = format!("{}/{path}", self.test.apps.prefix());
        let ours: Vec<_> = pages.iter().flat_map(|p| p.secret_list()).filter(|s| s.name().is_some_and(|n| n.starts_with(&under))).collect();
        let mut live = Vec::new();
        for secret in ours.iter().filter(|s| s.deleted_date().is_none()) {
            let value = client.get_secret_value().secret_id(secret.arn().unwrap()).send().await.unwrap();
            live.push(value.secret_string().unwrap().to_owned());
        }
        (ours.len(), live)
    }

    /// Makes each `(what, method, path, body, expected)` request (with `If-Match: "1"`) and
    /// checks it succeeds with exactly `expected` AWS calls (and a change with the caller's
    /// standing, [`STANDING`], too); prints the calls and the time.
    async fn warm_calls<'a>(&self, token: &str, cases: impl IntoIterator<Item = (&'a str, &'a str, &'a str, Option<Value>, usize)>) {
        for (what, method, path, body, expected) in cases {
            let expected = expected + if method == "GET" { 0 } else { STANDING };
            let started = std::time::Instant::now();
            let reply = self.call(token, method, path, &[("if-match", "\"1\"")], body).await;
            let elapsed = started.elapsed();
            assert!(reply.status.is_success(), "{what}: {}", reply.body);
            let calls = self.test.calls.take();
            println!("{what:>19}: {} AWS calls {calls:?}, {:.1} ms against moto", calls.len(), elapsed.as_secs_f64() * 1000.0);
            assert_eq!(calls.len(), expected, "{what}: {calls:?}");
        }
    }
}

/// The contract, `docs/admin-openapi.yaml`.
fn contract() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/admin-openapi.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The statuses the contract documents for `method` on `path` (`/admin/v1/apps/tool`); `None`
/// for an undocumented route.
fn documented(contract: &Value, method: &str, path: &str) -> Option<Vec<u16>> {
    let path = path.split('?').next()?.strip_prefix("/admin/v1")?;
    let segments: Vec<&str> = path.split('/').collect();
    let (_, operations) = contract["paths"].as_object()?.iter().find(|(template, _)| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len() && parts.iter().zip(&segments).all(|(t, s)| t.starts_with('{') || t == s)
    })?;
    let responses = operations.get(method.to_lowercase())?["responses"].as_object()?;
    Some(responses.keys().filter_map(|k| k.parse().ok()).collect())
}

fn jwt_app(id: &str) -> Value {
    json!({"id": id, "name": "Tool", "target": {"kind": "jwt", "url": "https://tool.example.com/sso", "algorithm": "HS256"},
           "allowed_origins": ["https://tool.example.com"]})
}

fn settings(name: &str) -> Value {
    json!({"name": name, "target": {"kind": "jwt", "url": "https://tool.example.com/sso", "algorithm": "HS256"},
           "allowed_origins": ["https://tool.example.com"], "risk_policy": "deny"})
}

/// A new version of the terms, as the console sends it.
fn terms_version(url: &str) -> Value {
    json!({"required": true, "title": {"ja": "利用規約", "en": "Terms of service"}, "url": {"ja": url, "en": url}})
}

/// The console as an app of the bridge: a JWT signed with our keys, for the admin API.
async fn console_app(console: &Console) {
    let target = json!({"kind": "jwt", "url": format!("{CONSOLE}/index.html"), "algorithm": "ES256", "audience": AUDIENCE, "lifetime_seconds": 600});
    let claims = json!({"cognito:username": {"from": "attribute", "name": "cognito:username", "required": true},
                        "email": {"from": "attribute", "name": "email"}});
    let app = json!({"id": "console", "name": "Console", "target": target, "allowed_origins": [CONSOLE], "claims": claims});
    console.test.apps.create(serde_json::from_value(app).unwrap(), None).await.unwrap_or_else(|e| panic!("{e:#}"));
}

#[tokio::test]
async fn a_console_token_from_the_bridges_own_sign_in_needs_a_second_factor() {
    let console = Console::new().await;
    console_app(&console).await;
    console.person("boss@example.com", &["bridge-admin"]).await;

    let step = console.test.login_at("/sso/console", "boss@example.com", PASSWORD).await;
    let landed = console.test.handoff(&step).await;
    let token = landed.location_param("jwt").unwrap_or_else(|| panic!("no token in {:?}", landed.header("location")));
    // A password alone: `amr` says so, and the console stays shut.
    let me = console.call(&token, "GET", "/admin/v1/me", &[], None).await;
    assert_eq!((me.status, me.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("second_factor_required")), "{}", me.body);

    // With an SMS code (the local Cognito takes any): `amr` has `mfa`, and the console opens.
    console
        .test
        .user("ops@example.com", |u| {
            u.groups = &["bridge-operator"];
            u.sms_mfa_phone = Some("+819000000002");
        })
        .await;
    let step = console.test.login_at("/sso/console", "ops@example.com", PASSWORD).await.json();
    assert_eq!(step["challenge"], "sms_mfa", "{step}");
    let done = console.test.post("/login/challenge", json!({"flow": step["flow"], "code": "123456"})).await;
    let landed = console.test.handoff(&done).await;
    let token = landed.location_param("jwt").unwrap_or_else(|| panic!("no token in {:?}", landed.header("location")));
    let me = console.call(&token, "GET", "/admin/v1/me", &[], None).await;
    assert_eq!((me.status, me.json()["role"].as_str()), (StatusCode::OK, Some("operator")), "{}", me.body);
    assert_eq!(console.call(&token, "GET", "/admin/v1/apps", &[], None).await.json()["apps"][1]["id"], "console");
    let ops = console.call(&token, "GET", "/admin/v1/people?email=ops@example.com", &[], None).await.json();
    assert_eq!((ops["factors"].clone(), ops["role"].clone()), (json!(["SMS_MFA"]), json!("operator")), "{ops}");
}

/// A passkey sign-in is a second factor where it was made; its session cookie copied to another
/// browser proves no second factor there (as a password and code session's does not), so the
/// console stays shut to whoever stole it.
#[tokio::test]
async fn a_passkey_sessions_cookie_in_another_browser_is_no_second_factor() {
    let console = Console::new().await;
    console_app(&console).await;
    console.person("boss@example.com", &["bridge-admin"]).await;
    let mut passkey = crate::passwordless::register(&console.test, "boss@example.com").await;
    let door = console.test.send("GET", "/sso/console", &[], None).await;
    let ctx = door.location_param("ctx").unwrap_or_else(|| panic!("{:?}", door.header("location")));
    let step = console.test.post("/login/passkey", json!({"ctx": ctx, "email": "boss@example.com"})).await.json();
    let answer = passkey.get(&step["public_key"], crate::passwordless::ORIGIN);
    let signed_in = console.test.post("/login/challenge", json!({"flow": step["flow"], "credential": answer})).await;
    let landed = console.test.handoff(&signed_in).await;
    let token = |reply: &Reply| reply.location_param("jwt").unwrap_or_else(|| panic!("no token in {:?}", reply.header("location")));
    let me = console.call(&token(&landed), "GET", "/admin/v1/me", &[], None).await;
    assert_eq!((me.status, me.json()["role"].as_str()), (StatusCode::OK, Some("admin")), "the passkey's own browser: {}", me.body);
    let session = session_cookie(&landed);
    let own = format!("{session}; {}", console.test.browser_cookie());
    let again = console.test.send("GET", "/sso/console", &[("cookie", &own)], None).await;
    assert_eq!(console.call(&token(&again), "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK, "the same browser, from the session");
    for elsewhere in [session.clone(), format!("{session}; __Host-bridge_device=VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV")] {
        let stolen = console.test.send("GET", "/sso/console", &[("cookie", &elsewhere)], None).await;
        let me = console.call(&token(&stolen), "GET", "/admin/v1/me", &[], None).await;
        assert_eq!((me.status, me.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("second_factor_required")), "{elsewhere}: {}", me.body);
    }
}

#[tokio::test]
async fn each_role_reads_or_changes_exactly_what_it_may_and_nobody_else_gets_in() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer", "staff"]).await;
    let customer = console.person("customer@example.com", &["zendesk-agents"]).await;
    // Issued a little before the test's changes (a token issued in the second of its person's
    // revocation stands).
    let earlier = json!({"iat": now() - 5});
    let (boss_t, ops_t, viewer_t) = (console.token(&boss, earlier.clone()), console.token(&ops, earlier.clone()), console.token(&viewer, earlier));

    let me = console.call(&boss_t, "GET", "/admin/v1/me", &[], None).await.json();
    assert_eq!((me["role"].as_str(), me["id"].as_str(), me["via"].as_str()), (Some("admin"), Some(boss.1.as_str()), Some("api")));
    let created = console
        .call(
            &boss_t,
            "POST",
            "/admin/v1/apps",
            &[],
            Some(
                json!({"generate_secret": true})
                    .as_object()
                    .map(|s| {
                        let mut app = jwt_app("tool");
                        app.as_object_mut().unwrap().extend(s.clone());
                        app
                    })
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!((created.status, created.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", created.body);
    assert_eq!(created.json()["secret"].as_str().map(str::len), Some(43), "a generated secret is shown once: {}", created.body);

    for token in [&ops_t, &viewer_t] {
        assert_eq!(console.call(token, "GET", "/admin/v1/apps", &[], None).await.status, StatusCode::OK);
        let read = console.call(token, "GET", "/admin/v1/apps/tool", &[], None).await;
        assert_eq!((read.status, read.json()["has_secret"].as_bool()), (StatusCode::OK, Some(true)));
        assert!(read.json().get("secret").is_none() && !read.body.contains("secretsmanager"), "{}", read.body);
        for (method, path, body) in [
            ("POST", "/admin/v1/apps", Some(jwt_app("other"))),
            ("POST", "/admin/v1/keys/rotate", Some(json!({"alg": "ES256"}))),
            ("POST", "/admin/v1/keys/prune", None),
            ("POST", "/admin/v1/consent/terms", Some(terms_version("https://acme.example.com/terms"))),
            ("GET", "/admin/v1/consent/terms/versions/1/records", None),
            ("GET", "/admin/v1/workflows/flows/x/report", None),
            ("PUT", "/admin/v1/apps/tool", Some(settings("Renamed"))),
            ("DELETE", "/admin/v1/apps/tool", None),
            ("POST", "/admin/v1/apps/tool/secret", Some(json!({"generate": true}))),
            ("POST", "/admin/v1/people/customer@example.com/disable", None),
            ("PUT", "/admin/v1/people/customer@example.com/role", Some(json!({"role": "admin"}))),
            ("DELETE", "/admin/v1/people/boss@example.com/role", None),
            ("POST", "/admin/v1/orgs", Some(json!({"name": "Acme", "domains": ["acme.example"]}))),
            ("PUT", "/admin/v1/orgs/org-x", Some(json!({"name": "Acme", "domains": []}))),
            ("DELETE", "/admin/v1/orgs/org-x", None),
            ("PUT", "/admin/v1/orgs/org-x/connection", Some(json!({"kind": "oidc", "issuer": "https://idp.example.com", "client_id": "c"}))),
            ("DELETE", "/admin/v1/orgs/org-x/connection", None),
            ("POST", "/admin/v1/orgs/org-x/tokens", Some(json!({"label": "okta"}))),
            ("DELETE", "/admin/v1/orgs/org-x/tokens/t-1", None),
            ("POST", "/admin/v1/hooks", Some(json!({"name": "h", "url": "https://h.example.com", "auth": {"type": "header", "name": "x"}, "secret": "s"}))),
            ("PUT", "/admin/v1/hooks/h", Some(json!({"url": "https://h.example.com", "auth": {"type": "header", "name": "x"}}))),
            ("DELETE", "/admin/v1/hooks/h", None),
            ("POST", "/admin/v1/hooks/h/preview", Some(json!({"user": "boss@example.com"}))),
            ("POST", "/admin/v1/hooks/h/send", Some(json!({"request": {}}))),
        ] {
            let refused = console.call(token, method, path, &[("if-match", "\"1\"")], body).await;
            assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{method} {path}");
        }
    }
    // An operator signs people out; a viewer cannot.
    let out = console.call(&ops_t, "POST", "/admin/v1/people/customer@example.com/sign-out", &[], None).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(console.call(&viewer_t, "POST", "/admin/v1/people/customer@example.com/sign-out", &[], None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(console.test.apps.get(&shared::tokens::app::AppId::parse("tool").unwrap()).await.unwrap().version, 1, "nothing changed");

    // No token, a broken one, or one that is not the console's: 401, and nothing read.
    let other_key = SigningKey::from_pem(Algorithm::ES256, "kid-x", &shared::tokens::jws::generate(Algorithm::ES256).unwrap().private_pem).unwrap();
    let published_kid_other_key = {
        let claims = serde_json::from_value::<Map<String, Value>>(json!({"iss": API, "aud": AUDIENCE, "sub": boss.1, "cognito:username": boss.0,
                                                                        "iat": now(), "exp": now() + 300, "amr": ["mfa"]}))
        .unwrap();
        let forged = other_key.sign(&claims).unwrap();
        // The header names our published kid; the signature is another key's.
        let kid = console.token(&boss, json!({})).split('.').next().unwrap().to_owned();
        format!("{kid}.{}", forged.split_once('.').unwrap().1)
    };
    let hs256 = SigningKey::Hs256(b"a-guess".to_vec()).sign(&serde_json::from_value(json!({"iss": API, "aud": AUDIENCE, "sub": boss.1})).unwrap()).unwrap();
    for token in [
        String::new(),
        "not-a-jwt".into(),
        hs256,
        published_kid_other_key,
        console.token(&boss, json!({"aud": "demo-zendesk"})),
        console.token(&boss, json!({"azp": "tool"})),
        console.token(&boss, json!({"azp": null})),
        console.token(&boss, json!({"iss": "https://evil.example.com"})),
        console.token(&boss, json!({"exp": now() - 120})),
        console.token(&boss, json!({"cognito:username": null})),
    ] {
        let refused = console.call(&token, "GET", "/admin/v1/apps", &[], None).await;
        assert_eq!((refused.status, refused.header("www-authenticate")), (StatusCode::UNAUTHORIZED, Some("Bearer")), "{token}: {}", refused.body);
        assert!(!refused.body.contains("tool"), "{}", refused.body);
    }
    let no_header = send_to(&console.admin, "GET", "/admin/v1/apps", &[], None).await;
    assert_eq!(no_header.status, StatusCode::UNAUTHORIZED);
    // A customer's valid-looking token, and another person's name with one's own sub: no role.
    for token in [console.token(&customer, json!({})), console.token(&(boss.0.clone(), customer.1.clone()), json!({}))] {
        let refused = console.call(&token, "GET", "/admin/v1/apps", &[], None).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("no_role")), "{}", refused.body);
    }
    let no_mfa = console.call(&console.token(&boss, json!({"amr": ["pwd"]})), "GET", "/admin/v1/apps", &[], None).await;
    assert_eq!(no_mfa.json()["error"], "second_factor_required");

    // A role taken away counts at once on the instance that took it (others within 30 s).
    let revoked = console.call(&boss_t, "DELETE", "/admin/v1/people/ops@example.com/role", &[], None).await;
    assert_eq!((revoked.status, revoked.json()["role"].clone()), (StatusCode::OK, Value::Null), "{}", revoked.body);
    // Taking the role ends the person's sessions and revokes their console tokens: the token is
    // refused (401), and the next one, once signed in again, has no role.
    assert_eq!(console.call(&ops_t, "GET", "/admin/v1/apps", &[], None).await.status, StatusCode::UNAUTHORIZED);
    let ops_again = console.token(&ops, json!({}));
    assert_eq!(console.call(&ops_again, "GET", "/admin/v1/apps", &[], None).await.json()["error"], "no_role");
    let granted = console.call(&boss_t, "PUT", "/admin/v1/people/viewer@example.com/role", &[], Some(json!({"role": "operator"}))).await;
    assert_eq!(granted.json()["role"], "operator", "{}", granted.body);
    assert_eq!(granted.json()["groups"], json!(["bridge-operator", "staff"]), "the viewer role is replaced, other groups kept");
}

/// Someone in more groups than one page of Cognito's answer (60): every page is read, so a role
/// on any of them is shown and revoked.
#[tokio::test]
async fn every_group_is_read_past_the_first_page() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let boss_t = console.token(&boss, json!({}));
    let mut groups: Vec<&'static str> = (0..70).map(|i| &*Box::leak(format!("team-{i:02}").into_boxed_str())).collect();
    groups.push("bridge-operator");
    console.person("crowd@example.com", Box::leak(groups.into_boxed_slice())).await;
    let read = console.call(&boss_t, "GET", "/admin/v1/people/crowd@example.com", &[], None).await.json();
    assert_eq!((read["groups"].as_array().map(Vec::len), &read["role"]), (Some(71), &json!("operator")), "{read}");
    let revoked = console.call(&boss_t, "DELETE", "/admin/v1/people/crowd@example.com/role", &[], None).await;
    assert_eq!((revoked.status, &revoked.json()["role"]), (StatusCode::OK, &Value::Null), "{}", revoked.body);
    let read = console.call(&boss_t, "GET", "/admin/v1/people/crowd@example.com", &[], None).await.json();
    assert_eq!(read["groups"].as_array().map(Vec::len), Some(70), "only the role went: {read}");
}

/// An operator ends one of a person's sessions: that browser signs in again, the other session
/// stays; a session of someone else's, or one already ended, is `404` and ends nothing; a viewer
/// cannot; the change is audited with the session's id.
#[tokio::test]
async fn an_operator_ends_one_of_a_persons_sessions_and_only_that_one() {
    let console = Console::new().await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    let (ops_t, viewer_t) = (console.token(&ops, json!({})), console.token(&viewer, json!({})));
    let (hanako, _) = console.person("hanako@example.com", &[]).await;
    console.person("taro@example.com", &[]).await;
    let app = &console.test;
    let first = session_cookie(&app.handoff(&app.login("hanako@example.com", PASSWORD).await).await);
    let second = session_cookie(&app.handoff(&app.login("hanako@example.com", PASSWORD).await).await);
    let taros = session_cookie(&app.handoff(&app.login("taro@example.com", PASSWORD).await).await);
    let ids = |person: &Value| -> Vec<String> { person["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect() };
    let read = console.call(&ops_t, "GET", &format!("/admin/v1/people/{hanako}"), &[], None).await.json();
    let taro = console.call(&ops_t, "GET", "/admin/v1/people/taro@example.com", &[], None).await.json();
    let (hanakos, taros_id) = (ids(&read), ids(&taro)[0].clone());
    assert_eq!(hanakos.len(), 2, "{read}");
    // The id is the digest of the cookie's value, not the value: the second browser's session.
    let value = |cookie: &str| cookie.split_once('=').unwrap().1.split(';').next().unwrap().to_owned();
    assert!(!read.to_string().contains(&value(&first)) && !read.to_string().contains(&value(&second)), "{read}");
    let id = shared::common::hashing::digest(&value(&second));
    let (ended_id, kept_id) = if hanakos[0] == id { (hanakos[0].clone(), hanakos[1].clone()) } else { (hanakos[1].clone(), hanakos[0].clone()) };
    assert_eq!(ended_id, id, "{read}");
    let console = &console;
    let end = |token: &str, person: &str, id: &str| {
        let path = format!("/admin/v1/people/{person}/sessions/{id}/sign-out");
        let token = token.to_owned();
        async move { console.call(&token, "POST", &path, &[], None).await }
    };
    assert_eq!(end(&viewer_t, &hanako, &ended_id).await.status, StatusCode::FORBIDDEN);
    let elsewhere = end(&ops_t, &hanako, &taros_id).await;
    assert_eq!((elsewhere.status, elsewhere.json()["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{}", elsewhere.body);
    assert_eq!(end(&ops_t, &hanako, "not-a-session").await.status, StatusCode::BAD_REQUEST);
    let entry = |cookie: &str| {
        let cookie = cookie.to_owned();
        async move { app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await }
    };
    for cookie in [&first, &second, &taros] {
        assert_eq!(entry(cookie).await.status, StatusCode::OK, "nothing ended yet");
    }
    // By her email (an alias of her user name): the session is found under her user name.
    let ended = end(&ops_t, "hanako@example.com", &ended_id).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(ids(&ended.json()), [kept_id], "{}", ended.body);
    assert!(entry(&second).await.location_param("ctx").is_some(), "that browser signs in again");
    assert_eq!(entry(&first).await.status, StatusCode::OK, "the other session stays");
    assert_eq!(entry(&taros).await.status, StatusCode::OK);
    assert_eq!(end(&ops_t, &hanako, &ended_id).await.status, StatusCode::NOT_FOUND, "ended already");
    let trail = console.call(&ops_t, "GET", &format!("/admin/v1/audit?target=user:{hanako}&type=admin.user.signed_out"), &[], None).await.json();
    let record = &trail["records"][0];
    assert_eq!((&record["before"]["sessions"], &record["after"]["sessions"], &record["after"]["ended"]), (&json!(2), &json!(1), &json!(ended_id)), "{record}");
}

/// An admin turns a person's second factors off (a lost phone) and signs them out everywhere: their next sign-in asks for none, and the phone's session
/// is over. Viewers cannot, operators only for people without a console role, nor can anyone
/// reset their own; a second reset (an operator's) changes nothing and is recorded too.
#[tokio::test]
async fn an_admin_resets_a_persons_second_factors() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    let (boss_t, ops_t, viewer_t) = (console.token(&boss, json!({})), console.token(&ops, json!({})), console.token(&viewer, json!({})));
    let app = &console.test;
    app.user("sms@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    // The session of the phone that is lost: signed in with its SMS code.
    let step = app.login("sms@example.com", PASSWORD).await.json();
    assert_eq!(step["challenge"], "sms_mfa", "{step}");
    let done = app.post("/login/challenge", json!({"flow": step["flow"], "code": "123456"})).await;
    let phone = session_cookie(&app.handoff(&done).await);
    let path = "/admin/v1/people/sms@example.com/factors/reset";
    // A viewer never; an operator (the helpdesk) never of someone with a console role.
    for (token, whom) in [(&viewer_t, "sms@example.com"), (&ops_t, "boss@example.com"), (&ops_t, "viewer@example.com")] {
        let refused = console.call(token, "POST", &format!("/admin/v1/people/{whom}/factors/reset"), &[], None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{whom}: {}", refused.body);
    }
    let own = console.call(&boss_t, "POST", &format!("/admin/v1/people/{}/factors/reset", boss.0), &[], None).await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.body);
    let read = console.call(&boss_t, "GET", "/admin/v1/people/sms@example.com", &[], None).await.json();
    assert_eq!(read["factors"], json!(["SMS_MFA"]), "{read}");
    let reset = console.call(&boss_t, "POST", path, &[], None).await;
    assert_eq!((reset.status, &reset.json()["factors"], &reset.json()["sessions"]), (StatusCode::OK, &json!([]), &json!([])), "{}", reset.body);
    let entry = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &phone)], None).await;
    assert!(entry.location_param("ctx").is_some(), "the phone's session is over");
    let signed_in = app.login("sms@example.com", PASSWORD).await.json();
    assert_eq!(signed_in["status"], "signed_in", "no factor asked for: {signed_in}");
    // An operator may, for someone with no console role: recorded as theirs.
    let again = console.call(&ops_t, "POST", path, &[], None).await;
    assert_eq!((again.status, &again.json()["factors"]), (StatusCode::OK, &json!([])), "{}", again.body);
    let username = read["username"].as_str().unwrap();
    let trail = console.call(&boss_t, "GET", &format!("/admin/v1/audit?target=user:{username}&type=admin.user.factors_reset"), &[], None).await.json();
    let records = trail["records"].as_array().unwrap();
    assert_eq!(records.len(), 2, "{trail}");
    assert_eq!((&records[0]["actor"]["id"], &records[1]["actor"]["id"]), (&json!(ops.1), &json!(boss.1)), "{trail}");
    let first = &records[1];
    assert_eq!(
        (&first["before"]["factors"], &first["before"]["sessions"], &first["after"]["factors"]),
        (&json!(["SMS_MFA"]), &json!(1), &json!([])),
        "{trail}"
    );
}

/// An admin requires a person to choose a new password: the old one stops working (the form
/// asks for the code mailed to them and a new one), their sessions end, and the new password
/// signs in. Operators only of people without a console role; nobody their own; a disabled account, one whose email is not
/// verified and an invitation not taken up are refused, and nothing changes. The person's
/// status shows the reset pending.
#[tokio::test]
async fn an_admin_requires_a_new_password_of_a_person() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let (boss_t, ops_t) = (console.token(&boss, json!({})), console.token(&ops, json!({})));
    let app = &console.test;
    console.person("hanako@example.com", &[]).await;
    let cookie = session_cookie(&app.handoff(&app.login("hanako@example.com", PASSWORD).await).await);
    let path = "/admin/v1/people/hanako@example.com/password/reset";
    let refused = console.call(&ops_t, "POST", &format!("/admin/v1/people/{}/password/reset", boss.0), &[], None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "an operator, of an admin: {}", refused.body);
    let own = console.call(&boss_t, "POST", &format!("/admin/v1/people/{}/password/reset", boss.0), &[], None).await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.body);
    // Not verified: nowhere to send the code.
    app.user("unverified@example.com", |_| {}).await;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let unverified = aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name("email_verified").value("false").build().unwrap();
    idp.admin_update_user_attributes()
        .user_pool_id(&app.stack.user_pool_id)
        .username("unverified@example.com")
        .user_attributes(unverified)
        .send()
        .await
        .unwrap();
    let refused = console.call(&boss_t, "POST", "/admin/v1/people/unverified@example.com/password/reset", &[], None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(app.login("unverified@example.com", PASSWORD).await.json()["error"], "email_not_verified", "its password still works");
    // Disabled: enable it first.
    console.person("off@example.com", &[]).await;
    assert_eq!(console.call(&boss_t, "POST", "/admin/v1/people/off@example.com/disable", &[], None).await.status, StatusCode::OK);
    let refused = console.call(&boss_t, "POST", "/admin/v1/people/off@example.com/password/reset", &[], None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);

    // Invited, the invitation not taken up: no password of their own to reset.
    app.user("invited@example.com", |u| u.permanent_password = false).await;
    let invited = console.call(&boss_t, "GET", "/admin/v1/people/invited@example.com", &[], None).await.json();
    assert_eq!(invited["status"], "FORCE_CHANGE_PASSWORD", "{invited}");
    let refused = console.call(&boss_t, "POST", "/admin/v1/people/invited@example.com/password/reset", &[], None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);

    let before = console.call(&boss_t, "GET", "/admin/v1/people/hanako@example.com", &[], None).await.json();
    assert_eq!(before["status"], "CONFIRMED", "{before}");
    let reset = console.call(&boss_t, "POST", path, &[], None).await;
    assert_eq!((reset.status, &reset.json()["sessions"], &reset.json()["status"]), (StatusCode::OK, &json!([]), &json!("RESET_REQUIRED")), "{}", reset.body);
    let read = console.call(&boss_t, "GET", "/admin/v1/people/hanako@example.com", &[], None).await.json();
    assert_eq!(read["status"], "RESET_REQUIRED", "as Cognito has it: {read}");
    assert!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.location_param("ctx").is_some(), "her session is over");
    let old = app.login("hanako@example.com", PASSWORD).await;
    assert_eq!((old.status, old.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("password_reset_required")), "{}", old.body);
    assert_eq!(app.login("hanako@example.com", "Wrong-passw0rd!").await.json()["error"], "invalid_credentials");
    // A stranger's wrong guesses at the code spend its tries; an admin's reset starts them again.
    for _ in 0..shared::signin::password_reset::RESET_CODE_TRIES {
        let ctx = app.ctx().await;
        let guess =
            app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": "000000", "new_password": "Guessed-Passw0rd!"})).await;
        assert_eq!(guess.json()["error"], "code_mismatch", "{}", guess.body);
    }
    let again = console.call(&ops_t, "POST", path, &[], None).await;
    assert_eq!(again.status, StatusCode::OK, "an operator, of someone with no console role: {}", again.body);
    let code = app.emailed_code("hanako@example.com");
    assert_eq!(app.last_email("hanako@example.com")["kind"], "CustomMessage_ForgotPassword");
    let ctx = app.ctx().await;
    let signed_in = app.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": "Brand-New-Passw0rd!"})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "the code and a new password sign her in: {}", signed_in.body);
    wait_out_credentials_hold().await;
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["error"], "invalid_credentials", "the old password opens nothing");
    assert_eq!(app.login("hanako@example.com", "Brand-New-Passw0rd!").await.json()["status"], "signed_in");
    let username = reset.json()["username"].as_str().unwrap().to_owned();
    let trail =
        console.call(&boss_t, "GET", &format!("/admin/v1/audit?target=user:{username}&type=admin.user.password_reset_required"), &[], None).await.json();
    // Newest first: the second reset found no session left.
    let sessions: Vec<_> = trail["records"].as_array().unwrap().iter().map(|r| r["before"]["sessions"].clone()).collect();
    assert_eq!(sessions, [json!(0), json!(1)], "{trail}");
}

/// An app's home page (the account page's link) is an absolute URL on one of the app's
/// origins: anything else is `400` and writes nothing, at creation and at a change.
#[tokio::test]
async fn an_apps_home_page_is_on_one_of_its_origins() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let long = format!("https://tool.example.com/{}", "a".repeat(2048));
    let bad =
        ["https://evil.example/", "javascript:alert(1)", "/home", "//tool.example.com/", "https://me@tool.example.com/", "http://tool.example.com/", &long];
    for home in bad {
        let mut app = jwt_app("tool");
        (app["generate_secret"], app["home_url"]) = (json!(true), json!(home));
        let refused = console.call(&token, "POST", "/admin/v1/apps", &[], Some(app)).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{home}: {}", refused.body);
    }
    // A creation's body: its id and secret beside the settings, nothing else, and an id.
    for (key, value) in [("home_page", json!("https://tool.example.com/")), ("version", json!(3)), ("id", Value::Null)] {
        let mut app = jwt_app("tool");
        app[key] = value;
        let refused = console.call(&token, "POST", "/admin/v1/apps", &[], Some(app)).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{key}: {}", refused.body);
    }
    let mut app = jwt_app("tool");
    (app["generate_secret"], app["home_url"]) = (json!(true), json!("https://tool.example.com/projects"));
    let created = console.call(&token, "POST", "/admin/v1/apps", &[], Some(app)).await;
    assert_eq!((created.status, &created.json()["app"]["home_url"]), (StatusCode::CREATED, &json!("https://tool.example.com/projects")), "{}", created.body);
    for home in bad {
        let mut body = settings("Tool");
        body["home_url"] = json!(home);
        let refused = console.call(&token, "PUT", "/admin/v1/apps/tool", &[("if-match", "\"1\"")], Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{home}: {}", refused.body);
        assert!(refused.json()["message"].as_str().is_some_and(|d| d.contains("home_url")), "{}", refused.body);
    }
    let read = console.call(&token, "GET", "/admin/v1/apps/tool", &[], None).await;
    assert_eq!((read.header("etag"), &read.json()["home_url"]), (Some("\"1\""), &json!("https://tool.example.com/projects")), "nothing written");
    // A change that leaves it out (a client from before it) keeps it; `null` takes it off.
    let kept = console.call(&token, "PUT", "/admin/v1/apps/tool", &[("if-match", "\"1\"")], Some(settings("Tool"))).await;
    assert_eq!((kept.status, &kept.json()["home_url"]), (StatusCode::OK, &json!("https://tool.example.com/projects")), "{}", kept.body);
    let mut none = settings("Tool");
    none["home_url"] = Value::Null;
    let cleared = console.call(&token, "PUT", "/admin/v1/apps/tool", &[("if-match", "\"2\"")], Some(none)).await;
    assert!(cleared.status == StatusCode::OK && cleared.json().get("home_url").is_none(), "{}", cleared.body);
}

/// Who may sign in to an app (`access`: Cognito groups and organisations) is set with the rest
/// of its settings, checked (nothing written when it is wrong) and audited; a change without
/// `access` keeps it; an app that lists no one shows no `access`.
#[tokio::test]
async fn an_apps_access_is_set_through_the_api_checked_and_audited() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let mut app = jwt_app("tool");
    app["generate_secret"] = json!(true);
    app["access"] = json!({"groups": ["agents", "エージェント"], "organisations": ["org-acme"]});
    let created = console.call(&token, "POST", "/admin/v1/apps", &[], Some(app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["app"]["access"], json!({"groups": ["agents", "エージェント"], "organisations": ["org-acme"]}));
    let path = "/admin/v1/apps/tool";
    for (bad, why) in [
        (json!({"groups": ["two words"]}), "a group name with a space"),
        (json!({"groups": ["agents", "agents"]}), "a group twice"),
        (json!({"organisations": ["Org Acme"]}), "not an organisation id"),
        (json!({"users": ["boss@example.com"]}), "an unknown list"),
        (json!({"groups": "agents"}), "not a list"),
        (json!({"groups": (0..51).map(|i| format!("g{i}")).collect::<Vec<_>>()}), "too many"),
    ] {
        let mut body = settings("Tool");
        body["access"] = bad;
        let refused = console.call(&token, "PUT", path, &[("if-match", "\"1\"")], Some(body)).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{why}: {}", refused.body);
    }
    // A change that leaves `access` out (a client from before it) keeps the lists; `{}` clears them.
    let kept = console.call(&token, "PUT", path, &[("if-match", "\"1\"")], Some(settings("Tool"))).await;
    assert_eq!((kept.status, kept.header("etag")), (StatusCode::OK, Some("\"2\"")), "only the good change was written: {}", kept.body);
    assert_eq!(kept.json()["access"]["groups"], json!(["agents", "エージェント"]), "{}", kept.body);
    let mut everyone = settings("Tool");
    everyone["access"] = json!({});
    let changed = console.call(&token, "PUT", path, &[("if-match", "\"2\"")], Some(everyone)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(console.call(&token, "GET", path, &[], None).await.json().get("access").is_none(), "everyone: no access shown");
    let trail = console.call(&token, "GET", "/admin/v1/audit?target=app:tool&type=admin.app.updated", &[], None).await.json();
    let record = &trail["records"][0];
    assert_eq!((&record["before"]["access"]["groups"][0], record["after"].get("access")), (&json!("agents"), None), "{record}");
}

#[tokio::test]
async fn a_change_names_the_version_it_was_made_from_and_every_change_is_audited_without_secrets() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let mut app = jwt_app("tool");
    app["secret"] = json!("a-pasted-shared-secret-0123456789");
    let created = console.call(&token, "POST", "/admin/v1/apps", &[], Some(app)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.json().get("secret").is_none(), "a secret the operator gave is never shown back");
    let again = console.call(&token, "POST", "/admin/v1/apps", &[], Some(jwt_app("tool"))).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "an HS256 app needs a secret: {}", again.body);

    let path = "/admin/v1/apps/tool";
    let missing = console.call(&token, "PUT", path, &[], Some(settings("Renamed"))).await;
    assert_eq!((missing.status, missing.json()["error"].as_str()), (StatusCode::PRECONDITION_REQUIRED, Some("precondition_required")));
    let changed = console.call(&token, "PUT", path, &[("if-match", "\"1\"")], Some(settings("Renamed"))).await;
    assert_eq!((changed.status, changed.header("etag")), (StatusCode::OK, Some("\"2\"")), "{}", changed.body);
    // A second admin still holding version 1 cannot overwrite it.
    let stale = console.call(&token, "PUT", path, &[("if-match", "\"1\"")], Some(settings("Mine"))).await;
    assert_eq!((stale.status, stale.json()["error"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("precondition_failed")));
    for tag in ["*", "W/\"2\"", "2", "\"x\"", "\"18446744073709551615\""] {
        assert_eq!(console.call(&token, "DELETE", path, &[("if-match", tag)], None).await.status, StatusCode::PRECONDITION_FAILED, "{tag}");
    }
    assert_eq!(console.call(&token, "GET", path, &[], None).await.json()["name"], "Renamed");
    let secret = console.call(&token, "POST", "/admin/v1/apps/tool/secret", &[], Some(json!({"secret": "another-pasted-secret-9876543210"}))).await;
    assert_eq!(secret.status, StatusCode::NO_CONTENT, "{}", secret.body);
    assert_eq!(console.vault("apps/tool/signing/").await, (2, vec!["another-pasted-secret-9876543210".to_owned()]), "the first one let go");
    // Two new secrets at once: both changes are made, one after the other, and the secret in use
    // is the last one's; the one it replaced is let go (no value shown to an operator stays live
    // unless the app uses it).
    let (a, b) = tokio::join!(
        console.call(&token, "POST", "/admin/v1/apps/tool/secret", &[], Some(json!({"generate": true}))),
        console.call(&token, "POST", "/admin/v1/apps/tool/secret", &[], Some(json!({"generate": true})))
    );
    let shown: Vec<String> = [&a, &b].iter().map(|r| r.json()["secret"].as_str().unwrap_or_else(|| panic!("{}", r.body)).to_owned()).collect();
    let (count, live) = console.vault("apps/tool/signing/").await;
    assert_eq!((count, live.len()), (4, 1), "{live:?}");
    assert!(shown.contains(&live[0]), "the live secret is one an operator was shown");
    let stored = console.test.apps.get(&shared::tokens::app::AppId::parse("tool").unwrap()).await.unwrap();
    let named = aws_sdk_secretsmanager::Client::new(&console.test.sdk).get_secret_value().secret_id(&stored.signing_secret.unwrap().0).send().await.unwrap();
    assert_eq!(named.secret_string(), Some(live[0].as_str()), "and the app names it");
    assert_eq!(stored.version, 5);
    let removed = console.call(&token, "DELETE", path, &[("if-match", "\"5\"")], None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(console.call(&token, "GET", path, &[], None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(console.vault("apps/tool/signing/").await, (4, vec![]), "a removed app's secret is scheduled for deletion");

    // The trail: each change, newest first, with its actor, before and after; never a secret.
    let trail = console.call(&token, "GET", "/admin/v1/audit?target=app:tool", &[], None).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    let records = trail.json()["records"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(kinds, ["admin.app.deleted", "admin.app.secret_set", "admin.app.secret_set", "admin.app.secret_set", "admin.app.updated", "admin.app.created"]);
    assert!(records.iter().all(|r| r["actor"]["id"] == boss.1.as_str() && r["actor"]["via"] == "api"), "{records:?}");
    assert_eq!((records[4]["before"]["name"].as_str(), records[4]["after"]["name"].as_str()), (Some("Tool"), Some("Renamed")));
    let everything = format!("{}{}", trail.body, serde_json::to_string(&console.test.events().await).unwrap());
    assert!(!everything.contains("pasted") && !everything.contains("secretsmanager"), "{everything}");
    // The same changes are identity events for workflows, and the CLI's changes are audited too.
    // (and the demo app's creation by the harness, through the CLI's rules)
    assert_eq!(console.test.event_types().await.iter().filter(|t| t.starts_with("admin.app.")).count(), 7);
    console.test.apps.get(&shared::tokens::app::AppId::parse("acme-help").unwrap()).await.unwrap();
    let by_cli = console.call(&token, "GET", "/admin/v1/audit?type=admin.app.created", &[], None).await.json();
    let actors: Vec<&str> = by_cli["records"].as_array().unwrap().iter().filter_map(|r| r["actor"]["via"].as_str()).collect();
    assert_eq!(actors, ["api", "cli"], "the demo app was made by the CLI's rules: {by_cli}");
    let mine = console.call(&token, "GET", &format!("/admin/v1/audit?actor={}&limit=2", boss.1), &[], None).await.json();
    assert_eq!(mine["records"].as_array().map(Vec::len), Some(2));
    let next = mine["next_cursor"].as_str().unwrap();
    let rest = console.call(&token, "GET", &format!("/admin/v1/audit?actor={}&limit=2&cursor={next}", boss.1), &[], None).await.json();
    assert_eq!(rest["records"][0]["type"], "admin.app.secret_set", "{rest}");
}

#[tokio::test]
async fn disabling_a_person_ends_their_sessions_at_once_and_another_origin_changes_nothing() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    console.person("hanako@example.com", &[]).await;
    let landed = console.test.handoff(&console.test.login("hanako@example.com", PASSWORD).await).await;
    let cookie = session_cookie(&landed);

    let found = console.call(&token, "GET", "/admin/v1/people?email=HANAKO@example.com", &[], None).await;
    assert_eq!((found.status, found.json()["sessions"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{}", found.body);
    assert!(!found.body.contains(cookie.trim_start_matches("__Host-bridge_session=")), "a session is shown, never its value");
    let (last, created) = (found.json()["last_sign_in"].as_u64(), found.json()["sessions"][0]["created"].as_u64());
    assert!(last.is_some() && last == created, "the last sign-in is the session's: {}", found.body);
    assert_eq!(found.json()["factors"], json!([]));

    // From a page on another origin, even with a stolen token: refused before anything is read.
    for origin in ["https://evil.example.com", "null", "https://console.example.com.evil.com"] {
        let headers = [("authorization", &*format!("Bearer {token}")), ("origin", origin), ("content-type", "application/json")];
        let refused = send_to(&console.admin, "POST", "/admin/v1/people/hanako@example.com/disable", &headers, None).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("origin_not_allowed")), "{origin}");
        let preflight = send_to(&console.admin, "OPTIONS", "/admin/v1/apps", &[("origin", origin), ("access-control-request-method", "POST")], None).await;
        // CORS names the console's origin only, which the browser compares with the page's.
        assert_eq!(preflight.header("access-control-allow-origin"), Some(CONSOLE), "{origin}");
    }
    let preflight = send_to(&console.admin, "OPTIONS", "/admin/v1/apps", &[("origin", CONSOLE), ("access-control-request-method", "PUT")], None).await;
    assert_eq!(preflight.header("access-control-allow-origin"), Some(CONSOLE));
    let still = console.test.send("GET", &format!("/sso/{APP}"), &[("cookie", &format!("{cookie}; {}", console.test.browser_cookie()))], None).await;
    assert!(still.location_param("ctx").is_none(), "the session still works: {:?}", still.header("location"));

    // Named by the email alias: the person's sessions are found under their user name.
    let by_alias = console.call(&token, "GET", "/admin/v1/people/hanako@example.com", &[], None).await;
    assert_eq!(by_alias.json()["sessions"].as_array().map(Vec::len), Some(1), "{}", by_alias.body);
    let disabled = console.call(&token, "POST", "/admin/v1/people/hanako@example.com/disable", &[], None).await;
    assert_eq!((disabled.status, disabled.json()["enabled"].as_bool()), (StatusCode::OK, Some(false)), "{}", disabled.body);
    assert_eq!(disabled.json()["sessions"], json!([]));
    assert_eq!(console.test.items_under("SESSION#").await, 0, "no session left");
    // Recorded first, so that a sign-in under way, which read the account before, opens nothing.
    assert_eq!(console.test.items_under("REVOKED#").await, 1);
    let after = console.test.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert!(after.location_param("ctx").is_some(), "back to the form: {} {:?} {}", after.status, after.header("location"), after.body);
    assert_eq!(console.test.login("hanako@example.com", PASSWORD).await.json()["error"], "invalid_credentials");
    // The admin using the console never locks themselves out.
    for (method, path, body) in [("POST", "disable", None), ("DELETE", "role", None), ("PUT", "role", Some(json!({"role": "viewer"})))] {
        let yourself = console.call(&token, method, &format!("/admin/v1/people/boss@example.com/{path}"), &[], body).await;
        assert_eq!(yourself.status, StatusCode::BAD_REQUEST, "{method} {path}: {}", yourself.body);
    }
    assert_eq!(console.call(&token, "GET", "/admin/v1/me", &[], None).await.json()["role"], "admin");
    let enabled = console.call(&token, "POST", "/admin/v1/people/hanako@example.com/enable", &[], None).await;
    assert_eq!(enabled.json()["enabled"], true);
    // Enabled again, the person signs in at once (the revocation's record is gone).
    assert_eq!(console.test.items_under("REVOKED#").await, 0);
    assert_eq!(console.test.login("hanako@example.com", PASSWORD).await.status, StatusCode::OK);
    let username = found.json()["username"].as_str().unwrap().to_owned();
    let trail = console.call(&token, "GET", &format!("/admin/v1/audit?target=user:{username}"), &[], None).await.json();
    let kinds: Vec<&str> = trail["records"].as_array().unwrap().iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(kinds, ["admin.user.enabled", "admin.user.disabled"]);
}

#[tokio::test]
async fn a_console_token_is_revoked_when_its_person_signs_out_or_is_signed_out() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let lead = console.person("lead@example.com", &["bridge-operator"]).await;
    let ended = |reply: &Reply| reply.status == StatusCode::UNAUTHORIZED && reply.json()["error"] == "unauthorized";
    // Two tabs' tokens, and a copy of one (a `#jwt=` left in the browser's history).
    let (tab, other_tab) = (console.token(&boss, json!({"iat": now() - 5})), console.token(&boss, json!({"iat": now() - 60})));
    assert_eq!(console.call(&tab, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    assert_eq!(console.call(&other_tab, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    let out = console.call(&tab, "POST", "/admin/v1/me/sign-out", &[], None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    for token in [&tab, &other_tab] {
        for (method, path, body) in [("GET", "/admin/v1/me", None), ("POST", "/admin/v1/orgs", Some(json!({"name": "Late", "domains": ["late.example"]})))] {
            let reply = console.call(token, method, path, &[], body).await;
            assert!(ended(&reply), "{method} {path}: {} {}", reply.status, reply.body);
        }
    }
    assert_eq!(console.call(&tab, "POST", "/admin/v1/me/sign-out", &[], None).await.status, StatusCode::UNAUTHORIZED);
    // The next sign-in's token opens the console again, even in the same second.
    let again = console.token(&boss, json!({}));
    assert_eq!(console.call(&again, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);

    // An operator signed out everywhere, or disabled, by an admin: their console token ends too.
    let lead_token = console.token(&lead, json!({"iat": now() - 5}));
    assert_eq!(console.call(&lead_token, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    let signed_out = console.call(&again, "POST", &format!("/admin/v1/people/{}/sign-out", lead.0), &[], None).await;
    assert_eq!(signed_out.status, StatusCode::OK, "{}", signed_out.body);
    assert!(ended(&console.call(&lead_token, "GET", "/admin/v1/me", &[], None).await));
    let lead_later = console.token(&lead, json!({}));
    assert_eq!(console.call(&lead_later, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    // A token of a person disabled does not come back when they are enabled again.
    let kim = console.person("kim@example.com", &["bridge-viewer"]).await;
    let kim_token = console.token(&kim, json!({"iat": now() - 5}));
    assert_eq!(console.call(&kim_token, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    for change in ["disable", "enable"] {
        let reply = console.call(&again, "POST", &format!("/admin/v1/people/{}/{change}", kim.0), &[], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{change}: {}", reply.body);
        assert!(ended(&console.call(&kim_token, "GET", "/admin/v1/me", &[], None).await), "after {change}");
    }
    assert_eq!(console.call(&console.token(&kim, json!({})), "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);

    // The bridge's own sign-out (any app's logout URL, the console's among them) ends the
    // person's console tokens too: seen at once by an instance that has not cached the person
    // (one that has sees it within ADMIN_ROLE_TTL_SECONDS).
    let hanako = console.person("hanako@example.com", &["bridge-viewer"]).await;
    let hanako_token = console.token(&hanako, json!({"iat": now() - 5}));
    assert_eq!(console.call(&hanako_token, "GET", "/admin/v1/me", &[], None).await.status, StatusCode::OK);
    let landed = console.test.handoff(&console.test.login("hanako@example.com", PASSWORD).await).await;
    let logout = console.test.send("GET", &format!("/sso/{APP}/logout"), &[("cookie", &session_cookie(&landed))], None).await;
    assert_eq!(logout.status, StatusCode::FOUND, "{}", logout.body);
    let bearer = format!("Bearer {hanako_token}");
    let headers = [("authorization", bearer.as_str()), ("origin", CONSOLE)];
    let elsewhere = send_to(&console.other_instance(), "GET", "/admin/v1/me", &headers, None).await;
    assert!(ended(&elsewhere), "{} {}", elsewhere.status, elsewhere.body);
}

/// Every other door that signs a person out everywhere revokes their console tokens too: a
/// password reset (its own sign-in's token, minted in the same request after the revocation,
/// stands) and the account page's "sign out elsewhere" (the same code ends the other sessions
/// on a password change and a factor's or passkey's removal). Each is checked on an admin
/// instance with nothing cached. SCIM deactivation, a workflow's `sign_out` step, a factor set
/// up at sign-in and a password change write the same mark (`corporate.rs`, `workflows.rs`,
/// `risk.rs`, `account.rs`).
#[tokio::test]
async fn every_door_that_signs_a_person_out_everywhere_revokes_their_console_tokens() {
    let console = &Console::new().await;
    console_app(console).await;
    let me = |token: String| async move {
        let bearer = format!("Bearer {token}");
        let reply = send_to(&console.other_instance(), "GET", "/admin/v1/me", &[("authorization", bearer.as_str()), ("origin", CONSOLE)], None).await;
        (reply.status, reply.json()["error"].as_str().map(str::to_owned))
    };
    let revoked = (StatusCode::UNAUTHORIZED, Some("unauthorized".to_owned()));

    // A password reset begun at the console's own door.
    let hanako = console.person("hanako@example.com", &["bridge-viewer"]).await;
    let before = console.token(&hanako, json!({"iat": now() - 5}));
    assert_eq!(me(before.clone()).await.0, StatusCode::OK);
    let door = console.test.send("GET", "/sso/console", &[], None).await;
    let ctx = door.location_param("ctx").unwrap_or_else(|| panic!("{:?}", door.header("location")));
    assert_eq!(console.test.post("/password/forgot", json!({"ctx": ctx, "email": "hanako@example.com"})).await.status, StatusCode::OK);
    let code = console.test.emailed_code("hanako@example.com");
    let reset = console.test.post("/password/reset", json!({"ctx": ctx, "email": "hanako@example.com", "code": code, "new_password": "N3w-Passw0rd!x"})).await;
    let landed = console.test.handoff(&reset).await;
    assert_eq!(me(before).await, revoked, "the token from before the reset");
    let after = landed.location_param("jwt").unwrap_or_else(|| panic!("no token in {:?}", landed.header("location")));
    // Not revoked: refused only for want of a second factor (a reset signs in with a password).
    assert_eq!(me(after).await, (StatusCode::FORBIDDEN, Some("second_factor_required".to_owned())), "the reset's own token");

    // The account page's "sign out elsewhere".
    let haruka = console.person("haruka@example.com", &["bridge-viewer"]).await;
    let before = console.token(&haruka, json!({"iat": now() - 5}));
    assert_eq!(me(before.clone()).await.0, StatusCode::OK);
    let cookie = session_cookie(&console.test.handoff(&console.test.login("haruka@example.com", PASSWORD).await).await);
    let grant = crate::account::grant(&console.test, &cookie).await;
    let ended = console.test.post("/account/sessions/end-others", json!({"grant": grant})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(me(before).await, revoked, "the token from before the sign-out elsewhere");
    assert_eq!(me(console.token(&haruka, json!({}))).await.0, StatusCode::OK, "the next sign-in's");
}

#[tokio::test]
async fn hostile_requests_get_a_clear_error_and_never_a_5xx() {
    let console = Console::new().await;
    let contract = contract();
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let bodies = [
        "",
        "null",
        "[]",
        "{",
        "\"x\"",
        "{\"id\": 1}",
        "{\"id\": \"UPPER\", \"name\": \"x\", \"target\": {\"kind\": \"jwt\"}, \"allowed_origins\": []}",
        "{\"name\": \"x\", \"unknown\": true}",
        "{\"role\": \"root\"}",
        "{\"secret\": \"short\"}",
        "{\"generate\": true, \"secret\": \"0123456789abcdefgh\"}",
        &"[".repeat(5000),
        &format!("{{\"name\": \"{}\"}}", "x".repeat(70_000)),
    ];
    let paths = [
        ("POST", "/admin/v1/apps"),
        ("PUT", "/admin/v1/apps/tool"),
        ("POST", "/admin/v1/keys/rotate"),
        ("POST", "/admin/v1/consent/terms"),
        ("POST", "/admin/v1/apps/acme-help/secret"),
        ("PUT", "/admin/v1/people/boss@example.com/role"),
        ("POST", "/admin/v1/orgs"),
        ("PUT", "/admin/v1/orgs/org-x"),
        ("PUT", "/admin/v1/orgs/org-x/connection"),
        ("POST", "/admin/v1/orgs/org-x/tokens"),
        ("POST", "/admin/v1/hooks"),
        ("PUT", "/admin/v1/hooks/main"),
        ("POST", "/admin/v1/hooks/main/preview"),
        ("POST", "/admin/v1/hooks/main/send"),
        ("POST", "/admin/v1/workflows/flows"),
        ("PUT", "/admin/v1/workflows/flows/x"),
        ("POST", "/admin/v1/workflows/flows/x/test"),
        ("POST", "/admin/v1/workflows/connections"),
        ("PUT", "/admin/v1/workflows/connections/x"),
    ];
    for (method, path) in paths {
        for body in bodies {
            for content_type in ["application/json", "text/plain"] {
                let headers = [("authorization", &*format!("Bearer {token}")), ("origin", CONSOLE), ("content-type", content_type), ("if-match", "\"1\"")];
                let reply = send_to(&console.admin, method, path, &headers, Some(body.to_owned())).await;
                assert!(reply.status.is_client_error(), "{method} {path} {content_type} {:.40}: {} {}", body, reply.status, reply.body);
                let statuses = documented(&contract, method, path).unwrap_or_else(|| panic!("{method} {path} is not in the contract"));
                assert!(statuses.contains(&reply.status.as_u16()), "{method} {path} answered an undocumented {}", reply.status);
                assert!(reply.json()["error"].is_string() && !reply.body.contains("Exception") && !reply.body.contains("dynamodb"), "{}", reply.body);
            }
        }
    }
    // A body that parses but could never be valid is a 400 before its If-Match is looked at.
    let never_valid = [
        ("/admin/v1/apps/acme-help", json!({"name": "", "target": {"kind": "jwt", "url": "https://x.example", "audience": "a"}, "allowed_origins": []})),
        ("/admin/v1/orgs/org-x", json!({"name": " ", "domains": []})),
        ("/admin/v1/orgs/org-x/connection", json!({"kind": "oidc", "issuer": "G", "client_id": "c", "client_secret": ""})),
        ("/admin/v1/hooks/main", json!({"url": "G", "auth": {"type": "header", "name": "x"}, "secret": ""})),
        ("/admin/v1/workflows/flows/x", json!({"id": "x", "name": "x", "trigger": "user.signed_in", "steps": []})),
        ("/admin/v1/workflows/connections/x", json!({"base_url": "http://example.com", "auth": {"type": "none"}})),
    ];
    for (path, body) in never_valid {
        for tag in ["W/\"\", \"S4yA\"", "\"1\""] {
            let reply = console.call(&token, "PUT", path, &[("if-match", tag)], Some(body.clone())).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "PUT {path} If-Match {tag}: {}", reply.body);
        }
    }
    for path in [
        "/admin/v1/apps/..%2F..%2Fetc",
        "/admin/v1/apps/%00",
        "/admin/v1/orgs/ORG%20X",
        "/admin/v1/hooks/-x",
        "/admin/v1/hooks/nobody/metrics",
        "/admin/v1/overview?days=0",
        "/admin/v1/overview?days=91",
        "/admin/v1/overview?days=x&y=1",
        "/admin/v1/orgs/org-nobody/tokens",
        "/admin/v1/people/%20",
        "/admin/v1/people?email=not-an-email",
        "/admin/v1/people?email=",
        "/admin/v1/people?name=x",
        "/admin/v1/audit?limit=0",
        "/admin/v1/audit?limit=-1",
        "/admin/v1/audit?since=9&until=1",
        "/admin/v1/audit?cursor=AUDIT%23x",
        "/admin/v1/audit?type=user.exploded",
        "/admin/v1/audit?since=9999999999&until=10000000001",
        "/admin/v1/audit?since=1800000000&cursor=1700000000_6f1e2b1c-0c6e-4b7e-9d7a-2f1f4f9f0a11",
        "/admin/v1/audit?limit=18446744073709551616",
        "/admin/v1/audit?actor=a&target=b",
        "/admin/v1/audit?limit=1&limit=2",
        "/admin/v1/workflows/flows/UPPER",
        "/admin/v1/workflows/flows/nobody",
        "/admin/v1/workflows/flows/nobody/runs",
        "/admin/v1/workflows/flows/x/runs?limit=101",
        "/admin/v1/workflows/flows/x/report?limit=0",
        "/admin/v1/workflows/failed-runs?limit=0",
        "/admin/v1/workflows/failed-runs?cursor=RUN%23x",
        "/admin/v1/workflows/failed-runs?cursor=00000000001700000000_ABCDEF00000000000000000000000000",
        "/admin/v1/workflows/failed-runs?page=2",
        "/admin/v1/workflows/runs/ABCDEF00000000000000000000000000",
        "/admin/v1/workflows/runs/00000000000000000000000000000000",
        "/admin/v1/workflows/connections/C%20D",
        "/admin/v1/workflows/connections/nobody",
        "/admin/v1/nothing",
        "/admin/v2/apps",
        &format!("/admin/v1/people/{}", "x".repeat(300)),
    ] {
        let reply = console.call(&token, "GET", path, &[], None).await;
        assert!(reply.status.is_client_error(), "{path}: {} {}", reply.status, reply.body);
        assert!(reply.json()["error"].is_string(), "{path}: {}", reply.body);
        if let Some(statuses) = documented(&contract, "GET", path) {
            assert!(statuses.contains(&reply.status.as_u16()), "GET {path} answered an undocumented {}", reply.status);
        }
    }
    // A path that is not UTF-8: the JSON error, never axum's plain-text one.
    for (method, path) in [("GET", "/admin/v1/people/%FF"), ("POST", "/admin/v1/people/%FF/disable"), ("DELETE", "/admin/v1/orgs/x/tokens/%FF")] {
        let reply = console.call(&token, method, path, &[], None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}: {}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_request", "{method} {path}: {}", reply.body);
    }
    assert_eq!(console.call(&token, "PATCH", "/admin/v1/apps", &[], None).await.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn every_route_in_the_contract_is_served_and_refuses_a_caller_without_a_token() {
    let console = Console::new().await;
    let contract = contract();
    let mut operations = 0;
    for (template, methods) in contract["paths"].as_object().unwrap() {
        let path = format!(
            "/admin/v1{}",
            template
                .replace("{id}", "acme-help")
                .replace("{document}", "terms")
                .replace("{version}", "1")
                .replace("{username}", "boss@example.com")
                .replace("{token}", "t-1")
        );
        for method in methods.as_object().unwrap().keys().filter(|m| *m != "parameters") {
            let method = method.to_uppercase();
            let reply = send_to(&console.admin, &method, &path, &[("origin", CONSOLE), ("content-type", "application/json")], Some("{}".into())).await;
            assert_eq!((reply.status, reply.header("www-authenticate")), (StatusCode::UNAUTHORIZED, Some("Bearer")), "{method} {path}: {}", reply.body);
            assert!(documented(&contract, &method, &path).is_some_and(|s| s.contains(&401)), "{method} {path}");
            operations += 1;
        }
    }
    assert_eq!(operations, 66, "the routes of `functions/admin/src/routes`");
    // A name defined twice in YAML silently keeps the last: every schema is defined once.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/admin-openapi.yaml")).unwrap();
    let schemas = text.split("\n  schemas:\n").nth(1).unwrap();
    let mut names: Vec<&str> = schemas
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once(':').map(|(name, _)| name))
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "a schema is defined twice in docs/admin-openapi.yaml");
}

/// The AWS calls each warm admin request makes (the figures in the README), and its time here
/// (printed, not checked: moto on a shared machine).
#[tokio::test]
async fn warm_requests_make_only_the_calls_their_data_needs() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let hanako = console.person("hanako@example.com", &[]).await;
    let token = console.token(&boss, json!({}));
    let sign_out = format!("/admin/v1/people/{}/sign-out", hanako.0);
    // Cold: the key set and the operator's standing (AdminGetUser beside AdminListGroupsForUser
    // and the console sign-out mark's GetItem).
    console.test.calls.take();
    console.call(&token, "GET", "/admin/v1/me", &[], None).await;
    let cold = console.test.calls.take();
    assert_eq!(cold.len(), 4, "{cold:?}");
    let mut app = jwt_app("tool");
    app["generate_secret"] = json!(true);
    let cases: [(&str, &str, &str, Option<Value>, usize); 7] = [
        ("list apps", "GET", "/admin/v1/apps", None, 1),
        ("read an app", "GET", "/admin/v1/apps/acme-help", None, 1),
        ("create an app", "POST", "/admin/v1/apps", Some(app), 3),
        ("change an app", "PUT", "/admin/v1/apps/tool", Some(settings("Renamed")), 2),
        // A person: the account (by email, then its groups), sessions, last sign-in, refresh
        // tokens and sign-out mark, side by side.
        ("find a person", "GET", "/admin/v1/people?email=hanako@example.com", None, 7),
        ("sign a person out", "POST", &sign_out, None, 10),
        ("audit page", "GET", "/admin/v1/audit?limit=50", None, 1),
    ];
    console.warm_calls(&token, cases).await;
    // Organisations and hooks: a new one first, then what it takes to read and change it.
    let created = console.call(&token, "POST", "/admin/v1/orgs", &[], Some(json!({"name": "Warm", "domains": ["warm.example"]}))).await;
    assert_eq!(console.test.calls.take().len(), STANDING + 1, "create an organisation: the caller's standing, one transaction");
    let org = format!("/admin/v1/orgs/{}", created.json()["id"].as_str().unwrap());
    let hook = json!({"name": "warm", "url": "https://sms.example.com/hook", "auth": {"type": "header", "name": "x-key"}, "secret": "warm-hook-secret"});
    let cases: [(&str, &str, String, Option<Value>, usize); 7] = [
        ("list orgs", "GET", "/admin/v1/orgs".into(), None, 1),
        ("read an org", "GET", org.clone(), None, 1),
        ("change an org", "PUT", org.clone(), Some(json!({"name": "Warm 2", "domains": ["warm.example"]})), 2),
        ("issue a token", "POST", format!("{org}/tokens"), Some(json!({"label": "okta"})), 2),
        ("list hooks", "GET", "/admin/v1/hooks".into(), None, 1),
        ("create a hook", "POST", "/admin/v1/hooks".into(), Some(hook), 3),
        ("activate a hook", "POST", "/admin/v1/hooks/warm/activate".into(), None, 3),
    ];
    console.warm_calls(&token, cases.iter().map(|(what, method, path, body, n)| (*what, *method, path.as_str(), body.clone(), *n))).await;
    // Workflows: a connection and a flow, then what it takes to read and change them.
    let connection = json!({"name": "warm", "base_url": "https://warm.example.com", "auth": {"type": "bearer"}, "secret": "warm-connection-token"});
    let flow = json!({"id": "warm", "name": "Warm", "trigger": "sign_in.high_risk",
                      "steps": [{"id": "tell", "connector": "http", "connection": "warm", "path": "/events", "body": {"who": "{{user.email}}"}}]});
    let cases: [(&str, &str, &str, Option<Value>, usize); 8] = [
        ("create a connection", "POST", "/admin/v1/workflows/connections", Some(connection), 3),
        ("list connections", "GET", "/admin/v1/workflows/connections", None, 1),
        ("create a flow", "POST", "/admin/v1/workflows/flows", Some(flow), 2),
        ("list flows", "GET", "/admin/v1/workflows/flows", None, 1),
        ("read a flow", "GET", "/admin/v1/workflows/flows/warm", None, 1),
        ("disable a flow", "POST", "/admin/v1/workflows/flows/warm/disable", None, 2),
        ("a flow's runs", "GET", "/admin/v1/workflows/flows/warm/runs", None, 2),
        ("failed runs", "GET", "/admin/v1/workflows/failed-runs", None, 1),
    ];
    console.warm_calls(&token, cases).await;
}

#[tokio::test]
async fn keys_rotate_through_the_api_with_a_safe_lead_and_the_audit_trail_shows_public_halves_only() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let listed = console.call(&token, "GET", "/admin/v1/keys", &[], None).await;
    assert_eq!((listed.status, listed.json()["keys"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{}", listed.body);
    for (body, why) in [
        (json!({"alg": "HS256"}), "our keys are RS256 or ES256"),
        (json!({"alg": "ES256", "lead_seconds": 60}), "a lead shorter than the caches"),
        (json!({"alg": "ES256", "lead_seconds": 100 * 24 * 3600}), "a lead over 30 days"),
        (json!({"alg": "none"}), "no such algorithm"),
    ] {
        let refused = console.call(&token, "POST", "/admin/v1/keys/rotate", &[], Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{why}: {}", refused.body);
    }
    let rotated = console.call(&token, "POST", "/admin/v1/keys/rotate", &[], Some(json!({"alg": "ES256"}))).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let key = rotated.json();
    assert_eq!(key["sign_from"].as_u64(), key["publish_from"].as_u64().map(|t| t + 24 * 3600), "a replacement signs after a day: {key}");
    assert!(key.get("private_key").is_none() && !rotated.body.contains("secretsmanager"), "{}", rotated.body);
    // The console's token still verifies: the old key signs until the new one takes over.
    let keys = console.call(&token, "GET", "/admin/v1/keys", &[], None).await.json();
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(2));
    assert!(keys["keys"][0]["retire_after"].is_u64(), "the replaced key retires: {keys}");
    assert_eq!(console.call(&token, "POST", "/admin/v1/keys/prune", &[], None).await.json()["pruned"], json!([]), "nothing retired yet");

    let trail = console.call(&token, "GET", "/admin/v1/audit?type=admin.key.rotated", &[], None).await;
    let records = trail.json()["records"].as_array().cloned().unwrap_or_default();
    let vias: Vec<&str> = records.iter().filter_map(|r| r["actor"]["via"].as_str()).collect();
    assert_eq!(vias, ["api", "cli"], "this rotation, and the harness's first key through the CLI's rules");
    assert_eq!(records[0]["target"], format!("key:{}", key["kid"].as_str().unwrap()));
    assert!(!trail.body.contains("secretsmanager") && !trail.body.contains("PRIVATE"), "{}", trail.body);
}

#[tokio::test]
async fn organisations_their_domains_connection_and_scim_tokens_change_through_the_api_audited_and_without_secrets() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, json!({}));
    let created = console.call(&token, "POST", "/admin/v1/orgs", &[], Some(json!({"name": "Acme", "domains": ["Acme.Example"]}))).await;
    assert_eq!((created.status, created.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", created.body);
    let org = created.json();
    let id = org["id"].as_str().unwrap().to_owned();
    assert_eq!((org["domains"].clone(), org["policies"]["delete"].clone()), (json!(["acme.example"]), json!("deactivate")));
    let path = format!("/admin/v1/orgs/{id}");

    // A domain has one owner; a change names its version.
    let taken = console.call(&token, "POST", "/admin/v1/orgs", &[], Some(json!({"name": "Other", "domains": ["acme.example"]}))).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let grown = json!({"name": "Acme", "domains": ["acme.example", "acme.co.jp"], "policies": {"password_sign_in": true}});
    assert_eq!(console.call(&token, "PUT", &path, &[], Some(grown.clone())).await.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(console.call(&token, "PUT", &path, &[("if-match", "\"7\"")], Some(grown.clone())).await.status, StatusCode::PRECONDITION_FAILED);
    let changed = console.call(&token, "PUT", &path, &[("if-match", "\"1\"")], Some(grown)).await;
    assert_eq!((changed.status, changed.header("etag")), (StatusCode::OK, Some("\"2\"")), "{}", changed.body);

    // The connection's secret goes to the vault and is never shown; a change without one keeps it.
    let connection = json!({"kind": "oidc", "issuer": "https://idp.acme.example", "client_id": "bridge", "client_secret": "s3cret-client-value"});
    let connected = console.call(&token, "PUT", &format!("{path}/connection"), &[("if-match", "\"2\"")], Some(connection)).await;
    assert_eq!(connected.status, StatusCode::OK, "{}", connected.body);
    assert_eq!(connected.json()["connection"]["has_client_secret"], true);
    let again = json!({"kind": "oidc", "issuer": "https://idp.acme.example", "client_id": "bridge-2", "provisioning": "on_first_sign_in"});
    let kept = console.call(&token, "PUT", &format!("{path}/connection"), &[("if-match", "\"3\"")], Some(again)).await;
    assert_eq!((kept.json()["connection"]["has_client_secret"].clone(), kept.json()["version"].clone()), (json!(true), json!(4)), "{}", kept.body);
    // A kept secret never follows the connection to another issuer (whose token endpoint would
    // receive it): an operator who cannot read it cannot send it to a provider of their own.
    let moved = json!({"kind": "oidc", "issuer": "https://idp.attacker.example", "client_id": "bridge"});
    let refused = console.call(&token, "PUT", &format!("{path}/connection"), &[("if-match", "\"4\"")], Some(moved)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let insecure = json!({"kind": "oidc", "issuer": "http://idp.acme.example", "client_id": "bridge"});
    assert_eq!(console.call(&token, "PUT", &format!("{path}/connection"), &[("if-match", "\"4\"")], Some(insecure)).await.status, StatusCode::BAD_REQUEST);
    // The provider's endpoints come only from its own discovery document (unreachable here: none
    // kept); an operator cannot hand the bridge others.
    assert_eq!(kept.json()["connection"]["metadata"], Value::Null, "{}", kept.body);
    let endpoints = json!({"issuer": "https://idp.acme.example", "authorization_endpoint": "https://evil.example/authorize",
                           "token_endpoint": "https://evil.example/token", "jwks_uri": "https://evil.example/jwks"});
    let handed = json!({"kind": "oidc", "issuer": "https://idp.acme.example", "client_id": "bridge", "metadata": endpoints});
    let refused = console.call(&token, "PUT", &format!("{path}/connection"), &[("if-match", "\"4\"")], Some(handed)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(console.call(&token, "GET", &path, &[], None).await.json()["connection"]["metadata"], Value::Null);
    // Two new client secrets from the same version at once: one change is written and the secret
    // in use is its own; the refused one's is gone and the one before is scheduled for deletion.
    let racer = |secret: &str| json!({"kind": "oidc", "issuer": "https://idp.acme.example", "client_id": "bridge", "client_secret": secret});
    let connection_path = format!("{path}/connection");
    let (a, b) = tokio::join!(
        console.call(&token, "PUT", &connection_path, &[("if-match", "\"4\"")], Some(racer("client-secret-of-change-a"))),
        console.call(&token, "PUT", &connection_path, &[("if-match", "\"4\"")], Some(racer("client-secret-of-change-b")))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED], "{} / {}", a.body, b.body);
    let winner = if a.status == StatusCode::OK { "client-secret-of-change-a" } else { "client-secret-of-change-b" };
    assert_eq!(console.vault(&format!("connections/{id}/")).await, (2, vec![winner.to_owned()]));

    // A SCIM token is shown once, works, and stops working when revoked.
    let issued = console.call(&token, "POST", &format!("{path}/tokens"), &[], Some(json!({"label": "okta"}))).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let (scim_token, token_id) = (issued.json()["token"].as_str().unwrap().to_owned(), issued.json()["id"].as_str().unwrap().to_owned());
    let store = shared::adapters::dynamo::orgs::DynamoOrgs::new(aws_sdk_dynamodb::Client::new(&console.test.sdk), &console.test.stack.table);
    let org_of = |t: String| {
        let store = &store;
        async move { shared::directory::scim_token::authenticate(store, &t).await.unwrap().map(|o| o.to_string()) }
    };
    assert_eq!(org_of(scim_token.clone()).await.as_deref(), Some(id.as_str()));
    // A working SCIM token opens nothing of the admin API.
    for (method, route) in [("GET", "/admin/v1/orgs"), ("GET", &path), ("POST", "/admin/v1/keys/rotate")] {
        assert_eq!(console.call(&scim_token, method, route, &[], None).await.status, StatusCode::UNAUTHORIZED, "{method} {route}");
    }
    let listed = console.call(&token, "GET", &format!("{path}/tokens"), &[], None).await;
    assert_eq!(listed.json()["tokens"][0]["label"], "okta");
    assert!(!listed.body.contains(&scim_token) && !listed.body.contains("digest"), "{}", listed.body);
    console.call(&token, "POST", &format!("{path}/tokens"), &[], Some(json!({"label": "entra"}))).await;
    let third = console.call(&token, "POST", &format!("{path}/tokens"), &[], Some(json!({"label": "one too many"}))).await;
    assert_eq!(third.status, StatusCode::BAD_REQUEST, "{}", third.body);
    assert_eq!(console.call(&token, "DELETE", &format!("{path}/tokens/{token_id}"), &[], None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(org_of(scim_token.clone()).await, None, "a revoked token opens nothing");
    assert_eq!(console.call(&token, "DELETE", &format!("{path}/tokens/{token_id}"), &[], None).await.status, StatusCode::NOT_FOUND);

    // The trail has every change by its actor, and no secret.
    let trail = console.call(&token, "GET", &format!("/admin/v1/audit?target=org:{id}"), &[], None).await;
    let kinds: Vec<String> = trail.json()["records"].as_array().unwrap().iter().filter_map(|r| r["type"].as_str()).map(str::to_owned).collect();
    assert_eq!(
        kinds,
        [
            "admin.org.token_revoked",
            "admin.org.token_issued",
            "admin.org.token_issued",
            "admin.org.connected",
            "admin.org.connected",
            "admin.org.connected",
            "admin.org.updated",
            "admin.org.created"
        ]
    );
    assert!(trail.json()["records"].as_array().unwrap().iter().all(|r| r["actor"]["id"] == boss.1.as_str()));
    for secret in ["s3cret-client-value", "client-secret-of-change", &scim_token, "secretsmanager", "digest"] {
        assert!(!trail.body.contains(secret), "{secret} in {}", trail.body);
    }

    // Removing it frees its domains and ends its remaining token.
    assert_eq!(console.call(&token, "DELETE", &path, &[("if-match", "\"5\"")], None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(console.vault(&format!("connections/{id}/")).await.1, Vec::<String>::new(), "a removed organisation's secret is deleted");
    assert_eq!(console.call(&token, "GET", &path, &[], None).await.status, StatusCode::NOT_FOUND);
    let reused = console.call(&token, "POST", "/admin/v1/orgs", &[], Some(json!({"name": "Acme again", "domains": ["acme.co.jp"]}))).await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);
}

#[tokio::test]
async fn telephony_hooks_operators_switch_them_admins_change_and_preview_them_and_no_answer_shows_a_secret() {
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    // Issued a little before the test's changes (a token issued in the second of its person's
    // revocation stands).
    let earlier = json!({"iat": now() - 5});
    let (boss_t, ops_t, viewer_t) = (console.token(&boss, earlier.clone()), console.token(&ops, earlier.clone()), console.token(&viewer, earlier));
    let (base, seen) = crate::sms_sender::telephony_service(vec![]).await;
    const SECRET: &str = "hook-s3cret-value";
    let new = |name: &str, path: &str, fallback: Option<&str>| json!({"name": name, "url": format!("{base}{path}"), "auth": {"type": "header", "name": "x-hook-secret"}, "fallback": fallback, "secret": SECRET});
    let backup = console.call(&boss_t, "POST", "/admin/v1/hooks", &[], Some(new("backup", "/ok-backup", None))).await;
    assert_eq!((backup.status, backup.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", backup.body);
    assert_eq!(backup.json()["auth"], json!({"type": "header", "name": "x-hook-secret", "has_secret": true}));
    let main = console.call(&boss_t, "POST", "/admin/v1/hooks", &[], Some(new("main", "/ok", Some("backup")))).await;
    assert_eq!(main.status, StatusCode::CREATED, "{}", main.body);
    let orphan = console.call(&boss_t, "POST", "/admin/v1/hooks", &[], Some(new("orphan", "/ok", Some("nobody")))).await;
    assert_eq!(orphan.status, StatusCode::BAD_REQUEST, "a fallback must exist: {}", orphan.body);

    // Operators switch hooks; only admins change, preview or send; viewers read.
    assert_eq!(console.call(&viewer_t, "POST", "/admin/v1/hooks/main/activate", &[], None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(console.call(&ops_t, "POST", "/admin/v1/hooks/main/activate", &[], None).await.status, StatusCode::OK);
    let listed = console.call(&viewer_t, "GET", "/admin/v1/hooks", &[], None).await;
    let active: Vec<(String, bool)> =
        listed.json()["hooks"].as_array().unwrap().iter().map(|h| (h["name"].as_str().unwrap().to_owned(), h["active"].as_bool().unwrap())).collect();
    assert_eq!(active, [("backup".to_owned(), false), ("main".to_owned(), true)]);
    assert_eq!(console.call(&ops_t, "POST", "/admin/v1/hooks/main/preview", &[], Some(json!({"user": "ops@example.com"}))).await.status, StatusCode::FORBIDDEN);

    // Changes name their version; a new kind of authentication needs its secret; an active hook
    // or another's fallback stays.
    let v2 = json!({"url": format!("{base}/ok-v2"), "auth": {"type": "header", "name": "x-hook-secret"}, "fallback": "backup"});
    assert_eq!(console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"9\"")], Some(v2.clone())).await.status, StatusCode::PRECONDITION_FAILED);
    let changed = console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"1\"")], Some(v2)).await;
    assert_eq!((changed.status, changed.header("etag")), (StatusCode::OK, Some("\"2\"")), "{}", changed.body);
    assert_eq!(changed.json()["auth"]["has_secret"], true, "a new path on the same host keeps the secret");
    let oauth = json!({"url": format!("{base}/ok"), "auth": {"type": "oauth2", "token_url": format!("{base}/token"), "client_id": "c"}});
    assert_eq!(console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"2\"")], Some(oauth)).await.status, StatusCode::BAD_REQUEST);
    // A kept secret does not follow the hook to another host (or an OAuth hook's to another
    // token endpoint): it is entered again. (A new path on the same host keeps it: `v2` above.)
    for elsewhere in ["https://sms.attacker.example/ok".to_owned(), "http://localhost:1/ok".to_owned()] {
        let moved = json!({"url": elsewhere, "auth": {"type": "header", "name": "x-hook-secret"}, "fallback": "backup"});
        let refused = console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"2\"")], Some(moved)).await;
        assert!(refused.status == StatusCode::BAD_REQUEST && refused.body.contains("another host"), "{elsewhere}: {}", refused.body);
    }
    // Two new secrets from the same version at once: one change is written and the hook uses its
    // secret (the send below carries it); the refused one's is gone, the one before let go.
    let racer =
        |secret: &str| json!({"url": format!("{base}/ok-v2"), "auth": {"type": "header", "name": "x-hook-secret"}, "fallback": "backup", "secret": secret});
    let (a, b) = tokio::join!(
        console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"2\"")], Some(racer("hook-secret-of-change-a"))),
        console.call(&boss_t, "PUT", "/admin/v1/hooks/main", &[("if-match", "\"2\"")], Some(racer("hook-secret-of-change-b")))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED], "{} / {}", a.body, b.body);
    let winner = if a.status == StatusCode::OK { "hook-secret-of-change-a" } else { "hook-secret-of-change-b" };
    assert_eq!(console.vault("hooks/main/").await, (2, vec![winner.to_owned()]));
    assert_eq!(console.call(&boss_t, "DELETE", "/admin/v1/hooks/main", &[("if-match", "\"3\"")], None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(console.call(&boss_t, "DELETE", "/admin/v1/hooks/backup", &[("if-match", "\"1\"")], None).await.status, StatusCode::BAD_REQUEST);

    // A preview for a real person, edited, sent once with the stored secret; not counted.
    console.test.user("preview@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    let preview =
        console.call(&boss_t, "POST", "/admin/v1/hooks/main/preview", &[], Some(json!({"user": "preview@example.com", "type": "password-reset"}))).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let mut request = preview.json()["request"].clone();
    assert_eq!(request["data"]["messageProfile"]["phoneNumber"], "+819012345678");
    request["data"]["messageProfile"]["msgTemplate"] = "edited".into();
    let sent = console.call(&boss_t, "POST", "/admin/v1/hooks/main/send", &[], Some(json!({"request": request}))).await;
    assert_eq!((sent.status, sent.json()["outcome"].clone()), (StatusCode::OK, json!("delivered")), "{}", sent.body);
    let received = seen.lock().unwrap().clone();
    assert_eq!((received.len(), received[0].0.as_str(), received[0].1.as_deref()), (1, "/ok-v2", Some(winner)));
    assert_eq!(received[0].2["data"]["messageProfile"]["msgTemplate"], "edited");
    let metrics = console.call(&viewer_t, "GET", "/admin/v1/hooks/main/metrics", &[], None).await;
    assert_eq!((metrics.status, metrics.json()["total"].clone()), (StatusCode::OK, json!(0)), "{}", metrics.body);

    assert_eq!(console.call(&ops_t, "POST", "/admin/v1/hooks/main/deactivate", &[], None).await.status, StatusCode::OK);
    assert_eq!(console.call(&ops_t, "POST", "/admin/v1/hooks/main/deactivate", &[], None).await.status, StatusCode::BAD_REQUEST, "not active any more");

    // The trail: every change by its actor, as the hook's own lifecycle events; no secret anywhere.
    let trail = console.call(&viewer_t, "GET", "/admin/v1/audit?target=hook:main", &[], None).await;
    let records = trail.json()["records"].as_array().cloned().unwrap();
    let kinds: Vec<(String, String)> =
        records.iter().map(|r| (r["type"].as_str().unwrap().to_owned(), r["actor"]["id"].as_str().unwrap().to_owned())).collect();
    let by = |kind: &str, who: &(String, String)| (kind.to_owned(), who.1.clone());
    assert_eq!(
        kinds,
        [
            by("hook.deactivated", &ops),
            by("hook.test_sent", &boss),
            by("hook.updated", &boss),
            by("hook.updated", &boss),
            by("hook.activated", &ops),
            by("hook.created", &boss)
        ]
    );
    let events = console.test.event_types().await;
    assert_eq!(events.iter().filter(|e| e.starts_with("hook.")).count(), 7, "one event per change and per send, no second one: {events:?}");
    for body in [&trail.body, &listed.body, &changed.body, &backup.body, &main.body] {
        assert!(!body.contains(SECRET) && !body.contains(winner) && !body.contains("secretsmanager") && !body.contains("arn:"), "{body}");
    }
}

#[tokio::test]
async fn the_overview_reads_every_day_of_its_range_from_the_runners_counters_in_one_query() {
    use shared::events::daily::{DailyCounts, DayTotals};
    let console = Console::new().await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    let token = console.token(&viewer, json!({}));
    let daily = shared::adapters::dynamo::daily::DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(&console.test.sdk), &console.test.stack.table);
    let today = now() / 86_400;
    let yesterday = DayTotals { sign_ins: 4, failed_sign_ins: 1, hook_deliveries: 2, hook_failures: 1, ..DayTotals::default() };
    daily.add(&[(today - 1, yesterday), (today, DayTotals { sign_ins: 1, ..DayTotals::default() })].into()).await.unwrap();
    daily.add(&[(today, DayTotals { sign_ins: 2, high_risk: 1, scim_changes: 3, ..DayTotals::default() })].into()).await.unwrap();
    daily.add(&[(today - 40, DayTotals { sign_ins: 9, ..DayTotals::default() })].into()).await.unwrap();

    console.test.calls.take();
    let reply = console.call(&token, "GET", "/admin/v1/overview?days=7", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let days = reply.json()["days"].as_array().cloned().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["date"], shared::common::time::rfc3339(today * 86_400)[..10]);
    assert_eq!((days[6]["sign_ins"].clone(), days[6]["high_risk"].clone(), days[6]["scim_changes"].clone()), (json!(3), json!(1), json!(3)), "added up");
    assert_eq!((days[5]["sign_ins"].clone(), days[5]["hook_failures"].clone()), (json!(4), json!(1)));
    assert!(days[..5].iter().all(|d| d["sign_ins"] == 0), "zeros where nothing was counted, and nothing from before the range");
    let calls = console.test.calls.take();
    assert_eq!(calls.iter().filter(|c| c.contains("Query")).count(), 1, "{calls:?}");
    assert_eq!(console.call(&token, "GET", "/admin/v1/overview", &[], None).await.json()["days"].as_array().map(Vec::len), Some(30));
}

/// Workflows through the API: admins create connections and flows (the secret never comes back),
/// operators replay failed runs, viewers read; two replays of one run at once open one ticket.
#[tokio::test]
async fn workflows_admins_change_flows_operators_replay_failed_runs_once_and_no_answer_shows_a_secret() {
    use crate::workflows::{Service, event, template};
    use shared::adapters::dynamo::workflows::DynamoWorkflows;
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let ops = console.person("ops@example.com", &["bridge-operator"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    // Issued a little before the test's changes (a token issued in the second of its person's
    // revocation stands).
    let earlier = json!({"iat": now() - 5});
    let (boss_t, ops_t, viewer_t) = (console.token(&boss, earlier.clone()), console.token(&ops, earlier.clone()), console.token(&viewer, earlier));
    let service = Service::default();
    let base = service.start().await;
    const SECRET: &str = "sn-Passw0rd!-never-shown";

    // A flow needs its connections first; a connection that authenticates needs its secret.
    let flow = serde_json::to_value(template("high-risk-sign-in-servicenow")).unwrap();
    let early = console.call(&boss_t, "POST", "/admin/v1/workflows/flows", &[], Some(flow.clone())).await;
    assert!(early.status == StatusCode::BAD_REQUEST && early.body.contains("servicenow"), "{}", early.body);
    let connection = json!({"name": "servicenow", "base_url": base, "auth": {"type": "basic", "username": "bridge.integration"}});
    assert_eq!(console.call(&boss_t, "POST", "/admin/v1/workflows/connections", &[], Some(connection.clone())).await.status, StatusCode::BAD_REQUEST);
    for (sneaky, why) in [
        (json!({"name": "creds", "base_url": "https://user:hunter2@sn.example", "auth": {"type": "none"}}), "a password in the URL"),
        (json!({"name": "vhost", "base_url": base, "auth": {"type": "none"}, "headers": {"Host": "internal.example"}}), "another virtual host"),
        (json!({"name": "split", "base_url": base, "auth": {"type": "none"}, "headers": {"x-a": "b\r\nx-b: c"}}), "a header split"),
        (
            json!({"name": "bearer", "base_url": base, "auth": {"type": "none"}, "headers": {"Authorization": "Bearer hunter2"}}),
            "a credential shown to every viewer",
        ),
        (json!({"name": "apikey", "base_url": base, "auth": {"type": "none"}, "headers": {"X-Api-Key": "hunter2"}}), "a key in a header"),
        (json!({"name": "nosecret", "base_url": base, "auth": {"type": "none"}, "secret": "s"}), "a secret for no authentication"),
    ] {
        let refused = console.call(&boss_t, "POST", "/admin/v1/workflows/connections", &[], Some(sneaky)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{why}: {}", refused.body);
        assert!(!refused.body.contains("hunter2"), "{}", refused.body);
    }
    let echoed = console
        .call(&boss_t, "POST", "/admin/v1/workflows/flows", &[], Some(json!({"id": "x", "name": "x", "trigger": "<script>x</script>", "steps": []})))
        .await;
    assert!(echoed.status == StatusCode::BAD_REQUEST && !echoed.body.contains("<script>"), "a refusal never echoes the body: {}", echoed.body);
    let mut with_secret = connection.clone();
    with_secret["secret"] = SECRET.into();
    assert_eq!(console.call(&viewer_t, "POST", "/admin/v1/workflows/connections", &[], Some(with_secret.clone())).await.status, StatusCode::FORBIDDEN);
    let created = console.call(&boss_t, "POST", "/admin/v1/workflows/connections", &[], Some(with_secret.clone())).await;
    assert_eq!((created.status, created.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", created.body);
    assert_eq!(created.json()["auth"], json!({"type": "basic", "username": "bridge.integration", "has_secret": true}));
    assert_eq!(console.call(&boss_t, "POST", "/admin/v1/workflows/connections", &[], Some(with_secret)).await.status, StatusCode::CONFLICT);
    let renamed = json!({"base_url": base, "auth": {"type": "basic", "username": "bridge.user"}});
    let path = "/admin/v1/workflows/connections/servicenow";
    assert_eq!(console.call(&boss_t, "PUT", path, &[("if-match", "\"7\"")], Some(renamed.clone())).await.status, StatusCode::PRECONDITION_FAILED);
    let changed = console.call(&boss_t, "PUT", path, &[("if-match", "\"1\"")], Some(renamed)).await;
    assert_eq!((changed.status, changed.json()["auth"]["has_secret"].clone()), (StatusCode::OK, json!(true)), "the secret is kept: {}", changed.body);
    let moved = json!({"base_url": "https://sn.attacker.example", "auth": {"type": "basic", "username": "bridge.user"}});
    let refused = console.call(&boss_t, "PUT", path, &[("if-match", "\"2\"")], Some(moved)).await;
    assert!(refused.status == StatusCode::BAD_REQUEST && refused.body.contains("another host"), "a kept secret does not follow a new host: {}", refused.body);
    let token_auth = json!({"base_url": base, "auth": {"type": "bearer"}});
    assert_eq!(
        console.call(&boss_t, "PUT", path, &[("if-match", "\"2\"")], Some(token_auth)).await.status,
        StatusCode::BAD_REQUEST,
        "a new kind needs its secret"
    );

    // Two new secrets from the same version at once: one change is written, and the secret the
    // connection uses is that change's own (the refused one's is discarded, never used).
    let racer = |secret: &str| json!({"base_url": base, "auth": {"type": "basic", "username": "bridge.integration"}, "secret": secret});
    let (a, b) = tokio::join!(
        console.call(&boss_t, "PUT", path, &[("if-match", "\"2\"")], Some(racer("secret-of-change-a"))),
        console.call(&boss_t, "PUT", path, &[("if-match", "\"2\"")], Some(racer("secret-of-change-b")))
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::PRECONDITION_FAILED], "{} / {}", a.body, b.body);
    let winner = if a.status == StatusCode::OK { "secret-of-change-a" } else { "secret-of-change-b" };
    assert_eq!(console.vault("workflows/servicenow/").await, (2, vec![winner.to_owned()]), "the first one let go, the refused one gone");

    // Flows: created, read by a viewer, versioned, switched off and on by admins only.
    let created = console.call(&boss_t, "POST", "/admin/v1/workflows/flows", &[], Some(flow.clone())).await;
    assert_eq!((created.status, created.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", created.body);
    assert_eq!(console.call(&boss_t, "POST", "/admin/v1/workflows/flows", &[], Some(flow.clone())).await.status, StatusCode::CONFLICT);
    let flow_path = "/admin/v1/workflows/flows/high-risk-sign-in-servicenow";
    let mut other = flow.clone();
    other["id"] = "another".into();
    assert_eq!(console.call(&boss_t, "PUT", flow_path, &[("if-match", "\"1\"")], Some(other)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(console.call(&ops_t, "POST", &format!("{flow_path}/disable"), &[("if-match", "\"1\"")], None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(console.call(&boss_t, "POST", &format!("{flow_path}/disable"), &[], None).await.status, StatusCode::PRECONDITION_REQUIRED);
    let off = console.call(&boss_t, "POST", &format!("{flow_path}/disable"), &[("if-match", "\"1\"")], None).await;
    assert_eq!((off.status, off.json()["enabled"].clone(), off.header("etag")), (StatusCode::OK, json!(false), Some("\"2\"")), "{}", off.body);
    assert_eq!(console.call(&boss_t, "POST", &format!("{flow_path}/enable"), &[("if-match", "\"1\"")], None).await.status, StatusCode::PRECONDITION_FAILED);
    let on = console.call(&boss_t, "POST", &format!("{flow_path}/enable"), &[("if-match", "\"2\"")], None).await;
    assert_eq!(on.header("etag"), Some("\"3\""), "{}", on.body);
    let listed = console.call(&viewer_t, "GET", "/admin/v1/workflows/flows", &[], None).await;
    assert_eq!(listed.json()["flows"][0]["version"], 3, "{}", listed.body);
    let tested = console.call(&viewer_t, "POST", &format!("{flow_path}/test"), &[], Some(json!({"event": event("evt-sample", "sign_in.high_risk")}))).await;
    assert_eq!((tested.status, tested.json()["applies"].clone()), (StatusCode::OK, json!(true)), "{}", tested.body);
    assert!(service.received("/api/now/table/incident").is_empty(), "a test calls nothing");

    // Two events whose runs fail at once (ServiceNow refuses them), run as the runner does.
    let function = crate::harness::as_function(&console.test.sdk, "WorkflowsFunction");
    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&function), &console.test.stack.table));
    let secrets = shared::adapters::workflow_runner::connection_secrets(aws_sdk_secretsmanager::Client::new(&function), Duration::from_secs(60));
    let runner =
        shared::adapters::workflow_runner::runner(store.clone(), secrets, Arc::new(shared::testing::MemoryRuns::default()), Default::default()).await.unwrap();
    let flows = store.flows().await.unwrap();
    for id in ["evt-a", "evt-b"] {
        let event = event(id, "sign_in.high_risk");
        store.record(&event).await.unwrap();
        service.then("/api/now/table/incident", 400, json!({"error": {"message": "Invalid table"}}));
        let runs = runner.handle(&event, &flows, now()).await.unwrap();
        assert_eq!(runs[0].status, shared::workflows::runner::RunStatus::Failed);
    }
    let failed = console.call(&viewer_t, "GET", "/admin/v1/workflows/failed-runs?limit=1", &[], None).await;
    assert_eq!((failed.status, failed.json()["runs"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{}", failed.body);
    let cursor = failed.json()["next_cursor"].as_str().expect("a second page").to_owned();
    let rest = console.call(&viewer_t, "GET", &format!("/admin/v1/workflows/failed-runs?cursor={cursor}"), &[], None).await;
    let first = failed.json()["runs"][0]["run_id"].as_str().unwrap().to_owned();
    let second = rest.json()["runs"][0]["run_id"].as_str().unwrap().to_owned();
    assert!(rest.json()["next_cursor"].is_null() && first != second, "{}", rest.body);
    let history = console.call(&viewer_t, "GET", &format!("{flow_path}/runs"), &[], None).await;
    assert_eq!(history.json()["runs"].as_array().map(Vec::len), Some(2), "{}", history.body);

    // Viewers cannot replay; an operator can, and two replays of one run at once make one call.
    let replay = |run: &str| format!("/admin/v1/workflows/runs/{run}/replay");
    // Not while an admin has the flow switched off: nothing is called, the run stays failed.
    assert_eq!(console.call(&boss_t, "POST", &format!("{flow_path}/disable"), &[("if-match", "\"3\"")], None).await.status, StatusCode::OK);
    let before = service.received("/api/now/table/incident").len();
    let refused = console.call(&ops_t, "POST", &replay(&first), &[], None).await;
    assert!(refused.status == StatusCode::BAD_REQUEST && refused.body.contains("no longer applies"), "{}", refused.body);
    assert_eq!(service.received("/api/now/table/incident").len(), before, "a switched-off flow calls nothing");
    assert_eq!(console.call(&boss_t, "POST", &format!("{flow_path}/enable"), &[("if-match", "\"4\"")], None).await.status, StatusCode::OK);
    assert_eq!(console.call(&viewer_t, "POST", &replay(&first), &[], None).await.status, StatusCode::FORBIDDEN);
    let before = service.received("/api/now/table/incident").len();
    let first_replay = replay(&first);
    let (one, two) = tokio::join!(console.call(&ops_t, "POST", &first_replay, &[], None), console.call(&boss_t, "POST", &first_replay, &[], None));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", one.body, two.body);
    assert_eq!(service.received("/api/now/table/incident").len(), before + 1, "one ticket, not two");
    let replayed = if one.status == StatusCode::OK { one } else { two };
    assert_eq!(replayed.json()["status"], "succeeded", "{}", replayed.body);
    assert_eq!(console.call(&ops_t, "POST", &replay(&first), &[], None).await.status, StatusCode::CONFLICT, "it has not failed any more");
    assert_eq!(console.call(&ops_t, "POST", &replay(&"0".repeat(32)), &[], None).await.status, StatusCode::NOT_FOUND);
    let left = console.call(&viewer_t, "GET", "/admin/v1/workflows/failed-runs", &[], None).await;
    assert_eq!(left.json()["runs"].as_array().map(|r| r.iter().map(|r| r["run_id"].clone()).collect::<Vec<_>>()), Some(vec![json!(second)]));

    // A replay alone, warm: the AWS calls it makes one after another (the README's figure).
    console.test.calls.take();
    let alone = console.call(&ops_t, "POST", &replay(&second), &[], None).await;
    let calls = console.test.calls.take();
    println!("replay a failed run: {} AWS calls {calls:?}", calls.len());
    assert_eq!((alone.status, alone.json()["status"].clone()), (StatusCode::OK, json!("succeeded")), "{}", alone.body);
    assert_eq!(
        calls.len(),
        STANDING + 7,
        "the caller's standing; run, event, flow, claim, connections, the run's end, the audit record (the secret is cached): {calls:?}"
    );

    // The trail names who did what; no answer or record holds the secret or where it is kept.
    let trail = console.call(&viewer_t, "GET", "/admin/v1/audit?limit=100", &[], None).await;
    let kinds: Vec<(String, String)> = trail.json()["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["target"].as_str().is_some_and(|t| t.starts_with("flow:") || t.starts_with("connection:") || t.starts_with("run:")))
        .map(|r| (r["type"].as_str().unwrap().to_owned(), r["actor"]["id"].as_str().unwrap().to_owned()))
        .collect();
    let by = |kind: &str, who: &(String, String)| (kind.to_owned(), who.1.clone());
    let expected = [
        by("admin.run.replayed", &ops),
        by("admin.run.replayed", &ops),
        by("admin.flow.enabled", &boss),
        by("admin.flow.disabled", &boss),
        by("admin.flow.enabled", &boss),
        by("admin.flow.disabled", &boss),
        by("admin.flow.created", &boss),
        by("admin.connection.saved", &boss),
        by("admin.connection.saved", &boss),
        by("admin.connection.saved", &boss),
    ];
    // (the replay that lost the claim is not recorded: only the two that ran; either person may have won the first)
    assert_eq!(kinds.len(), expected.len(), "{kinds:?}");
    assert_eq!((&kinds[..1], &kinds[2..]), (&expected[..1], &expected[2..]), "{kinds:?}");
    for body in [&trail.body, &listed.body, &created.body, &changed.body, &history.body, &failed.body] {
        assert!(!body.contains(SECRET) && !body.contains("secretsmanager") && !body.contains("arn:"), "{body}");
    }

    // An inactivity flow's dry run lists people and their emails: admins only, each read
    // recorded before it is answered.
    let cleanup = serde_json::to_value(template("inactive-user-cleanup")).unwrap();
    assert_eq!(console.call(&boss_t, "POST", "/admin/v1/workflows/flows", &[], Some(cleanup)).await.status, StatusCode::CREATED);
    for token in [&ops_t, &viewer_t] {
        let refused = console.call(token, "GET", "/admin/v1/workflows/flows/inactive-user-cleanup/report", &[], None).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{}", refused.body);
    }
    let report = console.call(&boss_t, "GET", "/admin/v1/workflows/flows/inactive-user-cleanup/report?limit=10", &[], None).await;
    assert_eq!((report.status, report.json()["people"].clone()), (StatusCode::OK, json!([])), "{}", report.body);
    let not_inactive = console.call(&boss_t, "GET", "/admin/v1/workflows/flows/high-risk-sign-in-servicenow/report", &[], None).await;
    assert_eq!(not_inactive.status, StatusCode::BAD_REQUEST, "{}", not_inactive.body);
    let reads = console.call(&viewer_t, "GET", "/admin/v1/audit?type=admin.flow.reported", &[], None).await.json();
    let reads: Vec<_> = reads["records"].as_array().unwrap().iter().map(|r| (r["target"].clone(), r["actor"]["id"].clone(), r["after"].clone())).collect();
    assert_eq!(reads, [(json!("flow:inactive-user-cleanup"), json!(boss.1), json!({"people": 0, "limit": 10}))], "only the read answered");
}

#[tokio::test]
async fn consent_documents_are_published_one_version_at_a_time_by_admins_and_each_persons_decisions_are_read() {
    use shared::consent::ports::{ConsentRecord, ConsentStore};
    let console = Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let viewer = console.person("viewer@example.com", &["bridge-viewer"]).await;
    let customer = console.person("customer@example.com", &[]).await;
    let (boss_t, viewer_t) = (console.token(&boss, json!({})), console.token(&viewer, json!({})));
    let publish = |if_match: &'static str, body: Value| {
        let token = boss_t.clone();
        let console = &console;
        async move { console.call(&token, "POST", "/admin/v1/consent/terms", &[("if-match", if_match)], Some(body)).await }
    };
    let listed = || async { console.call(&viewer_t, "GET", "/admin/v1/consent", &[], None).await.json()["documents"].as_array().unwrap().len() };
    assert_eq!(listed().await, 0);

    let first = publish("\"0\"", terms_version("https://acme.example.com/terms/1")).await;
    assert_eq!((first.status, first.header("etag")), (StatusCode::CREATED, Some("\"1\"")), "{}", first.body);
    assert_eq!((first.json()["version"].as_u64(), first.json()["required"].as_bool()), (Some(1), Some(true)));
    // Another admin's publication from the same reading: 412, and nothing written.
    let late = publish("\"0\"", terms_version("https://acme.example.com/terms/other")).await;
    assert_eq!((late.status, late.json()["error"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("precondition_failed")), "{}", late.body);
    assert_eq!(publish("\"5\"", terms_version("https://acme.example.com/terms/5")).await.status, StatusCode::PRECONDITION_FAILED, "no skipped versions");
    let without = console.call(&boss_t, "POST", "/admin/v1/consent/terms", &[], Some(terms_version("https://acme.example.com/terms/x"))).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    // What a document refuses: 400, naming the field, and nothing written.
    for (body, says) in [
        (terms_version("javascript:alert(1)"), "URL"),
        (terms_version("http://acme.example.com/terms"), "https"),
        (json!({"title": {"ja": "", "en": "Terms"}, "url": {"ja": "https://a.example", "en": "https://a.example"}}), "title"),
        (json!({"title": {"ja": "規約\nです", "en": "Terms"}, "url": {"ja": "https://a.example", "en": "https://a.example"}}), "title"),
        (json!({"title": {"ja": "規約", "en": "Terms", "fr": "Conditions"}, "url": {"ja": "https://a.example", "en": "https://a.example"}}), "unknown field"),
        (json!({"title": {"ja": "規約", "en": "Terms"}, "url": {"ja": "https://a.example", "en": "https://a.example"}, "version": 9}), "unknown field"),
        (json!({"title": {"ja": "規約", "en": "Terms"}}), "missing field"),
    ] {
        let refused = publish("\"1\"", body.clone()).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}: {}", refused.body);
        assert!(refused.json()["message"].as_str().unwrap().contains(says), "{body}: {}", refused.body);
    }
    // A bad body is a 400 whatever If-Match says; an If-Match no version can have is a 412.
    assert_eq!(publish("\"7\"", terms_version("javascript:alert(1)")).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(publish("not a version", terms_version("javascript:alert(1)")).await.status, StatusCode::BAD_REQUEST, "found by the contract fuzz");
    assert_eq!(publish("\"99999999999\"", terms_version("https://a.example")).await.status, StatusCode::PRECONDITION_FAILED);
    let bad_name =
        console.call(&boss_t, "POST", "/admin/v1/consent/Terms%20of%20use", &[("if-match", "\"0\"")], Some(terms_version("https://a.example"))).await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST, "{}", bad_name.body);
    assert_eq!(listed().await, 1, "nothing refused was written");

    // The next version keeps the first's `required` unless told; each publication is audited.
    let second = publish("\"1\"", json!({"title": {"ja": "利用規約 第2版", "en": "Terms, 2nd edition"}, "url": {"ja": "https://acme.example.com/ja/2", "en": "https://acme.example.com/en/2"}})).await;
    assert_eq!(
        (second.status, second.header("etag"), second.json()["required"].as_bool()),
        (StatusCode::CREATED, Some("\"2\""), Some(true)),
        "{}",
        second.body
    );
    assert_eq!(listed().await, 2);
    let audit = console.call(&viewer_t, "GET", "/admin/v1/audit?target=consent:terms", &[], None).await.json();
    let records = audit["records"].as_array().unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(records.len(), 2, "{audit}");
    assert!(records.iter().all(|r| r["type"] == "admin.consent.published" && r["actor"]["id"] == json!(boss.1)), "{audit}");

    // One person's decisions: the customer accepted version 1, so version 2 is still to accept.
    let store = shared::adapters::dynamo::consents::DynamoConsents::new(aws_sdk_dynamodb::Client::new(&console.test.sdk), &console.test.stack.table);
    let record = ConsentRecord {
        username: customer.0.clone(),
        sub: customer.1.clone(),
        email: Some("customer@example.com".into()),
        document: shared::consent::document::DocumentId::parse("terms").unwrap(),
        version: 1,
        accepted: true,
        at: now(),
        ip: Some("203.0.113.9".into()),
        user_agent: None,
        via: shared::consent::decision::Via::SignIn,
    };
    store.record(std::slice::from_ref(&record), &[]).await.unwrap();
    let theirs = console.call(&viewer_t, "GET", &format!("/admin/v1/people/{}/consents", customer.0), &[], None).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert_eq!(theirs.json()["records"].as_array().map(Vec::len), Some(1), "{}", theirs.body);
    // Where a decision was made from is personal data: admins see it, a viewer does not.
    assert!(theirs.json()["records"][0].get("ip").is_none() && !theirs.body.contains("203.0.113.9"), "{}", theirs.body);
    let as_admin = console.call(&boss_t, "GET", &format!("/admin/v1/people/{}/consents", customer.0), &[], None).await.json();
    assert_eq!(as_admin["records"][0]["ip"], "203.0.113.9", "{as_admin}");
    assert_eq!(theirs.json()["current"], json!([{"document": "terms", "version": 2, "required": true, "accepted_version": 1}]), "{}", theirs.body);
    let by_email = console.call(&viewer_t, "GET", "/admin/v1/people/customer@example.com/consents", &[], None).await;
    assert_eq!((by_email.json()["username"].clone(), by_email.json()["records"].as_array().map(Vec::len)), (json!(customer.0), Some(1)), "{}", by_email.body);
    let boss_own = console.call(&viewer_t, "GET", &format!("/admin/v1/people/{}/consents", boss.0), &[], None).await.json();
    assert_eq!(boss_own["records"], json!([]), "no one else's records: {boss_own}");
    assert_eq!(boss_own["current"], json!([{"document": "terms", "version": 2, "required": true, "accepted_version": null}]), "{boss_own}");
    for odd in ["%20", "a%0Ab", &"x".repeat(129)] {
        let refused = console.call(&viewer_t, "GET", &format!("/admin/v1/people/{odd}/consents"), &[], None).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{odd}: {}", refused.body);
    }
    // The export: a version's records a page at a time, oldest first, none of another version's.
    let later = |n: u64, version: u32| ConsentRecord { at: record.at + n, version, user_agent: Some(format!("agent {n}")), ..record.clone() };
    store.record(&[later(1, 1), later(2, 2), later(3, 1)], &[]).await.unwrap();
    let page = |query: String| {
        let token = boss_t.clone();
        let console = &console;
        async move { console.call(&token, "GET", &format!("/admin/v1/consent/terms/versions/1/records{query}"), &[], None).await }
    };
    let first_page = page("?limit=2".into()).await;
    assert_eq!(first_page.status, StatusCode::OK, "{}", first_page.body);
    let agents =
        |reply: &Reply| reply.json()["records"].as_array().unwrap().iter().map(|r| r["user_agent"].as_str().unwrap_or("-").to_owned()).collect::<Vec<_>>();
    assert_eq!(agents(&first_page), ["-", "agent 1"]);
    let cursor = first_page.json()["next_cursor"].as_str().unwrap().to_owned();
    let second_page = page(format!("?limit=2&cursor={cursor}")).await;
    assert_eq!((agents(&second_page), second_page.json()["next_cursor"].clone()), (vec!["agent 3".to_owned()], Value::Null), "{}", second_page.body);
    assert_eq!(agents(&page(String::new()).await), ["-", "agent 1", "agent 3"], "200 at a time by default");
    let other_version = console.call(&boss_t, "GET", "/admin/v1/consent/terms/versions/2/records", &[], None).await;
    assert_eq!(agents(&other_version), ["agent 2"]);
    // Only admins read everyone's personal data at once, and every page they read is recorded.
    let viewers = console.call(&viewer_t, "GET", "/admin/v1/consent/terms/versions/1/records", &[], None).await;
    assert_eq!((viewers.status, viewers.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{}", viewers.body);
    let trail = console.call(&viewer_t, "GET", "/admin/v1/audit?target=consent:terms&type=admin.consent.exported", &[], None).await.json();
    let reads: Vec<(u64, u64)> =
        trail["records"].as_array().unwrap().iter().map(|r| (r["after"]["version"].as_u64().unwrap(), r["after"]["records"].as_u64().unwrap())).collect();
    assert_eq!(reads, [(2, 1), (1, 3), (1, 1), (1, 2)], "newest first: {trail}");
    for (query, status) in [
        ("?limit=0", StatusCode::BAD_REQUEST),
        ("?limit=1001", StatusCode::BAD_REQUEST),
        ("?limit=x", StatusCode::BAD_REQUEST),
        ("?cursor=garbage", StatusCode::BAD_REQUEST),
        (&format!("?cursor={}", cursor.replacen('0', "x", 1)), StatusCode::BAD_REQUEST),
        ("?order=desc", StatusCode::BAD_REQUEST),
    ] {
        let refused = page(query.to_owned()).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (status, Some("invalid_request")), "{query}: {}", refused.body);
    }
    for (path, status) in [
        ("terms/versions/3", StatusCode::NOT_FOUND),
        ("nothing/versions/1", StatusCode::NOT_FOUND),
        ("Terms/versions/1", StatusCode::BAD_REQUEST),
        ("terms/versions/-1", StatusCode::BAD_REQUEST),
    ] {
        let refused = console.call(&boss_t, "GET", &format!("/admin/v1/consent/{path}/records"), &[], None).await;
        assert_eq!(refused.status, status, "{path}: {}", refused.body);
    }
    let nobody = console.call(&viewer_t, "GET", "/admin/v1/people/nobody@example.com/consents", &[], None).await;
    assert_eq!((nobody.status, nobody.json()["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{}", nobody.body);
}

/// Every kind of audit record (`shared/src/events.rs`: `admin.*`, `hook.*`) has a label on the
/// console's audit page, in English and in Japanese (`console/src/messages.js`, `audit.types`).
#[test]
fn every_kind_of_audit_record_has_a_label_in_the_console_in_both_languages() {
    let read = |path: &str| std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let (events, messages) = (read("shared/src/events.rs"), read("console/src/messages.js"));
    let kinds: Vec<&str> = events
        .lines()
        .filter_map(|line| line.trim().strip_prefix("#[serde(rename = \"")?.strip_suffix("\")]"))
        .filter(|kind| kind.starts_with("admin.") || kind.starts_with("hook."))
        // The SMS sender's deliveries: identity events, not audit records.
        .filter(|kind| !["hook.executed", "hook.response_processed"].contains(kind))
        .collect();
    assert!(kinds.len() > 30, "{kinds:?}");
    // Each language's `audit: { ... types: { ... } }` block (English first, then Japanese).
    let labels: Vec<&str> = messages
        .split("\n    audit: {")
        .skip(1)
        .filter_map(|audit| audit.split_once("\n      types: {")?.1.split_once("\n      },").map(|(types, _)| types))
        .collect();
    assert_eq!(labels.len(), 2, "the audit types of English and Japanese");
    for (language, types) in ["en", "ja"].iter().zip(&labels) {
        let missing: Vec<&&str> = kinds.iter().filter(|kind| !types.contains(&format!("\"{kind}\": "))).collect();
        assert!(missing.is_empty(), "audit record kinds without a label in {language}: {missing:?}");
    }
}
