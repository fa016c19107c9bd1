//! The session-ends Lambda's entry point: DynamoDB stream batches of ended sessions in, batch
//! item failures out (`workflows::session_ends`).

use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use workflows::session_ends::{SessionEnds, handle_json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let sdk = shared::adapters::aws::load().await;
    let ends = Arc::new(SessionEnds::new(&shared::config::Env, &sdk)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let ends = ends.clone();
        async move {
            let (now, deadline) = shared::common::time::invocation_clock(event.context.deadline, std::time::Duration::ZERO);
            Ok::<_, Error>(handle_json(&ends, &event.payload, now, Some(deadline)).await?)
        }
    }))
    .await
}
