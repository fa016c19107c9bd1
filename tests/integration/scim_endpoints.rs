//! Every SCIM endpoint and error against moto: users and groups through their whole life,
//! Cognito kept in step, listing and paging, ETags, and the SCIM error format.

use crate::harness::Reply;
use crate::scim_harness::*;
use http::StatusCode;
use serde_json::{Value, json};
use shared::directory::org::{DeleteMode, OrgPolicies};
use shared::directory::ports::ScimStore;
use shared::directory::scim::resource::Kind;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// method, path, body, expected status, expected `scimType`.
type Case = (&'static str, String, Option<Value>, &'static str, Option<&'static str>);

fn patch(ops: Value) -> Option<Value> {
    Some(json!({"schemas": [PATCH], "Operations": ops}))
}

#[tokio::test]
async fn a_user_lives_in_scim_and_in_cognito() {
    let t = spawn_scim().await;
    let created = t
        .call(
            "POST",
            "/Users",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE], "userName": "Taro@Example.com", "externalId": "00uABC",
                "name": {"givenName": "Taro", "familyName": "Yamada"}, "emails": [{"value": "taro@example.com", "type": "work", "primary": true}],
                ENTERPRISE: {"department": "Sales"}, "password": "never-stored-1A!"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.header("content-type"), Some(SCIM_JSON));
    let user = created.json();
    let id = user["id"].as_str().unwrap();
    assert_eq!(created.header("location"), Some(format!("{BASE}/Users/{id}").as_str()));
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user["meta"]["version"], "W/\"1\"");
    assert_eq!(user["externalId"], "00uABC");
    assert_eq!(user["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]));
    assert!(user.get("password").is_none() && !created.body.contains("never-stored"));

    let (enabled, attrs) = t.cognito_user("taro@example.com").await.expect("a Cognito user");
    assert!(enabled);
    assert_eq!(attrs["email_verified"], "true");
    assert_eq!(attrs["custom:org_id"], t.org.id.as_str());
    assert_eq!(attrs["custom:scim_id"], id);
    assert_eq!(attrs["name"], "Taro Yamada");

    // Read, conditional read, lookup in any case.
    let got = t.call("GET", &format!("/Users/{id}"), None).await;
    assert_eq!((got.status, got.json()["userName"].clone()), (StatusCode::OK, json!("Taro@Example.com")));
    let auth = format!("Bearer {}", t.token);
    let unchanged = t.send_with(&t.scim, "GET", &format!("/Users/{id}"), &[("authorization", &auth), ("if-none-match", "W/\"1\"")], None).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    let found = t.call("GET", "/Users?filter=userName%20eq%20%22TARO%40EXAMPLE.COM%22&startIndex=1&count=100", None).await.json();
    assert_eq!((found["totalResults"].clone(), found["Resources"][0]["id"].clone()), (json!(1), json!(id)));

    // PUT replaces; the Cognito user is updated in place.
    let put = t
        .call(
            "PUT",
            &format!("/Users/{id}"),
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Taro@Example.com", "externalId": "00uABC",
                "name": {"givenName": "Taro", "familyName": "Suzuki"}, "emails": [{"value": "taro@example.com", "primary": true}]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert!(put.json().get(ENTERPRISE).is_none(), "PUT replaces: the extension is gone");
    let entry = t.store().get(&t.org.id, Kind::User, id).await.unwrap().unwrap();
    assert!(!entry.pending, "synced: {:?}", entry.sync_error);
    assert_eq!(t.cognito_user("taro@example.com").await.unwrap().1["family_name"], "Suzuki");

    // Deactivate (Okta), reactivate (Entra's string boolean).
    let off = t.call("PATCH", &format!("/Users/{id}"), patch(json!([{"op": "replace", "value": {"active": false}}]))).await;
    assert_eq!((off.status, off.json()["active"].clone()), (StatusCode::OK, json!(false)));
    assert!(!t.cognito_user("taro@example.com").await.unwrap().0, "disabled in Cognito");
    let on = t.call("PATCH", &format!("/Users/{id}"), patch(json!([{"op": "Replace", "path": "active", "value": "True"}]))).await;
    assert_eq!(on.json()["active"], true);
    assert!(t.cognito_user("taro@example.com").await.unwrap().0);

    // An email change keeps the same Cognito user.
    let before = t.cognito_user("taro@example.com").await.unwrap().1["sub"].clone();
    let moved = t
        .call("PATCH", &format!("/Users/{id}"), patch(json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "taro.s@example.co.jp"}])))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let entry = t.store().get(&t.org.id, Kind::User, id).await.unwrap().unwrap();
    assert!(!entry.pending, "synced: {:?}", entry.sync_error);
    let (_, attrs) = t.cognito_user("taro.s@example.co.jp").await.expect("the same user under the new email");
    assert_eq!(attrs["sub"], before);
    assert!(t.cognito_user("taro@example.com").await.is_none());

    // DELETE (deactivate policy): gone from SCIM, disabled in Cognito, the userName free again.
    assert_eq!(t.call("DELETE", &format!("/Users/{id}"), None).await.status, StatusCode::NO_CONTENT);
    let gone = t.call("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(scim_error(&gone).0, "404");
    assert!(!t.cognito_user("taro.s@example.co.jp").await.unwrap().0);
    let again = t.create_user("taro.s@example.co.jp", json!({"userName": "Taro@Example.com"})).await;
    assert_ne!(again, id);
    let (enabled, attrs) = t.cognito_user("taro.s@example.co.jp").await.unwrap();
    assert!(enabled, "re-provisioning adopts and enables the kept Cognito user");
    assert_eq!((attrs["sub"].clone(), attrs["custom:scim_id"].clone()), (before, again));
}

