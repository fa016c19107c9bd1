//! Consent against moto: documents published with `bridge-admin consent`'s rules; a required
//! one asked before any token at a password sign-in, a live session's entry and sign-up;
//! declining ends the sign-in; each decision recorded with its `user.consent_given` event and
//! mirrored into the person's `custom:consents`, so a warm sign-in of a person who accepted
//! makes no call for it; a new version asked again; exports per person and per version.

use crate::harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::adapters::cognito::directory::CognitoDirectory;
use shared::adapters::dynamo::consents::DynamoConsents;
use shared::admin::audit::Actor;
use shared::admin::consent::{ConsentAdmin, Draft};
use shared::consent::document::{ConsentDocument, DocumentId, Localized};
use shared::tokens::app::{AppId, SignUp};
use std::sync::Arc;

const EMAIL: &str = "hanako@example.com";

fn admin(app: &TestApp) -> ConsentAdmin {
    let dynamo = aws_sdk_dynamodb::Client::new(&app.sdk);
    let store = Arc::new(DynamoConsents::new(dynamo.clone(), &app.stack.table));
    let audit = Arc::new(shared::adapters::dynamo::audit::DynamoAudit::new(dynamo, &app.stack.table));
    let pool = Arc::new(CognitoDirectory::new(aws_sdk_cognitoidentityprovider::Client::new(&app.sdk), &app.stack.user_pool_id));
    ConsentAdmin { store, audit, pool }
}

pub(crate) async fn publish(app: &TestApp, id: &str, required: bool) -> ConsentDocument {
    let draft = Draft {
        id: DocumentId::parse(id).unwrap(),
        version: None,
        required: Some(required),
        title: Localized { ja: format!("{id}（日本語）"), en: format!("{id} (English)") },
        url: Localized { ja: format!("https://acme.example.com/ja/{id}"), en: format!("https://acme.example.com/en/{id}") },
    };
    admin(app).publish(&Actor::cli(), draft, 1_700_000_000).await.unwrap()
}

/// The login function started again (a cold instance: nothing cached).
fn restarted(app: TestApp) -> TestApp {
    TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..app }
}

async fn mirror_of(app: &TestApp, email: &str) -> Option<String> {
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let user = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(email).send().await.unwrap();
    user.user_attributes().iter().find(|a| a.name() == "custom:consents").and_then(|a| a.value().map(str::to_owned))
}

pub(crate) async fn answer(app: &TestApp, flow: &str, accepted: &[&str]) -> Reply {
    let headers = [("content-type", "application/json"), ("origin", FORM), ("user-agent", "Consent-Test/1.0")];
    app.send("POST", "/consent", &headers, Some(json!({"flow": flow, "accepted": accepted}).to_string())).await
}

fn ids(step: &Value) -> Vec<(String, bool, bool)> {
    let docs = step["documents"].as_array().cloned().unwrap_or_default();
    docs.iter().map(|d| (d["id"].as_str().unwrap().to_owned(), d["required"].as_bool().unwrap(), d["accepted"].as_bool().unwrap())).collect()
}

