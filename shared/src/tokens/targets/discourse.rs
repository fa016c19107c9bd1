//! DiscourseConnect (see `specs/jwt-targets.md`). The forum sends the browser to
//! `/sso/{app}?sso=...&sig=...`: `sso` is Base64 of `nonce=...&return_sso_url=...`, `sig` the hex
//! HMAC-SHA256 of `sso` under the shared secret. We check `sig` in constant time and the return
//! URL against the forum's origin ([`DiscourseTarget::verify`]), keep the nonce in the sealed
//! sign-in context, and answer with the same kind of signed payload: `nonce`, the verified
//! `email`, `external_id`, and the mapped fields (`username`, `name`, `avatar_url`, `groups`...).
//!
//! Discourse expires its nonces after about ten minutes, so a forum's sign-in context lives no
//! longer ([`NONCE_TTL`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::mint::{Delivery, MintError, MintInput, verified_email, with_query};
use crate::common::hashing::{hex, hmac_sha256};
use crate::tokens::claims::as_text;
use crate::tokens::jws::SigningKey;
use crate::tokens::return_to::{Origin, ReturnTo};

/// Fields we set ourselves; a mapping may not name them.
pub const RESERVED_FIELDS: &[&str] = &["nonce", "email", "external_id", "return_sso_url", "require_activation"];
/// How long the forum's request may take to come back signed (seconds).
pub const NONCE_TTL: u64 = 10 * 60;
/// Longer `sso` values are refused before decoding.
const MAX_SSO_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscourseTarget {
    /// The forum's origin: `return_sso_url` must be on it.
    pub forum_url: Origin,
}

/// The forum's request, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumRequest {
    pub nonce: String,
    pub return_sso_url: ReturnTo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the forum's request has no sso or sig")]
    Missing,
    #[error("the forum's request signature does not match")]
    BadSignature,
    #[error("the forum's request payload is malformed")]
    Malformed,
    #[error("the forum's return URL is not on the forum's origin")]
    ForeignReturnUrl,
}

