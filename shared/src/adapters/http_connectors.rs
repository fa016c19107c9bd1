//! Workflow steps over HTTPS (`domain::workflow::connection`): one request per call through a
//! named connection, authenticated as the connection says, secrets from Secrets Manager. The
//! generic HTTP step and the named ServiceNow, Salesforce and Marketo steps are all requests
//! here; what each sends and what its answer means is `domain::workflow::connectors`.
//!
//! What an answer means for the runner: done (`{"status", "body"}`, the body as JSON when it is
//! JSON); 429, 5xx, timeouts and connection failures are worth retrying; a 401 on an OAuth
//! connection (or Marketo's "token invalid/expired" inside a 200) drops the cached token and is
//! retried once the runner tries again; other answers are final. Redirects are not followed (a
//! connector that redirects is misconfigured). Reasons never include the request's body or
//! credentials.

use async_trait::async_trait;
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::workflow::connection::{Auth, Connection};
use crate::domain::workflow::connectors::{Verdict, verdict};
use crate::domain::workflow::flow::Action;
use crate::domain::workflow::runner::StepOutcome;
use crate::ports::Connectors;
use crate::secrets::CachedSecrets;

/// Longer answers are cut (a run record keeps at most this much).
const MAX_BODY: usize = 64 * 1024;

pub struct HttpConnectors {
    http: reqwest::Client,
    connections: HashMap<String, Connection>,
    secrets: Arc<CachedSecrets>,
    /// OAuth access tokens by connection name, with when they stop being used.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl HttpConnectors {
    pub fn new(connections: Vec<Connection>, secrets: Arc<CachedSecrets>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let connections = connections.into_iter().map(|c| (c.name.clone(), c)).collect();
        Ok(Self { http, connections, secrets, tokens: Mutex::new(HashMap::new()) })
    }

    async fn secret(&self, secret: &crate::secrets::SecretRef) -> Result<String, StepOutcome> {
        match self.secrets.value(secret).await {
            Ok(value) => Ok(value.expose_secret().to_owned()),
            Err(crate::ports::StoreError::Missing(_)) => Err(StepOutcome::Failed("the connection's secret does not exist".into())),
            Err(e) => Err(StepOutcome::Retry(format!("the connection's secret could not be read: {e}"))),
        }
    }

    /// The `Authorization` (or custom) header for `connection`.
    async fn auth_header(&self, connection: &Connection) -> Result<Option<(String, String)>, StepOutcome> {
        Ok(match &connection.auth {
            Auth::None => None,
            Auth::Bearer { secret } => Some(("authorization".into(), format!("Bearer {}", self.secret(secret).await?))),
            Auth::Basic { username, secret } => {
                let pair = format!("{username}:{}", self.secret(secret).await?);
                Some(("authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))))
            }
            Auth::Header { name, secret } => Some((name.clone(), self.secret(secret).await?)),
            Auth::Oauth2 { .. } => Some(("authorization".into(), format!("Bearer {}", self.access_token(connection).await?))),
        })
    }

    /// An OAuth 2.0 client-credentials token (RFC 6749 section 4.4), cached until a minute
    /// before it expires.
    async fn access_token(&self, connection: &Connection) -> Result<String, StepOutcome> {
        let Auth::Oauth2 { token_url, client_id, secret, scope } = &connection.auth else { return Err(StepOutcome::Failed("not an OAuth connection".into())) };
        if let Some((token, until)) = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(&connection.name)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let client_secret = self.secret(secret).await?;
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id.as_str()), ("client_secret", client_secret.as_str())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self.http.post(token_url).form(&form).send().await.map_err(|e| StepOutcome::Retry(format!("token request: {}", e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            let reason = format!("the token endpoint answered {}", status.as_u16());
            return Err(if status.as_u16() == 429 || status.is_server_error() { StepOutcome::Retry(reason) } else { StepOutcome::Failed(reason) });
        }
        let body: Value = response.json().await.map_err(|_| StepOutcome::Retry("the token endpoint's answer is not JSON".into()))?;
        let token = body["access_token"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| StepOutcome::Failed("no access_token in the token answer".into()))?;
        let lifetime = body["expires_in"].as_u64().unwrap_or(300).saturating_sub(60).max(1);
        let until = Instant::now() + Duration::from_secs(lifetime);
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(connection.name.clone(), (token.to_owned(), until));
        Ok(token.to_owned())
    }

    async fn send(&self, action: &Action) -> Result<Value, StepOutcome> {
        let call = action.http_call().ok_or_else(|| StepOutcome::Failed("not an HTTP step".into()))?;
        let connection = self.connections.get(&call.connection).ok_or_else(|| StepOutcome::Failed(format!("no connection `{}`", call.connection)))?;
        let url = connection.url_for(&call.path).ok_or_else(|| StepOutcome::Failed("the step's path leaves the connection's base URL".into()))?;
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).map_err(|_| StepOutcome::Failed("not an HTTP method".into()))?;
        let mut request = self.http.request(method, url).header("accept", "application/json");
        for (name, value) in connection.headers.iter().chain(call.headers.iter()) {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            request = request.header(name.as_str(), value);
        }
        if let Some((name, value)) = self.auth_header(connection).await? {
            request = request.header(name, value);
        }
        if !call.body.is_null() {
            request = request.json(&call.body);
        }
        let response = request.send().await.map_err(|e| StepOutcome::Retry(format!("no answer: {}", e.without_url())))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| StepOutcome::Retry(format!("the answer was cut: {}", e.without_url())))?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY)]).into_owned();
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        let oauth = matches!(connection.auth, Auth::Oauth2 { .. });
        let verdict = match verdict(call.answers, status, &body) {
            Verdict::Failed(_) if status == 401 && oauth => Verdict::NewToken("HTTP 401 (the access token was refused)".into()),
            other => other,
        };
        match verdict {
            Verdict::Done => Ok(json!({"status": status, "body": body})),
            Verdict::Retry(reason) => Err(StepOutcome::Retry(reason)),
            Verdict::NewToken(reason) => {
                self.tokens.lock().unwrap_or_else(|p| p.into_inner()).remove(&connection.name);
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
