//! XML we write and sign: elements written directly in the form Exclusive XML Canonicalization
//! 1.0 (W3C `xml-exc-c14n`, without comments) gives them, and an enveloped XML Signature
//! (XML-DSig 1.1: RSA-SHA256 over SHA-256 digests) inside such an element.
//!
//! We never canonicalize a document we read. What we write is canonical as written: no XML
//! declaration inside the signed part, no whitespace between elements, start and end tags
//! (never `<x/>`), attributes ordered as C14N orders them (namespace declarations first by
//! prefix, then the unqualified attributes by name), each namespace declared on the elements
//! that use it and whose nearest writing ancestor does not, and values escaped as C14N escapes
//! them. So the signed bytes are the written bytes: a verifier's canonical form of the element,
//! less its signature (the enveloped-signature transform), is exactly what we digested. A
//! library that canonicalizes parsed XML would cost the login function's package about what a
//! whole XML security stack weighs; this is what our own documents need and nothing more, and
//! its output is checked by xmlsec (through pysaml2) in the integration tests.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::tokens::jws::{KeyError, SigningKey};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// `<name ...>content</name>` with `attributes` in canonical order; `content` is elements
/// written by this module or [`text`].
///
/// Attributes are namespace declarations or unqualified: C14N orders a qualified attribute by
/// its namespace, and keeps no declaration a value alone uses (`xsi:type="xs:string"`), which
/// this writer does not do.
pub fn element(name: &str, attributes: &[(&str, &str)], content: &str) -> String {
    debug_assert!(attributes.iter().all(|(n, _)| !n.contains(':') || n.starts_with("xmlns:")), "a qualified attribute in {name}");
    let mut sorted: Vec<&(&str, &str)> = attributes.iter().collect();
    // Namespace declarations first (the default one, then by prefix), then by name.
    sorted.sort_by_key(|(name, _)| (!(*name == "xmlns" || name.starts_with("xmlns:")), *name));
    let mut out = format!("<{name}");
    for (attribute, value) in sorted {
        out.push_str(&format!(" {attribute}=\"{}\"", escape(value, true)));
    }
    out.push('>');
    out.push_str(content);
    out.push_str(&format!("</{name}>"));
    out
}

/// `value` as element text.
pub fn text(value: &str) -> String {
    escape(value, false)
}

/// C14N's escaping: `&`, `<` and, in text, `>`; in attribute values `"` and the white space a
/// parser would normalise. Characters XML 1.0 cannot carry are left out.
fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' if !attribute => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#x9;"),
            '\n' if attribute => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The element `head` + `tail` (canonical, whose `ID` is `id`) with an enveloped signature
/// between the two (SAML places it right after the element's `Issuer`): RSA-SHA256 with our
/// RS256 `key`, `certificate` (Base64 DER) in its `KeyInfo`.
pub fn sign_enveloped(head: &str, tail: &str, id: &str, key: &SigningKey, certificate: &str) -> Result<String, KeyError> {
    let digest = STANDARD.encode(Sha256::new().chain_update(head).chain_update(tail).finalize());
    let signed_info = |declare: bool| {
        let namespace: &[(&str, &str)] = if declare { &[("xmlns:ds", DSIG_NS)] } else { &[] };
        let transforms = element("ds:Transform", &[("Algorithm", ENVELOPED)], "") + &element("ds:Transform", &[("Algorithm", EXC_C14N)], "");
        let reference =
            element("ds:Transforms", &[], &transforms) + &element("ds:DigestMethod", &[("Algorithm", SHA256)], "") + &element("ds:DigestValue", &[], &digest);
        let content = element("ds:CanonicalizationMethod", &[("Algorithm", EXC_C14N)], "")
            + &element("ds:SignatureMethod", &[("Algorithm", RSA_SHA256)], "")
            + &element("ds:Reference", &[("URI", &format!("#{id}"))], &reference);
        element("ds:SignedInfo", namespace, &content)
    };
    if !matches!(key, SigningKey::Rs256 { .. }) {
        return Err(KeyError::Malformed);
    }
    // SignedInfo is canonicalized on its own, where it declares the namespace it uses.
    let signature = STANDARD.encode(key.sign_bytes(signed_info(true).as_bytes())?);
    let key_info = element("ds:X509Data", &[], &element("ds:X509Certificate", &[], certificate));
    let content = signed_info(false) + &element("ds:SignatureValue", &[], &signature) + &element("ds:KeyInfo", &[], &key_info);
    Ok(format!("{head}{}{tail}", element("ds:Signature", &[("xmlns:ds", DSIG_NS)], &content)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::jws::{Algorithm, generate};
    use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;

    #[test]
    fn writes_canonical_elements() {
        let e = element("a:x", &[("b", "1 < 2 & \"3\"\t\n\r>"), ("xmlns:a", "urn:a"), ("A", "z"), ("xmlns", "urn:d")], &text("x > y & \r\u{1}z"));
        assert_eq!(e, "<a:x xmlns=\"urn:d\" xmlns:a=\"urn:a\" A=\"z\" b=\"1 &lt; 2 &amp; &quot;3&quot;&#x9;&#xA;&#xD;>\">x &gt; y &amp; &#xD;z</a:x>");
        assert_eq!(element("e", &[], ""), "<e></e>");
    }

    #[test]
    fn the_signature_covers_the_element_and_its_signed_info() {
        let generated = generate(Algorithm::RS256).unwrap_or_else(|e| panic!("{e}"));
        let key = SigningKey::from_pem(Algorithm::RS256, &generated.kid, &generated.private_pem).unwrap_or_else(|e| panic!("{e}"));
        let (head, tail) = ("<r ID=\"_1\"><i>me</i>", "<b>body</b></r>");
        let signed = sign_enveloped(head, tail, "_1", &key, "Q0VSVA==").unwrap_or_else(|e| panic!("{e}"));
        assert!(signed.starts_with(head) && signed.ends_with(tail));
        let digest = STANDARD.encode(Sha256::digest(format!("{head}{tail}")));
        assert!(signed.contains(&format!("<ds:DigestValue>{digest}</ds:DigestValue>")));
        // What a verifier canonicalizes: SignedInfo with the namespace it uses declared on it.
        let start = signed.find("<ds:SignedInfo>").unwrap_or_default();
        let end = signed.find("</ds:SignedInfo>").unwrap_or_default() + "</ds:SignedInfo>".len();
        let canonical = signed[start..end].replacen("<ds:SignedInfo>", &format!("<ds:SignedInfo xmlns:ds=\"{DSIG_NS}\">"), 1);
        let value = signed.split("<ds:SignatureValue>").nth(1).and_then(|s| s.split('<').next()).unwrap_or_default();
        let n = generated.jwk["n"].as_str().unwrap_or_default();
        let e = generated.jwk["e"].as_str().unwrap_or_default();
        let b64url = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v).unwrap_or_default();
        let public = aws_lc_rs::rsa::PublicKeyComponents { n: b64url(n), e: b64url(e) };
        let verified = public.verify(&RSA_PKCS1_2048_8192_SHA256, canonical.as_bytes(), &STANDARD.decode(value).unwrap_or_default());
        assert!(verified.is_ok(), "{signed}");
        let es256 = SigningKey::from_pem(Algorithm::ES256, "k", &generate(Algorithm::ES256).unwrap_or_else(|e| panic!("{e}")).private_pem);
        assert!(sign_enveloped(head, tail, "_1", &es256.unwrap_or_else(|e| panic!("{e}")), "").is_err(), "RS256 only");
    }
}
