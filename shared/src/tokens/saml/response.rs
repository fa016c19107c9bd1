//! Our `<samlp:Response>` (SAML 2.0 Core §3.2.2, Web Browser SSO Profile §4.1.4.2): one
//! bearer assertion, itself signed, inside a response signed too (a service provider may ask
//! for either), and the `NoPassive` answer (signed too) to a passive request no session could
//! meet.
//! The metadata a service provider reads our keys and endpoints from is here too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::authn_request::{ASSERTION_NS, HTTP_POST, PROTOCOL_NS};
use super::signed_xml::{DSIG_NS, element, sign_enveloped, text};
use crate::common::time::rfc3339;
use crate::tokens::jws::{KeyError, SigningKey};

const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
const BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// How far before its issue an assertion is valid (seconds): a service provider whose clock is
/// this far behind ours still takes it.
pub const CLOCK_SKEW: u64 = 60;

/// What one assertion says.
#[derive(Debug, Clone, Copy)]
pub struct Assertion<'a> {
    /// Our entity id (the issuer).
    pub issuer: &'a str,
    /// The service provider's entity id: the assertion's only audience.
    pub audience: &'a str,
    /// Its assertion consumer service: the response's `Destination` and the bearer's `Recipient`.
    pub recipient: &'a str,
    /// The request's `ID`; none for a sign-in we began.
    pub in_response_to: Option<&'a str>,
    pub name_id: &'a str,
    pub name_id_format: &'a str,
    /// The bridge session's `sid`, as `SessionIndex`.
    pub session_index: Option<&'a str>,
    /// When the person signed in (Unix seconds).
    pub authn_instant: u64,
    pub authn_context: &'a str,
    /// Name and values of each attribute (`NameFormat` basic).
    pub attributes: &'a [(String, Vec<String>)],
    /// Unix seconds.
    pub now: u64,
    /// How long the assertion may be taken (seconds).
    pub lifetime: u64,
}

/// The response carrying `assertion`, both signed with our RS256 `key` (`certificate`: Base64
/// DER), Base64-encoded for the HTTP-POST binding.
pub fn signed_response(assertion: &Assertion<'_>, key: &SigningKey, certificate: &str) -> Result<String, KeyError> {
    let a = assertion;
    let (instant, until) = (rfc3339(a.now), rfc3339(a.now + a.lifetime));
    let assertion_id = random_id();
    let mut confirmation = vec![("NotOnOrAfter", until.as_str()), ("Recipient", a.recipient)];
    confirmation.extend(a.in_response_to.map(|id| ("InResponseTo", id)));
    let subject = element("saml:NameID", &[("Format", a.name_id_format)], &text(a.name_id))
        + &element("saml:SubjectConfirmation", &[("Method", BEARER)], &element("saml:SubjectConfirmationData", &confirmation, ""));
    let not_before = rfc3339(a.now.saturating_sub(CLOCK_SKEW));
    let conditions = element("saml:AudienceRestriction", &[], &element("saml:Audience", &[], &text(a.audience)));
    let authn_instant = rfc3339(a.authn_instant);
    let mut authn = vec![("AuthnInstant", authn_instant.as_str())];
    authn.extend(a.session_index.map(|s| ("SessionIndex", s)));
    let context = element("saml:AuthnContext", &[], &element("saml:AuthnContextClassRef", &[], a.authn_context));
    let attributes: String = a
        .attributes
        .iter()
        .map(|(name, values)| {
            let values: String = values.iter().map(|v| element("saml:AttributeValue", &[], &text(v))).collect();
            element("saml:Attribute", &[("Name", name), ("NameFormat", BASIC)], &values)
        })
        .collect();
    let mut body = element("saml:Subject", &[], &subject)
        + &element("saml:Conditions", &[("NotBefore", &not_before), ("NotOnOrAfter", &until)], &conditions)
        + &element("saml:AuthnStatement", &authn, &context);
    if !attributes.is_empty() {
        body += &element("saml:AttributeStatement", &[], &attributes);
    }
    let assertion_attributes = [("xmlns:saml", ASSERTION_NS), ("ID", assertion_id.as_str()), ("IssueInstant", &instant), ("Version", "2.0")];
    // Inside the assertion, which declares the namespace, its Issuer does not declare it again.
    let issuer = element("saml:Issuer", &[], &text(a.issuer));
    let signed_assertion = signed("saml:Assertion", &assertion_attributes, &issuer, &body, key, certificate)?;
    response(a.issuer, a.recipient, a.in_response_to, &instant, &(status(SUCCESS, None) + &signed_assertion), key, certificate)
}

