//! Events through the workflow runner against moto: EVENT items recorded in the table, handed
//! to the runner Lambda's handler in stream batches of 50, each running one flow whose step
//! posts to a service on loopback (answering at once, or after `--service-ms`: a slow service,
//! where events of different people run side by side). Prints events per second and AWS calls
//! per processed event; asserts nothing about time.
//!
//! `make bench-workflows` (or `cargo bench --profile dev -p workflows --bench runner -- [EVENTS]
//! [--service-ms MS]`).

use axum::Router;
use serde_json::{Value, json};
use shared::adapters::dynamo::workflows::DynamoWorkflows;
use shared::events::IdentityEvent;
use shared::testing::{CallLog, MemoryRuns, moto_sdk, start_moto};
use shared::workflows::flow::Flow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use workflows::state::Workflows;

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let (mut events, mut service_ms) = (1000usize, 0u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--service-ms" => service_ms = args.next().and_then(|a| a.parse().ok()).unwrap_or(0),
            a if !a.starts_with("--") => events = a.parse().unwrap_or(events),
            _ => {}
        }
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let (mut moto, endpoint) = start_moto(std::path::Path::new(root), &[])?;
    let calls = CallLog::default();
    let sdk = moto_sdk(&endpoint, &calls).await;
    let stack = shared::adapters::local_stack::provision(&sdk, "bench").await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let service = Router::new().fallback(move || async move {
        tokio::time::sleep(std::time::Duration::from_millis(service_ms)).await;
        (axum::http::StatusCode::CREATED, axum::Json(json!({"result": {"number": "INC0010001"}})))
    });
    tokio::spawn(async move { axum::serve(listener, service).await });

    let store = Arc::new(DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.table));
    store.seed_connection(&serde_json::from_value(json!({"name": "servicenow", "base_url": base, "auth": {"type": "none"}}))?).await?;
    let mut flow: Flow = serde_json::from_str(&std::fs::read_to_string(format!("{root}/workflows/templates/high-risk-sign-in-servicenow.json"))?)?;
    flow.version = 1;
    store.seed_flow(&flow).await?;
    let mut batches = Vec::new();
    for chunk in (0..events).collect::<Vec<_>>().chunks(50) {
        let mut records = Vec::new();
        for i in chunk {
            let event: IdentityEvent = serde_json::from_value(json!({"id": format!("evt-{i}"), "type": "sign_in.high_risk", "at": 1_700_000_000,
                "user": {"sub": format!("sub-{i}"), "email": format!("user{i}@example.com")}, "context": {"app": "support", "country": "FR"}}))?;
            store.record(&event).await?;
            records.push(json!({"eventID": i.to_string(), "eventName": "INSERT", "awsRegion": "ap-northeast-1", "dynamodb": {"SequenceNumber": i.to_string(), "SizeBytes": 512,
                "NewImage": {"pk": {"S": format!("EVENT#{}", event.id)}, "data": {"S": serde_json::to_string(&event)?}}}}));
        }
        batches.push(json!({ "Records": records }));
    }

    let workflows = Workflows {
        daily: Arc::new(shared::adapters::dynamo::daily::DynamoDailyCounts::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.table)),
        store,
        secrets: Arc::new(shared::common::secrets::CachedSecrets::new(
            Arc::new(shared::testing::MemorySecrets::demo()),
            shared::common::secrets::SecretRef(String::new()),
            std::time::Duration::from_secs(60),
        )),
        pause: Arc::new(MemoryRuns::default()),
        services: Default::default(),
    };
    calls.take();
    let started = Instant::now();
    for batch in &batches {
        let answer: Value = workflows::handler::handle_json(&workflows, batch, 1_700_000_100, None).await?;
        if answer["batchItemFailures"].as_array().is_some_and(|f| !f.is_empty()) {
            return Err(format!("batch failures: {answer}").into());
        }
    }
    let elapsed = started.elapsed();
    let taken = calls.take();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for c in &taken {
        *counts.entry(c.rsplit('.').next().unwrap_or(c).to_owned()).or_default() += 1;
    }
    println!(
        "{events} events in {} batches of 50 through the runner against moto, the service answering in {service_ms} ms: {:.2} s, {:.0} events/s",
        batches.len(),
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
    let mut pairs: Vec<_> = counts.into_iter().collect();
    pairs.sort();
    for (op, n) in pairs {
        println!("  {op}: {n} ({:.2} per event)", n as f64 / events as f64);
    }
    let _ = moto.kill();
    Ok(())
}
