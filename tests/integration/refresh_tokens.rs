//! OpenID Connect refresh tokens against moto: issued only for `offline_access` at a client that
//! allows them, rotated at each use, a second use revoking the sign-in's tokens, refused to
//! another client, for wider scopes, and once the person signs out, is disabled, deleted or
//! leaves the app's group; revoked by the client (RFC 7009). Each ID token checked by PyJWT.

use crate::harness::*;
use crate::openid_provider::*;
use aws_sdk_cognitoidentityprovider::types::AttributeType;
use http::StatusCode;
use serde_json::{Value, json};
use shared::tokens::app::App;

const OFFLINE: &str = "offline-tool";
const EMAIL: &str = "hanako@example.com";

/// `id` with refresh tokens for a day, its access listing the group `agents`.
fn offline_client(id: &str, authentication: &str) -> App {
    let mut app = client(id, authentication);
    if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
        target.refresh_token_lifetime_seconds = Some(86_400);
    }
    app.access.groups = vec!["agents".into()];
    app
}

/// The stack of `provider()` with the confidential client `offline-tool` (Basic, secret `SECRET`).
async fn offline_provider() -> (TestApp, String) {
    let (test, sub) = provider().await;
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    test.apps.create(offline_client(OFFLINE, "client_secret_basic"), Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
    (test, sub)
}

fn offline_path(client_id: &str) -> String {
    authorize_path(client_id, &[("scope", "openid email profile offline_access")])
}

/// A sign-in through the form at `client_id` (Basic with `SECRET`, or public) asking for
/// `offline_access`: the token answer.
async fn signed_in(test: &TestApp, client_id: &str, authorization: Option<&str>) -> Value {
    let (code, _) = sign_in_for_code(test, &offline_path(client_id)).await;
    let mut form = exchange(&code);
    if authorization.is_none() {
        form.push(("client_id", client_id));
    }
    let tokens = token(test, authorization, &form).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    tokens.json()
}

async fn refresh(test: &TestApp, authorization: Option<&str>, refresh_token: &str, extra: &[(&str, &str)]) -> Reply {
    token(test, authorization, &[[("grant_type", "refresh_token"), ("refresh_token", refresh_token)].as_slice(), extra].concat()).await
}

fn refresh_token_of(tokens: &Value) -> String {
    tokens["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh token: {tokens}")).to_owned()
}

async fn id_claims(test: &TestApp, tokens: &Value) -> Value {
    let check = json!({"token": tokens["id_token"], "algorithms": ["RS256"], "jwks": jwks(test).await, "audience": OFFLINE, "issuer": API});
    verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"))
}

async fn revoke(test: &TestApp, authorization: Option<&str>, form: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    headers.extend(authorization.map(|a| ("authorization", a)));
    test.send("POST", "/oauth2/revoke", &headers, Some(body)).await
}

