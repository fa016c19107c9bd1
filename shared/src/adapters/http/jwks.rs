//! `IdTokenVerifier` for Cognito ID tokens, verified locally against the pool's published keys
//! (`{issuer}/.well-known/jwks.json`), so a sign-in needs no second Cognito call.
//!
//! Checks: RS256 only (the algorithm allow-list), a known `kid`, the signature, `iss` exactly,
//! `aud` = the app client, `token_use` = `id`, `exp` and `iat` against the `now` passed in, with
//! 60 s of clock skew. Keys are cached for an hour and fetched again at once for an unknown `kid`,
//! at most once a minute. [`KeyCache`] (keys and signatures, RSA and EC) is shared with the
//! corporate providers' adapter.

use async_trait::async_trait;
use aws_config::SdkConfig;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

use crate::adapters::aws;
use crate::signin::ports::{IdTokenVerifier, TokenRejected};

const SKEW: u64 = 60;
const KEYS_TTL: Duration = Duration::from_secs(3600);
const REFETCH_AFTER: Duration = Duration::from_secs(60);
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Where the keys come from: the pool's JWKS in production, a fixed set in benchmarks.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The JWKS document.
    async fn fetch(&self) -> Result<String, TokenRejected>;
}

/// The pool's JWKS over the AWS SDK's HTTPS client ([`aws::get`]): Cognito serves it from the
/// host of its API, so the connection this opens is the one the next Cognito call takes.
pub struct HttpKeys {
    url: String,
    sdk: SdkConfig,
}

impl HttpKeys {
    /// `url` (`{issuer}/.well-known/jwks.json`) through `sdk`'s client.
    pub fn new(url: impl Into<String>, sdk: &SdkConfig) -> Self {
        Self { url: url.into(), sdk: sdk.clone() }
    }
}

#[async_trait]
impl KeySource for HttpKeys {
    async fn fetch(&self) -> Result<String, TokenRejected> {
        aws::get(&self.sdk, &self.url).await.map_err(|e| TokenRejected::KeysUnavailable(e.describe()))
    }
}

/// A fixed JWKS document.
pub struct StaticKeys(pub String);

