use lambda_http::Error;
use login::{config::Config, routes, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    let login = Arc::new(Login::new(&config, &sdk)?);
    // Loading ahead only saves the first person time: if AWS is slow to answer, stop waiting
    // after a second and let the first request load what is missing.
    let prefetch = login.sign_in.prefetch(shared::common::time::unix_now());
    if tokio::time::timeout(std::time::Duration::from_secs(1), prefetch).await.is_err() {
        tracing::warn!("init stopped waiting for what it loads ahead after 1 s");
    }
    lambda_http::run(routes::router(login)).await
}
