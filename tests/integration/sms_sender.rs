//! The custom SMS sender's decryption against moto's KMS: authentic sender events whose code the
//! Python AWS Encryption SDK encrypted under a KMS key (`tests/fixtures/custom_sender_event.py`),
//! opened by our reader (`domain::encryption_sdk`) through the KMS keyring.

use crate::harness::{moto, sdk_config};
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::Value;
use shared::adapters::kms_keyring::{KeyringError, KmsKeyring};
use shared::domain::encryption_sdk::EsdkError;
use shared::testing::CallLog;

/// A sender event for `code`, encrypted under `key` (extra arguments for the script).
fn event(key: &str, code: &str, extra: &[&str]) -> Value {
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/custom_sender_event.py"))
        .args([key, code, "CustomSMSSender_Authentication"])
        .args(extra)
        .env("AWS_ENDPOINT_URL", moto())
        .env("AWS_DEFAULT_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ciphertext(event: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(event["request"]["code"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn codes_encrypted_by_the_encryption_sdk_under_kms_open_only_intact_and_with_our_key() {
    let calls = CallLog::default();
    let sdk = sdk_config(moto(), &calls).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let other = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let keyring = KmsKeyring::new(kms.clone(), vec![key.clone()]);

    // Cognito's default suite (committing, signed), its unsigned sibling, a 1.0 suite, and a
    // text spread over three frames.
    let long = "0123456789".repeat(30);
    for (code, extra) in
        [("482913", vec![]), ("004217", vec!["--suite", "unsigned"]), ("731846", vec!["--suite", "v1"]), (long.as_str(), vec!["--frame", "128"])]
    {
        let message = ciphertext(&event(&key, code, &extra));
        calls.take();
        let opened = keyring.decrypt(&message).await.unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(opened.expose_secret(), code, "{extra:?}");
        assert_eq!(calls.take(), ["TrentService.Decrypt"], "one KMS call per message");
    }

    // Only with the keyring's own key.
    let foreign = ciphertext(&event(&other, "482913", &[]));
    assert!(matches!(keyring.decrypt(&foreign).await, Err(KeyringError::NoKey)));

    // Any changed byte, anywhere, and nothing comes out.
    let message = ciphertext(&event(&key, "482913", &[]));
    for at in [1, 40, message.len() / 2, message.len() - 120, message.len() - 20, message.len() - 1] {
        let mut tampered = message.clone();
        tampered[at] ^= 0x01;
        assert!(keyring.decrypt(&tampered).await.is_err(), "byte {at} changed");
    }
    for cut in [10, message.len() - 1] {
        assert!(keyring.decrypt(&message[..cut]).await.is_err(), "cut at {cut}");
    }
    let mut longer = message.clone();
    longer.push(0);
    assert!(matches!(keyring.decrypt(&longer).await, Err(KeyringError::Message(EsdkError::Malformed(_)))));
}
