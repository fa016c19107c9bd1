//! Workflow steps over HTTPS (`workflows::connection`): one request per call through a
//! named connection, authenticated as the connection says, secrets from Secrets Manager. The
//! generic HTTP step and the named ServiceNow, Salesforce and Marketo steps are all requests
//! here; what each sends and what its answer means is `workflows::connectors`.
//!
//! What an answer means for the runner: done (`{"status", "body"}`, the body as JSON when it is
//! JSON); 429, 5xx, timeouts and connection failures are worth retrying; a 401 on an OAuth
//! connection (or Marketo's "token invalid/expired" inside a 200) drops the cached token and is
//! retried once the runner tries again; other answers are final. Redirects are not followed (a
//! connector that redirects is misconfigured). Reasons never include the request's body or
//! credentials.

use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::http::outbound_auth::OutboundAuth;
use crate::common::secrets::CachedSecrets;
use crate::workflows::connection::{Auth, Connection};
use crate::workflows::connectors::{Verdict, verdict};
use crate::workflows::flow::Action;
use crate::workflows::runner::Connectors;
use crate::workflows::runner::StepOutcome;

/// Longer answers are cut (the run reads at most this much; its record keeps 8 KiB).
const MAX_BODY: usize = 64 * 1024;

pub struct HttpConnectors {
    http: reqwest::Client,
    connections: HashMap<String, Connection>,
    auth: OutboundAuth,
}

impl HttpConnectors {
    pub fn new(connections: Vec<Connection>, secrets: Arc<CachedSecrets>) -> Result<Self, reqwest::Error> {
        let http = super::client(Duration::from_secs(2), Duration::from_secs(10))?;
        let connections = connections.into_iter().map(|c| (c.name.clone(), c)).collect();
        Ok(Self { http: http.clone(), connections, auth: OutboundAuth::new(http, secrets) })
    }

    async fn send(&self, action: &Action) -> Result<Value, StepOutcome> {
        let call = action.http_call().ok_or_else(|| StepOutcome::Failed("not an HTTP step".into()))?;
        let connection = self.connections.get(&call.connection).ok_or_else(|| StepOutcome::Failed(format!("no connection `{}`", call.connection)))?;
        let url = connection.url_for(&call.path).ok_or_else(|| StepOutcome::Failed("the step's path leaves the connection's base URL".into()))?;
        if !crate::common::secure_url::secure(&url) {
            return Err(StepOutcome::Failed("the connection's URL is not one the bridge calls".into()));
        }
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).map_err(|_| StepOutcome::Failed("not an HTTP method".into()))?;
        let mut request = self.http.request(method, url).header("accept", "application/json");
        for (name, value) in connection.headers.iter().chain(call.headers.iter()) {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            request = request.header(name.as_str(), value);
        }
        let header = self.auth.header(&connection.name, &connection.auth).await.map_err(|f| {
            let reason = format!("the connection's authentication: {}", f.reason);
            if f.retry { StepOutcome::Retry(reason) } else { StepOutcome::Failed(reason) }
        })?;
        let sent = header.as_ref().map(|(_, value)| value.clone()).unwrap_or_default();
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        if !call.body.is_null() {
            request = request.json(&call.body);
        }
        // A request that cannot be made (a header value that is not one) is no outage: not retried.
        let response = request.send().await.map_err(|e| {
            if e.is_builder() {
                StepOutcome::Failed(format!("the request could not be made: {}", e.without_url()))
            } else {
                StepOutcome::Retry(format!("no answer: {}", e.without_url()))
            }
        })?;
        let status = response.status().as_u16();
        let (bytes, _) = super::body_within(response, MAX_BODY).await.map_err(|e| StepOutcome::Retry(format!("the answer was cut: {}", e.without_url())))?;
        let body = super::json_or_text(&bytes);
        let oauth = matches!(connection.auth, Auth::Oauth2 { .. });
        let verdict = match verdict(call.answers, status, &body) {
            Verdict::Failed(_) if status == 401 && oauth => Verdict::NewToken("HTTP 401 (the access token was refused)".into()),
            other => other,
        };
        match verdict {
            Verdict::Done => Ok(json!({"status": status, "body": body})),
            Verdict::Retry(reason) => Err(StepOutcome::Retry(reason)),
            Verdict::NewToken(reason) => {
                self.auth.forget(&connection.name, &sent);
                Err(StepOutcome::Retry(format!("{reason}; a new token is fetched")))
            }
            Verdict::Failed(reason) => Err(StepOutcome::Failed(reason)),
        }
    }
}

#[async_trait]
impl Connectors for HttpConnectors {
    async fn call(&self, action: &Action) -> StepOutcome {
        match self.send(action).await {
            Ok(output) => StepOutcome::Done(output),
            Err(outcome) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::secrets::{SecretRef, SecretStore};
    use crate::common::store::StoreError;
    use secrecy::SecretString;

    struct NoSecrets;

    #[async_trait]
    impl SecretStore for NoSecrets {
        async fn secret(&self, _: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            Ok(None)
        }
    }

    /// A connection saved where the rule on URLs did not hold (the operators' CLI, an older
    /// version) is checked again at the call: plain http off loopback is never called.
    #[tokio::test]
    async fn a_connection_url_the_bridge_does_not_call_is_refused_at_the_call() {
        let connection: Connection =
            serde_json::from_value(json!({"name": "plain", "base_url": "http://192.0.2.1", "auth": {"type": "none"}})).unwrap_or_else(|e| panic!("{e}"));
        let secrets = Arc::new(CachedSecrets::new(Arc::new(NoSecrets), SecretRef("bridge".into()), Duration::from_secs(60)));
        let connectors = HttpConnectors::new(vec![connection], secrets).unwrap_or_else(|e| panic!("{e}"));
        let action: Action = serde_json::from_value(json!({"connector": "http", "connection": "plain", "path": "/x"})).unwrap_or_else(|e| panic!("{e}"));
        let outcome = connectors.call(&action).await;
        assert!(matches!(&outcome, StepOutcome::Failed(why) if why.contains("not one the bridge calls")), "{outcome:?}");
    }
}
