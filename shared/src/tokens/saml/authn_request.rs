//! A service provider's `<samlp:AuthnRequest>` (SAML 2.0 Core §3.4), as it reaches `/sso/{app}`
//! by the HTTP-Redirect binding (Bindings §3.4: `SAMLRequest` = Base64 of the raw DEFLATE of
//! the XML, `RelayState`); one that came by the HTTP-POST binding (Bindings §3.5: Base64 of the
//! XML) is deflated and sent on as a `GET` first ([`post_to_redirect`]).
//!
//! Read by a strict reader of our own that expands nothing: a document type declaration (and so
//! any entity of one) is refused, as are processing instructions and references other than
//! XML's five and character references. (An XML tokenizer crate cost the login function's
//! package more than the 4 MB limit left it.) Only
//! what the answer needs is kept ([`SamlRequest`]); the checks against the app's registration
//! (its entity id, its assertion consumer service) are the target's (`targets::saml`).
//! Signed requests are not verified: the answer goes only to the registered consumer service.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// SAML 2.0 protocol namespace.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace.
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The HTTP-POST binding, the only one the answer travels by.
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Longer `SAMLRequest` values are refused before decoding (bytes): API Gateway takes at most
/// 10,240 bytes of request line and headers, cookies included.
const MAX_ENCODED: usize = 8 * 1024;
/// The longest `SAMLRequest` of the HTTP-POST binding (bytes; the login function's body limit).
const MAX_POSTED: usize = 16 * 1024;
/// The most an inflated request may hold (bytes).
const MAX_XML: usize = 64 * 1024;
/// The longest request `ID` kept (characters).
const MAX_ID: usize = 256;
/// The longest `RelayState` given back (bytes; Bindings §3.4.3 asks providers for at most 80).
pub const MAX_RELAY_STATE: usize = 1024;

/// What the answer to a sign-in needs from the service provider's request; none of it decides
/// where the answer goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlRequest {
    /// The request's `ID`, answered as `InResponseTo`; none for a sign-in the bridge began
    /// (IdP-initiated: `/sso/{app}` without a request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Given back as it came (Bindings §3.4.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    /// `ForceAuthn`: a fresh sign-in, whatever the session.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_authn: bool,
    /// `IsPassive`: no page; without a session that will do, a `NoPassive` answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub passive: bool,
}

/// The request's parts the target checks against the app's registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedRequest {
    pub request: SamlRequest,
    pub issuer: Option<String>,
    pub assertion_consumer_service_url: Option<String>,
    pub protocol_binding: Option<String>,
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the SAML request is not a well-formed AuthnRequest")]
    Malformed,
    #[error("the SAML request is too large")]
    TooLarge,
    #[error("the SAML request's Issuer is not the app's entity id")]
    Issuer,
    #[error("the SAML request names another assertion consumer service than the app registered")]
    AssertionConsumerService,
    #[error("the SAML request asks for an answer by another binding than HTTP-POST")]
    ProtocolBinding,
    #[error("the SAML request was meant for another destination")]
    Destination,
    #[error("the RelayState is longer than 1,024 bytes or holds control characters, or (IdP-initiated) is not one of the provider's pages")]
    RelayState,
    #[error("no SAML request, and the app does not allow sign-ins begun at the bridge")]
    Unsolicited,
}

