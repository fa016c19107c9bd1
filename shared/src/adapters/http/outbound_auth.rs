//! Authenticating our calls to the operator's services (workflow connections, telephony hooks):
//! the header an `Auth` asks for, secrets from Secrets Manager, and OAuth 2.0 client-credentials
//! tokens (RFC 6749 section 4.4) cached per caller key until a minute before they expire.

use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::secrets::{CachedSecrets, SecretRef};
use crate::workflows::connection::Auth;

/// Why no header could be made; `retry`: worth trying again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    pub retry: bool,
    pub reason: String,
}

fn failure(retry: bool, reason: impl Into<String>) -> AuthFailure {
    AuthFailure { retry, reason: reason.into() }
}

pub struct OutboundAuth {
    http: reqwest::Client,
    secrets: Arc<CachedSecrets>,
    /// OAuth access tokens by caller key, with when they stop being used.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl OutboundAuth {
    pub fn new(http: reqwest::Client, secrets: Arc<CachedSecrets>) -> Self {
        Self { http, secrets, tokens: Mutex::new(HashMap::new()) }
    }

    /// The header `auth` asks for (`None` for no authentication); `key` names the caller's
    /// token in the cache (a connection's or a hook's name).
    pub async fn header(&self, key: &str, auth: &Auth) -> Result<Option<(String, String)>, AuthFailure> {
        Ok(match auth {
            Auth::None => None,
            Auth::Bearer { secret } => Some(("authorization".into(), format!("Bearer {}", self.secret(secret).await?))),
            Auth::Basic { username, secret } => {
                let pair = format!("{username}:{}", self.secret(secret).await?);
                Some(("authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))))
            }
            Auth::Header { name, secret } => Some((name.clone(), self.secret(secret).await?)),
            Auth::Oauth2 { .. } => Some(("authorization".into(), format!("Bearer {}", self.access_token(key, auth).await?))),
        })
    }

    /// Drops `key`'s cached token (the service refused it).
    pub fn forget(&self, key: &str) {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    async fn secret(&self, secret: &SecretRef) -> Result<String, AuthFailure> {
        match self.secrets.value(secret).await {
            Ok(value) => Ok(value.expose_secret().to_owned()),
            Err(crate::common::store::StoreError::Missing(_)) => Err(failure(false, "the secret does not exist")),
            Err(e) => Err(failure(true, format!("the secret could not be read: {e}"))),
        }
    }

    async fn access_token(&self, key: &str, auth: &Auth) -> Result<String, AuthFailure> {
        let Auth::Oauth2 { token_url, client_id, secret, scope } = auth else { return Err(failure(false, "not OAuth")) };
        if let Some((token, until)) = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let client_secret = self.secret(secret).await?;
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id.as_str()), ("client_secret", client_secret.as_str())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = self.http.post(token_url).form(&form).send().await.map_err(|e| failure(true, format!("token request: {}", e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failure(status.as_u16() == 429 || status.is_server_error(), format!("the token endpoint answered {}", status.as_u16())));
        }
        let body: Value = response.json().await.map_err(|_| failure(true, "the token endpoint's answer is not JSON"))?;
        let token = body["access_token"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| failure(false, "no access_token in the token answer"))?;
        let lifetime = body["expires_in"].as_u64().unwrap_or(300).saturating_sub(60).max(1);
        let until = Instant::now() + Duration::from_secs(lifetime);
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), (token.to_owned(), until));
        Ok(token.to_owned())
    }
}
