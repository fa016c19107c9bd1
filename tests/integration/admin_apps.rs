//! The admin tool's app management against moto: secrets in Secrets Manager, versions, and
//! nothing left behind when a step fails.

use crate::harness::*;
use shared::tokens::app::AppId;

async fn secret_names(app: &TestApp) -> Vec<String> {
    // Every page: the emulator holds every test's secrets, more than one page of them.
    let pages = aws_sdk_secretsmanager::Client::new(&app.sdk).list_secrets().into_paginator().send();
    let pages: Vec<_> = pages.collect::<Result<_, _>>().await.unwrap_or_else(|e| panic!("{e}"));
    let names = pages.into_iter().flat_map(|p| p.secret_list.unwrap_or_default()).filter_map(|s| s.name);
    names.filter(|n| n.starts_with(&format!("{}/apps/", app.apps.prefix()))).collect()
}

#[tokio::test]
async fn create_update_list_and_remove() {
    let app = spawn_app().await;
    let id = AppId::parse(APP).unwrap_or_else(|e| panic!("{e}"));
    let stored = app.apps.get(&id).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(stored.version, 1);
    assert!(
        stored.signing_secret.clone().unwrap_or_else(|| panic!("no secret")).0.starts_with("arn:aws:secretsmanager:"),
        "the item names the secret, never holds it"
    );

    let mut renamed = stored.clone();
    renamed.name = "Acme Support".into();
    let updated = app.apps.update(renamed).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(updated.version, 2);
    let stale = app.apps.update(stored.clone()).await;
    assert!(stale.is_err_and(|e| e.to_string().contains("changed since it was read")));

    let mut second = demo_app();
    second.id = AppId::parse("community").unwrap_or_else(|e| panic!("{e}"));
    app.apps.create(second, Some(&"another-secret-value".to_owned().into())).await.unwrap_or_else(|e| panic!("{e:#}"));
    let listed: Vec<String> = app.apps.list().await.unwrap_or_default().into_iter().map(|a| a.id.to_string()).collect();
    assert_eq!(listed, vec!["acme-help", "community"]);

    app.apps.remove(&id, false).await.unwrap_or_else(|e| panic!("{e:#}"));
    assert!(app.apps.get(&id).await.is_err());
    let left = secret_names(&app).await;
    assert!(
        left.len() == 1 && left[0].starts_with(&format!("{}/apps/community/signing/", app.apps.prefix())),
        "the removed app's secret is scheduled for deletion: {left:?}"
    );
}

#[tokio::test]
async fn a_failed_create_leaves_no_secret_behind() {
    let app = spawn_app().await;
    let before = secret_names(&app).await;
    let duplicate = app.apps.create(demo_app(), Some(&"yet-another-secret".to_owned().into())).await;
    assert!(duplicate.is_err());
    let mut invalid = demo_app();
    invalid.id = AppId::parse("no-origins").unwrap_or_else(|e| panic!("{e}"));
    invalid.allowed_origins.clear();
    assert!(app.apps.create(invalid, Some(&"yet-another-secret".to_owned().into())).await.is_err());
    // The duplicate and the invalid app are refused before anything is written.
    let after: Vec<String> = secret_names(&app).await;
    assert_eq!(after, before);
}

/// An app this version cannot read (saved by a newer one) is named to the operators, not a
/// mystery outage; the account page leaves it out (`app_access.rs`).
#[tokio::test]
async fn an_app_this_version_cannot_read_is_named_to_the_operators() {
    let console = crate::admin_api::Console::new().await;
    let boss = console.person("boss@example.com", &["bridge-admin"]).await;
    let token = console.token(&boss, serde_json::json!({}));
    console.test.put_unreadable_app("future").await;
    let reply = console.call(&token, "GET", "/admin/v1/apps", &[], None).await;
    assert_eq!((reply.status, reply.json()["error"].as_str()), (http::StatusCode::SERVICE_UNAVAILABLE, Some("unreadable")), "{}", reply.body);
    assert!(reply.json()["message"].as_str().is_some_and(|m| m.contains("`future`")), "{}", reply.body);
}
