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

/// The most of a token endpoint's answer read (bytes).
const MAX_TOKEN_ANSWER: usize = 16 * 1024;

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
    /// OAuth access tokens by caller key: what each was issued for ([`issued_for`]), the token,
    /// and when it stops being used.
    tokens: Mutex<HashMap<String, (String, String, Instant)>>,
    /// One token request in flight per caller key (single flight): callers side by side that
    /// find no token wait for the first one's request instead of each making their own.
    requesting: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Each key's last failed token request: when it ended, what it was for ([`issued_for`]) and
    /// why. Callers that waited for it, with the same settings, fail with it.
    failed: Mutex<HashMap<String, (Instant, String, AuthFailure)>>,
}

impl OutboundAuth {
    pub fn new(http: reqwest::Client, secrets: Arc<CachedSecrets>) -> Self {
        Self { http, secrets, tokens: Mutex::new(HashMap::new()), requesting: Mutex::new(HashMap::new()), failed: Mutex::new(HashMap::new()) }
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

    /// Drops `key`'s cached token if it is the one the service refused (`refused`: the
    /// `authorization` value sent); a newer one another caller fetched meanwhile stays.
    pub fn forget(&self, key: &str, refused: &str) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if tokens.get(key).is_some_and(|(_, token, _)| refused.strip_prefix("Bearer ") == Some(token.as_str())) {
            tokens.remove(key);
        }
    }

    async fn secret(&self, secret: &SecretRef) -> Result<String, AuthFailure> {
        match self.secrets.value(secret).await {
            Ok(value) => Ok(value.expose_secret().to_owned()),
            Err(crate::common::store::StoreError::Missing(_)) => Err(failure(false, "the secret does not exist")),
            Err(e) => Err(failure(true, format!("the secret could not be read: {e}"))),
        }
    }

    async fn access_token(&self, key: &str, auth: &Auth) -> Result<String, AuthFailure> {
        let issued_for = issued_for(auth);
        if let Some(token) = self.cached(key, &issued_for) {
            return Ok(token);
        }
        let asked = Instant::now();
        let turn = self.requesting.lock().unwrap_or_else(|p| p.into_inner()).entry(key.to_owned()).or_default().clone();
        let _turn = turn.lock().await;
        // Another caller's request may have brought one while this one waited, or failed: then
        // this caller fails with it at once rather than asking again in turn.
        if let Some(token) = self.cached(key, &issued_for) {
            return Ok(token);
        }
        let shared_failure = {
            let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.get(key).filter(|(at, settings, _)| *at >= asked && *settings == issued_for).map(|(_, _, failure)| failure.clone())
        };
        if let Some(failure) = shared_failure {
            return Err(failure);
        }
        let requested = self.request_token(auth).await;
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        match requested {
            Ok((token, until)) => {
                failed.remove(key);
                self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), (issued_for, token.clone(), until));
                Ok(token)
            }
            Err(failure) => {
                failed.insert(key.to_owned(), (Instant::now(), issued_for, failure.clone()));
                Err(failure)
            }
        }
    }

    /// One client-credentials token request: the token and until when to use it.
    async fn request_token(&self, auth: &Auth) -> Result<(String, Instant), AuthFailure> {
        let Auth::Oauth2 { token_url, client_id, secret, scope } = auth else { return Err(failure(false, "not OAuth")) };
        let client_secret = self.secret(secret).await?;
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id.as_str()), ("client_secret", client_secret.as_str())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let token_url = super::callable(token_url).ok_or_else(|| failure(false, "the token endpoint is not one the bridge calls"))?;
        let response = self.http.post(token_url).form(&form).send().await.map_err(|e| failure(true, format!("token request: {}", e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failure(status.as_u16() == 429 || status.is_server_error(), format!("the token endpoint answered {}", status.as_u16())));
        }
        let (bytes, whole) = super::body_within(response, MAX_TOKEN_ANSWER).await.map_err(|e| failure(true, format!("token answer: {}", e.without_url())))?;
        let body: Value =
            serde_json::from_slice(&bytes).ok().filter(|_| whole).ok_or_else(|| failure(true, "the token endpoint's answer is not JSON (or over 16 KiB)"))?;
        let token = body["access_token"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| failure(false, "no access_token in the token answer"))?;
        // Kept a minute less than the endpoint says, and a day at most (a huge `expires_in` is
        // taken as a day, not added to the clock, which would overflow).
        let lifetime = body["expires_in"].as_u64().unwrap_or(300).min(MAX_TOKEN_KEPT).saturating_sub(60).max(1);
        Ok((token.to_owned(), Instant::now() + Duration::from_secs(lifetime)))
    }

    /// `key`'s token, if one issued for `issued_for` is still good.
    fn cached(&self, key: &str, issued_for: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(key).filter(|(f, _, until)| f == issued_for && Instant::now() < *until).map(|(_, token, _)| token.clone())
    }
}

/// How long an access token is kept at most (seconds), whatever its `expires_in`.
const MAX_TOKEN_KEPT: u64 = 24 * 60 * 60;

