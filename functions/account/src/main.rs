//! The account function: `GET /account` and the account page's JSON calls, with the login
//! function's configuration and state (`login::routes::account_router`). Not here: any route of
//! the sign-in itself.

use lambda_http::Error;
use login::{config::Config, routes, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    // Every call opens a grant sealed with the bridge's key: loaded ahead, beside the rest of
    // init and the Runtime API's first `next` (a load that fails is loaded again by the request
    // that needs it).
    let secrets = Login::secrets(&config, &sdk);
    let early = secrets.clone();
    tokio::spawn(async move {
        if let Err(error) = early.bridge().await {
            tracing::warn!(%error, "could not load the bridge secret ahead of the first request");
        }
    });
    let login = Arc::new(Login::new(&config, &sdk, secrets)?);
    lambda_http::run(routes::account_router(login)).await
}
