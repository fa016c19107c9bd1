//! The roots of trust of the functions' HTTPS clients (the AWS SDK's and `reqwest`'s): Mozilla's
//! root set as compiled into the binary by `webpki-root-certs`, not the host's certificate store.
//!
//! Why: each client read the host's store on its own (a 220 KB PEM bundle, and here a directory
//! of ~300 files as well), three times per cold start, which was 7-9 ms of the 12-14 ms from
//! process start to ready (`scripts/measure_cold_start.py`, with and without the host's store).
//! The host's store of a Lambda image holds the same public roots; AWS endpoints and public
//! OpenID providers chain to them. The set changes when the crate is upgraded.
//!
//! The SDK trusts only Amazon Trust Services' roots, which AWS's service endpoints chain to (in
//! every partition but China's, which keeps the whole set). Its trust store takes PEM, which it
//! decodes with a constant-time base64 decoder at the first connection: the whole set cost about
//! 4 ms of a cold start before the first AWS call could leave (`scripts/cold_path_bench.py`:
//! start to ready 13.8-15.4 ms with the whole set, 7.5-11.6 with these five). It is also a
//! narrower trust: no other CA can vouch for an AWS endpoint.
//!
//! Not for the operators' CLI, which keeps its machine's store (a company proxy or private CA):
//! [`aws::load_with_host_roots`](super::aws::load_with_host_roots).

use aws_smithy_http_client::tls::TrustStore;

/// The roots for a `reqwest` client (`ClientBuilder::tls_certs_only`).
pub fn reqwest_roots() -> impl Iterator<Item = reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter_map(|der| reqwest::Certificate::from_der(der).ok())
}

/// Names found only in Amazon Trust Services' roots: Amazon Root CA 1-4, and Starfield Services
/// Root Certificate Authority - G2, which cross-signs them for older clients.
const AMAZON_TRUST_SERVICES: [&[u8]; 2] = [b"Amazon Root CA ", b"Starfield Services Root Certificate Authority - G2"];

/// The roots for the AWS SDK's HTTPS client in `region` (`AWS_REGION`): Amazon Trust Services'
/// five, or the whole set in China's partition (`cn-*`), as PEM, which is what its trust store
/// takes.
pub fn sdk_trust_store(region: Option<&str>) -> TrustStore {
    TrustStore::empty().with_native_roots(false).with_pem_certificate(sdk_roots_pem(region))
}

fn sdk_roots_pem(region: Option<&str>) -> String {
    let whole_set = region.is_some_and(|r| r.starts_with("cn-"));
    roots_pem(|der| whole_set || is_amazon_trust_services(der))
}

fn is_amazon_trust_services(der: &[u8]) -> bool {
    AMAZON_TRUST_SERVICES.iter().any(|name| der.windows(name.len()).any(|w| w == *name))
}

/// The compiled-in roots `keep` chooses, as one PEM document.
fn roots_pem(keep: impl Fn(&[u8]) -> bool) -> String {
    let pems: Vec<pem::Pem> =
        webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter(|der| keep(der)).map(|der| pem::Pem::new("CERTIFICATE", der.to_vec())).collect();
    pem::encode_many(&pems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::RootCertStore;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;

    /// The subjects of the roots in a PEM document, as text (its printable bytes).
    fn subjects(pem: &str) -> Vec<String> {
        let mut store = RootCertStore::empty();
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            store.add(der.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
        }
        store
            .roots
            .iter()
            .map(|root| root.subject.as_ref().iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect())
            .collect()
    }

    #[test]
    fn reqwest_gets_every_compiled_in_root() {
        let count = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
        assert!(count > 100, "{count}");
        assert_eq!(reqwest_roots().count(), count);
    }

    #[test]
    fn the_sdk_trusts_amazon_trust_services_only_outside_china() {
        for region in [None, Some("ap-northeast-1"), Some("us-gov-west-1")] {
            let mut names = subjects(&sdk_roots_pem(region));
            names.sort();
            let expected =
                ["Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4", "Starfield Services Root Certificate Authority - G2"];
            assert_eq!(names.len(), expected.len(), "{region:?}: {names:?}");
            for (name, want) in names.iter().zip(expected) {
                assert!(name.ends_with(want), "{region:?}: {name} is not {want}");
            }
        }
        let china = subjects(&sdk_roots_pem(Some("cn-north-1")));
        assert_eq!(china.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
    }
}

#[cfg(test)]
mod sdk_tests {
    /// The SDK parses its trust store when its first request builds a connection: a root it
    /// could not parse would panic there. A call to a closed HTTPS port gets that far.
    #[tokio::test]
    async fn the_sdk_takes_its_roots_in_every_partition() {
        for region in ["ap-northeast-1", "cn-north-1"] {
            let config = aws_sdk_dynamodb::config::Builder::new()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .http_client(crate::adapters::aws::https_client(super::sdk_trust_store(Some(region))))
                .endpoint_url("https://127.0.0.1:9")
                .region(aws_sdk_dynamodb::config::Region::new(region))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
                .build();
            let refused = aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await;
            assert!(matches!(refused, Err(aws_sdk_dynamodb::error::SdkError::DispatchFailure(_))), "{region}: {refused:?}");
        }
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
