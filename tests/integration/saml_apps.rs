//! SAML 2.0 service providers (`saml` apps) end to end against moto. The service provider is
//! pysaml2 (`tests/verifiers/saml_sp.py`, its signatures checked by xmlsec1): it makes the
//! requests, configured from the metadata the login function serves, and checks every response
//! as a provider does.

use crate::harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::tokens::app::App;
use shared::tokens::jws::Algorithm;
use shared::tokens::signing_keys::MIN_LEAD;
use std::time::{SystemTime, UNIX_EPOCH};

const WIKI: &str = "https://wiki.example.com";
const ENTITY_ID: &str = "https://wiki.example.com/saml/metadata";
const ACS: &str = "https://wiki.example.com/saml/acs";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// A stack with an RS256 key and the `wiki` app; its metadata as the login function serves it.
async fn wiki(target: Value) -> (TestApp, String) {
    wiki_mapping(target, json!({"groups": {"from": "groups", "prefix": "wiki-", "strip_prefix": true}, "name": {"from": "attribute", "name": "name"}})).await
}

/// [`wiki`] with the claim mapping `claims`.
async fn wiki_mapping(target: Value, claims: Value) -> (TestApp, String) {
    let test = spawn_app().await;
    test.keys().rotate(Algorithm::RS256, MIN_LEAD, now()).await.unwrap_or_else(|e| panic!("{e:#}"));
    let app: App = serde_json::from_value(json!({"id": "wiki", "name": "Wiki", "target": target, "allowed_origins": [WIKI], "claims": claims}))
        .unwrap_or_else(|e| panic!("{e}"));
    test.apps.create(app, None).await.unwrap_or_else(|e| panic!("{e:#}"));
    let metadata = test.send("GET", "/sso/wiki/metadata", &[], None).await;
    assert_eq!(metadata.status, StatusCode::OK, "{}", metadata.body);
    assert_eq!(metadata.header("content-type"), Some("application/samlmetadata+xml"));
    (test, metadata.body)
}

fn target() -> Value {
    json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS})
}

fn provider(metadata: &str, more: Value) -> Value {
    let mut sp = json!({"metadata": metadata, "entity_id": ENTITY_ID, "acs_url": ACS});
    if let (Some(sp), Some(more)) = (sp.as_object_mut(), more.as_object()) {
        sp.extend(more.clone());
    }
    sp
}

/// A request by the HTTP-Redirect binding: its `ID` and the path it sends the browser to.
fn redirect_request(metadata: &str, more: Value) -> (String, String) {
    let mut options = json!({"binding": "redirect"});
    if let (Some(options), Some(more)) = (options.as_object_mut(), more.as_object()) {
        options.extend(more.clone());
    }
    let made = saml_sp("request", &provider(metadata, options)).unwrap_or_else(|e| panic!("{e}"));
    let url = made["url"].as_str().unwrap_or_default();
    let path = url.strip_prefix(API).unwrap_or_else(|| panic!("the request goes to {url}"));
    (made["id"].as_str().unwrap_or_default().to_owned(), path.to_owned())
}

/// The response says the person was authenticated after `since` (Unix seconds) and not in
/// the future: when Cognito checked them, whether it was made at the sign-in, at its handoff or
/// from the session later.
fn authenticated_since(checked: &Value, since: u64) {
    let at = checked["authn_instant"].as_str().unwrap_or_default();
    let (earliest, latest) = (shared::common::time::rfc3339(since.saturating_sub(1)), shared::common::time::rfc3339(now() + 1));
    assert!(earliest.as_str() <= at && at <= latest.as_str(), "AuthnInstant {at} not within {earliest}..{latest}");
}

/// The provider's check of the response the page posts to its consumer service.
fn accepted(metadata: &str, page: &Reply, outstanding: Option<&str>) -> Result<Value, String> {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("action=\"{ACS}\"")), "{}", page.body);
    let response = form_field(&page.body, "SAMLResponse").unwrap_or_else(|| panic!("no SAMLResponse: {}", page.body));
    saml_sp("response", &provider(metadata, json!({"saml_response": response, "outstanding": outstanding.map(|id| vec![id])})))
}

