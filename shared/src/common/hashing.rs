//! The small hashing helpers the domain shares: lower-case hex, HMAC-SHA256 (DiscourseConnect
//! signatures, HS256 tokens, Cognito's `SECRET_HASH`), and SHA-256 in base64url (the digests
//! bearer values are stored as, PKCE's S256). Nothing here compares secrets: callers compare in
//! constant time themselves.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `bytes` as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `value`, base64url without padding (43 characters): how a bearer value (state,
/// session id, browser binding) is stored, so the table never holds one that works.
pub fn digest(value: &str) -> String {
    B64.encode(Sha256::digest(value.as_bytes()))
}

/// PKCE's S256 challenge for `verifier` (RFC 7636 §4.2): its [`digest`].
pub fn pkce_s256(verifier: &str) -> String {
    digest(verifier)
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_challenge() {
        assert_eq!(pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