#[tokio::test]
async fn the_delete_policy_removes_the_cognito_user() {
    let t = spawn_scim_with(OrgPolicies { delete: DeleteMode::Delete, password_sign_in: false }, &[]).await;
    let id = t.create_user("hanako@example.com", json!({})).await;
    assert!(t.cognito_user("hanako@example.com").await.is_some());
    assert_eq!(t.call("DELETE", &format!("/Users/{id}"), None).await.status, StatusCode::NO_CONTENT);
    assert!(t.cognito_user("hanako@example.com").await.is_none());
    assert!(t.store().pending(&t.org.id).await.unwrap().is_empty(), "the tombstone is gone once Cognito is in step");
}

#[tokio::test]
async fn users_outside_the_organisations_domains_are_kept_but_not_in_cognito() {
    let t = spawn_scim().await;
    let id = t.create_user("contractor@gmail.example", json!({})).await;
    assert!(t.cognito_user("contractor@gmail.example").await.is_none());
    let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
    assert!(entry.link.outside_domain && !entry.pending && entry.link.username.is_none());
    // Moving into a domain of the organisation provisions it.
    t.call(
        "PATCH",
        &format!("/Users/{id}"),
        patch(json!([{"op": "replace", "path": "emails", "value": [{"value": "contractor@example.com", "primary": true}]}])),
    )
    .await;
    assert!(t.cognito_user("contractor@example.com").await.is_some());
}

#[tokio::test]
async fn errors_speak_scim() {
    let t = spawn_scim_with(OrgPolicies::default(), &[("SCIM_FILTER_LIMIT", "3")]).await;
    let id = t.create_user("a@example.com", json!({"externalId": "ext-a"})).await;
    for n in 0..3 {
        t.create_user(&format!("u{n}@example.com"), json!({})).await;
    }
    // Emails are not unique: four users share one (outside the organisation's domains).
    for n in 0..4 {
        t.create_user(&format!("s{n}@example.com"), json!({"emails": [{"value": "shared@elsewhere.example"}]})).await;
    }

    let no_token = t.send_with(&t.scim, "GET", "/Users", &[], None).await;
    assert_eq!(scim_error(&no_token), ("401".into(), None));
    assert_eq!(no_token.header("www-authenticate"), Some("Bearer realm=\"scim\""));
    for bad in ["Bearer nonsense", "Bearer scim_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Basic dXNlcjpwYXNz"] {
        assert_eq!(t.send_with(&t.scim, "GET", "/Users", &[("authorization", bad)], None).await.status, StatusCode::UNAUTHORIZED, "{bad}");
    }

    let cases: Vec<Case> = vec![
        ("POST", "/Users".into(), Some(json!({"userName": "A@EXAMPLE.COM"})), "409", Some("uniqueness")),
        ("POST", "/Users".into(), Some(json!({"userName": "b@example.com", "externalId": "ext-a"})), "409", Some("uniqueness")),
        ("POST", "/Users".into(), Some(json!({"name": {"givenName": "No userName"}})), "400", Some("invalidValue")),
        ("POST", "/Users".into(), Some(json!({"userName": ["not", "a", "string"]})), "400", Some("invalidValue")),
        ("GET", "/Users?filter=userName%20eq".into(), None, "400", Some("invalidFilter")),
        ("GET", "/Users?filter=title%20pr".into(), None, "400", Some("tooMany")),
        ("GET", "/Users?filter=emails.value%20eq%20%22shared%40elsewhere.example%22".into(), None, "400", Some("tooMany")),
        ("GET", "/Users?count=many".into(), None, "400", Some("invalidValue")),
        ("PATCH", format!("/Users/{id}"), patch(json!([{"op": "replace", "path": "id", "value": "x"}])), "400", Some("mutability")),
        ("PATCH", format!("/Users/{id}"), patch(json!([{"op": "replace", "path": "nickName[type eq \"x\"]", "value": "x"}])), "400", Some("invalidPath")),
        ("PATCH", format!("/Users/{id}"), patch(json!([{"op": "remove"}])), "400", Some("noTarget")),
        ("PATCH", format!("/Users/{id}"), Some(json!({"Operations": []})), "400", Some("invalidSyntax")),
        ("PATCH", format!("/Users/{id}"), patch(json!([{"op": "replace", "path": "userName", "value": "U0@example.com"}])), "409", Some("uniqueness")),
        ("GET", "/Users/2819c223-0000-0000-0000-000000000000".into(), None, "404", None),
        ("DELETE", "/Users/nope".into(), None, "404", None),
        ("GET", "/Widgets".into(), None, "404", None),
        // A path segment that is not UTF-8 once decoded is an unknown one, in the SCIM format.
        ("GET", "/Users/%FF".into(), None, "404", None),
        ("DELETE", "/Groups/%FF%FE".into(), None, "404", None),
        ("GET", "/%FF".into(), None, "404", None),
        ("GET", "/Schemas/%FF".into(), None, "404", None),
        ("GET", "/Me".into(), None, "501", None),
        ("POST", "/Bulk".into(), Some(json!({})), "501", None),
        ("DELETE", "/Users".into(), None, "405", None),
        ("POST", "/Users/.search".into(), Some(json!({"filter": "userName eq \"a\""})), "400", Some("invalidSyntax")),
    ];
    for (method, path, body, status, scim_type) in cases {
        let reply = t.call(method, &path, body).await;
        assert_eq!(scim_error(&reply), (status.to_owned(), scim_type.map(str::to_owned)), "{method} {path}: {}", reply.body);
    }

    let auth = format!("Bearer {}", t.token);
    let syntax = t.send_with(&t.scim, "POST", "/Users", &[("authorization", &auth), ("content-type", SCIM_JSON)], Some("{\"userName\": ".into())).await;
    assert_eq!(scim_error(&syntax), ("400".into(), Some("invalidSyntax".into())));
    let media = t.send_with(&t.scim, "POST", "/Users", &[("authorization", &auth), ("content-type", "text/plain")], Some("{}".into())).await;
    assert_eq!(scim_error(&media).0, "415");
    let stale = t
        .send_with(
            &t.scim,
            "PUT",
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-match", "W/\"7\"")],
            Some(json!({"userName": "a@example.com"}).to_string()),
        )
        .await;
    assert_eq!(scim_error(&stale).0, "412");
    let current = t
        .send_with(
            &t.scim,
            "PUT",
            &format!("/Users/{id}"),
            &[("authorization", &auth), ("if-match", "W/\"1\"")],
            Some(json!({"userName": "a@example.com"}).to_string()),
        )
        .await;
    assert_eq!((current.status, current.header("etag")), (StatusCode::OK, Some("W/\"2\"")));
    // Nothing a refused request tried was kept.
    let users = t.call("GET", "/Users?count=0", None).await.json();
    assert_eq!(users["totalResults"], 8);
}

