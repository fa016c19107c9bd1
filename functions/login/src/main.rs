use lambda_http::Error;
use login::{config::Config, routes, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    let login = Arc::new(Login::new(&config, &sdk)?);
    login.sign_in.prefetch(shared::common::time::unix_now()).await;
    lambda_http::run(routes::router(login)).await
}
