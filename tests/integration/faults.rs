//! When AWS cannot be reached: a 503 with `Retry-After` and a friendly body, within the
//! configured timeouts, never a 500 or a hang.

use crate::harness::*;
use http::StatusCode;
use serde_json::json;
use shared::testing::CallLog;
use std::sync::Arc;

#[tokio::test]
async fn unreachable_aws_is_a_clear_503() {
    let app = spawn_app().await;
    // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    let down = sdk_config("http://127.0.0.1:9", &CallLog::default()).await;
    let login = login_for(&down, &app.stack, "http://127.0.0.1:9");
    let broken = TestApp { login, ..app };

    let sso = broken.send("GET", &format!("/sso/{APP}"), &[("accept-language", "en")], None).await;
    assert_eq!(sso.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sso.header("retry-after"), Some("5"));
    assert!(sso.body.contains("temporarily unavailable"));

    let post = broken.post("/login", json!({"ctx": "x.y", "email": "a@b.co", "password": "x"})).await;
    assert_eq!(post.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(post.json(), json!({"error": "unavailable", "message": "Sign-in is temporarily unavailable. Please try again in a moment."}));
    assert!(!post.body.contains("dispatch"), "no internal detail");
}

/// One HTTP/1.1 message read whole from `stream` (its head and `Content-Length` body); `None`
/// when the stream ends first.
async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut message = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..end]).to_ascii_lowercase();
            let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            if message.len() >= end + 4 + length {
                return Some(message);
            }
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        message.extend_from_slice(&chunk[..read]);
    }
}

/// A loopback proxy to moto (`target`: `127.0.0.1:port`) that hands the first
/// `TransactWriteItems` to moto and then closes the connection without its answer: a transaction
/// written whose answer was lost on the way. Its address.
async fn losing_the_first_transactions_answer(target: String) -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (target, lost) = (target.clone(), lost.clone());
            tokio::spawn(async move {
                while let Some(request) = read_message(&mut client).await {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else { return };
                    let (Ok(()), Some(answer)) = (upstream.write_all(&request).await, read_message(&mut upstream).await) else { return };
                    let transaction = request.windows(36).any(|w| w == b"DynamoDB_20120810.TransactWriteItems");
                    if transaction && !lost.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        return; // written; the answer is dropped with the connection
                    }
                    if client.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

/// A transaction DynamoDB wrote but whose answer was lost: the SDK's retry carries the same
/// `ClientRequestToken` (the SDK fills one in for every `TransactWriteItems`) and succeeds as the
/// write did, instead of failing its own condition, which an admin change would take for a
/// refusal (and discard the secret the written record names). moto ignores the token; its
/// launcher keeps DynamoDB's idempotency for it (`scripts/moto_server.py`).
#[tokio::test]
async fn a_transaction_whose_answer_was_lost_is_not_taken_for_a_refusal() {
    let app = spawn_app().await;
    let target = moto().trim_start_matches("http://").trim_end_matches('/').to_owned();
    let proxy = losing_the_first_transactions_answer(target).await;
    let sdk = sdk_config(&proxy, &CallLog::default()).await;
    let table = shared::adapters::dynamo::Table::new(aws_sdk_dynamodb::Client::new(&sdk), &app.stack.table);
    let item = shared::adapters::dynamo::key("LOST#answer".into(), "LOST");
    let put = table.put(item.clone(), "attribute_not_exists(pk)", None).unwrap();
    let written = table.transact(vec![put]).await;
    assert!(written.is_ok(), "the retry succeeds as the write did: {:?}", written.err().map(|e| e.or_conflict()));
    let stored = aws_sdk_dynamodb::Client::new(&app.sdk).get_item().table_name(&app.stack.table).set_key(Some(item)).send().await.unwrap();
    assert!(stored.item.is_some(), "written once");
    let direct = shared::adapters::dynamo::Table::new(aws_sdk_dynamodb::Client::new(&app.sdk), &app.stack.table);
    let again = direct.put(shared::adapters::dynamo::key("LOST#answer".into(), "LOST"), "attribute_not_exists(pk)", None).unwrap();
    assert!(matches!(direct.transact(vec![again]).await, Err(shared::adapters::dynamo::TxError::Condition(0))), "another transaction is refused");
}
