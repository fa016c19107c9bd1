//! Where a person may be sent after sign-in: `Origin` (an allowed scheme+host+port) and
//! `ReturnTo` (a URL checked against an app's allowed origins).
//!
//! The check is exact: the parsed URL's origin must equal one allowed origin. The raw text is
//! refused before parsing when it carries anything a browser and a URL parser might read
//! differently (backslashes, control characters, spaces), and userinfo is never accepted.

use std::fmt;
use url::Url;

use crate::common::secure_url::secure;

/// The longest `return_to` accepted. Zendesk's own are far shorter.
pub const MAX_RETURN_TO_LEN: usize = 2048;

/// `scheme://host[:port]`, normalised: lower case, no default port, no path.
/// `https` anywhere; `http` only on loopback hosts (local runs).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("not an absolute URL")]
    NotAUrl,
    #[error("must be https (http is allowed only for localhost and 127.0.0.1)")]
    InsecureScheme,
    #[error("an origin has no path, query, fragment or user name: write it as scheme://host[:port]")]
    NotAnOrigin,
}

impl Origin {
    pub fn parse(raw: &str) -> Result<Self, OriginError> {
        let url = Url::parse(raw.trim()).map_err(|_| OriginError::NotAUrl)?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none() && url.username().is_empty() && url.password().is_none();
        if !bare {
            return Err(OriginError::NotAnOrigin);
        }
        Self::of(&url)
    }

