//! How a person signs in: password and Cognito's challenges, corporate sign-in through a
//! company's OpenID provider, the sealed flow state carried by the form, bridge sessions, and the
//! services that tie them to risk and minting ([`SignIn`]). It is not HTTP: the login function maps its
//! results to routes and statuses.

pub mod arrival;
pub mod challenge;
pub mod corporate;
pub mod ending_sessions;
pub mod entry;
pub mod flow;
pub mod oidc;
pub mod password;
pub mod ports;
pub mod service;
pub mod session;

use std::sync::Arc;

use crate::tokens::signing_keys::Signers;

/// The sign-in services over one set of ports, as the login function holds them: each route
/// uses the one it needs.
pub struct SignIn {
    pub entry: entry::SessionEntry,
    pub password: password::PasswordSignIn,
    pub arrival: arrival::Arrival,
    /// Our signing keys (their public JWKS is published at `/.well-known/jwks.json`).
    pub signers: Arc<Signers>,
}

impl SignIn {
    pub fn new(ports: service::SignInPorts) -> Self {
        let signers = ports.signers.clone();
        let ports = Arc::new(ports);
        Self {
            entry: entry::SessionEntry::new(ports.clone()),
            password: password::PasswordSignIn::new(ports.clone()),
            arrival: arrival::Arrival::new(ports),
            signers,
        }
    }
}
