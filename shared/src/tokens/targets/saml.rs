//! SAML 2.0 service providers (`saml`): the bridge is their identity provider (Web Browser SSO
//! Profile). The provider sends the person to `/sso/{app}` with its `AuthnRequest` (either
//! binding), or the person starts there (IdP-initiated, where the app allows it); the sign-in
//! ends with our signed response posted to the provider's one registered assertion consumer
//! service, with the `RelayState` it gave. Its requests are checked against what the app
//! registered ([`SamlTarget::check_request`]); nothing in one decides where the answer goes.
//!
//! The response and the assertion are signed with our current RS256 key, whose X.509
//! certificate (made by the admin tool with the key) the provider trusts: from our metadata at
//! `/sso/{app}/metadata`, or pasted in.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mint::{Delivery, MintError, MintInput, TargetError, check_lifetime, verified_email};
use crate::tokens::jws::SigningKey;
use crate::tokens::return_to::{Origin, ReturnTo};
use crate::tokens::saml::authn_request::{self, HTTP_POST, RequestError, SamlRequest};
use crate::tokens::saml::response::{self, Assertion};

/// Attributes we set ourselves; a claim mapping may not name them.
pub const RESERVED_ATTRIBUTES: &[&str] = &["email"];
/// The longest entity id we register (characters).
const MAX_ENTITY_ID: usize = 1024;
/// The longest consumer service URL we register (bytes).
const MAX_ACS_URL: usize = 512;
const PASSWORD_PROTECTED: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
const UNSPECIFIED_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlTarget {
    /// The service provider's entity id: the assertion's audience, and the `Issuer` its
    /// requests must carry.
    pub entity_id: String,
    /// Its assertion consumer service (HTTP-POST binding), kept as the provider wrote it: the
    /// only place a response is ever sent, and the `Destination` and `Recipient` it names.
    pub acs_url: String,
    #[serde(default)]
    pub name_id: NameId,
    /// Whether a sign-in may begin at the bridge, without the provider's request
    /// (IdP-initiated: an unsolicited response). Off unless the operator turns it on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idp_initiated: bool,
    /// How long the provider may take the assertion (seconds; 30 to 3600).
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u64,
}

fn default_lifetime() -> u64 {
    300
}

/// What the assertion's subject names the person by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameId {
    /// Their verified email (`emailAddress` format).
    #[default]
    Email,
    /// Their stable user id (`unspecified` format): the same at every sign-in, whatever their
    /// email becomes, and the same id the other kinds give (`sub`, `external_id`). Not
    /// `persistent`, which SAML Core §8.3.7 wants different for each provider.
    UserId,
}

impl NameId {
    pub fn format(self) -> &'static str {
        match self {
            Self::Email => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::UserId => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        }
    }
}

impl SamlTarget {
    pub fn validate(&self) -> Result<(), TargetError> {
        check_lifetime(self.lifetime_seconds)?;
        if self.entity_id.is_empty() || self.entity_id.chars().count() > MAX_ENTITY_ID || self.entity_id.chars().any(char::is_control) {
            return Err(TargetError::Invalid("a SAML service provider's entity id is 1 to 1,024 characters, none a control character"));
        }
        // Kept as written (a provider's request names it so: `https://x.my.salesforce.com?so=...`).
        let url = url::Url::parse(&self.acs_url).ok();
        if self.acs_url.len() > MAX_ACS_URL || ReturnTo::absolute(&self.acs_url).is_err() || url.is_none_or(|u| u.fragment().is_some()) {
            return Err(TargetError::Invalid(
                "the assertion consumer service URL is https (http only on loopback), without a fragment, a user name, spaces or backslashes, at most 512 characters",
            ));
        }
        Ok(())
    }

    /// Whether `url`, a request's consumer service, is the registered one: the same string, or
    /// the same URL once parsed (`https://x.example?so=1` is `https://x.example/?so=1`).
    fn registered_acs(&self, url: &str) -> bool {
        url == self.acs_url || url::Url::parse(url).ok().is_some_and(|u| url::Url::parse(&self.acs_url).ok() == Some(u))
    }

