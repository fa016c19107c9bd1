//! Sign-in without a password against the local Cognito's emulation of choice-based sign-in
//! (`USER_AUTH`), email codes and passkeys (`scripts/moto_server.py`, WebAuthn verified with
//! the `webauthn` library): the Cognito adapter's every new operation and its errors, and the
//! login API's `/login/code` and `/login/passkey` steps. A software authenticator (P-256, the
//! `none` attestation, as a platform authenticator answers) plays the browser's part.

use crate::harness::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use http::StatusCode;
use serde_json::{Value, json};
use shared::adapters::cognito::account::CognitoAccount;
use shared::adapters::cognito::auth::CognitoPasswordAuth;
use shared::adapters::secrets_manager::SecretsManager;
use shared::common::secrets::{CachedSecrets, SecretRef};
use shared::signin::challenge::{AccessToken, AuthError, AuthStep, ChallengeAnswer, ChallengeKind};
use shared::signin::ports::OwnAccount;
use shared::signin::ports::PasswordAuth;
use std::sync::Arc;
use std::time::Duration;

/// The local form's origin: the relying party `localhost`.
pub const ORIGIN: &str = "http://localhost:8081";

/// A software passkey: one P-256 key, a credential id, a signature counter.
pub struct SoftAuthenticator {
    key: EcdsaKeyPair,
    id: Vec<u8>,
    counter: u32,
    user_handle: Vec<u8>,
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

/// The little CBOR the attestation needs (RFC 8949): maps, byte and text strings, integers.
enum Cbor<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
}

impl Cbor<'_> {
    fn head(out: &mut Vec<u8>, major: u8, n: u64) {
        match n {
            0..=23 => out.push(major << 5 | n as u8),
            24..=0xff => out.extend([major << 5 | 24, n as u8]),
            _ => {
                out.push(major << 5 | 25);
                out.extend((n as u16).to_be_bytes());
            }
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => Self::head(out, 0, *i as u64),
            Cbor::Int(i) => Self::head(out, 1, (-1 - i) as u64),
            Cbor::Bytes(b) => {
                Self::head(out, 2, b.len() as u64);
                out.extend(*b);
            }
            Cbor::Text(t) => {
                Self::head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                Self::head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }
}

impl SoftAuthenticator {
    pub fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut id).unwrap();
        Self { key, id, counter: 0, user_handle: Vec::new() }
    }

    pub fn id(&self) -> String {
        B64.encode(&self.id)
    }

    fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": options["challenge"], "origin": origin, "crossOrigin": false}).to_string().into_bytes()
    }

    /// The answer to `navigator.credentials.create(options)` from `origin`.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        let rp_id = options["rp"]["id"].as_str().unwrap();
        self.user_handle = B64.decode(options["user"]["id"].as_str().unwrap()).unwrap();
        let public = self.key.public_key().as_ref();
        let mut cose = Vec::new();
        let (x, y) = (&public[1..33], &public[33..65]);
        Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(x)),
            (Cbor::Int(-3), Cbor::Bytes(y)),
        ])
        .encode(&mut cose);
        let mut auth_data = sha256(rp_id.as_bytes());
        auth_data.push(0x01 | 0x04 | 0x40); // user present, user verified, attested credential data
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.id.len() as u16).to_be_bytes());
        auth_data.extend(&self.id);
        auth_data.extend(&cose);
        let mut attestation = Vec::new();
        Cbor::Map(vec![(Cbor::Text("fmt"), Cbor::Text("none")), (Cbor::Text("attStmt"), Cbor::Map(vec![])), (Cbor::Text("authData"), Cbor::Bytes(&auth_data))])
            .encode(&mut attestation);
        let client_data = Self::client_data("webauthn.create", options, origin);
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": B64.encode(client_data), "attestationObject": B64.encode(attestation), "transports": ["internal"]}
        })
    }

    /// The answer to `navigator.credentials.get(options)` from `origin`.
    pub fn get(&mut self, options: &Value, origin: &str) -> Value {
        self.counter += 1;
        let mut auth_data = sha256(options["rpId"].as_str().unwrap().as_bytes());
        auth_data.push(0x01 | 0x04);
        auth_data.extend(self.counter.to_be_bytes());
        let client_data = Self::client_data("webauthn.get", options, origin);
        let mut signed = auth_data.clone();
        signed.extend(sha256(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": self.id(), "rawId": self.id(), "type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": B64.encode(client_data), "authenticatorData": B64.encode(auth_data),
                         "signature": B64.encode(signature.as_ref()), "userHandle": B64.encode(&self.user_handle)}
        })
    }
}

