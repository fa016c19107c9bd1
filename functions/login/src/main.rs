use lambda_http::{Error, service_fn};
use login::{config::Config, handler, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    let login = Arc::new(Login::new(&config, &sdk)?);
    lambda_http::run(service_fn(move |request| {
        let login = login.clone();
        async move { Ok::<_, Error>(handler::handle(&login, request).await) }
    }))
    .await
}