/// The answer to a passive request without a session that would do: `Responder`/`NoPassive`
/// (Core §3.4.1.4), signed as a success is (a provider that wants signed responses refuses an
/// unsigned one), Base64 for the HTTP-POST binding.
pub fn no_passive(issuer: &str, recipient: &str, in_response_to: &str, now: u64, key: &SigningKey, certificate: &str) -> Result<String, KeyError> {
    response(issuer, recipient, Some(in_response_to), &rfc3339(now), &status(RESPONDER, Some(NO_PASSIVE)), key, certificate)
}

/// A signed `samlp:Response` of `issuer` to `recipient`, issued at `instant`, answering
/// `in_response_to` where there was a request, holding `content` (its status, then any
/// assertion); Base64 for the HTTP-POST binding.
fn response(
    issuer: &str,
    recipient: &str,
    in_response_to: Option<&str>,
    instant: &str,
    content: &str,
    key: &SigningKey,
    certificate: &str,
) -> Result<String, KeyError> {
    let id = random_id();
    let mut attributes = vec![("xmlns:samlp", PROTOCOL_NS), ("ID", id.as_str()), ("IssueInstant", instant), ("Version", "2.0"), ("Destination", recipient)];
    attributes.extend(in_response_to.map(|id| ("InResponseTo", id)));
    Ok(STANDARD.encode(signed("samlp:Response", &attributes, &issuer_element(issuer), content, key, certificate)?))
}

/// Our IdP metadata for one app (Metadata §2.4.3): `entity_id`, the signing certificates
/// (Base64 DER) a service provider should accept, the single sign-on service at `location` by
/// either binding, and the name id format the app sends.
pub fn metadata(entity_id: &str, certificates: &[String], location: &str, name_id_format: &str) -> String {
    let keys: String = certificates
        .iter()
        .map(|certificate| {
            let data = element("ds:X509Data", &[], &element("ds:X509Certificate", &[], certificate));
            element("md:KeyDescriptor", &[("use", "signing")], &element("ds:KeyInfo", &[("xmlns:ds", DSIG_NS)], &data))
        })
        .collect();
    let services = element("md:SingleSignOnService", &[("Binding", HTTP_REDIRECT), ("Location", location)], "")
        + &element("md:SingleSignOnService", &[("Binding", HTTP_POST), ("Location", location)], "");
    let descriptor = element(
        "md:IDPSSODescriptor",
        &[("WantAuthnRequestsSigned", "false"), ("protocolSupportEnumeration", PROTOCOL_NS)],
        &(keys + &element("md:NameIDFormat", &[], name_id_format) + &services),
    );
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{}", element("md:EntityDescriptor", &[("xmlns:md", METADATA_NS), ("entityID", entity_id)], &descriptor))
}

/// `name` (with `attributes`) holding `issuer` (our `Issuer` element), its signature, then `body`.
fn signed(name: &str, attributes: &[(&str, &str)], issuer: &str, body: &str, key: &SigningKey, certificate: &str) -> Result<String, KeyError> {
    let id = attributes.iter().find(|(n, _)| *n == "ID").map(|(_, v)| *v).unwrap_or_default();
    let whole = element(name, attributes, "");
    let open = &whole[..whole.len() - name.len() - 3];
    sign_enveloped(&format!("{open}{issuer}"), &format!("{body}</{name}>"), id, key, certificate)
}

/// Our `Issuer`, declaring the assertion namespace itself (a response declares only its own).
fn issuer_element(issuer: &str) -> String {
    element("saml:Issuer", &[("xmlns:saml", ASSERTION_NS)], &text(issuer))
}

fn status(code: &str, second: Option<&str>) -> String {
    let inner = second.map(|s| element("samlp:StatusCode", &[("Value", s)], "")).unwrap_or_default();
    element("samlp:Status", &[], &element("samlp:StatusCode", &[("Value", code)], &inner))
}

/// An `xs:ID`: `_` and 128 random bits in hex.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    crate::common::random::fill(&mut bytes);
    format!("_{}", crate::common::hashing::hex(&bytes))
}
