//! The custom SMS sender Lambda's entry point.

use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Time kept back from Lambda's deadline for recording the outcome.
const MARGIN: Duration = Duration::from_millis(500);

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let sdk = shared::adapters::aws::load().await;
    let sender = Arc::new(sms_sender::state::sender(&shared::config::Env, &sdk)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let sender = sender.clone();
        async move {
            let (now, deadline) = shared::common::time::invocation_clock(event.context.deadline, MARGIN);
            Ok::<_, Error>(sms_sender::handler::handle(&sender, &event.payload, now, deadline).await?)
        }
    }))
    .await
}
