use lambda_http::Error;
use login::{routes, state::Login};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    // Loading ahead runs beside the rest of init and the Runtime API's first `next`: the first
    // request waits only for what it needs and is still on its way (each cache loads a value
    // once). The bridge secret goes first, before the other clients are built (`Login::init`): a
    // sign-in needs it before anything else. A load that fails is loaded again by the request
    // that needs it; one a freeze after init cut off, once its timeout ends.
    let (config, sdk, login) = Login::init().await?;
    let ahead = login.clone();
    tokio::spawn(async move { ahead.sign_in.prefetch(shared::common::time::unix_now()).await });
    // A second connection to Cognito's host, set up beside the one the pool's keys take (the
    // same read, at the same moment, answer unused): a corporate callback looks the person up with
    // two Cognito calls at once (the user and their groups), which would otherwise set one up on
    // the person's time.
    let jwks_url = config.jwks_url.clone();
    tokio::spawn(async move { shared::adapters::aws::get(&sdk, &jwks_url).await.map(drop) });
    lambda_http::run(routes::router(login)).await
}
