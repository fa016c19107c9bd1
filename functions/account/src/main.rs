//! The account function: `GET /account` and the account page's JSON calls, with the login
//! function's configuration and state (`login::routes::account_router`). Not here: any route of
//! the sign-in itself.

use lambda_http::Error;
use login::{routes, state::Login};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    // Every call opens a grant sealed with the bridge's key, whose load `init` begins.
    let (_, _, login) = Login::init().await?;
    lambda_http::run(routes::account_router(login)).await
}