#[tokio::test]
async fn a_service_provider_signs_people_in_and_back_in_from_the_session() {
    let (test, metadata) = wiki(target()).await;
    let sub = test.user("hanako@example.com", |u| u.groups = &["wiki-editors", "staff"]).await;
    let start = now();

    let (id, path) = redirect_request(&metadata, json!({"relay_state": "/pages/42"}));
    let step = test.login_at(&path, "hanako@example.com", PASSWORD).await;
    let page = test.handoff(&step).await;
    assert_eq!(form_field(&page.body, "RelayState").as_deref(), Some("/pages/42"));
    let checked = accepted(&metadata, &page, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked["name_id"], "hanako@example.com");
    assert_eq!(checked["name_id_format"], "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    assert_eq!(checked["in_response_to"], id.as_str());
    assert_eq!(checked["issuer"], API);
    assert_eq!(checked["attributes"], json!({"email": ["hanako@example.com"], "groups": ["editors"], "name": ["Hanako Yamada"]}));
    assert!(checked["session_index"].as_str().is_some_and(|s| s.len() > 20), "{checked}");
    authenticated_since(&checked, start);
    let session_index = checked["session_index"].clone();
    // The same response a second time: the provider has no such request outstanding now.
    let again = accepted(&metadata, &page, None);
    assert!(again.is_ok(), "an unsolicited response is accepted by a provider that allows them");

    // Single sign-on: a new request with the session answers at once.
    let cookie = session_cookie(&page);
    let (second, path) = redirect_request(&metadata, json!({}));
    let entered = test.send("GET", &path, &[("cookie", &cookie)], None).await;
    let checked = accepted(&metadata, &entered, Some(&second)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((checked["in_response_to"].as_str(), checked["name_id"].as_str()), (Some(second.as_str()), Some("hanako@example.com")));
    // The same sign-in: when it was authenticated, its session.
    authenticated_since(&checked, start);
    assert_eq!(checked["session_index"], session_index);
    assert!(form_field(&entered.body, "RelayState").is_none());
    // An answer for one request is not one for another.
    assert!(accepted(&metadata, &entered, Some(&id)).is_err(), "InResponseTo is checked");

    // The user id names the user whatever their email.
    let (test2, metadata2) = wiki(json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS, "name_id": "user_id"})).await;
    let sub2 = test2.user("taro@example.com", |_| {}).await;
    let (id, path) = redirect_request(&metadata2, json!({}));
    let page = test2.handoff(&test2.login_at(&path, "taro@example.com", PASSWORD).await).await;
    let checked = accepted(&metadata2, &page, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (checked["name_id"].as_str(), checked["name_id_format"].as_str()),
        (Some(sub2.as_str()), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"))
    );
    assert_ne!(sub, sub2);
    // No groups the mapping keeps: no `groups` attribute (not one without values).
    assert_eq!(checked["attributes"], json!({"email": ["taro@example.com"], "name": ["Hanako Yamada"]}));
}

/// A response is made when the handoff is redeemed, not carried in it: one with 40 long group
/// names and a 1,000-byte `RelayState` (too large to seal into a handoff) signs in, and the
/// handoff stays small.
#[tokio::test]
async fn a_response_too_large_to_carry_is_made_as_the_handoff_is_redeemed() {
    let (test, metadata) = wiki(target()).await;
    let names: Vec<String> = (0..40).map(|i| format!("wiki-{i:02}-{}", "project-team-with-a-long-descriptive-name-".repeat(2))).collect();
    let groups: &'static [&'static str] = Box::leak(names.iter().map(|n| &*Box::leak(n.clone().into_boxed_str())).collect::<Vec<_>>().into_boxed_slice());
    test.user("many@example.com", |u| u.groups = groups).await;
    let relay_state = "k".repeat(1_000);
    let start = now();

    let (id, path) = redirect_request(&metadata, json!({"relay_state": relay_state}));
    let step = test.login_at(&path, "many@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    let handoff = step.json()["handoff"].as_str().unwrap_or_default().len();
    assert!(handoff > 0 && handoff < 8_192, "the handoff carries no response: {handoff} bytes");
    let page = test.handoff(&step).await;
    assert_eq!(form_field(&page.body, "RelayState").as_deref(), Some(relay_state.as_str()));
    let checked = accepted(&metadata, &page, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    let kept: Vec<&str> = names.iter().map(|n| n.trim_start_matches("wiki-")).collect();
    assert_eq!(checked["attributes"]["groups"], json!(kept));
    assert_eq!(checked["in_response_to"], id.as_str());
    authenticated_since(&checked, start);
    // Spent once, as every handoff.
    let form = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", step.json()["handoff"].as_str().unwrap_or_default()).finish();
    let again = test.post_handoff(&form, &test.browser_cookie()).await;
    assert!(again.body.contains("handoff_used"), "{}", again.body);
}

/// A response the sign-in cannot make (a claim the app requires that the person lacks) is
/// refused at the sign-in, before any session, though the response itself is made later.
#[tokio::test]
async fn a_response_that_cannot_be_made_is_refused_before_any_session() {
    let (test, metadata) = wiki_mapping(target(), json!({"department": {"from": "attribute", "name": "custom:department", "required": true}})).await;
    test.user("hanako@example.com", |_| {}).await;
    let (_, path) = redirect_request(&metadata, json!({}));
    let step = test.login_at(&path, "hanako@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", step.body);
    assert_eq!(step.json()["error"], "profile_incomplete");
    assert_eq!(test.items_under("SESSION#").await, 0, "refused before any session");
}

/// A response that cannot be made when the handoff is brought (here the app removed after the
/// sign-in, on an instance that has not cached it) leaves the handoff unspent: once the app is
/// back, the same handoff signs in. A revoked account's handoff is refused as such.
#[tokio::test]
async fn a_response_not_made_at_the_handoff_leaves_it_to_bring_again() {
    let (test, metadata) = wiki(target()).await;
    let hanako = test.user("hanako@example.com", |_| {}).await;
    let (id, path) = redirect_request(&metadata, json!({}));
    let step = test.login_at(&path, "hanako@example.com", PASSWORD).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    let wiki_id = shared::tokens::app::AppId::parse("wiki").unwrap_or_else(|e| panic!("{e}"));
    let app = test.apps.get(&wiki_id).await.unwrap_or_else(|e| panic!("{e:#}"));
    test.apps.remove(&wiki_id, false).await.unwrap_or_else(|e| panic!("{e:#}"));

    let form = url::form_urlencoded::Serializer::new(String::new()).append_pair("handoff", step.json()["handoff"].as_str().unwrap_or_default()).finish();
    let refused = test.another_instance().post_handoff(&form, &test.browser_cookie()).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert!(refused.headers.get("set-cookie").is_none(), "no session cookie");

    test.apps.create(App { version: 0, ..app }, None).await.unwrap_or_else(|e| panic!("{e:#}"));
    let page = test.another_instance().post_handoff(&form, &test.browser_cookie()).await;
    let checked = accepted(&metadata, &page, Some(&id)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(checked["name_id"], "hanako@example.com");
    let again = test.another_instance().post_handoff(&form, &test.browser_cookie()).await;
    assert!(again.body.contains("handoff_used"), "{}", again.body);

    // A handoff whose account was revoked meanwhile (its sweep missed the session) is refused
    // as such, and makes nothing.
    let (_, path) = redirect_request(&metadata, json!({}));
    let step = test.login_at(&path, "hanako@example.com", PASSWORD).await;
    test.revoke_without_sweep(&hanako).await;
    let refused = test.handoff(&step).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("account_deactivated"), "{}", refused.body);
    assert!(form_field(&refused.body, "SAMLResponse").is_none());
}

#[tokio::test]
async fn the_post_binding_idp_initiated_sign_in_force_authn_and_is_passive() {
    let (test, metadata) = wiki(json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS, "idp_initiated": true})).await;
    test.user("hanako@example.com", |_| {}).await;

    // HTTP-POST: answered with the same request by the HTTP-Redirect binding (a GET, which
    // carries the session cookie).
    let made = saml_sp("request", &provider(&metadata, json!({"binding": "post", "relay_state": "r-1"}))).unwrap_or_else(|e| panic!("{e}"));
    let fields = made["fields"].as_object().cloned().unwrap_or_default();
    let form =
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()))).finish();
    let posted = test.send("POST", "/sso/wiki", &[("content-type", "application/x-www-form-urlencoded")], Some(form)).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let location = posted.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with("?SAMLRequest=") && location.ends_with("&RelayState=r-1"), "{location}");
    let step = test.login_at(&format!("/sso/wiki{location}"), "hanako@example.com", PASSWORD).await;
    let page = test.handoff(&step).await;
    let id = made["id"].as_str().unwrap_or_default();
    assert_eq!(accepted(&metadata, &page, Some(id)).map(|c| c["in_response_to"].clone()), Ok(json!(id)));
    assert_eq!(form_field(&page.body, "RelayState").as_deref(), Some("r-1"));
    let cookie = session_cookie(&page);

    // IdP-initiated (the app allows it): no request; the response answers none and goes to the
    // registered service, with a RelayState that is one of the provider's pages.
    for relay_state in ["/home", "https://wiki.example.com/pages/1"] {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("RelayState", relay_state).finish();
        let entered = test.send("GET", &format!("/sso/wiki?{query}"), &[("cookie", &cookie)], None).await;
        let checked = accepted(&metadata, &entered, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked["in_response_to"], Value::Null);
        assert_eq!(form_field(&entered.body, "RelayState").as_deref(), Some(relay_state));
        assert!(accepted(&metadata, &entered, Some(id)).is_err(), "a provider expecting an answer refuses an unsolicited one");
    }
    // Our link is no open redirect through a provider that follows its RelayState.
    for relay_state in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"] {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("RelayState", relay_state).finish();
        let refused = test.send("GET", &format!("/sso/wiki?{query}"), &[("cookie", &cookie)], None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{relay_state}: {}", refused.body);
    }
    // A RelayState of the provider's own request is given back as it came, written into the
    // page as text.
    let hostile = "\"><script>alert(1)</script>";
    let (_, path) = redirect_request(&metadata, json!({"relay_state": hostile}));
    let entered = test.send("GET", &path, &[("cookie", &cookie)], None).await;
    assert!(!entered.body.contains("<script>alert") && entered.body.contains("&lt;script&gt;alert"), "{}", entered.body);

    // ForceAuthn: the form, whatever the session.
    let (_, path) = redirect_request(&metadata, json!({"force_authn": true}));
    let forced = test.send("GET", &path, &[("cookie", &cookie)], None).await;
    assert_eq!(forced.status, StatusCode::FOUND, "{}", forced.body);
    assert!(forced.location_param("ctx").is_some());

    // IsPassive: with the session, the answer; without, NoPassive, and no page.
    let (passive, path) = redirect_request(&metadata, json!({"is_passive": true}));
    assert!(accepted(&metadata, &test.send("GET", &path, &[("cookie", &cookie)], None).await, Some(&passive)).is_ok());
    let (passive, path) = redirect_request(&metadata, json!({"is_passive": true}));
    let refused = accepted(&metadata, &test.send("GET", &path, &[], None).await, Some(&passive));
    assert!(refused.as_ref().is_err_and(|e| e.contains("NoPassive")), "{refused:?}");
}

