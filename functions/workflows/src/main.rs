//! The workflow runner Lambda's entry point: DynamoDB stream batches in, batch item failures
//! out; and the daily schedule's inactivity scan.
// The runner's future (its connectors' and Cognito steps' futures nested) is deeper than the
// compiler's default query depth when its layout is computed.
#![recursion_limit = "256"]

use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;
use shared::adapters::workflow_runner::Sleep;
use std::sync::Arc;
use workflows::state::Workflows;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let sdk = shared::adapters::aws::load().await;
    let workflows = Arc::new(Workflows::new(&shared::config::Env, &sdk, Arc::new(Sleep))?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let workflows = workflows.clone();
        async move {
            let (now, deadline) = shared::common::time::invocation_clock(event.context.deadline, std::time::Duration::ZERO);
            if event.payload.get("Records").is_some() {
                Ok::<_, Error>(workflows::handler::handle_json(&workflows, &event.payload, now, Some(deadline)).await?)
            } else {
                Ok(workflows::handler::scheduled(&workflows, &event.payload, now).await?)
            }
        }
    }))
    .await
}