/// A `RelayState` as given back: at most [`MAX_RELAY_STATE`] bytes, none a control character.
pub fn relay_state(raw: Option<&str>) -> Result<Option<String>, RequestError> {
    match raw.filter(|r| !r.is_empty()) {
        Some(r) if r.len() > MAX_RELAY_STATE || r.chars().any(char::is_control) => Err(RequestError::RelayState),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Decodes and reads a `SAMLRequest` of the HTTP-Redirect binding (Base64 of the raw DEFLATE of
/// the XML).
pub fn parse(encoded: &str) -> Result<ParsedRequest, RequestError> {
    let xml = miniz_oxide::inflate::decompress_to_vec_with_limit(&base64(encoded, MAX_ENCODED)?, MAX_XML).map_err(|_| RequestError::Malformed)?;
    read(std::str::from_utf8(&xml).map_err(|_| RequestError::Malformed)?)
}

/// A `SAMLRequest` of the HTTP-POST binding (Base64 of the XML) as the HTTP-Redirect binding
/// carries it (deflated, so it fits in the URL of the `GET` it is sent on as). Read only as far
/// as its size; [`parse`] reads the rest.
pub fn post_to_redirect(encoded: &str) -> Result<String, RequestError> {
    let xml = base64(encoded, MAX_POSTED)?;
    let redirected = STANDARD.encode(miniz_oxide::deflate::compress_to_vec(&xml, 6));
    if redirected.len() > MAX_ENCODED {
        return Err(RequestError::TooLarge);
    }
    Ok(redirected)
}

/// The bytes of a Base64 `SAMLRequest` of at most `limit` bytes. Line breaks are left out; a
/// space is a `+` a provider did not percent-encode in its query (Base64 has no spaces).
fn base64(encoded: &str, limit: usize) -> Result<Vec<u8>, RequestError> {
    if encoded.len() > limit {
        return Err(RequestError::TooLarge);
    }
    let compact: String = encoded.chars().filter(|c| !matches!(c, '\r' | '\n' | '\t')).map(|c| if c == ' ' { '+' } else { c }).collect();
    STANDARD.decode(compact).map_err(|_| RequestError::Malformed)
}

/// An element's start: qualified name and raw attributes (prefix, local name, value).
#[derive(Default)]
struct Start<'a> {
    prefix: &'a str,
    local: &'a str,
    attributes: Vec<(&'a str, &'a str, &'a str)>,
}

/// The deepest element a request may nest.
const MAX_DEPTH: usize = 16;

/// A strict reader of the one document we read: a prolog of an XML declaration, comments and
/// white space; elements with attributes; text, character data sections and comments. Anything
/// else (a document type, a processing instruction, an unknown reference, a second root, a
/// mismatched end tag) is refused: refusing is always safe here, and real requests are plain.
struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    fn eat(&mut self, prefix: &str) -> bool {
        let found = self.rest.starts_with(prefix);
        if found {
            self.rest = &self.rest[prefix.len()..];
        }
        found
    }

    /// Everything up to `end`, which is consumed too.
    fn until(&mut self, end: &str) -> Result<&'a str, RequestError> {
        let at = self.rest.find(end).ok_or(RequestError::Malformed)?;
        let taken = &self.rest[..at];
        self.rest = &self.rest[at + end.len()..];
        Ok(taken)
    }

    fn spaces(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
    }

    /// White space and comments (a prolog's, or after the root).
    fn misc(&mut self) -> Result<(), RequestError> {
        loop {
            self.spaces();
            if !self.eat("<!--") {
                return Ok(());
            }
            self.until("-->")?;
        }
    }

    fn name(&mut self) -> Result<(&'a str, &'a str), RequestError> {
        let end = self.rest.find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<' | '"' | '\'')).unwrap_or(self.rest.len());
        let name = &self.rest[..end];
        self.rest = &self.rest[end..];
        match name.split_once(':') {
            // A name starts with a letter or `_` (so `<!DOCTYPE` and `<?pi` are none).
            _ if !name.starts_with(|c: char| c.is_alphabetic() || c == '_') => Err(RequestError::Malformed),
            Some((prefix, local)) if !prefix.is_empty() && !local.is_empty() && !local.contains(':') => Ok((prefix, local)),
            Some(_) => Err(RequestError::Malformed),
            None => Ok(("", name)),
        }
    }

    /// An element's start after its `<`: its name and attributes, and whether it is empty.
    fn start(&mut self) -> Result<(Start<'a>, bool), RequestError> {
        let (prefix, local) = self.name()?;
        let mut start = Start { prefix, local, attributes: Vec::new() };
        loop {
            let before = self.rest.len();
            self.spaces();
            if self.eat("/>") {
                return Ok((start, true));
            }
            if self.eat(">") {
                return Ok((start, false));
            }
            if self.rest.len() == before {
                return Err(RequestError::Malformed);
            }
            let (prefix, local) = self.name()?;
            self.spaces();
            if !self.eat("=") {
                return Err(RequestError::Malformed);
            }
            self.spaces();
            let quote = if self.eat("\"") {
                "\""
            } else if self.eat("'") {
                "'"
            } else {
                return Err(RequestError::Malformed);
            };
            let value = self.until(quote)?;
            if value.contains('<') {
                return Err(RequestError::Malformed);
            }
            start.attributes.push((prefix, local, value));
        }
    }
}

/// Reads the `AuthnRequest` document `xml`: its root's attributes and its `Issuer`.
fn read(xml: &str) -> Result<ParsedRequest, RequestError> {
    let mut reader = Reader { rest: xml.strip_prefix('\u{feff}').unwrap_or(xml) };
    if reader.eat("<?xml") {
        reader.until("?>")?;
    }
    reader.misc()?;
    if !reader.eat("<") {
        return Err(RequestError::Malformed);
    }
    let mut scopes: Vec<Vec<(&str, &str)>> = Vec::new();
    let mut open: Vec<(&str, &str)> = Vec::new();
    let (mut parsed, mut issuer, mut in_issuer) = (None::<ParsedRequest>, None::<String>, false);
    // At each element's start, after its `<`.
    loop {
        let (element, empty) = reader.start()?;
        scopes.push(element.attributes.iter().filter_map(|&(p, l, v)| declaration(p, l, v)).collect());
        let namespace = resolve(&scopes, element.prefix).ok_or(RequestError::Malformed)?;
        match (scopes.len(), namespace, element.local) {
            (1, PROTOCOL_NS, "AuthnRequest") => parsed = Some(root(&element)?),
            (1, ..) => return Err(RequestError::Malformed),
            // The Issuer holds text only.
            _ if in_issuer || scopes.len() > MAX_DEPTH => return Err(RequestError::Malformed),
            (2, ASSERTION_NS, "Issuer") if issuer.is_none() => {
                issuer = Some(String::new());
                in_issuer = !empty;
            }
            _ => {}
        }
        if empty {
            scopes.pop();
        } else {
            open.push((element.prefix, element.local));
        }
        // Content, up to the next element's start or the root's end.
        loop {
            if open.is_empty() {
                reader.misc()?;
                let done = reader.rest.is_empty();
                return parsed
                    .filter(|_| done)
                    .map(|mut p| {
                        p.issuer = issuer.map(|i| i.trim().to_owned());
                        p
                    })
                    .ok_or(RequestError::Malformed);
            }
            let text = reader.until("<").map_err(|_| RequestError::Malformed)?;
            if in_issuer {
                issuer.get_or_insert_default().push_str(&unescape(text)?);
            } else {
                unescape(text)?;
            }
            if reader.eat("!--") {
                reader.until("-->")?;
            } else if reader.eat("![CDATA[") {
                let data = reader.until("]]>")?;
                if in_issuer {
                    issuer.get_or_insert_default().push_str(data);
                }
            } else if reader.eat("/") {
                let name = reader.name()?;
                reader.spaces();
                if !reader.eat(">") || open.pop() != Some(name) {
                    return Err(RequestError::Malformed);
                }
                scopes.pop();
                in_issuer = false;
            } else if reader.rest.starts_with(['!', '?']) {
                return Err(RequestError::Malformed);
            } else {
                break;
            }
        }
    }
}

/// A namespace declaration among an element's attributes: (prefix, namespace); `""` for the
/// default namespace.
fn declaration<'a>(prefix: &'a str, local: &'a str, value: &'a str) -> Option<(&'a str, &'a str)> {
    match (prefix, local) {
        ("xmlns", name) => Some((name, value)),
        ("", "xmlns") => Some(("", value)),
        _ => None,
    }
}