#[tokio::test]
async fn requests_that_would_send_the_answer_elsewhere_are_refused() {
    use base64::Engine;
    let (test, metadata) = wiki(target()).await;
    let (_, path) = redirect_request(&metadata, json!({}));
    let url = url::Url::parse(&format!("{API}{path}")).unwrap_or_else(|e| panic!("{e}"));
    let encoded = url.query_pairs().find(|(k, _)| k == "SAMLRequest").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let deflated = base64::engine::general_purpose::STANDARD.decode(&encoded).unwrap_or_default();
    let xml = String::from_utf8(miniz_oxide::inflate::decompress_to_vec(&deflated).unwrap_or_default()).unwrap_or_default();
    assert!(xml.contains("AuthnRequest"), "{xml}");
    let send = |xml: String| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6));
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("SAMLRequest", &encoded).finish();
        let test = &test;
        async move { test.send("GET", &format!("/sso/wiki?{query}"), &[], None).await }
    };
    let acs = format!("AssertionConsumerServiceURL=\"{ACS}\"");
    let hostile = [
        (xml.replace(&acs, "AssertionConsumerServiceURL=\"https://evil.example/acs\""), "another consumer service"),
        (xml.replace(&acs, &format!("AssertionConsumerServiceURL=\"{ACS}/\"")), "a consumer service with a trailing slash"),
        (xml.replace(ENTITY_ID, "https://evil.example/saml"), "another issuer"),
        (xml.replace(&format!("{API}/sso/wiki"), &format!("{API}/sso/other")), "another destination"),
        (xml.replace("bindings:HTTP-POST", "bindings:HTTP-Artifact"), "another binding for the answer"),
        (format!("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}", xml.replacen(ENTITY_ID, "&x;", 1)), "an external entity"),
        (xml.replace("Version=\"2.0\"", "Version=\"1.0\""), "another version"),
        (xml.replacen("ID=\"", "ID=\"1", 1), "an ID that is not one"),
    ];
    for (changed, why) in hostile {
        assert_ne!(changed, xml, "{why}");
        let xml = changed;
        let reply = send(xml).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{why}: {}", reply.body);
        assert!(reply.body.contains("app_request_invalid") || reply.body.contains("sign-in request"), "{why}: {}", reply.body);
    }
    // A request names the provider, but anyone can write one: its RelayState, when it names a
    // place, must be one of the provider's pages too (a provider that follows it is no open
    // redirect through a link to us).
    for relay_state in ["https://evil.example/", "//evil.example/", "/%2F%2Fevil.example"] {
        let (_, path) = redirect_request(&metadata, json!({"relay_state": relay_state}));
        let reply = test.send("GET", &path, &[], None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{relay_state}: {}", reply.body);
    }
    // The registered consumer service written another way is the same one.
    let same = xml.replace(&acs, "AssertionConsumerServiceURL=\"https://WIKI.example.com:443/saml/acs\"");
    assert_ne!(same, xml);
    assert_eq!(send(same).await.status, StatusCode::FOUND, "the same URL once parsed");
    for (query, why) in [
        ("".to_owned(), "no request, and the app allows no IdP-initiated sign-in"),
        ("RelayState=%2Fhome".to_owned(), "the same with a RelayState"),
        ("SAMLRequest=%%%".to_owned(), "not Base64"),
        (format!("SAMLRequest={}", "A".repeat(20_000)), "too large"),
        (format!("RelayState={}", "r".repeat(1025)), "a RelayState too long"),
    ] {
        let reply = test.send("GET", &format!("/sso/wiki?{query}"), &[], None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{why}: {}", reply.body);
    }
    // A post without a request, or not a form.
    let reply = test.send("POST", "/sso/wiki", &[("content-type", "application/x-www-form-urlencoded")], Some("RelayState=x".into())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = test.send("POST", "/sso/wiki", &[("content-type", "application/json")], Some("{}".into())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // Metadata only for a SAML app.
    assert_eq!(test.send("GET", &format!("/sso/{APP}/metadata"), &[], None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(test.send("GET", "/sso/nope/metadata", &[], None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_response_changed_on_the_way_is_refused_by_the_provider() {
    use base64::Engine;
    let (test, metadata) = wiki(target()).await;
    test.user("hanako@example.com", |_| {}).await;
    test.user("mallory@example.com", |_| {}).await;
    let (id, path) = redirect_request(&metadata, json!({}));
    let page = test.handoff(&test.login_at(&path, "mallory@example.com", PASSWORD).await).await;
    let response = form_field(&page.body, "SAMLResponse").unwrap_or_default();
    let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&response).unwrap_or_default()).unwrap_or_default();
    let check = |xml: String| {
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        saml_sp("response", &provider(&metadata, json!({"saml_response": encoded, "outstanding": [id]})))
    };
    assert!(check(xml.clone()).is_ok());
    for (changed, why) in [
        (xml.replace("mallory@example.com", "hanako@example.com"), "another person"),
        (xml.replace(ENTITY_ID, "https://other.example.com/saml"), "another audience"),
        (xml.replacen("<ds:SignatureValue>", "<ds:SignatureValue>A", 1), "a broken signature"),
    ] {
        assert_ne!(changed, xml, "{why}");
        assert!(check(changed).is_err(), "{why}");
    }
}

/// A consumer service the bridge would post assertions to elsewhere than a provider's own
/// HTTPS page, or an entity id that is none, is refused when the app is made or changed, and
/// nothing is written.
#[tokio::test]
async fn a_hostile_registration_is_refused() {
    let (test, _) = wiki(target()).await;
    let long = format!("{WIKI}/{}", "a".repeat(500));
    let hostile_acs = [
        "http://wiki.example.com/acs",
        "http://169.254.169.254/latest/meta-data/",
        "javascript:alert(1)",
        "/acs",
        "//wiki.example.com/acs",
        "https://wiki.example.com/acs#x",
        "https://me:pw@wiki.example.com/acs",
        "https://wiki.example.com\\@evil.example/acs",
        &long,
    ];
    let targets = hostile_acs.iter().map(|acs| json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": acs})).chain([
        json!({"kind": "saml", "entity_id": "", "acs_url": ACS}),
        json!({"kind": "saml", "entity_id": "a\nb", "acs_url": ACS}),
        json!({"kind": "saml", "entity_id": "e".repeat(1025), "acs_url": ACS}),
        json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS, "lifetime_seconds": 7200}),
        json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS, "name_id": "transient"}),
        json!({"kind": "saml", "entity_id": ENTITY_ID, "acs_url": ACS, "algorithm": "HS256"}),
        json!({"kind": "saml", "entity_id": ENTITY_ID}),
    ]);
    let stored = test.apps.get(&shared::tokens::app::AppId::parse("wiki").unwrap_or_else(|e| panic!("{e}"))).await.unwrap_or_else(|e| panic!("{e:#}"));
    for target in targets {
        let app = serde_json::from_value::<App>(json!({"id": "hostile", "name": "x", "target": target, "allowed_origins": [WIKI]}));
        let Ok(app) = app else { continue };
        assert!(test.apps.create(app.clone(), None).await.is_err(), "made with {target}");
        assert!(test.apps.update(App { id: stored.id.clone(), version: stored.version, ..app }).await.is_err(), "changed to {target}");
    }
    assert!(test.apps.get(&shared::tokens::app::AppId::parse("hostile").unwrap_or_else(|e| panic!("{e}"))).await.is_err(), "nothing made");
    let kept = test.apps.get(&stored.id).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((kept.version, kept.target), (stored.version, stored.target.clone()), "nothing changed");
    // A secret for an app that signs with our key is refused too.
    let secret = secrecy::SecretString::from("s".repeat(32));
    let app: App =
        serde_json::from_value(json!({"id": "hostile", "name": "x", "target": target(), "allowed_origins": [WIKI]})).unwrap_or_else(|e| panic!("{e}"));
    assert!(test.apps.create(app, Some(&secret)).await.is_err(), "a SAML app shares no secret");
}