/// A refresh through a new instance of the login function (nothing cached: the apps, terms and
/// keys as they are now).
async fn refresh_cold(test: &TestApp, auth: &str, refresh_token: &str) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs([("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).finish();
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("authorization", auth)];
    send_to(&login_for(&test.sdk, &test.stack, moto()), "POST", "/oauth2/token", &headers, Some(body)).await
}

/// Changes `offline-tool`'s refresh tokens' lifetime (`None`: turned off).
async fn set_refresh_lifetime(test: &TestApp, lifetime: Option<u64>) {
    let mut app = test.apps.get(&shared::tokens::app::AppId::parse(OFFLINE).unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e:#}"));
    if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
        target.refresh_token_lifetime_seconds = lifetime;
    }
    test.apps.update(app).await.unwrap_or_else(|e| panic!("{e:#}"));
}

/// A second confidential client with refresh tokens, `other-offline`; its Basic credentials.
async fn other_client(test: &TestApp) -> String {
    let secret = "other-client-secret-0123456789";
    test.apps.create(offline_client("other-offline", "client_secret_basic"), Some(&secret.to_owned().into())).await.unwrap_or_else(|e| panic!("{e:#}"));
    basic("other-offline", secret)
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_second_use_ends_the_sign_ins_tokens() {
    let (test, sub) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let discovery = test.send("GET", "/.well-known/openid-configuration", &[], None).await.json();
    assert_eq!(
        (discovery["revocation_endpoint"].as_str(), &discovery["grant_types_supported"]),
        (Some(format!("{API}/oauth2/revoke").as_str()), &json!(["authorization_code", "refresh_token"]))
    );

    // Only for offline_access, and only at a client that allows refresh tokens.
    let (code, _) = sign_in_for_code(&test, &authorize_path(OFFLINE, &[])).await;
    assert!(token(&test, Some(&auth), &exchange(&code)).await.json().get("refresh_token").is_none(), "offline_access not asked for");
    let (code, _) = sign_in_for_code(&test, &offline_path(CLIENT)).await;
    let tokens = token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&code)).await.json();
    assert_eq!((tokens.get("refresh_token"), tokens["scope"].as_str()), (None, Some("openid email profile")), "a client without refresh tokens");

    let first = signed_in(&test, OFFLINE, Some(&auth)).await;
    assert_eq!(first["scope"], "openid email profile offline_access");
    let rt1 = refresh_token_of(&first);
    // Warm, a refresh reads the family and the person's sign-out mark (one read), the account
    // and its groups beside it, then moves the family on: two round trips.
    test.calls.take();
    let second = refresh(&test, Some(&auth), &rt1, &[]).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let mut calls = test.calls.take();
    calls.sort();
    assert_eq!(
        calls,
        [
            "AWSCognitoIdentityProviderService.AdminGetUser",
            "AWSCognitoIdentityProviderService.AdminListGroupsForUser",
            "DynamoDB_20120810.BatchGetItem",
            "DynamoDB_20120810.UpdateItem"
        ]
    );
    let second = second.json();
    let claims = id_claims(&test, &second).await;
    assert_eq!((claims["sub"].as_str(), claims["email"].as_str(), &claims["amr"]), (Some(sub.as_str()), Some(EMAIL), &json!(["pwd"])));
    assert!(claims.get("nonce").is_none(), "the nonce is the sign-in's ID token's only");
    assert_eq!(userinfo(&test, second["access_token"].as_str().unwrap_or_default()).await.json()["sub"], sub.as_str());
    let rt2 = refresh_token_of(&second);
    assert_ne!(rt1, rt2);

    // The first token a second time (a thief, or a replay): refused, and the sign-in's tokens
    // with it, the newest included.
    refused(&refresh(&test, Some(&auth), &rt1, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&refresh(&test, Some(&auth), &rt2, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    // One token brought four times at once: at most one answer, and the sign-in's tokens end
    // (the one answered included).
    let racing = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    let once = || refresh(&test, Some(&auth), &racing, &[]);
    let (a, b, c, d) = tokio::join!(once(), once(), once(), once());
    let answers = [a, b, c, d];
    let answered: Vec<&Reply> = answers.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert!(answered.len() <= 1, "{} answered", answered.len());
    for reply in answered {
        refused(&refresh(&test, Some(&auth), &refresh_token_of(&reply.json()), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // The operators see it, with the client.
    let reused: Vec<_> = test.events().await.into_iter().filter(|e| e.detail.get("reason") == Some(&json!("refresh_token_reused"))).collect();
    assert!(reused.len() >= 2, "{reused:?}");
    assert_eq!((reused[0].user.sub.as_str(), reused[0].context.app.as_deref()), (sub.as_str(), Some(OFFLINE)));
    // Another sign-in's tokens are their own.
    let other = signed_in(&test, OFFLINE, Some(&auth)).await;
    let other = refresh(&test, Some(&auth), &refresh_token_of(&other), &[]).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    // The client's refresh tokens turned off: those already given stop working (from the next
    // second: marks are whole seconds).
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    set_refresh_lifetime(&test, None).await;
    let other = refresh_token_of(&other.json());
    refused(&refresh_cold(&test, &auth, &other).await, StatusCode::BAD_REQUEST, "unauthorized_client");
    // On again: the tokens given before it was turned off stay refused.
    set_refresh_lifetime(&test, Some(86_400)).await;
    refused(&refresh_cold(&test, &auth, &other).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_refresh_token_is_its_clients_alone_and_never_widens_the_scopes() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let other = other_client(&test).await;
    let tokens = signed_in(&test, OFFLINE, Some(&auth)).await;
    let rt = refresh_token_of(&tokens);

    // Another client with its own good credentials, the wrong secret, none; a wider scope, one
    // without openid; an altered token, the access token, the ID token, the code's form.
    refused(&refresh(&test, Some(&other), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&refresh(&test, Some(&basic(OFFLINE, "tool-client-secret-0123456788")), &rt, &[]).await, StatusCode::UNAUTHORIZED, "invalid_client");
    refused(&refresh(&test, None, &rt, &[("client_id", OFFLINE)]).await, StatusCode::UNAUTHORIZED, "invalid_client");
    refused(&refresh(&test, Some(&auth), &rt, &[("scope", "openid phone")]).await, StatusCode::BAD_REQUEST, "invalid_scope");
    refused(&refresh(&test, Some(&auth), &rt, &[("scope", "email")]).await, StatusCode::BAD_REQUEST, "invalid_scope");
    refused(&refresh(&test, Some(&auth), &rt.replacen('A', "B", 1), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    for not_one in [tokens["access_token"].as_str().unwrap_or_default(), tokens["id_token"].as_str().unwrap_or_default(), "x"] {
        refused(&refresh(&test, Some(&auth), not_one, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    refused(&token(&test, Some(&auth), &[("grant_type", "refresh_token")]).await, StatusCode::BAD_REQUEST, "invalid_request");
    // A refresh token is not a code.
    refused(&token(&test, Some(&auth), &exchange(&rt)).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // None of that spent it: a narrower scope, then the rest again from the next token.
    let narrow = refresh(&test, Some(&auth), &rt, &[("scope", "openid")]).await;
    assert_eq!(narrow.status, StatusCode::OK, "{}", narrow.body);
    let narrow = narrow.json();
    assert_eq!(narrow["scope"], "openid");
    assert!(id_claims(&test, &narrow).await.get("email").is_none(), "email was not asked for");
    let wide = refresh(&test, Some(&auth), &refresh_token_of(&narrow), &[]).await.json();
    assert_eq!(wide["scope"], "openid email profile offline_access");

    // A public client refreshes without a secret (each token still works once).
    test.apps.create(offline_client("offline-spa", "none"), None).await.unwrap_or_else(|e| panic!("{e:#}"));
    let public = signed_in(&test, "offline-spa", None).await;
    let next = refresh(&test, None, &refresh_token_of(&public), &[("client_id", "offline-spa")]).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    refused(&refresh(&test, None, &refresh_token_of(&public), &[("client_id", "offline-spa")]).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_end_with_the_persons_standing_and_carry_the_account_as_it_is_now() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&test.sdk);
    let pool = test.stack.user_pool_id.clone();

    // A changed name is in the next ID token.
    let rt = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    let name = AttributeType::builder().name("name").value("Hanako Sato").build().unwrap_or_else(|e| panic!("{e}"));
    idp.admin_update_user_attributes().user_pool_id(&pool).username(EMAIL).user_attributes(name).send().await.unwrap_or_else(|e| panic!("{e}"));
    let renamed = refresh(&test, Some(&auth), &rt, &[]).await.json();
    assert_eq!(id_claims(&test, &renamed).await["name"], "Hanako Sato");
    let rt = refresh_token_of(&renamed);

    // Out of the app's group: refused; back in: the same token works (it was not spent).
    idp.admin_remove_user_from_group().user_pool_id(&pool).username(EMAIL).group_name("agents").send().await.unwrap_or_else(|e| panic!("{e}"));
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    idp.admin_add_user_to_group().user_pool_id(&pool).username(EMAIL).group_name("agents").send().await.unwrap_or_else(|e| panic!("{e}"));
    let rt = refresh_token_of(&refresh(&test, Some(&auth), &rt, &[]).await.json());

    // Disabled: refused, and not given back by enabling the account again.
    idp.admin_disable_user().user_pool_id(&pool).username(EMAIL).send().await.unwrap_or_else(|e| panic!("{e}"));
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    idp.admin_enable_user().user_pool_id(&pool).username(EMAIL).send().await.unwrap_or_else(|e| panic!("{e}"));
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // Signing out of the bridge (here, through the client's logout) ends the tokens of the
    // sign-ins before it, in any browser.
    let (code, redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let rt = refresh_token_of(&token(&test, Some(&auth), &exchange(&code)).await.json());
    let elsewhere = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let out = test.send("GET", &format!("/oauth2/logout?client_id={OFFLINE}"), &[("cookie", &session_cookie(&redirect))], None).await;
    assert_eq!(out.status, StatusCode::FOUND, "{}", out.body);
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&refresh(&test, Some(&auth), &elsewhere, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // The sign-out mark lasts as long as a refresh token can (90 days), not a console token's hour.
    let mark = aws_sdk_dynamodb::Client::new(&test.sdk)
        .get_item()
        .table_name(&test.stack.table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("CONSOLE#{}", shared::signin::session::user_key(&username(&test).await))))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("NOT_BEFORE".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let kept_until: u64 = mark.item().and_then(|i| i.get("expires_at")).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or_default();
    assert!(kept_until >= now() + shared::tokens::targets::oidc::MAX_REFRESH_LIFETIME, "{kept_until}");

    // Deleted, and an account made again under the same name: not the person.
    let rt = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    idp.admin_delete_user().user_pool_id(&pool).username(EMAIL).send().await.unwrap_or_else(|e| panic!("{e}"));
    test.user(EMAIL, |u| u.groups = &["agents"]).await;
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

/// Hanako's Cognito user name (moto's pool names users by a generated id, the email an alias).
async fn username(test: &TestApp) -> String {
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&test.sdk);
    let user = idp.admin_get_user().user_pool_id(&test.stack.user_pool_id).username(EMAIL).send().await.unwrap_or_else(|e| panic!("{e}"));
    user.username().to_owned()
}

#[tokio::test]
async fn a_refresh_waits_for_the_current_terms_and_the_apps_required_claims_without_ending_the_sign_in() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let rt = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    // New terms the person has not accepted (read by a new instance: documents are cached).
    crate::consent::publish(&test, "terms", true).await;
    let test = TestApp { login: login_for(&test.sdk, &test.stack, moto()), ..test };
    refused(&refresh_cold(&test, &auth, &rt).await, StatusCode::BAD_REQUEST, "invalid_grant");
    // Accepted at their next sign-in: the same token works (it was not spent, nor revoked).
    let step = test.login_at(&offline_path(OFFLINE), EMAIL, PASSWORD).await.json();
    assert_eq!(step["status"], "consent", "{step}");
    let accepted = crate::consent::answer(&test, step["flow"].as_str().unwrap_or_default(), &["terms"]).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let next = refresh_cold(&test, &auth, &rt).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    let rt = refresh_token_of(&next.json());

    // A claim the app now requires and the person lacks: refused, not ended.
    let mut app = test.apps.get(&shared::tokens::app::AppId::parse(OFFLINE).unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e:#}"));
    let mapping = app.claims.clone();
    app.claims = serde_json::from_value(json!({"dept": {"from": "attribute", "name": "custom:dept", "required": true}})).unwrap_or_else(|e| panic!("{e}"));
    let app = test.apps.update(app).await.unwrap_or_else(|e| panic!("{e:#}"));
    refused(&refresh_cold(&test, &auth, &rt).await, StatusCode::BAD_REQUEST, "invalid_grant");
    test.apps.update(App { claims: mapping, ..app }).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(refresh_cold(&test, &auth, &rt).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_code_brought_twice_ends_the_refresh_tokens_its_first_exchange_gave() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let (code, _) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let first = token(&test, Some(&auth), &exchange(&code)).await.json();
    // A refresh records its generation and when it was used (the idle time counts from there).
    let first = refresh(&test, Some(&auth), &refresh_token_of(&first), &[]).await.json();
    let family = shared::common::hashing::digest(&format!("refresh family of {code}"));
    let item = aws_sdk_dynamodb::Client::new(&test.sdk)
        .get_item()
        .table_name(&test.stack.table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("REFRESH#{family}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("REFRESH".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let number = |name: &str| item.item().and_then(|i| i.get(name)).and_then(|v| v.as_n().ok()).and_then(|n| n.parse::<u64>().ok()).unwrap_or_default();
    assert_eq!(number("generation"), 1);
    assert!(number("last_used") + 60 > now(), "{:?}", item.item());
    refused(&token(&test, Some(&auth), &exchange(&code)).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&refresh(&test, Some(&auth), &refresh_token_of(&first), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // An app made again under a removed client's id takes none of its refresh tokens.
    let rt = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    let id = shared::tokens::app::AppId::parse(OFFLINE).unwrap_or_else(|e| panic!("{e}"));
    test.apps.remove(&id, false).await.unwrap_or_else(|e| panic!("{e:#}"));
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    test.apps.create(offline_client(OFFLINE, "client_secret_basic"), Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
    refused(&refresh_cold(&test, &auth, &rt).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn the_account_page_lists_the_apps_that_keep_the_person_signed_in_and_signs_them_out_of_one() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let (code, redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let first = refresh_token_of(&token(&test, Some(&auth), &exchange(&code)).await.json());
    let second = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);
    let cookie = session_cookie(&redirect);
    let view = |grant: String| {
        let test = &test;
        async move { test.post("/account/view", json!({"grant": grant})).await.json() }
    };
    let grant = crate::account::grant(&test, &cookie).await;
    let connected = view(grant.clone()).await["connected"].as_array().cloned().unwrap_or_default();
    assert_eq!(connected.len(), 2, "{connected:?}");
    assert!(connected.iter().all(|c| c["app"] == OFFLINE && c["name"] == OFFLINE && c["until"].as_u64() > c["since"].as_u64()), "{connected:?}");

    // Another person cannot sign them out of it; an id that is not one, or gone, neither.
    test.user("taro@example.com", |u| u.groups = &["agents"]).await;
    let taro = test.login_at(&offline_path(OFFLINE), "taro@example.com", PASSWORD).await;
    let taros = crate::account::grant(&test, &session_cookie(&test.handoff(&taro).await)).await;
    let id = connected[0]["id"].as_str().unwrap_or_default().to_owned();
    for (grant, id) in [(taros.as_str(), id.as_str()), (grant.as_str(), "not-an-id"), (grant.as_str(), &"A".repeat(43))] {
        let reply = test.post("/account/apps/sign-out", json!({"grant": grant, "id": id})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    }
    assert_eq!(view(grant.clone()).await["connected"].as_array().map(Vec::len), Some(2));

    // Their own: that sign-in's refresh tokens end, the other's go on.
    let reply = test.post("/account/apps/sign-out", json!({"grant": grant, "id": id})).await;
    assert_eq!((reply.status, reply.json()["status"].as_str()), (StatusCode::OK, Some("signed_out")), "{}", reply.body);
    let outcomes = [refresh(&test, Some(&auth), &first, &[]).await.status, refresh(&test, Some(&auth), &second, &[]).await.status];
    assert!(outcomes.contains(&StatusCode::OK) && outcomes.contains(&StatusCode::BAD_REQUEST), "{outcomes:?}");
    assert_eq!(view(grant.clone()).await["connected"].as_array().map(Vec::len), Some(1));

    // "Sign out everywhere else" ends the rest (the mark): none listed, none working.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let ended = test.post("/account/sessions/end-others", json!({"grant": grant})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert_eq!(view(grant).await["connected"].as_array().map(Vec::len), Some(0));
    for rt in [&first, &second] {
        assert_eq!(refresh(&test, Some(&auth), rt, &[]).await.status, StatusCode::BAD_REQUEST);
    }
}

/// The admin API's stack with our RS256 key and `offline-tool`, hanako (in `agents`) and an
/// operator: the console, hanako's user name, the operator's token.
async fn console_with_offline_client() -> (crate::admin_api::Console, String, String) {
    let console = crate::admin_api::Console::new().await;
    let test = &console.test;
    test.keys().rotate(shared::tokens::jws::Algorithm::RS256, shared::tokens::signing_keys::MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    test.apps.create(offline_client(OFFLINE, "client_secret_basic"), Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
    let (hanako, _) = console.person(EMAIL, &["agents"]).await;
    let ops = console.token(&console.person("ops@example.com", &["bridge-operator"]).await, json!({}));
    (console, hanako, ops)
}

/// The operators' person page lists the same apps, and an operator (not a viewer) signs the person
/// out of one: audited with the app's id.
#[tokio::test]
async fn an_operator_signs_a_person_out_of_an_app_that_keeps_them_signed_in() {
    let (console, hanako, ops) = console_with_offline_client().await;
    let test = &console.test;
    let auth = basic(OFFLINE, SECRET);
    let viewer = console.token(&console.person("viewer@example.com", &["bridge-viewer"]).await, json!({}));
    let rt = refresh_token_of(&signed_in(test, OFFLINE, Some(&auth)).await);

    let person = console.call(&ops, "GET", &format!("/admin/v1/people/{hanako}"), &[], None).await.json();
    let connected = person["connected"].as_array().cloned().unwrap_or_default();
    assert_eq!((connected.len(), connected[0]["app"].as_str()), (1, Some(OFFLINE)), "{person}");
    let id = connected[0]["id"].as_str().unwrap_or_default();
    let path = format!("/admin/v1/people/{hanako}/apps/{id}/sign-out");
    assert_eq!(console.call(&viewer, "POST", &path, &[], None).await.status, StatusCode::FORBIDDEN);
    let elsewhere = console.call(&ops, "POST", &format!("/admin/v1/people/ops@example.com/apps/{id}/sign-out"), &[], None).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "another person's: {}", elsewhere.body);
    let next = refresh(test, Some(&auth), &rt, &[]).await;
    assert_eq!(next.status, StatusCode::OK, "nothing ended yet: {}", next.body);
    let first = refresh_token_of(&next.json());

    let second = refresh_token_of(&signed_in(test, OFFLINE, Some(&auth)).await);
    let person = console.call(&ops, "GET", &format!("/admin/v1/people/{hanako}"), &[], None).await.json();
    let one = person["connected"][0]["id"].as_str().unwrap_or_default().to_owned();
    // By her email (an alias): the delete is conditioned on her user name.
    let out = console.call(&ops, "POST", &format!("/admin/v1/people/{EMAIL}/apps/{one}/sign-out"), &[], None).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(out.json()["connected"].as_array().map(Vec::len), Some(1), "the other sign-in stays");
    let outcomes = [refresh(test, Some(&auth), &first, &[]).await, refresh(test, Some(&auth), &second, &[]).await];
    assert!(outcomes.iter().any(|r| r.status == StatusCode::OK) && outcomes.iter().any(|r| r.status == StatusCode::BAD_REQUEST));
    let audit = console.call(&ops, "GET", &format!("/admin/v1/audit?target=user:{hanako}&type=admin.user.signed_out"), &[], None).await.json();
    assert!(audit.to_string().contains(&format!("\"app_signed_out\":\"{OFFLINE}\"")) && audit.to_string().contains(&one), "{audit}");
    // Signed out everywhere: no app keeps her signed in, and the last token stops.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let everywhere = console.call(&ops, "POST", &format!("/admin/v1/people/{hanako}/sign-out"), &[], None).await;
    assert_eq!(everywhere.json()["connected"], json!([]), "{}", everywhere.body);
    let kept = outcomes.iter().find(|r| r.status == StatusCode::OK).map(|r| refresh_token_of(&r.json())).unwrap_or_default();
    refused(&refresh(test, Some(&auth), &kept, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    let person = console.call(&ops, "GET", &format!("/admin/v1/people/{hanako}"), &[], None).await.json();
    assert_eq!(person["connected"], json!([]), "{person}");
}

#[tokio::test]
async fn a_client_revokes_its_refresh_tokens_and_no_one_elses() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let other = other_client(&test).await;
    let tokens = signed_in(&test, OFFLINE, Some(&auth)).await;
    let rt = refresh_token_of(&tokens);

    // Another client, the wrong secret, no token, an access token: refused, nothing revoked.
    refused(&revoke(&test, Some(&other), &[("token", &rt)]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&revoke(&test, Some(&basic(OFFLINE, "wrong-secret-0123456789")), &[("token", &rt)]).await, StatusCode::UNAUTHORIZED, "invalid_client");
    refused(&revoke(&test, Some(&auth), &[]).await, StatusCode::BAD_REQUEST, "invalid_request");
    let access = tokens["access_token"].as_str().unwrap_or_default();
    refused(&revoke(&test, Some(&auth), &[("token", access)]).await, StatusCode::BAD_REQUEST, "unsupported_token_type");
    let rt = refresh_token_of(&refresh(&test, Some(&auth), &rt, &[]).await.json());

    // Its own: revoked (200, no body); a token that is not valid is answered alike.
    let revoked = revoke(&test, Some(&auth), &[("token", &rt), ("token_type_hint", "refresh_token")]).await;
    assert_eq!((revoked.status, revoked.body.as_str()), (StatusCode::OK, ""));
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(revoke(&test, Some(&auth), &[("token", "not-a-token")]).await.status, StatusCode::OK);
    assert_eq!(revoke(&test, Some(&auth), &[("token", &rt)]).await.status, StatusCode::OK, "revoked twice");
}

/// The session id of a `Set-Cookie` the bridge sent: the digest of the cookie's value (the id the
/// account page and the console show).
fn session_id(cookie: &str) -> String {
    let value = cookie.split_once('=').map(|(_, v)| v.split(';').next().unwrap_or_default()).unwrap_or_default();
    shared::common::hashing::digest(value)
}

async fn sid_of(test: &TestApp, tokens: &Value, client_id: &str) -> String {
    let check = json!({"token": tokens["id_token"], "algorithms": ["RS256"], "jwks": jwks(test).await, "audience": client_id, "issuer": API});
    let claims = verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"));
    claims["sid"].as_str().unwrap_or_else(|| panic!("no sid: {claims}")).to_owned()
}

/// Ending one bridge session on the account page ends the refresh tokens of every app signed in
/// through it (by the form, and by the session's entry into a second client), and no other
/// session's. The ID tokens name the session (`sid`): the same from the code, the entry and a
/// refresh, another for another session.
#[tokio::test]
async fn ending_a_session_ends_the_refresh_tokens_of_the_apps_signed_in_through_it() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let other = other_client(&test).await;
    let (code, redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let ended_here = token(&test, Some(&auth), &exchange(&code)).await.json();
    let cookie = session_cookie(&redirect);
    let entered = test.send("GET", &offline_path("other-offline"), &[("cookie", &cookie)], None).await;
    let entered_here = token(&test, Some(&other), &exchange(&code_of(&entered))).await.json();
    let (elsewhere, elsewhere_redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let kept = token(&test, Some(&auth), &exchange(&elsewhere)).await.json();

    let sid = sid_of(&test, &ended_here, OFFLINE).await;
    assert_eq!(sid_of(&test, &entered_here, "other-offline").await, sid, "the session's entry into another client");
    assert_ne!(sid_of(&test, &kept, OFFLINE).await, sid, "another session");
    assert!(!sid.contains(&session_id(&cookie)) && !cookie.contains(&sid), "the sid is neither the cookie nor its id");
    let refreshed = refresh(&test, Some(&auth), &refresh_token_of(&ended_here), &[]).await.json();
    assert_eq!(sid_of(&test, &refreshed, OFFLINE).await, sid, "a refresh names the sign-in's session");

    // From the other session's account page: "end this session" on the first.
    let grant = crate::account::grant(&test, &session_cookie(&elsewhere_redirect)).await;
    let ended = test.post("/account/sessions/end", json!({"grant": grant, "id": session_id(&cookie)})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    refused(&refresh(&test, Some(&auth), &refresh_token_of(&refreshed), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&refresh(&test, Some(&other), &refresh_token_of(&entered_here), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    let still = refresh(&test, Some(&auth), &refresh_token_of(&kept), &[]).await;
    assert_eq!(still.status, StatusCode::OK, "the other session's sign-in: {}", still.body);
    let view = test.post("/account/view", json!({"grant": grant})).await.json();
    assert_eq!(view["connected"].as_array().map(Vec::len), Some(1), "{view}");
}

/// An operator's "end this session" ends that session's apps' refresh tokens too, audited with
/// how many; the person's other session keeps its own.
#[tokio::test]
async fn an_operator_ending_a_session_ends_its_apps_refresh_tokens() {
    let (console, hanako, ops) = console_with_offline_client().await;
    let test = &console.test;
    let auth = basic(OFFLINE, SECRET);
    let (code, redirect) = sign_in_for_code(test, &offline_path(OFFLINE)).await;
    let ended = refresh_token_of(&token(test, Some(&auth), &exchange(&code)).await.json());
    let kept = refresh_token_of(&signed_in(test, OFFLINE, Some(&auth)).await);

    let id = session_id(&session_cookie(&redirect));
    let out = console.call(&ops, "POST", &format!("/admin/v1/people/{hanako}/sessions/{id}/sign-out"), &[], None).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    assert_eq!(out.json()["connected"].as_array().map(Vec::len), Some(1), "{}", out.body);
    refused(&refresh(test, Some(&auth), &ended, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(refresh(test, Some(&auth), &kept, &[]).await.status, StatusCode::OK);
    let audit = console.call(&ops, "GET", &format!("/admin/v1/audit?target=user:{hanako}&type=admin.user.signed_out"), &[], None).await.json();
    assert!(audit.to_string().contains(&format!("\"ended\":\"{id}\"")) && audit.to_string().contains("\"apps_signed_out\":1"), "{audit}");
}

/// However a session ends, the session-ends function (from the table's stream) ends its
/// sign-ins' refresh tokens, and a code it issued before its end opens none after: here the
/// session's item is deleted with nothing else done, as a sweep does.
#[tokio::test]
async fn a_sessions_end_reaches_its_refresh_tokens_through_the_stream_and_in_flight_codes() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let ends = crate::backchannel_logout::session_ends(&test);
    let mut stream = crate::backchannel_logout::stream(&test).await;
    let (code, redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let rt = refresh_token_of(&token(&test, Some(&auth), &exchange(&code)).await.json());
    let cookie = session_cookie(&redirect);
    let in_flight = code_of(&test.send("GET", &offline_path(OFFLINE), &[("cookie", &cookie)], None).await);
    let kept = refresh_token_of(&signed_in(&test, OFFLINE, Some(&auth)).await);

    let sessions = shared::adapters::dynamo::sessions::DynamoSessions::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table);
    assert!(shared::signin::ports::SessionStore::end(&sessions, &session_id(&cookie)).await.unwrap_or_else(|e| panic!("{e}")).is_some());
    let rt = refresh_token_of(&refresh(&test, Some(&auth), &rt, &[]).await.json());
    assert_eq!(crate::backchannel_logout::deliver(&mut stream, &ends).await, json!({"batchItemFailures": []}));
    refused(&refresh(&test, Some(&auth), &rt, &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&token(&test, Some(&auth), &exchange(&in_flight)).await, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(refresh(&test, Some(&auth), &kept, &[]).await.status, StatusCode::OK, "another session's sign-in");
}

/// Once a session's end is recorded, nothing of it works: a refresh token of its sign-in (its
/// family still there) and a code it issued without `offline_access` are refused.
#[tokio::test]
async fn a_session_recorded_as_ended_refreshes_nothing_and_exchanges_no_code() {
    let (test, _) = offline_provider().await;
    let auth = basic(OFFLINE, SECRET);
    let (code, redirect) = sign_in_for_code(&test, &offline_path(OFFLINE)).await;
    let tokens = token(&test, Some(&auth), &exchange(&code)).await.json();
    let in_flight = code_of(&test.send("GET", &authorize_path(OFFLINE, &[]), &[("cookie", &session_cookie(&redirect))], None).await);
    let families = shared::adapters::dynamo::refresh_tokens::DynamoRefreshFamilies::new(aws_sdk_dynamodb::Client::new(&test.sdk), &test.stack.table);
    let sid = sid_of(&test, &tokens, OFFLINE).await;
    shared::signin::ports::RefreshFamilies::mark_session_ended(&families, &sid, now() + 3_600).await.unwrap_or_else(|e| panic!("{e}"));
    refused(&refresh(&test, Some(&auth), &refresh_token_of(&tokens), &[]).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&token(&test, Some(&auth), &exchange(&in_flight)).await, StatusCode::BAD_REQUEST, "invalid_grant");
}