/// The namespace `prefix` names where the innermost of `scopes` is.
fn resolve<'a>(scopes: &[Vec<(&'a str, &'a str)>], prefix: &str) -> Option<&'a str> {
    let found = scopes.iter().rev().flat_map(|s| s.iter()).find(|(p, _)| *p == prefix).map(|(_, ns)| *ns);
    match (found, prefix) {
        (Some(ns), _) => Some(ns),
        // No default namespace declared: none.
        (None, "") => Some(""),
        (None, _) => None,
    }
}

/// The root's attributes: `ID` (an NCName of at most 256 characters), `Version` 2.0, and what
/// the target checks.
fn root(element: &Start<'_>) -> Result<ParsedRequest, RequestError> {
    let mut values = std::collections::HashMap::new();
    for &(prefix, local, raw) in &element.attributes {
        if prefix.is_empty() && local != "xmlns" && values.insert(local, unescape(raw)?).is_some() {
            return Err(RequestError::Malformed);
        }
    }
    let id = values.remove("ID").filter(|id| ncname(id)).ok_or(RequestError::Malformed)?;
    if values.remove("Version").as_deref() != Some("2.0") {
        return Err(RequestError::Malformed);
    }
    // An xs:boolean, or absent (false).
    let flag = |v: Option<String>| match v.as_deref().map(str::trim) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(RequestError::Malformed),
    };
    Ok(ParsedRequest {
        request: SamlRequest { id: Some(id), relay_state: None, force_authn: flag(values.remove("ForceAuthn"))?, passive: flag(values.remove("IsPassive"))? },
        issuer: None,
        assertion_consumer_service_url: values.remove("AssertionConsumerServiceURL"),
        protocol_binding: values.remove("ProtocolBinding"),
        destination: values.remove("Destination"),
    })
}

