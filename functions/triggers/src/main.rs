//! The Cognito trigger Lambda's entry point.

use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use triggers::state::Triggers;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let sdk = shared::adapters::aws::load().await;
    let triggers = Arc::new(Triggers::new(&shared::config::Env, &sdk)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let triggers = triggers.clone();
        async move {
            let now = shared::common::time::unix_now();
            Ok::<_, Error>(triggers::handler::handle(&triggers, event.payload, now).await?)
        }
    }))
    .await
}
