//! `private_key_jwt` client authentication (OpenID Connect Core §9, RFC 7523 §2.2 and §3): the
//! public keys an OpenID Connect client registers (a JWK Set), checked when it registers, and the
//! client assertion it signs with one of them, checked at the token and revocation endpoints.
//!
//! Not here: the assertion's one use (the caller records its `jti`), the bridge's own keys
//! (`jws`), a client's keys fetched from a `jwks_uri` (not supported: a client registers its
//! keys, as Okta and Keycloak allow).

use std::collections::HashSet;

use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm as A, DecodingKey, Validation};
use serde_json::{Map, Value};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The most keys a client registers (room to roll one over).
pub const MAX_KEYS: usize = 5;
/// The longest an assertion may still live when it arrives (seconds): its `jti` is remembered
/// at least that long.
pub const MAX_ASSERTION_LIFETIME: u64 = 3600;
/// Clock skew allowed on `exp`, `nbf` and `iat` (seconds).
const LEEWAY: u64 = 60;
/// The longest `jti` taken (characters).
const MAX_JTI_LEN: usize = 256;
/// Members of a JWK that hold a private or secret part (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A verified assertion: what its one use is recorded by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub jti: String,
    /// Unix seconds.
    pub exp: u64,
}

/// Checks a client's registered keys: `{"keys": [...]}` with 1 to [`MAX_KEYS`] public signing
/// keys, each RSA of 2,048 to 8,192 bits (RS256) or EC P-256 (ES256), its `alg` (if given) that
/// algorithm, its `use` (if given) `sig`, and a distinct `kid` for each when there are several.
///
/// Errors: what is wrong, for the operator.
pub fn validate_jwks(jwks: &Value) -> Result<(), &'static str> {
    let keys = jwks
        .as_object()
        .filter(|set| set.len() == 1)
        .and_then(|set| set.get("keys"))
        .and_then(Value::as_array)
        .filter(|keys| (1..=MAX_KEYS).contains(&keys.len()))
        .ok_or("jwks is a JWK Set of 1 to 5 public keys: {\"keys\": [...]}")?;
    let mut kids = HashSet::new();
    for key in keys {
        let members = key.as_object().ok_or("each of jwks' keys is a JWK object")?;
        if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
            return Err("jwks holds public keys only: a key there has a private or secret part");
        }
        let jwk: Jwk = serde_json::from_value(key.clone()).map_err(|_| "a key of jwks is not a JWK the bridge reads")?;
        algorithm_of(&jwk).ok_or("jwks' keys are RSA of 2,048 to 8,192 bits (RS256) or EC P-256 (ES256), for signing")?;
        DecodingKey::from_jwk(&jwk).map_err(|_| "a key of jwks is not a JWK the bridge reads")?;
        if !verifiable(&jwk) {
            return Err("a key of jwks is not a valid public key (an RSA modulus or exponent, or an EC point)");
        }
        match &jwk.common.key_id {
            Some(kid) if !kids.insert(kid.clone()) => return Err("each key of jwks has its own kid"),
            None if keys.len() > 1 => return Err("each key of jwks has its own kid"),
            _ => {}
        }
    }
    Ok(())
}

/// The algorithm a registered key verifies, and only that: RS256 for an RSA key of 2,048 to
/// 8,192 bits, ES256 for an EC P-256 key; `None` for any other key, or one that says another `alg` or
/// `use`.
fn algorithm_of(jwk: &Jwk) -> Option<A> {
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
            let start = modulus.iter().take_while(|b| **b == 0).count();
            let significant = &modulus[start..];
            let bits = significant.first().map_or(0, |top| (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize));
            // The sizes the verifier takes (aws-lc: 2,048 to 8,192 bits).
            (2048..=8192).contains(&bits).then_some(A::RS256)?
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => A::ES256,
        _ => return None,
    };
    let said = match jwk.common.key_algorithm {
        None => true,
        Some(KeyAlgorithm::RS256) => alg == A::RS256,
        Some(KeyAlgorithm::ES256) => alg == A::ES256,
        Some(_) => false,
    };
    let signing = matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
    (said && signing).then_some(alg)
}

