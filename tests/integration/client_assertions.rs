//! `private_key_jwt` (OpenID Connect Core §9, RFC 7523) against moto: an OpenID Connect client
//! that registered its public keys proves itself at the token and revocation endpoints with an
//! assertion it signs (made by `cryptography` and PyJWT, as a client's library would) instead of
//! a shared secret. Every way to forge, replay or misdirect one is refused, and a refused request
//! spends nothing.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;
use crate::openid_provider::*;

const KEYED: &str = "keyed-tool";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A key pair as a client makes one: its private and public JWKs, named `kid`.
fn key_pair(alg: &str, kid: &str) -> (Value, Value) {
    let pair = verify("keypair", &json!({"alg": alg, "kid": kid})).unwrap_or_else(|e| panic!("{e}"));
    (pair["private"].clone(), pair["public"].clone())
}

/// `provider()`'s stack with the client `keyed-tool`, registered with `public`.
async fn keyed(public: &Value) -> TestApp {
    let (test, _) = provider().await;
    let mut app = client(KEYED, "private_key_jwt");
    if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
        target.jwks = Some(json!({"keys": [public]}));
    }
    test.apps.create(app, None).await.unwrap_or_else(|e| panic!("{e:#}"));
    test
}

/// An assertion of `keyed-tool` for the token endpoint, signed with `private` by `alg`, with
/// `changes` to its claims (`null` removes one).
fn assertion(private: &Value, alg: &str, changes: Value) -> String {
    let mut claims = json!({"iss": KEYED, "sub": KEYED, "aud": format!("{API}/oauth2/token"), "exp": now() + 60, "iat": now(),
                            "jti": uuid::Uuid::new_v4().to_string()});
    for (name, value) in changes.as_object().cloned().unwrap_or_default() {
        if value.is_null() {
            claims.as_object_mut().map(|c| c.remove(&name));
        } else {
            claims[name] = value;
        }
    }
    let signed = verify("sign", &json!({"jwk": private, "alg": alg, "claims": claims})).unwrap_or_else(|e| panic!("{e}"));
    signed["token"].as_str().unwrap_or_default().to_owned()
}

/// `form` with the assertion `token`.
fn asserted<'a>(form: &[(&'a str, &'a str)], token: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut form = form.to_vec();
    form.extend([("client_assertion_type", ASSERTION_TYPE), ("client_assertion", token)]);
    form
}

