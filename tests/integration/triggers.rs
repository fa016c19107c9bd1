//! The Cognito trigger function against moto: what it records in the table, and the account
//! lookup linking relies on. (moto does not invoke triggers and has no
//! `AdminLinkProviderForUser`: the link itself is tested in `functions/triggers/tests`.)

use serde_json::json;
use shared::directory::ports::AccountLinker;
use shared::testing::aws_event_fixture;
use std::collections::HashMap;
use triggers::handler::handle;
use triggers::state::Triggers;

#[tokio::test]
async fn confirmations_and_sign_ins_reach_the_table_once_each() {
    let app = crate::harness::spawn_app().await;
    let env: HashMap<String, String> = app.stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let triggers = Triggers::new(&env, &crate::harness::as_function(&app.sdk, "TriggersFunction")).unwrap();

    let mut confirmed = aws_event_fixture("postconfirmation");
    confirmed["userPoolId"] = app.stack.user_pool_id.clone().into();
    confirmed["userName"] = "4b7e-user".into();
    confirmed["request"]["userAttributes"] = json!({"sub": "4b7e-sub", "email": "new@example.com", "email_verified": "true"});
    for attempt in 0..3 {
        handle(&triggers, confirmed.clone(), 100 + attempt).await.unwrap();
    }
    assert_eq!(app.items_under("EVENT#registered-").await, 1, "Cognito's retries record one registration");
    let calls = app.calls.take();
    assert_eq!(calls.iter().filter(|c| c.ends_with("PutItem")).count(), 3, "one conditional write per attempt: {calls:?}");

    let mut signed_in = aws_event_fixture("postauthentication");
    signed_in["userName"] = "4b7e-user".into();
    signed_in["request"]["userAttributes"]["sub"] = "4b7e-sub".into();
    handle(&triggers, signed_in, 200).await.unwrap();
    let table = shared::adapters::dynamo::Table::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let found = shared::adapters::dynamo::activity::signed_in_between(&table, 0, 201, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].username.as_str(), found[0].sub.as_str(), found[0].at), ("4b7e-user", "4b7e-sub", 200));
    assert!(shared::adapters::dynamo::activity::signed_in_between(&table, 0, 200, 10).await.unwrap().is_empty(), "`to` is exclusive");
}

#[tokio::test]
async fn linking_finds_only_a_verified_account_of_the_pool() {
    let app = crate::harness::spawn_app().await;
    let hanako = app.user("hanako@example.com", |_| {}).await;
    let directory = shared::adapters::cognito::directory::CognitoDirectory::new(
        aws_sdk_cognitoidentityprovider::Client::new(&crate::harness::as_function(&app.sdk, "TriggersFunction")),
        &app.stack.user_pool_id,
    );
    let found = directory.verified_user_with_email("hanako@example.com").await.unwrap();
    assert_eq!(found.as_ref().map(|f| f.org.as_deref()), Some(None), "an account of no organisation");
    app.user("member@example.com", |u| u.org = Some("acme")).await;
    let member = directory.verified_user_with_email("member@example.com").await.unwrap();
    assert_eq!(member.and_then(|m| m.org).as_deref(), Some("acme"), "its organisation, for may_link");
    assert_eq!(directory.verified_user_with_email("nobody@example.com").await.unwrap(), None);
    assert_eq!(directory.verified_user_with_email("x\"@example.com").await.unwrap(), None, "no filter injection");
    // The lookup is by a name Cognito takes for a user name: a user name is not the email.
    assert_eq!(directory.verified_user_with_email(&hanako).await.unwrap(), None, "found by its own email only");
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let attribute = aws_sdk_cognitoidentityprovider::types::AttributeType::builder().name("email_verified").value("false").build().unwrap();
    idp.admin_update_user_attributes().user_pool_id(&app.stack.user_pool_id).username(found.unwrap().username).user_attributes(attribute).send().await.unwrap();
    assert_eq!(directory.verified_user_with_email("hanako@example.com").await.unwrap(), None, "an unverified email is never linked to");
    // An operator's account: a provider asserting its email (verified) would sign in as the
    // operator, so it is never linked to.
    app.user("boss@example.com", |u| u.groups = &["staff", "bridge-admin"]).await;
    assert_eq!(directory.verified_user_with_email("boss@example.com").await.unwrap(), None, "an operator's account is never linked to");
    app.user("staff@example.com", |u| u.groups = &["staff"]).await;
    assert!(directory.verified_user_with_email("staff@example.com").await.unwrap().is_some(), "other groups are no bar");
}

