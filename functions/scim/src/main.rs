use lambda_http::Error;
use scim::{routes, state::Scim};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let scim = Arc::new(Scim::from_env().await?);
    lambda_http::run(routes::router(scim)).await
}
