//! Security notices: the shipped notice flows, run from the events the account page records
//! (through the table's stream, as deployed), send the person a plain-text email through SES
//! (moto) at their verified address, in their language. An address only typed at a failed
//! sign-in is never mailed, whoever's it is.

use crate::account::{elevate, grant, signed_in};
use crate::harness::*;
use crate::workflows::{template, workflows_function};
use http::StatusCode;
use serde_json::json;
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::events::EventType;
use shared::testing::MemoryRuns;
use shared::workflows::flow::Flow;
use shared::workflows::runner::{RunStatus, run_id};
use std::sync::Arc;

#[tokio::test]
async fn notices_reach_the_persons_verified_address_in_their_language_and_never_a_typed_one() {
    let app = spawn_app().await;
    // SES has no pool: addresses unique to this test keep other tests' mail apart.
    let id = app.stack.user_pool_id.rsplit('_').next().unwrap_or_default().to_lowercase();
    let (hanako, john, john_new, stranger) =
        (format!("hanako.{id}@example.com"), format!("john.{id}@example.com"), format!("john.new.{id}@example.com"), format!("nobody.{id}@example.com"));
    app.user(&hanako, |u| u.locale = Some("ja-JP")).await;
    app.user(&john, |_| {}).await;
    let store = DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    for name in ["notify-password-changed", "notify-email-changed"] {
        store.seed_flow(&Flow { version: 1, ..template(name) }).await.unwrap();
    }
    // A flow an operator might write: a notice on every failed sign-in, whose address is as typed.
    let failed: Flow = serde_json::from_value(json!({"id": "failed-sign-in", "name": "Failed sign-in", "trigger": "user.sign_in_failed",
        "steps": [{"id": "notice", "connector": "email", "subject": "A failed sign-in", "text": "Someone tried to sign in as you."}]}))
    .unwrap();
    store.seed_flow(&Flow { version: 1, ..failed.clone() }).await.unwrap();

    // Hanako (Japanese) changes her password; John (no locale: English) his email.
    let cookie = signed_in(&app, &hanako).await;
    let elevated = elevate(&app, &grant(&app, &cookie).await, &hanako, PASSWORD).await;
    let changed = app.post("/account/password", json!({"elevated": elevated, "previous": PASSWORD, "proposed": "Brand-New-Passw0rd"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let cookie = signed_in(&app, &john).await;
    let elevated = elevate(&app, &grant(&app, &cookie).await, &john, PASSWORD).await;
    let started = app.post("/account/email/start", json!({"elevated": elevated, "email": john_new})).await.json();
    let code = app.emailed_code(&john_new);
    let changed = app.post("/account/email/verify", json!({"elevated": elevated, "change": started["change"], "code": code})).await.json();
    assert_eq!(changed["status"], "changed", "{changed}");
    // Failed sign-ins: the person's own address typed with a wrong password, and an address with no account.
    for typed in [&hanako, &stranger] {
        assert_eq!(app.login(typed, "Wrong-Passw0rd!").await.status, StatusCode::UNAUTHORIZED);
    }

    let workflows = workflows_function(&app, Arc::new(MemoryRuns::default()), false);
    let mut stream = workflows::local_stream::StreamPoller::new(&app.sdk, &app.stack.table).await.unwrap();
    assert!(stream.deliver(&workflows, shared::common::time::unix_now()).await.unwrap() > 0);

    let to_hanako = app.ses_emails(&hanako);
    assert_eq!(to_hanako.len(), 1, "one notice, none for the failed sign-in: {to_hanako:?}");
    assert_eq!((&to_hanako[0]["subject"], &to_hanako[0]["from"]), (&json!("パスワードが変更されました"), &json!(app.stack.email_from)));
    assert!(to_hanako[0]["text"].as_str().is_some_and(|t| t.contains(&format!("（{hanako}）"))), "{}", to_hanako[0]);
    let to_john = app.ses_emails(&john);
    assert_eq!(to_john.len(), 1, "the old address is told: {to_john:?}");
    assert_eq!(to_john[0]["subject"], "The email address of your account was changed");
    assert!(app.ses_emails(&john_new).is_empty(), "the new address has nothing to be told");
    assert!(app.ses_emails(&stranger).is_empty(), "an address with no account is never mailed");

    // The failed sign-ins' runs failed uncalled, saying why (the dead-letter list shows them).
    let failures: Vec<_> = app.events().await.into_iter().filter(|e| e.kind == EventType::UserSignInFailed).collect();
    assert_eq!(failures.len(), 2);
    for event in failures {
        let run = store.run(&run_id(&failed, &event)).await.unwrap().unwrap_or_else(|| panic!("no run for {event:?}"));
        assert_eq!(run.status, RunStatus::Failed, "{run:?}");
        assert!(run.steps[0].error.as_deref().is_some_and(|e| e.contains("no verified email address")), "{run:?}");
    }
}