pub fn cognito(app: &TestApp) -> (CognitoPasswordAuth, CognitoAccount) {
    let client = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let store = Arc::new(SecretsManager::new(aws_sdk_secretsmanager::Client::new(&app.sdk)));
    let secrets = Arc::new(CachedSecrets::new(store, SecretRef(app.stack.bridge_secret_id.clone()), Duration::from_secs(60)));
    (CognitoPasswordAuth::new(client.clone(), &app.stack.client_id, secrets), CognitoAccount::new(client))
}

/// The person's access token, from a password sign-in.
pub async fn access_token(auth: &CognitoPasswordAuth, email: &str) -> AccessToken {
    match auth.sign_in(email, &PASSWORD.to_owned().into()).await.unwrap() {
        AuthStep::Authenticated { access_token, .. } => access_token,
        other => panic!("{other:?}"),
    }
}

/// Registers a passkey for `email` through the adapter; returns it.
pub async fn register(app: &TestApp, email: &str) -> SoftAuthenticator {
    let (auth, account) = cognito(app);
    let token = access_token(&auth, email).await;
    let options = account.start_passkey_registration(&token).await.unwrap();
    let mut authenticator = SoftAuthenticator::new();
    account.complete_passkey_registration(&token, &authenticator.create(&options, ORIGIN)).await.unwrap();
    authenticator
}

fn challenge_of(step: Result<AuthStep, AuthError>) -> shared::signin::challenge::Challenge {
    match step {
        Ok(AuthStep::Challenge(c)) => c,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_passkey_is_registered_listed_used_once_per_challenge_and_deleted() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let (auth, account) = cognito(&app);
    let token = access_token(&auth, "hanako@example.com").await;

    // Registration: the options name the pool's relying party and ask for a discoverable key.
    let options = account.start_passkey_registration(&token).await.unwrap();
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    let mut passkey = SoftAuthenticator::new();
    // From an origin the relying party does not cover: refused, and the options are spent.
    let elsewhere = account.complete_passkey_registration(&token, &passkey.create(&options, "https://evil.example")).await;
    assert_eq!(elsewhere, Err(AuthError::CodeMismatch));
    assert_eq!(
        account.complete_passkey_registration(&token, &passkey.create(&options, ORIGIN)).await,
        Err(AuthError::ChallengeExpired),
        "options are good once"
    );
    let options = account.start_passkey_registration(&token).await.unwrap();
    let mut tampered = passkey.create(&options, ORIGIN);
    tampered["response"]["clientDataJSON"] = json!(B64.encode(json!({"type": "webauthn.create", "challenge": "AAAA", "origin": ORIGIN}).to_string()));
    assert_eq!(account.complete_passkey_registration(&token, &tampered).await, Err(AuthError::CodeMismatch), "another challenge");
    let options = account.start_passkey_registration(&token).await.unwrap();
    account.complete_passkey_registration(&token, &passkey.create(&options, ORIGIN)).await.unwrap();
    let listed = account.passkeys(&token).await.unwrap();
    assert_eq!(listed.iter().map(|p| p.id.clone()).collect::<Vec<_>>(), [passkey.id()]);
    assert_eq!(listed[0].attachment.as_deref(), Some("platform"));
    // The same authenticator again: excluded by the options, refused if it comes anyway.
    let options = account.start_passkey_registration(&token).await.unwrap();
    assert_eq!(options["excludeCredentials"][0]["id"], json!(passkey.id()));
    assert_eq!(account.complete_passkey_registration(&token, &passkey.create(&options, ORIGIN)).await, Err(AuthError::CodeMismatch));

    // Sign-in: USER_AUTH with the passkey preferred, the browser's answer, tokens.
    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::WebAuthn).await);
    assert_eq!(challenge.kind, ChallengeKind::WebAuthn);
    let request: Value = serde_json::from_str(challenge.request_options.as_deref().unwrap()).unwrap();
    assert_eq!(request["rpId"], "localhost");
    let answer = passkey.get(&request, ORIGIN);
    let signed_in = auth.answer(&challenge, ChallengeAnswer::Credential(answer.to_string())).await;
    assert!(matches!(signed_in, Ok(AuthStep::Authenticated { .. })), "{signed_in:?}");
    // The same answer again (its session is spent), an answer from another origin, another
    // key under the same id: refused.
    assert!(auth.answer(&challenge, ChallengeAnswer::Credential(answer.to_string())).await.is_err());
    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::WebAuthn).await);
    let request: Value = serde_json::from_str(challenge.request_options.as_deref().unwrap()).unwrap();
    let phished = passkey.get(&request, "https://localhost.evil.example");
    assert_eq!(auth.answer(&challenge, ChallengeAnswer::Credential(phished.to_string())).await, Err(AuthError::InvalidCredentials));
    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::WebAuthn).await);
    let request: Value = serde_json::from_str(challenge.request_options.as_deref().unwrap()).unwrap();
    let mut impostor = SoftAuthenticator::new();
    impostor.id = B64.decode(passkey.id()).unwrap();
    let forged = impostor.get(&request, ORIGIN);
    assert_eq!(auth.answer(&challenge, ChallengeAnswer::Credential(forged.to_string())).await, Err(AuthError::InvalidCredentials));
    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::WebAuthn).await);
    assert_eq!(auth.answer(&challenge, ChallengeAnswer::Credential("{}".into())).await, Err(AuthError::InvalidCredentials));

    // Deleted: listed no more, and no longer offered.
    account.delete_passkey(&token, &passkey.id()).await.unwrap();
    assert!(account.passkeys(&token).await.unwrap().is_empty());
    assert_eq!(account.delete_passkey(&token, &passkey.id()).await, Err(AuthError::CodeMismatch));
    let choice = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::WebAuthn).await);
    assert_eq!(choice.kind, ChallengeKind::SelectChallenge);
    assert!(!choice.options.contains(&ChallengeKind::WebAuthn), "{:?}", choice.options);
    // Someone else's token cannot touch this person's passkeys; a bad token is refused.
    assert_eq!(account.passkeys(&AccessToken("not-a-token".to_owned().into())).await, Err(AuthError::ChallengeExpired));
}