/// Whether the verifier (aws-lc, as jsonwebtoken's backend) takes the key: an RSA modulus and
/// exponent without leading zeros that it accepts, or a P-256 point of 32-byte coordinates on
/// the curve. jsonwebtoken only decodes the members, so a key it reads may never verify.
fn verifiable(jwk: &Jwk) -> bool {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
    let decode = |member: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(member).ok();
    match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => match (decode(&rsa.n), decode(&rsa.e)) {
            (Some(n), Some(e)) if n.first().is_some_and(|b| *b != 0) && e.first().is_some_and(|b| *b != 0) => {
                RsaPublicKeyComponents { n: &n, e: &e }.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).is_ok()
            }
            _ => false,
        },
        AlgorithmParameters::EllipticCurve(ec) => match (decode(&ec.x), decode(&ec.y)) {
            (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, [&[4u8][..], &x, &y].concat()).is_ok(),
            _ => false,
        },
        _ => false,
    }
}

/// The unverified `sub` of an assertion: the client it says it is (the client's id when the
/// form names none, RFC 7521 §4.2). Checked later by [`verify`].
pub fn claimed_client(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Map<String, Value>>(&bytes).ok()?.get("sub")?.as_str().map(str::to_owned)
}

/// Verifies client `client_id`'s assertion (RFC 7523 §3) against its registered keys `jwks` at
/// `now` (Unix seconds): signed by the registered key its `kid` names (the only key, without
/// one) with that key's algorithm (RS256 or ES256; never `none` or HS256), `iss` and `sub` the
/// client, `aud` one of `audiences` (our issuer, or the token or revocation endpoint's URL) as
/// a single string (an array is refused: draft-ietf-oauth-rfc7523bis, against audience
/// injection), `exp` not passed (60 s leeway) and at most [`MAX_ASSERTION_LIFETIME`] ahead,
/// `nbf` and `iat` (if given) not ahead, and a `jti`.
///
/// Errors: why it is refused, for the log (the client is told `invalid_client` only).
pub fn verify(assertion: &str, jwks: &Value, client_id: &str, audiences: &[&str], now: u64) -> Result<Assertion, &'static str> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| "not a signed JWT")?;
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("the client has no keys")?;
    let key = match &header.kid {
        Some(kid) => keys.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str())),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or("no registered key of that kid")?;
    let jwk: Jwk = serde_json::from_value(key.clone()).map_err(|_| "a registered key does not read")?;
    let alg = algorithm_of(&jwk).ok_or("a registered key does not read")?;
    if header.alg != alg {
        return Err("signed with another algorithm than its key's");
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "a registered key does not read")?;
    let mut validation = Validation::new(alg);
    // The times are checked below against `now`.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    validation.set_issuer(&[client_id]);
    validation.sub = Some(client_id.to_owned());
    validation.set_audience(audiences);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(assertion, &key, &validation).map_err(|_| "the signature, iss, sub or aud is wrong")?.claims;
    if !claims.get("aud").is_some_and(Value::is_string) {
        return Err("aud is not a single string");
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_u64);
    let exp = time("exp").ok_or("no exp")?;
    if exp.saturating_add(LEEWAY) <= now {
        return Err("expired");
    }
    if exp > now + MAX_ASSERTION_LIFETIME {
        return Err("lives longer than an hour");
    }
    if ["nbf", "iat"].iter().any(|name| claims.contains_key(*name) && time(name).is_none_or(|t| t > now + LEEWAY)) {
        return Err("not valid yet");
    }
    let jti = claims.get("jti").and_then(Value::as_str).filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN).ok_or("no jti")?;
    Ok(Assertion { jti: jti.to_owned(), exp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::jws::{self, Algorithm};
    use serde_json::json;

    const CLIENT: &str = "tool";
    const ISSUER: &str = "https://api.example.com";
    const NOW: u64 = 1_800_000_000;

    /// A key of `alg` as the client holds it, and its public JWK with `kid`.
    fn client_key(alg: Algorithm, kid: &str) -> (jws::SigningKey, Value) {
        let generated = jws::generate(alg).unwrap_or_else(|e| panic!("{e}"));
        let key = jws::SigningKey::from_pem(alg, kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
        let mut public = Value::Object(generated.jwk);
        public["kid"] = json!(kid);
        (key, public)
    }

    fn claims(changes: Value) -> Map<String, Value> {
        let Value::Object(mut claims) = json!({"iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "exp": NOW + 60, "iat": NOW, "jti": "j-1"}) else { unreachable!() };
        for (k, v) in changes.as_object().cloned().unwrap_or_default() {
            if v.is_null() {
                claims.remove(&k);
            } else {
                claims.insert(k, v);
            }
        }
        claims
    }

    fn check(assertion: &str, jwks: &Value) -> Result<Assertion, &'static str> {
        verify(assertion, jwks, CLIENT, &[ISSUER, &format!("{ISSUER}/oauth2/token")], NOW)
    }

    #[test]
    fn an_assertion_signed_by_a_registered_key_for_us_verifies_once_checked() {
        let (es, es_public) = client_key(Algorithm::ES256, "es");
        let (rs, rs_public) = client_key(Algorithm::RS256, "rs");
        let jwks = json!({"keys": [es_public, rs_public]});
        assert_eq!(validate_jwks(&jwks), Ok(()));
        for key in [&es, &rs] {
            let token = key.sign(&claims(json!({}))).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(check(&token, &jwks), Ok(Assertion { jti: "j-1".into(), exp: NOW + 60 }));
        }
        let to_endpoint = es.sign(&claims(json!({"aud": format!("{ISSUER}/oauth2/token")}))).unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&to_endpoint, &jwks).is_ok(), "the token endpoint's URL is an audience too");
        let injected = es.sign(&claims(json!({"aud": [ISSUER, "https://other.example"]}))).unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&injected, &jwks).is_err(), "an array of audiences is refused");
        assert_eq!(claimed_client(&to_endpoint).as_deref(), Some(CLIENT));

        for (changes, why) in [
            (json!({"iss": "other"}), "another issuer"),
            (json!({"sub": "other"}), "another subject"),
            (json!({"iss": "other", "sub": "other"}), "another client's"),
            (json!({"aud": "https://other.example"}), "another audience"),
            (json!({"aud": null}), "no audience"),
            (json!({"exp": NOW - 61}), "expired"),
            (json!({"exp": null}), "no exp"),
            (json!({"exp": NOW + 3601}), "too long"),
            (json!({"nbf": NOW + 120}), "not yet"),
            (json!({"iat": NOW + 120}), "issued in the future"),
            (json!({"jti": null}), "no jti"),
            (json!({"jti": ""}), "an empty jti"),
            (json!({"jti": "j".repeat(257)}), "a jti too long"),
        ] {
            let token = es.sign(&claims(changes)).unwrap_or_else(|e| panic!("{e}"));
            assert!(check(&token, &jwks).is_err(), "{why}");
        }
    }

    #[test]
    fn no_other_key_or_algorithm_verifies() {
        let (es, es_public) = client_key(Algorithm::ES256, "es");
        let jwks = json!({"keys": [es_public.clone()]});
        let good = es.sign(&claims(json!({}))).unwrap_or_else(|e| panic!("{e}"));
        let (signing_input, _) = good.rsplit_once('.').unwrap_or_else(|| panic!("{good}"));
        let payload = signing_input.split('.').nth(1).unwrap_or_default();
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());

        // Another key under the registered kid.
        let (impostor, _) = client_key(Algorithm::ES256, "es");
        assert!(check(&impostor.sign(&claims(json!({}))).unwrap_or_else(|e| panic!("{e}")), &jwks).is_err());
        // `none`, and HS256 keyed with the public key's JSON (algorithm confusion).
        assert!(check(&format!("{}.{payload}.", b64(json!({"alg": "none", "kid": "es"}))), &jwks).is_err());
        let confused = jsonwebtoken::encode(
            &jsonwebtoken::Header { kid: Some("es".into()), ..jsonwebtoken::Header::new(A::HS256) },
            &claims(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(es_public.to_string().as_bytes()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(check(&confused, &jwks).is_err());
        // An unknown kid; none with several keys; the signature of another token.
        let (rs, rs_public) = client_key(Algorithm::RS256, "rs");
        assert!(check(&rs.sign(&claims(json!({}))).unwrap_or_else(|e| panic!("{e}")), &jwks).is_err());
        let mut unnamed = es_public.clone();
        unnamed.as_object_mut().map(|k| k.remove("kid"));
        let lone = json!({"keys": [unnamed]});
        let plain = jsonwebtoken::decode_header(&good).map(|h| h.kid).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.as_deref(), Some("es"));
        assert!(check(&good, &lone).is_err(), "a kid the set does not name");
        assert!(check(&good, &json!({"keys": [es_public, rs_public]})).is_ok());
        let other = es.sign(&claims(json!({"jti": "j-2"}))).unwrap_or_else(|e| panic!("{e}"));
        let spliced = format!("{signing_input}.{}", other.rsplit_once('.').map(|(_, s)| s).unwrap_or_default());
        assert!(check(&spliced, &jwks).is_err());
        assert!(check("not a token", &jwks).is_err());
    }

    #[test]
    fn only_public_signing_keys_register() {
        let (_, es) = client_key(Algorithm::ES256, "es");
        let (_, rs) = client_key(Algorithm::RS256, "rs");
        let with = |key: &Value, member: &str, value: Value| {
            let mut key = key.clone();
            key[member] = value;
            key
        };
        for bad in [
            json!({}),
            json!({"keys": []}),
            json!({"keys": [es.clone(), es.clone()]}),
            json!({"keys": vec![es.clone(); 6]}),
            json!({"keys": [es.clone()], "jwks_uri": "https://tool.example.com/jwks"}),
            json!({"keys": [with(&es, "d", json!("c2VjcmV0"))]}),
            json!({"keys": [with(&rs, "p", json!("c2VjcmV0"))]}),
            json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}),
            json!({"keys": [with(&es, "crv", json!("P-384"))]}),
            json!({"keys": [with(&es, "alg", json!("RS256"))]}),
            json!({"keys": [with(&es, "use", json!("enc"))]}),
            json!({"keys": [with(&rs, "n", json!("AQAB"))]}),
            // A point off the curve, a short coordinate, an RSA modulus with a leading zero byte.
            json!({"keys": [with(&es, "y", json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32])))]}),
            json!({"keys": [with(&es, "x", json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 31])))]}),
            json!({"keys": [with(&rs, "n", json!(format!("AA{}", rs["n"].as_str().unwrap_or_default())))]}),
            // 2,041 and 8,193 bits.
            json!({"keys": [with(&rs, "n", json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([&[1u8][..], &[0xff; 255]].concat())))]}),
            json!({"keys": [with(&rs, "n", json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([&[1u8][..], &[0xff; 1024]].concat())))]}),
            json!({"keys": [with(&es, "x", json!("not a point"))]}),
            json!({"keys": ["a string"]}),
            json!([es.clone()]),
        ] {
            assert!(validate_jwks(&bad).is_err(), "{bad}");
        }
        let mut unnamed = es.clone();
        unnamed.as_object_mut().map(|k| k.remove("kid"));
        assert_eq!(validate_jwks(&json!({"keys": [unnamed]})), Ok(()), "one key needs no kid");
        assert_eq!(validate_jwks(&json!({"keys": [with(&es, "alg", json!("ES256")), with(&rs, "use", json!("sig"))]})), Ok(()));
    }
}