    /// The provider's request as it reached `/sso/{app}` (`SAMLRequest` by the HTTP-Redirect
    /// binding, and `RelayState`), checked against the registration: its `Issuer` is the app's
    /// entity id, and its consumer service, binding and `Destination` (`destination`: this app's
    /// `/sso/{app}` URL), where given, are the registered ones. Without a request: a sign-in we
    /// begin (IdP-initiated), only if the app allows them.
    ///
    /// Requests are not authenticated (anyone can write one naming the provider), so a
    /// `RelayState` that names a place (a path, or a URL of a scheme a browser goes to) must be
    /// one of the provider's own pages, with or without a request: a provider that follows its
    /// `RelayState` after a sign-in is then no open redirect through a link to us. Any other
    /// `RelayState` (a provider's opaque key, `ss:mem:...`) comes back as it was given.
    pub fn check_request(&self, saml_request: Option<&str>, relay_state: Option<&str>, destination: &str) -> Result<SamlRequest, RequestError> {
        let relay_state = authn_request::relay_state(relay_state)?;
        if relay_state.as_deref().is_some_and(|r| names_a_place(r) && !self.own_page(r)) {
            return Err(RequestError::RelayState);
        }
        let Some(raw) = saml_request.filter(|r| !r.is_empty()) else {
            if !self.idp_initiated {
                return Err(RequestError::Unsolicited);
            }
            return Ok(SamlRequest { relay_state, ..SamlRequest::default() });
        };
        let parsed = authn_request::parse(raw)?;
        if parsed.issuer.as_deref() != Some(self.entity_id.as_str()) {
            return Err(RequestError::Issuer);
        }
        if parsed.assertion_consumer_service_url.is_some_and(|url| !self.registered_acs(&url)) {
            return Err(RequestError::AssertionConsumerService);
        }
        if parsed.protocol_binding.is_some_and(|b| b != HTTP_POST) {
            return Err(RequestError::ProtocolBinding);
        }
        if parsed.destination.is_some_and(|d| d != destination) {
            return Err(RequestError::Destination);
        }
        Ok(SamlRequest { relay_state, ..parsed.request })
    }

    /// Whether `relay_state` is a page on the consumer service's origin, however a provider
    /// reads it: resolved against `acs_url` on the same origin, no user name, no encoded slash
    /// or backslash, no dot segment, a path not starting `//`.
    fn own_page(&self, relay_state: &str) -> bool {
        let Some((base, origin)) = url::Url::parse(&self.acs_url).ok().and_then(|b| Some((b.clone(), Origin::of(&b).ok()?))) else { return false };
        let path = relay_state.split(['?', '#']).next().unwrap_or_default();
        let lower = path.to_ascii_lowercase();
        if lower.contains("%2f") || lower.contains("%5c") || relay_state.contains('\\') || path.split('/').any(|s| s == "." || s == "..") {
            return false;
        }
        // `ReturnTo`'s rules (the origin, no user name, no white space) on the URL a browser goes to.
        base.join(relay_state).is_ok_and(|r| !r.path().starts_with("//") && ReturnTo::check(r.as_str(), &[origin]).is_ok())
    }

    /// Our response for this person, posted to the consumer service: the assertion names them
    /// by [`NameId`], carries their verified `email` and the app's claim mapping as attributes
    /// (an array is one value each), and is signed with `key` (RS256), whose `certificate`
    /// (Base64 DER) it carries.
    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey, certificate: &str) -> Result<Delivery, MintError> {
        if input.issuer.is_empty() {
            return Err(MintError::Signing);
        }
        let request = input.saml.cloned().unwrap_or_default();
        let email = verified_email(input.profile).ok();
        let name_id = match self.name_id {
            NameId::Email => email.ok_or(MintError::MissingEmail)?,
            NameId::UserId => input.profile.subject.as_str(),
        };
        let mut attributes: Vec<(String, Vec<String>)> = email.map(|e| ("email".to_owned(), vec![e.to_owned()])).into_iter().collect();
        attributes.extend(input.claims.apply(input.profile)?.into_iter().filter_map(|(name, value)| Some((name, values(&value)?))));
        let assertion = Assertion {
            issuer: input.issuer,
            audience: &self.entity_id,
            recipient: &self.acs_url,
            in_response_to: request.id.as_deref(),
            name_id,
            name_id_format: self.name_id.format(),
            session_index: input.sid,
            authn_instant: input.authenticated,
            authn_context: if input.amr.contains(&"pwd") { PASSWORD_PROTECTED } else { UNSPECIFIED_CONTEXT },
            attributes: &attributes,
            now: input.now,
            lifetime: self.lifetime_seconds,
        };
        let encoded = response::signed_response(&assertion, key, certificate).map_err(|_| MintError::Signing)?;
        Ok(self.post(encoded, request.relay_state))
    }

    /// The answer to a passive request (`IsPassive`) that no session could meet: `NoPassive`,
    /// signed with `key` as [`Self::mint`] signs, posted to the consumer service.
    pub fn no_passive(&self, request: &SamlRequest, issuer: &str, now: u64, key: &SigningKey, certificate: &str) -> Result<Delivery, MintError> {
        let id = request.id.as_deref().filter(|_| !issuer.is_empty()).ok_or(MintError::Signing)?;
        let encoded = response::no_passive(issuer, &self.acs_url, id, now, key, certificate).map_err(|_| MintError::Signing)?;
        Ok(self.post(encoded, request.relay_state.clone()))
    }

    fn post(&self, encoded: String, relay_state: Option<String>) -> Delivery {
        let mut fields = vec![("SAMLResponse".to_owned(), encoded)];
        fields.extend(relay_state.map(|r| ("RelayState".to_owned(), r)));
        Delivery::Post { action: self.acs_url.clone(), fields }
    }
}