#[tokio::test]
async fn an_email_code_signs_in_once_and_three_wrong_codes_end_the_step() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let (auth, _) = cognito(&app);
    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::EmailOtp).await);
    assert_eq!((challenge.kind, challenge.destination.as_deref()), (ChallengeKind::EmailOtp, Some("h***@e***")));
    let mail = app.last_email("hanako@example.com");
    assert_eq!(mail["kind"], "CustomMessage_Authentication");
    let code = mail["code"].as_str().unwrap().to_owned();
    let wrong = |c: &str| ChallengeAnswer::Code(c.to_owned().into());
    assert_eq!(auth.answer(&challenge, wrong("000000")).await, Err(AuthError::CodeMismatch));
    assert!(matches!(auth.answer(&challenge, ChallengeAnswer::Code(code.clone().into())).await, Ok(AuthStep::Authenticated { .. })));
    assert!(auth.answer(&challenge, ChallengeAnswer::Code(code.into())).await.is_err(), "a code works once");

    let challenge = challenge_of(auth.start_passwordless("hanako@example.com", ChallengeKind::EmailOtp).await);
    assert_eq!(auth.answer(&challenge, wrong("000001")).await, Err(AuthError::CodeMismatch));
    assert_eq!(auth.answer(&challenge, wrong("000002")).await, Err(AuthError::CodeMismatch));
    assert_eq!(auth.answer(&challenge, wrong("000003")).await, Err(AuthError::ChallengeExpired), "the third wrong code ends the step");

    // Someone with MFA is not offered an email code (Cognito), an unknown address is, alike.
    app.user("mfa@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    let choice = challenge_of(auth.start_passwordless("mfa@example.com", ChallengeKind::EmailOtp).await);
    assert_eq!(choice.kind, ChallengeKind::SelectChallenge);
    let unknown = challenge_of(auth.start_passwordless("nobody@example.com", ChallengeKind::EmailOtp).await);
    assert_eq!((unknown.kind, unknown.destination.as_deref()), (ChallengeKind::EmailOtp, Some("n***@e***")));
}