/// What an access token was issued for: the token endpoint, client, secret (its name: a new
/// secret is a new name) and scope. A hook or connection changed since (another endpoint, a new
/// secret, which moving to another host needs) gets a new token, never the old one.
fn issued_for(auth: &Auth) -> String {
    match auth {
        Auth::Oauth2 { token_url, client_id, secret, scope } => format!("{token_url}\n{client_id}\n{}\n{}", secret.0, scope.as_deref().unwrap_or("")),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::secrets::SecretStore;
    use crate::common::store::StoreError;
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct TwoSecrets;

    #[async_trait::async_trait]
    impl SecretStore for TwoSecrets {
        async fn secret(&self, id: &SecretRef) -> Result<Option<SecretString>, StoreError> {
            Ok(Some(SecretString::from(format!("value-of-{}", id.0))))
        }
    }

    /// An `OutboundAuth` over a real HTTP client and [`TwoSecrets`].
    fn outbound() -> OutboundAuth {
        let http = super::super::client(Duration::from_secs(2), Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
        OutboundAuth::new(http, Arc::new(CachedSecrets::new(Arc::new(TwoSecrets), SecretRef("bridge".into()), Duration::from_secs(60))))
    }

    /// A token endpoint that issues `token-1`, `token-2`, ..., each for an hour.
    async fn token_endpoint() -> (String, Arc<AtomicUsize>) {
        token_endpoint_for("3600").await
    }

    /// A token endpoint that issues `token-1`, `token-2`, ..., each with `expires_in` (JSON).
    async fn token_endpoint_for(expires_in: &'static str) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let issued = Arc::new(AtomicUsize::new(0));
        let counter = issued.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(async move {
                    let _ = socket.read(&mut [0u8; 4096]).await;
                    let body = format!("{{\"access_token\":\"token-{n}\",\"expires_in\":{expires_in}}}");
                    let answer =
                        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (format!("http://{address}/token"), issued)
    }

    /// A hook's cached token is its own settings' only: the same hook with a new secret (as
    /// moving it to another host needs) or another token endpoint gets a new token.
    #[tokio::test]
    async fn a_cached_token_does_not_outlive_the_settings_it_was_issued_for() {
        let (token_url, issued) = token_endpoint().await;
        let auth = outbound();
        let oauth = |secret: &str, url: &str| Auth::Oauth2 { token_url: url.into(), client_id: "c".into(), secret: SecretRef(secret.into()), scope: None };
        let bearer = |h: Option<(String, String)>| h.map(|(_, v)| v).unwrap_or_default();
        let first = bearer(auth.header("main", &oauth("s-1", &token_url)).await.unwrap_or_else(|e| panic!("{e:?}")));
        assert_eq!(bearer(auth.header("main", &oauth("s-1", &token_url)).await.unwrap_or_default()), first, "cached");
        let rekeyed = bearer(auth.header("main", &oauth("s-2", &token_url)).await.unwrap_or_default());
        let moved = bearer(auth.header("main", &oauth("s-2", &format!("{token_url}?v=2"))).await.unwrap_or_default());
        assert_eq!(issued.load(Ordering::SeqCst), 3);
        assert!(first != rekeyed && rekeyed != moved, "{first} {rekeyed} {moved}");
    }

    /// Flows side by side that find no token make one token request between them.
    #[tokio::test]
    async fn callers_side_by_side_share_one_token_request() {
        let (token_url, issued) = token_endpoint().await;
        let auth = outbound();
        let oauth = Auth::Oauth2 { token_url, client_id: "c".into(), secret: SecretRef("s".into()), scope: None };
        let headers = futures_util::future::join_all((0..8).map(|_| auth.header("main", &oauth))).await;
        for header in headers {
            assert_eq!(header.unwrap_or_else(|e| panic!("{e:?}")).map(|(_, v)| v).as_deref(), Some("Bearer token-1"));
        }
        assert_eq!(issued.load(Ordering::SeqCst), 1);
    }

    /// A failed token request fails the callers that waited for it at once: they do not each
    /// ask again in turn (a silent endpoint would hold every flow up one after another).
    #[tokio::test]
    async fn callers_side_by_side_share_a_token_requests_failure() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = socket.read(&mut [0u8; 4096]).await;
                    let _ = socket.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
        let auth = outbound();
        let oauth = Auth::Oauth2 { token_url: format!("http://{address}/token"), client_id: "c".into(), secret: SecretRef("s".into()), scope: None };
        let headers = futures_util::future::join_all((0..8).map(|_| auth.header("main", &oauth))).await;
        for header in headers {
            assert_eq!(header, Err(failure(true, "the token endpoint answered 503")));
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // A later caller asks again.
        assert!(auth.header("main", &oauth).await.is_err());
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        // Callers with other settings (a new secret) waiting behind a failing request make
        // their own: the old settings' failure is not theirs.
        let renewed = Auth::Oauth2 { token_url: format!("http://{address}/token"), client_id: "c".into(), secret: SecretRef("s-2".into()), scope: None };
        let both = futures_util::future::join_all((0..8).map(|i| auth.header("main", if i < 4 { &oauth } else { &renewed }))).await;
        assert!(both.iter().all(Result::is_err));
        assert_eq!(asked.load(Ordering::SeqCst), 4, "one request for each settings");
    }

    /// A token endpoint's `expires_in` is its word, not a number to add to the clock: the
    /// largest one is kept a day, and one that is not a number five minutes. No panic.
    #[tokio::test]
    async fn any_expires_in_is_kept_within_a_day() {
        for expires_in in ["18446744073709551615", "-1", "1e300", "\"3600\"", "0"] {
            let (token_url, issued) = token_endpoint_for(expires_in).await;
            let auth = outbound();
            let oauth = Auth::Oauth2 { token_url, client_id: "c".into(), secret: SecretRef("s".into()), scope: None };
            let header = auth.header("main", &oauth).await.unwrap_or_else(|e| panic!("{expires_in}: {e:?}"));
            assert_eq!(header.map(|(_, v)| v).as_deref(), Some("Bearer token-1"), "{expires_in}");
            let kept = auth.tokens.lock().unwrap_or_else(|p| p.into_inner()).get("main").map(|(_, _, until)| *until).unwrap_or_else(|| panic!("kept"));
            assert!(kept <= Instant::now() + Duration::from_secs(MAX_TOKEN_KEPT), "{expires_in}");
            assert_eq!(issued.load(Ordering::SeqCst), 1);
        }
    }
}