/// Whether a `RelayState` names a place a provider may send the browser to: a path (`/`, `\\`),
/// or a URL whose scheme a browser follows (`http`, `https`, `javascript`, `data`, `vbscript`,
/// `file`).
fn names_a_place(relay_state: &str) -> bool {
    let scheme = url::Url::parse(relay_state).ok().map(|u| u.scheme().to_owned());
    relay_state.starts_with(['/', '\\']) || scheme.is_some_and(|s| matches!(s.as_str(), "http" | "https" | "javascript" | "data" | "vbscript" | "file"))
}

/// A mapped claim as attribute values: an array one value each; objects, nulls and empty arrays
/// none (the attribute is left out).
fn values(value: &Value) -> Option<Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => Some(items.iter().filter_map(one).collect::<Vec<_>>()).filter(|v| !v.is_empty()),
        other => one(other).map(|v| vec![v]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const DESTINATION: &str = "https://api.example.com/sso/wiki";

    fn provider(idp_initiated: bool) -> SamlTarget {
        let target =
            serde_json::json!({"entity_id": "https://wiki.example.com/saml", "acs_url": "https://wiki.example.com/saml/acs", "idp_initiated": idp_initiated});
        serde_json::from_value(target).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A request anyone can write: the provider's public entity id, nothing else.
    fn forged() -> String {
        let xml = r#"<p:AuthnRequest xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0"><i:Issuer xmlns:i="urn:oasis:names:tc:SAML:2.0:assertion">https://wiki.example.com/saml</i:Issuer></p:AuthnRequest>"#;
        base64::engine::general_purpose::STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6))
    }

    #[test]
    fn a_relay_state_that_names_a_place_names_one_of_the_providers_pages_with_a_request_or_without() {
        let request = forged();
        for relay_state in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/..//evil.example",
            "/.//evil.example",
            "https://me@wiki.example.com/",
            "https://wiki.example.com.evil.example/",
            "http://wiki.example.com/",
            "javascript:alert(1)",
            "data:text/html,x",
        ] {
            for (saml_request, idp_initiated) in [(Some(request.as_str()), false), (None, true)] {
                let checked = provider(idp_initiated).check_request(saml_request, Some(relay_state), DESTINATION);
                assert_eq!(checked, Err(RequestError::RelayState), "{relay_state} with a request: {}", saml_request.is_some());
            }
        }
        for relay_state in ["/pages/1?next=%2Fhome", "https://wiki.example.com/pages/1", "ss:mem:0a1b2c", "opaque-key-42", "pages/1"] {
            for (saml_request, idp_initiated) in [(Some(request.as_str()), false), (None, true)] {
                let checked = provider(idp_initiated).check_request(saml_request, Some(relay_state), DESTINATION);
                assert_eq!(checked.map(|r| r.relay_state), Ok(Some(relay_state.to_owned())), "{relay_state}");
            }
        }
        assert_eq!(provider(false).check_request(None, Some("/pages/1"), DESTINATION), Err(RequestError::Unsolicited));
    }

    #[test]
    fn a_consumer_service_is_kept_as_written_and_matched_once_parsed() {
        let target: SamlTarget =
            serde_json::from_value(serde_json::json!({"entity_id": "e", "acs_url": "https://x.my.salesforce.com?so=00D1"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(target.validate(), Ok(()));
        assert!(target.registered_acs("https://x.my.salesforce.com?so=00D1") && target.registered_acs("https://X.my.salesforce.com:443/?so=00D1"));
        assert!(!target.registered_acs("https://x.my.salesforce.com/?so=00D2") && !target.registered_acs("https://x.my.salesforce.com/x?so=00D1"));
    }
}