impl DiscourseTarget {
    /// Checks the forum's `sso`/`sig` with the shared `secret`.
    pub fn verify(&self, sso: Option<&str>, sig: Option<&str>, secret: &[u8]) -> Result<ForumRequest, RequestError> {
        let (Some(sso), Some(sig)) = (sso, sig) else { return Err(RequestError::Missing) };
        if sso.len() > MAX_SSO_LEN {
            return Err(RequestError::Malformed);
        }
        let expected = hex(&hmac_sha256(secret, &[sso.as_bytes()]));
        if !bool::from(expected.as_bytes().ct_eq(sig.to_ascii_lowercase().as_bytes())) {
            return Err(RequestError::BadSignature);
        }
        // Older Discourse versions wrap the Base64 in lines.
        let compact: String = sso.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let payload = STANDARD.decode(compact).map_err(|_| RequestError::Malformed)?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&payload).map_err(|_| RequestError::Malformed)?;
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        let nonce = field("nonce").filter(|n| n.len() <= 200).ok_or(RequestError::Malformed)?;
        let return_url = field("return_sso_url").ok_or(RequestError::Malformed)?;
        let return_sso_url = ReturnTo::check(return_url, std::slice::from_ref(&self.forum_url)).map_err(|_| RequestError::ForeignReturnUrl)?;
        Ok(ForumRequest { nonce: nonce.to_owned(), return_sso_url })
    }

    /// The signed answer to the forum's request (`input.nonce`, `input.return_to`).
    pub fn mint(&self, input: MintInput<'_>, key: &SigningKey) -> Result<Delivery, MintError> {
        let SigningKey::Hs256(secret) = key else { return Err(MintError::Signing) };
        let (Some(nonce), Some(return_url)) = (input.nonce, input.return_to) else { return Err(MintError::MissingRequest) };
        let email = verified_email(input.profile)?;
        let mut fields =
            vec![("nonce".to_owned(), nonce.to_owned()), ("email".to_owned(), email.to_owned()), ("external_id".to_owned(), input.profile.subject.clone())];
        let mapped = input.claims.apply(input.profile)?;
        fields.extend(mapped.iter().filter_map(|(name, value)| Some((name.clone(), as_text(value)?))));
        let payload = serde_urlencoded::to_string(&fields).map_err(|_| MintError::Signing)?;
        let sso = STANDARD.encode(payload);
        let sig = hex(&hmac_sha256(secret, &[sso.as_bytes()]));
        Ok(Delivery::Get { url: with_query(return_url.as_str(), &[("sso".to_owned(), sso), ("sig".to_owned(), sig)])? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::targets::test_support::{input, mapping, profile};
    use serde_json::json;

    const SECRET: &[u8] = b"d836444a9e4084d5b224a60c208dce14";

    fn forum() -> DiscourseTarget {
        DiscourseTarget { forum_url: Origin::parse("https://forum.example.com").unwrap_or_else(|e| panic!("{e}")) }
    }

    /// A request as Discourse builds it.
    fn request(nonce: &str, return_url: &str) -> (String, String) {
        let sso = STANDARD.encode(format!("nonce={nonce}&return_sso_url={}", urlencode(return_url)));
        let sig = hex(&hmac_sha256(SECRET, &[sso.as_bytes()]));
        (sso, sig)
    }

    fn urlencode(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    #[test]
    fn verifies_the_forum_request_from_the_spec_example() {
        // DiscourseConnect's documented example: secret, sso and sig.
        let sso = "bm9uY2U9Y2I2ODI1MWVlZmI1MjExZTU4YzAwZmYxMzk1ZjBjMGI=\n";
        let sig = "2828aa29899722b35a2f191d34ef9b3ce695e0e6eeec47deb46d588d70c7cb56";
        let target = DiscourseTarget { forum_url: Origin::parse("https://discuss.example.com").unwrap_or_else(|e| panic!("{e}")) };
        // The example has no return URL, which we require.
        assert_eq!(target.verify(Some(sso), Some(sig), b"d836444a9e4084d5b224a60c208dce14"), Err(RequestError::Malformed));
        assert_eq!(target.verify(Some(sso), Some(&sig.replace('2', "3")), SECRET), Err(RequestError::BadSignature));
    }

    #[test]
    fn hostile_requests_are_refused() {
        let (sso, sig) = request("n1", "https://forum.example.com/session/sso_login");
        assert!(forum().verify(Some(&sso), Some(&sig), SECRET).is_ok());
        assert_eq!(forum().verify(Some(&sso), Some(&sig), b"another secret"), Err(RequestError::BadSignature));
        let tampered = STANDARD.encode("nonce=n1&return_sso_url=https%3A%2F%2Fevil.example%2F");
        assert_eq!(forum().verify(Some(&tampered), Some(&sig), SECRET), Err(RequestError::BadSignature));
        let (foreign, foreign_sig) = request("n1", "https://forum.example.com.evil.example/session/sso_login");
        assert_eq!(forum().verify(Some(&foreign), Some(&foreign_sig), SECRET), Err(RequestError::ForeignReturnUrl));
        let (no_nonce, no_nonce_sig) = request("", "https://forum.example.com/x");
        assert_eq!(forum().verify(Some(&no_nonce), Some(&no_nonce_sig), SECRET), Err(RequestError::Malformed));
        assert_eq!(forum().verify(Some(&sso), None, SECRET), Err(RequestError::Missing));
    }

    #[test]
    fn answers_with_a_payload_the_forum_can_check() {
        let (sso, sig) = request("abc123", "https://forum.example.com/session/sso_login?x=1");
        let req = forum().verify(Some(&sso), Some(&sig), SECRET).unwrap_or_else(|e| panic!("{e}"));
        let p = profile(json!({"sub": "s-1", "email": "hanako@example.com", "email_verified": "true", "name": "山田 花子",
                               "cognito:groups": ["forum-staff", "forum-beta"]}));
        let m = mapping(json!({"name": {"from": "attribute", "name": "name"}, "groups": {"from": "groups", "prefix": "forum-", "strip_prefix": true}}));
        let minted =
            forum().mint(MintInput { nonce: Some(&req.nonce), return_to: Some(&req.return_sso_url), ..input(&p, &m) }, &SigningKey::Hs256(SECRET.to_vec()));
        let Ok(Delivery::Get { url }) = minted else { panic!("{minted:?}") };
        let url = url::Url::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.path(), "/session/sso_login");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["x"], "1");
        assert_eq!(q["sig"], hex(&hmac_sha256(SECRET, &[q["sso"].as_bytes()])));
        let payload = String::from_utf8(STANDARD.decode(&q["sso"]).unwrap_or_default()).unwrap_or_default();
        let fields: std::collections::HashMap<String, String> = serde_urlencoded::from_str(&payload).unwrap_or_default();
        assert_eq!(fields["nonce"], "abc123");
        assert_eq!(fields["email"], "hanako@example.com");
        assert_eq!(fields["external_id"], "s-1");
        assert_eq!(fields["name"], "山田 花子");
        assert_eq!(fields["groups"], "beta,staff");

        let unverified = profile(json!({"sub": "s-1", "email": "hanako@example.com"}));
        let input = MintInput { nonce: Some("n"), return_to: Some(&req.return_sso_url), ..input(&unverified, &m) };
        assert_eq!(forum().mint(input, &SigningKey::Hs256(SECRET.to_vec())), Err(MintError::MissingEmail));
        assert_eq!(forum().mint(MintInput { nonce: None, ..input }, &SigningKey::Hs256(SECRET.to_vec())), Err(MintError::MissingRequest));
    }
}
