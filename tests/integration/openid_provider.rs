//! The bridge as the OpenID provider of an `oidc` app, against moto: the authorization code flow
//! with PKCE from the form and from a live session, the ID token checked by an independent
//! verifier (PyJWT against the published keys), UserInfo, and every way a code, a client or a
//! token could be abused: refused, and a refusal spends nothing.

use crate::harness::*;
use base64::Engine;
use http::StatusCode;
use serde_json::{Value, json};
use shared::tokens::app::App;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::MIN_LEAD;

pub(crate) const TOOL: &str = "https://tool.example.com";
pub(crate) const CALLBACK: &str = "https://tool.example.com/oidc/callback";
const SIGNED_OUT: &str = "https://tool.example.com/signed-out";
pub(crate) const CLIENT: &str = "tool-oidc";
pub(crate) const SECRET: &str = "tool-client-secret-0123456789";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn now() -> u64 {
    shared::common::time::unix_now()
}

pub(crate) fn client(id: &str, authentication: &str) -> App {
    let target = json!({"kind": "oidc", "redirect_uris": [CALLBACK], "post_logout_redirect_uris": [SIGNED_OUT], "client_authentication": authentication,
                        "lifetime_seconds": 600});
    let claims = json!({"groups": {"from": "groups"}});
    serde_json::from_value(json!({"id": id, "name": id, "target": target, "allowed_origins": [TOOL], "claims": claims})).unwrap_or_else(|e| panic!("{e}"))
}

