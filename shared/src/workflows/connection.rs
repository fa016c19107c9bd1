//! A connection: where a workflow's HTTP steps go and how they authenticate. Flows name
//! connections; secrets stay in Secrets Manager and connections name them.
//!
//! ```json
//! { "name": "servicenow", "base_url": "https://acme.service-now.com",
//!   "auth": { "type": "basic", "username": "bridge.integration", "secret": "arn:...:secret:..." } }
//! { "name": "salesforce", "base_url": "https://acme.my.salesforce.com",
//!   "auth": { "type": "oauth2", "token_url": "https://acme.my.salesforce.com/services/oauth2/token",
//!             "client_id": "3MVG9...", "secret": "arn:..." } }
//! ```
//!
//! Auth types: `none`, `bearer` (the secret is the token), `basic` (the secret is the password),
//! `header` (the secret is the header's value, e.g. an API key), and `oauth2` (client credentials:
//! the secret is the client secret; tokens are cached until shortly before they expire).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::common::secrets::SecretRef;
use crate::common::secure_url::secure;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub name: String,
    /// https (http only on loopback); every request stays on this origin.
    pub base_url: String,
    pub auth: Auth,
    /// Headers sent with every request.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// Incremented on every change (the admin API's `ETag`); 0 in a file not yet imported.
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    None,
    Bearer {
        secret: SecretRef,
    },
    Basic {
        username: String,
        secret: SecretRef,
    },
    Header {
        name: String,
        secret: SecretRef,
    },
    Oauth2 {
        token_url: String,
        client_id: String,
        secret: SecretRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
}

impl Auth {
    /// What an operator sets (everything but the secret).
    pub fn settings(&self) -> AuthSettings {
        match self.clone() {
            Self::None => AuthSettings::None {},
            Self::Bearer { .. } => AuthSettings::Bearer {},
            Self::Basic { username, .. } => AuthSettings::Basic { username },
            Self::Header { name, .. } => AuthSettings::Header { name },
            Self::Oauth2 { token_url, client_id, scope, .. } => AuthSettings::Oauth2 { token_url, client_id, scope },
        }
    }

    /// The secret it names, if it has one.
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            Self::None => None,
            Self::Bearer { secret } | Self::Basic { secret, .. } | Self::Header { secret, .. } | Self::Oauth2 { secret, .. } => Some(secret),
        }
    }

    /// Where the secret, or the token it buys, is sent when the calls go to `url`: the origins
    /// (scheme, host, port) of `url` and of an OAuth token endpoint. A change that moves either
    /// needs the secret given again: a kept secret never follows a new host, or whoever may
    /// change the address but never read the secret could send it to a host of their own. (A
    /// new path on the same host keeps it: a service's `/v1` becoming `/v2` is the common
    /// change; a host shared by many tenants is the limit of this rule.)
    pub fn sent_to(&self, url: &str) -> Vec<Option<String>> {
        let origin = |raw: &str| url::Url::parse(raw).ok().map(|u| u.origin().ascii_serialization());
        match self {
            Self::None => Vec::new(),
            Self::Oauth2 { token_url, .. } => vec![origin(url), origin(token_url)],
            _ => vec![origin(url)],
        }
    }

    /// Points the authentication at `secret`; `false` for `none`, which has no secret.
    pub fn set_secret(&mut self, secret: SecretRef) -> bool {
        match self {
            Self::None => false,
            Self::Bearer { secret: s } | Self::Basic { secret: s, .. } | Self::Header { secret: s, .. } | Self::Oauth2 { secret: s, .. } => {
                *s = secret;
                true
            }
        }
    }
}

/// How a connection (or a telephony hook) authenticates, as an operator sets it: [`Auth`]
/// without the secret, which comes separately and is stored apart.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthSettings {
    // Struct variants (not unit ones), so `deny_unknown_fields` refuses extra fields here too.
    None {},
    Bearer {},
    Basic {
        username: String,
    },
    /// A header (`Authorization`, `X-Api-Key`) carrying the secret.
    Header {
        name: String,
    },
    /// OAuth 2.0 client credentials; the secret is the client secret.
    Oauth2 {
        token_url: String,
        client_id: String,
        #[serde(default)]
        scope: Option<String>,
    },
}

impl AuthSettings {
    /// The authentication, naming `secret` (ignored by `none`).
    pub fn into_auth(self, secret: SecretRef) -> Auth {
        match self {
            Self::None {} => Auth::None,
            Self::Bearer {} => Auth::Bearer { secret },
            Self::Basic { username } => Auth::Basic { username, secret },
            Self::Header { name } => Auth::Header { name, secret },
            Self::Oauth2 { token_url, client_id, scope } => Auth::Oauth2 { token_url, client_id, secret, scope },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("connection `{0}`: base_url and token_url must be https (http only on loopback) without query or fragment")]
    Insecure(String),
    #[error("a connection's name is 1 to 64 characters of a-z, 0-9, '-' and '_'")]
    Name,
    #[error("connection `{0}`: base_url and token_url carry no user or password (the secret is set apart)")]
    Credentials(String),
    #[error("connection `{0}`: a basic auth username has no ':'")]
    Username(String),
    #[error("connection `{0}`: {HEADERS_RULE}")]
    Headers(String),
}

/// What [`valid_headers`] allows, for messages.
pub const HEADERS_RULE: &str = "header names are tokens (not Host, Content-Length, Transfer-Encoding or Connection), none carries a credential \
     (Authorization, Cookie, X-Auth-*, or a name with api-key, token, secret or password: set it as the connection's auth, whose secret is kept apart) \
     and values have no control characters";

/// Whether `headers` (a connection's or an HTTP step's) may be sent as they are: names are
/// RFC 9110 tokens other than the ones that say where and how the message goes, and none that
/// carries a credential (those are stored and shown as they are; a secret belongs in the
/// connection's `auth`, kept in Secrets Manager and never shown); values (text, or JSON sent as
/// its text) have no control characters.
pub fn valid_headers(headers: &Map<String, Value>) -> bool {
    const FRAMING: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];
    const CREDENTIALS: &[&str] = &["authorization", "proxy-authorization", "cookie"];
    const CREDENTIAL_WORDS: &[&str] = &["apikey", "api-key", "api_key", "token", "secret", "password", "passwd", "x-auth"];
    headers.iter().all(|(name, value)| {
        let token = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let lower = name.to_ascii_lowercase();
        let credential = CREDENTIALS.contains(&lower.as_str()) || CREDENTIAL_WORDS.iter().any(|w| lower.contains(w));
        let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        token && !FRAMING.contains(&lower.as_str()) && !credential && !text.chars().any(char::is_control)
    })
}