#[async_trait]
impl KeySource for StaticKeys {
    async fn fetch(&self) -> Result<String, TokenRejected> {
        Ok(self.0.clone())
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl Jwk {
    /// The key and the one family of algorithms it may verify.
    fn decoding_key(&self) -> Option<(DecodingKey, KeyFamily)> {
        match (self.kty.as_str(), self.crv.as_deref()) {
            ("RSA", _) => Some((DecodingKey::from_rsa_components(self.n.as_deref()?, self.e.as_deref()?).ok()?, KeyFamily::Rsa)),
            ("EC", Some("P-256")) => Some((DecodingKey::from_ec_components(self.x.as_deref()?, self.y.as_deref()?).ok()?, KeyFamily::P256)),
            ("EC", Some("P-384")) => Some((DecodingKey::from_ec_components(self.x.as_deref()?, self.y.as_deref()?).ok()?, KeyFamily::P384)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    P256,
    P384,
}

impl KeyFamily {
    /// Whether a key of this family may verify `alg`. HMAC and `none` never pass: a public key
    /// is not a shared secret.
    pub fn allows(self, alg: Algorithm) -> bool {
        use Algorithm as A;
        matches!(
            (self, alg),
            (KeyFamily::Rsa, A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512) | (KeyFamily::P256, A::ES256) | (KeyFamily::P384, A::ES384)
        )
    }
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<(DecodingKey, KeyFamily)>>,
    fetched: Option<Instant>,
}

/// One JWKS, cached for an hour and fetched again at once for an unknown `kid` (at most once a
/// minute, so a flood of made-up `kid`s cannot make us hammer the provider).
pub struct KeyCache {
    source: Box<dyn KeySource>,
    keys: RwLock<KeySet>,
}

impl KeyCache {
    pub fn new(source: Box<dyn KeySource>) -> Self {
        Self { source, keys: RwLock::new(KeySet::default()) }
    }

    /// Fetches the key set unless a fresh one is held (a function's init calls this).
    pub async fn prefetch(&self) -> Result<(), TokenRejected> {
        let mut set = self.keys.write().await;
        if set.fetched.is_none_or(|at| at.elapsed() >= KEYS_TTL) {
            self.load(&mut set).await?;
        }
        Ok(())
    }

    async fn load(&self, set: &mut KeySet) -> Result<(), TokenRejected> {
        let doc: Jwks = serde_json::from_str(&self.source.fetch().await?).map_err(|_| TokenRejected::KeysUnavailable("the JWKS is not valid JSON".into()))?;
        set.keys = doc.keys.into_iter().filter_map(|k| Some((k.kid.clone()?, Arc::new(k.decoding_key()?)))).collect();
        set.fetched = Some(Instant::now());
        Ok(())
    }

    async fn key(&self, kid: &str) -> Result<Arc<(DecodingKey, KeyFamily)>, TokenRejected> {
        {
            let set = self.keys.read().await;
            let fresh = set.fetched.is_some_and(|at| at.elapsed() < KEYS_TTL);
            if let (true, Some(key)) = (fresh, set.keys.get(kid)) {
                return Ok(key.clone());
            }
        }
        let mut set = self.keys.write().await;
        let stale = set.fetched.is_none_or(|at| at.elapsed() >= KEYS_TTL);
        let may_refetch = set.fetched.is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
        if stale || (!set.keys.contains_key(kid) && may_refetch) {
            self.load(&mut set).await?;
        }
        set.keys.get(kid).cloned().ok_or(TokenRejected::Invalid("unknown signing key"))
    }

    /// Verifies `token`'s signature with the key its `kid` names, if `allowed` lists its
    /// algorithm and the key's family allows it; returns the claims, otherwise unchecked.
    pub async fn verify(&self, token: &str, allowed: &[Algorithm]) -> Result<Map<String, Value>, TokenRejected> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenRejected::TooLarge);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejected::Invalid("malformed"))?;
        if !allowed.contains(&header.alg) {
            return Err(TokenRejected::Invalid("algorithm not allowed"));
        }
        let kid = header.kid.ok_or(TokenRejected::Invalid("no key id"))?;
        let key = self.key(&kid).await?;
        if !key.1.allows(header.alg) {
            return Err(TokenRejected::Invalid("algorithm not allowed"));
        }
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(jsonwebtoken::decode::<Map<String, Value>>(token, &key.0, &validation).map_err(|_| TokenRejected::Invalid("bad signature"))?.claims)
    }
}

/// Verifies the pool's ID tokens: RS256 by its keys, its issuer, and an audience of ours.
pub struct JwksVerifier {
    issuer: String,
    /// The app clients whose tokens are taken (`aud`): the bridge's, and its sign-in client's.
    audiences: Vec<String>,
    keys: KeyCache,
}

impl JwksVerifier {
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>, source: Box<dyn KeySource>) -> Self {
        Self { issuer: issuer.into(), audiences, keys: KeyCache::new(source) }
    }
}

#[async_trait]
impl IdTokenVerifier for JwksVerifier {
    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, TokenRejected> {
        // Cognito signs with RS256 only.
        let claims = self.keys.verify(token, &[Algorithm::RS256]).await?;
        check_claims(&claims, &self.issuer, &self.audiences, now)?;
        Ok(claims)
    }

