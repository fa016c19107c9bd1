//! The ports implemented over HTTPS: companies' OpenID providers, JWKS (the pool's comes through
//! the AWS SDK's client, `aws::get`), workflow connectors, telephony hooks, the breached-password range API and the outbound
//! authentication they share, and OpenID Connect clients' back-channel logout.

pub mod backchannel;
pub mod connectors;
pub mod hook;
pub mod jwks;
pub mod oidc;
pub mod outbound_auth;
pub mod pwned_passwords;

use std::time::Duration;

/// An HTTPS client as every adapter here uses one: the roots compiled in (`adapters::tls`), HTTP/1.1,
/// no redirects followed, connections made within `connect_timeout`, and every request over
/// within `timeout` unless it sets its own. One client may serve several adapters.
pub fn client(connect_timeout: Duration, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::adapters::tls::reqwest_tls())
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// `raw` as a URL the bridge calls ([`crate::common::secure_url::secure`]: https, or http on
/// loopback but never the Lambda Runtime API's port), else `None`. Checked at every call, not
/// only when the URL is saved: one saved where the Runtime API could not be seen (the
/// operators' CLI, an older version) is not called either.
pub fn callable(raw: &str) -> Option<reqwest::Url> {
    reqwest::Url::parse(raw).ok().filter(crate::common::secure_url::secure)
}

/// At most the first `max` bytes of `response`'s body, and whether that is all of it. Reading
/// stops there: a hostile or broken server (a company's provider, an operator's connector or
/// SMS hook) cannot fill the function's memory with an endless or chunked answer, whatever its
/// `Content-Length` says (a longer one is not read at all).
pub async fn body_within(mut response: reqwest::Response, max: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Ok((Vec::new(), false));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, false));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, true))
}

/// An answer's body as JSON, or as a JSON string of its text (lossy UTF-8) when it is not JSON.
pub fn json_or_text(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request with an endless chunked body: reading stops at the
    /// limit (the test would not end otherwise), and a short answer is read whole.
    #[tokio::test]
    async fn an_endless_answer_is_read_only_up_to_the_limit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 2048];
                    let _ = socket.read(&mut request).await;
                    let endless = request.starts_with(b"GET /endless");
                    let head = if endless { "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" } else { "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}" };
                    if socket.write_all(head.as_bytes()).await.is_err() || !endless {
                        return;
                    }
                    let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
                    while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                });
            }
        });
        let http = super::client(std::time::Duration::from_secs(2), std::time::Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
        let endless = http.get(format!("http://{address}/endless")).send().await.unwrap_or_else(|e| panic!("{e}"));
        let (bytes, whole) = super::body_within(endless, 10_000).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((bytes.len(), whole), (10_000, false));
        let short = http.get(format!("http://{address}/short")).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(super::body_within(short, 10_000).await.unwrap_or_else(|e| panic!("{e}")), (b"{}".to_vec(), true));
    }
}
