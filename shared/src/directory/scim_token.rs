//! SCIM bearer tokens: random, shown once at creation, stored only as a SHA-256 digest, checked
//! in constant time. A token reads `scim_{id}_{secret}`: the `id` (16 hex digits) finds the record,
//! the `secret` (256 random bits) is compared against the stored digest. An organisation may hold
//! [`MAX_ACTIVE`] tokens at once, so a client can move to a new token before the old is revoked.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::common::hashing::hex;
use crate::common::store::StoreError;
use crate::directory::org::OrgId;

pub const PREFIX: &str = "scim_";
/// Tokens an organisation may hold at once (the current one and its replacement).
pub const MAX_ACTIVE: usize = 2;
const ID_LEN: usize = 16;

/// A token as stored: never the secret, only its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub org: OrgId,
    /// Hex SHA-256 of the secret part.
    pub digest: String,
    pub label: String,
    /// Seconds since the epoch.
    pub created_at: u64,
}

/// A newly issued token: the full value (show it once) and its record (store it).
pub struct Issued {
    pub token: SecretString,
    pub record: TokenRecord,
}

pub fn issue(org: &OrgId, label: &str, now: u64) -> Issued {
    let mut bytes = [0u8; 40];
    crate::common::random::fill(&mut bytes);
    let id = hex(&bytes[..8]);
    let secret = B64.encode(&bytes[8..]);
    let record = TokenRecord { id: id.clone(), org: org.clone(), digest: digest(&secret), label: label.to_owned(), created_at: now };
    Issued { token: SecretString::from(format!("{PREFIX}{id}_{secret}")), record }
}

/// The record id and secret of a presented token, if it has the token's shape.
pub fn split(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, secret) = (rest.get(..ID_LEN)?, rest.get(ID_LEN + 1..)?);
    let shaped = id.bytes().all(|b| b.is_ascii_hexdigit()) && rest.as_bytes().get(ID_LEN) == Some(&b'_') && (40..=64).contains(&secret.len());
    shaped.then_some((id, secret))
}

/// Whether `secret` is the one `record` was issued with (constant time).
pub fn matches(record: &TokenRecord, secret: &str) -> bool {
    digest(secret).as_bytes().ct_eq(record.digest.as_bytes()).into()
}

/// The organisation a presented bearer token belongs to, or `None` for any token that is not a
/// live one (malformed, unknown, revoked or wrong secret), all indistinguishable to the caller.
pub async fn authenticate(store: &dyn ScimTokenStore, presented: &str) -> Result<Option<OrgId>, StoreError> {
    authenticate_with(presented, |id| async move { store.find(&id).await }).await
}

/// [`authenticate`] with the record found by `find` (by token id), e.g. through a cache.
pub async fn authenticate_with<R, F, Fut>(presented: &str, find: F) -> Result<Option<OrgId>, StoreError>
where
    R: std::borrow::Borrow<TokenRecord>,
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<R>, StoreError>>,
{
    let Some((id, secret)) = split(presented) else { return Ok(None) };
    let record = find(id.to_owned()).await?;
    Ok(record.filter(|r| matches(r.borrow(), secret)).map(|r| r.borrow().org.clone()))
}

fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

impl Issued {
    pub fn value(&self) -> &str {
        self.token.expose_secret()
    }
}

/// SCIM token records (digests only).
#[async_trait]
pub trait ScimTokenStore: Send + Sync {
    /// Stores `record`; `Limit` if its organisation already holds `scim_token::MAX_ACTIVE` tokens,
    /// `Missing` if the organisation does not exist.
    async fn add(&self, record: &TokenRecord) -> Result<(), StoreError>;
    async fn find(&self, id: &str) -> Result<Option<TokenRecord>, StoreError>;
    async fn list(&self, org: &OrgId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Removes one of `org`'s tokens; `Missing` if `org` has no token `id`.
    async fn revoke(&self, org: &OrgId, id: &str) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_nothing_else_does() {
        let org = OrgId::parse("org-1").unwrap();
        let issued = issue(&org, "okta", 1);
        let (id, secret) = split(issued.value()).unwrap();
        assert_eq!(id, issued.record.id);
        assert!(matches(&issued.record, secret));
        assert!(!issued.value().contains(&issued.record.digest), "the digest is not the secret");
        let other = issue(&org, "entra", 1);
        let (_, other_secret) = split(other.value()).unwrap();
        assert!(!matches(&issued.record, other_secret));
        assert_ne!(issued.record.id, other.record.id);
    }

    #[test]
    fn only_token_shaped_values_split() {
        for bad in [
            "",
            "scim_",
            "Bearer x",
            "scim_0123456789abcdef",
            "scim_0123456789abcdeX_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "scim_0123456789abcdef-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
        assert!(split("scim_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_some());
    }
}
