//! The callback against ID tokens the test writes itself (`scripted_provider`): every forgery an
//! OpenID relying party must refuse, next to genuine RS256 and ES256 tokens that must pass; and
//! the `cognito` connection kind, with the scripted provider playing the user pool's hosted
//! endpoints.

use crate::corporate::{CLIENT_ID, CLIENT_SECRET, connect, jwt_claims, path_of};
use crate::harness::*;
use crate::scripted_provider::{Key, ScriptedProvider, hmac_with_public_key, sign, unsigned};
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use base64::Engine;
use http::StatusCode;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::Digest;
use url::Url;

/// A sign-in sent to the provider: what the authorization request carried, and our cookie.
struct Started {
    authorize: Url,
    binding: String,
}

impl Started {
    fn param(&self, name: &str) -> String {
        self.authorize.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_else(|| panic!("no {name} in {}", self.authorize))
    }
}

async fn start(app: &TestApp, provider: &ScriptedProvider, email: &str) -> Started {
    let ctx = app.ctx().await;
    let started = app.post("/corporate/start", json!({"ctx": ctx, "email": email})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let go = app.send("GET", &path_of(started.json()["url"].as_str().unwrap()), &[("cookie", &app.browser_cookie())], None).await;
    let authorize = Url::parse(go.header("location").unwrap()).unwrap();
    assert!(authorize.as_str().starts_with(&format!("{}/oauth2/authorize?", provider.issuer)), "{authorize}");
    Started { authorize, binding: set_cookie(&go, "__Host-bridge_corporate").unwrap() }
}

/// The provider answers the sign-in with `id_token`; the browser comes back to our callback.
async fn finish(app: &TestApp, provider: &ScriptedProvider, started: &Started, id_token: String) -> Reply {
    finish_with(app, provider, started, id_token, &started.binding).await
}

/// `finish`, the browser sending `cookies` to the callback.
async fn finish_with(app: &TestApp, provider: &ScriptedProvider, started: &Started, id_token: String, cookies: &str) -> Reply {
    let code = uuid::Uuid::new_v4().simple().to_string();
    provider.answer(&code, id_token);
    let callback = format!("/corporate/callback?state={}&code={code}", started.param("state"));
    app.send("GET", &callback, &[("cookie", cookies)], None).await
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The claims an honest provider would sign for Taro in answer to `started`.
fn honest_claims(provider: &ScriptedProvider, started: &Started) -> Value {
    json!({
        "iss": provider.issuer, "aud": CLIENT_ID, "sub": "emp-0001", "email": "taro@corp.example", "email_verified": true, "name": "山田 太郎",
        "iat": now(), "exp": now() + 300, "nonce": started.param("nonce"),
    })
}

/// `claims` with `changes` applied (a `null` removes the claim).
fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        match v {
            Value::Null => claims.as_object_mut().unwrap().remove(k),
            _ => claims.as_object_mut().unwrap().insert(k.clone(), v.clone()),
        };
    }
    claims
}

fn rs256(claims: &Value) -> String {
    sign(Key::Rsa, Algorithm::RS256, "rsa-1", claims)
}

async fn pool_users(app: &TestApp) -> usize {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    cognito.list_users().user_pool_id(&app.stack.user_pool_id).send().await.unwrap().users().len()
}

type Forgery = Box<dyn Fn(Value) -> String>;