/// A stack with our RS256 key, the confidential client `tool-oidc`, and hanako.
pub(crate) async fn provider() -> (TestApp, String) {
    let test = spawn_app().await;
    test.keys().rotate(Algorithm::RS256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    test.apps.create(client(CLIENT, "client_secret_basic"), Some(&secret)).await.unwrap_or_else(|e| panic!("{e:#}"));
    let sub = test.user("hanako@example.com", |u| u.groups = &["agents"]).await;
    (test, sub)
}

pub(crate) fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs([
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email profile"),
        ("state", "st-8Lk2"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let mut path = format!("/oauth2/authorize?{}", query.finish());
    for (k, v) in extra {
        path = path.replace(&format!("&{k}="), &format!("&{k}-was="));
        path.push_str(&format!("&{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()));
    }
    path
}

/// The code a redirect to the client carries, after checking the redirect is to the callback
/// with the request's state and our issuer.
pub(crate) fn code_of(redirect: &Reply) -> String {
    assert_eq!(redirect.status, StatusCode::FOUND, "{}", redirect.body);
    let location = redirect.header("location").unwrap_or_default();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    assert_eq!(redirect.location_param("state").as_deref(), Some("st-8Lk2"));
    assert_eq!(redirect.location_param("iss").as_deref(), Some(API));
    redirect.location_param("code").unwrap_or_default()
}

/// A password sign-in through the form, from the authorization request to the code.
pub(crate) async fn sign_in_for_code(test: &TestApp, path: &str) -> (String, Reply) {
    let step = test.login_at(path, "hanako@example.com", PASSWORD).await;
    let redirect = test.handoff(&step).await;
    (code_of(&redirect), redirect)
}

pub(crate) fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

pub(crate) async fn token(test: &TestApp, authorization: Option<&str>, form: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    headers.extend(authorization.map(|a| ("authorization", a)));
    test.send("POST", "/oauth2/token", &headers, Some(body)).await
}

pub(crate) fn exchange(code: &str) -> Vec<(&str, &str)> {
    vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CALLBACK), ("code_verifier", VERIFIER)]
}

pub(crate) fn refused(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!((reply.status, reply.json()["error"].as_str()), (status, Some(error)), "{}", reply.body);
}

pub(crate) async fn userinfo(test: &TestApp, bearer: &str) -> Reply {
    test.send("GET", "/oauth2/userinfo", &[("authorization", &format!("Bearer {bearer}"))], None).await
}

pub(crate) async fn jwks(test: &TestApp) -> Value {
    test.send("GET", "/.well-known/jwks.json", &[], None).await.json()
}

#[tokio::test]
async fn a_client_signs_people_in_with_the_code_flow_and_pkce() {
    let (test, sub) = provider().await;
    let discovery = test.send("GET", "/.well-known/openid-configuration", &[], None).await;
    assert_eq!(discovery.status, StatusCode::OK);
    let discovery = discovery.json();
    assert_eq!((discovery["issuer"].as_str(), discovery["jwks_uri"].as_str()), (Some(API), Some(format!("{API}/.well-known/jwks.json").as_str())));
    assert_eq!(discovery["token_endpoint"], format!("{API}/oauth2/token"));
    assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));

    let (code, redirect) = sign_in_for_code(&test, &authorize_path(CLIENT, &[])).await;
    let tokens = token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&code)).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!((tokens.header("cache-control"), tokens.header("pragma")), (Some("no-store"), Some("no-cache")));
    let tokens = tokens.json();
    assert_eq!(
        (tokens["token_type"].as_str(), tokens["expires_in"].as_u64(), tokens["scope"].as_str()),
        (Some("Bearer"), Some(600), Some("openid email profile"))
    );

    let id_token = tokens["id_token"].as_str().unwrap_or_default();
    let check = json!({"token": id_token, "algorithms": ["RS256"], "jwks": jwks(&test).await, "audience": CLIENT, "issuer": API});
    let claims = verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((claims["sub"].as_str(), claims["azp"].as_str(), claims["nonce"].as_str()), (Some(sub.as_str()), Some(CLIENT), Some("n-0S6_WzA2Mj")));
    assert_eq!((claims["email"].as_str(), &claims["email_verified"]), (Some("hanako@example.com"), &json!(true)));
    assert_eq!((&claims["amr"], &claims["groups"]), (&json!(["pwd"]), &json!(["agents"])));
    assert!(claims.get("auth_time").is_none(), "not asked for");
    // The token names its one client: a verifier for another audience refuses it.
    assert!(verify("jwt", &json!({"token": id_token, "algorithms": ["RS256"], "jwks": jwks(&test).await, "audience": "other"})).is_err());

    let access_token = tokens["access_token"].as_str().unwrap_or_default();
    let info = userinfo(&test, access_token).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.json()["sub"], sub.as_str());
    assert_eq!(info.json()["email"], "hanako@example.com");

    // A code works once.
    refused(&token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&code)).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // The session the sign-in opened gives the next code without the form.
    let cookie = session_cookie(&redirect);
    let again = test.send("GET", &authorize_path(CLIENT, &[]), &[("cookie", &cookie)], None).await;
    let second = code_of(&again);
    assert_ne!(second, code);
    // Warm, an exchange is one round trip: the code's one use beside the read of whether its
    // bridge session has ended (the app, its secret and our key are cached).
    test.calls.take();
    assert_eq!(token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&second)).await.status, StatusCode::OK);
    let mut calls = test.calls.take();
    calls.sort();
    assert_eq!(calls, ["DynamoDB_20120810.GetItem", "DynamoDB_20120810.UpdateItem"]);

    // prompt=login and max_age ask for the form even with the session; the ID token then says when.
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let fresh = test.send("GET", &authorize_path(CLIENT, &[extra]), &[("cookie", &cookie)], None).await;
        assert!(fresh.location_param("ctx").is_some(), "{extra:?}: {:?}", fresh.header("location"));
    }
    let (code, _) = sign_in_for_code(&test, &authorize_path(CLIENT, &[("max_age", "300")])).await;
    let tokens = token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&code)).await.json();
    let claims = verify("jwt", &json!({"token": tokens["id_token"], "algorithms": ["RS256"], "jwks": jwks(&test).await})).unwrap_or_else(|e| panic!("{e}"));
    assert!(claims["auth_time"].as_u64().is_some_and(|t| t + 60 > now()), "{claims}");

    // prompt=none: with the session, a code; without one, the client is told to sign the person in.
    let silent = test.send("GET", &authorize_path(CLIENT, &[("prompt", "none")]), &[("cookie", &cookie)], None).await;
    code_of(&silent);
    let silent = test.send("GET", &authorize_path(CLIENT, &[("prompt", "none")]), &[], None).await;
    assert_eq!(silent.status, StatusCode::FOUND);
    assert_eq!((silent.location_param("error").as_deref(), silent.location_param("state").as_deref()), (Some("login_required"), Some("st-8Lk2")));
    assert!(silent.header("location").unwrap_or_default().starts_with(CALLBACK));
    // A session the app cannot take (a claim it requires that the person lacks, which a form
    // sign-in would show a page for): still no page, `login_required`.
    let mut strict = client("strict", "client_secret_basic");
    strict.claims = serde_json::from_value(json!({"dept": {"from": "attribute", "name": "custom:dept", "required": true}})).unwrap_or_else(|e| panic!("{e}"));
    test.apps.create(strict, Some(&secrecy::SecretString::from(SECRET.to_owned()))).await.unwrap_or_else(|e| panic!("{e:#}"));
    let silent = test.send("GET", &authorize_path("strict", &[("prompt", "none")]), &[("cookie", &cookie)], None).await;
    assert_eq!((silent.status, silent.location_param("error").as_deref()), (StatusCode::FOUND, Some("login_required")), "{}", silent.body);
}

