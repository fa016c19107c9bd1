//! Calling a telephony hook over HTTPS: one POST of the request JSON with the hook's
//! authentication (`adapters::outbound_auth`), the caller's timeout, redirects not followed (a
//! redirect is the hook's answer, not a place to go). A 401 on an OAuth hook drops its token so
//! the retry fetches a new one.

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::http::outbound_auth::OutboundAuth;
use crate::common::secrets::CachedSecrets;
use crate::telephony::hook::Hook;
use crate::telephony::ports::{CallFailure, HookCaller};
use crate::workflows::connection::Auth;

/// Longer answers are cut.
const MAX_BODY: usize = 16 * 1024;

pub struct HttpHookCaller {
    http: reqwest::Client,
    auth: OutboundAuth,
}

impl HttpHookCaller {
    pub fn new(secrets: Arc<CachedSecrets>) -> Result<Self, reqwest::Error> {
        // Each call is over within the hook's own timeout, an OAuth token request included.
        let http = super::client(Duration::from_secs(2), Duration::from_secs(3))?;
        Ok(Self { http: http.clone(), auth: OutboundAuth::new(http, secrets) })
    }
}

#[async_trait]
impl HookCaller for HttpHookCaller {
    /// Within `timeout` in all: an OAuth hook's token request counts too.
    async fn call(&self, hook: &Hook, request: &Value, timeout: Duration) -> Result<(u16, Value), CallFailure> {
        tokio::time::timeout(timeout, self.call_once(hook, request, timeout)).await.map_err(|_| CallFailure::Timeout)?
    }
}

impl HttpHookCaller {
    async fn call_once(&self, hook: &Hook, request: &Value, timeout: Duration) -> Result<(u16, Value), CallFailure> {
        let url = super::callable(&hook.url).ok_or_else(|| CallFailure::Unreachable("the hook's URL is not one the bridge calls".into()))?;
        let mut call = self.http.post(url).timeout(timeout).header("accept", "application/json").json(request);
        let header = self.auth.header(&hook.name, &hook.auth).await.map_err(|f| CallFailure::Auth(f.reason))?;
        let sent = header.as_ref().map(|(_, value)| value.clone()).unwrap_or_default();
        if let Some((name, value)) = header {
            call = call.header(name, value);
        }
        let response =
            call.send().await.map_err(|e| if e.is_timeout() { CallFailure::Timeout } else { CallFailure::Unreachable(e.without_url().to_string()) })?;
        let status = response.status().as_u16();
        if status == 401 && matches!(hook.auth, Auth::Oauth2 { .. }) {
            self.auth.forget(&hook.name, &sent);
        }
        let (bytes, _) = super::body_within(response, MAX_BODY)
            .await
            .map_err(|e| if e.is_timeout() { CallFailure::Timeout } else { CallFailure::Unreachable(e.without_url().to_string()) })?;
        Ok((status, super::json_or_text(&bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::secrets::{SecretRef, SecretStore};
    use crate::common::store::StoreError;
    use secrecy::SecretString;

    struct AnySecret;

    #[async_trait]
    impl SecretStore for AnySecret {
        async fn secret(&self, _: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            Ok(Some(SecretString::from("client-secret")))
        }
    }

    /// An OAuth hook whose token endpoint never answers: the call ends within its own timeout
    /// (the Cognito sender's deadline), not the client's longer one.
    #[tokio::test]
    async fn a_silent_token_endpoint_counts_against_the_calls_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let secrets = Arc::new(CachedSecrets::new(Arc::new(AnySecret), SecretRef("bridge".into()), Duration::from_secs(60)));
        let caller = HttpHookCaller::new(secrets).unwrap_or_else(|e| panic!("{e}"));
        let auth = Auth::Oauth2 { token_url: format!("http://{address}/token"), client_id: "c".into(), secret: SecretRef("s".into()), scope: None };
        let hook = Hook { name: "main".into(), url: format!("http://{address}/send"), auth, fallback: None, version: 1 };
        // Without the bound, the token request would end on the client's own 3 s as an
        // authentication failure, past the caller's deadline.
        let answer = caller.call(&hook, &serde_json::json!({}), Duration::from_millis(300)).await;
        assert!(matches!(answer, Err(CallFailure::Timeout)), "{answer:?}");
    }
}
