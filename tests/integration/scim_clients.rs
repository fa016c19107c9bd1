//! What Okta and Entra ID really send, replayed; races; tenancy; a failing Cognito; and the
//! AWS calls each operation costs.

use crate::harness::*;
use crate::scim_harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::directory::ports::ScimStore;
use shared::directory::scim::resource::Kind;
use shared::testing::CallLog;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ops(ops: Value) -> Option<Value> {
    Some(json!({"schemas": [PATCH], "Operations": ops}))
}

#[tokio::test]
async fn okta_provisioning_replayed() {
    let t = spawn_scim().await;
    // Test connection: a lookup of a user that does not exist, upper case included.
    let empty = t.call("GET", "/Users?filter=userName%20eq%20%22NOBODY%40EXAMPLE.COM%22&startIndex=1&count=100", None).await;
    assert_eq!(
        empty.json(),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
    );
    assert_eq!(t.call("GET", "/Users/010101", None).await.status, StatusCode::NOT_FOUND);
    // Import: page through everything with count=100.
    assert_eq!(t.call("GET", "/Users?startIndex=1&count=100", None).await.json()["totalResults"], 0);
    // Create, then Okta's usual updates.
    let body = json!({"schemas": [USER], "userName": "jiro@example.com", "name": {"givenName": "Jiro", "familyName": "Sato"},
        "emails": [{"primary": true, "value": "jiro@example.com", "type": "work"}], "displayName": "Jiro Sato", "locale": "ja-JP", "externalId": "00u1okta", "groups": [], "active": true,
        "password": "Okta-Sync-Pass-1"});
    let created = t.call("POST", "/Users", Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(scim_error(&t.call("POST", "/Users", Some(body)).await).1.as_deref(), Some("uniqueness"));
    let path = format!("/Users/{id}");
    let deactivated = t.call("PATCH", &path, ops(json!([{"op": "replace", "value": {"active": false}}]))).await;
    assert_eq!(deactivated.json()["active"], false);
    assert!(!t.cognito_user("jiro@example.com").await.unwrap().0);
    t.call("PATCH", &path, ops(json!([{"op": "replace", "value": {"active": true}}]))).await;
    let mut renamed = t.call("GET", &path, None).await.json();
    renamed["name"]["familyName"] = json!("Kato");
    renamed["displayName"] = json!("Jiro Kato");
    let put = t.call("PUT", &path, Some(renamed)).await;
    assert_eq!((put.status, put.json()["meta"]["version"].clone()), (StatusCode::OK, json!("W/\"4\"")));
    let (enabled, attrs) = t.cognito_user("jiro@example.com").await.unwrap();
    assert!(enabled && attrs["name"] == "Jiro Kato" && attrs["family_name"] == "Kato");

    // Group push: create, add, remove by filter, replace all, unlink (DELETE).
    let other = t.create_user("saburo@example.com", json!({})).await;
    let group = t.call("POST", "/Groups", Some(json!({"schemas": [GROUP], "displayName": "Okta Engineers", "members": []}))).await.json();
    let gpath = format!("/Groups/{}", group["id"].as_str().unwrap());
    let added = t
        .call("PATCH", &gpath, ops(json!([{"op": "add", "path": "members", "value": [{"value": id, "display": "jiro@example.com"}, {"value": other}]}])))
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    t.call("PATCH", &gpath, ops(json!([{"op": "remove", "path": format!("members[value eq \"{other}\"]")}]))).await;
    let after = t.call("GET", &gpath, None).await.json();
    assert_eq!(after["members"], json!([{"value": id, "display": "jiro@example.com", "$ref": format!("{BASE}/Users/{id}")}]));
    t.call("PATCH", &gpath, ops(json!([{"op": "replace", "path": "members", "value": [{"value": other}]}]))).await;
    assert_eq!(t.call("GET", &gpath, None).await.json()["members"][0]["value"], other.as_str());
    assert_eq!(t.call("DELETE", &gpath, None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn entra_provisioning_replayed() {
    let t = spawn_scim().await;
    // Test connection: a random user by a random filter attribute.
    let probe = t.call("GET", "/Users?filter=userName%20eq%20%2257a3b-random%22", None).await;
    assert_eq!(probe.json()["totalResults"], 0);
    // Lookup by externalId, then create with Entra's body.
    assert_eq!(t.call("GET", "/Users?filter=externalId%20eq%20%22aad-1%22", None).await.json()["totalResults"], 0);
    let created = t
        .call(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "externalId": "aad-1", "userName": "Kumi@example.com", "active": true,
                "displayName": "Kumi Ito", "emails": [{"primary": true, "type": "work", "value": "kumi@example.com"}], "meta": {"resourceType": "User"},
                "name": {"formatted": "Kumi Ito", "familyName": "Ito", "givenName": "Kumi"}, "title": "Engineer",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "manager": {"value": "boss-1"}}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    // Entra's PATCH: capitalised ops, string booleans, dotted keys, filters on emails.
    let patched = t
        .call(
            "PATCH",
            &path,
            ops(json!([
                {"op": "Replace", "path": "title", "value": "Lead Engineer"},
                {"op": "Add", "value": {"name.givenName": "Kumiko", "name.familyName": "Ito"}},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "kumiko@example.com"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+81-90-0000-0000"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Platform"},
                {"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}
            ])),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let user = patched.json();
    assert_eq!(user["title"], "Lead Engineer");
    assert_eq!(user["name"]["givenName"], "Kumiko");
    assert_eq!(user["emails"], json!([{"primary": true, "type": "work", "value": "kumiko@example.com"}]));
    assert_eq!(user["phoneNumbers"], json!([{"type": "mobile", "value": "+81-90-0000-0000"}]));
    assert_eq!(user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"department": "Platform"}));
    let (_, attrs) = t.cognito_user("kumiko@example.com").await.expect("email changed in place");
    assert_eq!(attrs["given_name"], "Kumiko");
    // Soft delete then hard delete.
    let off = t.call("PATCH", &path, ops(json!([{"op": "Replace", "path": "active", "value": "False"}]))).await;
    assert_eq!(off.json()["active"], false);
    assert!(!t.cognito_user("kumiko@example.com").await.unwrap().0);
    // Groups: by displayName without members, members added and removed by value list.
    let group = t.call("POST", "/Groups", Some(json!({"schemas": [GROUP], "externalId": "aad-g1", "displayName": "Platform Team"}))).await.json();
    let gid = group["id"].as_str().unwrap();
    let found = t.call("GET", "/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Platform%20Team%22", None).await.json();
    assert_eq!(found["Resources"][0]["id"], gid);
    let gpath = format!("/Groups/{gid}");
    t.call("PATCH", &gpath, ops(json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]))).await;
    assert_eq!(t.call("GET", &gpath, None).await.json()["members"].as_array().unwrap().len(), 1);
    let removed = t.call("PATCH", &gpath, ops(json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]))).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(t.call("GET", &gpath, None).await.json()["members"], json!([]));
    assert_eq!(t.call("DELETE", &path, None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn entra_sends_the_manager_as_a_bare_id() {
    let t = spawn_scim().await;
    let boss = t.create_user("boss@example.com", json!({})).await;
    let created = t
        .call(
            "POST",
            "/Users",
            Some(json!({"schemas": [USER, ENTERPRISE], "userName": "mika@example.com", "active": true, ENTERPRISE: {"department": "Sales", "manager": boss}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()[ENTERPRISE], json!({"department": "Sales", "manager": {"value": boss}}));
    let path = format!("/Users/{}", created.json()["id"].as_str().unwrap());
    let other = t.create_user("boss2@example.com", json!({})).await;
    let patched = t.call("PATCH", &path, ops(json!([{"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": other}]))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.json()[ENTERPRISE], json!({"department": "Sales", "manager": {"value": other}}));
    assert_eq!(t.call("GET", &path, None).await.json()[ENTERPRISE]["manager"], json!({"value": other}));
}

#[tokio::test]
async fn entra_filters_on_a_value_path_sub_attribute() {
    let t = spawn_scim().await;
    let mika = t.create_user("mika.sato@example.com", json!({})).await;
    // Another user has the same address, but as a home email.
    let other = t
        .create_user(
            "other@example.com",
            json!({"emails": [{"value": "mika.sato@example.com", "type": "home"}, {"value": "other@example.com", "type": "work", "primary": true}]}),
        )
        .await;
    assert_eq!(found(&t, r#"emails[type eq "work"].value eq "Mika.Sato@example.com""#).await, std::slice::from_ref(&mika));
    assert_eq!(found(&t, r#"emails[type eq "home"].value eq "mika.sato@example.com""#).await, std::slice::from_ref(&other));
    assert!(found(&t, r#"emails[type eq "other"].value eq "mika.sato@example.com""#).await.is_empty());
    assert_eq!(found(&t, r#"emails[type eq "work"].value co "sato""#).await, std::slice::from_ref(&mika), "evaluated when it is not a lookup");
    // Answered from the email index: no scan.
    t.app.calls.take();
    found(&t, r#"emails[type eq "work"].value eq "mika.sato@example.com""#).await;
    let mut calls: Vec<String> = t.app.calls.take().iter().map(|c| c.rsplit('.').next().unwrap_or(c).to_owned()).collect();
    calls.sort();
    assert_eq!(calls, ["BatchGetItem", "Query"]);
}

#[tokio::test]
async fn cognito_refusals_are_recorded_not_retried_forever() {
    let t = spawn_scim().await;
    t.create_user("taken@example.com", json!({})).await;
    let id = t.create_user("mover@example.com", json!({})).await;
    let path = format!("/Users/{id}");
    // Cognito refuses an email another of its users has (AliasExistsException); SCIM keeps the change.
    let moved = t.call("PATCH", &path, ops(json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "taken@example.com"}]))).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
    assert!(!entry.pending, "a refusal is not left pending: {entry:?}");
    assert!(entry.sync_error.as_deref().is_some_and(|e| e.contains("AliasExistsException")), "the reason is kept: {:?}", entry.sync_error);
    let listed = t.store().pending(&t.org.id).await.unwrap();
    assert_eq!(listed.iter().map(|e| (e.record.id.clone(), e.pending)).collect::<Vec<_>>(), [(id.clone(), false)], "an operator still sees it");
    let report = t.scim.sweep(0, later()).await.unwrap();
    assert_eq!((report.synced, report.failed), (0, 0), "the sweep does not retry it");
    // The next change of the user is tried again.
    let back = t.call("PATCH", &path, ops(json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "mover@example.com"}]))).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
    assert!(!entry.pending && entry.sync_error.is_none(), "{entry:?}");
    assert!(t.store().pending(&t.org.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_creates_of_one_user_name_let_exactly_one_in() {
    let t = spawn_scim().await;
    let names = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com", "rAce@example.com", "racE@example.com"];
    let replies = futures_join(names.iter().map(|n| t.call("POST", "/Users", Some(json!({"userName": n})))).collect()).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT && scim_error(r).1.as_deref() == Some("uniqueness")).count();
    assert_eq!((created, conflicts), (1, names.len() - 1), "{:?}", replies.iter().map(|r| &r.body).collect::<Vec<_>>());
    assert_eq!(t.call("GET", "/Users", None).await.json()["totalResults"], 1);
}

#[tokio::test]
async fn racing_patches_and_deletes_on_one_user_all_land() {
    let t = spawn_scim().await;
    let id = t.create_user("busy@example.com", json!({})).await;
    let path = format!("/Users/{id}");
    let patches: Vec<_> = (0..6)
        .map(|n| {
            t.call(
                "PATCH",
                &path,
                ops(json!([{"op": "add", "path": "emails", "value": [{"value": format!("alias{n}@example.com"), "type": format!("t{n}")}]}])),
            )
        })
        .collect();
    for reply in futures_join(patches).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let user = t.call("GET", &path, None).await.json();
    assert_eq!(user["emails"].as_array().unwrap().len(), 7, "no update was lost: {}", user["emails"]);
    assert_eq!(user["meta"]["version"], "W/\"7\"");

    // A DELETE among them is redone on a fresh read like them: 204, and each PATCH landed before
    // it (200) or found the user gone (404), never 503.
    let id = t.create_user("gone@example.com", json!({})).await;
    let path = format!("/Users/{id}");
    let calls = (0..6).map(|n| match n {
        3 => t.call("DELETE", &path, None),
        n => t.call("PATCH", &path, ops(json!([{"op": "replace", "path": "displayName", "value": format!("Name {n}")}]))),
    });
    let replies = futures_join(calls.collect()).await;
    assert_eq!(replies[3].status, StatusCode::NO_CONTENT, "{}", replies[3].body);
    for reply in &replies {
        assert!([StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(&reply.status), "{}: {}", reply.status, reply.body);
    }
    assert_eq!(t.call("GET", &path, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_organisation_sees_only_its_own_people() {
    let t = spawn_scim().await;
    let id = t.create_user("mine@example.com", json!({"externalId": "e1"})).await;
    let group = t.call("POST", "/Groups", Some(json!({"displayName": "Mine"}))).await.json()["id"].as_str().unwrap().to_owned();
    let (_, other) = t.other_org().await;
    for (method, path) in [
        ("GET", format!("/Users/{id}")),
        ("PUT", format!("/Users/{id}")),
        ("PATCH", format!("/Users/{id}")),
        ("DELETE", format!("/Users/{id}")),
        ("GET", format!("/Groups/{group}")),
    ] {
        let body = match method {
            "PUT" => Some(json!({"userName": "stolen@other.example"})),
            "PATCH" => ops(json!([{"op": "replace", "value": {"active": false}}])),
            _ => None,
        };
        assert_eq!(t.call_as(&other, method, &path, body).await.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    for filter in [
        "userName%20eq%20%22mine%40example.com%22",
        "externalId%20eq%20%22e1%22",
        &format!("id%20eq%20%22{id}%22"),
        "emails.value%20eq%20%22mine%40example.com%22",
        "userName%20pr",
    ] {
        assert_eq!(t.call_as(&other, "GET", &format!("/Users?filter={filter}"), None).await.json()["totalResults"], 0, "{filter}");
    }
    assert_eq!(t.call_as(&other, "GET", "/Users", None).await.json()["totalResults"], 0);
    let foreign_member = t.call_as(&other, "POST", "/Groups", Some(json!({"displayName": "Theirs", "members": [{"value": id}]}))).await;
    assert_eq!(scim_error(&foreign_member).1.as_deref(), Some("invalidValue"));
    // The same userName may exist in both organisations.
    assert_eq!(t.call_as(&other, "POST", "/Users", Some(json!({"userName": "mine@example.com"}))).await.status, StatusCode::CREATED);
    assert_eq!(t.call("GET", &format!("/Users/{id}"), None).await.json()["active"], true);
}

/// A sweep's deadline far enough away.
fn later() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(60)
}

/// The same SCIM function as `t`'s, but its Cognito endpoint refuses connections.
async fn with_cognito_down(t: &crate::scim_harness::ScimTest) -> std::sync::Arc<scim::state::Scim> {
    let calls = CallLog::default();
    let broken_sdk = sdk_config(moto(), &calls).await.into_builder().endpoint_url("http://127.0.0.1:9").build();
    let mut env: std::collections::HashMap<String, String> = t.app.stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.insert("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".into(), "http://127.0.0.1:9".into());
    let config = scim::config::Config::from_env(&env).unwrap();
    let dynamo_ok = sdk_config(moto(), &calls).await;
    std::sync::Arc::new(scim::state::Scim::with_clients(
        &config,
        aws_sdk_dynamodb::Client::new(&dynamo_ok),
        aws_sdk_cognitoidentityprovider::Client::new(&broken_sdk),
    ))
}

/// A deletion whose Cognito part failed, then a create with the same email that adopts the
/// account: the deletion's retry leaves the account to the new user (enabled, its own).
#[tokio::test]
async fn a_stale_deletion_retry_leaves_an_account_another_user_took_over() {
    let t = spawn_scim().await;
    let broken = with_cognito_down(&t).await;
    let old = t.create_user("again@example.com", json!({})).await;
    let auth = format!("Bearer {}", t.token);
    let deleted = t.send_with(&broken, "DELETE", &format!("/Users/{old}"), &[("authorization", &auth)], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let new = t.create_user("again@example.com", json!({})).await;
    let (enabled, attrs) = t.cognito_user("again@example.com").await.unwrap();
    assert_eq!((enabled, attrs["custom:scim_id"].as_str()), (true, new.as_str()), "adopted by the new user");
    let report = t.scim.sweep(0, later()).await.unwrap();
    assert_eq!((report.synced, report.failed), (1, 0), "the deletion settled: {report:?}");
    let (enabled, attrs) = t.cognito_user("again@example.com").await.unwrap();
    assert_eq!((enabled, attrs["custom:scim_id"].as_str()), (true, new.as_str()), "still the new user's, enabled");
    assert!(t.store().pending(&t.org.id).await.unwrap().is_empty());

    // An address given to a new hire before the leaver is deprovisioned: the leaver's deletion
    // (its first attempt) leaves the account the new hire's user took over.
    let leaver = t.create_user("desk@example.com", json!({})).await;
    let hire = t.create_user("hire@example.com", json!({"emails": [{"value": "desk@example.com", "primary": true}]})).await;
    assert_eq!(t.cognito_user("desk@example.com").await.unwrap().1["custom:scim_id"], hire, "the new hire's now");
    assert_eq!(t.call("DELETE", &format!("/Users/{leaver}"), None).await.status, StatusCode::NO_CONTENT);
    let (enabled, attrs) = t.cognito_user("desk@example.com").await.unwrap();
    assert_eq!((enabled, attrs["custom:scim_id"].as_str()), (true, hire.as_str()), "the new hire's account is left alone");
}

#[tokio::test]
async fn a_cognito_failure_loses_nothing_and_the_sweep_catches_up() {
    let t = spawn_scim().await;
    let broken = with_cognito_down(&t).await;
    let auth = format!("Bearer {}", t.token);
    let created = t.send_with(&broken, "POST", "/Users", &[("authorization", &auth)], Some(json!({"userName": "late@example.com"}).to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "the change is recorded: {}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let pending = t.store().pending(&t.org.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].pending && pending[0].sync_error.is_some(), "the failure is visible to an operator: {:?}", pending[0]);
    assert!(t.cognito_user("late@example.com").await.is_none());
    // Another organisation's change waits too, and this one's partition holds an item that does
    // not read: neither holds up the other.
    let (other, other_token) = t.other_org().await;
    let other_auth = format!("Bearer {other_token}");
    let body = Some(json!({"userName": "waiting@other.example"}).to_string());
    assert_eq!(t.send_with(&broken, "POST", "/Users", &[("authorization", &other_auth)], body).await.status, StatusCode::CREATED);
    let dynamo = aws_sdk_dynamodb::Client::new(&t.app.sdk);
    let text = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    let number = aws_sdk_dynamodb::types::AttributeValue::N("1".into());
    let corrupt = dynamo.put_item().table_name(&t.app.stack.table).item("pk", text(&format!("SCIM#{}", t.org.id))).item("sk", text("USER#x"));
    corrupt.item("data", text("not json")).item("sync", number).send().await.unwrap();

    // A sweep out of time leaves both for the next one.
    let spent = t.scim.sweep(0, std::time::Instant::now()).await.unwrap();
    assert_eq!((spent.synced, spent.failed, spent.left), (0, 0, 2));
    let report = t.scim.sweep(0, later()).await.unwrap();
    assert_eq!((report.synced, report.failed), (2, 0), "{report:?}");
    assert!(t.cognito_user("late@example.com").await.is_some());
    assert!(t.store().pending(&other.id).await.unwrap().is_empty(), "the other organisation's too");
    let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
    assert!(!entry.pending && entry.sync_error.is_none());
    assert_eq!(t.scim.sweep(0, later()).await.unwrap().synced, 0, "nothing left");
}

#[tokio::test]
async fn aws_calls_per_operation_on_the_warm_path() {
    let t = spawn_scim().await;
    let counted = |calls: Vec<String>| {
        let mut names: Vec<String> = calls.iter().map(|c| c.rsplit('.').next().unwrap_or(c).to_owned()).collect();
        names.sort();
        names
    };
    let id = t.create_user("count@example.com", json!({})).await;
    let (a, b) = (t.create_user("m1@example.com", json!({})).await, t.create_user("m2@example.com", json!({})).await);
    t.app.calls.take();

    t.create_user("new@example.com", json!({})).await;
    assert_eq!(counted(t.app.calls.take()), ["AdminCreateUser", "TransactWriteItems", "UpdateItem"], "create");
    t.call("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(counted(t.app.calls.take()), ["GetItem"], "GET by id");
    t.call("GET", "/Users?filter=userName%20eq%20%22count%40example.com%22", None).await;
    assert_eq!(counted(t.app.calls.take()), ["Query"], "userName eq");
    t.call("PATCH", &format!("/Users/{id}"), ops(json!([{"op": "replace", "value": {"active": false}}]))).await;
    // Deactivation also ends the person's bridge sessions: the revocation's mark (`PutItem`), then
    // one Query on the user's sessions beside the console tokens' mark (`UpdateItem`).
    assert_eq!(
        counted(t.app.calls.take()),
        ["AdminDisableUser", "AdminUserGlobalSignOut", "GetItem", "PutItem", "Query", "TransactWriteItems", "UpdateItem", "UpdateItem"],
        "PATCH active"
    );

    // Adding one member costs the same for a group of 2 and a group of 150.
    let small = t.call("POST", "/Groups", Some(json!({"displayName": "Small", "members": [{"value": a}]}))).await.json()["id"].as_str().unwrap().to_owned();
    let mut many: Vec<Value> = vec![json!({"value": a})];
    for n in 0..149 {
        many.push(json!({"value": t.create_user(&format!("bulk{n}@example.com"), json!({})).await}));
    }
    let large = t.call("POST", "/Groups", Some(json!({"displayName": "Large", "members": many}))).await;
    assert_eq!(large.status, StatusCode::CREATED, "{}", large.body);
    assert_eq!(large.json()["members"].as_array().unwrap().len(), 150);
    let large = large.json()["id"].as_str().unwrap().to_owned();
    t.app.calls.take();
    let add = ops(json!([{"op": "add", "path": "members", "value": [{"value": b}]}]));
    t.call("PATCH", &format!("/Groups/{small}?excludedAttributes=members"), add.clone()).await;
    let small_calls = counted(t.app.calls.take());
    t.call("PATCH", &format!("/Groups/{large}?excludedAttributes=members"), add).await;
    assert_eq!(counted(t.app.calls.take()), small_calls);
    assert_eq!(small_calls, ["GetItem", "TransactWriteItems"], "add one member");
}

/// The ids of the users `filter` finds.
async fn found(t: &ScimTest, filter: &str) -> Vec<String> {
    let reply = t.call("GET", &users_where(filter), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.body);
    reply.json()["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

/// Runs the futures concurrently and returns their results in order.
async fn futures_join<F: std::future::Future<Output = Reply>>(futures: Vec<F>) -> Vec<Reply> {
    join_all(futures.into_iter().map(Box::pin).collect()).await
}

async fn join_all<F: std::future::Future<Output = Reply> + Unpin>(futures: Vec<F>) -> Vec<Reply> {
    let mut results: Vec<Option<Reply>> = (0..futures.len()).map(|_| None).collect();
    let mut futures: Vec<Option<F>> = futures.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in futures.iter_mut().enumerate() {
            if let Some(f) = slot {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(r) => {
                        results[i] = Some(r);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    results.into_iter().map(|r| r.unwrap()).collect()
}