#[tokio::test]
async fn forged_id_tokens_sign_no_one_in_and_genuine_ones_do() {
    let provider = ScriptedProvider::start().await;
    let company = connect(json!({"kind": "oidc", "issuer": provider.issuer, "client_id": CLIENT_ID, "provisioning": "on_first_sign_in"})).await;
    let app = &company.app;
    let t = now();

    let forgeries: Vec<(&str, Forgery)> = vec![
        ("alg none", Box::new(|c| unsigned(&c))),
        ("HS256 keyed with the provider's public key", Box::new(|c| hmac_with_public_key(&c))),
        ("signed with another key under the provider's kid", Box::new(|c| sign(Key::OtherRsa, Algorithm::RS256, "rsa-1", &c))),
        ("an unknown kid", Box::new(|c| sign(Key::OtherRsa, Algorithm::RS256, "rsa-2", &c))),
        ("an EC signature under the RSA key's kid", Box::new(|c| sign(Key::Ec, Algorithm::ES256, "rsa-1", &c))),
        ("a tampered payload", Box::new(|c| tampered(&rs256(&c)))),
        ("another issuer (mix-up)", Box::new(|c| rs256(&with(c, json!({"iss": "https://login.attacker.example"}))))),
        ("another audience", Box::new(|c| rs256(&with(c, json!({"aud": "someone-else"}))))),
        ("an authorized party that is not us", Box::new(|c| rs256(&with(c, json!({"aud": [CLIENT_ID, "someone-else"], "azp": "someone-else"}))))),
        ("another nonce", Box::new(|c| rs256(&with(c, json!({"nonce": "guessed"}))))),
        ("no nonce", Box::new(|c| rs256(&with(c, json!({"nonce": null}))))),
        ("expired", Box::new(move |c| rs256(&with(c, json!({"iat": t - 420, "exp": t - 120}))))),
        ("issued an hour ago", Box::new(move |c| rs256(&with(c, json!({"iat": t - 3600}))))),
        ("not valid yet", Box::new(move |c| rs256(&with(c, json!({"nbf": t + 600}))))),
        ("no subject", Box::new(|c| rs256(&with(c, json!({"sub": null}))))),
    ];
    for (case, forge) in &forgeries {
        let started = start(app, &provider, "taro@corp.example").await;
        let reply = finish(app, &provider, &started, forge(honest_claims(&provider, &started))).await;
        assert_eq!(reply.location_param("error").as_deref(), Some("corporate_failed"), "{case}: {:?} {}", reply.header("location"), reply.body);
        assert!(reply.location_param("ctx").is_some(), "{case}: back on the form for the same app");
    }
    // Nothing of any attempt stayed: no session, no user, no identity link, no pending state.
    assert_eq!((app.items_under("SESSION#").await, pool_users(app).await, app.items_under("IDLINK#").await, app.items_under("OIDCSTATE#").await), (0, 0, 0, 0));

    // The same path with honest tokens signs Taro in, with either of the provider's keys.
    let started = start(app, &provider, "taro@corp.example").await;
    let reply = finish(app, &provider, &started, rs256(&honest_claims(&provider, &started))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    assert_eq!(jwt_claims(&reply.body)["email"], "taro@corp.example");
    assert!(set_cookie(&reply, "__Host-bridge_session").is_some());
    let started = start(app, &provider, "taro@corp.example").await;
    let reply = finish(app, &provider, &started, sign(Key::Ec, Algorithm::ES256, "ec-1", &honest_claims(&provider, &started))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);

    // The token request was a proper one: the code, our redirect URI, the PKCE verifier whose
    // S256 challenge went out in the authorization request, and the client secret in Basic.
    let request = provider.token_requests().pop().unwrap();
    let form = |k: &str| request.form.get(k).map(String::as_str);
    assert_eq!((form("grant_type"), form("redirect_uri")), (Some("authorization_code"), Some(format!("{API}/corporate/callback").as_str())));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(form("code_verifier").unwrap()));
    assert_eq!(challenge, started.param("code_challenge"));
    assert_eq!(started.param("code_challenge_method"), "S256");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    assert_eq!(request.authorization, Some(format!("Basic {basic}")));
}