#[tokio::test]
async fn a_client_proves_itself_with_an_assertion_signed_by_its_registered_key() {
    let (private, public) = key_pair("ES256", "k1");
    let test = keyed(&public).await;
    let discovery = test.send("GET", "/.well-known/openid-configuration", &[], None).await.json();
    assert!(discovery["token_endpoint_auth_methods_supported"].as_array().is_some_and(|m| m.contains(&json!("private_key_jwt"))), "{discovery}");
    assert_eq!(discovery["token_endpoint_auth_signing_alg_values_supported"], json!(["RS256", "ES256"]));

    // No client_id in the form: the assertion's `sub` names the client (RFC 7521 §4.2).
    let (code, _) = sign_in_for_code(&test, &authorize_path(KEYED, &[])).await;
    let tokens = token(&test, None, &asserted(&exchange(&code), &assertion(&private, "ES256", json!({})))).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let check = json!({"token": tokens.json()["id_token"], "algorithms": ["RS256"], "jwks": jwks(&test).await, "audience": KEYED, "issuer": API});
    verify("jwt", &check).unwrap_or_else(|e| panic!("{e}"));

    // Addressed to our issuer, with the client_id in the form: as good.
    let (code, _) = sign_in_for_code(&test, &authorize_path(KEYED, &[])).await;
    let token_assertion = assertion(&private, "ES256", json!({"aud": API}));
    let mut form = asserted(&exchange(&code), &token_assertion);
    form.push(("client_id", KEYED));
    assert_eq!(token(&test, None, &form).await.status, StatusCode::OK);

    // The revocation endpoint takes one too.
    let revoke = |token: String| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("token", "not-a-token"), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &token)])
            .finish();
        let test = &test;
        async move { test.send("POST", "/oauth2/revoke", &[("content-type", "application/x-www-form-urlencoded")], Some(body)).await }
    };
    assert_eq!(revoke(assertion(&private, "ES256", json!({"aud": format!("{API}/oauth2/revoke")}))).await.status, StatusCode::OK);
    refused(&revoke(assertion(&private, "ES256", json!({"aud": "https://other.example.com"}))).await, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn a_forged_replayed_or_misdirected_assertion_is_refused_and_spends_nothing() {
    let (private, public) = key_pair("ES256", "k1");
    let test = keyed(&public).await;
    let (code, _) = sign_in_for_code(&test, &authorize_path(KEYED, &[])).await;
    let form = exchange(&code);

    let (impostor, _) = key_pair("ES256", "k1");
    let (rsa, _) = key_pair("RS256", "k1");
    let b64 = |v: Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
    let claims = json!({"iss": KEYED, "sub": KEYED, "aud": API, "exp": now() + 60, "jti": "unsigned"});
    let unsigned = format!("{}.{}.", b64(json!({"alg": "none", "kid": "k1"})), b64(claims));
    // HS256 keyed with the registered public key (algorithm confusion; PyJWT refuses to make one).
    let header = jsonwebtoken::Header { kid: Some("k1".into()), ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256) };
    let claims = json!({"iss": KEYED, "sub": KEYED, "aud": API, "exp": now() + 60, "jti": "confused"});
    let confused = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(public.to_string().as_bytes())).unwrap_or_default();
    for (why, forged) in [
        ("another key under the registered kid", assertion(&impostor, "ES256", json!({}))),
        ("an RSA key under the registered kid", assertion(&rsa, "RS256", json!({}))),
        ("unsigned", unsigned),
        ("HS256 with the public key", confused),
        ("for another issuer", assertion(&private, "ES256", json!({"aud": "https://other.example.com"}))),
        ("for no one", assertion(&private, "ES256", json!({"aud": null}))),
        ("expired", assertion(&private, "ES256", json!({"exp": now() - 120}))),
        ("living two hours", assertion(&private, "ES256", json!({"exp": now() + 7200}))),
        ("not valid yet", assertion(&private, "ES256", json!({"nbf": now() + 600}))),
        ("without a jti", assertion(&private, "ES256", json!({"jti": null}))),
        ("issued by another client", assertion(&private, "ES256", json!({"iss": CLIENT}))),
        ("another client's, signed with this key", assertion(&private, "ES256", json!({"iss": CLIENT, "sub": CLIENT}))),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let mut form = asserted(&form, &forged);
        form.push(("client_id", KEYED));
        let reply = token(&test, None, &form).await;
        assert_eq!((reply.status, reply.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "{why}: {}", reply.body);
    }
    // A good assertion presented for the client with a secret.
    let good = assertion(&private, "ES256", json!({}));
    let mut as_other = asserted(&form, &good);
    as_other.push(("client_id", CLIENT));
    refused(&token(&test, None, &as_other).await, StatusCode::UNAUTHORIZED, "invalid_client");
    // A secret instead, no proof at all, an unknown assertion type, two ways at once.
    refused(&token(&test, Some(&basic(KEYED, SECRET)), &form).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut bare = form.clone();
    bare.push(("client_id", KEYED));
    refused(&token(&test, None, &bare).await, StatusCode::UNAUTHORIZED, "invalid_client");
    let mut wrong_type = form.clone();
    wrong_type.extend([("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"), ("client_assertion", good.as_str())]);
    refused(&token(&test, None, &wrong_type).await, StatusCode::BAD_REQUEST, "invalid_request");
    refused(&token(&test, Some(&basic(KEYED, SECRET)), &asserted(&form, &good)).await, StatusCode::BAD_REQUEST, "invalid_request");

    // Nothing was spent: the code, then the same assertion again.
    assert_eq!(token(&test, None, &asserted(&form, &good)).await.status, StatusCode::OK);
    let (code, _) = sign_in_for_code(&test, &authorize_path(KEYED, &[])).await;
    refused(&token(&test, None, &asserted(&exchange(&code), &good)).await, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(token(&test, None, &asserted(&exchange(&code), &assertion(&private, "ES256", json!({})))).await.status, StatusCode::OK, "a new one");
}

#[tokio::test]
async fn only_public_keys_register_and_such_a_client_shares_no_secret_nor_turns_public() {
    let (private, public) = key_pair("RS256", "k1");
    let (test, _) = provider().await;
    let with = |jwks: Option<Value>, authentication: &str| {
        let mut app = client(KEYED, authentication);
        if let shared::tokens::targets::Target::Oidc(target) = &mut app.target {
            target.jwks = jwks;
        }
        app
    };
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    for (app, secret) in [
        (with(Some(json!({"keys": [private]})), "private_key_jwt"), None),
        (with(None, "private_key_jwt"), None),
        (with(Some(json!({"keys": [public.clone()]})), "private_key_jwt"), Some(&secret)),
        (with(Some(json!({"keys": [public.clone()]})), "client_secret_basic"), Some(&secret)),
    ] {
        assert!(test.apps.create(app, secret).await.is_err());
    }
    assert!(test.apps.get(&shared::tokens::app::AppId::parse(KEYED).unwrap_or_else(|e| panic!("{e}"))).await.is_err(), "nothing made");
    let made = test.apps.create(with(Some(json!({"keys": [public]})), "private_key_jwt"), None).await.unwrap_or_else(|e| panic!("{e:#}"));
    // Made public, its codes and refresh tokens would need no proof: refused.
    let public_client = shared::tokens::app::App { version: made.version, ..with(None, "none") };
    assert!(test.apps.update(public_client).await.is_err());
}
