use lambda_http::{Error, service_fn};
use scim::{config::Config, handler, state::Scim};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    let scim = Arc::new(Scim::new(&config, &sdk));
    lambda_http::run(service_fn(move |request| {
        let scim = scim.clone();
        async move { Ok::<_, Error>(handler::handle(&scim, request).await) }
    }))
    .await
}