/// A page reached without a cursor (a jump) costs the same wherever it starts: the bucket
/// counters locate it, and only the keys of its bucket before it are skipped. The counters follow
/// creates and deletes.
#[tokio::test]
async fn a_page_without_a_cursor_costs_the_same_wherever_it_starts() {
    let t = spawn_scim().await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(t.create_user(&format!("jump{n:02}@example.com"), json!({})).await);
    }
    for gone in ids.drain(..2) {
        assert_eq!(t.call("DELETE", &format!("/Users/{gone}"), None).await.status, StatusCode::NO_CONTENT);
    }
    ids.sort();
    let mut per_bucket = std::collections::HashMap::new();
    ids.iter().for_each(|id| *per_bucket.entry(&id[..2]).or_insert(0usize) += 1);
    let largest_bucket = per_bucket.values().copied().max().unwrap();
    assert_eq!(t.call("GET", "/Users?count=0", None).await.json()["totalResults"], 28);
    for start in [2usize, 15, 27, 28] {
        t.app.calls.take();
        let page = t.call("GET", &format!("/Users?startIndex={start}&count=2"), None).await.json();
        let requests = t.app.calls.take_requests();
        let got: Vec<&str> = page["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!((got, page["totalResults"].clone()), (ids[start - 1..(start + 1).min(28)].iter().map(String::as_str).collect(), json!(28)));
        // A count without a limit reads every key.
        let skipped = shared::testing::counted_at_most(&requests).map_or(usize::MAX, |n| n as usize);
        assert!(skipped < largest_bucket, "startIndex {start}: skipped {skipped} keys, more than one bucket holds ({largest_bucket})");
        assert!(requests.len() <= 5, "startIndex {start}: {requests:?}");
    }
    let past = t.call("GET", "/Users?startIndex=29&count=2", None).await.json();
    assert_eq!((past["totalResults"].clone(), past["itemsPerPage"].clone()), (json!(28), json!(0)));
}