#[tokio::test]
async fn required_terms_are_asked_before_any_token_recorded_with_their_event_and_then_cost_nothing() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    publish(&app, "terms", true).await;
    publish(&app, "marketing", false).await;

    let step = app.login(EMAIL, PASSWORD).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    let step = step.json();
    assert_eq!(step["status"], "consent", "{step}");
    assert!(step.get("handoff").is_none(), "no token before consent");
    assert_eq!(ids(&step), [("terms".into(), true, false), ("marketing".into(), false, false)]);
    assert_eq!(step["documents"][0]["title"]["ja"], "terms（日本語）");
    assert_eq!(step["documents"][0]["url"]["en"], "https://acme.example.com/en/terms");
    assert_eq!(app.items_under("SESSION#").await, 0, "no session before consent");
    let flow = step["flow"].as_str().unwrap();

    // Declined: refused, nothing recorded, no session.
    let declined = answer(&app, flow, &["marketing"]).await;
    assert_eq!((declined.status, declined.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("consent_required")), "{}", declined.body);
    assert_eq!(app.items_under("CONSENT#").await, 0);
    assert_eq!(app.items_under("SESSION#").await, 0);
    // Malformed and tampered answers: clear errors, nothing recorded.
    let bad = [
        json!({"flow": flow, "accepted": "terms"}),
        json!({"flow": flow}),
        json!({"flow": flow, "accepted": ["terms"], "extra": 1}),
        json!({"flow": format!("{flow}x"), "accepted": ["terms"]}),
        json!({"flow": flow, "accepted": vec!["terms"; 40]}),
    ];
    for body in bad {
        let reply = app.post("/consent", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.body);
        assert!(reply.json()["error"].is_string(), "{}", reply.body);
    }
    let show = app.post("/consent/show", json!({"flow": flow})).await;
    assert_eq!(ids(&show.json()), ids(&step), "the step shown again");

    // Accepted: the sign-in goes on to the app.
    let accepted = answer(&app, flow, &["terms"]).await;
    let page = app.handoff(&accepted).await;
    // One flow, one sign-in: the same step answered again (a replay, a page reopened from the
    // browser's history) goes no further.
    let replayed = answer(&app, flow, &["terms"]).await;
    assert_eq!((replayed.status, replayed.json()["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_flow")), "{}", replayed.body);
    assert!(page.body.contains(&format!("action=\"{ZENDESK}/access/jwt\"")), "{}", page.body);
    let person = admin(&app).of_person(EMAIL).await.unwrap();
    let records: Vec<_> = person.records.iter().map(|r| (r.document.as_str(), r.version, r.accepted, r.via.as_str())).collect();
    assert_eq!(records, [("terms", 1, true, "sign_in")], "marketing never given: nothing to withdraw");
    assert_eq!(person.records[0].user_agent.as_deref(), Some("Consent-Test/1.0"));
    assert_eq!(person.records[0].email.as_deref(), Some(EMAIL));
    let events: Vec<Value> = app.events().await.iter().filter(|e| e.to_value()["type"] == "user.consent_given").map(|e| e.to_value()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (&events[0]["detail"]["document"], &events[0]["detail"]["accepted"], &events[0]["user"]["email"]),
        (&json!("terms"), &json!(true), &json!(EMAIL))
    );
    let mirror = mirror_of(&app, EMAIL).await.expect("mirrored into Cognito");
    assert!(mirror.starts_with("terms=1~"), "{mirror}");
    // The export of the version names the person.
    let export = admin(&app).of_version(&DocumentId::parse("terms").unwrap(), 1).await.unwrap();
    assert_eq!(export.iter().map(|r| r.username.as_str()).collect::<Vec<_>>(), [person.username.as_str()]);

    // Warm, the consent check adds no call: the mirror rides in the ID token.
    app.calls.take();
    let warm = app.login(EMAIL, PASSWORD).await;
    assert_eq!(warm.json()["status"], "signed_in", "{}", warm.body);
    let calls = app.calls.take();
    assert!(!calls.iter().any(|c| c.ends_with(".Query") || c.ends_with("AdminUpdateUserAttributes")), "{calls:?}");

    // A new version: asked again at the next sign-in (a cold instance reads it at once).
    publish(&app, "terms", true).await;
    let app = restarted(app);
    let step = app.login(EMAIL, PASSWORD).await.json();
    assert_eq!(step["status"], "consent", "{step}");
    assert_eq!(step["documents"][0]["version"], 2);
    assert_eq!(ids(&step), [("terms".into(), true, false), ("marketing".into(), false, false)]);
}

/// Whoever had the password and was paused at the terms when the person reset it opens nothing
/// with that step afterwards: a reset holds every sign-in authenticated before it
/// (`SessionStore::settle`, by the ID token's `auth_time`); the person's own goes through.
#[tokio::test]
async fn a_sign_in_paused_at_the_terms_before_a_password_reset_opens_nothing_after_it() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    publish(&app, "terms", true).await;
    let paused = app.login(EMAIL, PASSWORD).await.json();
    assert_eq!(paused["status"], "consent", "{paused}");
    let ctx = app.ctx().await;
    assert_eq!(app.post("/password/forgot", json!({"ctx": ctx, "email": EMAIL})).await.status, StatusCode::OK);
    let code = app.emailed_code(EMAIL);
    let reset = app.post("/password/reset", json!({"ctx": ctx, "email": EMAIL, "code": code, "new_password": "Reset-Passw0rd!"})).await.json();
    assert_eq!(reset["status"], "consent", "the person's own sign-in, at the terms: {reset}");
    let theirs = answer(&app, reset["flow"].as_str().unwrap(), &["terms"]).await;
    assert_eq!(theirs.json()["status"], "signed_in", "{}", theirs.body);
    // Later than the hold's own seconds: what refuses the step is when it was authenticated.
    wait_out_credentials_hold().await;
    let resumed = answer(&app, paused["flow"].as_str().unwrap(), &["terms"]).await;
    assert_eq!((resumed.status, resumed.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("account_deactivated")), "{}", resumed.body);
    assert_eq!(app.items_under("SESSION#").await, 1, "the person's only");
    assert_eq!(app.items_under("CONSENT#").await, 1, "the person's decision only");
}

