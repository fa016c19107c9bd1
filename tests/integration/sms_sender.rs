//! The custom SMS sender against moto's KMS and telephony services on loopback: authentic sender
//! events whose code the Python AWS Encryption SDK encrypted under a KMS key
//! (`tests/fixtures/custom_sender_event.py`), opened by our reader (`telephony::encryption_sdk`)
//! through the KMS keyring; the reader against many messages the official SDK makes
//! (`tests/fixtures/esdk_messages.py`) and a mutation fuzzer; hooks managed by the admin tool;
//! preview and metrics.

use crate::harness::{moto, sdk_config};
use base64::Engine;
use secrecy::ExposeSecret;
use serde_json::Value;
use shared::adapters::kms_keyring::{KeyringError, KmsKeyring};
use shared::telephony::encryption_sdk::{EsdkError, Message};
use shared::testing::CallLog;

/// What a Python fixture script (`tests/fixtures/`) prints, run against moto's KMS.
fn fixture(script: &str, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .arg(format!("{}/fixtures/{script}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .env("AWS_ENDPOINT_URL", moto())
        .env("AWS_DEFAULT_REGION", "ap-northeast-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A sender event for `code`, encrypted under `key` (extra arguments for the script).
fn event(key: &str, code: &str, extra: &[&str]) -> Value {
    serde_json::from_slice(&fixture("custom_sender_event.py", &[&[key, code, "CustomSMSSender_Authentication"], extra].concat())).unwrap()
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

/// Messages the official Python SDK made under `key` (`tests/fixtures/esdk_messages.py`): every
/// suite our reader accepts, frame lengths from 128 bytes to 4096, contexts from Cognito's one pair
/// to many and long pairs, plaintexts from empty to several frames.
fn official_messages(key: &str) -> Vec<(String, Vec<u8>, String)> {
    let list: Vec<Value> = serde_json::from_slice(&fixture("esdk_messages.py", &[key])).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    list.iter()
        .map(|m| {
            let what = format!("suite {} frame {} context {}", m["suite"], m["frame"], m["context"]);
            (what, b64.decode(m["message"].as_str().unwrap()).unwrap(), m["plaintext"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn every_message_the_official_sdk_makes_opens_to_its_plaintext() {
    let sdk = sdk_config(moto(), &CallLog::default()).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let keyring = KmsKeyring::new(kms.clone(), vec![key.clone()]);
    let messages = official_messages(&key);
    assert_eq!(messages.len(), 48, "4 suites x 4 frame lengths x 3 contexts");
    for (what, message, plaintext) in &messages {
        let opened = keyring.decrypt(message).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(opened.expose_secret(), plaintext, "{what}");
    }
}

/// The mutation fuzzer: for a message of each suite, every byte changed three ways, every
/// truncation, one byte more, and 2,000 seeded random changes of one to four bytes. Each is
/// opened with the right data key already in hand (more than KMS would give for a changed key
/// or context): nothing may come out, and nothing may panic.
#[tokio::test]
async fn no_changed_message_yields_plaintext_or_a_panic() {
    let sdk = sdk_config(moto(), &CallLog::default()).await;
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let messages = official_messages(&key);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut tried = 0;
    for (what, message, plaintext) in messages.iter().filter(|(what, ..)| what.contains("frame 128 context 1")) {
        let parsed = Message::parse(message).unwrap();
        let edk = &parsed.keys[0];
        let data_key = kms
            .decrypt()
            .key_id(&edk.key_info)
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(edk.ciphertext.clone()))
            .set_encryption_context(Some(parsed.context_map()))
            .send()
            .await
            .unwrap()
            .plaintext
            .unwrap()
            .into_inner();
        assert_eq!(parsed.decrypt(&data_key).unwrap(), plaintext.as_bytes(), "{what}: the original opens");
        let opens = |bytes: &[u8]| Message::parse(bytes).and_then(|m| m.decrypt(&data_key)).is_ok();
        let mut changed: Vec<Vec<u8>> = Vec::new();
        for at in 0..message.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut m = message.clone();
                m[at] ^= flip;
                changed.push(m);
            }
            changed.push(message[..at].to_vec());
        }
        changed.push([message.as_slice(), &[0]].concat());
        for _ in 0..2000 {
            let mut m = message.clone();
            for _ in 0..=(next() % 4) {
                let at = (next() % m.len() as u64) as usize;
                m[at] ^= (next() % 255 + 1) as u8;
            }
            changed.push(m);
        }
        for m in &changed {
            assert!(!opens(m), "{what}: a changed message opened");
        }
        tried += changed.len();
    }
    assert!(tried > 4 * 2000, "every suite fuzzed ({tried} messages)");
}

use bridge_admin::hooks::{Hooks, PreviewUser};
use shared::adapters::dynamo::hooks::DynamoHooks;
use shared::adapters::http::hook::HttpHookCaller;
use shared::telephony::hook::RequestType;
use shared::telephony::hook::{Execution, Hook};
use shared::telephony::ports::{HookLog, SendLedger};
use shared::telephony::sms_sender::{SendError, Sent, SmsSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "hook-s3cret-value";

/// One request a telephony service received: its path, secret header and body.
pub(crate) type Seen = Arc<Mutex<Vec<(String, Option<String>, Value)>>>;

fn okta_answer(status: &str) -> Value {
    serde_json::json!({"commands": [{"type": "com.okta.telephony.action", "value": [{"status": status, "provider": "loopback", "transactionId": "tx-1"}]}]})
}

/// A telephony service on loopback answering by path: `/ok*` SUCCESSFUL, `/failed` FAILED,
/// `/slow` after 3.5 s, `/malformed` HTML, `/bad` 400, `/moved` 302 to `/ok-moved`, `/flaky`
/// 503 then SUCCESSFUL, `/series` from `series` (then SUCCESSFUL).
pub(crate) async fn telephony_service(series: Vec<(u16, &'static str)>) -> (String, Seen) {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use axum::response::IntoResponse;
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let series = Arc::new(Mutex::new(std::collections::VecDeque::from(series)));
    let flaky = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let service = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
        let (recorder, series, flaky) = (recorder.clone(), series.clone(), flaky.clone());
        async move {
            let secret = headers.get("x-hook-secret").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            recorder.lock().unwrap().push((uri.path().to_owned(), secret, body));
            let json = |code: u16, v: Value| (StatusCode::from_u16(code).unwrap(), axum::Json(v)).into_response();
            match uri.path() {
                "/failed" => json(200, okta_answer("FAILED")),
                "/slow" => {
                    tokio::time::sleep(Duration::from_millis(3_500)).await;
                    json(200, okta_answer("SUCCESSFUL"))
                }
                "/malformed" => (StatusCode::OK, "<html>maintenance</html>").into_response(),
                "/bad" => json(400, serde_json::json!({"error": {"errorSummary": "invalid phone number"}})),
                "/moved" => (StatusCode::FOUND, [("location", "/ok-moved")]).into_response(),
                "/flaky" if flaky.swap(false, std::sync::atomic::Ordering::SeqCst) => json(503, serde_json::json!({})),
                "/series" => match series.lock().unwrap().pop_front() {
                    Some((code, status)) => json(code, okta_answer(status)),
                    None => json(200, okta_answer("SUCCESSFUL")),
                },
                _ => json(200, okta_answer("SUCCESSFUL")),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, service).await });
    (base, seen)
}

/// The admin tool's hooks over the test stack (secrets under a prefix of this test's own).
fn hooks_for(app: &crate::harness::TestApp) -> Hooks {
    let secrets = aws_sdk_secretsmanager::Client::new(&app.sdk);
    let cached = shared::adapters::workflow_runner::connection_secrets(secrets.clone(), Duration::from_secs(60));
    Hooks::new(&app.sdk, &app.stack.table, format!("test-{}", uuid::Uuid::new_v4().simple()), Arc::new(HttpHookCaller::new(cached).unwrap()))
}

/// A hook at `url` authenticated by the `x-hook-secret` header (its secret set when stored).
fn hook(name: &str, url: &str, fallback: Option<&str>) -> Hook {
    serde_json::from_value(serde_json::json!({"name": name, "url": url, "fallback": fallback,
                                              "auth": {"type": "header", "name": "x-hook-secret", "secret": ""}}))
    .unwrap()
}

const DAY: u64 = 20_500;
const NOW: u64 = DAY * 86_400 + 3_600;

/// Create, update, activate (also many at once), deactivate and list through the admin tool:
/// invalid hooks refused with nothing stored, the secret in Secrets Manager and only its ARN in
/// the table, exactly one active hook, and each change's lifecycle event.
#[tokio::test]
async fn hooks_are_managed_with_one_active_and_lifecycle_events() {
    let app = crate::harness::spawn_app().await;
    let hooks = Arc::new(hooks_for(&app));
    let secret = secrecy::SecretString::from(SECRET);

    for (bad, why) in [
        (hook("plain", "http://sms.example.com/hook", None), "https"),
        (Hook { auth: serde_json::from_value(serde_json::json!({"type": "none"})).unwrap(), ..hook("open", "https://sms.example.com/hook", None) }, "header"),
        (hook("orphan", "https://sms.example.com/hook", Some("missing")), "does not exist"),
    ] {
        let error = hooks.create(bad, &secret, NOW).await.unwrap_err();
        assert!(format!("{error:#}").contains(why), "{error:#}");
    }
    assert!(hooks.list().await.unwrap().is_empty(), "nothing stored for refused hooks");

    let backup = hooks.create(hook("backup", "https://backup.example.com/hook", None), &secret, NOW).await.unwrap();
    let shared::workflows::connection::Auth::Header { secret: stored, .. } = &backup.auth else { panic!("{backup:?}") };
    assert!(stored.0.starts_with("arn:aws:secretsmanager:"), "the table names the secret: {stored:?}");
    let value = aws_sdk_secretsmanager::Client::new(&app.sdk).get_secret_value().secret_id(&stored.0).send().await.unwrap();
    assert_eq!(value.secret_string(), Some(SECRET));
    hooks.create(hook("primary", "https://primary.example.com/hook", Some("backup")), &secret, NOW).await.unwrap();
    assert!(hooks.create(hook("primary", "https://other.example.com/hook", None), &secret, NOW).await.is_err(), "names are unique");
    let updated = hooks.update("primary", |h| h.url = "https://primary.example.com/v2".into(), None, NOW).await.unwrap();
    assert_eq!((updated.version, updated.url.as_str()), (2, "https://primary.example.com/v2"));
    assert!(hooks.update("primary", |h| h.url = "ftp://x".into(), None, NOW).await.is_err());
    let renamed = hooks.update("primary", |h| h.auth = hook("x", "https://x.example.com", None).auth, None, NOW).await.unwrap();
    assert_eq!(renamed.auth.secret(), updated.auth.secret(), "a new header name without a new secret keeps the secret");

    // Activations at once: afterwards exactly one hook is active.
    let names = ["primary", "backup"];
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let hooks = hooks.clone();
            tokio::spawn(async move { hooks.activate(names[i % 2], NOW).await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().unwrap();
    }
    let listed = hooks.list().await.unwrap();
    assert_eq!(listed.iter().filter(|h| h["active"] == true).count(), 1, "{listed:?}");
    hooks.activate("primary", NOW).await.unwrap();
    assert!(hooks.activate("nope", NOW).await.is_err());
    assert!(hooks.deactivate("backup", NOW).await.is_err(), "only the active hook is deactivated");
    assert!(hooks.remove("primary", false, NOW).await.is_err(), "the active hook stays");
    hooks.deactivate("primary", NOW).await.unwrap();
    assert_eq!(hooks.store.active_name().await.unwrap(), None);
    let error = hooks.remove("backup", false, NOW).await.unwrap_err();
    assert!(format!("{error:#}").contains("falls back"), "{error:#}");
    hooks.remove("primary", false, NOW).await.unwrap();
    assert_eq!(hooks.list().await.unwrap().len(), 1);
    assert!(hooks.remove("primary", false, NOW).await.is_err(), "gone");

    // A hook is removed only as the hooks were read: one changed meanwhile (here to fall back to
    // it) refuses the removal, and so does the hook's own change.
    hooks.create(hook("third", "https://third.example.com/hook", None), &secret, NOW).await.unwrap();
    let (read, _) = hooks.store.all().await.unwrap();
    hooks.update("third", |h| h.fallback = Some("backup".into()), None, NOW).await.unwrap();
    let backup = read.iter().find(|h| h.name == "backup").unwrap();
    let others: Vec<Hook> = read.iter().filter(|h| h.name != "backup").cloned().collect();
    let actor = shared::admin::audit::Actor::cli();
    let audit = shared::admin::audit::AuditRecord::new(shared::events::EventType::HookDeleted, &actor, "hook:backup".into(), None, None, NOW);
    let deleted = shared::events::IdentityEvent::new(shared::events::EventType::HookDeleted, Default::default(), Default::default(), NOW);
    let store: &dyn shared::admin::ports::AuditedHooks = hooks.store.as_ref();
    assert_eq!(store.remove(backup, &others, &deleted, &audit).await, Err(shared::common::store::StoreError::Conflict));
    let stale = Hook { version: backup.version - 1, ..backup.clone() };
    let third = hooks.store.hook("third").await.unwrap().unwrap();
    assert_eq!(store.remove(&stale, &[third], &deleted, &audit).await, Err(shared::common::store::StoreError::Conflict));
    assert!(hooks.store.hook("backup").await.unwrap().is_some(), "still there for the hook that falls back to it");
    hooks.update("third", |h| h.fallback = None, None, NOW).await.unwrap();
    hooks.remove("third", false, NOW).await.unwrap();

    let mut expected = vec!["hook.created", "hook.created", "hook.updated", "hook.updated", "hook.deactivated", "hook.deleted"];
    expected.extend(["hook.created", "hook.updated", "hook.updated", "hook.deleted"]); // `third`
    expected.extend(["hook.activated"; 9]);
    expected.push("admin.app.created"); // the harness's demo app
    expected.sort();
    assert_eq!(app.event_types().await, expected, "one event per change, none for refused ones");
}

/// The sender (the Lambda's own wiring: table, moto's KMS, the HTTP caller) with authentic
/// events against telephony services on loopback: success, FAILED, timeout, malformed answer,
/// 4xx and redirect each falling back (retrying only the timeout and the 5xx), the 30-day
/// metrics after a mixed series, and the executions as events.
#[tokio::test]
async fn the_sender_delivers_through_hook_services_and_falls_back() {
    let app = crate::harness::spawn_app().await;
    let hooks = hooks_for(&app);
    let secret = secrecy::SecretString::from(SECRET);
    let (base, seen) = telephony_service(vec![(200, "FAILED"), (400, "FAILED"), (200, "PENDING")]).await;
    let kms = aws_sdk_kms::Client::new(&app.sdk);
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap().arn.unwrap();
    let env = [("TABLE_NAME", app.stack.table.as_str()), ("KMS_KEY_ARN", key.as_str()), ("SMS_ALLOWED_PREFIXES", "+81")];
    let sender: SmsSender = sms_sender::state::sender(&env, &crate::harness::as_function(&app.sdk, "SmsSenderFunction")).unwrap();
    hooks.create(hook("backup", &format!("{base}/ok-backup"), None), &secret, NOW).await.unwrap();
    hooks.create(hook("main", &format!("{base}/ok"), Some("backup")), &secret, NOW).await.unwrap();
    hooks.activate("main", NOW).await.unwrap();
    let later = || Instant::now() + Duration::from_secs(30);
    let paths = || seen.lock().unwrap().drain(..).map(|s| s.0).collect::<Vec<_>>();

    // Delivered by the active hook, once, with its secret and the opened code.
    let event = event(&key, "482913", &[]);
    app.calls.take();
    assert_eq!(sender.send(&event, NOW, later()).await.unwrap(), Sent::Delivered { hook: "main".into(), fell_back: false });
    let mut calls = app.calls.take();
    calls.sort();
    let expected = [
        "DynamoDB_20120810.PutItem",            // the claim
        "DynamoDB_20120810.Query",              // the hooks and which is active
        "DynamoDB_20120810.TransactWriteItems", // the day's counters and the events
        "TrentService.Decrypt",                 // the code's data key
        "secretsmanager.GetSecretValue",        // the hook's secret, cached for a minute
    ];
    assert_eq!(calls, expected, "AWS calls per message");
    assert_eq!(sender.send(&event, NOW, later()).await.unwrap(), Sent::Duplicate);
    let mut calls = app.calls.take();
    calls.sort();
    assert_eq!(calls, ["DynamoDB_20120810.PutItem", "DynamoDB_20120810.Query", "TrentService.Decrypt"], "a retry: the claim refused");
    let (path, header, request) = seen.lock().unwrap().remove(0);
    assert_eq!((path.as_str(), header.as_deref()), ("/ok", Some(SECRET)));
    assert_eq!(request["data"]["messageProfile"]["otpCode"], "482913");
    assert!(seen.lock().unwrap().is_empty(), "Cognito's retry sends nothing");

    // A claim is a lease until the invocation's deadline; a delivery keeps it a day.
    let ledger = DynamoHooks::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    assert!(ledger.claim("lease", NOW, NOW + 17).await.unwrap());
    assert!(!ledger.claim("lease", NOW + 17, NOW + 34).await.unwrap(), "held until the invocation's deadline");
    assert!(ledger.claim("lease", NOW + 60, NOW + 77).await.unwrap(), "a stopped invocation's claim lapses: Lambda's retry delivers");
    let settled = Execution { hook: "lease".into(), day: DAY, delivered: true, millis: 1, at: NOW + 61, events: vec![], settles: Some("lease".into()) };
    ledger.executed(&settled).await.unwrap();
    assert!(!ledger.claim("lease", NOW + 3_600, NOW + 3_617).await.unwrap(), "a delivered event sends nothing again");
    app.calls.take();

    // A number outside SMS_ALLOWED_PREFIXES: nothing sent, no AWS call made.
    let mut abroad = event_for(&key);
    abroad["request"]["userAttributes"]["phone_number"] = "+18765550100".into();
    assert!(matches!(sender.send(&abroad, NOW, later()).await, Err(SendError::Destination)));
    assert_eq!((app.calls.take(), seen.lock().unwrap().len()), (Vec::<String>::new(), 0));

    // Each failure falls back; only a timeout and a 5xx are retried; a redirect is not followed.
    for (path, calls) in [
        ("/failed", vec!["/failed", "/ok-backup"]),
        ("/slow", vec!["/slow", "/slow", "/ok-backup"]),
        ("/malformed", vec!["/malformed", "/ok-backup"]),
        ("/bad", vec!["/bad", "/ok-backup"]),
        ("/moved", vec!["/moved", "/ok-backup"]),
        ("/flaky", vec!["/flaky", "/flaky"]),
    ] {
        hooks.update("main", |h| h.url = format!("{base}{path}"), None, NOW).await.unwrap();
        let sent = sender.send(&event_for(&key), NOW, later()).await.unwrap();
        let fell_back = path != "/flaky";
        assert_eq!(sent, Sent::Delivered { hook: if fell_back { "backup" } else { "main" }.into(), fell_back }, "{path}");
        assert_eq!(paths(), calls, "{path}");
    }

    // A mixed series on a hook without fallback: FAILED, 400, PENDING (delivered), SUCCESSFUL.
    hooks.create(hook("series", &format!("{base}/series"), None), &secret, NOW).await.unwrap();
    hooks.activate("series", NOW).await.unwrap();
    let mut delivered = 0;
    for _ in 0..4 {
        delivered += usize::from(sender.send(&event_for(&key), NOW, later()).await.is_ok());
    }
    assert_eq!(delivered, 2);
    // Days 29 and 40 back: the first is within the 30 days, the second is not.
    for day in [DAY - 29, DAY - 40] {
        let old = Execution { hook: "series".into(), day, delivered: true, millis: 100, at: day * 86_400, events: vec![], settles: None };
        DynamoHooks::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table).executed(&old).await.unwrap();
    }
    let metrics = hooks.metrics("series", NOW).await.unwrap();
    assert_eq!((&metrics["total"], &metrics["successful"], &metrics["failed"]), (&5.into(), &3.into(), &2.into()), "{metrics}");
    assert!(metrics["average_success_ms"].as_u64().is_some(), "{metrics}");
    let main = hooks.metrics("main", NOW).await.unwrap();
    assert_eq!((&main["total"], &main["successful"], &main["failed"]), (&7.into(), &2.into(), &5.into()), "{main}");

    // Every execution is an event; every 2xx answer also a processed response.
    let types = app.event_types().await;
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("hook.executed"), 7 + 5 + 4, "main, backup, series executions");
    assert_eq!(count("hook.response_processed"), 2 + 1 + 1 + 5 + 3, "ok, failed, malformed, flaky, backup, series' 2xx answers");
    assert_eq!(hooks.list().await.unwrap().len(), 3);

    // The shipped flow for failed deliveries applies to exactly the failed executions.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../workflows/templates/telephony-hook-failure-servicenow.json")).unwrap();
    let mut flow: shared::workflows::flow::Flow = serde_json::from_str(&text).unwrap();
    flow.enabled = true;
    let events = app.events().await;
    let failed = events.iter().filter(|e| flow.applies_to(e.kind, &e.to_value())).count();
    assert_eq!(failed, 5 + 2, "main's and the series' failed executions");
}

/// Preview: the request generated for a user of the pool and a request type, edited, sent once;
/// the answer and its timing shown; nothing counted.
#[tokio::test]
async fn a_preview_sends_the_edited_request_and_shows_the_answer() {
    let app = crate::harness::spawn_app().await;
    let hooks = hooks_for(&app);
    let (base, seen) = telephony_service(vec![]).await;
    hooks.create(hook("demo", &format!("{base}/ok"), None), &secrecy::SecretString::from(SECRET), NOW).await.unwrap();
    app.user("preview@example.com", |u| u.sms_mfa_phone = Some("+819012345678")).await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&app.sdk);
    let person = bridge_admin::hooks::preview_user(&cognito, &app.stack.user_pool_id, "preview@example.com").await.unwrap();

    let mut request = hooks.preview_request("demo", &person, RequestType::PasswordReset, NOW).await.unwrap();
    assert_eq!(request["requestType"], "com.okta.user.telephony.password-reset");
    assert_eq!(request["data"]["messageProfile"]["phoneNumber"], "+819012345678");
    assert_eq!(request["data"]["userProfile"]["login"], "preview@example.com");
    let code = request["data"]["messageProfile"]["otpCode"].as_str().unwrap().to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    request["data"]["messageProfile"]["msgTemplate"] = "edited: 123456".into();

    let answer = hooks.preview_send("demo", &request).await.unwrap();
    assert_eq!((answer.status, answer.outcome.as_str()), (Some(200), "delivered"));
    assert_eq!(answer.body["commands"][0]["value"][0]["transactionId"], "tx-1");
    let received = seen.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].2["data"]["messageProfile"]["msgTemplate"], "edited: 123456", "the edited request is what is sent");
    assert_eq!(hooks.metrics("demo", NOW).await.unwrap()["total"], 0, "a preview is not an execution");
    assert_eq!(app.event_types().await, ["admin.app.created", "hook.created", "hook.test_sent"], "the harness's demo app, the hook, the send");
    let sent = app.events().await.into_iter().find(|e| e.kind == shared::events::EventType::HookTestSent).unwrap().to_value();
    assert_eq!(sent["detail"]["after"], serde_json::json!({"to": "+81*******678", "request_type": "com.okta.user.telephony.password-reset"}), "{sent}");
    assert!(!sent.to_string().contains("123456") && !sent.to_string().contains(&code), "neither the message nor the code: {sent}");
    assert_eq!(sent["detail"]["target"], "hook:demo");
    assert!(hooks.preview_request("demo", &PreviewUser::default(), RequestType::MfaVerification, NOW).await.is_err(), "no phone, no request");
}

/// A fresh sender event (a new code each time, so never a duplicate).
fn event_for(key: &str) -> Value {
    event(key, &format!("{:06}", rand_code()), &[])
}

fn rand_code() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(100_000);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// The HTTP hook caller against a hook service on loopback: the hook's header secret sent, the
/// answer read, a slow hook timed out, a redirect returned rather than followed.
#[tokio::test]
async fn the_http_caller_authenticates_times_out_and_never_follows_redirects() {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use shared::telephony::ports::{CallFailure, HookCaller};
    // Each request's path and secret header.
    type Paths = Vec<(String, Option<String>)>;
    let seen: Arc<Mutex<Paths>> = Arc::default();
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