#[tokio::test]
async fn the_form_signs_in_with_an_email_code_or_a_passkey_and_unknown_emails_read_alike() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    app.user("haruka@example.com", |_| {}).await;
    let mut passkey = register(&app, "hanako@example.com").await;

    // An email code.
    let ctx = app.ctx().await;
    let step = app.post("/login/code", json!({"ctx": ctx, "email": "hanako@example.com"})).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    let step = step.json();
    assert_eq!((step["status"].as_str(), step["challenge"].as_str(), step["destination"].as_str()), (Some("challenge"), Some("email_otp"), Some("h***@e***")));
    let code = app.emailed_code("hanako@example.com");
    let signed_in = app.post("/login/challenge", json!({"flow": step["flow"], "code": code})).await;
    let page = app.handoff(&signed_in).await;
    assert!(page.body.contains(&format!("action=\"{ZENDESK}/access/jwt\"")), "{}", page.body);
    let events = app.events().await;
    let sign_in = events.iter().find(|e| e.to_value()["type"] == "user.signed_in").unwrap().to_value();
    assert_eq!(sign_in["context"]["method"], "email_code");

    // An unknown email, and one without a passkey: the same shapes as a known one.
    let ctx = app.ctx().await;
    let shape = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (
            keys,
            v["challenge"].clone(),
            v["public_key"].as_object().map(|o| {
                let mut k: Vec<String> = o.keys().cloned().collect();
                k.sort();
                (k, o["allowCredentials"].clone(), o["rpId"].clone())
            }),
        )
    };
    let for_email = |email: &str| app.post("/login/passkey", json!({"ctx": ctx, "email": email}));
    let known = for_email("hanako@example.com").await.json();
    let without = for_email("haruka@example.com").await.json();
    let unknown = for_email("nobody@example.com").await.json();
    assert_eq!(known["public_key"]["allowCredentials"], json!([]), "no credential named");
    assert_eq!(shape(&known), shape(&without));
    assert_eq!(shape(&known), shape(&unknown));
    let code_known = app.post("/login/code", json!({"ctx": ctx, "email": "haruka@example.com"})).await.json();
    let code_unknown = app.post("/login/code", json!({"ctx": ctx, "email": "nobody@example.com"})).await.json();
    assert_eq!(shape(&code_known), shape(&code_unknown));
    // The step an unknown email gets takes no answer.
    let refused = app.post("/login/challenge", json!({"flow": unknown["flow"], "credential": passkey.get(&unknown["public_key"], ORIGIN)})).await;
    assert_eq!((refused.status, refused.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")), "{}", refused.body);
    let refused = app.post("/login/challenge", json!({"flow": code_unknown["flow"], "code": "123456"})).await;
    assert_eq!(refused.json()["error"], "code_mismatch");

    // A passkey: the browser's answer to the options; signed in with a second factor.
    let answer = passkey.get(&known["public_key"], ORIGIN);
    let signed_in = app.post("/login/challenge", json!({"flow": known["flow"], "credential": answer})).await;
    assert_eq!(signed_in.json()["status"], "signed_in", "{}", signed_in.body);
    let page = app.handoff(&signed_in).await;
    let jwt = form_field(&page.body, "jwt").unwrap();
    let claims: Value = serde_json::from_slice(&B64.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["email"], "hanako@example.com");
    // Someone else's passkey for this email's step: refused.
    let mut other = register(&app, "haruka@example.com").await;
    let step = for_email("hanako@example.com").await.json();
    let wrong = app.post("/login/challenge", json!({"flow": step["flow"], "credential": other.get(&step["public_key"], ORIGIN)})).await;
    assert_eq!(wrong.json()["error"], "invalid_credentials");
    // Malformed answers: a clear 400, before Cognito.
    let hostile = [
        json!({"flow": step["flow"], "credential": "x"}),
        json!({"flow": step["flow"], "credential": {}, "code": "1"}),
        json!({"flow": step["flow"], "credential": {}}),
        json!({"flow": step["flow"], "credential": {"id": "a", "type": "public-key", "response": {"signature": "A".repeat(9000)}}}),
    ];
    for body in hostile {
        assert_eq!(app.post("/login/challenge", body).await.status, StatusCode::BAD_REQUEST);
    }
    // Codes: two tries each, for every address alike; the third is refused before Cognito.
    for email in ["hanako@example.com", "nobody@example.com"] {
        let step = app.post("/login/code", json!({"ctx": ctx, "email": email})).await.json();
        let tries: Vec<_> = three_wrong_codes(&app, &step["flow"]).await;
        assert_eq!(tries, ["code_mismatch", "code_mismatch", "too_many_attempts"], "{email}");
    }
    // Past five codes an hour for an address, none is sent (the same for any address).
    for email in ["haruka@example.com", "nobody2@example.com"] {
        let answers: Vec<Value> = {
            let mut all = Vec::new();
            for _ in 0..6 {
                all.push(app.post("/login/code", json!({"ctx": ctx, "email": email})).await.json());
            }
            all
        };
        assert_eq!(answers.last().unwrap()["error"], "too_many_attempts", "{email}: {answers:?}");
    }
}

/// Each code step has its own two tries: a new step for the address starts none of an earlier
/// one's again. Otherwise a third guess at the earlier step would reach Cognito, which ends a
/// real step at its third wrong code (`challenge_expired`) where a decoy answers
/// `code_mismatch`, and tell an account from none.
#[tokio::test]
async fn a_new_code_step_starts_no_new_tries_of_an_earlier_one() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let ctx = app.ctx().await;
    let mut seen = Vec::new();
    for email in ["hanako@example.com", "nobody@example.com"] {
        let first = app.post("/login/code", json!({"ctx": ctx, "email": email})).await.json();
        let wrong = |flow: Value| app.post("/login/challenge", json!({"flow": flow, "code": "000001"}));
        let mut answers = vec![wrong(first["flow"].clone()).await.json()["error"].clone(), wrong(first["flow"].clone()).await.json()["error"].clone()];
        let second = app.post("/login/code", json!({"ctx": ctx, "email": email})).await.json();
        answers.push(wrong(first["flow"].clone()).await.json()["error"].clone());
        answers.push(wrong(second["flow"].clone()).await.json()["error"].clone());
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1], "the same answers, step by step");
    assert_eq!(seen[0], [json!("code_mismatch"), json!("code_mismatch"), json!("too_many_attempts"), json!("code_mismatch")]);
}