    async fn prefetch(&self) -> Result<(), TokenRejected> {
        self.keys.prefetch().await
    }
}

fn check_claims(claims: &Map<String, Value>, issuer: &str, audiences: &[String], now: u64) -> Result<(), TokenRejected> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if text("iss") != Some(issuer) {
        return Err(TokenRejected::Invalid("issuer"));
    }
    let ours = |aud: &Value| aud.as_str().is_some_and(|aud| audiences.iter().any(|a| a == aud));
    let audience_ok = match claims.get("aud") {
        Some(Value::Array(auds)) => auds.iter().any(ours),
        Some(aud) => ours(aud),
        None => false,
    };
    if !audience_ok {
        return Err(TokenRejected::Invalid("audience"));
    }
    if text("token_use") != Some("id") {
        return Err(TokenRejected::Invalid("not an ID token"));
    }
    if number("exp").is_none_or(|exp| exp + SKEW <= now) {
        return Err(TokenRejected::Invalid("expired"));
    }
    if number("iat").is_some_and(|iat| iat > now + SKEW) {
        return Err(TokenRejected::Invalid("issued in the future"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The scripted provider's JWKS: `rsa-1` (RSA) and `ec-1` (P-256).
    const JWKS: &str = include_str!("../../../../tests/fixtures/provider-jwks.json");

    /// Counts fetches of a fixed document.
    struct Counting(Arc<AtomicUsize>);

    #[async_trait]
    impl KeySource for Counting {
        async fn fetch(&self) -> Result<String, TokenRejected> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(JWKS.to_owned())
        }
    }

    /// A token with this header and a signature that is never checked (the refusals come first).
    fn token(header: Value) -> String {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", b64(header), b64(json!({"sub": "x"})))
    }

    #[test]
    fn a_key_family_verifies_only_its_own_algorithms() {
        use Algorithm as A;
        let all = [A::HS256, A::HS384, A::HS512, A::RS256, A::RS384, A::RS512, A::PS256, A::PS384, A::PS512, A::ES256, A::ES384, A::EdDSA];
        let allowed = |family: KeyFamily| all.iter().copied().filter(|a| family.allows(*a)).collect::<Vec<_>>();
        assert_eq!(allowed(KeyFamily::Rsa), [A::RS256, A::RS384, A::RS512, A::PS256, A::PS384, A::PS512]);
        assert_eq!(allowed(KeyFamily::P256), [A::ES256]);
        assert_eq!(allowed(KeyFamily::P384), [A::ES384]);
    }

    #[tokio::test]
    async fn refusals_come_before_any_signature_check() {
        let keys = KeyCache::new(Box::new(StaticKeys(JWKS.into())));
        let allowed = [Algorithm::RS256, Algorithm::ES256];
        let refused = |why| Err(TokenRejected::Invalid(why));
        // `none` is not an algorithm jsonwebtoken parses: the header is malformed to it.
        assert_eq!(keys.verify(&token(json!({"alg": "none", "kid": "rsa-1"})), &allowed).await, refused("malformed"));
        assert_eq!(keys.verify(&token(json!({"alg": "HS256", "kid": "rsa-1"})), &allowed).await, refused("algorithm not allowed"));
        assert_eq!(keys.verify(&token(json!({"alg": "RS512", "kid": "rsa-1"})), &allowed).await, refused("algorithm not allowed"));
        assert_eq!(keys.verify(&token(json!({"alg": "ES256", "kid": "rsa-1"})), &allowed).await, refused("algorithm not allowed"));
        assert_eq!(keys.verify(&token(json!({"alg": "RS256", "kid": "ec-1"})), &allowed).await, refused("algorithm not allowed"));
        assert_eq!(keys.verify(&token(json!({"alg": "RS256"})), &allowed).await, refused("no key id"));
        assert_eq!(keys.verify(&token(json!({"alg": "RS256", "kid": "rsa-2"})), &allowed).await, refused("unknown signing key"));
        assert_eq!(keys.verify(&token(json!({"alg": "RS256", "kid": "rsa-1"})), &allowed).await, refused("bad signature"));
    }

    #[tokio::test]
    async fn made_up_key_ids_fetch_the_keys_at_most_once_a_minute() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let keys = KeyCache::new(Box::new(Counting(fetches.clone())));
        for kid in ["rsa-1", "made-up-1", "made-up-2", "made-up-3", "ec-1"] {
            let _ = keys.verify(&token(json!({"alg": "RS256", "kid": kid})), &[Algorithm::RS256]).await;
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    const ISS: &str = "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_pool";

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn claim_checks() {
        let ours = ["client".to_owned(), "sign-in".to_owned()];
        let good = json!({"iss": ISS, "aud": "client", "token_use": "id", "exp": 1000, "iat": 900});
        assert_eq!(check_claims(&claims(good.clone()), ISS, &ours, 950), Ok(()));
        assert_eq!(check_claims(&claims(good.clone()), ISS, &ours, 1059), Ok(()), "within skew");
        assert_eq!(check_claims(&claims(good.clone()), ISS, &ours, 1060), Err(TokenRejected::Invalid("expired")));
        assert_eq!(check_claims(&claims(good.clone()), ISS, &["other".to_owned()], 950), Err(TokenRejected::Invalid("audience")));
        assert_eq!(check_claims(&claims(good.clone()), &format!("{ISS}x"), &ours, 950), Err(TokenRejected::Invalid("issuer")));
        // Each of our clients, alone or among others; never another client's, nor none.
        for aud in [json!("sign-in"), json!(["other", "sign-in"])] {
            let mut token = good.clone();
            token["aud"] = aud;
            assert_eq!(check_claims(&claims(token), ISS, &ours, 950), Ok(()));
        }
        for aud in [json!("other"), json!(["other"]), json!([]), json!(null), json!(1)] {
            let mut token = good.clone();
            token["aud"] = aud;
            assert_eq!(check_claims(&claims(token), ISS, &ours, 950), Err(TokenRejected::Invalid("audience")));
        }
        let mut access = good.clone();
        access["token_use"] = "access".into();
        assert_eq!(check_claims(&claims(access), ISS, &ours, 950), Err(TokenRejected::Invalid("not an ID token")));
        assert_eq!(check_claims(&claims(good), ISS, &ours, 700), Err(TokenRejected::Invalid("issued in the future")));
    }
}
