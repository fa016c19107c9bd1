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
    /// every endpoint must be an https URL of at most 2,048 characters: http on loopback only
    /// for an issuer that is itself there (a provider on this machine, in development). The
    /// document is the company's to write; an https issuer's cannot point the bridge at the
    /// function's own loopback services (the Lambda Runtime API is plain http on 127.0.0.1).
    pub fn check(&self, issuer: &str) -> Result<(), &'static str> {
        if self.issuer != issuer {
            return Err("the metadata names another issuer");
        }
        let local = Url::parse(issuer).is_ok_and(|u| u.scheme() == "http" && secure(&u));
        let endpoints = [Some(&self.authorization_endpoint), Some(&self.token_endpoint), Some(&self.jwks_uri), self.end_session_endpoint.as_ref()];
        for endpoint in endpoints.into_iter().flatten() {
            if endpoint.len() > MAX_ENDPOINT {
                return Err("an endpoint is longer than 2,048 characters");
            }
            let url = Url::parse(endpoint).map_err(|_| "an endpoint is not a URL")?;
            if !(url.scheme() == "https" || local && secure(&url)) {
                return Err("an endpoint is not https");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ProviderMetadata;

    fn document(issuer: &str, endpoint: &str) -> ProviderMetadata {
        ProviderMetadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: endpoint.into(),
            end_session_endpoint: None,
        }
    }

    /// A company's document on https naming the function's own loopback services (the Lambda
    /// Runtime API, a sidecar) in any form is refused; a provider on this machine keeps its
    /// loopback endpoints.
    #[test]
    fn only_a_provider_on_loopback_names_plain_http_endpoints_there() {
        let issuer = "https://idp.corp.example";
        for endpoint in [
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            "http://localhost:9001/x",
            "http://[::1]:9001/x",
            "http://127.1:9001/x",
            "http://0x7f000001:9001/x",
            "http://idp.corp.example/jwks",
        ] {
            assert_eq!(document(issuer, endpoint).check(issuer), Err("an endpoint is not https"), "{endpoint}");
        }
        assert_eq!(document(issuer, "https://keys.corp.example/jwks").check(issuer), Ok(()));
        let local = "http://127.0.0.1:8000";
        assert_eq!(document(local, "http://127.0.0.1:8000/jwks").check(local), Ok(()));
        assert_eq!(document(local, "http://10.0.0.1/jwks").check(local), Err("an endpoint is not https"));
    }
}