/// `token` with its payload swapped for one naming someone else, the signature kept.
fn tampered(token: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let payload = b64.encode(with(claims, json!({"email": "jiro@corp.example", "sub": "emp-0002"})).to_string());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The scripted provider playing a user pool's hosted endpoints, and an organisation connected
/// to it as a `cognito` connection through the pool's `CorpSAML` provider.
async fn cognito_connection() -> (ScriptedProvider, crate::corporate::Company) {
    let provider = ScriptedProvider::start().await;
    let connection = json!({
        "kind": "cognito", "issuer": provider.issuer, "client_id": CLIENT_ID, "identity_provider": "CorpSAML", "provisioning": "on_first_sign_in"
    });
    let company = connect(connection).await;
    (provider, company)
}

#[tokio::test]
async fn a_cognito_connection_signs_in_the_user_the_pool_federated() {
    // The scripted provider plays the user pool's hosted endpoints; the pool has federated Taro
    // from the company's SAML provider. Cognito names such a user `CorpSAML_emp-0001`; moto
    // only makes users named by a GUID in an email-username pool. Either way the pool's token
    // names the user in `cognito:username`.
    let (provider, company) = cognito_connection().await;
    let app = &company.app;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let attribute = |k: &str, v: &str| AttributeType::builder().name(k).value(v).build().unwrap();
    let created = cognito
        .admin_create_user()
        .user_pool_id(&app.stack.user_pool_id)
        .username("taro@corp.example")
        .user_attributes(attribute("email", "taro@corp.example"))
        .user_attributes(attribute("name", "山田 太郎"))
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let username = created.user().and_then(|u| u.username()).unwrap().to_owned();

    let started = start(app, &provider, "taro@corp.example").await;
    assert_eq!((started.param("identity_provider"), started.param("login_hint")), ("CorpSAML".into(), "taro@corp.example".into()));
    let pool_claims = |started: &Started, username: &str| {
        let identities = json!([{"providerName": "CorpSAML", "providerType": "SAML", "userId": "emp-0001"}]);
        with(
            honest_claims(&provider, started),
            json!({"sub": uuid::Uuid::new_v4().to_string(), "cognito:username": username, "token_use": "id", "identities": identities}),
        )
    };
    let reply = finish(app, &provider, &started, rs256(&pool_claims(&started, &username))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
    assert_eq!(jwt_claims(&reply.body)["email"], "taro@corp.example");
    // The pool's user now belongs to the organisation.
    let user = cognito.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&username).send().await.unwrap();
    let org = user.user_attributes().iter().find(|a| a.name() == "custom:org_id").and_then(|a| a.value());
    assert_eq!(org, Some(company.org.id.as_str()));

    // A token for a user the pool does not have signs no one in.
    let started = start(app, &provider, "taro@corp.example").await;
    let reply = finish(app, &provider, &started, rs256(&pool_claims(&started, "CorpSAML_emp-9999"))).await;
    assert_eq!(reply.location_param("error").as_deref(), Some("not_provisioned"));
    assert_eq!(app.items_under("SESSION#").await, 1, "only the first sign-in's session");
}

#[tokio::test]
async fn an_email_the_provider_does_not_vouch_for_claims_no_account() {
    // nOAuth: anyone can put a colleague's address in their own profile at the company's
    // provider. Taro has a password account in the organisation's domain; a token for another
    // subject naming his email, unverified, must not sign in as him, nor link, nor create.
    let provider = ScriptedProvider::start().await;
    let company = connect(json!({"kind": "oidc", "issuer": provider.issuer, "client_id": CLIENT_ID, "provisioning": "on_first_sign_in"})).await;
    let app = &company.app;
    app.user("taro@corp.example", |_| {}).await;
    for verified in [json!(false), json!("false"), Value::Null, json!("yes")] {
        let started = start(app, &provider, "taro@corp.example").await;
        let claims = with(honest_claims(&provider, &started), json!({"sub": "attacker-1", "email_verified": verified}));
        let reply = finish(app, &provider, &started, rs256(&claims)).await;
        assert_eq!(reply.location_param("error").as_deref(), Some("corporate_email_unverified"), "email_verified {verified}: {}", reply.body);
    }
    assert_eq!((app.items_under("SESSION#").await, app.items_under("IDLINK#").await, pool_users(app).await), (0, 0, 1), "no session, no link, no new user");

    // The same person with a verified email signs in (and is linked from then on).
    let started = start(app, &provider, "taro@corp.example").await;
    let reply = finish(app, &provider, &started, rs256(&with(honest_claims(&provider, &started), json!({"email_verified": "true"})))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
}

#[tokio::test]
async fn a_cognito_connection_takes_only_its_own_provider() {
    // The browser can change `identity_provider` at the pool's authorize step: a person of
    // another provider of the same pool must not come in through this organisation's connection.
    let (provider, company) = cognito_connection().await;
    let app = &company.app;
    app.user("taro@corp.example", |_| {}).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let user = cognito.admin_get_user().user_pool_id(&app.stack.user_pool_id).username("taro@corp.example").send().await.unwrap();
    let username = user.username().to_owned();
    let claims = |started: &Started, provider_name: Option<&str>| {
        let identities = provider_name.map(|p| json!([{"providerName": p, "providerType": "OIDC", "userId": "x"}])).unwrap_or(Value::Null);
        with(honest_claims(&provider, started), json!({"cognito:username": username, "token_use": "id", "identities": identities}))
    };
    for other in [Some("OtherIdP"), Some("corpsaml"), None] {
        let started = start(app, &provider, "taro@corp.example").await;
        let reply = finish(app, &provider, &started, rs256(&claims(&started, other))).await;
        assert_eq!(reply.location_param("error").as_deref(), Some("corporate_failed"), "{other:?}: {}", reply.body);
    }
    assert_eq!(app.items_under("SESSION#").await, 0);
    let started = start(app, &provider, "taro@corp.example").await;
    let reply = finish(app, &provider, &started, rs256(&claims(&started, Some("CorpSAML")))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?} {}", reply.header("location"), reply.body);
}

/// Like `start`, at app `app_id`, from the browser holding `device` (`None`: a new browser);
/// also returns the browser's device cookie.
async fn start_from(app: &TestApp, provider: &ScriptedProvider, app_id: &str, device: Option<&str>) -> (Started, String) {
    let cookie = device.map(|d| format!("__Host-bridge_device={d}")).unwrap_or_default();
    let sso = app.send("GET", &format!("/sso/{app_id}"), &[("cookie", &cookie)], None).await;
    let device =
        set_cookie(&sso, "__Host-bridge_device").map(|c| c.trim_start_matches("__Host-bridge_device=").to_owned()).or(device.map(str::to_owned)).unwrap();
    let ctx = sso.location_param("ctx").unwrap();
    let started = app.post("/corporate/start", json!({"ctx": ctx, "email": "taro@corp.example"})).await;
    let go = app.send("GET", &path_of(started.json()["url"].as_str().unwrap()), &[("cookie", &format!("__Host-bridge_device={device}"))], None).await;
    let authorize = Url::parse(go.header("location").unwrap()).unwrap();
    assert!(authorize.as_str().starts_with(&provider.issuer), "{authorize}");
    (Started { authorize, binding: set_cookie(&go, "__Host-bridge_corporate").unwrap() }, device)
}

#[tokio::test]
async fn a_corporate_sign_in_has_a_second_factor_only_when_its_provider_reports_one() {
    use shared::risk::RiskPolicy;
    use shared::tokens::app::{App, AppId};
    let provider = ScriptedProvider::start().await;
    let company = connect(json!({"kind": "oidc", "issuer": provider.issuer, "client_id": CLIENT_ID, "provisioning": "on_first_sign_in"})).await;
    let app = &company.app;
    for (id, policy) in [("guarded", RiskPolicy::Deny), ("stepup", RiskPolicy::RequireMfa)] {
        let guarded = App { id: AppId::parse(id).unwrap(), risk_policy: policy, ..demo_app() };
        app.apps.create(guarded, Some(&app.app_secret.clone().into())).await.unwrap();
    }
    let app = &TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..company.app };
    let provider = &provider;
    let sign_in = |app_id: &'static str, device: Option<String>, amr: Value| async move {
        let (started, device) = start_from(app, provider, app_id, device.as_deref()).await;
        let claims = with(honest_claims(provider, &started), json!({"amr": amr}));
        let cookies = format!("{}; __Host-bridge_device={device}", started.binding);
        (finish_with(app, provider, &started, rs256(&claims), &cookies).await, device)
    };
    let (first, _) = sign_in(APP, None, json!(["pwd"])).await;
    assert_eq!(first.status, StatusCode::OK, "the baseline: {}", first.body);

    // A new browser with the company's password alone: let through at the allow app, but that
    // teaches nothing, so the deny app still refuses that browser.
    let (allowed, browser) = sign_in(APP, None, json!(["pwd"])).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    let (refused, _) = sign_in("guarded", Some(browser.clone()), json!(["pwd"])).await;
    assert_eq!(refused.location_param("error").as_deref(), Some("sign_in_denied"), "{:?}", refused.header("location"));
    // The step-up app wants the provider to report a second factor.
    let (refused, _) = sign_in("stepup", Some(browser.clone()), json!(["pwd"])).await;
    assert_eq!(refused.location_param("error").as_deref(), Some("corporate_mfa_required"), "{:?}", refused.header("location"));
    let (passed, _) = sign_in("stepup", Some(browser.clone()), json!(["pwd", "mfa"])).await;
    assert_eq!(passed.status, StatusCode::OK, "{:?} {}", passed.header("location"), passed.body);
    // Having proved a second factor there, the browser is remembered, as after any MFA.
    let (remembered, _) = sign_in("guarded", Some(browser.clone()), json!(["pwd"])).await;
    assert_eq!(remembered.status, StatusCode::OK, "{:?} {}", remembered.header("location"), remembered.body);

    // That browser's sealed context, carried to another browser (a form URL shared or leaked),
    // does not carry its standing: the callback there does not show the device cookie.
    let (started, _) = start_from(app, provider, "guarded", Some(&browser)).await;
    let elsewhere = finish(app, provider, &started, rs256(&honest_claims(provider, &started))).await;
    assert_eq!(elsewhere.location_param("error").as_deref(), Some("sign_in_denied"), "{:?}", elsewhere.header("location"));
}
