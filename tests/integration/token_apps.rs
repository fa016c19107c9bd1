//! The token app kinds end to end against moto: Gainsight community (inSided), DiscourseConnect
//! and generic JWT apps signed with our own published keys or a shared secret. Every token is
//! checked by an independent verifier (`tests/verifiers/verify.py`: PyJWT against the JWKS the
//! login function serves, and Discourse's own signature rule).

use crate::harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::tokens::app::App;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::MIN_LEAD;
use std::time::{SystemTime, UNIX_EPOCH};

const FORUM: &str = "https://forum.example.com";
const TOOL: &str = "https://tool.example.com";
const FORUM_SECRET: &str = "forum-shared-secret-0123456789";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn app(id: &str, target: Value, origin: &str, claims: Value) -> App {
    serde_json::from_value(json!({"id": id, "name": id, "target": target, "allowed_origins": [origin], "claims": claims})).unwrap_or_else(|e| panic!("{e}"))
}

async fn add(test: &TestApp, app: App, secret: Option<&str>) {
    let secret = secret.map(|s| secrecy::SecretString::from(s.to_owned()));
    test.apps.create(app, secret.as_ref()).await.unwrap_or_else(|e| panic!("{e:#}"));
}

async fn jwks(login: &axum::Router) -> Value {
    let reply = send_to(login, "GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    reply.json()
}

/// A query parameter of a redirect's `Location`.
fn param(reply: &Reply, name: &str) -> String {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    reply.location_param(name).unwrap_or_else(|| panic!("no {name} in {:?}", reply.header("location")))
}

#[tokio::test]
async fn community_token_verifies_against_the_published_keys() {
    let test = spawn_app().await;
    assert_eq!(jwks(&test.login).await, json!({"keys": []}), "no key yet, nothing published");
    let post = test.send("POST", "/.well-known/jwks.json", &[], None).await;
    assert_eq!((post.status, post.header("cache-control")), (StatusCode::METHOD_NOT_ALLOWED, Some("no-store")));
    let key = test.keys().rotate(Algorithm::ES256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let target = json!({"kind": "insided", "community_id": "acme-community", "username_from_email": true});
    let claims = json!({"roles": {"from": "groups", "prefix": "community-", "strip_prefix": true, "join": ","},
                        "avatar": {"from": "attribute", "name": "custom:company"}});
    add(&test, app("community", target, "https://community.example.com", claims), None).await;
    let sub = test.user("hanako@example.com", |u| u.groups = &["community-3", "community-7", "staff"]).await;

    let step = test.login_at("/sso/community", "hanako@example.com", PASSWORD).await;
    let redirect = test.handoff(&step).await;
    let location = redirect.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with("https://sso.api.insided.com/auth/token/return?token="), "{location}");
    assert_eq!(param(&redirect, "customer"), "acme-community");

    let published = jwks(&test.login).await;
    assert_eq!(published["keys"][0]["kid"], key.kid.as_str());
    let token = param(&redirect, "token");
    let claims = verify("jwt", &json!({"token": token, "algorithms": ["ES256"], "jwks": published, "issuer": API})).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims["sub"], sub.to_lowercase());
    assert_eq!((claims["email"].as_str(), claims["username"].as_str()), (Some("hanako@example.com"), Some("hanako")));
    assert_eq!((claims["roles"].as_str(), claims["avatar"].as_str()), (Some("3,7"), Some("Acme")));
    assert_eq!(claims["exp"].as_u64().unwrap_or_default() - claims["iat"].as_u64().unwrap_or_default(), 300);

    // The token names its one app: another app of ours that checks its audience refuses it.
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["ES256"], "jwks": published, "audience": "acme-community"})).is_ok());
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["ES256"], "jwks": published, "audience": "tool"})).is_err());
    // The same token does not verify under another algorithm or with a key set that lacks its key.
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["RS256"], "jwks": published})).is_err());
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["ES256"], "jwks": {"keys": []}})).is_err());
}

