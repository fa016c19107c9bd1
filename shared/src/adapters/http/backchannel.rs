//! Logout tokens posted to OpenID Connect clients' `backchannel_logout_uri`
//! (`signin::openid_provider::backchannel::LogoutChannel`; Back-Channel Logout 1.0 §2.5): a
//! form post of `logout_token`, redirects not followed, the answer's body not read.

use async_trait::async_trait;

use crate::signin::openid_provider::backchannel::LogoutChannel;

pub struct HttpLogoutChannel {
    http: reqwest::Client,
}

impl HttpLogoutChannel {
    /// Over `http` ([`super::client`]: its timeouts bound each post).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

#[async_trait]
impl LogoutChannel for HttpLogoutChannel {
    async fn post(&self, uri: &str, logout_token: &str) -> Result<(), String> {
        let url = super::callable(uri).ok_or("the back-channel logout URI is not one the bridge calls")?;
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CACHE_CONTROL, "no-store")
            .form(&[("logout_token", logout_token)])
            .send()
            .await
            .map_err(|e| if e.is_timeout() { "no answer in time".to_owned() } else { "the request failed".to_owned() })?;
        // §2.8: 200 (or 204) when the client logged the person out; anything else it did not.
        if response.status().is_success() { Ok(()) } else { Err(format!("the client answered {}", response.status().as_u16())) }
    }
}