/// Whether `name` may name a connection (it becomes part of a secret's name and a key).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Connection {
    pub fn validate(&self) -> Result<(), ConnectionError> {
        if !valid_name(&self.name) {
            return Err(ConnectionError::Name);
        }
        let parsed = |raw: &str| url::Url::parse(raw).ok().filter(|u| secure(u) && u.query().is_none() && u.fragment().is_none());
        let mut urls = vec![&self.base_url];
        if let Auth::Oauth2 { token_url, .. } = &self.auth {
            urls.push(token_url);
        }
        for raw in urls {
            let url = parsed(raw).ok_or_else(|| ConnectionError::Insecure(self.name.clone()))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(ConnectionError::Credentials(self.name.clone()));
            }
        }
        if let Auth::Basic { username, .. } = &self.auth
            && username.contains(':')
        {
            return Err(ConnectionError::Username(self.name.clone()));
        }
        if !valid_headers(&self.headers) {
            return Err(ConnectionError::Headers(self.name.clone()));
        }
        Ok(())
    }

    /// `path` (a rendered step path, with its query) under the base URL, only if it stays on the
    /// base URL's origin and under its path, segment by segment, once the URL is normalised (so
    /// neither `/../`, `/%2e%2e/`, `/..\` nor `/api/v1x` under `/api/v1` gets out).
    pub fn url_for(&self, path: &str) -> Option<url::Url> {
        let base = url::Url::parse(&self.base_url).ok()?;
        if !path.is_empty() && !path.starts_with('/') {
            return None;
        }
        let joined = url::Url::parse(&format!("{}{path}", self.base_url.trim_end_matches('/'))).ok()?;
        let base_path = base.path().trim_end_matches('/');
        let under = joined.path() == base_path || joined.path().strip_prefix(base_path).is_some_and(|rest| rest.starts_with('/'));
        (joined.origin() == base.origin() && under && !path.contains("/../")).then_some(joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connection(base: &str) -> Connection {
        serde_json::from_value(json!({"name": "c", "base_url": base, "auth": {"type": "none"}})).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn requests_stay_under_the_base_url() {
        let c = connection("https://acme.service-now.com/api");
        assert_eq!(
            c.url_for("/now/table/incident?sysparm_display_value=true").map(String::from).as_deref(),
            Some("https://acme.service-now.com/api/now/table/incident?sysparm_display_value=true")
        );
        for escape in ["@evil.example/x", "/../admin", "x", "/%2e%2e/apix", "/..\\apix", "/%2E%2E/apix/y", "/./../apix"] {
            assert_eq!(c.url_for(escape), None, "{escape}");
        }
        assert!(connection("http://acme.example.com").validate().is_err());
        assert!(connection("http://127.0.0.1:9000").validate().is_ok());
        assert!(
            serde_json::from_value::<Connection>(json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "basic", "username": "u"}})).is_err()
        );
        assert!(connection("https://x.example").validate().is_ok());
        assert_eq!(connection("https://acme.service-now.com/api").url_for("").map(String::from).as_deref(), Some("https://acme.service-now.com/api"));
        for refused in [
            json!({"name": "c", "base_url": "https://user:pw@x.example", "auth": {"type": "none"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "oauth2", "token_url": "https://id:pw@x.example/t", "client_id": "i", "secret": "s"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "basic", "username": "a:b", "secret": "s"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"Host": "internal.example"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"x-a": "b\r\nx-b: c"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"bad name": "v"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"authorization": "Bearer s"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"Cookie": "sid=s"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"X-Auth-Token": "s"}}),
            json!({"name": "c", "base_url": "https://x.example", "auth": {"type": "none"}, "headers": {"Marketo-API_Key": "s"}}),
        ] {
            assert!(serde_json::from_value::<Connection>(refused.clone()).unwrap().validate().is_err(), "{refused}");
        }
        assert!(
            serde_json::from_value::<Connection>(json!({"name": "C D", "base_url": "https://x.example", "auth": {"type": "none"}}))
                .unwrap()
                .validate()
                .is_err()
        );
    }

    #[test]
    fn settings_take_exactly_the_fields_of_their_kind() {
        for refused in [json!({"type": "none", "x": 1}), json!({"type": "bearer", "secret": "s"}), json!({"type": "basic"}), json!({"type": "other"})] {
            assert!(serde_json::from_value::<AuthSettings>(refused.clone()).is_err(), "{refused}");
        }
        let basic: AuthSettings = serde_json::from_value(json!({"type": "basic", "username": "u"})).unwrap();
        assert_eq!(basic.into_auth(SecretRef("arn".into())).settings(), AuthSettings::Basic { username: "u".into() });
    }
}
