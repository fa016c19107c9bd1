//! The bridge's shared library.
//!
//! - [`domain`]: what the bridge does (sign-in flow, apps, claim mapping, token minting), free of
//!   AWS types and of HTTP.
//! - [`ports`]: the traits the domain needs from the outside world.
//! - [`adapters`]: those traits implemented over Cognito, DynamoDB, Secrets Manager and HTTPS.
//! - [`cache`], [`config`], [`secrets`]: small building blocks the functions share.
//!
//! It is not a web framework: HTTP parsing and status codes live in each function's handler.

pub mod adapters;
pub mod cache;
pub mod config;
pub mod domain;
pub mod ports;
pub mod secrets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
