//! `OidcProvider` over HTTPS: discovery (`{issuer}/.well-known/openid-configuration`, cached for
//! an hour per issuer; read afresh for an operator as `ProviderDiscovery`), the token request
//! (`client_secret_basic`, or the client id alone for a public client), and ID token signatures
//! through one `jwks::KeyCache` per provider.
//!
//! Every request has a 1 s connect and 3 s total timeout and follows no redirects. The allowed
//! signature algorithms are RS256/384/512, PS256/384/512, ES256 and ES384, each only with a key
//! of its own family; `none` and HMAC never verify.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::Algorithm;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::adapters::http::jwks::{KeyCache, KeySource};
use crate::admin::ports::ProviderDiscovery;
use crate::cache::TtlCache;
use crate::signin::oidc::ProviderMetadata;
use crate::signin::ports::{CodeExchange, OidcError, OidcProvider, TokenRejected};

const ALGORITHMS: &[Algorithm] =
    &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512, Algorithm::ES256, Algorithm::ES384];
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// Each request to a provider (its metadata, keys and token endpoint), connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Larger answers are not OpenID answers.
const MAX_BODY: usize = 256 * 1024;

pub struct HttpOidc {
    http: reqwest::Client,
    metadata: TtlCache<String, ProviderMetadata>,
    keys: Mutex<HashMap<String, Arc<KeyCache>>>,
}

fn unavailable(e: reqwest::Error) -> OidcError {
    OidcError::Unavailable(e.without_url().to_string())
}

impl HttpOidc {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self::with(super::client(Duration::from_secs(1), REQUEST_TIMEOUT)?))
    }

    /// Over `http` (a [`client`](super::client) shared with other adapters).
    pub fn with(http: reqwest::Client) -> Self {
        Self { http, metadata: TtlCache::new(METADATA_TTL), keys: Mutex::new(HashMap::new()) }
    }

    /// The issuer's discovery document, read now and checked.
    async fn read_metadata(&self, issuer: &str) -> Result<ProviderMetadata, OidcError> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let metadata: ProviderMetadata =
            serde_json::from_str(&get(&self.http, &url).await?).map_err(|_| OidcError::Unavailable("the provider metadata is not valid".into()))?;
        metadata.check(issuer).map_err(|e| OidcError::Unavailable(e.into()))?;
        Ok(metadata)
    }

    fn key_cache(&self, jwks_uri: &str) -> Arc<KeyCache> {
        let mut caches = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let source = || Box::new(ProviderKeys { http: self.http.clone(), url: jwks_uri.to_owned() });
        caches.entry(jwks_uri.to_owned()).or_insert_with(|| Arc::new(KeyCache::new(source()))).clone()
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Result<String, OidcError> {
    let url = super::callable(url).ok_or_else(|| OidcError::Unavailable("the provider's URL is not one the bridge calls".into()))?;
    let response = http.get(url.clone()).timeout(REQUEST_TIMEOUT).header("accept", "application/json").send().await.map_err(unavailable)?;
    if !response.status().is_success() {
        return Err(OidcError::Unavailable(format!("{url} answered {}", response.status())));
    }
    body(response).await
}

async fn body(response: reqwest::Response) -> Result<String, OidcError> {
    let (bytes, whole) = super::body_within(response, MAX_BODY).await.map_err(unavailable)?;
    if !whole {
        return Err(OidcError::Unavailable("the answer is too large".into()));
    }
    String::from_utf8(bytes).map_err(|_| OidcError::Unavailable("the answer is not UTF-8".into()))
}

/// A provider's JWKS, fetched with the adapter's client.
struct ProviderKeys {
    http: reqwest::Client,
    url: String,
}

#[async_trait]
impl KeySource for ProviderKeys {
    async fn fetch(&self) -> Result<String, TokenRejected> {
        get(&self.http, &self.url).await.map_err(|e| TokenRejected::KeysUnavailable(e.to_string()))
    }
}

#[async_trait]
impl ProviderDiscovery for HttpOidc {
    async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, String> {
        self.read_metadata(issuer).await.map_err(|e| e.to_string())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
}

#[async_trait]
impl OidcProvider for HttpOidc {
    async fn metadata(&self, issuer: &str) -> Result<Arc<ProviderMetadata>, OidcError> {
        let loaded = self.metadata.get_or_load(&issuer.to_owned(), || async { self.read_metadata(issuer).await.map(Some) }).await?;
        loaded.ok_or_else(|| OidcError::Unavailable("no metadata".into()))
    }

    async fn exchange(&self, metadata: &ProviderMetadata, exchange: &CodeExchange<'_>) -> Result<String, OidcError> {
        let mut form =
            vec![("grant_type", "authorization_code"), ("code", exchange.code), ("redirect_uri", exchange.redirect_uri), ("code_verifier", exchange.verifier)];
        let endpoint =
            super::callable(&metadata.token_endpoint).ok_or_else(|| OidcError::Unavailable("the token endpoint is not one the bridge calls".into()))?;
        let mut request = self.http.post(endpoint).timeout(REQUEST_TIMEOUT).header("accept", "application/json");
        match exchange.client_secret {
            Some(secret) => {
                // RFC 6749 2.3.1: both parts form-encoded before Basic.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(exchange.client_id), encode(secret.expose_secret()));
                request = request.header("authorization", format!("Basic {}", STANDARD.encode(credentials)));
            }
            None => form.push(("client_id", exchange.client_id)),
        }
        let form = serde_urlencoded::to_string(&form).map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let response = request.header("content-type", "application/x-www-form-urlencoded").body(form).send().await.map_err(unavailable)?;
        let status = response.status();
        let text = body(response).await?;
        if status.is_client_error() {
            let code = serde_json::from_str::<TokenError>(&text).map(|e| e.error).unwrap_or_else(|_| status.to_string());
            return Err(OidcError::Refused(code.chars().take(64).collect()));
        }
        if !status.is_success() {
            return Err(OidcError::Unavailable(format!("the token endpoint answered {status}")));
        }
        let answer: TokenResponse = serde_json::from_str(&text).map_err(|_| OidcError::Unavailable("the token answer is not valid".into()))?;
        answer.id_token.ok_or(OidcError::BadToken("the token answer has no ID token"))
    }

    async fn prefetch_keys(&self, metadata: &ProviderMetadata) {
        let _ = self.key_cache(&metadata.jwks_uri).prefetch().await;
    }

    async fn verify(&self, metadata: &ProviderMetadata, id_token: &str) -> Result<Map<String, Value>, OidcError> {
        let keys = self.key_cache(&metadata.jwks_uri);
        keys.verify(id_token, ALGORITHMS).await.map_err(|e| match e {
            TokenRejected::Invalid(why) => OidcError::BadToken(why),
            TokenRejected::TooLarge => OidcError::BadToken("too long"),
            TokenRejected::KeysUnavailable(why) => OidcError::Unavailable(why),
        })
    }
}
