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
        // Each call sets the hook's own timeout; 3 s bounds the rest (an OAuth token request).
        let http = super::client(Duration::from_secs(2), Duration::from_secs(3))?;
        Ok(Self { http: http.clone(), auth: OutboundAuth::new(http, secrets) })
    }
}

#[async_trait]
impl HookCaller for HttpHookCaller {
    async fn call(&self, hook: &Hook, request: &Value, timeout: Duration) -> Result<(u16, Value), CallFailure> {
        let mut call = self.http.post(&hook.url).timeout(timeout).header("accept", "application/json").json(request);
        if let Some((name, value)) = self.auth.header(&hook.name, &hook.auth).await.map_err(|f| CallFailure::Auth(f.reason))? {
            call = call.header(name, value);
        }
        let response =
            call.send().await.map_err(|e| if e.is_timeout() { CallFailure::Timeout } else { CallFailure::Unreachable(e.without_url().to_string()) })?;
        let status = response.status().as_u16();
        if status == 401 && matches!(hook.auth, Auth::Oauth2 { .. }) {
            self.auth.forget(&hook.name);
        }
        let bytes =
            response.bytes().await.map_err(|e| if e.is_timeout() { CallFailure::Timeout } else { CallFailure::Unreachable(e.without_url().to_string()) })?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY)]).into_owned();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }
}