#[tokio::test]
async fn generic_jwt_apps_rs256_by_post_and_hs256_by_redirect() {
    let test = spawn_app().await;
    test.keys().rotate(Algorithm::RS256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let mapping = json!({"email": {"from": "attribute", "name": "email", "required": true}, "groups": {"from": "groups"}});
    let rs = json!({"kind": "jwt", "url": format!("{TOOL}/sso/jwt"), "algorithm": "RS256", "delivery": "post", "audience": "tool",
                    "return_parameter": "return_to", "lifetime_seconds": 120});
    add(&test, app("tool-rs", rs, TOOL, mapping.clone()), None).await;
    let hs = json!({"kind": "jwt", "url": format!("{TOOL}/login?tenant=acme"), "parameter": "token", "algorithm": "HS256"});
    add(&test, app("tool-hs", hs, TOOL, mapping), Some("tool-shared-secret-0123456789")).await;
    let sub = test.user("hanako@example.com", |u| u.groups = &["beta"]).await;

    let step = test.login_at(&format!("/sso/tool-rs?return_to={TOOL}/projects/1"), "hanako@example.com", PASSWORD).await;
    let page = test.handoff(&step).await;
    assert!(page.body.contains(&format!("action=\"{TOOL}/sso/jwt\"")), "{}", page.body);
    assert_eq!(form_field(&page.body, "return_to").as_deref(), Some(format!("{TOOL}/projects/1").as_str()));
    let token = form_field(&page.body, "jwt").unwrap_or_default();
    let input = json!({"token": token, "algorithms": ["RS256"], "jwks": jwks(&test.login).await, "audience": "tool", "issuer": API});
    let claims = verify("jwt", &input).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((claims["sub"].as_str(), claims["email"].as_str()), (Some(sub.as_str()), Some("hanako@example.com")));
    assert_eq!(claims["groups"], json!(["beta"]));
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["RS256"], "jwks": jwks(&test.login).await, "audience": "other"})).is_err());

    // The session opens the second app without the form.
    let cookie = session_cookie(&page);
    let redirect = test.send("GET", "/sso/tool-hs", &[("cookie", &cookie)], None).await;
    assert!(redirect.header("location").unwrap_or_default().starts_with(&format!("{TOOL}/login?tenant=acme&token=")));
    let token = param(&redirect, "token");
    let claims = verify("jwt", &json!({"token": token, "algorithms": ["HS256"], "secret": "tool-shared-secret-0123456789"}));
    assert_eq!(claims.unwrap_or_else(|e| panic!("{e}"))["sub"], sub.as_str());
    assert!(verify("jwt", &json!({"token": token, "algorithms": ["HS256"], "secret": "another-secret"})).is_err());

    // Warm, a token signed with our key costs one read (the session with its user's revocation):
    // the key set and the parsed private key are cached.
    test.calls.take();
    let again = test.send("GET", "/sso/tool-rs", &[("cookie", &cookie)], None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(test.calls.take(), vec!["DynamoDB_20120810.BatchGetItem".to_owned()]);
}

#[tokio::test]
async fn a_missing_required_claim_is_a_clear_error_and_no_token() {
    let test = spawn_app().await;
    let target = json!({"kind": "jwt", "url": format!("{TOOL}/sso"), "algorithm": "HS256"});
    let claims = json!({"department": {"from": "attribute", "name": "custom:department", "required": true}});
    add(&test, app("tool", target, TOOL, claims), Some("tool-shared-secret-0123456789")).await;
    test.user("hanako@example.com", |_| {}).await;
    let step = test.login_at("/sso/tool", "hanako@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", step.body);
    assert_eq!(step.json()["error"], "profile_incomplete");
    assert_eq!(test.items_under("SESSION#").await, 0, "refused before any session");
}

