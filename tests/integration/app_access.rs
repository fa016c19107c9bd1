//! An app's access (who may sign in to it) against moto: an app that lists Cognito groups and
//! organisations admits only their people, at every way in: a password sign-in (passwordless
//! ones pass the same check, `SignInPorts::assess`), a corporate one (`corporate.rs`), and a live
//! session's entry. Anyone else signing in gets `403 not_assigned`, recorded as a failed
//! sign-in, with no token and no session; a session's entry goes to the form.

use crate::harness::*;
use http::StatusCode;
use shared::events::EventType;
use shared::tokens::app::{Access, AppId};

#[tokio::test]
async fn an_app_that_lists_groups_and_organisations_admits_only_their_people_at_every_way_in() {
    use bridge_admin::orgs::Orgs;
    use shared::directory::org::OrgPolicies;
    let app = spawn_app().await;
    let orgs = Orgs::new(&app.sdk, &app.stack.table, "bridge-test");
    let org = orgs.create("Corp", &["corp.example".to_owned()], OrgPolicies { password_sign_in: true, ..Default::default() }).await.unwrap();
    let other_org = orgs.create("Other", &["other.example".to_owned()], OrgPolicies { password_sign_in: true, ..Default::default() }).await.unwrap();
    app.user("agent@example.com", |u| u.groups = &["agents"]).await;
    app.user("hanako@example.com", |u| u.groups = &["agents-eu", "Agents"]).await;
    app.user("taro@corp.example", |u| u.org = Some(org.id.as_str())).await;
    app.user("jiro@other.example", |u| u.org = Some(other_org.id.as_str())).await;
    // Hanako signs in while the app admits everyone: a live session.
    let cookie = session_cookie(&app.handoff(&app.login("hanako@example.com", PASSWORD).await).await);

    let id = AppId::parse(APP).unwrap();
    let mut demo = app.apps.get(&id).await.unwrap();
    demo.access = Access { groups: vec!["agents".into()], organisations: vec![org.id.clone()] };
    app.apps.update(demo).await.unwrap();
    let app = TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..app };

    // A password sign-in of someone it does not list (groups compared exactly, another
    // organisation): refused after Cognito's check, nothing opened.
    let sessions = app.items_under("SESSION#").await;
    for email in ["hanako@example.com", "jiro@other.example"] {
        let refused = app.login(email, PASSWORD).await;
        assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("not_assigned")), "{email}: {}", refused.body);
        assert!(refused.json()["handoff"].is_null() && refused.json()["message"].as_str().is_some_and(|m| m.contains("access")), "{}", refused.body);
    }
    assert_eq!(app.items_under("SESSION#").await, sessions, "no session opened");
    // Hanako's live session enters no more: to the form (a fresh sign-in reads her groups as
    // they are now, and is refused as above), no token.
    let entry = app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await;
    assert!(entry.status == StatusCode::FOUND && entry.location_param("ctx").is_some(), "{} {}", entry.status, entry.body);
    // The people it lists: by group, by organisation.
    for email in ["agent@example.com", "taro@corp.example"] {
        let admitted = app.login(email, PASSWORD).await;
        assert_eq!(admitted.json()["status"], "signed_in", "{email}: {}", admitted.body);
    }
    let refusals: Vec<_> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e.kind == EventType::UserSignInFailed && e.detail.get("reason").is_some_and(|r| r == "not_assigned"))
        .map(|e| (e.user.email, e.context.app, e.context.method))
        .collect();
    let refusal = |email: &str, method: &str| (Some(email.to_owned()), Some(APP.to_owned()), Some(method.to_owned()));
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    for expected in [refusal("hanako@example.com", "password"), refusal("jiro@other.example", "password")] {
        assert!(refusals.contains(&expected), "{expected:?} in {refusals:?}");
    }

    // Listing no one again: everyone signs in.
    let mut demo = app.apps.get(&id).await.unwrap();
    demo.access = Access::default();
    app.apps.update(demo).await.unwrap();
    let app = TestApp { login: login_for(&app.sdk, &app.stack, moto()), ..app };
    assert_eq!(app.send("GET", &format!("/sso/{APP}"), &[("cookie", &cookie)], None).await.status, StatusCode::OK);
}

