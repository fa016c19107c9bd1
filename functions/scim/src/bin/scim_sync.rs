//! The scheduled sweep: retries every organisation's outstanding Cognito syncs (a change whose
//! Cognito call failed stays recorded as pending until this, or the next change, applies it).

use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use scim::state::Scim;
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let scim = Arc::new(Scim::from_env().await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let scim = scim.clone();
        async move {
            // Stop taking up users with time left to finish the one under way (its Cognito calls).
            let (now, deadline) = shared::common::time::invocation_clock(event.context.deadline, std::time::Duration::from_secs(20));
            let report = scim.sweep(now, deadline).await?;
            tracing::info!(synced = report.synced, failed = report.failed, left = report.left, "scim sync sweep");
            Ok::<_, Error>(json!({"synced": report.synced, "failed": report.failed, "left": report.left}))
        }
    }))
    .await
}