#[tokio::test]
async fn each_passwordless_step_makes_only_the_aws_calls_it_needs() {
    let app = spawn_app().await;
    app.user("hanako@example.com", |_| {}).await;
    let mut passkey = register(&app, "hanako@example.com").await;
    // A first sign-in loads what every sign-in shares, and makes the person's profile.
    assert_eq!(app.login("hanako@example.com", PASSWORD).await.json()["status"], "signed_in");
    let ctx = app.ctx().await;
    let step = |what: &str| {
        let mut calls = app.calls.take();
        calls.sort();
        println!("{what:>24}: {} AWS calls {calls:?}", calls.len());
        calls
    };
    step("warm-up");
    let started = app.post("/login/passkey", json!({"ctx": ctx, "email": "hanako@example.com"})).await.json();
    assert_eq!(step("POST /login/passkey"), ["AWSCognitoIdentityProviderService.InitiateAuth"]);
    let answer = passkey.get(&started["public_key"], ORIGIN);
    assert_eq!(app.post("/login/challenge", json!({"flow": started["flow"], "credential": answer})).await.json()["status"], "signed_in");
    // One Cognito call, the email's history read beside it; then the session with its events.
    let signed_in = ["AWSCognitoIdentityProviderService.RespondToAuthChallenge", "DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.TransactWriteItems"];
    assert_eq!(step("passkey answer"), signed_in);
    let started = app.post("/login/code", json!({"ctx": ctx, "email": "hanako@example.com"})).await.json();
    // The address's count of codes first (over it, none is sent), then InitiateAuth.
    assert_eq!(step("POST /login/code"), ["AWSCognitoIdentityProviderService.InitiateAuth", "DynamoDB_20120810.UpdateItem"]);
    let code = app.emailed_code("hanako@example.com");
    assert_eq!(app.post("/login/challenge", json!({"flow": started["flow"], "code": code})).await.json()["status"], "signed_in");
    // The code's count of tries first, then as a passkey's answer.
    let mut with_try = signed_in.map(str::to_owned).to_vec();
    with_try.push("DynamoDB_20120810.UpdateItem".into());
    with_try.sort();
    assert_eq!(step("email code answer"), with_try);
}

/// Three wrong codes for the step `flow`: each answer's error code.
async fn three_wrong_codes(app: &TestApp, flow: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    for code in ["000001", "000002", "000003"] {
        let reply = app.post("/login/challenge", json!({"flow": flow, "code": code})).await;
        errors.push(reply.json()["error"].as_str().unwrap_or_default().to_owned());
    }
    errors
}
