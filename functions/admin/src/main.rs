use admin::{routes, state::Admin};
use lambda_http::Error;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::adapters::logs::init();
    let admin = Arc::new(Admin::from_env().await?);
    lambda_http::run(routes::router(admin)).await
}
