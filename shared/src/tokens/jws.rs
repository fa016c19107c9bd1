//! Signing the tokens we mint: compact JWS with HS256 (an app's shared secret), RS256 or ES256
//! (our own keys, `tokens::signing_keys`), and generating those keys with their public JWKs.
//!
//! Keys are parsed once and kept parsed: an RSA private key takes far longer to parse and check
//! than to sign with. Verification is not here (we never verify our own tokens); the pool's and
//! the companies' tokens are verified in `adapters::jwks`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::common::hashing::hmac_sha256;

/// The algorithms our tokens may be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    HS256,
    RS256,
    ES256,
}

/// A key ready to sign with.
pub enum SigningKey {
    /// An app's shared secret.
    Hs256(Vec<u8>),
    Rs256 {
        kid: String,
        key: RsaKeyPair,
    },
    Es256 {
        kid: String,
        key: EcdsaKeyPair,
    },
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hs256(_) => f.write_str("SigningKey::Hs256(..)"),
            Self::Rs256 { kid, .. } => write!(f, "SigningKey::Rs256({kid})"),
            Self::Es256 { kid, .. } => write!(f, "SigningKey::Es256({kid})"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is not PKCS#8 PEM of the expected algorithm")]
    Malformed,
    #[error("the key could not be generated")]
    Generation,
}

impl SigningKey {
    /// A key from its PKCS#8 PEM (as the admin tool stores it).
    pub fn from_pem(alg: Algorithm, kid: &str, pem: &str) -> Result<Self, KeyError> {
        let der = pem_body(pem).ok_or(KeyError::Malformed)?;
        let kid = kid.to_owned();
        match alg {
            Algorithm::HS256 => Err(KeyError::Malformed),
            Algorithm::RS256 => Ok(Self::Rs256 { kid, key: RsaKeyPair::from_pkcs8(&der).map_err(|_| KeyError::Malformed)? }),
            Algorithm::ES256 => {
                Ok(Self::Es256 { kid, key: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).map_err(|_| KeyError::Malformed)? })
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::HS256,
            Self::Rs256 { .. } => Algorithm::RS256,
            Self::Es256 { .. } => Algorithm::ES256,
        }
    }

    /// Signs `claims` as a compact JWS (`typ: JWT`, with `kid` for our own keys).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, KeyError> {
        self.sign_typed("JWT", claims)
    }

    /// As [`Self::sign`], with the header's `typ` given (RFC 8725 §3.11's explicit typing, such
    /// as a logout token's `logout+jwt`).
    pub fn sign_typed(&self, typ: &str, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let header = match self {
            Self::Hs256(_) => json!({"alg": "HS256", "typ": typ}),
            Self::Rs256 { kid, .. } => json!({"alg": "RS256", "typ": typ, "kid": kid}),
            Self::Es256 { kid, .. } => json!({"alg": "ES256", "typ": typ, "kid": kid}),
        };
        let mut token = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string()));
        let signature = self.sign_bytes(token.as_bytes())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(token)
    }

    /// The signature of `message` alone: HMAC-SHA256, RSASSA-PKCS1-v1_5 with SHA-256, or ECDSA
    /// P-256 with SHA-256 as `r || s` (64 bytes).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Self::Hs256(secret) => Ok(hmac_sha256(secret, &[message]).to_vec()),
            Self::Rs256 { key, .. } => {
                let mut out = vec![0; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut out).map_err(|_| KeyError::Malformed)?;
                Ok(out)
            }
            Self::Es256 { key, .. } => Ok(key.sign(&SystemRandom::new(), message).map_err(|_| KeyError::Malformed)?.as_ref().to_vec()),
        }
    }
}

/// A new key pair: its PKCS#8 PEM (the private part, for Secrets Manager) and its public JWK
/// with `kid` (the RFC 7638 thumbprint), `alg` and `use`.
pub struct GeneratedKey {
    pub kid: String,
    pub private_pem: String,
    pub jwk: Map<String, Value>,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GeneratedKey({})", self.kid)
    }
}

pub fn generate(alg: Algorithm) -> Result<GeneratedKey, KeyError> {
    let b64 = |bytes: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(bytes));
    let (pkcs8, members) = match alg {
        Algorithm::HS256 => return Err(KeyError::Generation),
        Algorithm::RS256 => {
            let key = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
            let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).map_err(|_| KeyError::Generation)?;
            let public = key.public_key();
            // RFC 7638: the required members in lexicographic order.
            let members = json!({"e": b64(public.exponent().big_endian_without_leading_zero()), "kty": "RSA",
                                 "n": b64(public.modulus().big_endian_without_leading_zero())});
            (der.as_ref().to_vec(), members)
        }
        Algorithm::ES256 => {
            let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| KeyError::Generation)?;
            let der = key.to_pkcs8v1().map_err(|_| KeyError::Generation)?;
            // An uncompressed point: 0x04, then x and y of 32 bytes each.
            let point = key.public_key().as_ref();
            if point.len() != 65 {
                return Err(KeyError::Generation);
            }
            let members = json!({"crv": "P-256", "kty": "EC", "x": b64(&point[1..33]), "y": b64(&point[33..])});
            (der.as_ref().to_vec(), members)
        }
    };
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(members.to_string()));
    let Value::Object(mut jwk) = members else { return Err(KeyError::Generation) };
    jwk.insert("kid".into(), kid.clone().into());
    jwk.insert("alg".into(), serde_json::to_value(alg).map_err(|_| KeyError::Generation)?);
    jwk.insert("use".into(), "sig".into());
    let private_pem = pem("PRIVATE KEY", &pkcs8);
    if alg == Algorithm::RS256 {
        jwk.insert("x5c".into(), json!([self_signed(&private_pem, &kid)?]));
    }
    Ok(GeneratedKey { kid, private_pem, jwk })
}