    /// The origin of an already parsed URL, if its scheme is acceptable.
    pub fn of(url: &Url) -> Result<Self, OriginError> {
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(url) => {}
            _ => return Err(OriginError::InsecureScheme),
        }
        if url.host().is_none() {
            return Err(OriginError::NotAUrl);
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl TryFrom<String> for Origin {
    type Error = OriginError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Origin> for String {
    fn from(o: Origin) -> Self {
        o.0
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.0)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `return_to` URL that passed [`ReturnTo::check`]; holds the parser's serialisation, which
/// is what the bridge hands on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReturnTo(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("return_to is not an allowed destination for this app")]
pub struct ReturnToRejected;

impl ReturnTo {
    /// Accepts `raw` only if it is an absolute URL whose origin is exactly one of `allowed`.
    pub fn check(raw: &str, allowed: &[Origin]) -> Result<Self, ReturnToRejected> {
        let suspicious = raw.len() > MAX_RETURN_TO_LEN || raw.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') || raw.starts_with("//");
        if suspicious {
            return Err(ReturnToRejected);
        }
        let url = Url::parse(raw).map_err(|_| ReturnToRejected)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ReturnToRejected);
        }
        let origin = Origin::of(&url).map_err(|_| ReturnToRejected)?;
        if !allowed.contains(&origin) {
            return Err(ReturnToRejected);
        }
        Ok(Self(url.into()))
    }

    /// Accepts `raw` only if it is, character for character, one of `registered` (an OpenID
    /// Connect client's `redirect_uri`: exact string matching, RFC 9700 §2.1) and a URL
    /// [`check`](Self::check) accepts on its own origin (https or loopback, no user name).
    pub fn registered(raw: &str, registered: &[String]) -> Result<Self, ReturnToRejected> {
        if !registered.iter().any(|r| r == raw) {
            return Err(ReturnToRejected);
        }
        Self::absolute(raw)
    }

    /// Accepts `raw`, kept as written, if it is a URL [`check`](Self::check) accepts on its own
    /// origin (https or loopback, no user name, nothing a browser might read otherwise).
    pub fn absolute(raw: &str) -> Result<Self, ReturnToRejected> {
        let origin = Url::parse(raw).ok().and_then(|url| Origin::of(&url).ok()).ok_or(ReturnToRejected)?;
        Self::check(raw, &[origin])?;
        Ok(Self(raw.to_owned()))
    }

    /// Whether `raw` may be registered as a place a browser is sent to (an OpenID Connect
    /// client's redirect URIs, a SAML service provider's assertion consumer service): an https
    /// URL (http only on loopback) of at most 512 characters, without a fragment or user name,
    /// written exactly as a URL parser writes it (`Tool.example`, `:443` or `/./` would be
    /// matched as typed and sent to as parsed).
    pub fn registrable(raw: &str) -> bool {
        let Ok(url) = Url::parse(raw) else { return false };
        raw.len() <= MAX_REGISTERED_LEN && Self::absolute(raw).is_ok() && url.as_str() == raw && secure(&url) && url.fragment().is_none()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest URL [`ReturnTo::registrable`] accepts.
const MAX_REGISTERED_LEN: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<Origin> {
        vec![
            Origin::parse("https://acme.zendesk.com").unwrap_or_else(|e| panic!("{e}")),
            Origin::parse("http://127.0.0.1:8090").unwrap_or_else(|e| panic!("{e}")),
        ]
    }

    #[test]
    fn origins_are_normalised_and_checked() {
        assert_eq!(Origin::parse("HTTPS://Acme.Zendesk.com:443/").map(|o| o.0), Ok("https://acme.zendesk.com".into()));
        assert_eq!(Origin::parse("http://localhost:3000").map(|o| o.0), Ok("http://localhost:3000".into()));
        assert_eq!(Origin::parse("http://acme.example.com"), Err(OriginError::InsecureScheme));
        assert_eq!(Origin::parse("https://acme.example.com/path"), Err(OriginError::NotAnOrigin));
        assert_eq!(Origin::parse("https://u@acme.example.com"), Err(OriginError::NotAnOrigin));
        assert_eq!(Origin::parse("acme.example.com"), Err(OriginError::NotAUrl));
        assert_eq!(Origin::parse("javascript:alert(1)"), Err(OriginError::NotAnOrigin));
    }

    #[test]
    fn accepts_exact_origins() {
        let ok = ReturnTo::check("https://acme.zendesk.com/hc/ja/requests?x=1#top", &allowed());
        assert_eq!(ok.map(|r| r.0), Ok("https://acme.zendesk.com/hc/ja/requests?x=1#top".into()));
        assert!(ReturnTo::check("https://ACME.zendesk.com:443/hc", &allowed()).is_ok());
        assert!(ReturnTo::check("http://127.0.0.1:8090/", &allowed()).is_ok());
    }

    #[test]
    fn refuses_what_an_attacker_would_try() {
        let hostile = [
            "https://evil.com/",
            "//evil.com/",
            "///evil.com/",
            "/\\evil.com",
            "https:\\\\evil.com",
            "https://acme.zendesk.com\\@evil.com/",
            "https://acme.zendesk.com@evil.com/",
            "https://user:pw@acme.zendesk.com/",
            "https://acme.zendesk.com.evil.com/",
            "https://acme.zendesk.com%2eevil.com/",
            "https://evil.com%23@acme.zendesk.com/",
            "https://acme.zendesk.com:8443/",
            "http://acme.zendesk.com/",
            "HTTPS://evil.com",
            "javascript:alert(document.domain)//https://acme.zendesk.com",
            "data:text/html,<script>alert(1)</script>",
            "https://acme.zendesk.com/\n/evil",
            "https://acme.zendesk.com/\t",
            "https://acme.zendesk.com/ x",
            "\u{0}https://acme.zendesk.com/",
            " https://acme.zendesk.com/",
            "https://acme%2Ezendesk.com/",
            "https://acme.zendesk.com%00.evil.com/",
            "https://xn--acme-zendesk-com.evil.com/",
            "http://127.0.0.1:8091/",
            "http://localhost:8090/",
            "/relative/path",
            "",
        ];
        for raw in hostile {
            let verdict = ReturnTo::check(raw, &allowed());
            // `%2E` in a host is decoded by the URL standard; the result must still be the exact origin.
            if let Ok(r) = &verdict {
                assert!(r.as_str().starts_with("https://acme.zendesk.com/"), "{raw:?} became {r:?}");
                continue;
            }
            assert_eq!(verdict, Err(ReturnToRejected), "{raw:?}");
        }
        assert_eq!(ReturnTo::check(&format!("https://acme.zendesk.com/{}", "a".repeat(MAX_RETURN_TO_LEN)), &allowed()), Err(ReturnToRejected));
    }
}