#[tokio::test]
async fn a_sign_in_too_large_to_hand_to_the_browser_is_a_clear_error_and_no_session() {
    let test = spawn_app().await;
    let target = json!({"kind": "jwt", "url": format!("{TOOL}/sso"), "algorithm": "HS256"});
    let company = |name: &str| json!({"from": "attribute", "name": name});
    let claims = json!({"company": company("custom:company"), "company_again": company("custom:company"), "name_again": company("name")});
    add(&test, app("tool", target, TOOL, claims), Some("tool-shared-secret-0123456789")).await;
    // Within Cognito's 2,048 characters an attribute, a name and a company, each twice, fill the
    // app's token beyond what the form can carry back (a handoff's 16 KB).
    let (name, company) = ("名".repeat(1_500), "社".repeat(1_500));
    test.user("hanako@example.com", |u| (u.name, u.company) = (&name, Some(company.as_str()))).await;
    let step = test.login_at("/sso/tool", "hanako@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", step.body);
    assert_eq!(step.json()["error"], "sign_in_too_large");
    // At 2,048 characters each, Cognito's ID token itself is over the 16 KiB a verifier reads: the
    // same answer, not an outage.
    let (name, company) = ("名".repeat(2_048), "社".repeat(2_048));
    test.user("taro@example.com", |u| (u.name, u.company) = (&name, Some(company.as_str()))).await;
    let step = test.login_at("/sso/tool", "taro@example.com", PASSWORD).await;
    assert_eq!((step.status, step.json()["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("sign_in_too_large")), "{}", step.body);
    assert_eq!(test.items_under("SESSION#").await, 0, "refused before any session");
}

#[tokio::test]
async fn an_app_signed_with_our_keys_before_any_key_exists_is_unavailable_not_a_crash() {
    let test = spawn_app().await;
    let target = json!({"kind": "jwt", "url": format!("{TOOL}/sso"), "algorithm": "ES256"});
    add(&test, app("tool", target, TOOL, json!({})), None).await;
    test.user("hanako@example.com", |_| {}).await;
    let step = test.login_at("/sso/tool", "hanako@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::SERVICE_UNAVAILABLE, "{}", step.body);
    assert!(!step.body.contains("ES256") && !step.body.contains("key"), "no internals: {}", step.body);
}

/// A DiscourseConnect request, signed the way Discourse signs it (by the independent verifier).
fn forum_request(nonce: &str, return_url: &str, secret: &str) -> (String, String) {
    let out = verify("discourse-request", &json!({"payload": {"nonce": nonce, "return_sso_url": return_url}, "secret": secret}));
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    (out["sso"].as_str().unwrap_or_default().to_owned(), out["sig"].as_str().unwrap_or_default().to_owned())
}

fn sso_path(sso: &str, sig: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("sso", sso).append_pair("sig", sig).finish();
    format!("/sso/forum?{query}")
}

#[tokio::test]
async fn discourse_connect_round_trip_and_hostile_requests() {
    let test = spawn_app().await;
    let claims = json!({"name": {"from": "attribute", "name": "name"}, "groups": {"from": "groups", "prefix": "forum-", "strip_prefix": true}});
    add(&test, app("forum", json!({"kind": "discourse", "forum_url": FORUM}), FORUM, claims), Some(FORUM_SECRET)).await;
    let sub = test.user("hanako@example.com", |u| u.groups = &["forum-staff", "other"]).await;

    let (sso, sig) = forum_request("nonce-1", &format!("{FORUM}/session/sso_login"), FORUM_SECRET);
    let step = test.login_at(&sso_path(&sso, &sig), "hanako@example.com", PASSWORD).await;
    let redirect = test.handoff(&step).await;
    assert!(redirect.header("location").unwrap_or_default().starts_with(&format!("{FORUM}/session/sso_login?sso=")));
    let reply = json!({"sso": param(&redirect, "sso"), "sig": param(&redirect, "sig"), "secret": FORUM_SECRET});
    let fields = verify("discourse", &reply).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fields, json!({"nonce": "nonce-1", "email": "hanako@example.com", "external_id": sub, "name": "Hanako Yamada", "groups": "staff"}));
    assert!(verify("discourse", &json!({"sso": reply["sso"], "sig": reply["sig"], "secret": "not-the-secret"})).is_err());

    // With the session, the forum's next request is answered at once, with its own nonce.
    let cookie = session_cookie(&redirect);
    let (sso, sig) = forum_request("nonce-2", &format!("{FORUM}/session/sso_login"), FORUM_SECRET);
    let again = test.send("GET", &sso_path(&sso, &sig), &[("cookie", &cookie)], None).await;
    let fields = verify("discourse", &json!({"sso": param(&again, "sso"), "sig": param(&again, "sig"), "secret": FORUM_SECRET}));
    assert_eq!(fields.unwrap_or_else(|e| panic!("{e}"))["nonce"], "nonce-2");

    // Hostile requests: a sig that does not match, a return URL off the forum, a request signed
    // with another secret, none at all. Each is a clear 400 page, with or without a session.
    let (tampered, _) = forum_request("nonce-3", "https://evil.example/session/sso_login", FORUM_SECRET);
    let (foreign, foreign_sig) = forum_request("nonce-4", "https://forum.example.com.evil.example/x", FORUM_SECRET);
    let (other, other_sig) = forum_request("nonce-5", &format!("{FORUM}/session/sso_login"), "another-secret-0123456789");
    for path in [sso_path(&tampered, &sig), sso_path(&foreign, &foreign_sig), sso_path(&other, &other_sig), "/sso/forum".to_owned()] {
        for cookie in ["", cookie.as_str()] {
            let reply = test.send("GET", &path, &[("cookie", cookie), ("accept-language", "ja")], None).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {}", reply.body);
            assert!(reply.header("location").is_none());
            assert!(reply.body.contains("<html"), "a page for the person: {}", reply.body);
        }
    }

    // The forum's logout URL ends the session and lands on the form (no way back without a request).
    let out = test.send("GET", "/sso/forum/logout", &[("cookie", &cookie)], None).await;
    assert_eq!(out.location_param("notice").as_deref(), Some("signed_out"));
    assert_eq!(out.location_param("ctx"), None);
    assert_eq!(test.items_under("SESSION#").await, 0);
}

#[tokio::test]
async fn rotation_never_breaks_a_token() {
    let test = spawn_app().await;
    let keys = test.keys();
    let first = keys.rotate(Algorithm::ES256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let target = json!({"kind": "jwt", "url": format!("{TOOL}/sso"), "algorithm": "ES256"});
    add(&test, app("tool", target, TOOL, json!({})), None).await;
    test.user("hanako@example.com", |_| {}).await;
    let step = test.login_at("/sso/tool", "hanako@example.com", PASSWORD).await;
    let session = session_cookie(&test.handoff(&step).await);
    // Each mint is a fresh instance (no cached key set), as after a cold start.
    let mint = || async {
        let instance = login_for(&test.sdk, &test.stack, moto());
        let token = param(&send_to(&instance, "GET", "/sso/tool", &[("cookie", &session)], None).await, "jwt");
        (token, jwks(&instance).await)
    };
    let kid = |token: &str| jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid).unwrap_or_default();
    let verifies = |token: &str, jwks: &Value| verify("jwt", &json!({"token": token, "algorithms": ["ES256"], "jwks": jwks})).is_ok();

    let (before, jwks_before) = mint().await;
    assert_eq!(kid(&before), first.kid);

    let lead = 2;
    let second = keys.rotate(Algorithm::ES256, lead, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let (during, jwks_during) = mint().await;
    assert_eq!(kid(&during), first.kid, "the new key is published but does not sign yet");
    assert_eq!(jwks_during["keys"].as_array().map(Vec::len), Some(2));

    tokio::time::sleep(std::time::Duration::from_secs(lead + 1)).await;
    let (after, jwks_after) = mint().await;
    assert_eq!(kid(&after), second.kid, "the new key signs after its lead");
    // Old tokens verify with the new JWKS; new tokens with the JWKS fetched before the switch.
    for (token, jwks) in [(&before, &jwks_after), (&during, &jwks_after), (&after, &jwks_after), (&after, &jwks_during), (&before, &jwks_during)] {
        assert!(verifies(token, jwks), "{} with {jwks}", kid(token));
    }
    // The control: a JWKS from before the rotation lacks the new key.
    assert!(!verifies(&after, &jwks_before));
    // The old key stays published until its last token has expired; only then may it go.
    assert!(keys.prune(now()).await.unwrap_or_else(|e| panic!("{e:#}")).is_empty());
}
