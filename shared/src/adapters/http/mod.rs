//! The ports implemented over HTTPS: companies' OpenID providers, JWKS, workflow connectors,
//! telephony hooks and the outbound authentication they share.

pub mod connectors;
pub mod hook;
pub mod jwks;
pub mod oidc;
pub mod outbound_auth;
