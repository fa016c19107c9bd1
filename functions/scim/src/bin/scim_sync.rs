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
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| {
        let scim = scim.clone();
        async move {
            let report = scim.sweep().await?;
            tracing::info!(synced = report.synced, failed = report.failed, "scim sync sweep");
            Ok::<_, Error>(json!({"synced": report.synced, "failed": report.failed}))
        }
    }))
    .await
}