#[tokio::test]
async fn a_live_session_reaches_no_app_until_the_person_accepts_the_new_terms() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    let signed_in = app.login(EMAIL, PASSWORD).await;
    let cookie = session_cookie(&app.handoff(&signed_in).await);
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "single sign-on before any document");

    publish(&app, "terms", true).await;
    let app = restarted(app);
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::FOUND, "{}", sso.body);
    assert!(sso.location_param("ctx").is_some(), "to the form: a sign-in asks");
    let step = app.login(EMAIL, PASSWORD).await.json();
    assert_eq!(step["status"], "consent");
    let cookie = session_cookie(&app.handoff(&answer(&app, step["flow"].as_str().unwrap(), &["terms"]).await).await);
    // The new session carries the mirror: single sign-on is one read again (the session with its
    // user's revocation).
    app.calls.take();
    let sso = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert_eq!(sso.status, StatusCode::OK, "{}", sso.body);
    assert_eq!(app.calls.take(), ["DynamoDB_20120810.BatchGetItem"]);
}

#[tokio::test]
async fn a_mirror_someone_wrote_into_cognito_themselves_does_not_pass() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    publish(&app, "terms", true).await;
    // The app client does not let people write custom attributes in AWS; moto does not check.
    // Whatever gets there without the bridge's tag counts for nothing.
    for forged in ["terms=1", "terms=1~AAAAAAAAAAAAAAAAAAAAAA", "terms=99~x"] {
        let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
        let attribute = aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name("custom:consents").value(forged).build().unwrap();
        idp.admin_update_user_attributes().user_pool_id(&app.stack.user_pool_id).username(EMAIL).user_attributes(attribute).send().await.unwrap();
        assert_eq!(app.login(EMAIL, PASSWORD).await.json()["status"], "consent", "{forged}");
    }
}

#[tokio::test]
async fn sign_up_shows_the_documents_requires_the_terms_and_records_them_at_the_first_sign_in() {
    let app = spawn_app().await;
    let mut demo = app.apps.get(&AppId::parse(APP).unwrap()).await.unwrap();
    demo.sign_up = SignUp::Open;
    app.apps.update(demo).await.unwrap();
    publish(&app, "terms", true).await;
    publish(&app, "marketing", false).await;

    let listed = app.send("GET", "/consent/documents", &[("origin", FORM)], None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.header("access-control-allow-origin"), Some(FORM), "a simple GET the form's script may read");
    assert_eq!(ids(&listed.json()), [("terms".into(), true, false), ("marketing".into(), false, false)], "required first");
    let elsewhere = app.send("GET", "/consent/documents", &[("origin", "https://evil.example")], None).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);

    let ctx = app.ctx().await;
    let account =
        |accepted: &[&str]| json!({"ctx": ctx, "email": "new@example.com", "password": PASSWORD, "name": "New Person", "language": "en", "accepted": accepted});
    let refused = app.post("/signup", account(&["marketing"])).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("consent_required")), "{}", refused.body);
    let started = app.post("/signup", account(&["terms", "marketing"])).await;
    assert_eq!(started.json()["status"], "confirm_sign_up", "{}", started.body);
    let code = app.emailed_code("new@example.com");
    let confirmed = app.post("/signup/confirm", json!({"flow": started.json()["flow"], "code": code, "password": PASSWORD})).await;
    assert_eq!(confirmed.json()["status"], "signed_in", "no second ask: {}", confirmed.body);
    let person = admin(&app).of_person("new@example.com").await.unwrap();
    let mut records: Vec<_> = person.records.iter().map(|r| (r.document.as_str(), r.accepted, r.via.as_str())).collect();
    records.sort();
    assert_eq!(records, [("marketing", true, "sign_up"), ("terms", true, "sign_up")]);
    assert!(mirror_of(&app, "new@example.com").await.unwrap().starts_with("marketing=1,terms=1~"));
    let standing: Vec<_> = person.current.iter().map(|s| (s.document.as_str(), s.accepted_version)).collect();
    assert_eq!(standing, [("marketing", Some(1)), ("terms", Some(1))]);
}

