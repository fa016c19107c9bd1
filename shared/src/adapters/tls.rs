//! The roots of trust of the functions' HTTPS clients (the AWS SDK's and `reqwest`'s): Mozilla's
//! root set as compiled into the binary by `webpki-root-certs`, not the host's certificate store.
//!
//! Why: each client read the host's store on its own (a 220 KB PEM bundle, and here a directory
//! of ~300 files as well), three times per cold start, which was 7-9 ms of the 12-14 ms from
//! process start to ready (`scripts/measure_cold_start.py`, with and without the host's store).
//! The host's store of a Lambda image holds the same public roots; AWS endpoints and public
//! OpenID providers chain to them. The set changes when the crate is upgraded.
//!
//! Not for the operators' CLI, which keeps its machine's store (a company proxy or private CA):
//! [`aws::load_with_host_roots`](super::aws::load_with_host_roots).

use aws_smithy_http_client::tls::TrustStore;

/// The roots for a `reqwest` client (`ClientBuilder::tls_certs_only`).
pub fn reqwest_roots() -> impl Iterator<Item = reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter_map(|der| reqwest::Certificate::from_der(der).ok())
}

/// The roots for the AWS SDK's HTTPS client: the same set as PEM, which is what its trust store
/// takes.
pub fn sdk_trust_store() -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(roots_pem())
}

/// The compiled-in roots as one PEM document.
fn roots_pem() -> String {
    let pems: Vec<pem::Pem> = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(|der| pem::Pem::new("CERTIFICATE", der.to_vec())).collect();
    pem::encode_many(&pems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_root_reaches_both_clients() {
        let count = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
        assert!(count > 100, "{count}");
        assert_eq!(reqwest_roots().count(), count);
        assert_eq!(pem::parse_many(roots_pem()).unwrap_or_default().len(), count);
    }
}

#[cfg(test)]
mod sdk_tests {
    /// The SDK parses its trust store when its first request builds a connection: a root it
    /// could not parse would panic there. A call to a closed HTTPS port gets that far.
    #[tokio::test]
    async fn the_sdk_takes_every_compiled_in_root() {
        let sdk = crate::adapters::aws::load().await;
        let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url("https://127.0.0.1:9")
            .region(aws_sdk_dynamodb::config::Region::new("ap-northeast-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
            .build();
        let refused = aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await;
        assert!(matches!(refused, Err(aws_sdk_dynamodb::error::SdkError::DispatchFailure(_))), "{refused:?}");
    }
}

#[cfg(test)]
mod refusal_tests {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    const CERT: &[u8] = include_bytes!("../../fixtures/localhost-self-signed.crt.pem");
    const KEY: &[u8] = include_bytes!("../../fixtures/localhost-self-signed.key.pem");

    /// An HTTPS server on loopback with a self-signed certificate for `localhost`, answering
    /// `{}` to every request; its address.
    async fn self_signed_server() -> std::net::SocketAddr {
        let cert = CertificateDer::from_pem_slice(CERT).unwrap_or_else(|e| panic!("{e}"));
        let key = PrivateKeyDer::from_pem_slice(KEY).unwrap_or_else(|e| panic!("{e}"));
        let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).unwrap_or_else(|e| panic!("{e}"));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else { return };
                    let mut request = [0u8; 4096];
                    let _ = tls.read(&mut request).await;
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        address
    }

    /// Our clients trust the compiled-in roots only: a certificate no public root signed is
    /// refused. A client told to trust that certificate reaches the same server (so the
    /// refusal is the certificate's, not a broken server's).
    #[tokio::test]
    async fn a_certificate_outside_the_roots_is_refused() {
        let address = self_signed_server().await;
        let url = format!("https://{address}/jwks.json");
        let ours = crate::adapters::http::client(std::time::Duration::from_secs(1), std::time::Duration::from_secs(2)).unwrap_or_else(|e| panic!("{e}"));
        let refused = ours.get(&url).send().await;
        assert!(refused.as_ref().is_err_and(reqwest::Error::is_connect), "{refused:?}");

        let trusting = reqwest::Certificate::from_pem(CERT).unwrap_or_else(|e| panic!("{e}"));
        let control = reqwest::Client::builder().tls_certs_only([trusting]).build().unwrap_or_else(|e| panic!("{e}"));
        let answered = control.get(&url).send().await.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(answered.status(), 200);
    }
}