/// A self-signed X.509 certificate of an RSA key (Base64 DER, as `x5c` holds it): what a SAML
/// service provider is given to trust. Its subject names the key; it is valid from the start
/// of this year for 20 years (providers pin the certificate; the key's rotation, not the
/// certificate's dates, ends its use).
fn self_signed(private_pem: &str, kid: &str) -> Result<String, KeyError> {
    let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(private_pem, &rcgen::PKCS_RSA_SHA256).map_err(|_| KeyError::Generation)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("Identity bridge signing key {kid}"));
    let year: i32 = crate::common::time::rfc3339(crate::common::time::unix_now()).get(..4).and_then(|y| y.parse().ok()).ok_or(KeyError::Generation)?;
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 20, 1, 1);
    let certificate = params.self_signed(&key).map_err(|_| KeyError::Generation)?;
    Ok(STANDARD.encode(certificate.der()))
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).collect();
    STANDARD.decode(body).ok()
}

/// The claims of `token` if a key of `jwks` (ours, by `kid`) signed it with RS256 or ES256;
/// nothing else (times, issuer, audience) is checked. For an `id_token_hint`, which may have
/// expired.
pub fn verified_claims(token: &str, jwks: &Value) -> Option<Map<String, Value>> {
    use jsonwebtoken::{Algorithm as A, DecodingKey, Validation, jwk::Jwk};
    let header = jsonwebtoken::decode_header(token).ok()?;
    if !matches!(header.alg, A::RS256 | A::ES256) {
        return None;
    }
    let kid = header.kid?;
    let jwk = jwks.get("keys")?.as_array()?.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))?;
    let key = DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk.clone()).ok()?).ok()?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).ok().map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, jwk::Jwk};

    fn verify(token: &str, jwk: &Map<String, Value>, alg: jsonwebtoken::Algorithm) -> Value {
        let jwk: Jwk = serde_json::from_value(Value::Object(jwk.clone())).unwrap_or_else(|e| panic!("{e}"));
        let key = DecodingKey::from_jwk(&jwk).unwrap_or_else(|e| panic!("{e}"));
        let mut v = Validation::new(alg);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        jsonwebtoken::decode::<Value>(token, &key, &v).unwrap_or_else(|e| panic!("{e}")).claims
    }

    #[test]
    fn generated_keys_sign_tokens_their_jwk_verifies() {
        let claims = json!({"sub": "s-1", "n": 1}).as_object().cloned().unwrap_or_default();
        for (alg, theirs) in [(Algorithm::RS256, jsonwebtoken::Algorithm::RS256), (Algorithm::ES256, jsonwebtoken::Algorithm::ES256)] {
            let generated = generate(alg).unwrap_or_else(|e| panic!("{e}"));
            let key = SigningKey::from_pem(alg, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
            let token = key.sign(&claims).unwrap_or_else(|e| panic!("{e}"));
            let header = jsonwebtoken::decode_header(&token).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((header.alg, header.kid.as_deref()), (theirs, Some(generated.kid.as_str())));
            assert_eq!(verify(&token, &generated.jwk, theirs), Value::Object(claims.clone()));
            assert!(SigningKey::from_pem(if alg == Algorithm::RS256 { Algorithm::ES256 } else { Algorithm::RS256 }, "k", &generated.private_pem).is_err());
        }
    }

    #[test]
    fn only_our_own_keys_vouch_for_a_token() {
        let claims = json!({"azp": "tool"}).as_object().cloned().unwrap_or_default();
        let generated = generate(Algorithm::ES256).unwrap_or_else(|e| panic!("{e}"));
        let other = generate(Algorithm::ES256).unwrap_or_else(|e| panic!("{e}"));
        let jwks = json!({"keys": [generated.jwk]});
        let ours = SigningKey::from_pem(Algorithm::ES256, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
        let token = ours.sign(&claims).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified_claims(&token, &jwks), Some(claims.clone()));
        // Another key under our kid, an HS256 token keyed with anything, `none`: refused.
        let theirs = SigningKey::from_pem(Algorithm::ES256, &generated.kid, &other.private_pem).unwrap_or_else(|e| panic!("{e}"));
        let hs = SigningKey::Hs256(b"x".to_vec()).sign(&claims).unwrap_or_else(|e| panic!("{e}"));
        let unsigned = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), token.split('.').nth(1).unwrap_or_default());
        for forged in [theirs.sign(&claims).unwrap_or_else(|e| panic!("{e}")), hs, unsigned] {
            assert_eq!(verified_claims(&forged, &jwks), None, "{forged}");
        }
    }

    #[test]
    fn hs256_matches_an_independent_implementation() {
        let claims = json!({"a": "b"}).as_object().cloned().unwrap_or_default();
        let token = SigningKey::Hs256(b"secret".to_vec()).sign(&claims).unwrap_or_else(|e| panic!("{e}"));
        let theirs = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(b"secret"));
        let theirs = theirs.unwrap_or_else(|e| panic!("{e}"));
        // Same signature over our own header and payload: check through the verifier.
        let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        assert!(jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(b"secret"), &v).is_ok());
        assert!(jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(b"other"), &v).is_err());
        assert_eq!(token.split('.').nth(1), theirs.split('.').nth(1));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 7638 section 3.1's example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let members = json!({"e": "AQAB", "kty": "RSA", "n": n});
        assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(members.to_string())), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
