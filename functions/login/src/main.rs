use lambda_http::Error;
use login::{config::Config, routes, state::Login};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let config = Config::from_env(&shared::config::Env)?;
    let sdk = shared::adapters::aws::load().await;
    // Loading ahead runs beside the rest of init and the Runtime API's first `next`: the first
    // request waits only for what it needs and is still on its way (each cache loads a value
    // once). The bridge secret goes first, before the other clients are built: a sign-in needs it
    // before anything else. A load that fails is loaded again by the request that needs it; one a
    // freeze after init cut off, once its timeout ends.
    let secrets = Login::secrets(&config, &sdk);
    let early = secrets.clone();
    tokio::spawn(async move {
        if let Err(error) = early.bridge().await {
            // The prefetch below tries once more; the first request, again if that fails too.
            tracing::warn!(%error, "could not load the bridge secret ahead of the first request");
        }
    });
    let login = Arc::new(Login::new(&config, &sdk, secrets)?);
    let ahead = login.clone();
    tokio::spawn(async move { ahead.sign_in.prefetch(shared::common::time::unix_now()).await });
    // A second connection to Cognito's host, set up beside the one the pool's keys take (the
    // same read, at the same moment, answer unused): a corporate callback looks the person up with
    // two Cognito calls at once (the user and their groups), which would otherwise set one up on
    // the person's time.
    let (second, jwks_url) = (sdk.clone(), config.jwks_url.clone());
    tokio::spawn(async move { shared::adapters::aws::get(&second, &jwks_url).await.map(drop) });
    lambda_http::run(routes::router(login)).await
}
