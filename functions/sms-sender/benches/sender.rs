//! The sender's own time per message: decrypting Cognito's code (an authentic AWS Encryption SDK
//! message, Cognito's default suite with its ECDSA P-384 signature) and dispatching it, with the
//! AWS transport replaced by an instant replay, and the hook answering at once: in-process (the
//! bridge's time only) and over HTTP on loopback (plus the HTTP client). Also counts AWS calls
//! per message. Prints figures; asserts nothing about time.
//!
//! The message is made once against moto (KMS key, the Python Encryption SDK), and the data key
//! moto's KMS returns for it is what the replayed `Decrypt` answers.
//!
//! `make bench-sender` (or `cargo bench -p sms-sender --bench sender`).

use async_trait::async_trait;
use base64::Engine;
use serde_json::{Value, json};
use shared::telephony::encryption_sdk::Message;
use shared::telephony::hook::Hook;
use shared::telephony::ports::{CallFailure, HookCaller};
use shared::telephony::sms_sender::{Sent, SmsSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error>;

const ITERATIONS: usize = 2_000;
const TABLE: &str = "bench";

/// A hook that answers SUCCESSFUL at once, in-process.
struct InstantHook;

#[async_trait]
impl HookCaller for InstantHook {
    async fn call(&self, _: &Hook, _: &Value, _: Duration) -> Result<(u16, Value), CallFailure> {
        Ok((200, successful()))
    }
}

fn successful() -> Value {
    json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "SUCCESSFUL", "provider": "bench", "transactionId": "t"}]}]})
}

/// The event, the key and the message's plaintext data key, made against moto.
async fn authentic_event(root: &str) -> Result<(Value, String, Vec<u8>), Failure> {
    let (mut moto, endpoint) = shared::testing::start_moto(std::path::Path::new(root), &[])?;
    let sdk = shared::testing::moto_sdk(&endpoint, &shared::testing::CallLog::default()).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await?.key_metadata.and_then(|m| m.arn).ok_or("no key ARN")?;
    let out = std::process::Command::new("python3")
        .arg(format!("{root}/tests/fixtures/custom_sender_event.py"))
        .args([key.as_str(), "482913", "CustomSMSSender_Authentication"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_DEFAULT_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let event: Value = serde_json::from_slice(&out.stdout)?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(event["request"]["code"].as_str().unwrap_or_default())?;
    let message = Message::parse(&bytes)?;
    let edk = message.keys.first().ok_or("no data key")?;
    let plain = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(edk.ciphertext.clone()))
        .set_encryption_context(Some(message.context_map()))
        .send()
        .await?;
    let data_key = plain.plaintext.ok_or("no plaintext")?.into_inner();
    moto.kill()?;
    Ok((event, key, data_key))
}

/// Canned AWS answers by operation.
fn replay(target: &str, key: &str, data_key: &[u8], hook_url: &str) -> Value {
    match target {
        "TrentService.Decrypt" => json!({"KeyId": key, "Plaintext": base64::engine::general_purpose::STANDARD.encode(data_key)}),
        "DynamoDB_20120810.PutItem" | "DynamoDB_20120810.TransactWriteItems" => json!({}),
        "DynamoDB_20120810.Query" => {
            let hook = json!({"name": "bench", "url": hook_url, "auth": {"type": "header", "name": "x-hook-secret", "secret": "hook-secret"}, "version": 1});
            json!({"Items": [
                {"pk": {"S": "HOOKS"}, "sk": {"S": "ACTIVE"}, "active_hook": {"S": "bench"}},
                {"pk": {"S": "HOOKS"}, "sk": {"S": "HOOK#bench"}, "data": {"S": hook.to_string()}, "version": {"N": "1"}}
            ], "Count": 2})
        }
        "secretsmanager.GetSecretValue" => json!({"ARN": "hook-secret", "Name": "hook-secret", "SecretString": "s3cret-value-for-the-bench"}),
        other => panic!("unexpected AWS call {other}"),
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p) as usize]
}

async fn measure(name: &str, sender: &SmsSender, event: &Value, calls: &shared::testing::CallLog) -> Result<(), Failure> {
    let deadline = || Instant::now() + Duration::from_secs(10);
    for _ in 0..200 {
        sender.send(event, 1_700_000_000, deadline()).await?;
    }
    calls.take();
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let sent = sender.send(event, 1_700_000_000, deadline()).await?;
        samples.push(started.elapsed());
        assert!(matches!(sent, Sent::Delivered { .. }));
    }
    let per_message = calls.take().len() as f64 / ITERATIONS as f64;
    let (p50, p99) = (percentile(&mut samples, 0.5), percentile(&mut samples, 0.99));
    println!("{name:<38} p50 {:>7.0} us   p99 {:>7.0} us   AWS calls per message {per_message:.1}", p50.as_secs_f64() * 1e6, p99.as_secs_f64() * 1e6);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let (event, key, data_key) = authentic_event(root).await?;

    // The Encryption SDK message alone: parse, check, decrypt (no KMS call).
    let bytes = base64::engine::general_purpose::STANDARD.decode(event["request"]["code"].as_str().unwrap_or_default())?;
    let mut samples = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let plain = Message::parse(&bytes)?.decrypt(&data_key)?;
        samples.push(started.elapsed());
        assert_eq!(plain, b"482913");
    }
    println!("{:<38} p50 {:>7.0} us", "Encryption SDK message only", percentile(&mut samples, 0.5).as_secs_f64() * 1e6);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}/hook", listener.local_addr()?);
    let service = axum::Router::new().fallback(|| async { axum::Json(successful()) });
    tokio::spawn(async move { axum::serve(listener, service).await });

    let replayed_key = key.clone();
    let (sdk, calls) = shared::testing::replayed_sdk(move |target, _| replay(target, &replayed_key, &data_key, &hook_url)).await;
    let env = [("TABLE_NAME", TABLE), ("KMS_KEY_ARN", key.as_str())];
    let mut sender = sms_sender::state::sender(&env, &sdk)?;
    measure("decrypt + dispatch, HTTP on loopback", &sender, &event, &calls).await?;
    sender.caller = Arc::new(InstantHook);
    measure("decrypt + dispatch, in-process hook", &sender, &event, &calls).await?;
    Ok(())
}
