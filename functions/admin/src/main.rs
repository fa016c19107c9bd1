use admin::{routes, state::Admin};
use lambda_http::Error;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let admin = Arc::new(Admin::from_env().await?);
    lambda_http::run(routes::router(admin)).await
}
