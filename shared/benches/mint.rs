//! Mints per second on one core, per algorithm: the whole `Target::mint` of a generic JWT app
//! (claim mapping, registered claims, JSON, signature, delivery URL) with HS256 (a shared
//! secret), RS256 (RSA-2048) and ES256 (P-256), keys already parsed as the login function keeps
//! them. Also the cost of parsing a private key, which the login function pays once per key, and
//! a SAML service provider's signed response.
//! Run with `make bench`.

use serde_json::json;
use shared::common::profile::UserProfile;
use shared::tokens::claims::ClaimMapping;
use shared::tokens::jws;
use shared::tokens::jws::{Algorithm, SigningKey};
use shared::tokens::saml::authn_request::SamlRequest;
use shared::tokens::targets::Target;
use shared::tokens::targets::mint::MintInput;
use shared::tokens::targets::saml::SamlTarget;
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_secs(3);

fn main() {
    let profile = UserProfile::from_claims(
        json!({"sub": "5f0c2a9e-1111-4222-8333-944455556666", "email": "hanako@example.com", "email_verified": true, "name": "山田 花子",
               "custom:company": "Acme", "cognito:groups": ["community-3", "community-7", "staff"]})
        .as_object()
        .unwrap_or_else(|| unreachable!()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let claims: ClaimMapping = serde_json::from_value(json!({
        "email": {"from": "attribute", "name": "email", "required": true}, "name": {"from": "attribute", "name": "name"},
        "company": {"from": "attribute", "name": "custom:company"},
        "roles": {"from": "groups", "prefix": "community-", "strip_prefix": true, "join": ","}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    println!("mints per second on one thread (generic JWT app, {} s each):", RUN.as_secs());
    for alg in [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256] {
        let target: Target =
            serde_json::from_value(json!({"kind": "jwt", "url": "https://tool.example.com/sso", "algorithm": alg})).unwrap_or_else(|e| panic!("{e}"));
        let (key, parse) = key(alg);
        let input = |now| MintInput {
            app: "tool",
            profile: &profile,
            claims: &claims,
            return_to: None,
            nonce: None,
            issuer: "https://api.example.com",
            now,
            jti: uuid::Uuid::new_v4(),
            amr: &["pwd"],
            sid: None,
            authenticated: now,
            saml: None,
        };
        let started = Instant::now();
        let mut mints = 0u64;
        while started.elapsed() < RUN {
            for _ in 0..100 {
                std::hint::black_box(target.mint(input(1_700_000_000 + mints), &key).unwrap_or_else(|e| panic!("{e}")));
                mints += 1;
            }
        }
        let per_second = mints as f64 / started.elapsed().as_secs_f64();
        println!("  {alg:?}: {per_second:>9.0} mints/s  ({:>6.1} us each; parsing the key once: {parse:?})", 1e6 / per_second);
    }
    // A SAML response: the assertion and the response each signed (two RSA-2048 signatures),
    // the certificate carried twice.
    let target: SamlTarget = serde_json::from_value(json!({"entity_id": "https://wiki.example.com/saml", "acs_url": "https://wiki.example.com/acs"}))
        .unwrap_or_else(|e| panic!("{e}"));
    let generated = jws::generate(Algorithm::RS256).unwrap_or_else(|e| panic!("{e}"));
    let key = SigningKey::from_pem(Algorithm::RS256, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
    let certificate = generated.jwk["x5c"][0].as_str().unwrap_or_default().to_owned();
    let request = SamlRequest { id: Some("_request-1".into()), relay_state: Some("/pages/42".into()), ..SamlRequest::default() };
    let started = Instant::now();
    let mut mints = 0u64;
    while started.elapsed() < RUN {
        let input = MintInput {
            app: "wiki",
            profile: &profile,
            claims: &claims,
            return_to: None,
            nonce: None,
            issuer: "https://api.example.com",
            now: 1_700_000_000 + mints,
            jti: uuid::Uuid::new_v4(),
            amr: &["pwd"],
            sid: Some("sid-1"),
            authenticated: 1_700_000_000,
            saml: Some(&request),
        };
        std::hint::black_box(target.mint(input, &key, &certificate).unwrap_or_else(|e| panic!("{e}")));
        mints += 1;
    }
    let per_second = mints as f64 / started.elapsed().as_secs_f64();
    println!("  SAML response (RS256, signed twice): {per_second:>9.0} mints/s  ({:>6.1} us each)", 1e6 / per_second);
}

/// A parsed key for `alg`, and how long parsing its private key took.
fn key(alg: Algorithm) -> (SigningKey, Duration) {
    if alg == Algorithm::HS256 {
        return (SigningKey::Hs256(b"a-shared-secret-of-thirty-two-bytes".to_vec()), Duration::ZERO);
    }
    let generated = jws::generate(alg).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let key = SigningKey::from_pem(alg, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
    (key, started.elapsed())
}
