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

type Reply = Result<(u16, Value), shared::ports::CallFailure>;

/// A hook caller that answers from a script per hook (then `SUCCESSFUL`) and records requests.
#[derive(Default)]
struct ScriptedHooks {
    script: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<Reply>>>,
    requests: std::sync::Mutex<Vec<(String, Value)>>,
}

#[async_trait::async_trait]
impl shared::ports::HookCaller for ScriptedHooks {
    async fn call(&self, hook: &Hook, request: &Value, _: std::time::Duration) -> Reply {
        self.requests.lock().unwrap().push((hook.name.clone(), request.clone()));
        let next = self.script.lock().unwrap().get_mut(&hook.name).and_then(|q| q.pop_front());
        next.unwrap_or_else(|| Ok((200, serde_json::json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "SUCCESSFUL"}]}]}))))
    }
}

use shared::domain::sms_sender::{Hook, Sent, SmsSender};

fn hook(name: &str, fallback: Option<&str>) -> Hook {
    serde_json::from_value(serde_json::json!({"name": name, "url": format!("https://{name}.example.com/hook"), "auth": {"type": "none"},
                                               "fallback": fallback, "version": 1}))
    .unwrap()
}

/// The sender over the table (hooks, ledger, counters, events) and moto's KMS: authentic events
/// delivered once, the fallback used on failure, exactly one active hook under concurrent
/// switching, and the 30-day counters.
#[tokio::test]
async fn the_sender_over_the_table_and_kms_delivers_once_falls_back_and_counts() {
    use shared::adapters::dynamo_hooks::DynamoHooks;
    use std::sync::Arc;
    let app = crate::harness::spawn_app().await;
    let kms = aws_sdk_kms::Client::new(&app.sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let hooks = Arc::new(DynamoHooks::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table));
    hooks.save(&hook("primary", Some("secondary"))).await.unwrap();
    hooks.save(&hook("secondary", None)).await.unwrap();
    assert!(hooks.save(&hook("primary", None)).await.is_err(), "an update names the version it replaces");
    assert!(hooks.activate("nope").await.is_err(), "only a hook that exists");

    // Many activations at once: afterwards exactly one hook is active.
    let names = ["primary", "secondary"];
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let hooks = hooks.clone();
            tokio::spawn(async move { hooks.activate(names[i % 2]).await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().unwrap();
    }
    assert!(names.contains(&hooks.active_name().await.unwrap().unwrap().as_str()));
    hooks.activate("primary").await.unwrap();
    assert!(hooks.deactivate("secondary").await.is_err(), "deactivating names the active hook");

    let caller = Arc::new(ScriptedHooks::default());
    let events = Arc::new(shared::adapters::dynamo_workflows::DynamoWorkflows::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table));
    let sender = SmsSender {
        hooks: hooks.clone(),
        caller: caller.clone(),
        ledger: hooks.clone(),
        metrics: hooks.clone(),
        opener: Arc::new(KmsKeyring::new(kms, vec![key.clone()])),
        events,
    };
    let day = 20_500;
    let now = day * 86_400 + 3_600;
    let mfa = event(&key, "482913", &[]);
    assert_eq!(sender.send(&mfa, now).await.unwrap(), Sent::Delivered { hook: "primary".into(), fell_back: false });
    assert_eq!(sender.send(&mfa, now + 1).await.unwrap(), Sent::Duplicate, "Cognito's retry of the same event");
    let request = caller.requests.lock().unwrap()[0].1.clone();
    assert_eq!(request["data"]["messageProfile"]["otpCode"], "482913", "the code Cognito encrypted, opened");
    assert_eq!(request["requestType"], "com.okta.user.telephony.mfa-verification");

    // The active hook's provider fails: the fallback delivers.
    caller.script.lock().unwrap().insert(
        "primary".into(),
        [Ok((200, serde_json::json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "FAILED"}]}]})))].into(),
    );
    let sent = sender.send(&event(&key, "731846", &[]), now).await.unwrap();
    assert_eq!(sent, Sent::Delivered { hook: "secondary".into(), fell_back: true });

    // The counters over the last 30 days, and the executions as events.
    sender.metrics.count("primary", day - 40, true, 10).await.unwrap();
    let counts = hooks.counts("primary", day - 29, day).await.unwrap();
    assert_eq!(counts.len(), 1, "a day outside the 30 is not counted: {counts:?}");
    assert_eq!((counts[0].total, counts[0].succeeded, counts[0].failed), (2, 1, 1));
    assert_eq!(hooks.counts("secondary", day - 29, day).await.unwrap()[0].succeeded, 1);
    assert_eq!(app.items_under("EVENT#").await, 3, "hook.executed for each hook call");
}

/// The HTTP hook caller against a hook service on loopback: the hook's header secret sent, the
/// answer read, a slow hook timed out, a redirect returned rather than followed.
#[tokio::test]
async fn the_http_caller_authenticates_times_out_and_never_follows_redirects() {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use shared::adapters::hook_http::HttpHookCaller;
    use shared::ports::{CallFailure, HookCaller};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    // Each request's path and secret header.
    type Seen = Vec<(String, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let recorder = seen.clone();
    let service = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let recorder = recorder.clone();
        async move {
            let auth = headers.get("x-hook-secret").and_then(|v| v.to_str().ok()).map(str::to_owned);
            recorder.lock().unwrap().push((uri.path().to_owned(), auth));
            match uri.path() {
                "/slow" => {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    (StatusCode::OK, axum::Json(serde_json::json!({})))
                }
                "/moved" => (StatusCode::FOUND, axum::Json(serde_json::json!({}))),
                _ => {
                    (StatusCode::OK, axum::Json(serde_json::json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": "SUCCESSFUL"}]}]})))
                }
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, service).await });

    let app_sdk = sdk_config(moto(), &CallLog::default()).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&app_sdk);
    let name = format!("hook-{}", uuid::Uuid::new_v4().simple());
    let arn = secrets.create_secret().name(&name).secret_string("s3cret-v4lue").send().await.unwrap().arn.unwrap();
    let caller = HttpHookCaller::new(shared::adapters::workflow_runner::connection_secrets(secrets, Duration::from_secs(60))).unwrap();
    let at = |path: &str| -> Hook {
        serde_json::from_value(
            serde_json::json!({"name": "demo", "url": format!("{base}{path}"), "auth": {"type": "header", "name": "x-hook-secret", "secret": arn}}),
        )
        .unwrap()
    };
    let request = serde_json::json!({"eventType": "com.okta.telephony.provider"});

    let (status, body) = caller.call(&at("/hook"), &request, Duration::from_secs(3)).await.unwrap();
    assert_eq!((status, body["commands"][0]["value"][0]["status"].as_str()), (200, Some("SUCCESSFUL")));
    assert_eq!(seen.lock().unwrap()[0], ("/hook".to_owned(), Some("s3cret-v4lue".to_owned())));
    assert_eq!(caller.call(&at("/slow"), &request, Duration::from_millis(200)).await, Err(CallFailure::Timeout));
    assert_eq!(caller.call(&at("/moved"), &request, Duration::from_secs(3)).await.map(|r| r.0), Ok(302), "returned, not followed");
    let closed = serde_json::from_value::<Hook>(serde_json::json!({"name": "gone", "url": "http://127.0.0.1:9/hook", "auth": {"type": "none"}})).unwrap();
    assert!(matches!(caller.call(&closed, &request, Duration::from_secs(3)).await, Err(CallFailure::Unreachable(_))));
}