/// An organisation whose resources predate the counters (no counters, no mark that they are
/// complete) still lists right, by counting; `recount` builds its counters (a stale one drops to
/// what is there) and marks them complete, and a concurrent create is not lost from them.
#[tokio::test]
async fn recount_builds_the_counters_of_an_organisation_older_than_them() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let t = spawn_scim().await;
    for n in 0..5 {
        t.create_user(&format!("old{n}@example.com"), json!({})).await;
    }
    let group = t.call("POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Old"}))).await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    // As before the counters: none, no mark, and one stale bucket.
    let (dynamo, table) = (aws_sdk_dynamodb::Client::new(&t.app.sdk), &t.app.stack.table);
    let counters =
        dynamo.query().table_name(table).key_condition_expression("pk = :p").expression_attribute_values(":p", S(format!("SCIM#{}#COUNT", t.org.id)));
    for item in counters.clone().send().await.unwrap().items() {
        let key = [("pk".to_owned(), item["pk"].clone()), ("sk".to_owned(), item["sk"].clone())].into();
        dynamo.delete_item().table_name(table).set_key(Some(key)).send().await.unwrap();
    }
    let stale = [("pk", S(format!("SCIM#{}#COUNT", t.org.id))), ("sk", S("USER#zz".into())), ("resource_count", N("7".into()))];
    dynamo.put_item().table_name(table).set_item(Some(stale.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())).send().await.unwrap();
    let mut ids: Vec<String> = Vec::new();
    let all = t.call("GET", "/Users", None).await.json();
    ids.extend(all["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()));
    assert_eq!((all["totalResults"].clone(), ids.len()), (json!(5), 5), "counted without the counters");
    let jump = t.call("GET", "/Users?startIndex=4&count=1", None).await.json();
    assert_eq!((jump["totalResults"].clone(), jump["Resources"][0]["id"].clone()), (json!(5), json!(ids[3])));

    // A create beside the recount is counted either way.
    let store = t.store();
    let (recounted, created) = tokio::join!(store.recount(&t.org.id), t.create_user("during@example.com", json!({})));
    assert_eq!(recounted.unwrap().1, 1);
    assert!(!created.is_empty());
    let buckets = counters.send().await.unwrap();
    let sum: i64 = buckets
        .items()
        .iter()
        .filter(|i| i["sk"].as_s().unwrap().starts_with("USER#"))
        .map(|i| i["resource_count"].as_n().unwrap().parse::<i64>().unwrap())
        .sum();
    assert!(buckets.items().iter().any(|i| i["sk"] == S("COUNTED".into())), "marked complete");
    assert_eq!(sum, 6, "the stale bucket dropped to what is there, and the concurrent create counted");
    let users = t.call("GET", "/Users?startIndex=3&count=10", None).await.json();
    assert_eq!((users["totalResults"].clone(), users["itemsPerPage"].clone()), (json!(6), json!(4)));
    assert_eq!(t.call("GET", "/Groups", None).await.json()["totalResults"], 1);
}

/// Pages without a cursor at every start (from the last, so none finds one), over ids chosen to
/// share buckets, leave some empty and cross from one bucket to the next.
#[tokio::test]
async fn pages_without_a_cursor_land_right_in_and_across_buckets() {
    let t = spawn_scim().await;
    let store = t.store();
    let now = "2026-12-01T00:00:00Z".to_owned();
    let ids = ["00a", "00b", "00c", "3f1", "a1x", "a1y", "a1z", "ff0"];
    for id in ids {
        let data = serde_json::from_value(json!({"userName": format!("{id}@outside.example")})).unwrap();
        let record =
            shared::directory::scim::resource::Record { kind: Kind::User, id: id.into(), version: 1, created: now.clone(), last_modified: now.clone(), data };
        store.create(&t.org.id, &record, &[], None).await.unwrap();
    }
    let gone = store.get(&t.org.id, Kind::User, "3f1").await.unwrap().unwrap();
    store.delete(&t.org.id, &gone, shared::directory::ports::Deletion::Purge, None).await.unwrap();
    let left: Vec<&str> = ids.iter().copied().filter(|id| *id != "3f1").collect();
    for count in [1usize, 2, 3] {
        for start in (1..=left.len() + 1).rev() {
            let (page, total) = store.page(&t.org.id, Kind::User, start, count, 1_000 + count as u64).await.unwrap();
            let got: Vec<&str> = page.iter().map(|e| e.record.id.as_str()).collect();
            let want: Vec<&str> = left.iter().copied().skip(start - 1).take(count).collect();
            assert_eq!((got, total), (want, left.len()), "startIndex {start}, count {count}");
        }
    }
    assert_eq!(store.page(&t.org.id, Kind::User, 1, 0, 0).await.unwrap().1, left.len());
}

#[tokio::test]
async fn listing_pages_in_a_stable_order_and_filters_sort_and_project() {
    let t = spawn_scim().await;
    let mut ids = Vec::new();
    for n in 0..23 {
        ids.push(
            t.create_user(
                &format!("user{n:02}@example.com"),
                json!({"externalId": format!("ext-{n}"), "name": {"givenName": format!("G{}", n % 3), "familyName": "F"}}),
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    for start in [1, 11, 21] {
        let page = t.call("GET", &format!("/Users?startIndex={start}&count=10"), None).await.json();
        assert_eq!((page["totalResults"].clone(), page["startIndex"].clone()), (json!(23), json!(start)));
        seen.extend(page["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()));
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "every user exactly once, in id order");
    // A page without a cursor (skipping) agrees with the paged walk.
    let skipped = t.call("GET", "/Users?startIndex=7&count=3", None).await.json();
    assert_eq!(skipped["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), &sorted[6..9]);
    let past = t.call("GET", "/Users?startIndex=40&count=3", None).await.json();
    assert_eq!((past["totalResults"].clone(), past["itemsPerPage"].clone()), (json!(23), json!(0)));

    let ext = t.call("GET", "/Users?filter=externalId%20eq%20%22ext-5%22", None).await.json();
    assert_eq!(ext["Resources"][0]["id"], ids[5].as_str());
    let by_email = t.call("GET", "/Users?filter=emails.value%20eq%20%22USER07%40example.com%22", None).await.json();
    assert_eq!(by_email["Resources"][0]["id"], ids[7].as_str());
    let evaluated = t
        .call("GET", "/Users?filter=name.givenName%20eq%20%22g1%22%20and%20userName%20sw%20%22user1%22&sortBy=userName&sortOrder=descending", None)
        .await
        .json();
    let names: Vec<&str> = evaluated["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["user19@example.com", "user16@example.com", "user13@example.com", "user10@example.com"]);
    let projected = t.call("GET", "/Users?filter=userName%20eq%20%22user01%40example.com%22&attributes=userName,name.givenName", None).await.json();
    assert_eq!(
        projected["Resources"][0],
        json!({"id": ids[1], "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "user01@example.com", "name": {"givenName": "G1"}})
    );
    let searched = t
        .call("POST", "/Users/.search", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"user02@example.com\"", "excludedAttributes": ["emails", "meta"]})))
        .await;
    let found = &searched.json()["Resources"][0];
    assert!(found.get("emails").is_none() && found.get("meta").is_none() && found["userName"] == "user02@example.com", "{}", searched.body);
}

#[tokio::test]
async fn groups_keep_members_one_item_each() {
    let t = spawn_scim().await;
    let (a, b, c) =
        (t.create_user("a@example.com", json!({})).await, t.create_user("b@example.com", json!({})).await, t.create_user("c@example.com", json!({})).await);
    let created = t.call("POST", "/Groups", Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales", "members": [{"value": a, "display": "A"}, {"value": b}]}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let gid = created.json()["id"].as_str().unwrap().to_owned();
    let members = |g: &Value| {
        let mut ids: Vec<String> = g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(members(&created.json()), sorted(vec![a.clone(), b.clone()]));

    // Entra: find by displayName without members.
    let found = t.call("GET", "/Groups?filter=displayName%20eq%20%22sales%22&excludedAttributes=members", None).await.json();
    assert_eq!(found["Resources"][0]["id"], gid.as_str());
    assert!(found["Resources"][0].get("members").is_none());
    assert_eq!(scim_error(&t.call("POST", "/Groups", Some(json!({"displayName": "SALES"}))).await).1.as_deref(), Some("uniqueness"));

    let path = format!("/Groups/{gid}");
    t.call("PATCH", &path, patch(json!([{"op": "add", "path": "members", "value": [{"value": c}]}]))).await;
    t.call("PATCH", &path, patch(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]))).await;
    let now = t.call("GET", &path, None).await.json();
    assert_eq!(members(&now), sorted(vec![b.clone(), c.clone()]));
    t.call("PATCH", &path, patch(json!([{"op": "Remove", "path": "members", "value": [{"value": b}, {"value": c}]}]))).await;
    assert!(t.call("GET", &path, None).await.json()["members"].as_array().unwrap().is_empty());
    let replaced =
        t.call("PATCH", &path, patch(json!([{"op": "replace", "value": {"displayName": "Sales EU", "members": [{"value": a}, {"value": c}]}}]))).await;
    assert_eq!(replaced.json()["displayName"], "Sales EU");
    assert_eq!(members(&replaced.json()), sorted(vec![a.clone(), c.clone()]));

    // A member must be a user of this organisation; the refused change leaves everything as it was.
    let refused = t.call("PATCH", &path, patch(json!([{"op": "add", "path": "members", "value": [{"value": b}, {"value": "no-such-user"}]}]))).await;
    assert_eq!(scim_error(&refused).1.as_deref(), Some("invalidValue"));
    assert_eq!(members(&t.call("GET", &path, None).await.json()), sorted(vec![a.clone(), c.clone()]));

    // A user's groups on request; deleting a user drops its memberships.
    let with_groups = t.call("GET", &format!("/Users/{a}?attributes=groups"), None).await.json();
    assert_eq!(with_groups["groups"][0]["value"], gid.as_str());
    t.call("DELETE", &format!("/Users/{a}"), None).await;
    assert_eq!(members(&t.call("GET", &path, None).await.json()), vec![c.clone()]);
    assert_eq!(t.call("DELETE", &path, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.call("GET", &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.call("POST", "/Groups", Some(json!({"displayName": "Sales EU"}))).await.status, StatusCode::CREATED, "the name is free again");
}

/// A delete that loses a race to another change removes no membership: they go in the resource's
/// own transaction, or, when more than fit (the 120-member group here), before it, each batch only
/// while the resource is still the version read.
#[tokio::test]
async fn a_delete_refused_for_a_stale_version_removes_no_membership() {
    use shared::common::store::StoreError;
    use shared::directory::ports::Deletion::Purge;
    use shared::directory::scim::resource::Record;
    let t = &spawn_scim().await;
    let store = &t.store();
    let org = &t.org.id;
    let now = "2026-12-02T00:00:00Z".to_owned();
    let record = |kind, id: &str, data: Value| Record {
        kind,
        id: id.into(),
        version: 1,
        created: now.clone(),
        last_modified: now.clone(),
        data: serde_json::from_value(data).unwrap(),
    };
    let users: Vec<String> = (0..120).map(|n| format!("u{n:03}")).collect();
    for id in &users {
        store.create(org, &record(Kind::User, id, json!({"userName": format!("{id}@outside.example")})), &[], None).await.unwrap();
    }
    let members: Vec<Value> = users.iter().map(|id| json!({"value": id})).collect();
    store.create(org, &record(Kind::Group, "big", json!({"displayName": "Big"})), &members, None).await.unwrap();
    store.create(org, &record(Kind::Group, "small", json!({"displayName": "Small"})), &members[..2], None).await.unwrap();
    let count = |group: &'static str| async move { t.call("GET", &format!("/Groups/{group}"), None).await.json()["members"].as_array().map_or(0, Vec::len) };
    let get = |kind, id: &'static str| async move { store.get(org, kind, id).await.unwrap().unwrap() };

    // Read, then changed by someone else, then deleted at the version read: refused, nothing removed.
    let (user, group) = (get(Kind::User, "u000").await, get(Kind::Group, "big").await);
    for entry in [&user, &group] {
        let next = Record { version: 2, ..entry.record.clone() };
        store.replace(org, entry, &next, None).await.unwrap();
        assert_eq!(store.delete(org, entry, Purge, None).await, Err(StoreError::Conflict));
    }
    assert_eq!((count("big").await, count("small").await), (120, 2), "no membership removed");

    // At the current version: gone, with every membership.
    store.delete(org, &get(Kind::User, "u000").await, Purge, None).await.unwrap();
    assert_eq!((count("big").await, count("small").await), (119, 1));
    store.delete(org, &get(Kind::Group, "big").await, Purge, None).await.unwrap();
    assert_eq!(t.call("GET", "/Groups/big", None).await.status, StatusCode::NOT_FOUND);
    let dynamo = aws_sdk_dynamodb::Client::new(&t.app.sdk);
    let left = dynamo
        .query()
        .table_name(&t.app.stack.table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S(format!("SCIM#{org}#MEMBERS#big")))
        .send()
        .await
        .unwrap();
    assert_eq!(left.count(), 0, "no member item of the deleted group left");
    let groups = t.call("GET", "/Users/u001?attributes=groups", None).await.json();
    assert_eq!(groups["groups"].as_array().map(|g| g.iter().map(|g| g["value"].clone()).collect::<Vec<_>>()), Some(vec![json!("small")]));
}

#[tokio::test]
async fn one_request_cannot_use_up_the_function() {
    let t = spawn_scim().await;
    let id = t.create_user("bounded@example.com", json!({})).await;
    let path = format!("/Users/{id}");
    let too_many = |reply: &Reply, bound: &str| {
        assert_eq!(scim_error(reply), ("400".into(), Some("tooMany".into())), "{}", reply.body);
        assert!(reply.json()["detail"].as_str().unwrap().contains(bound), "the detail names the bound ({bound}): {}", reply.body);
    };
    let title = json!({"op": "replace", "path": "title", "value": "x"});
    too_many(&t.call("PATCH", &path, patch(Value::Array(vec![title; 101]))).await, "at most 100 operations");
    let phones: Vec<Value> = (0..101).map(|i| json!({"value": format!("+81 90 0000 {i:04}"), "type": "work"})).collect();
    too_many(&t.call("PATCH", &path, patch(json!([{"op": "add", "path": "phoneNumbers", "value": phones}]))).await, "at most 100 values");
    let terms = |attr: &str| (0..51).map(|i| format!("{attr} eq \"x{i}@example.com\"")).collect::<Vec<_>>().join(" or ");
    too_many(&t.call("PATCH", &path, patch(json!([{"op": "remove", "path": format!("emails[{}]", terms("value"))}]))).await, "at most 50 comparisons");
    too_many(&t.call("GET", &users_where(&terms("userName")), None).await, "at most 50 comparisons");
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": terms("emails.value")});
    too_many(&t.call("POST", "/Users/.search", Some(search)).await, "at most 50 comparisons");
    let group = t.call("POST", "/Groups", Some(json!({"displayName": "Everyone"}))).await.json()["id"].as_str().unwrap().to_owned();
    let members: Vec<Value> = (0..1001).map(|i| json!({"value": format!("u{i}")})).collect();
    too_many(&t.call("PATCH", &format!("/Groups/{group}"), patch(json!([{"op": "add", "path": "members", "value": members}]))).await, "at most 1000 members");
    // A body past the limit is 413, in the SCIM error format.
    let big = t.call("POST", "/Users", Some(json!({"userName": "big@example.com", "title": "x".repeat(scim::web::MAX_BODY_BYTES)}))).await;
    assert_eq!(scim_error(&big), ("413".into(), None));
    // Within the bounds the same requests go through; the refused ones changed nothing.
    let user = t.call("GET", &path, None).await.json();
    assert!(user.get("phoneNumbers").is_none() && user.get("title").is_none() && user["meta"]["version"] == "W/\"1\"", "{user}");
    let fifty = (0..50).map(|i| format!("userName eq \"x{i}@example.com\"")).collect::<Vec<_>>().join(" or ");
    assert_eq!(t.call("GET", &users_where(&fifty), None).await.json()["totalResults"], 0);
    let hundred = patch(Value::Array(vec![json!({"op": "replace", "path": "title", "value": "x"}); 100]));
    assert_eq!(t.call("PATCH", &path, hundred).await.status, StatusCode::OK);
}

#[tokio::test]
async fn member_types_survive_the_store() {
    let t = spawn_scim().await;
    let a = t.create_user("a@example.com", json!({})).await;
    let inner = t.call("POST", "/Groups", Some(json!({"displayName": "Inner"}))).await.json()["id"].as_str().unwrap().to_owned();
    let created = t.call("POST", "/Groups", Some(json!({"displayName": "Outer", "members": [{"value": a, "type": "user"}]}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["members"], json!([{"value": a, "type": "User", "$ref": format!("{BASE}/Users/{a}")}]));
    let outer = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{outer}");
    let added = t.call("PATCH", &path, patch(json!([{"op": "add", "path": "members", "value": [{"value": inner, "type": "Group"}]}]))).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let members = t.call("GET", &path, None).await.json()["members"].clone();
    let member = |id: &str| members.as_array().unwrap().iter().find(|m| m["value"] == id).cloned().unwrap_or_else(|| panic!("{id} in {members}"));
    assert_eq!(member(&inner), json!({"value": inner, "type": "Group", "$ref": format!("{BASE}/Groups/{inner}")}));
    assert_eq!(member(&a)["type"], "User");

    let device = t.call("PATCH", &path, patch(json!([{"op": "add", "path": "members", "value": [{"value": a, "type": "Device"}]}]))).await;
    assert_eq!(scim_error(&device), ("400".into(), Some("invalidValue".into())));
    let not_a_group = t.call("PATCH", &path, patch(json!([{"op": "add", "path": "members", "value": [{"value": a, "type": "Group"}]}]))).await;
    assert_eq!(scim_error(&not_a_group), ("400".into(), Some("invalidValue".into())), "a member of type Group is a group of this organisation");
    // Deleting the inner group drops its membership.
    assert_eq!(t.call("DELETE", &format!("/Groups/{inner}"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.call("GET", &path, None).await.json()["members"], json!([{"value": a, "type": "User", "$ref": format!("{BASE}/Users/{a}")}]));
}

#[tokio::test]
async fn addresses_cognito_cannot_take_are_refused_up_front() {
    let t = spawn_scim().await;
    for bad in ["sato ken@example.com", "佐藤@example.com", "ken.@example.com", "ken@example.com."] {
        let reply = t.call("POST", "/Users", Some(json!({"userName": bad}))).await;
        assert_eq!(scim_error(&reply), ("400".into(), Some("invalidValue".into())), "{bad}: {}", reply.body);
        assert!(reply.json()["detail"].as_str().unwrap().contains("cannot be a sign-in email"), "{}", reply.body);
    }
    let primary = t.call("POST", "/Users", Some(json!({"userName": "ken", "emails": [{"value": "佐藤@example.co.jp", "primary": true}]}))).await;
    assert_eq!(scim_error(&primary).1.as_deref(), Some("invalidValue"));
    assert!(primary.json()["detail"].as_str().unwrap().contains("non-ASCII"), "{}", primary.body);
    // A change to such an address is refused too.
    let id = t.create_user("ken@example.com", json!({})).await;
    let moved =
        t.call("PATCH", &format!("/Users/{id}"), patch(json!([{"op": "replace", "path": "emails[primary eq true].value", "value": "ken.@example.com"}]))).await;
    assert_eq!(scim_error(&moved), ("400".into(), Some("invalidValue".into())), "{}", moved.body);
    assert_eq!(t.call("GET", "/Users?count=0", None).await.json()["totalResults"], 1, "only the valid user was kept");
    assert!(t.store().pending(&t.org.id).await.unwrap().is_empty(), "nothing is left waiting for Cognito");
}

#[tokio::test]
async fn a_japanese_name_reaches_cognito_family_name_first() {
    let t = spawn_scim().await;
    t.create_user("hanako@example.co.jp", json!({"name": {"givenName": "花子", "familyName": "山田"}})).await;
    let (_, attrs) = t.cognito_user("hanako@example.co.jp").await.expect("a Cognito user");
    assert_eq!((attrs["name"].as_str(), attrs["given_name"].as_str(), attrs["family_name"].as_str()), ("山田 花子", "花子", "山田"));
    t.create_user("taro@example.co.jp", json!({"locale": "ja-JP"})).await;
    assert_eq!(t.cognito_user("taro@example.co.jp").await.unwrap().1["name"], "Yamada Taro", "a Japanese locale");
    t.create_user("anna@example.com", json!({"name": {"givenName": "Anna", "familyName": "Berg"}, "displayName": "Anna B."})).await;
    assert_eq!(t.cognito_user("anna@example.com").await.unwrap().1["name"], "Anna B.", "what the client composed wins");
}

#[tokio::test]
async fn discovery_documents_describe_what_is_served() {
    let t = spawn_scim().await;
    let config = t.call("GET", "/ServiceProviderConfig", None).await.json();
    assert_eq!(
        (config["patch"]["supported"].clone(), config["bulk"]["supported"].clone(), config["etag"]["supported"].clone()),
        (json!(true), json!(false), json!(true))
    );
    let types = t.call("GET", "/ResourceTypes", None).await.json();
    assert_eq!(types["totalResults"], 2);
    let user_type = t.call("GET", "/ResourceTypes/User", None).await.json();
    assert_eq!(user_type["schemaExtensions"][0]["schema"], ENTERPRISE);
    let schemas = t.call("GET", "/Schemas", None).await.json();
    assert_eq!(schemas["Resources"].as_array().unwrap().len(), 3);
    let user = t.call("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", None).await.json();
    let user_name = user["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!((user_name["uniqueness"].clone(), user_name["required"].clone()), (json!("server"), json!(true)));
    assert_eq!(t.call("GET", "/Schemas/urn:nope", None).await.status, StatusCode::NOT_FOUND);
}

/// A create that adopts a person's existing account (same email, no organisation yet) ends the
/// sessions it had: they carry the profile from before. Made inactive, the account is revoked too.
#[tokio::test]
async fn a_create_that_adopts_an_existing_account_ends_its_sessions() {
    let t = spawn_scim().await;
    // Hanako's account was made with her email in another case: Cognito takes it for the same.
    for (stored, email, active) in [("Hanako@Example.com", "hanako@example.com", true), ("jiro@example.com", "jiro@example.com", false)] {
        let username = t.app.user(stored, |_| {}).await;
        let signed_in = t.app.login(email, crate::harness::PASSWORD).await;
        t.app.handoff(&signed_in).await;
        assert_eq!(t.app.items_under("SESSION#").await, 1, "{email}");
        let id = t.create_user(email, json!({"active": active})).await;
        let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
        assert!(!entry.pending, "{email}: synced: {:?}", entry.sync_error);
        let (enabled, attrs) = t.cognito_user(email).await.expect("the same account");
        assert_eq!((enabled, attrs["custom:scim_id"].as_str()), (active, id.as_str()), "{email}: adopted");
        assert_eq!(t.app.items_under("SESSION#").await, 0, "{email}: the session from before ended");
        assert_eq!(t.app.items_under(&format!("REVOKED#{}", shared::signin::session::user_key(&username))).await, usize::from(!active), "{email}");
    }
}

/// A company's directory never takes over an account an operator disabled (it stays disabled,
/// the refusal recorded with its reason), nor an operator's own (a console role would pass to
/// whoever controls the company's directory and provider).
#[tokio::test]
async fn a_create_does_not_adopt_a_disabled_account_or_an_operators() {
    let t = spawn_scim().await;
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&t.app.sdk);
    let banned = t.app.user("banned@example.com", |_| {}).await;
    idp.admin_disable_user().user_pool_id(&t.app.stack.user_pool_id).username(&banned).send().await.unwrap();
    t.app.user("operator@example.com", |u| u.groups = &["bridge-operator"]).await;
    for (email, enabled, reason) in [("banned@example.com", false, "disabled by an operator"), ("operator@example.com", true, "holds a console role")] {
        let id = t.create_user(email, json!({})).await;
        let entry = t.store().get(&t.org.id, Kind::User, &id).await.unwrap().unwrap();
        assert!(!entry.pending && entry.sync_error.as_deref().is_some_and(|e| e.contains(reason)), "{email}: refused, and why: {:?}", entry.sync_error);
        let (now_enabled, attrs) = t.cognito_user(email).await.unwrap();
        assert_eq!((now_enabled, attrs.get("custom:org_id"), attrs.get("custom:scim_id")), (enabled, None, None), "{email}: left as it was");
    }
}

/// Large resources: a page stays within Lambda's 6 MB answer (it ends early, says how many it
/// holds in `itemsPerPage`, and the next `startIndex` goes on from there until every user is
/// seen); a filter or sort no key answers evaluates at most 16 MiB of them (`tooMany`), though
/// far fewer than `SCIM_FILTER_LIMIT` resources.
#[tokio::test]
async fn large_users_stay_within_the_answer_and_memory_limits() {
    const USERS: usize = 300;
    let t = spawn_scim().await;
    let title = "t".repeat(60_000);
    for n in 0..USERS {
        // Emails outside the organisation's domains: no Cognito user, a quicker create.
        t.create_user(&format!("big{n:03}@outside.example"), json!({"title": title})).await;
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut start = 1;
    while seen.len() < USERS {
        let reply = t.call("GET", &format!("/Users?count=100&startIndex={start}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:.200}", reply.body);
        assert!(reply.body.len() < 6_000_000, "{} bytes", reply.body.len());
        let page = reply.json();
        let held = page["itemsPerPage"].as_u64().unwrap() as usize;
        assert!(held > 0 && held < 100 && page["Resources"].as_array().unwrap().len() == held, "{held}");
        assert_eq!(page["totalResults"], USERS);
        seen.extend(page["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        start += held;
    }
    assert_eq!((seen.len(), start), (USERS, USERS + 1), "every user once");
    for query in ["filter=title%20pr", "sortBy=title"] {
        let refused = t.call("GET", &format!("/Users?{query}"), None).await;
        assert_eq!(scim_error(&refused), ("400".into(), Some("tooMany".into())), "{query}: {}", refused.body);
        assert!(refused.body.contains("MiB"), "{}", refused.body);
    }
}
