//! Which URLs the bridge will call or send people to: HTTPS, or HTTP on loopback, but never the
//! Lambda Runtime API's own address.

use std::sync::LazyLock;
use url::Url;

/// This process's Lambda Runtime API (`host:port`), read once: Lambda sets it before the
/// process starts and never changes it.
static RUNTIME_API: LazyLock<Option<String>> = LazyLock::new(|| std::env::var("AWS_LAMBDA_RUNTIME_API").ok());

/// HTTPS, or HTTP on loopback (a provider, hook or service on this machine, in development), but
/// not the port the Lambda Runtime API listens on in this process (`AWS_LAMBDA_RUNTIME_API`, plain
/// HTTP on 127.0.0.1): a step or hook sent there could take the function's next event or answer
/// its invocation.
pub fn secure(url: &Url) -> bool {
    secure_beside(url, RUNTIME_API.as_deref())
}

/// [`secure`], beside a Runtime API at `runtime_api` (`host:port`), if any.
fn secure_beside(url: &Url, runtime_api: Option<&str>) -> bool {
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let runtime_port = runtime_api.and_then(|a| a.rsplit_once(':')).and_then(|(_, port)| port.parse::<u16>().ok());
    let runtime = runtime_port.is_some() && url.port_or_known_default() == runtime_port;
    url.scheme() == "https" || (url.scheme() == "http" && loopback && !runtime)
}

#[cfg(test)]
mod tests {
    use super::secure_beside;
    use url::Url;

    #[test]
    fn the_runtime_apis_port_is_never_called_whatever_the_loopback_name() {
        let url = |raw: &str| Url::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        let runtime = Some("127.0.0.1:9001");
        for raw in [
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            "http://localhost:9001/x",
            "http://[::1]:9001/x",
            "http://0x7f000001:9001/x",
            "http://127.1:9001/x",
        ] {
            assert!(!secure_beside(&url(raw), runtime), "{raw}");
            assert!(secure_beside(&url(raw), None), "outside Lambda, loopback is development: {raw}");
        }
        assert!(secure_beside(&url("http://127.0.0.1:8080/hook"), runtime), "another port on loopback");
        assert!(secure_beside(&url("https://hooks.example.com/sms"), runtime));
        assert!(!secure_beside(&url("http://hooks.example.com/sms"), None));
        assert!(!secure_beside(&url("http://10.0.0.1/"), None));
    }
}
