//! The SCIM figures against moto: import 10,000 users (as Okta's or Entra's first sync does),
//! then list them all with `count=100` the way Okta's import pages, checking every user comes
//! back exactly once in a stable order; then what one page costs by where it starts. Prints
//! times and AWS calls; asserts nothing about time.
//!
//! `make bench-scim` (or `cargo bench -p scim --bench scim_import -- [USERS] [CONCURRENCY]`).

use http::Request;
use lambda_http::Body;
use scim::{config::Config, routes, state::Scim};
use serde_json::{Value, json};
use shared::adapters::dynamo::orgs::DynamoOrgs;
use shared::adapters::local_stack as local;
use shared::directory::org::{EmailDomain, OrgId, OrgPolicies, Organisation};
use shared::directory::ports::OrgStore;
use shared::directory::scim_token::{self, ScimTokenStore};
use shared::testing::{CallLog, moto_sdk, start_moto};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

type Failure = Box<dyn std::error::Error>;

async fn call(scim: &axum::Router, token: &str, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), Failure> {
    let request = Request::builder()
        .method(method)
        .uri(format!("https://api.example.com/scim/v2{path}"))
        .header("host", "api.example.com")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/scim+json")
        .body(body.map_or(Body::Empty, |b| Body::Text(b.to_string())))?;
    let response = shared::testing::oneshot(scim, request).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    Ok((status, body))
}

fn summary(calls: &[String]) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in calls {
        *counts.entry(c.rsplit('.').next().unwrap_or(c).to_owned()).or_default() += 1;
    }
    let mut pairs: Vec<_> = counts.into_iter().collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16);

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let (mut moto, endpoint) = start_moto(std::path::Path::new(root), &[])?;
    let calls = CallLog::default();
    let sdk = moto_sdk(&endpoint, &calls).await;
    let stack = local::provision(&sdk, "bench").await?;
    let orgs = DynamoOrgs::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.table);
    let domains = vec![EmailDomain::parse("bench.example")?];
    let org = Organisation { id: OrgId::generate(), name: "Bench Corp".into(), domains, policies: OrgPolicies::default(), connection: None, version: 1 };
    OrgStore::create(&orgs, &org).await?;
    let issued = scim_token::issue(&org.id, "bench", 0);
    orgs.add(&issued.record).await?;
    let token = issued.value().to_owned();
    let env: HashMap<String, String> = stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let function = Arc::new(Scim::new(&Config::from_env(&env)?, &sdk));
    let scim = routes::router(function.clone());
    let token = Arc::new(token);
    calls.take();

    println!("importing {users} users, {concurrency} at a time, against moto");
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (scim, token, next) = (scim.clone(), token.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= users {
                    return Ok::<_, String>(ids);
                }
                let body = json!({"userName": format!("user{n:05}@bench.example"), "externalId": format!("ext-{n}"), "name": {"givenName": "Bench", "familyName": format!("User {n}")},
                    "emails": [{"value": format!("user{n:05}@bench.example"), "type": "work", "primary": true}], "active": true});
                let (status, created) = call(&scim, &token, "POST", "/Users", Some(body)).await.map_err(|e| e.to_string())?;
                if status != 201 {
                    return Err(format!("user {n}: {status} {created}"));
                }
                ids.push(created["id"].as_str().unwrap_or_default().to_owned());
                if (n + 1) % 1000 == 0 {
                    println!("  {} created", n + 1);
                }
            }
        }));
    }
    let mut created = HashSet::new();
    for w in workers {
        created.extend(w.await??);
    }
    let import = started.elapsed();
    let import_calls = calls.take();
    println!(
        "import: {} users in {:.1} s ({:.0} users/s); per user: {:.2} DynamoDB + {:.2} Cognito calls ({})",
        created.len(),
        import.as_secs_f64(),
        created.len() as f64 / import.as_secs_f64(),
        import_calls.iter().filter(|c| c.starts_with("DynamoDB")).count() as f64 / users as f64,
        import_calls.iter().filter(|c| c.starts_with("AWSCognito")).count() as f64 / users as f64,
        summary(&import_calls)
    );

    // moto's Cognito is not thread-safe: under concurrency some of its calls fail with a 500.
    // Those changes are kept as pending syncs; the sweep (as scheduled in AWS) applies them.
    let pending = shared::directory::ports::ScimStore::pending(
        &shared::adapters::dynamo::scim::DynamoScim::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.table),
        &org.id,
    )
    .await?
    .len();
    let swept = Instant::now();
    let report = function.sweep(0, std::time::Instant::now() + std::time::Duration::from_secs(3600)).await?;
    println!(
        "pending Cognito syncs after the import: {pending}; the sweep synced {} ({} failed) in {:.1} s",
        report.synced,
        report.failed,
        swept.elapsed().as_secs_f64()
    );
    calls.take();

    let started = Instant::now();
    let (mut seen, mut order, mut start, mut pages) = (HashSet::new(), Vec::new(), 1, 0);
    loop {
        let (status, page) = call(&scim, &token, "GET", &format!("/Users?startIndex={start}&count=100"), None).await?;
        if status != 200 {
            return Err(format!("page at {start}: {status} {page}").into());
        }
        pages += 1;
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        for r in &resources {
            let id = r["id"].as_str().unwrap_or_default().to_owned();
            if !seen.insert(id.clone()) {
                return Err(format!("{id} listed twice").into());
            }
            order.push(id);
        }
        if resources.is_empty() || start + resources.len() > page["totalResults"].as_u64().unwrap_or(0) as usize {
            break;
        }
        start += resources.len();
    }
    let listing = started.elapsed();
    let listing_calls = calls.take();
    let mut sorted = order.clone();
    sorted.sort();
    let complete = seen == created;
    println!(
        "listing: {} pages of 100 in {:.1} s ({:.0} ms/page); every user exactly once: {complete}; stable (id) order: {}; calls: {} ({:.2} per page)",
        pages,
        listing.as_secs_f64(),
        listing.as_millis() as f64 / pages as f64,
        sorted == order,
        summary(&listing_calls),
        listing_calls.len() as f64 / pages as f64
    );

    // What one page costs by where it starts: the first (`totalResults` from the bucket
    // counters), one reached page by page (the previous page left its cursor), and two reached
    // directly (no cursor: the counters find the bucket, and only that bucket's keys before the
    // page are skipped with a `Select=COUNT` query).
    let half = users / 2 + 1;
    let positions = [
        ("first page", 1),
        ("after the page before it (cursor)", half),
        ("straight to the middle (no cursor)", half + 50),
        ("straight to the end (no cursor)", users.saturating_sub(49).max(1)),
    ];
    for (label, start) in positions {
        let (status, page) = call(&scim, &token, "GET", &format!("/Users?startIndex={start}&count=100"), None).await?;
        let got = page["Resources"].as_array().map_or(0, Vec::len);
        let requests = calls.take_requests();
        let skipped = shared::testing::counted_at_most(&requests).map_or("every user".to_owned(), |n| n.to_string());
        let targets: Vec<String> = requests.into_iter().map(|(target, _)| target).collect();
        println!("page at startIndex {start} ({label}): {status}, {got} users; calls: {}; keys skipped: {skipped}", summary(&targets));
    }
    let _ = moto.kill();
    if !complete || sorted != order {
        return Err("the listing was not complete and stable".into());
    }
    Ok(())
}
