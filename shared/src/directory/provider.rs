//! A company's OpenID provider as its discovery document describes it (OpenID Connect Discovery
//! 1.0, §3): the fields a relying party uses, and the check that the document is the issuer's
//! own (§4.3). Not the fetch (`adapters::http::oidc`) nor the relying party's rules
//! (`signin::oidc`).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::common::secure_url::secure;

/// The longest endpoint URL kept (a document is kept with its organisation and audit records).
const MAX_ENDPOINT: usize = 2048;

/// What the provider's discovery document says (the fields a relying party uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

impl ProviderMetadata {
    /// The document must name exactly the issuer it was fetched for (OpenID Discovery 4.3), and
    /// every endpoint must be an https URL (http only on loopback) of at most 2,048 characters.
    pub fn check(&self, issuer: &str) -> Result<(), &'static str> {
        if self.issuer != issuer {
            return Err("the metadata names another issuer");
        }
        let endpoints = [Some(&self.authorization_endpoint), Some(&self.token_endpoint), Some(&self.jwks_uri), self.end_session_endpoint.as_ref()];
        for endpoint in endpoints.into_iter().flatten() {
            if endpoint.len() > MAX_ENDPOINT {
                return Err("an endpoint is longer than 2,048 characters");
            }
            let url = Url::parse(endpoint).map_err(|_| "an endpoint is not a URL")?;
            if !secure(&url) {
                return Err("an endpoint is not https");
            }
        }
        Ok(())
    }
}
