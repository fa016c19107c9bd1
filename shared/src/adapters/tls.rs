//! The roots of trust of the functions' HTTPS clients, compiled into the binary, not read from
//! the host's certificate store.
//!
//! - **`reqwest`** (companies' providers, hooks, connectors): Mozilla's root set as
//!   `webpki-roots` holds it, already parsed into trust anchors, in a rustls configuration built
//!   once per client.
//! - **The AWS SDK** (and the pool's JWKS, fetched through its client): Amazon Trust Services'
//!   five roots (Amazon Root CA 1-4 and Starfield Services Root Certificate Authority - G2,
//!   which cross-signs them), which AWS's service endpoints chain to
//!   (`amazon-trust-services.pem`, the same certificates as in Mozilla's set; a test holds them
//!   to it). In China's partition (`cn-*`) the SDK reads the host's store instead.
//!
//! Why, in figures (`scripts/measure_cold_start.py`, `scripts/cold_path_bench.py`):
//! - each client reading the host's store on its own (a 220 KB PEM bundle, and here a directory
//!   of ~300 files as well) was 7-9 ms of the 12-14 ms from process start to ready;
//! - the SDK takes roots as PEM and decodes them with a constant-time base64 decoder when its
//!   first client is built: Mozilla's whole set held the first AWS call back by about 4 ms (start
//!   to ready 13.8-15.4 ms with the whole set, 7.5-11.6 with the five);
//! - `reqwest` parsed each of the ~150 certificates into a trust anchor; `webpki-roots` holds
//!   them parsed, and is smaller in the binary than the certificates.
//!
//! The narrower SDK set is also a narrower trust: no other CA can vouch for an AWS endpoint.
//! Both sets change when the crates are upgraded (the five expire in 2037-2040).
//!
//! Not for the operators' CLI, which keeps its machine's store (a company proxy or private CA):
//! [`aws::load_with_host_roots`](super::aws::load_with_host_roots).

use std::sync::Arc;

use aws_smithy_http_client::tls::TrustStore;

/// Amazon Trust Services' roots as PEM: Amazon Root CA 1, 2, 3 and 4, then Starfield Services
/// Root Certificate Authority - G2.
const AMAZON_TRUST_SERVICES: &str = include_str!("amazon-trust-services.pem");

/// Roots `webpki-roots` 1.0.10 (its latest) still holds that Mozilla has since removed from its
/// set (`webpki-root-certs` 1.0.11 no longer has them), by the end of their subject.
const REMOVED_BY_MOZILLA: [&[u8]; 2] = [b"emSign Root CA - C1", b"emSign ECC Root CA - C3"];

/// Mozilla's roots as trust anchors: `webpki-roots` without [`REMOVED_BY_MOZILLA`].
fn mozilla_anchors() -> Vec<rustls::pki_types::TrustAnchor<'static>> {
    webpki_roots::TLS_SERVER_ROOTS.iter().filter(|a| !REMOVED_BY_MOZILLA.iter().any(|name| a.subject.as_ref().ends_with(name))).cloned().collect()
}

/// The rustls configuration of a `reqwest` client (`ClientBuilder::tls_backend_preconfigured`):
/// Mozilla's roots, aws-lc's cryptography, TLS 1.2 and 1.3.
pub fn reqwest_tls() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore { roots: mozilla_anchors() };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("aws-lc supports rustls' default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The roots for the AWS SDK's HTTPS client in `region` (`AWS_REGION`): Amazon Trust Services'
/// five, or the host's store in China's partition (`cn-*`).
pub fn sdk_trust_store(region: Option<&str>) -> TrustStore {
    if region.is_some_and(|r| r.starts_with("cn-")) {
        TrustStore::empty().with_native_roots(true)
    } else {
        TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    /// A root certificate's subject (DER), as rustls reads it into a trust anchor.
    fn subject(der: &CertificateDer<'_>) -> Vec<u8> {
        let mut store = rustls::RootCertStore::empty();
        store.add(der.clone().into_owned()).unwrap_or_else(|e| panic!("{e}"));
        store.roots[0].subject.as_ref().to_vec()
    }

    /// The anchors `reqwest` trusts are exactly the roots of Mozilla's set as certificates
    /// (`webpki-root-certs`, a newer release): a root removed from one and not the other, or
    /// added, fails here when either crate is upgraded.
    #[test]
    fn reqwest_trusts_mozillas_current_set() {
        let mut ours: Vec<Vec<u8>> = mozilla_anchors().iter().map(|a| a.subject.as_ref().to_vec()).collect();
        let mut mozilla: Vec<Vec<u8>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().map(subject).collect();
        ours.sort();
        mozilla.sort();
        assert!(ours.len() > 100, "{}", ours.len());
        assert_eq!(ours, mozilla);
        assert_eq!(ours.len() + REMOVED_BY_MOZILLA.len(), webpki_roots::TLS_SERVER_ROOTS.len(), "each removal matches one anchor");
    }

    /// China's partition reads the host's store, and only it; every other region gets the five.
    #[test]
    fn the_sdk_store_follows_the_partition() {
        let debug = |store: TrustStore| format!("{store:?}");
        let five = debug(TrustStore::empty().with_native_roots(false).with_pem_certificate(AMAZON_TRUST_SERVICES));
        for region in [None, Some("ap-northeast-1"), Some("us-gov-west-1"), Some("eu-central-1")] {
            assert_eq!(debug(sdk_trust_store(region)), five, "{region:?}");
        }
        for region in ["cn-north-1", "cn-northwest-1"] {
            assert_eq!(debug(sdk_trust_store(Some(region))), debug(TrustStore::empty().with_native_roots(true)), "{region}");
        }
    }

    /// The five are Mozilla's own certificates (byte for byte, from `webpki-root-certs`), with
    /// the names the module says.
    #[test]
    fn the_sdk_roots_are_amazon_trust_services_as_mozilla_holds_them() {
        let ders: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES.as_bytes()).collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"));
        let names = ["Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4", "Starfield Services Root Certificate Authority - G2"];
        assert_eq!(ders.len(), names.len());
        for (der, name) in ders.iter().zip(names) {
            assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.contains(der), "{name} is not in Mozilla's set");
            assert!(subject(der).ends_with(name.as_bytes()), "{name}");
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

    /// The SDK's client trusts Amazon's five roots only: the same server is refused; the same
    /// client trusting its certificate instead reaches it.
    #[tokio::test]
    async fn the_sdk_refuses_a_certificate_outside_amazons_roots() {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        use aws_smithy_http_client::tls::TrustStore;
        let address = self_signed_server().await;
        let list_tables = |trust: TrustStore| async move {
            let config = aws_sdk_dynamodb::config::Builder::new()
                .behavior_version(BehaviorVersion::latest())
                .http_client(crate::adapters::aws::https_client(trust))
                .endpoint_url(format!("https://{address}"))
                .region(Region::new("ap-northeast-1"))
                .credentials_provider(Credentials::for_tests())
                .build();
            aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await
        };
        let refused = list_tables(super::sdk_trust_store(Some("ap-northeast-1"))).await;
        assert!(matches!(refused, Err(aws_sdk_dynamodb::error::SdkError::DispatchFailure(_))), "{refused:?}");
        let answered = list_tables(TrustStore::empty().with_native_roots(false).with_pem_certificate(CERT)).await;
        assert!(answered.is_ok(), "{answered:?}");
    }
}