#[tokio::test]
async fn publishing_checks_documents_and_is_audited() {
    let app = spawn_app().await;
    let admin = admin(&app);
    let draft = |url: &str| Draft {
        id: DocumentId::parse("terms").unwrap(),
        version: None,
        required: Some(true),
        title: Localized { ja: "利用規約".into(), en: "Terms of service".into() },
        url: Localized { ja: url.into(), en: "https://acme.example.com/terms".into() },
    };
    for bad in ["http://acme.example.com/terms", "javascript:alert(1)", "not a url"] {
        let refused = admin.publish(&Actor::cli(), draft(bad), 1).await;
        assert!(matches!(refused, Err(shared::admin::AdminError::Invalid(_))), "{bad}: {refused:?}");
    }
    let first = admin.publish(&Actor::cli(), draft("https://acme.example.com/ja/terms"), 1).await.unwrap();
    let second = admin.publish(&Actor::cli(), Draft { required: None, ..draft("https://acme.example.com/ja/terms") }, 2).await.unwrap();
    assert_eq!((first.version, second.version), (1, 2));
    assert!(second.required, "required as the version before unless told");
    assert_eq!(admin.list().await.unwrap().len(), 2);
    assert!(app.event_types().await.iter().filter(|t| *t == "admin.consent.published").count() == 2);
    for n in 0..9 {
        publish(&app, &format!("doc{n}"), false).await;
    }
    let too_many = admin.publish(&Actor::cli(), Draft { id: DocumentId::parse("one-more").unwrap(), ..draft("https://acme.example.com/x") }, 3).await;
    assert!(matches!(too_many, Err(shared::admin::AdminError::Invalid(_))), "{too_many:?}");
}

