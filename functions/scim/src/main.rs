use lambda_http::{Error, service_fn};
use scim::{handler, state::Scim};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let scim = Arc::new(Scim::from_env().await?);
    lambda_http::run(service_fn(move |request| {
        let scim = scim.clone();
        async move { Ok::<_, Error>(handler::handle(&scim, request).await) }
    }))
    .await
}
