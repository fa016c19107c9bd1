use lambda_http::Error;
use login::{config::Config, routes, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    let login = Arc::new(Login::new(&config, &sdk)?);
    // Loading ahead runs beside the Runtime API's first `next`: the first request waits only for
    // what it needs and is still on its way (each cache loads a value once). A load that fails is
    // loaded again by the request that needs it; one a freeze after init cut off, once its
    // timeout ends.
    let ahead = login.clone();
    tokio::spawn(async move { ahead.sign_in.prefetch(shared::common::time::unix_now()).await });
    lambda_http::run(routes::router(login)).await
}