#[tokio::test]
async fn each_consent_step_makes_only_the_aws_calls_it_needs() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    app.user("warm@example.com", |_| {}).await;
    publish(&app, "terms", true).await;
    // A first sign-in loads what every sign-in shares (the documents among them).
    let first = app.login("warm@example.com", PASSWORD).await.json();
    answer(&app, first["flow"].as_str().unwrap(), &["terms"]).await;
    let step = |what: &str| {
        let mut calls = app.calls.take();
        calls.sort();
        println!("{what:>28}: {} AWS calls {calls:?}", calls.len());
        calls
    };
    step("warm-up");
    let asked = app.login(EMAIL, PASSWORD).await.json();
    // Beside InitiateAuth the email's history (a person's first sign-in reads it again by user
    // name); then, the mirror lacking the terms, the person's records (the truth) before asking.
    let asking =
        ["AWSCognitoIdentityProviderService.AdminInitiateAuth", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.Query"];
    assert_eq!(step("POST /login (asked)"), asking);
    let accepted = answer(&app, asked["flow"].as_str().unwrap(), &["terms"]).await;
    assert_eq!(accepted.json()["status"], "signed_in");
    // The step spent beside the account read again (AdminGetUser and its groups, side by
    // side); the history and the records read again; whether a hold refuses the sign-in (a
    // change of credentials since: then nothing is recorded); the decision with its event, then
    // the mirror; the session.
    let recorded = [
        "AWSCognitoIdentityProviderService.AdminGetUser",
        "AWSCognitoIdentityProviderService.AdminListGroupsForUser",
        "AWSCognitoIdentityProviderService.AdminUpdateUserAttributes",
        "DynamoDB_20120810.BatchGetItem",
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.Query",
        "DynamoDB_20120810.TransactWriteItems",
        "DynamoDB_20120810.TransactWriteItems",
    ];
    assert_eq!(step("POST /consent"), recorded);
    app.handoff(&accepted).await;
    step("handoff");
    // Warm and accepted: the same calls as with no documents at all.
    assert_eq!(app.login(EMAIL, PASSWORD).await.json()["status"], "signed_in");
    assert_eq!(
        step("POST /login (accepted)"),
        ["AWSCognitoIdentityProviderService.AdminInitiateAuth", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.TransactWriteItems"]
    );
}

#[tokio::test]
async fn an_optional_consent_is_withdrawn_and_given_again_on_the_account_page() {
    let app = spawn_app().await;
    app.user(EMAIL, |_| {}).await;
    publish(&app, "terms", true).await;
    publish(&app, "marketing", false).await;
    let step = app.login(EMAIL, PASSWORD).await.json();
    let done = answer(&app, step["flow"].as_str().unwrap(), &["terms", "marketing"]).await;
    let cookie = session_cookie(&app.handoff(&done).await);
    let page = app.send("GET", "/account", &[("cookie", &cookie)], None).await;
    let grant = page.header("location").unwrap().split_once("#grant=").unwrap().1.to_owned();

    let listed = app.post("/account/consents", json!({"grant": grant})).await.json();
    assert_eq!(ids(&listed), [("terms".into(), true, true), ("marketing".into(), false, true)], "{listed}");
    // Withdrawn: recorded with its event (via the account page), the mirror follows.
    let withdrawn = app.post("/account/consents/decide", json!({"grant": grant, "document": "marketing", "accepted": false})).await;
    assert_eq!(withdrawn.json()["status"], "recorded", "{}", withdrawn.body);
    let listed = app.post("/account/consents", json!({"grant": grant})).await.json();
    assert_eq!(ids(&listed), [("terms".into(), true, true), ("marketing".into(), false, false)]);
    let events = app.events().await;
    let decided: Vec<_> = events.iter().filter(|e| e.kind == shared::events::EventType::UserConsentGiven && e.detail["via"] == "account").collect();
    assert_eq!(decided.len(), 1);
    assert_eq!((decided[0].detail["document"].as_str(), &decided[0].detail["accepted"]), (Some("marketing"), &json!(false)));
    assert!(!mirror_of(&app, EMAIL).await.unwrap().contains("marketing"), "the mirror follows the records");
    // The same decision again records nothing; given again, it is.
    let before = app.items_under("CONSENT#").await;
    app.post("/account/consents/decide", json!({"grant": grant, "document": "marketing", "accepted": false})).await;
    assert_eq!(app.items_under("CONSENT#").await, before, "no change, no record");
    app.post("/account/consents/decide", json!({"grant": grant, "document": "marketing", "accepted": true})).await;
    assert!(mirror_of(&app, EMAIL).await.unwrap().contains("marketing=1"));

    // A required document is not withdrawn here; an unknown one is no document; another
    // person's grant, or none, decides nothing.
    for (body, status) in [
        (json!({"grant": grant, "document": "terms", "accepted": false}), StatusCode::BAD_REQUEST),
        (json!({"grant": grant, "document": "nothing", "accepted": false}), StatusCode::BAD_REQUEST),
        (json!({"grant": grant, "document": "marketing", "accepted": "no"}), StatusCode::BAD_REQUEST),
        (json!({"grant": "a.b", "document": "marketing", "accepted": false}), StatusCode::UNAUTHORIZED),
    ] {
        let refused = app.post("/account/consents/decide", body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
    }
    assert_eq!(ids(&app.post("/account/consents", json!({"grant": grant})).await.json())[0], ("terms".into(), true, true), "the terms stand");

    // Another person's grant decides for that person only.
    app.user("haruka@example.com", |_| {}).await;
    let step = app.login("haruka@example.com", PASSWORD).await.json();
    let done = answer(&app, step["flow"].as_str().unwrap(), &["terms"]).await;
    let theirs = session_cookie(&app.handoff(&done).await);
    let page = app.send("GET", "/account", &[("cookie", &theirs)], None).await;
    let their_grant = page.header("location").unwrap().split_once("#grant=").unwrap().1.to_owned();
    let mine = app.post("/account/consents", json!({"grant": grant})).await.body;
    app.post("/account/consents/decide", json!({"grant": their_grant, "document": "marketing", "accepted": false})).await;
    app.post("/account/consents/decide", json!({"grant": their_grant, "document": "marketing", "accepted": true})).await;
    assert_eq!(app.post("/account/consents", json!({"grant": grant})).await.body, mine, "hanako's decisions are hers");
    assert_eq!(ids(&app.post("/account/consents", json!({"grant": their_grant})).await.json())[1], ("marketing".into(), false, true));

    // Decisions are counted: toggling without end is refused before it fills the records.
    let mut refused_at = None;
    for i in 0..30 {
        let reply = app.post("/account/consents/decide", json!({"grant": grant, "document": "marketing", "accepted": i % 2 == 1})).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(i);
            break;
        }
    }
    assert!(refused_at.is_some_and(|i| i < 20), "{refused_at:?}");
}