#[tokio::test]
async fn a_code_is_refused_to_anyone_but_its_client_with_its_verifier_and_refusals_spend_nothing() {
    let (test, _) = provider().await;
    let other = secrecy::SecretString::from("other-client-secret-0123456789".to_owned());
    test.apps.create(client("other-oidc", "client_secret_post"), Some(&other)).await.unwrap_or_else(|e| panic!("{e:#}"));
    let (code, _) = sign_in_for_code(&test, &authorize_path(CLIENT, &[])).await;
    let good = exchange(&code);
    let with = |k: &'static str, v: &'static str| -> Vec<(&str, &str)> { good.iter().map(|&(gk, gv)| if gk == k { (gk, v) } else { (gk, gv) }).collect() };
    let without = |k: &str| -> Vec<(&str, &str)> { good.iter().copied().filter(|(gk, _)| *gk != k).collect() };
    let basic_ok = basic(CLIENT, SECRET);

    // The client: the wrong secret, none, the secret in the form when it registered Basic, both ways
    // at once, and another client's own good credentials.
    let wrong = token(&test, Some(&basic(CLIENT, "tool-client-secret-0123456788")), &good).await;
    refused(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), Some("Basic realm=\"token\""));
    refused(&token(&test, None, &[good.as_slice(), &[("client_id", CLIENT)]].concat()).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let posted = [good.as_slice(), &[("client_id", CLIENT), ("client_secret", SECRET)]].concat();
    refused(&token(&test, None, &posted).await, StatusCode::UNAUTHORIZED, "invalid_client");
    refused(&token(&test, Some(&basic_ok), &posted).await, StatusCode::BAD_REQUEST, "invalid_request");
    let as_other = [good.as_slice(), &[("client_id", "other-oidc"), ("client_secret", "other-client-secret-0123456789")]].concat();
    refused(&token(&test, None, &as_other).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&token(&test, Some(&basic(APP, SECRET)), &good).await, StatusCode::UNAUTHORIZED, "invalid_client");

    // The code: another redirect_uri, no or the wrong verifier, altered, or not a code at all.
    refused(&token(&test, Some(&basic_ok), &with("redirect_uri", "https://tool.example.com/oidc/callback/")).await, StatusCode::BAD_REQUEST, "invalid_grant");
    refused(&token(&test, Some(&basic_ok), &without("code_verifier")).await, StatusCode::BAD_REQUEST, "invalid_grant");
    let wrong_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
    refused(&token(&test, Some(&basic_ok), &with("code_verifier", wrong_verifier)).await, StatusCode::BAD_REQUEST, "invalid_grant");
    let mut altered = code.clone().into_bytes();
    let last = altered.len() - 30;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap_or_default();
    let altered_form: Vec<(&str, &str)> = good.iter().map(|&(k, v)| if k == "code" { (k, altered.as_str()) } else { (k, v) }).collect();
    refused(&token(&test, Some(&basic_ok), &altered_form).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // The request: another grant type, none, a parameter twice, a JSON body.
    refused(&token(&test, Some(&basic_ok), &with("grant_type", "password")).await, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    refused(&token(&test, Some(&basic_ok), &without("grant_type")).await, StatusCode::BAD_REQUEST, "invalid_request");
    refused(&token(&test, Some(&basic_ok), &[good.as_slice(), &[("code", "x")]].concat()).await, StatusCode::BAD_REQUEST, "invalid_request");
    let json_body = test
        .send("POST", "/oauth2/token", &[("content-type", "application/json"), ("authorization", &basic_ok)], Some(json!({"code": code}).to_string()))
        .await;
    refused(&json_body, StatusCode::BAD_REQUEST, "invalid_request");

    // None of that spent the code: its client, with its verifier, redeems it once.
    let tokens = token(&test, Some(&basic_ok), &good).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    refused(&token(&test, Some(&basic_ok), &good).await, StatusCode::BAD_REQUEST, "invalid_grant");

    // UserInfo takes the access token only: not the ID token, the code, an altered token or none.
    let tokens = tokens.json();
    let access = tokens["access_token"].as_str().unwrap_or_default();
    assert_eq!(userinfo(&test, access).await.status, StatusCode::OK);
    for bearer in [tokens["id_token"].as_str().unwrap_or_default(), code.as_str(), &access.replacen('A', "B", 1), "x"] {
        let reply = userinfo(&test, bearer).await;
        assert_eq!((reply.status, reply.header("www-authenticate")), (StatusCode::UNAUTHORIZED, Some("Bearer error=\"invalid_token\"")));
    }
    let none = test.send("GET", "/oauth2/userinfo", &[], None).await;
    assert_eq!((none.status, none.header("www-authenticate")), (StatusCode::UNAUTHORIZED, Some("Bearer")));
    // An access token is not a code.
    let access_as_code: Vec<(&str, &str)> = good.iter().map(|&(k, v)| if k == "code" { (k, access) } else { (k, v) }).collect();
    refused(&token(&test, Some(&basic_ok), &access_as_code).await, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn authorization_requests_are_checked_before_anyone_is_sent_anywhere() {
    let (test, _) = provider().await;
    let page = |reply: &Reply, status: StatusCode| {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.header("location").is_none(), "never redirected: {:?}", reply.header("location"));
    };
    // A redirect_uri the client did not register exactly, an unknown client, an app of another
    // kind, and the client entered as other apps are: a page, never a redirect.
    for bad in ["https://tool.example.com/oidc/callback/", "https://evil.example/oidc/callback", "https://tool.example.com/oidc/callback?next=x"] {
        page(&test.send("GET", &authorize_path(CLIENT, &[("redirect_uri", bad)]), &[], None).await, StatusCode::BAD_REQUEST);
    }
    page(&test.send("GET", &authorize_path("no-such-app", &[]), &[], None).await, StatusCode::NOT_FOUND);
    page(&test.send("GET", &authorize_path(APP, &[]), &[], None).await, StatusCode::BAD_REQUEST);
    page(&test.send("GET", &format!("/sso/{CLIENT}?return_to={CALLBACK}"), &[], None).await, StatusCode::BAD_REQUEST);

    // Other faults go back to the client, with its state.
    for (extra, error) in [
        (("response_type", "token"), "unsupported_response_type"),
        (("scope", "email"), "invalid_scope"),
        (("code_challenge_method", "plain"), "invalid_request"),
        (("request_uri", "https://evil.example/req"), "request_not_supported"),
        (("prompt", "none login"), "invalid_request"),
        (("max_age", "soon"), "invalid_request"),
    ] {
        let reply = test.send("GET", &authorize_path(CLIENT, &[extra]), &[], None).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{extra:?}");
        assert!(reply.header("location").unwrap_or_default().starts_with(&format!("{CALLBACK}?error=")), "{extra:?}");
        assert_eq!((reply.location_param("error").as_deref(), reply.location_param("state").as_deref()), (Some(error), Some("st-8Lk2")));
    }

    // A public client must use PKCE, and presents no secret.
    test.apps.create(client("spa", "none"), None).await.unwrap_or_else(|e| panic!("{e:#}"));
    let path = authorize_path("spa", &[]).replace(&format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"), "");
    let reply = test.send("GET", &path, &[], None).await;
    assert_eq!(reply.location_param("error").as_deref(), Some("invalid_request"));
    let (code, _) = sign_in_for_code(&test, &authorize_path("spa", &[])).await;
    let with_secret = [exchange(&code).as_slice(), &[("client_id", "spa"), ("client_secret", "anything-at-all-0123456789")]].concat();
    refused(&token(&test, None, &with_secret).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let public = [exchange(&code).as_slice(), &[("client_id", "spa")]].concat();
    // A page in the browser reads the answer only from one of the app's allowed origins.
    let from = |origin: &'static str| {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&public).finish();
        let test = &test;
        async move { test.send("POST", "/oauth2/token", &[("content-type", "application/x-www-form-urlencoded"), ("origin", origin)], Some(body)).await }
    };
    let foreign = from("https://evil.example").await;
    assert_eq!((foreign.status, foreign.header("access-control-allow-origin")), (StatusCode::OK, None));
    assert_eq!(foreign.header("vary"), Some("Origin"));
    let again = from(TOOL).await;
    refused(&again, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(again.header("access-control-allow-origin"), Some(TOOL));
    // An empty client_secret (or state) is one not sent (RFC 6749 §3.1): the public client is
    // not taken for one posting a secret.
    let (code, _) = sign_in_for_code(&test, &authorize_path("spa", &[])).await;
    let empty_secret = [exchange(&code).as_slice(), &[("client_id", "spa"), ("client_secret", "")]].concat();
    assert_eq!(token(&test, None, &empty_secret).await.status, StatusCode::OK);
    let preflight = test.send("OPTIONS", "/oauth2/userinfo", &[("origin", TOOL), ("access-control-request-headers", "authorization")], None).await;
    assert_eq!((preflight.status, preflight.header("access-control-allow-headers")), (StatusCode::NO_CONTENT, Some("authorization")));
}

#[tokio::test]
async fn a_client_signs_the_person_out_and_gets_them_back_only_at_a_page_it_registered() {
    let (test, _) = provider().await;
    let (code, redirect) = sign_in_for_code(&test, &authorize_path(CLIENT, &[])).await;
    let cookie = session_cookie(&redirect);
    let tokens = token(&test, Some(&basic(CLIENT, SECRET)), &exchange(&code)).await.json();
    let hint = tokens["id_token"].as_str().unwrap_or_default();
    let logout = |query: String| {
        let (test, cookie) = (&test, cookie.clone());
        async move { test.send("GET", &format!("/oauth2/logout?{query}"), &[("cookie", &cookie)], None).await }
    };
    let query = |pairs: &[(&str, &str)]| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let still_signed_in = || async { code_of(&test.send("GET", &authorize_path(CLIENT, &[]), &[("cookie", &cookie)], None).await) };

    // A page the client did not register, a hint of another client than `client_id`, no client
    // at all, another kind of app: a page, nothing ended.
    for bad in [
        query(&[("client_id", CLIENT), ("post_logout_redirect_uri", "https://evil.example/")]),
        query(&[("client_id", CLIENT), ("post_logout_redirect_uri", &format!("{SIGNED_OUT}/"))]),
        query(&[("client_id", APP), ("id_token_hint", hint), ("post_logout_redirect_uri", SIGNED_OUT)]),
        query(&[("post_logout_redirect_uri", SIGNED_OUT)]),
        query(&[("client_id", APP), ("post_logout_redirect_uri", SIGNED_OUT)]),
        // A hint we did not sign (its signature altered), or no client at all behind a name.
        query(&[("id_token_hint", &format!("{}x", &hint[..hint.len() - 1])), ("post_logout_redirect_uri", SIGNED_OUT)]),
        query(&[("id_token_hint", "a.b.c")]),
        query(&[("client_id", "no-such-client")]),
    ] {
        let reply = logout(bad.clone()).await;
        assert_eq!((reply.status, reply.header("location")), (StatusCode::BAD_REQUEST, None), "{bad}");
        assert!(reply.headers.get("set-cookie").is_none(), "{bad}");
    }
    still_signed_in().await;

    // A form post is answered with the same request as a top-level GET (which carries the
    // session cookie a cross-site post does not).
    let form = query(&[("id_token_hint", hint), ("post_logout_redirect_uri", SIGNED_OUT), ("state", "a&b #c")]);
    // (In name order: the answer sends the parameters back sorted.)
    let posted = test.send("POST", "/oauth2/logout", &[("content-type", "application/x-www-form-urlencoded")], Some(form.clone())).await;
    assert_eq!((posted.status, posted.header("location")), (StatusCode::SEE_OTHER, Some(format!("{API}/oauth2/logout?{form}").as_str())));
    assert!(posted.headers.get("set-cookie").is_none(), "nothing ended by the post itself");
    // The hint names the client: signed out, back at its page with its state.
    let reply = logout(form).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert_eq!(reply.header("location"), Some(format!("{SIGNED_OUT}?state=a%26b+%23c").as_str()));
    assert!(set_cookie(&reply, shared::signin::session::COOKIE).is_some_and(|c| c.ends_with('=')), "the cookie cleared");
    let after = test.send("GET", &authorize_path(CLIENT, &[]), &[("cookie", &cookie)], None).await;
    assert!(after.location_param("ctx").is_some(), "the session is over: the form, {:?}", after.header("location"));
    // With no page named, the form says the person is signed out.
    let reply = logout(query(&[("client_id", CLIENT)])).await;
    assert_eq!(reply.location_param("notice").as_deref(), Some("signed_out"));
    // A hint that does not verify (its key pruned since) beside a client_id: the client_id alone.
    let reply = logout(query(&[("client_id", CLIENT), ("id_token_hint", "a.b.c"), ("post_logout_redirect_uri", SIGNED_OUT)])).await;
    assert_eq!(reply.header("location"), Some(SIGNED_OUT));
}

#[tokio::test]
async fn a_client_secret_never_becomes_a_signing_key() {
    let (test, _) = provider().await;
    // An app cannot turn from an OpenID Connect client into a kind signed with its secret.
    let mut app = test.apps.get(&shared::tokens::app::AppId::parse(CLIENT).unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e:#}"));
    app.target = serde_json::from_value(json!({"kind": "jwt", "url": format!("{TOOL}/sso"), "algorithm": "HS256"})).unwrap_or_else(|e| panic!("{e}"));
    let refused = test.apps.update(app).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(refused.contains("OpenID Connect client"), "{refused}");
}

#[tokio::test]
async fn without_its_public_url_the_provider_says_it_is_unavailable_rather_than_issue_for_no_issuer() {
    let (test, _) = provider().await;
    let login = routes_without_issuer(&test);
    for (method, path) in
        [("GET", "/.well-known/openid-configuration".to_owned()), ("GET", authorize_path(CLIENT, &[])), ("GET", format!("/oauth2/logout?client_id={CLIENT}"))]
    {
        let reply = send_to(&login, method, &path, &[], None).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {}", reply.body);
    }
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(exchange("a.b.c")).finish();
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("authorization", &basic(CLIENT, SECRET) as &str)];
    refused(&send_to(&login, "POST", "/oauth2/token", &headers, Some(body)).await, StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable");
}

fn routes_without_issuer(test: &TestApp) -> axum::Router {
    login::routes::router(login_state_with(&test.sdk, &test.stack, moto(), &[("PUBLIC_API_URL", "")]))
}