/// An `xs:ID` we give back as `InResponseTo`: a letter or `_`, then letters, digits, `_`, `-`,
/// `.`; at most [`MAX_ID`] characters.
fn ncname(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= MAX_ID
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `raw` with XML's five entity references and character references replaced; any other
/// reference is refused (there is no document type to declare one).
fn unescape(raw: &str) -> Result<String, RequestError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').ok_or(RequestError::Malformed)? + at;
        let name = &rest[at + 1..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => name.strip_prefix('#').ok_or(RequestError::Malformed)?.parse(),
                };
                code.ok().and_then(char::from_u32).ok_or(RequestError::Malformed)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<?xml version="1.0"?><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc-1.2" Version="2.0" IssueInstant="2026-12-01T00:00:00Z" Destination="https://api.example.com/sso/wiki" AssertionConsumerServiceURL="https://wiki.example.com/saml/acs?a=1&amp;b=2" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true"><saml:Issuer> https://wiki.example.com/saml </saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>"#;

    fn deflated(xml: &str) -> String {
        STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6))
    }

    #[test]
    fn reads_a_request_by_either_binding() {
        let expected = ParsedRequest {
            request: SamlRequest { id: Some("_abc-1.2".into()), relay_state: None, force_authn: true, passive: false },
            issuer: Some("https://wiki.example.com/saml".into()),
            assertion_consumer_service_url: Some("https://wiki.example.com/saml/acs?a=1&b=2".into()),
            protocol_binding: Some(HTTP_POST.into()),
            destination: Some("https://api.example.com/sso/wiki".into()),
        };
        assert_eq!(parse(&deflated(REQUEST)), Ok(expected.clone()));
        let posted = post_to_redirect(&STANDARD.encode(REQUEST)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse(&posted), Ok(expected));
        // A `+` a provider left unencoded in its query arrives as a space.
        let spaced = deflated(REQUEST).replace('+', " ");
        assert!(spaced.contains(' ') || !deflated(REQUEST).contains('+'));
        assert!(parse(&spaced).is_ok());
        // The default namespace, and prefixes of our own.
        let other = r#"<AuthnRequest xmlns="urn:oasis:names:tc:SAML:2.0:protocol" ID="a" Version="2.0" IsPassive="1"><i:Issuer xmlns:i="urn:oasis:names:tc:SAML:2.0:assertion"><![CDATA[sp]]></i:Issuer></AuthnRequest>"#;
        let parsed = parse(&deflated(other)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((parsed.issuer.as_deref(), parsed.request.passive, parsed.request.force_authn), (Some("sp"), true, false));
        // Comments, single quotes, character references, an empty Issuer's sibling elements.
        let quirks = "\u{feff}<!-- a --><p:AuthnRequest xmlns:p='urn:oasis:names:tc:SAML:2.0:protocol' ID='_1' Version='2.0'><!-- b --><Issuer xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\">sp&#x2F;&amp;<!-- c -->x</Issuer><p:Extensions><p:X a=\"1\"/></p:Extensions></p:AuthnRequest>\n<!-- d -->\n";
        let parsed = parse(&post_to_redirect(&STANDARD.encode(quirks)).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((parsed.issuer.as_deref(), parsed.request.id.as_deref()), (Some("sp/&x"), Some("_1")));
    }

    #[test]
    fn refuses_what_is_not_a_plain_authn_request() {
        let refused = |xml: &str| parse(&deflated(xml));
        let with = |from: &str, to: &str| REQUEST.replacen(from, to, 1);
        for (xml, why) in [
            (with("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>"), "a document type"),
            (with("https://wiki.example.com/saml </", "&e;</"), "an undeclared entity"),
            (with("ID=\"_abc-1.2\"", "ID=\"1abc\""), "an ID that is not an NCName"),
            (with("ID=\"_abc-1.2\"", "ID=\"_a\" ID=\"_b\""), "a repeated attribute"),
            (with("ID=\"_abc-1.2\" ", ""), "no ID"),
            (with("Version=\"2.0\"", "Version=\"1.1\""), "another version"),
            (with("xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"", "xmlns:samlp=\"urn:example\""), "another namespace"),
            (REQUEST.replace("samlp:AuthnRequest", "samlp:LogoutRequest"), "another message"),
            (format!("{REQUEST}<x/>"), "two roots"),
            (REQUEST.replacen("</samlp:AuthnRequest>", "", 1), "not closed"),
            (with("<saml:Issuer>", "<saml:Issuer><saml:Issuer>x</saml:Issuer>"), "an element inside the Issuer"),
            (with("<saml:Issuer>", "<?pi x?><saml:Issuer>"), "a processing instruction"),
            (with("</saml:Issuer>", "</saml:Other>"), "a mismatched end tag"),
            (with("Version=\"2.0\"", "Version=2.0"), "an unquoted attribute"),
            (with("Version=\"2.0\"", "Version=\"2.0<\""), "a < in an attribute"),
            (with("Version=\"2.0\"", "Version=\"2.0\"Version2=\"x\""), "attributes without space (read as one name)"),
            (with("<samlp:NameIDPolicy", &format!("{}<samlp:NameIDPolicy", "<x>".repeat(20))), "nested too deep"),
            (format!("{REQUEST}trailing"), "text after the root"),
            (format!("text{REQUEST}"), "text before the root"),
            (with("saml:Issuer>", "a:b:Issuer>"), "a name with two colons"),
            (with("ForceAuthn=\"true\"", "ForceAuthn=\"yes\""), "a flag that is not an xs:boolean"),
        ] {
            assert!(refused(&xml).is_err(), "{why}");
        }
        assert_eq!(parse("%%%"), Err(RequestError::Malformed));
        assert_eq!(parse(&STANDARD.encode(REQUEST)), Err(RequestError::Malformed), "not deflated");
        assert_eq!(parse(&"A".repeat(MAX_ENCODED + 1)), Err(RequestError::TooLarge));
        assert_eq!(post_to_redirect(&"A".repeat(MAX_POSTED + 1)), Err(RequestError::TooLarge));
        // A posted request that would not fit in a URL, deflated.
        let noise = crate::common::random::secret(6_750);
        let large = REQUEST.replacen("<samlp:NameIDPolicy", &format!("<samlp:Extensions>{noise}</samlp:Extensions><samlp:NameIDPolicy"), 1);
        assert_eq!(post_to_redirect(&STANDARD.encode(&large)), Err(RequestError::TooLarge));
        // A small request that inflates past the limit (a "zip bomb").
        let bomb = format!("{}{}", &REQUEST[..100], " ".repeat(MAX_XML));
        assert_eq!(parse(&deflated(&bomb)), Err(RequestError::Malformed));
        assert!(deflated(&bomb).len() < MAX_ENCODED);
    }

    #[test]
    fn relay_states_come_back_as_given_within_bounds() {
        assert_eq!(relay_state(Some("https://wiki.example.com/page?x=1")), Ok(Some("https://wiki.example.com/page?x=1".into())));
        assert_eq!(relay_state(Some("")), Ok(None));
        assert_eq!(relay_state(Some(&"é".repeat(MAX_RELAY_STATE / 2))).map(|r| r.map(|r| r.len())), Ok(Some(MAX_RELAY_STATE)));
        assert_eq!(relay_state(Some(&"é".repeat(MAX_RELAY_STATE / 2 + 1))), Err(RequestError::RelayState), "bytes, not characters");
        assert_eq!(relay_state(Some(&"a".repeat(MAX_RELAY_STATE + 1))), Err(RequestError::RelayState));
        assert_eq!(relay_state(Some("a\nb")), Err(RequestError::RelayState));
    }
}