/// Another company's provider (its admin can assert any email, verified) or a social one makes
/// no account with a company's person's address, nor a company's provider one outside its
/// domains: the handler, as the triggers function, over the organisations in the table. Only the company's own provider reaches the link (moto has no
/// `AdminLinkProviderForUser`, so that one is seen in the call log, then fails).
#[tokio::test]
async fn only_the_companys_own_provider_is_linked_to_its_people() {
    let company = crate::corporate::connect(json!({
        "kind": "cognito", "issuer": "https://cognito-idp.example/pool", "client_id": "bridge", "identity_provider": "CorpSAML", "provisioning": "on_first_sign_in"
    }))
    .await;
    let app = &company.app;
    app.user("taro@corp.example", |u| u.org = Some(company.org.id.as_str())).await;
    let jiro = app.user("jiro@example.com", |_| {}).await;
    let mut env: HashMap<String, String> = app.stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.insert("OPERATOR_PROVIDERS".into(), "StaffSAML, Other".into());
    let triggers = Triggers::new(&env, &crate::harness::as_function(&app.sdk, "TriggersFunction")).unwrap();
    let sign_up = |username: &str, email: &str| {
        let mut event = aws_event_fixture("presignup");
        event["triggerSource"] = "PreSignUp_ExternalProvider".into();
        event["userPoolId"] = app.stack.user_pool_id.clone().into();
        event["userName"] = username.into();
        event["request"]["userAttributes"] = json!({"email": email, "email_verified": "true"});
        event
    };
    app.calls.take();
    // The company's address through another provider (the operator's own staff directory too),
    // and the company's provider for an address of no organisation: no account at all.
    for (username, email) in [
        ("OtherCorpSAML_eve", "taro@corp.example"),
        ("google_666", "taro@corp.example"),
        ("staffsaml_x", "taro@corp.example"),
        ("corpsaml_x", "jiro@example.com"),
    ] {
        let out = handle(&triggers, sign_up(username, email), 1).await;
        assert!(matches!(out, Err(triggers::handler::TriggerError::NotItsProvider)), "{username} as {email}: {out:?}");
    }
    // The operator's staff directory (`OPERATOR_PROVIDERS`) for an address of no organisation:
    // a new account, not linked.
    let event = sign_up("staffsaml_x", "jiro@example.com");
    assert_eq!(handle(&triggers, event.clone(), 1).await.unwrap(), event, "a new account, nothing linked");
    let calls = app.calls.take();
    assert!(!calls.iter().any(|c| c.ends_with("AdminLinkProviderForUser")), "{calls:?}");
    assert!(calls.iter().any(|c| c.ends_with("GetItem")), "the organisations were read from the table: {calls:?}");
    // The account is found by the email where a user name goes, which Cognito never answers
    // with a federated account: no number of them asserting the email can hide it.
    assert!(calls.iter().any(|c| c.ends_with("AdminGetUser")) && !calls.iter().any(|c| c.ends_with("ListUsers")), "{calls:?}");

    // A later sign-in (token generation) of a federated account now asserting the company's
    // address, read from the table: no token. The company's own provider gets one.
    let token = |username: &str| {
        let mut event = aws_event_fixture("pretokengen-v2-incoming");
        event["version"] = "2".into();
        event["userName"] = username.into();
        event["request"]["userAttributes"]["email"] = "taro@corp.example".into();
        event
    };
    let out = handle(&triggers, token("othercorpsaml_eve"), 1).await;
    assert!(matches!(out, Err(triggers::handler::TriggerError::NotItsProvider)), "{out:?}");
    assert!(handle(&triggers, token("corpsaml_emp-0001"), 1).await.is_ok());
    // A pool account linked to another company's provider, which wrote the company's address
    // to it: no token, and the account disabled (no lookup by email takes it, nor links to it).
    let mut linked = token(&jiro);
    linked["userPoolId"] = app.stack.user_pool_id.clone().into();
    linked["request"]["userAttributes"]["identities"] = r#"[{"providerName":"OtherCorpSAML","userId":"eve"}]"#.into();
    let out = handle(&triggers, linked, 1).await;
    assert!(matches!(out, Err(triggers::handler::TriggerError::NotItsProvider)), "{out:?}");
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let after = idp.admin_get_user().user_pool_id(&app.stack.user_pool_id).username(&jiro).send().await.unwrap();
    assert!(!after.enabled(), "disabled");
    let directory = shared::adapters::cognito::directory::CognitoDirectory::new(idp, &app.stack.user_pool_id);
    assert_eq!(directory.verified_user_with_email("jiro@example.com").await.unwrap(), None, "a disabled account is never linked to");

    let _ = handle(&triggers, sign_up("CorpSAML_emp-0001", "taro@corp.example"), 1).await;
    let calls = app.calls.take();
    assert!(calls.iter().any(|c| c.ends_with("AdminLinkProviderForUser")), "the company's own provider is linked: {calls:?}");
}
