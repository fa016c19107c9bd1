//! Verifying the console's bearer token (`admin::operator`): a JWT the bridge minted for the
//! console app with its own keys, checked against the key set in the bridge's table (no HTTP).
//!
//! Checks: RS256 or ES256 only (the algorithm allow-list, each with a key of its family), a
//! published `kid`, the signature, `iss` = the bridge's public API URL exactly, `aud` = the admin
//! API's audience exactly, `azp` = the console app's id (every `jwt` token names its app there,
//! and no app kind lets a claim mapping set it: another app given the console's audience by
//! mistake still mints no console token), `exp` and `iat` with 60 s of skew, a `sub` and a
//! `cognito:username`.
//! The key set is cached like a provider's JWKS (`http::jwks::KeyCache`: an hour, and read again
//! at once, at most once a minute, for an unknown `kid`).

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::adapters::http::jwks::{KeyCache, KeySource};
use crate::admin::operator::ConsoleIdentity;
use crate::signin::ports::TokenRejected;
use crate::tokens::signing_keys::KeyStore;

const SKEW: u64 = 60;

/// Our own published keys as a JWKS document, read from the table.
struct OwnKeys(Arc<dyn KeyStore>);

#[async_trait]
impl KeySource for OwnKeys {
    async fn fetch(&self) -> Result<String, TokenRejected> {
        let set = self.0.key_set().await.map_err(|e| TokenRejected::KeysUnavailable(e.to_string()))?;
        Ok(set.jwks(crate::common::time::unix_now()).to_string())
    }
}

pub struct ConsoleTokens {
    keys: KeyCache,
    expected: Expected,
}

/// What a console token must name.
pub struct Expected {
    /// The bridge's public API URL.
    pub issuer: String,
    /// The console app's `audience`.
    pub audience: String,
    /// The console app's id.
    pub app: String,
}

impl ConsoleTokens {
    pub fn new(keys: Arc<dyn KeyStore>, expected: Expected) -> Self {
        Self { keys: KeyCache::new(Box::new(OwnKeys(keys))), expected }
    }

    pub async fn verify(&self, token: &str, now: u64) -> Result<ConsoleIdentity, TokenRejected> {
        use jsonwebtoken::Algorithm as A;
        let claims = self.keys.verify(token, &[A::RS256, A::ES256]).await?;
        identity(&claims, &self.expected, now)
    }
}

fn identity(claims: &Map<String, Value>, expected: &Expected, now: u64) -> Result<ConsoleIdentity, TokenRejected> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if text("iss") != Some(expected.issuer.as_str()) {
        return Err(TokenRejected::Invalid("issuer"));
    }
    if text("aud") != Some(expected.audience.as_str()) {
        return Err(TokenRejected::Invalid("audience"));
    }
    if text("azp") != Some(expected.app.as_str()) {
        return Err(TokenRejected::Invalid("minted for another app"));
    }
    if number("exp").is_none_or(|exp| exp + SKEW <= now) {
        return Err(TokenRejected::Invalid("expired"));
    }
    let issued_at = number("iat").filter(|iat| *iat <= now + SKEW).ok_or(TokenRejected::Invalid("issued in the future, or no iat"))?;
    let sub = text("sub").ok_or(TokenRejected::Invalid("no subject"))?;
    let username = text("cognito:username").ok_or(TokenRejected::Invalid("no cognito:username (map it in the console app)"))?;
    let second_factor = claims.get("amr").and_then(Value::as_array).is_some_and(|amr| amr.iter().any(|v| v == "mfa"));
    Ok(ConsoleIdentity { sub: sub.to_owned(), username: username.to_owned(), email: text("email").map(str::to_owned), second_factor, issued_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuer_audience_times_and_names_are_all_checked() {
        let good = json!({"iss": "https://api", "aud": "bridge-console", "azp": "console", "exp": 1_000, "iat": 900, "sub": "s", "cognito:username": "u",
                          "amr": ["pwd", "mfa"]});
        let expected = Expected { issuer: "https://api".into(), audience: "bridge-console".into(), app: "console".into() };
        let check = |change: Value| {
            let mut claims = good.as_object().cloned().unwrap_or_default();
            claims.extend(change.as_object().cloned().unwrap_or_default());
            identity(&claims, &expected, 950)
        };
        assert!(check(json!({})).is_ok_and(|i| i.second_factor && i.username == "u"));
        assert!(check(json!({"amr": ["pwd"]})).is_ok_and(|i| !i.second_factor));
        for bad in [
            json!({"iss": "https://api/"}),
            json!({"aud": "other"}),
            json!({"aud": ["bridge-console"]}),
            json!({"azp": "community"}),
            json!({"azp": null}),
            json!({"exp": 880}),
            json!({"exp": null}),
            json!({"iat": 1_011}),
            json!({"sub": ""}),
            json!({"cognito:username": null}),
        ] {
            assert!(check(bad.clone()).is_err(), "{bad}");
        }
    }
}