/// The account page lists the apps that have a home page and whose access admits the person,
/// and each link signs them in there with their session; an app they are not admitted to, or
/// one without a home page, is not listed (nor its name), and a home page off the app's
/// origins is refused when the app is saved.
#[tokio::test]
async fn the_account_page_lists_only_the_apps_a_person_may_open_and_each_link_signs_them_in() {
    use shared::tokens::app::App;
    let app = spawn_app().await;
    app.user("agent@example.com", |u| u.groups = &["agents"]).await;
    app.user("hanako@example.com", |_| {}).await;
    let id = AppId::parse(APP).unwrap();
    let mut demo = app.apps.get(&id).await.unwrap();
    demo.home_url = Some(format!("{ZENDESK}/hc/ja"));
    app.apps.update(demo).await.unwrap();
    let agents = App { id: AppId::parse("agents-desk").unwrap(), name: "Agents' desk".into(), home_url: Some(format!("{ZENDESK}/agent")), ..demo_app() };
    let agents = App { access: Access { groups: vec!["agents".into()], organisations: vec![] }, ..agents };
    app.apps.create(agents, Some(&app.app_secret.clone().into())).await.unwrap();
    let unlisted = App { id: AppId::parse("back-office").unwrap(), name: "Back office".into(), ..demo_app() };
    app.apps.create(unlisted, Some(&app.app_secret.clone().into())).await.unwrap();
    // A home page on another origin, or not a web page, is refused when saved.
    for bad in ["https://evil.example/hc", "javascript:alert(1)", "/hc/ja"] {
        let mut demo = app.apps.get(&id).await.unwrap();
        demo.home_url = Some(bad.into());
        assert!(app.apps.update(demo).await.is_err(), "{bad}");
    }

    let listed = |view: &serde_json::Value| -> Vec<(String, String, String)> {
        let apps = view["apps"].as_array().unwrap_or_else(|| panic!("{view}"));
        apps.iter().map(|a| (a["id"].as_str().unwrap().to_owned(), a["url"].as_str().unwrap().to_owned(), a["via"].as_str().unwrap().to_owned())).collect()
    };
    let agent = session_cookie(&app.handoff(&app.login("agent@example.com", PASSWORD).await).await);
    let view = app.post("/account/view", serde_json::json!({"grant": crate::account::grant(&app, &agent).await})).await.json();
    let expected = |id: &str, url: String| (id.to_owned(), url, "bridge".to_owned());
    // By name: "Acme Help Center", then "Agents' desk".
    assert_eq!(listed(&view), [expected(APP, format!("{ZENDESK}/hc/ja")), expected("agents-desk", format!("{ZENDESK}/agent"))]);
    let hanako = session_cookie(&app.handoff(&app.login("hanako@example.com", PASSWORD).await).await);
    // An app this version cannot read (a newer version's kind) is left out; the others stay.
    app.put_unreadable_app("future").await;
    let view = app.post("/account/view", serde_json::json!({"grant": crate::account::grant(&app, &hanako).await})).await;
    assert_eq!(listed(&view.json()), [expected(APP, format!("{ZENDESK}/hc/ja"))]);
    // The operators' list says it does not read.
    assert!(app.apps.list().await.is_err());
    assert!(!view.body.contains("Agents' desk") && !view.body.contains("Back office"), "{}", view.body);

    // Each link: the session signs the person in and the app's token takes them to its home page.
    let home = format!("{ZENDESK}/agent");
    let link = format!("/sso/agents-desk?return_to={}", url::form_urlencoded::byte_serialize(home.as_bytes()).collect::<String>());
    let page = app.send("GET", &link, &[("cookie", &agent)], None).await;
    assert_eq!((page.status, form_field(&page.body, "return_to")), (StatusCode::OK, Some(home)), "{}", page.body);
    assert!(form_field(&page.body, "jwt").is_some(), "{}", page.body);
    // The same link followed by someone it does not admit: the form, no token.
    let page = app.send("GET", &link, &[("cookie", &hanako)], None).await;
    assert!(page.status == StatusCode::FOUND && page.location_param("ctx").is_some(), "{} {}", page.status, page.body);
}
