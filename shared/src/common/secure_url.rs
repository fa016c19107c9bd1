//! Which URLs the bridge will call or send people to: HTTPS, or HTTP on loopback.

use url::Url;

/// HTTPS, or HTTP on loopback (a provider on this machine, in development).
pub fn secure(url: &Url) -> bool {
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}
