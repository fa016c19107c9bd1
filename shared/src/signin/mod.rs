//! How a person signs in: password and Cognito's challenges, corporate sign-in through a
//! company's OpenID provider, the sealed flow state carried by the form, bridge sessions, and the
//! services that tie them to risk and minting ([`SignIn`]). It is not HTTP: the login function maps its
//! results to routes and statuses.

pub mod account;
pub mod account_changes;
pub mod account_email;
pub mod arrival;
pub mod breached_passwords;
pub mod challenge;
pub mod confirmation;
pub mod consent;
pub mod consent_step;
pub mod corporate;
pub mod ending_sessions;
pub mod entry;
pub mod flow;
mod minting;
pub mod oidc;
pub mod openid_provider;
pub mod password;
pub mod password_reset;
pub mod password_rules;
pub mod passwordless;
pub mod ports;
pub mod service;
pub mod session;
pub mod sign_up;

use std::sync::Arc;

use crate::tokens::signing_keys::Signers;

/// The sign-in services over one set of ports, as the login function holds them: each route
/// uses the one it needs.
pub struct SignIn {
    pub entry: entry::SessionEntry,
    pub password: password::PasswordSignIn,
    pub passwordless: passwordless::Passwordless,
    pub arrival: arrival::Arrival,
    pub sign_up: sign_up::SelfSignUp,
    pub consent: consent_step::ConsentStep,
    pub account: account::AccountPage,
    /// The token, UserInfo and discovery endpoints of the `oidc` apps' OpenID provider.
    pub provider: openid_provider::OpenIdProvider,
    /// Our signing keys (their public JWKS is published at `/.well-known/jwks.json`).
    pub signers: Arc<Signers>,
    ports: Arc<service::SignInPorts>,
}

impl SignIn {
    pub fn new(ports: service::SignInPorts) -> Self {
        let signers = ports.signers.clone();
        let ports = Arc::new(ports);
        Self {
            entry: entry::SessionEntry::new(ports.clone()),
            password: password::PasswordSignIn::new(ports.clone()),
            passwordless: passwordless::Passwordless::new(ports.clone()),
            arrival: arrival::Arrival::new(ports.clone()),
            sign_up: sign_up::SelfSignUp::new(ports.clone()),
            consent: consent_step::ConsentStep::new(ports.clone()),
            account: account::AccountPage::new(ports.clone()),
            provider: openid_provider::OpenIdProvider::new(ports.clone()),
            signers,
            ports,
        }
    }

    /// Corporate sign-in over the same ports as the other sign-ins, and `ports`.
    pub fn corporate(&self, ports: corporate::CorporatePorts) -> corporate::Corporate {
        corporate::Corporate::new(self.ports.clone(), ports)
    }

    /// What every sign-in needs and no person's input decides, loaded side by side before the
    /// first request (a function's init): the bridge secret (Secrets Manager), the pool's keys
    /// (its JWKS, from Cognito's own host: the connection `InitiateAuth` then takes), our
    /// signing keys and the consent documents (DynamoDB), each opening its connection. A failure
    /// is logged and left to the request that needs it, which tries again.
    pub async fn prefetch(&self, now: u64) {
        let ports = &self.ports;
        let (bridge, pool_keys, our_keys, documents) =
            tokio::join!(ports.secrets.bridge(), ports.tokens.prefetch(), self.signers.jwks(now), ports.consents.get());
        let failed = [
            bridge.err().map(|e| e.to_string()),
            pool_keys.err().map(|e| e.to_string()),
            our_keys.err().map(|e| e.to_string()),
            documents.err().map(|e| e.to_string()),
        ];
        for error in failed.into_iter().flatten() {
            tracing::warn!(%error, "could not load ahead of the first request");
        }
    }
}
