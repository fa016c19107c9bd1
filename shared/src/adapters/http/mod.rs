//! The ports implemented over HTTPS: companies' OpenID providers, JWKS (the pool's comes through
//! the AWS SDK's client, `aws::get`), workflow connectors, telephony hooks and the outbound
//! authentication they share.

pub mod connectors;
pub mod hook;
pub mod jwks;
pub mod oidc;
pub mod outbound_auth;

use std::time::Duration;

/// An HTTPS client as every adapter here uses one: the roots compiled in (`adapters::tls`), HTTP/1.1,
/// no redirects followed, connections made within `connect_timeout`, and every request over
/// within `timeout` unless it sets its own. One client may serve several adapters.
pub fn client(connect_timeout: Duration, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::adapters::tls::reqwest_tls())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
