//! What a person has accepted, mirrored into their Cognito attribute `custom:consents` so that
//! every sign-in reads it from the ID token (or a session's claims) without another call. The
//! records (`ports::ConsentStore`) are the truth; the mirror is a copy that may lag (then the
//! records are read once and the mirror written again).
//!
//! The value is `terms=3,privacy=2~{tag}`: each document accepted and its version, then a tag,
//! HMAC-SHA256 under a key of the bridge's over the person's `sub` and the list (base64url, 16
//! bytes). People cannot write the attribute (the app client's `WriteAttributes` omits it); a
//! value that was written anyway, copied from another person, or altered carries a tag that
//! does not verify and counts as nothing accepted.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value};

use crate::consent::document::{ConsentDocument, DocumentId};

/// The Cognito attribute (a custom attribute of the pool, 2,048 characters at most).
pub const ATTRIBUTE: &str = "custom:consents";

/// The documents a person has accepted, each at one version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted(BTreeMap<DocumentId, u32>);

impl Accepted {
    /// The mirror in `claims` (an ID token's, a session's, a pool user's attributes) for the
    /// person `sub`, if its tag verifies under `key`; otherwise nothing accepted.
    pub fn from_claims(claims: &Map<String, Value>, sub: &str, key: &[u8]) -> Self {
        claims.get(ATTRIBUTE).and_then(Value::as_str).and_then(|raw| Self::decode(raw, sub, key)).unwrap_or_default()
    }

    fn decode(raw: &str, sub: &str, key: &[u8]) -> Option<Self> {
        let (list, tag) = raw.rsplit_once('~')?;
        let expected = tag_of(list, sub, key);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), tag.as_bytes())) {
            return None;
        }
        let mut accepted = BTreeMap::new();
        for entry in list.split(',').filter(|e| !e.is_empty()) {
            let (id, version) = entry.split_once('=')?;
            accepted.insert(DocumentId::parse(id).ok()?, version.parse().ok()?);
        }
        Some(Self(accepted))
    }

    /// The attribute's value for the person `sub`, tagged under `key`.
    pub fn encode(&self, sub: &str, key: &[u8]) -> String {
        let list = self.0.iter().map(|(id, version)| format!("{id}={version}")).collect::<Vec<_>>().join(",");
        let tag = tag_of(&list, sub, key);
        format!("{list}~{tag}")
    }

    /// The version of `id` accepted, if any.
    pub fn version(&self, id: &DocumentId) -> Option<u32> {
        self.0.get(id).copied()
    }

    pub fn accept(&mut self, id: &DocumentId, version: u32) {
        self.0.insert(id.clone(), version);
    }

    pub fn withdraw(&mut self, id: &DocumentId) {
        self.0.remove(id);
    }

    /// Whether the current version of `doc` (or a later one) is accepted.
    pub fn covers(&self, doc: &ConsentDocument) -> bool {
        self.version(&doc.id).is_some_and(|v| v >= doc.version)
    }

    /// The required documents among `current` whose current version is not accepted.
    pub fn missing<'a>(&self, current: &'a [ConsentDocument]) -> Vec<&'a ConsentDocument> {
        current.iter().filter(|d| d.required && !self.covers(d)).collect()
    }
}

fn tag_of(list: &str, sub: &str, key: &[u8]) -> String {
    let mac = crate::common::hashing::hmac_sha256(key, &[b"consents\0", sub.as_bytes(), b"\0", list.as_bytes()]);
    B64.encode(&mac[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::document::sample;
    use serde_json::json;

    const KEY: &[u8] = b"mirror key";

    fn claims(value: &str) -> Map<String, Value> {
        json!({ ATTRIBUTE: value }).as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn round_trips_for_its_person_only() {
        let mut accepted = Accepted::default();
        accepted.accept(&sample("terms", 3, true).id, 3);
        accepted.accept(&sample("privacy", 1, true).id, 1);
        let value = accepted.encode("sub-1", KEY);
        assert!(value.starts_with("privacy=1,terms=3~"), "{value}");
        assert_eq!(Accepted::from_claims(&claims(&value), "sub-1", KEY), accepted);
        assert_eq!(Accepted::from_claims(&claims(&value), "sub-2", KEY), Accepted::default(), "another person's");
        assert_eq!(Accepted::from_claims(&claims(&value), "sub-1", b"other key"), Accepted::default());
    }

    #[test]
    fn a_written_or_altered_value_counts_as_nothing() {
        let mut accepted = Accepted::default();
        accepted.accept(&sample("terms", 1, true).id, 1);
        let value = accepted.encode("sub-1", KEY);
        let (_, tag) = value.rsplit_once('~').unwrap_or_default();
        for forged in [format!("terms=9~{tag}"), "terms=9".into(), "terms=9~".into(), format!("terms=1,marketing=1~{tag}"), String::new()] {
            assert_eq!(Accepted::from_claims(&claims(&forged), "sub-1", KEY), Accepted::default(), "{forged}");
        }
    }

    #[test]
    fn missing_names_required_documents_not_accepted_in_their_current_version() {
        let current = [sample("marketing", 1, false), sample("privacy", 2, true), sample("terms", 3, true)];
        let mut accepted = Accepted::default();
        accepted.accept(&current[2].id, 3);
        accepted.accept(&current[1].id, 1);
        let missing: Vec<_> = accepted.missing(&current).iter().map(|d| d.id.as_str()).collect();
        assert_eq!(missing, ["privacy"], "an older version is not the current one; an optional one is never missing");
        accepted.accept(&current[1].id, 2);
        assert!(accepted.missing(&current).is_empty());
    }
}
